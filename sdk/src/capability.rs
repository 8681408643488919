//! Capabilities: what a connector can do, as `--about` reports them and Meltano's
//! `capabilities:` lists them (singer-sdk's spellings).
//!
//! Each connector kind starts from its default list and adds or removes what differs:
//!
//! ```
//! use singer_sdk::capability::{Capabilities, Capability};
//!
//! let caps = Capabilities::target().with(Capability::HardDelete);
//! assert!(caps.contains(Capability::ValidateRecords));
//! assert_eq!(caps.names().last(), Some(&"hard-delete"));
//! ```

use std::fmt;

/// One capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `--about` prints the connector's metadata.
    About,
    /// The tap takes a catalog (`--catalog`).
    Catalog,
    /// The tap reads and writes state.
    State,
    /// The tap prints its catalog (`--discover`).
    Discover,
    /// The tap has a connection test (`--test`).
    Test,
    /// The connector writes or reads BATCH messages.
    Batch,
    /// The connector writes or honours ACTIVATE_VERSION messages.
    ActivateVersion,
    /// Stream maps (`stream_maps`).
    StreamMaps,
    /// Schema flattening (`flattening_enabled`).
    SchemaFlattening,
    /// Logs as structured JSON when asked.
    StructuredLogging,
    /// Log-based replication.
    LogBased,
    /// The target validates records against their schema.
    ValidateRecords,
    /// The target loads into a schema named by `default_target_schema`.
    TargetSchema,
    /// The target deletes (instead of marking) records of older versions.
    HardDelete,
    /// The target marks deleted records.
    SoftDelete,
    /// The target falls back to a safe type for values it cannot map.
    DatatypeFailsafe,
}

impl Capability {
    /// The name singer-sdk and Meltano use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::About => "about",
            Capability::Catalog => "catalog",
            Capability::State => "state",
            Capability::Discover => "discover",
            Capability::Test => "test",
            Capability::Batch => "batch",
            Capability::ActivateVersion => "activate-version",
            Capability::StreamMaps => "stream-maps",
            Capability::SchemaFlattening => "schema-flattening",
            Capability::StructuredLogging => "structured-logging",
            Capability::LogBased => "log-based",
            Capability::ValidateRecords => "validate-records",
            Capability::TargetSchema => "target-schema",
            Capability::HardDelete => "hard-delete",
            Capability::SoftDelete => "soft-delete",
            Capability::DatatypeFailsafe => "datatype-failsafe",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ordered set of capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities(Vec<Capability>);

impl Capabilities {
    /// The default list of a tap.
    #[must_use]
    pub fn tap() -> Self {
        Capabilities(vec![
            Capability::Catalog,
            Capability::State,
            Capability::Discover,
            Capability::About,
            Capability::Test,
            Capability::ActivateVersion,
            Capability::StreamMaps,
            Capability::SchemaFlattening,
            Capability::StructuredLogging,
            Capability::Batch,
        ])
    }

    /// The default list of a target.
    #[must_use]
    pub fn target() -> Self {
        Capabilities(vec![
            Capability::About,
            Capability::StreamMaps,
            Capability::SchemaFlattening,
            Capability::StructuredLogging,
            Capability::ValidateRecords,
            Capability::Batch,
        ])
    }

    /// The default list of a standalone mapper.
    #[must_use]
    pub fn mapper() -> Self {
        Capabilities(vec![
            Capability::About,
            Capability::StreamMaps,
            Capability::SchemaFlattening,
            Capability::StructuredLogging,
        ])
    }

    /// Adds a capability at the end (once).
    #[must_use]
    pub fn with(mut self, capability: Capability) -> Self {
        if !self.contains(capability) {
            self.0.push(capability);
        }
        self
    }

    /// Removes a capability.
    #[must_use]
    pub fn without(mut self, capability: Capability) -> Self {
        self.0.retain(|c| *c != capability);
        self
    }

    /// Whether the set has `capability`.
    #[must_use]
    pub fn contains(&self, capability: Capability) -> bool {
        self.0.contains(&capability)
    }

    /// The capabilities, in order.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }

    /// Their names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(Capability::as_str).collect()
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Capabilities(Vec::new()), Capabilities::with)
    }
}
