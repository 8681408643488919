//! `tap-rest`: a Singer tap for any REST API, configured rather than coded, and a drop-in
//! for tap-rest-api-msdk: the same settings give the same records and schemas.
//!
//! | file | holds |
//! |---|---|
//! | `config` | the settings |
//! | `spec` | checks them and resolves each stream's settings |
//! | `client` | authentication, retries, error rules, budget |
//! | `backoff` | `backoff_type`: the wait read from a retried response |
//! | `paginate` | the pagination styles |
//! | `flatten` | record flattening |
//! | `infer` | schema inference |
//! | `streams` | the streams |

mod backoff;
mod client;
mod config;
mod flatten;
mod infer;
mod paginate;
mod spec;
mod streams;

use singer_sdk::Result;
use singer_sdk::tap::{Streams, Tap};

use crate::config::Config;

struct TapRest;

impl Tap for TapRest {
    type Settings = Config;

    async fn streams(&self, config: &Config) -> Result<Streams> {
        // Every setting is checked before the first request (discovery samples the API).
        let checked = client::check(config);
        let resolved = spec::resolve(config);
        let (specs, pagination) = match (checked, resolved) {
            (Ok(()), Ok(resolved)) => resolved,
            (
                Err(singer_sdk::Error::InvalidConfig { violations: mut a }),
                Err(singer_sdk::Error::InvalidConfig { violations: b }),
            ) => {
                a.extend(b);
                return Err(singer_sdk::Error::InvalidConfig { violations: a });
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        streams::build(config, specs, &pagination).await
    }
}

#[singer_sdk::main]
fn main() -> TapRest {
    TapRest
}
