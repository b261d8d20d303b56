//! Dockerfile rules.

pub mod dkr001;
pub mod dkr002;
pub mod dkr003;
pub mod dkr004;
pub mod dkr005;
pub mod dkr006;
pub mod dkr007;
pub mod dkr008;
pub mod dkr009;
pub mod dkr010;

use crate::parse::dockerfile::Dockerfile;

/// Index of the last stage (the image that is shipped when no target is given).
pub(crate) fn final_stage(df: &Dockerfile) -> Option<usize> {
    df.stages.len().checked_sub(1)
}
