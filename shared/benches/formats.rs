//! Parse+map time of an Alertmanager payload of 1, 10 and 100 alerts.
//!
//! A plain `harness = false` bench (no criterion): `cargo bench -p event-core --bench formats`.
//! For each size it times `formats::parse` on an already decoded body (the parser's own
//! cost) and `serde_json::from_slice` + `formats::parse` on the raw bytes (what a
//! webhook request costs before any storage), and prints the median of several rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use event_core::formats;
use event_core::model::WebhookFormat;
use serde_json::Value;

const FIXTURE: &str = include_str!("../../tests/fixtures/alertmanager/firing-single-critical.json");
const ROUNDS: usize = 7;
const ROUND_TIME: Duration = Duration::from_millis(300);

/// The captured one-alert notification, grown to `n` distinct alerts of one group.
fn payload(n: usize) -> Value {
    let mut body: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let template = body["alerts"][0].clone();
    let alerts: Vec<Value> = (0..n)
        .map(|i| {
            let mut alert = template.clone();
            alert["fingerprint"] =
                Value::String(format!("{:016x}", 0xab90_6f89_a7cb_9bdc_u64.wrapping_add(i as u64)));
            alert["labels"]["instance"] = Value::String(format!("web-{i}:9100"));
            alert["annotations"]["summary"] = Value::String(format!("CPU above 90% on web-{i}"));
            alert
        })
        .collect();
    body["alerts"] = Value::Array(alerts);
    body
}

/// Median nanoseconds per call of `f` over [`ROUNDS`] rounds of about [`ROUND_TIME`].
fn time_per_call(mut f: impl FnMut()) -> f64 {
    // Calibrate: how many calls fill one round.
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < ROUND_TIME / 4 {
        f();
        calls += 1;
    }
    let per_round = (calls * 4).max(10);
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                f();
            }
            start.elapsed().as_nanos() as f64 / per_round as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn main() {
    println!("Alertmanager parse+map, median of {ROUNDS} rounds of ~{} ms", ROUND_TIME.as_millis());
    println!(
        "{:>7} {:>10} {:>16} {:>14} {:>22} {:>14}",
        "alerts", "bytes", "parse ns/payload", "ns/alert", "decode+parse ns/payload", "ns/alert"
    );
    for n in [1usize, 10, 100] {
        let body = payload(n);
        let bytes = serde_json::to_vec(&body).expect("serialisable");
        let events = formats::parse(WebhookFormat::Alertmanager, &body).expect("the payload parses");
        assert_eq!(events.len(), n);

        let parse_only = time_per_call(|| {
            let events = formats::parse(WebhookFormat::Alertmanager, black_box(&body)).unwrap();
            black_box(events);
        });
        let with_decode = time_per_call(|| {
            let body: Value = serde_json::from_slice(black_box(&bytes)).unwrap();
            let events = formats::parse(WebhookFormat::Alertmanager, &body).unwrap();
            black_box(events);
        });
        println!(
            "{n:>7} {:>10} {parse_only:>16.0} {:>14.0} {with_decode:>22.0} {:>14.0}",
            bytes.len(),
            parse_only / n as f64,
            with_decode / n as f64,
        );
    }
}
