//! Records per second of the tap runtime writing 1M records of a 13-field shape to /dev/null,
//! against the floor: the same records serialised straight into a buffered writer.
//!
//! Run with `cargo bench -p singer-sdk --bench tap_runtime`; `-- --records N` changes the count.
//! Prints a Markdown table. No assertion: figures are for people and for the closing notes.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;
use singer_sdk::Schema;
use singer_sdk::message::{MessageWriter, RecordEncoder};
use singer_sdk::record::Record;
use singer_sdk::stream::{RecordStream, Stream, SyncContext, records_from_iter};
use singer_sdk::tap::{Streams, SyncOptions, sync};

#[derive(Serialize, Schema)]
struct Address {
    street: &'static str,
    city: &'static str,
    zip: &'static str,
}

/// 13 fields: integers, strings with escapes, a date-time, booleans, floats, a null, a nested
/// object and an array.
#[derive(Serialize, Schema)]
struct Row {
    #[schema(key)]
    id: i64,
    account: &'static str,
    name: &'static str,
    email: &'static str,
    note: Option<&'static str>,
    active: bool,
    verified: bool,
    score: f64,
    balance: f64,
    visits: i32,
    #[schema(replication_key)]
    updated_at: DateTime<Utc>,
    address: Address,
    tags: [&'static str; 2],
}

const NAMES: [&str; 4] = [
    "Ada \"the first\" Lovelace",
    "Alan Turing",
    "Grace\tHopper",
    "Zoë Ñandú\\",
];

fn row(i: i64, base: DateTime<Utc>) -> Row {
    let pick = usize::try_from(i).unwrap_or(0) % 4;
    Row {
        id: i,
        account: "acct-7f3e9c",
        name: NAMES[pick],
        email: "someone@example.com",
        note: None,
        active: i % 2 == 0,
        verified: i % 3 == 0,
        score: i as f64 * 0.5,
        balance: 1234.5678 + i as f64,
        visits: (i % 1000) as i32,
        updated_at: base + Duration::seconds(i),
        address: Address {
            street: "1 Main St.\nApt 2",
            city: "Springfield",
            zip: "12345",
        },
        tags: ["alpha", "beta"],
    }
}

struct Rows {
    count: i64,
    incremental: bool,
}

impl Stream for Rows {
    type Record = Row;

    fn name(&self) -> &str {
        "rows"
    }

    fn replication_key(&self) -> Option<&str> {
        if self.incremental {
            <Row as Record>::replication_key()
        } else {
            None
        }
    }

    fn is_sorted(&self) -> bool {
        true
    }

    fn records<'a>(&'a self, _cx: &'a SyncContext) -> RecordStream<'a, Row> {
        let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        records_from_iter((0..self.count).map(move |i| Ok(row(i, base))))
    }
}

fn devnull() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null")
}

/// The floor: build each record and serialise it as a RECORD line into a buffered writer.
fn floor(count: i64) -> f64 {
    let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, devnull());
    let encoder = RecordEncoder::new("rows", None);
    let mut buffer = Vec::with_capacity(1024);
    let start = Instant::now();
    for i in 0..count {
        buffer.clear();
        encoder.encode(&row(i, base), &mut buffer).unwrap();
        out.write_all(&buffer).unwrap();
    }
    out.flush().unwrap();
    black_box(&out);
    start.elapsed().as_secs_f64()
}

fn runtime(count: i64, incremental: bool) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let streams = Streams::new().with(Rows { count, incremental });
    let start = Instant::now();
    rt.block_on(async {
        sync(
            &streams,
            SyncOptions::default(),
            MessageWriter::new(devnull()),
        )
        .await
        .unwrap();
    });
    start.elapsed().as_secs_f64()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip_while(|a| a != "--records").skip(1);
    let count: i64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let repeats = 5;
    let mut floors = Vec::new();
    let mut full = Vec::new();
    let mut incremental = Vec::new();
    // Alternate the three so machine noise hits them alike.
    for _ in 0..repeats {
        floors.push(floor(count));
        full.push(runtime(count, false));
        incremental.push(runtime(count, true));
    }
    let floor = median(floors);
    let rate = |secs: f64| count as f64 / secs;
    println!(
        "| run ({count} records, 13 fields, median of {repeats}) | seconds | records/s | × floor time |"
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| serialise-only floor | {floor:.3} | {:.0} | 1.00 |",
        rate(floor)
    );
    for (name, samples) in [
        ("tap runtime, full table", full),
        ("tap runtime, incremental (typed bookmark)", incremental),
    ] {
        let secs = median(samples);
        println!(
            "| {name} | {secs:.3} | {:.0} | {:.2} |",
            rate(secs),
            secs / floor
        );
    }
}
