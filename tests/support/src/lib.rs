//! Test helpers shared by the integration tests of `target-jsonl`, `target-csv` and
//! `target-sqlite`: a [`Target`] binary and how it is configured, a scratch [`Dest`] to load
//! into, runs of the binary, and assertions on what it printed.
//!
//! ```no_run
//! use serde_json::json;
//! use target_test_support::{Target, assert_loaded};
//!
//! const TARGET: Target = Target::jsonl("path/to/target-jsonl");
//! let dest = TARGET.dest();
//! let input = b"{\"type\": \"STATE\", \"value\": {\"n\": 1}}\n";
//! let output = TARGET.run_stdin(dest.config(&json!({})), input);
//! assert_loaded(&output, input);
//! ```
//!
//! What only one target needs lives in [`jsonl`], [`csv`], [`sqlite`] and [`postgres`]; [`kill`] is the
//! kill-and-resume test of the database targets; [`expected`] runs the
//! conformance suites on a target and compares what it wrote with `tests/expected/`.

pub mod batch;
pub mod csv;
pub mod expected;
pub mod jsonl;
pub mod kill;
pub mod postgres;
mod run;
pub mod s3;
pub mod sqlite;
pub mod workers;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub use run::{
    assert_fails, assert_loaded, assert_ok, assert_states_relayed, input_states, lines, messages,
    states, stderr, stdout,
};

/// The capabilities every file target of this repository declares in `--about`, in order.
pub const FILE_TARGET_CAPABILITIES: [&str; 6] = [
    "about",
    "stream-maps",
    "schema-flattening",
    "structured-logging",
    "validate-records",
    "batch",
];

/// A target binary, the setting that names its destination and how that destination is
/// called inside a scratch directory.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The binary (`env!("CARGO_BIN_EXE_<name>")`).
    pub bin: &'static str,
    /// The config setting holding the destination (`destination_path`, ...).
    pub setting: &'static str,
    /// The destination's name inside a [`Dest`] (`out`, `warehouse.db`).
    pub destination: &'static str,
    /// Environment variables every run gets.
    pub env: &'static [(&'static str, &'static str)],
    /// Reads the whole destination back (see [`expected`]).
    pub dump: fn(&Path) -> Result<expected::Content, String>,
    /// The `id`s loaded into stream `conformance_kill` of a destination (the harness's kill
    /// check reads them).
    pub ids: fn(&Path) -> Result<Vec<i64>, String>,
    /// The settings pointing the target at a destination path (a real one, or the harness's
    /// `{tmpdir}/<destination>`); `None`: `{setting: path}`.
    pub config: Option<fn(&Path) -> Value>,
    /// Removes what a destination left outside its scratch directory (a database schema),
    /// when its [`Dest`] is dropped.
    pub cleanup: Option<fn(&Path)>,
}

impl Target {
    /// target-jsonl: files in the directory `destination_path`.
    #[must_use]
    pub const fn jsonl(bin: &'static str) -> Target {
        Target {
            bin,
            setting: "destination_path",
            destination: "out",
            env: &[],
            dump: jsonl::dump,
            ids: jsonl::ids,
            config: None,
            cleanup: None,
        }
    }

    /// target-csv: files in the directory `output_path`, logs at warning level.
    #[must_use]
    pub const fn csv(bin: &'static str) -> Target {
        Target {
            bin,
            setting: "output_path",
            destination: "out",
            env: &[("TARGET_CSV_LOGLEVEL", "warning")],
            dump: csv::dump,
            ids: csv::ids,
            config: None,
            cleanup: None,
        }
    }

    /// target-sqlite: the database file `database`.
    #[must_use]
    pub const fn sqlite(bin: &'static str) -> Target {
        Target {
            bin,
            setting: "database",
            destination: "warehouse.db",
            env: &[],
            dump: sqlite::dump,
            ids: sqlite::ids,
            config: None,
            cleanup: None,
        }
    }

    /// target-postgres: a schema of its own (named after the destination's scratch
    /// directory) in the test server's database (see [`postgres`]).
    #[must_use]
    pub const fn postgres(bin: &'static str) -> Target {
        Target {
            bin,
            setting: "default_target_schema",
            destination: "pg",
            env: &[],
            dump: postgres::dump,
            ids: postgres::ids,
            config: Some(postgres::config),
            cleanup: Some(postgres::drop_schema),
        }
    }

    /// The settings pointing the target at the destination `path`.
    #[must_use]
    pub fn destination_config(&self, path: &Path) -> Value {
        match self.config {
            Some(config) => config(path),
            None => json!({ self.setting: path }),
        }
    }

    /// A fresh scratch directory to load into.
    ///
    /// # Panics
    /// When no temporary directory can be created.
    #[must_use]
    pub fn dest(&self) -> Dest {
        Dest {
            tmp: tempfile::tempdir().expect("a temporary directory"),
            target: *self,
        }
    }
}

/// A temporary directory holding the target's destination ([`Dest::out`]) and its config.
pub struct Dest {
    tmp: tempfile::TempDir,
    target: Target,
}

impl Drop for Dest {
    fn drop(&mut self) {
        if let Some(cleanup) = self.target.cleanup {
            cleanup(&self.out());
        }
    }
}

impl Dest {
    /// The scratch directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// A path inside the scratch directory.
    #[must_use]
    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// Where the target writes: `<root>/out` (a directory), or `<root>/warehouse.db`.
    #[must_use]
    pub fn out(&self) -> PathBuf {
        self.path(self.target.destination)
    }

    /// Writes `content` to `name` in the scratch directory.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// Writes a config pointing the target at [`Dest::out`], plus `extra` settings; returns
    /// its path.
    pub fn config(&self, extra: &Value) -> String {
        let mut config = self.target.destination_config(&self.out());
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        self.write_config(&config)
    }

    /// Writes `config` as is; returns its path.
    pub fn write_config(&self, config: &Value) -> String {
        self.write("config.json", config.to_string())
            .display()
            .to_string()
    }

    /// The names of the files in the destination directory, sorted (none if it does not exist).
    #[must_use]
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.out())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The text of a file in the destination (gzip files are decompressed).
    ///
    /// # Panics
    /// When the file cannot be read, or is not UTF-8.
    #[must_use]
    pub fn text(&self, name: &str) -> String {
        let bytes = std::fs::read(self.out().join(name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}; files: {:?}", self.files()));
        if name.ends_with(".gz") {
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .expect("valid gzip");
            text
        } else {
            String::from_utf8(bytes).expect("UTF-8")
        }
    }

    /// The records of a JSON Lines file of the destination; every line must be JSON and the
    /// file must end with a newline.
    ///
    /// # Panics
    /// When it does not.
    #[must_use]
    pub fn records(&self, name: &str) -> Vec<Value> {
        let text = self.text(name);
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} must end with a newline"
        );
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {l}"))
            })
            .collect()
    }
}

/// A file of singer-sdk's conformance data (`shared/conformance/singer-sdk-streams`), found in
/// the nearest ancestor directory of this crate that holds it.
///
/// # Panics
/// When no ancestor holds it.
#[must_use]
pub fn conformance(name: &str) -> PathBuf {
    conformance_dir().join(name)
}

/// The directory of singer-sdk's conformance data (see [`conformance`]).
///
/// # Panics
/// When no ancestor holds it.
#[must_use]
pub fn conformance_dir() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|dir| dir.join("shared/conformance/singer-sdk-streams"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/conformance/singer-sdk-streams above {}",
                here.display()
            )
        })
}
