//! Dashboard stats at scale, from rollups and from the query path: one domain filled to
//! 10,000, then 100,000, then 1,000,000 events over the last 90 days (batch writes
//! straight into DynamoDB Local, in time order as the service stores them, while the
//! rollup consumer follows the stream), and after each step the dashboard stats through
//! the stat handler, rollups beside the query path. Also what the consumer wrote per
//! event. Every rollup answer is checked against the loaded data.
//!
//! Run: `make bench`, or `BENCH_ROLLUP_EVENTS=10000,100000 cargo bench -p e2e --bench
//! rollups` for the smaller steps only.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, DurationRound, Utc};
use e2e::{app_with, dynamodb, endpoint, parts, ApiEvent, Gateway};
use event_core::model::{format_time, new_id, Event, EventType, Resource, Severity};
use event_core::rollup::density::{read_day, DayRead};
use event_core::service::{App, RollupConsumer};
use event_core::store::stream::LocalStream;
use event_core::store::Store;
use serde_json::{json, Value};
use tokio::task::JoinSet;

const DAYS: i64 = 90;
const RUNS: usize = 5;
/// Events per load call (20 BatchWriteItems), and calls in flight.
const CHUNK: usize = 500;
const IN_FLIGHT: usize = 8;
const PROJECTS: usize = 4;
/// Two webhooks a project, each with its monitor (provider).
const WEBHOOKS: usize = 8;
const PROVIDERS: [&str; 3] = ["prometheus", "grafana", "aws"];
const RESOURCE_TYPES: [&str; 4] = ["inventory.Server", "inventory.CloudService", "aws.EC2", ""];

