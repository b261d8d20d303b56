//! Monitoring configuration rules (Prometheus, Alertmanager).

pub mod obs001;
pub mod obs002;
