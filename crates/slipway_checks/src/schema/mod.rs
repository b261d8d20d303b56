//! Embedded JSON Schemas that checks validate parsed files against, with findings
//! located on the YAML tree (not on a JSON re-encoding of it). No I/O: the schemas are
//! compiled into the binary.

pub mod compose;
mod instance;
