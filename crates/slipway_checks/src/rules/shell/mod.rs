//! Shell script rules.

pub mod sh001;
