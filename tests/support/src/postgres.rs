//! What only target-postgres's tests need: a PostgreSQL server, a schema per destination,
//! queries, and reading a whole destination back.
//!
//! The server is `TARGET_POSTGRES_TEST_URL` (default [`DEFAULT_URL`]: `127.0.0.1:5432`, user
//! `postgres`, trust authentication, database `test`). When nothing answers there, a
//! throwaway cluster is made with `initdb` and started with `postgres` (found on `PATH` or
//! under `/usr/lib/postgresql/*/bin`) on a free port; it stops when the test process ends.
//! Without those binaries the tests fail, saying how to get a server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use singer_sdk::sql::postgres::{Client, ConnectOptions};

use crate::Dest;
use crate::expected::Content;

/// The server tests use when `TARGET_POSTGRES_TEST_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static SERVER: OnceLock<String> = OnceLock::new();
static DATABASE: Mutex<Option<String>> = Mutex::new(None);

/// The URL of a server that answers: `TARGET_POSTGRES_TEST_URL`, the default, or a cluster
/// started for this process.
///
/// # Panics
/// When no server answers and none can be started.
#[must_use]
pub fn server_url() -> String {
    SERVER
        .get_or_init(|| {
            let url =
                std::env::var("TARGET_POSTGRES_TEST_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
            match connect(&url) {
                Ok(_) => url,
                Err(reason) => {
                    eprintln!("no PostgreSQL server answers at {url} ({reason}); starting a throwaway cluster");
                    start_cluster(None).unwrap_or_else(|e| panic!("{}", no_server(&url, &reason, &e)))
                }
            }
        })
        .clone()
}

/// The URL tests load into: the database [`own_database`] made, else [`server_url`].
#[must_use]
pub fn url() -> String {
    let own = DATABASE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    own.unwrap_or_else(server_url)
}

/// A database of its own for this process (for a test binary whose destinations cannot
/// all be dropped one by one, such as the conformance harness's); dropped with the guard.
///
/// # Panics
/// When the database cannot be created.
#[must_use]
pub fn own_database(prefix: &str) -> DatabaseGuard {
    let server = server_url();
    let name = format!("{prefix}_{}", std::process::id());
    let admin = connect(&server).unwrap_or_else(|e| panic!("{e}"));
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create database {name}: {}", report(&e)));
    let mut url = url::Url::parse(&server).expect("a URL");
    url.set_path(&name);
    *DATABASE.lock().unwrap_or_else(|e| e.into_inner()) = Some(url.to_string());
    DatabaseGuard { server, name }
}

/// Drops the database of [`own_database`].
pub struct DatabaseGuard {
    server: String,
    name: String,
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        *DATABASE.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if let Ok(admin) = connect(&self.server) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A connection to [`url()`].
///
/// # Panics
/// When it cannot connect.
#[must_use]
pub fn client() -> Client {
    connect(&url()).unwrap_or_else(|e| panic!("{e}"))
}

fn connect(url: &str) -> Result<Client, String> {
    let options = ConnectOptions::from_url(url).map_err(|e| report(&e))?;
    Client::connect(&options).map_err(|e| report(&e))
}

fn report(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The schema of a destination: `t_<id>` of its scratch directory (the same name the
/// harness's `t_{tmpid}` becomes).
#[must_use]
pub fn schema_for(path: &Path) -> String {
    let dir = path.parent().unwrap_or(path);
    if dir.to_string_lossy().contains("{tmpdir}") {
        "t_{tmpid}".to_owned()
    } else {
        format!("t_{}", singer_conformance::tmpid(dir))
    }
}

/// The settings for a destination: the test server's URL and the destination's schema.
#[must_use]
pub fn config(path: &Path) -> Value {
    json!({"sqlalchemy_url": url(), "default_target_schema": schema_for(path)})
}

/// Drops a destination's schema and everything in it.
pub fn drop_schema(path: &Path) {
    if let Ok(client) = connect(&url()) {
        let _ = client.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            schema_for(path)
        ));
    }
}

/// Runs `sql` with the destination's schema first on the search path; rows as JSON values
/// (numbers, strings, JSON as itself, timestamps as strings).
///
/// # Errors
/// The query's error.
pub fn try_query(path: &Path, sql: &str) -> Result<Vec<Vec<Value>>, String> {
    let client = connect(&url())?;
    client
        .batch_execute(&format!("SET search_path TO {}, public", schema_for(path)))
        .map_err(|e| report(&e))?;
    let wrapped = format!("SELECT row_to_json(q)::text FROM ({sql}) q");
    let rows = client
        .query_text(&wrapped, &[])
        .map_err(|e| format!("`{sql}`: {}", report(&e)))?;
    rows.into_iter()
        .map(|row| {
            let text = row.into_iter().next().flatten().unwrap_or_default();
            let Values(values) = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
            Ok(values)
        })
        .collect()
}

/// The values of a JSON object in order, repeated keys kept (`SELECT count(*), count(x)`
/// makes two `count` keys).
struct Values(Vec<Value>);

impl<'de> serde::Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Values;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Values, A::Error> {
                let mut values = Vec::new();
                while let Some((_, value)) = map.next_entry::<String, Value>()? {
                    values.push(value);
                }
                Ok(Values(values))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Every table of a destination's schema: `[{column: type, …}, row, …]`, rows ordered by
/// the primary key (or by all columns).
///
/// # Errors
/// When a query fails.
pub fn dump(path: &Path) -> Result<Content, String> {
    let schema = schema_for(path);
    let tables = try_query(
        path,
        &format!(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = '{schema}' ORDER BY 1"
        ),
    )?;
    let mut content = Content::new();
    for row in tables {
        let table = row[0].as_str().unwrap_or_default().to_owned();
        let columns = columns(path, &table)?;
        let header: Map<String, Value> =
            columns.iter().map(|(n, t)| (n.clone(), json!(t))).collect();
        let key = try_query(
            path,
            &format!(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '{schema}.\"{table}\"'::regclass AND i.indisprimary"
            ),
        )?;
        let order = if key.is_empty() {
            "row_to_json(t)::text".to_owned()
        } else {
            key.iter()
                .map(|k| format!("\"{}\"", k[0].as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut rows = vec![Value::Object(header)];
        let data = try_query(
            path,
            &format!("SELECT * FROM {schema}.\"{table}\" t ORDER BY {order}"),
        )?;
        rows.extend(data.into_iter().map(Value::from));
        content.insert(table, rows);
    }
    Ok(content)
}

/// Column name → type (`format_type`), in table order.
///
/// # Errors
/// When the query fails.
pub fn columns(path: &Path, table: &str) -> Result<Vec<(String, String)>, String> {
    let schema = schema_for(path);
    let rows = try_query(
        path,
        &format!(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = '{schema}.\"{table}\"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&r[0]), text(&r[1]))
        })
        .collect())
}

/// The ids of stream `conformance_kill` in a destination.
///
/// # Errors
/// When the query fails.
pub fn ids(path: &Path) -> Result<Vec<i64>, String> {
    let rows = try_query(path, "SELECT id FROM conformance_kill")?;
    Ok(rows.iter().filter_map(|r| r[0].as_i64()).collect())
}

impl Dest {
    /// The database schema the target loads into.
    #[must_use]
    pub fn schema(&self) -> String {
        schema_for(&self.out())
    }

    /// Runs `sql` in the destination's schema (see [`try_query`]).
    ///
    /// # Panics
    /// When the query fails.
    #[must_use]
    pub fn pg(&self, sql: &str) -> Vec<Vec<Value>> {
        try_query(&self.out(), sql).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Column name → type of a table of the destination, in table order.
    ///
    /// # Panics
    /// When the table does not exist.
    #[must_use]
    pub fn pg_columns(&self, table: &str) -> Vec<(String, String)> {
        columns(&self.out(), table).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A throwaway cluster of this process's own whose user `postgres` logs in with `password`
/// (SCRAM), for tests of authentication; returns its URL without the password.
///
/// # Errors
/// When no PostgreSQL binaries are installed or the cluster does not start.
pub fn password_server(password: &str) -> Result<String, String> {
    start_cluster(Some(password))
}

/// Makes and starts a cluster (trust authentication, or a password); returns its URL
/// without the password.
fn start_cluster(password: Option<&str>) -> Result<String, String> {
    let bin = binaries()
        .ok_or("neither `initdb` and `postgres` on PATH nor /usr/lib/postgresql/*/bin")?;
    let root = tempfile::Builder::new()
        .prefix("pg-test-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    let data = root.join("data");
    let pwfile = root.join("pwfile");
    if let Some(password) = password {
        std::fs::write(&pwfile, password).map_err(|e| e.to_string())?;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    // The server refuses to run as root: run it as `postgres` then.
    let as_user: Vec<String> = if is_root() {
        let chown = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(&root)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !chown.success() {
            return Err(
                "running as root, and cannot give the cluster directory to user `postgres`".into(),
            );
        }
        vec![
            "runuser".into(),
            "-u".into(),
            "postgres".into(),
            "--".into(),
        ]
    } else {
        Vec::new()
    };
    let run = |program: &Path, args: &[String]| {
        let mut argv = as_user.clone();
        argv.push(program.display().to_string());
        argv.extend(args.iter().cloned());
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        command
    };
    let mut args: Vec<String> = vec![
        "-D".into(),
        data.display().to_string(),
        "-U".into(),
        "postgres".into(),
        "-E".into(),
        "UTF8".into(),
        "--no-sync".into(),
    ];
    match password {
        None => args.push("--auth=trust".into()),
        Some(_) => {
            args.push("--auth=scram-sha-256".into());
            args.push(format!("--pwfile={}", pwfile.display()));
        }
    }
    let init = run(&bin.join("initdb"), &args)
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        ));
    }
    // The shell stops the server and removes the cluster once this process's end closes its
    // standard input.
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{root}' -c listen_addresses=127.0.0.1 -c fsync=off & pid=$!; cat >/dev/null; kill $pid; wait $pid; rm -rf '{root}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        root = root.display(),
    );
    let mut shell = run(Path::new("/bin/sh"), &["-c".into(), script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let stdin = shell.stdin.take();
    // Kept open (never written) for the life of the process.
    std::mem::forget(stdin);
    std::mem::forget(shell);
    let login = password.map_or(String::new(), |p| format!(":{p}"));
    let admin = format!("postgres://postgres{login}@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match connect(&admin) {
            Ok(client) => break client,
            Err(e) if Instant::now() > deadline => {
                return Err(format!("the started server does not answer: {e}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    client
        .batch_execute("CREATE DATABASE test")
        .map_err(|e| report(&e))?;
    Ok(format!("postgres://postgres@127.0.0.1:{port}/test"))
}

fn binaries() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.into_iter().find(|d| has(d)) {
        return Some(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|d| has(d))
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn no_server(url: &str, reason: &str, start: &str) -> String {
    format!(
        "no PostgreSQL server for the tests: nothing answers at {url} ({reason}), and a throwaway cluster cannot be started ({start}).\n\
         Get a server: `apt install postgresql` (Debian/Ubuntu; then allow trust auth for 127.0.0.1 and create database `test`), \
         or `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16`; \
         or set TARGET_POSTGRES_TEST_URL=postgres://user:password@host:port/database to a server of yours"
    )
}
