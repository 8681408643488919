//! A real S3-compatible server on loopback for the object-store tests: moto's server from
//! PyPI (`moto[server]`, installed once into a cached venv by `scripts/peer moto`), started on
//! a free port and stopped when the [`S3Server`] is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The access key every request is signed with (moto accepts any).
const KEY: &str = "batch-test-key";
/// The secret key every request is signed with.
const SECRET: &str = "batch-test-secret";

/// A running moto S3 server.
pub struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    /// Installs moto if needed, starts it on a free loopback port and waits until it answers.
    ///
    /// # Panics
    /// When moto cannot be installed or does not start within 60 s.
    #[must_use]
    pub fn start() -> S3Server {
        S3Server::launch(false)
    }

    /// A server that checks request signatures: every key is unknown to it, so every request
    /// is refused as unauthenticated (for bad-credential tests).
    ///
    /// # Panics
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_with_auth() -> S3Server {
        S3Server::launch(true)
    }

    fn launch(auth: bool) -> S3Server {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let output = Command::new(root.join("scripts/peer"))
            .arg("moto")
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/peer moto: {e}"));
        assert!(
            output.status.success(),
            "scripts/peer moto failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bin = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let mut command = Command::new(Path::new(&bin).join("moto_server"));
        if auth {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server from {bin}: {e}"));
        let server = S3Server { child, port };
        let started = Instant::now();
        while server.request("GET", "/").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket.
    ///
    /// # Panics
    /// When the server refuses.
    pub fn create_bucket(&self, name: &str) {
        let response = self
            .request("PUT", &format!("/{name}"))
            .unwrap_or_else(|e| panic!("cannot create bucket {name}: {e}"));
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    /// The standard environment of an S3 client for this server.
    #[must_use]
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// The same settings as `batch_config.storage.params`.
    #[must_use]
    pub fn params(&self) -> Value {
        json!({
            "aws_access_key_id": KEY,
            "aws_secret_access_key": SECRET,
            "aws_region": "us-east-1",
            "aws_endpoint": self.endpoint(),
            "aws_allow_http": "true"
        })
    }

    /// The secret key, to check it never shows in output.
    #[must_use]
    pub fn secret(&self) -> &'static str {
        SECRET
    }

    /// One plain HTTP/1.1 request; the raw response.
    fn request(&self, method: &str, path: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
