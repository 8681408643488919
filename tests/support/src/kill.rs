//! Kill-and-resume, shared by the database targets: SIGKILL the target mid-load, resume
//! from the last state it acknowledged, and check that every record is in the database
//! (exactly once for upsert). What differs between targets (how to query the database, what
//! to check or break between the kill and the rerun) is a [`KillResume`]'s hooks.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::{Dest, Target, states, stderr};

/// Records sent.
pub const RECORDS: usize = 20_000;
/// A STATE after every this many records.
pub const STATE_EVERY: usize = 500;
/// The target is killed once it has acknowledged this many states.
pub const KILL_AFTER_STATES: usize = 5;

/// A kill-and-resume test of one target.
#[derive(Debug, Clone, Copy)]
pub struct KillResume {
    /// The target.
    pub target: Target,
    /// Runs a query on the destination, rows as JSON values.
    pub query: fn(&Dest, &str) -> Vec<Vec<Value>>,
    /// Called between the kill and the rerun with the last acknowledged position: checks
    /// what the killed run left (see [`durable_sql`]), and may damage it as a crash would.
    pub after_kill: fn(&Dest, usize),
}

/// The query whose answer must be `[[position]]` once the records before `position` are
/// durable: the distinct ids below it in table `items`.
#[must_use]
pub fn durable_sql(position: usize) -> String {
    format!("SELECT count(DISTINCT id) FROM items WHERE id < {position}")
}

impl KillResume {
    /// Loads [`RECORDS`] records of stream `items` with `load_method` (keyed by `id` when
    /// `keyed`), kills the target after [`KILL_AFTER_STATES`] acknowledged states, calls
    /// [`after_kill`](Self::after_kill), reruns from the last acknowledged state and checks
    /// every record is there (exactly once when keyed). Returns the destination for more
    /// checks.
    ///
    /// # Panics
    /// When any check fails.
    pub fn run(&self, load_method: &str, keyed: bool) -> Dest {
        let env = self.target.dest();
        let lines = input(keyed);
        let config = env.config(&json!({
            "load_method": load_method,
            "batch_size_rows": 200,
            "batch_wait_limit_seconds": 0,
        }));
        let acknowledged = self.run_and_kill(&env, &config, &lines);
        assert!(acknowledged.len() >= KILL_AFTER_STATES, "{acknowledged:?}");
        let last = acknowledged.last().unwrap().clone();
        let position = usize::try_from(last["position"].as_u64().unwrap()).unwrap();
        assert!(position < RECORDS, "killed at {position}");
        eprintln!(
            "{load_method}: killed after acknowledging position {position} ({} states)",
            acknowledged.len()
        );
        (self.after_kill)(&env, position);

        // Resume: the SCHEMA, then everything after the acknowledged STATE.
        let state_line = json!({"type": "STATE", "value": last}).to_string();
        let after = lines
            .iter()
            .position(|l| *l == state_line)
            .expect("the acknowledged state was sent");
        let mut resumed = lines[..1].join("\n") + "\n";
        resumed.push_str(&(lines[after + 1..].join("\n") + "\n"));
        let config = env.config(&json!({"load_method": load_method, "batch_size_rows": 1000}));
        let output = self.target.run_stdin(&config, resumed.as_bytes());
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            states(&output).last(),
            Some(&json!({"position": RECORDS})),
            "the rerun acknowledges the final state"
        );

        let query = |sql: &str| (self.query)(&env, sql);
        let summary = query("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM items");
        let [total, distinct, min, max] = &summary[0][..] else {
            panic!("{summary:?}")
        };
        assert_eq!(distinct, &json!(RECORDS), "every record id is present");
        assert_eq!((min, max), (&json!(0), &json!(RECORDS - 1)));
        if keyed {
            assert_eq!(total, &json!(RECORDS), "exactly once");
        } else {
            assert!(total.as_u64().unwrap() >= RECORDS as u64, "at least once");
        }
        let wrong = query("SELECT count(*) FROM items WHERE name <> 'item ' || id");
        assert_eq!(wrong, [[json!(0)]]);
        env
    }

    /// Runs the target on `lines` fed in chunks, SIGKILLs it after [`KILL_AFTER_STATES`]
    /// state lines, and returns every state line it managed to write.
    fn run_and_kill(&self, env: &Dest, config: &str, lines: &[String]) -> Vec<Value> {
        let log = std::fs::File::create(env.path("killed.log")).unwrap();
        let mut child = self
            .target
            .command()
            .arg("--config")
            .arg(config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let chunks: Vec<String> = lines.chunks(100).map(|c| c.join("\n") + "\n").collect();
        let feeder = std::thread::spawn(move || {
            for chunk in chunks {
                // Fails with a broken pipe once the target is killed.
                if stdin.write_all(chunk.as_bytes()).is_err() || stdin.flush().is_err() {
                    break;
                }
            }
        });
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut seen = Vec::new();
        let mut line = String::new();
        while seen.len() < KILL_AFTER_STATES {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            seen.push(line.clone());
        }
        child.kill().unwrap();
        // Lines the target wrote before it died are acknowledged states too.
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        let status = child.wait().unwrap();
        feeder.join().unwrap();
        assert!(
            !status.success(),
            "the target finished before it was killed; make the input longer"
        );
        seen.extend(rest.lines().map(|l| format!("{l}\n")));
        seen.iter()
            // A line cut by the kill is not a state the target acknowledged.
            .filter(|l| l.ends_with('\n'))
            .map(|l| serde_json::from_str(l.trim_end()).unwrap())
            .collect()
    }
}

/// SCHEMA, then records `{"id": i, "name": "item i"}` with `{"position": n}` every
/// [`STATE_EVERY`].
fn input(keyed: bool) -> Vec<String> {
    let keys: &[&str] = if keyed { &["id"] } else { &[] };
    let mut lines = vec![
        json!({"type": "SCHEMA", "stream": "items", "key_properties": keys, "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}}).to_string(),
    ];
    for i in 0..RECORDS {
        lines.push(
            json!({"type": "RECORD", "stream": "items", "record": {"id": i, "name": format!("item {i}")}})
                .to_string(),
        );
        if (i + 1) % STATE_EVERY == 0 {
            lines.push(json!({"type": "STATE", "value": {"position": i + 1}}).to_string());
        }
    }
    lines
}
