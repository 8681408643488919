//! `map-transform`: a standalone Singer mapper that applies stream maps and schema flattening,
//! with the settings of the community `meltano-map-transform`, built on `singer-sdk`.

use serde_json::{Map, Value};
use singer_sdk::mapper::InlineMapper;

/// Applies `stream_maps`, `stream_map_config`, `faker_config` and the `flattening_*`
/// settings to every message between a tap and a target.
struct MapTransform;

impl InlineMapper for MapTransform {
    // Every setting is a built-in one of the SDK.
    type Settings = Map<String, Value>;
}

// Records are many small allocations: mimalloc handles them far better than the system
// allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[singer_sdk::main]
fn main() -> MapTransform {
    MapTransform
}
