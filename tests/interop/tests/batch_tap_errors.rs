//! A tap whose BATCH files cannot be written — an object store that is unreachable (a closed
//! loopback port) or refuses the credentials (moto checking signatures), or a local directory
//! that cannot be created or written — fails with one clear error and a non-zero exit, without
//! a panic, without printing the secret key, and without a STATE for records in no file.
//! tap-csv's binary is the tap.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use singer_interop::process;
use target_test_support::s3::S3Server;
use target_test_support::{assert_fails, messages, stderr, stdout};

const CUSTOMERS: &str = "id,name,email\n\
    1,Ada,ada@example.com\n2,Grace,grace@example.com\n3,Alan,alan@example.com\n\
    4,Edsger,edsger@example.com\n5,Barbara,barbara@example.com\n6,Donald,donald@example.com\n\
    7,Frances,frances@example.com\n";

/// Runs tap-csv on seven customers with `batch_config` (three records a file) and `env`.
fn run_tap(dir: &Path, batch_config: &Value, env: &[(&str, &str)]) -> Output {
    let csv = dir.join("customers.csv");
    std::fs::write(&csv, CUSTOMERS).unwrap();
    let config = dir.join("tap.json");
    let settings = json!({
        "files": [{"entity": "customers", "path": csv, "keys": ["id"]}],
        "batch_config": batch_config
    });
    std::fs::write(&config, settings.to_string()).unwrap();
    let mut command = Command::new(singer_interop::connectors().join("tap-csv"));
    command
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    process::run(&mut command, Duration::from_secs(120)).unwrap_or_else(|e| panic!("tap-csv: {e}"))
}

fn batch_config(format: &str, root: &str, params: &Value) -> Value {
    json!({
        "encoding": {"format": format, "compression": "gzip"},
        "storage": {"root": root, "params": params},
        "batch_size": 3
    })
}

/// One `error: ` report holding `fragments`, exit 1, no panic, `secret` nowhere in the
/// output, and no BATCH or STATE message (the first file could not be written).
fn assert_fails_cleanly(name: &str, output: &Output, fragments: &[&str], secret: Option<&str>) {
    let err = stderr(output);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{name}: tap-csv panicked:\n{err}"
    );
    assert_fails(output, 1, fragments);
    let out = stdout(output);
    if let Some(secret) = secret {
        assert!(
            !err.contains(secret),
            "{name}: the secret on stderr:\n{err}"
        );
        assert!(
            !out.contains(secret),
            "{name}: the secret on stdout:\n{out}"
        );
    }
    let sent = messages(&output.stdout);
    assert!(
        sent.iter().any(|m| m["type"] == "SCHEMA"),
        "{name}: no SCHEMA sent:\n{out}"
    );
    assert!(
        !sent
            .iter()
            .any(|m| m["type"] == "BATCH" || m["type"] == "STATE" || m["type"] == "RECORD"),
        "{name}: a BATCH, STATE or RECORD was sent for records in no file:\n{out}"
    );
}

#[test]
fn an_unreachable_object_store_fails_cleanly() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let secret = "tap-csv-very-secret-value";
    let env = [
        ("AWS_ACCESS_KEY_ID", "key"),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    for format in ["jsonl", "parquet"] {
        let dir = tempfile::tempdir().unwrap();
        // From the environment, and again from storage.params.
        let from_env = batch_config(format, "s3://batches/run", &json!({}));
        let output = run_tap(dir.path(), &from_env, &env);
        let fragments = [
            "s3://batches/run/customers-",
            "reachable",
            "stream `customers`",
        ];
        assert_fails_cleanly(format, &output, &fragments, Some(secret));
        let params = json!({"aws_access_key_id": "key", "aws_secret_access_key": secret,
            "aws_region": "us-east-1", "aws_endpoint": endpoint, "aws_allow_http": "true"});
        let output = run_tap(
            dir.path(),
            &batch_config(format, "s3://batches/run", &params),
            &[],
        );
        assert_fails_cleanly(format, &output, &fragments, Some(secret));
    }
}

#[test]
fn refused_credentials_fail_cleanly() {
    let s3 = S3Server::start_with_auth();
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for format in ["jsonl", "parquet"] {
        let dir = tempfile::tempdir().unwrap();
        let output = run_tap(
            dir.path(),
            &batch_config(format, "s3://batches/run", &json!({})),
            &env,
        );
        assert_fails_cleanly(
            format,
            &output,
            &["s3://batches/run/customers-", "credentials"],
            Some(s3.secret()),
        );
    }
}

#[test]
fn an_unwritable_local_directory_fails_cleanly() {
    for format in ["jsonl", "parquet"] {
        let dir = tempfile::tempdir().unwrap();
        // Under a plain file: no one, root included, can create the directory.
        std::fs::write(dir.path().join("blocker"), "").unwrap();
        let root = dir.path().join("blocker/batches");
        let output = run_tap(
            dir.path(),
            &batch_config(format, &root.display().to_string(), &json!({})),
            &[],
        );
        assert_fails_cleanly(
            format,
            &output,
            &[
                "stream `customers`",
                "cannot create batch directory",
                &root.display().to_string(),
            ],
            None,
        );

        // A directory without write permission (root ignores it: then there is nothing to
        // check).
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        set_mode(&locked, 0o555);
        let probe = locked.join("probe");
        if std::fs::write(&probe, "").is_ok() {
            let _ = std::fs::remove_file(&probe);
            set_mode(&locked, 0o755);
            continue;
        }
        let url = format!("file://{}", locked.display());
        let output = run_tap(dir.path(), &batch_config(format, &url, &json!({})), &[]);
        set_mode(&locked, 0o755);
        assert_fails_cleanly(
            format,
            &output,
            &["cannot write batch file", "Permission denied"],
            None,
        );
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
