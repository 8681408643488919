//! Shared pieces of the benchmarks: the 13-field record shape, generated the same way in the
//! Rust synthetic tap, the Singer input files and the CSV source; measuring processes' wall
//! time and peak RSS.

pub mod measure;
pub mod rows;