/// Deterministic variety from the event's number: each field cycles with its own period.
fn event(domain: &str, n: usize, created: DateTime<Utc>) -> Event {
    let severity = match n * 7919 % 100 {
        0..=9 => Severity::Critical,
        10..=24 => Severity::Error,
        25..=49 => Severity::Warning,
        50..=89 => Severity::Info,
        90..=94 => Severity::NotAvailable,
        _ => Severity::None,
    };
    let event_type = [EventType::Alert, EventType::Alert, EventType::Recovery, EventType::Error][n * 31 % 4];
    let webhook = n * 13 % WEBHOOKS;
    let project = webhook / 2;
    Event {
        event_id: new_id("event"),
        event_key: format!("key-{}", n % 500),
        event_type,
        title: format!("Disk usage above 90% on web-{:03}", n % 200),
        description: "instance 10.0.0.1:9100 of job node has reported it for 5 minutes.".into(),
        severity,
        rule: "DiskFull".into(),
        resource: Resource {
            resource_id: format!("server-{:012x}", n % 200),
            resource_type: RESOURCE_TYPES[n * 17 % RESOURCE_TYPES.len()].into(),
            name: format!("web-{:03}", n % 200),
        },
        provider: PROVIDERS[webhook % PROVIDERS.len()].into(),
        account: "123456789012".into(),
        image_url: String::new(),
        raw_data: json!({"alertname": "DiskFull", "value": n % 1000}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: [("region".to_string(), "ap-northeast-2".to_string())].into(),
        alert_id: String::new(),
        webhook_id: format!("webhook-{webhook:012x}"),
        project_id: format!("project-{project:012x}"),
        workspace_id: format!("workspace-{}", project % 2),
        domain_id: domain.to_string(),
        created_at: format_time(created),
        occurred_at: format_time(created),
    }
}

/// What the checks need of each loaded event.
#[derive(Clone, Copy)]
struct Loaded {
    created: DateTime<Utc>,
    severity: Severity,
}

/// Loads `count` events spread evenly over the 90 days before `end`, in time order.
async fn load(store: &Store, domain: &str, count: usize, first: usize, end: DateTime<Utc>) -> Vec<Loaded> {
    let span = Duration::days(DAYS).num_milliseconds();
    let start = end - Duration::days(DAYS);
    let events: Vec<Event> = (0..count)
        .map(|i| {
            let at =
                start + Duration::milliseconds(span * i as i64 / count as i64 + (first + i) as i64 % 997);
            event(domain, first + i, at)
        })
        .collect();
    let loaded = events
        .iter()
        .map(|e| Loaded {
            created: event_core::model::parse_time(&e.created_at).unwrap(),
            severity: e.severity,
        })
        .collect();
    let mut writes: JoinSet<event_core::Result<()>> = JoinSet::new();
    for chunk in events.chunks(CHUNK) {
        while writes.len() >= IN_FLIGHT {
            writes.join_next().await.unwrap().unwrap().expect("events load");
        }
        let (store, chunk) = (store.clone(), chunk.to_vec());
        writes.spawn(async move { store.load_events(&chunk, None).await });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap().expect("events load");
    }
    loaded
}

/// Follows the stream until `loaded` is set and the stream is drained, with a consumer
/// of its own store (so its capacity is its own); answers the records it read and the
/// units it used.
async fn consume(mut stream: LocalStream, app: App, loaded: Arc<AtomicBool>) -> (LocalStream, usize, f64) {
    let store = Store::new(dynamodb(), app.store.tables().clone());
    let consumer = RollupConsumer::new(store.clone(), 0);
    let mut records = 0;
    loop {
        let finished = loaded.load(Ordering::SeqCst);
        let batches = stream.poll().await.expect("the stream reads");
        if batches.is_empty() {
            if finished {
                return (stream, records, store.consumed_capacity());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        for batch in batches {
            assert_eq!(consumer.consume(&batch.shard_id, &batch.changes).await, None, "every record counts");
            records += batch.changes.len();
            stream.handled(&batch.shard_id, &batch.changes.last().unwrap().sequence_number);
        }
    }
}

/// How a stat of the 90 days before `today` reads each of them once the consumer is
/// caught up: from day items, hour items or the index (see `event_core::rollup::density`).
async fn days_read(store: &Store, domain: &str, today: DateTime<Utc>) -> String {
    let first = today - Duration::days(DAYS);
    let marks =
        store.rollup_day_marks(domain, first, today - Duration::days(1), true).await.expect("day marks");
    let (mut day_items, mut hours, mut index, mut late) = (0, 0, 0, 0);
    for n in 0..DAYS {
        let day = first + Duration::days(n);
        let mark = marks.marks.get(&day);
        late += usize::from(mark.is_some_and(|m| m.late));
        match read_day(day, mark, marks.compacted) {
            DayRead::Rollups { day_item: true } => day_items += 1,
            DayRead::Rollups { day_item: false } => hours += 1,
            DayRead::Index => index += 1,
        }
    }
    format!(
        "the {DAYS} days before today read from: day items {day_items}, hour items {hours}, the index {index} \
         ({late} marked late)"
    )
}

struct Measured {
    ms: f64,
    units: f64,
    status: u16,
    body: Value,
}

/// The stat through the handler, `runs` times: median latency and units.
async fn measure(app: &App, body: &Value, runs: usize) -> Measured {
    let (mut ms, mut units, mut last) = (Vec::new(), Vec::new(), (0, Value::Null));
    for _ in 0..runs {
        let req = ApiEvent::new(Gateway::Http, "stat")
            .route("POST", "/monitoring/v1/event/stat")
            .body(&body.to_string())
            .request();
        let before = app.store.consumed_capacity();
        let started = Instant::now();
        let response = event_stat::handle(app, req).await;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        units.push(app.store.consumed_capacity() - before);
        last = parts(response);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Measured { ms: median(ms), units: median(units), status: last.0, body: last.1 }
}

fn group(key: Value) -> Value {
    json!([{"group": {"keys": key, "fields": [{"name": "count", "operator": "count"}]}}])
}

fn counted(body: &Value) -> u64 {
    body["results"].as_array().map_or(0, |rows| rows.iter().map(|r| r["count"].as_u64().unwrap()).sum())
}

fn cell(m: &Measured) -> String {
    match m.status {
        200 => format!("{:.1} | {:.1}", m.ms, m.units),
        status => format!("{status} after {:.0} ms | {:.1}", m.ms, m.units),
    }
}

#[tokio::main]
async fn main() {
    let steps: Vec<usize> = std::env::var("BENCH_ROLLUP_EVENTS")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("BENCH_ROLLUP_EVENTS: numbers of events"))
        .collect();
    // DynamoDB Local under a million events, and the query path's long reads, answers
    // slower than DynamoDB: give each call a minute.
    let app = app_with(|config| config.storage_operation_timeout_ms = 60_000).await;
    let mut stream = Some(app.store.local_stream(endpoint()).await.expect("the events table streams"));
    let query_path = e2e::query_path(&app);
    let domain = new_id("domain");
    let now = Utc::now();
    // Five minutes back: past what stats leave to the index for the stream to deliver.
    let end = now - Duration::minutes(5);
    let today = now.duration_trunc(Duration::days(1)).unwrap();
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut lines = Vec::new();
    for &total in &steps {
        let more = total - loaded.len();
        let done = Arc::new(AtomicBool::new(false));
        let consumer = tokio::spawn(consume(stream.take().unwrap(), app.clone(), done.clone()));
        let started = Instant::now();
        let before = app.store.consumed_capacity();
        loaded.extend(load(&app.store, &domain, more, loaded.len(), end).await);
        let load_s = started.elapsed().as_secs_f64();
        let load_units = app.store.consumed_capacity() - before;
        done.store(true, Ordering::SeqCst);
        let (followed, records, consumer_units) = consumer.await.unwrap();
        stream = Some(followed);
        let caught_up_s = started.elapsed().as_secs_f64();
        lines.push(format!(
            "{total}: loaded {more} events in {load_s:.0} s ({:.0}/s, {:.2} write units each); the consumer \
             read {records} records and was caught up {:.0} s after the load began, writing {:.3} units per event",
            more as f64 / load_s,
            load_units / more as f64,
            caught_up_s,
            consumer_units / more as f64,
        ));
        eprintln!("{}", lines.last().unwrap());
        lines.push(days_read(&app.store, &domain, today).await);
        eprintln!("{}", lines.last().unwrap());

        let days_back = |days: i64| format_time(today - Duration::days(days));
        let aligned = |days: i64| {
            json!([{"k": "created_at", "v": days_back(days), "o": "datetime_gte"},
                   {"k": "created_at", "v": format_time(today), "o": "datetime_lt"}])
        };
        let per_day = json!([{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"},
                             {"key": "severity", "name": "severity"}]);
        let stats = [
            ("per severity per day, 30 days", aligned(30), group(per_day.clone()), 30),
            ("per severity per day, 90 days", aligned(DAYS), group(per_day.clone()), DAYS),
            (
                "per severity per day, created_at ≥ now-90d",
                json!([{"k": "created_at", "v": "now-90d", "o": "timediff_gte"}]),
                group(per_day),
                0,
            ),
            (
                "per project, 90 days",
                aligned(DAYS),
                group(json!([{"key": "project_id", "name": "project"}])),
                DAYS,
            ),
            (
                "per event_type, 90 days",
                aligned(DAYS),
                group(json!([{"key": "event_type", "name": "type"}])),
                DAYS,
            ),
            (
                "CRITICAL per webhook, 90 days",
                json!([aligned(DAYS)[0], aligned(DAYS)[1], {"k": "severity", "v": "CRITICAL"}]),
                group(json!([{"key": "webhook_id", "name": "webhook"}])),
                DAYS,
            ),
        ];
        lines.push(format!("\n{total} events in the domain:\n"));
        lines.push(
            "| stat | events in range | rollups ms | rollups units | query path ms | query path units |"
                .into(),
        );
        lines.push("|---|---:|---:|---:|---:|---:|".into());
        // Rollups first: DynamoDB Local goes on with a query path read its client gave up
        // on, which would slow whatever comes after it.
        let mut measured = Vec::new();
        for (name, filter, aggregate, days) in stats {
            let body = json!({"domain_id": domain, "query": {"filter": filter, "aggregate": aggregate}});
            let rollups = measure(&app, &body, RUNS).await;
            assert_eq!(rollups.status, 200, "{name}: {}", rollups.body);
            let from = if days > 0 { today - Duration::days(days) } else { now - Duration::days(DAYS) };
            let to = if days > 0 { today } else { now };
            let critical_only = name.starts_with("CRITICAL");
            let want = loaded
                .iter()
                .filter(|e| e.created >= from && e.created < to)
                .filter(|e| !critical_only || e.severity == Severity::Critical)
                .count();
            // `now-90d` moves on between the calls; the query path checks that one.
            if days > 0 {
                assert_eq!(counted(&rollups.body) as usize, want, "{name}");
            }
            eprintln!("{name}: rollups {}", cell(&rollups));
            measured.push((name, body, want, rollups));
        }
        for (name, body, want, rollups) in measured {
            // The query path reads every matching event: past 10,000, once is enough.
            let index = measure(&query_path, &body, if total > 10_000 { 1 } else { RUNS }).await;
            if index.status == 200 {
                assert_eq!(index.body, rollups.body, "{name}: both paths answer alike");
            }
            lines.push(format!("| {name} | {want} | {} | {} |", cell(&rollups), cell(&index)));
            eprintln!("{}", lines.last().unwrap());
        }
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!();
    for line in lines {
        println!("{line}");
    }
    println!();
    println!(
        "One domain, {PROJECTS} projects, {WEBHOOKS} webhooks, events over the {DAYS} days before {}. \
         Median of {RUNS} calls through the stat handler (HTTP API v2 events); capacity units as DynamoDB \
         Local reports them. Machine: {cores} cores, DynamoDB Local at {}.",
        format_time(end),
        endpoint()
    );
}
