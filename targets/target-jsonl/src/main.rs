//! `target-jsonl`: a Singer target writing one JSON Lines file per stream, built on
//! `singer-sdk`. Settings are compatible with the community `target-jsonl`.

mod client;
mod config;
mod sink;
#[cfg(test)]
mod tests;

use singer_sdk::target::Run;

use crate::client::TargetJsonl;

// Records are many small allocations freed on another thread than the one that made them:
// mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> Run<TargetJsonl> {
    Run::new()
}
