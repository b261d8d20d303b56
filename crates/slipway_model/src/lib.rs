//! THE app model: the one typed description of an application that every importer
//! produces and every emitter reads. Pure data (serde + schemars); no I/O, no async.
//! Every item carries a `Trace` back to where it came from.

mod app;
mod build;

pub use app::{
    App, FileMount, Health, HealthTiming, Ingress, Limits, Network, PerEnv, PublishedPort,
    Resource, ResourceKind, Service, ServiceSource, Trace, VolumeKind, VolumeMount,
};
pub use build::{BuildPlan, Language};
