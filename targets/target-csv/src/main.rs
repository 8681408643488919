//! `target-csv`: a Singer target writing one CSV file per stream, built on `singer-sdk`.
//! Settings follow MeltanoLabs `target-csv`.

mod client;
mod config;
mod file;
mod sink;
#[cfg(test)]
mod tests;

use singer_sdk::target::Run;

use crate::client::TargetCsv;

// Records are many small allocations, often freed on another thread than the one that made
// them: mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> Run<TargetCsv> {
    Run::new()
}
