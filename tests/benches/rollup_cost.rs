//! What the rollup consumer writes per event as events arrive in time, not in a bulk
//! load: each batch holds what one event source mapping's batching window would gather
//! (`BENCH_ROLLUP_WINDOW_SECONDS`, a multiple of 30; default 300, the template's
//! `MaximumBatchingWindowInSeconds`). Two domains, the ends of issue 19's range:
//! - sparse: one event an hour, so each event arrives alone in its batch;
//! - dense: a million events in 90 days (7.7 a minute: 3 or 4 every 30 s, about 38 a
//!   batch of 300 s), simulated over six hours of created_at.
//!
//! Units are the consumer's own (its own store and meter), as AWS bills them: a rejected
//! conditional write counts as one. Run: `cargo bench -p e2e --bench rollup_cost`
//! (DynamoDB Local up, `AWS_ENDPOINT_URL_DYNAMODB` set, as `make bench` does).

use chrono::{Duration, DurationRound, Utc};
use e2e::{app, dynamodb};
use event_core::model::{format_time, new_id, Event, EventType, Resource, Severity};
use event_core::rollup::Change;
use event_core::service::RollupConsumer;
use event_core::store::Store;
use serde_json::json;

fn event(domain: &str, n: usize, created: chrono::DateTime<Utc>) -> Event {
    Event {
        event_id: new_id("event"),
        event_key: format!("key-{}", n % 50),
        event_type: [EventType::Alert, EventType::Recovery][n % 2],
        title: format!("Disk usage above 90% on web-{:03}", n % 20),
        description: String::new(),
        severity: [Severity::Critical, Severity::Error, Severity::Warning, Severity::Info][n * 7 % 4],
        rule: String::new(),
        resource: Resource {
            resource_type: ["inventory.Server", "aws.EC2"][n % 2].into(),
            ..Resource::default()
        },
        provider: ["prometheus", "grafana", "aws"][n % 3].into(),
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: Default::default(),
        alert_id: String::new(),
        webhook_id: format!("webhook-{:012x}", n % 8),
        project_id: format!("project-{:012x}", n % 8 / 2),
        workspace_id: String::new(),
        domain_id: domain.into(),
        created_at: format_time(created),
        occurred_at: format_time(created),
    }
}

/// Stores `events` (each a batch of events arriving together), hands each batch's
/// stream records to a consumer of its own, and answers its write units per event
/// (its read units are printed too).
async fn per_event(name: &str, batches: Vec<Vec<Event>>) -> f64 {
    let app = app().await;
    let store = Store::new(dynamodb(), app.store.tables().clone());
    let consumer = RollupConsumer::new(store.clone(), 0);
    let mut stream = app.store.local_stream(e2e::endpoint()).await.expect("a stream");
    let (mut events, mut batch_count) = (0, 0);
    for batch in batches {
        events += batch.len();
        for event in &batch {
            assert!(app.store.put_event(event, None).await.expect("stored"));
        }
        // The batch's records, as the event source mapping would hand them.
        let mut records: Vec<(String, Vec<Change>)> = Vec::new();
        let facts =
            |r: &[(String, Vec<Change>)]| r.iter().flat_map(|(_, c)| c).filter(|c| c.fact.is_some()).count();
        while facts(&records) < batch.len() {
            for shard in stream.poll().await.expect("the stream reads") {
                let last = shard.changes.last().expect("records").sequence_number.clone();
                stream.handled(&shard.shard_id, &last);
                records.push((shard.shard_id, shard.changes));
            }
        }
        for (shard, changes) in &records {
            assert_eq!(consumer.consume(shard, changes).await, None);
        }
        batch_count += 1;
    }
    let consumed = store.consumed();
    let per_event = consumed.aws_writes() / events as f64;
    println!(
        "| {name} | {events} | {batch_count} | {:.1} | {:.0} | {per_event:.2} | {:.1} | {:.2} |",
        events as f64 / batch_count as f64,
        consumed.aws_writes(),
        consumed.reads,
        consumed.reads / events as f64
    );
    per_event
}

#[tokio::main]
async fn main() {
    let hour = Utc::now().duration_trunc(Duration::hours(1)).expect("an hour");
    let window: usize = std::env::var("BENCH_ROLLUP_WINDOW_SECONDS")
        .ok()
        .map(|w| w.parse().expect("BENCH_ROLLUP_WINDOW_SECONDS is a number of seconds"))
        .unwrap_or(300);
    assert!(window >= 30 && window.is_multiple_of(30), "the window is a multiple of 30 s");
    println!("batching window {window} s");
    println!(
        "| domain | events | batches | events a batch | write units | per event | read units | per event |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    // Sparse: 20 events an hour apart, each its own batch.
    let sparse = (0..20).map(|n| vec![event("domain-sparse", n, hour - Duration::hours(20 - n as i64))]);
    per_event("one event an hour", sparse.collect()).await;
    // Dense: a million in 90 days is 7.7 a minute: 3 or 4 every 30 s, gathered into
    // batches of the batching window.
    let mut batches: Vec<Vec<Event>> = Vec::new();
    let mut n = 0;
    for slot in 0..(6 * 120usize) {
        if slot.is_multiple_of(window / 30) {
            batches.push(Vec::new());
        }
        let size = if slot % 3 == 0 { 3 } else { 4 };
        let start = hour - Duration::hours(6) + Duration::seconds(30 * slot as i64);
        let batch = batches.last_mut().expect("a batch");
        batch.extend((0..size).map(|i| {
            n += 1;
            event("domain-dense", n, start + Duration::seconds(8 * i as i64))
        }));
    }
    per_event("a million in 90 days", batches).await;
}
