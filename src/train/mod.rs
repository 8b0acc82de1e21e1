//! Learners: from a table of validated rows to a [`crate::model::Model`].
//! Everything here is deterministic given the seed.

pub mod matrix;
pub mod rng;
