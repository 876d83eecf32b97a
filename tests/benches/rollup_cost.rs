//! What the rollup consumer writes per event as events arrive in time, not in a bulk
//! load: each batch holds what one event source mapping's batching window would gather
//! (`BENCH_ROLLUP_WINDOW_SECONDS`, a multiple of 30; default 300, the template's
//! `MaximumBatchingWindowInSeconds`). Four domains across issue 19's range, each from
//! the last hour of one UTC day through the next day to 01:30 of the one after, events
//! evenly spaced:
//! - one event an hour (each alone in its batch);
//! - 10,000 events in 90 days (4.6 an hour: most batches hold none, the rest one);
//! - 100,000 in 90 days (46 an hour, about 4 a batch of 300 s);
//! - a million in 90 days (463 an hour, about 39 a batch).
//!
//! Then a stat of that whole day per severity (the count index holds it) and per
//! webhook (only the domain index does), through the stat handler: its read units.
//!
//! Units are the consumer's own (its own store and meter), as AWS bills them: a rejected
//! conditional write counts as one. Run: `cargo bench -p e2e --bench rollup_cost`
//! (DynamoDB Local up, `AWS_ENDPOINT_URL_DYNAMODB` set, as `make bench` does).

use chrono::{DateTime, Duration, DurationRound, Utc};
use e2e::{app, dynamodb, parts, ApiEvent, Gateway};
use event_core::model::{format_time, new_id, parse_time, Event, EventType, Resource, Severity};
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

/// A stat of the domain over `day` through the stat handler, grouped by `key`: the read
/// units it took (and the events it counted, which must be the day's).
async fn stat(app: &event_core::service::App, domain: &str, day: DateTime<Utc>, key: &str) -> (f64, u64) {
    let body = json!({"domain_id": domain, "query": {
        "filter": [{"k": "created_at", "v": format_time(day), "o": "datetime_gte"},
                   {"k": "created_at", "v": format_time(day + Duration::days(1)), "o": "datetime_lt"}],
        "aggregate": [{"group": {"keys": [{"key": key, "name": "k"}],
                                 "fields": [{"name": "n", "operator": "count"}]}}]}});
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&body.to_string())
        .request();
    let before = app.store.consumed_capacity();
    let (status, body) = parts(event_stat::handle(app, req).await);
    assert_eq!(status, 200, "{body}");
    let counted = body["results"].as_array().expect("rows").iter().map(|r| r["n"].as_u64().unwrap()).sum();
    (app.store.consumed_capacity() - before, counted)
}

/// Stores `events` (each a batch of events arriving together), hands each batch's
/// stream records to a consumer of its own, and answers its write units per event
/// (its read units are printed too, and what a stat of `day` reads afterwards).
async fn per_event(name: &str, batches: Vec<Vec<Event>>, day: DateTime<Utc>) -> f64 {
    let app = app().await;
    let store = Store::new(dynamodb(), app.store.tables().clone());
    let consumer = RollupConsumer::new(store.clone(), 0);
    let mut stream = app.store.local_stream(e2e::endpoint()).await.expect("a stream");
    let (mut events, mut batch_count) = (0, 0);
    let all: Vec<Event> = batches.iter().flatten().cloned().collect();
    let batches_domain = all[0].domain_id.clone();
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
    let domain = &batches_domain;
    let in_day = |e: &&Event| (day..day + Duration::days(1)).contains(&parse_time(&e.created_at).unwrap());
    let day_events = all.iter().filter(in_day).count() as u64;
    let (severity, n) = stat(&app, domain, day, "severity").await;
    let (webhook, m) = stat(&app, domain, day, "webhook_id").await;
    assert_eq!((n, m), (day_events, day_events), "a stat counts the day's events");
    println!(
        "| {name} | {events} | {batch_count} | {:.1} | {:.0} | {per_event:.2} | {:.1} | {:.2} | {severity:.1} | {webhook:.1} |",
        events as f64 / batch_count as f64,
        consumed.aws_writes(),
        consumed.reads,
        consumed.reads / events as f64
    );
    per_event
}

/// A domain sending `per_90_days` events in 90 days, evenly spaced, over `hours` from
/// `start`, gathered into batches of the batching window (a window without events hands
/// the consumer nothing).
fn spread(
    domain: &str,
    per_90_days: f64,
    start: DateTime<Utc>,
    minutes: i64,
    window: i64,
) -> Vec<Vec<Event>> {
    let every = 90.0 * 86_400_000.0 / per_90_days;
    let span = minutes * 60_000;
    let mut batches: Vec<(i64, Vec<Event>)> = Vec::new();
    let mut n = 0;
    while (n as f64 * every) < span as f64 {
        let offset = (n as f64 * every) as i64;
        let slot = offset / (window * 1000);
        if batches.last().is_none_or(|(s, _)| *s != slot) {
            batches.push((slot, Vec::new()));
        }
        let created = start + Duration::milliseconds(offset);
        batches.last_mut().expect("a batch").1.push(event(domain, n, created));
        n += 1;
    }
    batches.into_iter().map(|(_, batch)| batch).collect()
}

#[tokio::main]
async fn main() {
    let window: i64 = std::env::var("BENCH_ROLLUP_WINDOW_SECONDS")
        .ok()
        .map(|w| w.parse().expect("BENCH_ROLLUP_WINDOW_SECONDS is a number of seconds"))
        .unwrap_or(300);
    assert!(window >= 30 && window % 30 == 0, "the window is a multiple of 30 s");
    println!("batching window {window} s");
    println!(
        "| domain | events | batches | events a batch | write units | per event | read units | per event | stat of the day, by severity | by webhook |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // From the last hour of one UTC day (rollups count from a domain's first event)
    // through the next day to 01:30 of the one after (so the whole day is over and its
    // day items are written), three days ago: every event is in the past. The stats
    // read that whole day.
    let midnight = Utc::now().duration_trunc(Duration::days(1)).expect("a day") - Duration::days(3);
    let domains = [
        ("one event an hour", 2_160.0),
        ("10,000 in 90 days", 10_000.0),
        ("100,000 in 90 days", 100_000.0),
        ("a million in 90 days", 1_000_000.0),
    ];
    for (n, (name, per_90_days)) in domains.into_iter().enumerate() {
        let domain = format!("domain-cost-{n}");
        let batches = spread(&domain, per_90_days, midnight - Duration::hours(1), 26 * 60 + 30, window);
        per_event(name, batches, midnight).await;
    }
}
