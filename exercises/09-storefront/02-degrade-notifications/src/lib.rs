//! A workshop exercise: edit `src/exercise.rs`, then run `cargo xtask learn`.
//! (With the `solution` feature, the crate compiles `solution/exercise.rs`.)

#[cfg_attr(feature = "solution", path = "../solution/exercise.rs")]
mod exercise;

pub use exercise::*;
