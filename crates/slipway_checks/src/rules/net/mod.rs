//! Rules about references between services (across compose and Kubernetes).

pub mod net001;
