//! Policy rules about the check run itself.

pub mod pol001;
pub mod pol002;
pub mod pol003;
