//! Policy rules about the check run itself.

pub mod pol001;
