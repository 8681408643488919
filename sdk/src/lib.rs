#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | module | holds |
//! |---|---|
//! | [`message`] | Singer messages, a reader and a writer |
//! | [`catalog`] | catalog, metadata, selection rules |
//! | [`schema`] | JSON Schema helpers and the [`Schema`] trait |
//! | [`state`] | state document, bookmarks, typed comparison |
//! | [`settings`] | the [`Settings`] trait, config loading, validation, secrets |
//! | [`stream`] | the [`Stream`](stream::Stream) trait |
//! | [`tap`] | the [`Tap`](tap::Tap) trait and the sync runtime |
//! | [`cli`] | the generated command line |
//! | [`logging`] | stderr logs and METRIC lines |
//! | `rest` | HTTP client, retries, auth, pagination for REST and GraphQL taps (feature `rest`) |
//! | [`mapper`] | stream maps, expressions, flattening |
//! | [`target`] | the [`Target`](target::Target) trait and the load runtime |
//! | [`sink`] | the [`Sink`](sink::Sink) trait, batches, and file building blocks ([`sink::file`]) |
//! | [`batch`] | BATCH files: `batch_config`, writer, reader, object stores, parquet columns ([docs](https://github.com/singer-rs/singer-sdk/blob/main/docs/batch.md)) |
//! | [`about`] | `--about` rendering |
//! | [`capability`] | what a connector can do, as `--about` lists it |
//! | [`time`] | timestamp parsing and formatting |
//! | `sql` | SQL dialects, type mapping, name conforming, table evolution (feature `sql`) |
#![doc(test(attr(deny(warnings))))]

// The derives name `::singer_sdk` paths; this lets the SDK use them on its own types.
extern crate self as singer_sdk;

pub mod about;
pub mod batch;
pub mod capability;
pub mod catalog;
pub mod cli;
pub mod error;
pub mod logging;
pub mod mapper;
pub mod message;
pub mod record;
#[cfg(feature = "rest")]
pub mod rest;
pub mod schema;
pub mod settings;
pub mod sink;
#[cfg(feature = "sql")]
pub mod sql;
pub mod state;
pub mod stream;
pub mod tap;
pub mod target;
pub mod time;

#[doc(hidden)]
pub mod __private;

pub use error::{Error, Result};
pub use schema::Schema;
pub use settings::Settings;

#[cfg(feature = "derive")]
pub use singer_sdk_macros::{Schema, Settings, main};
