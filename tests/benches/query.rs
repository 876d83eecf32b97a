//! What list and stat cost over a realistic table: 100,000 events in 20 domains (5,000
//! each, spread over the last 30 days) plus one small domain of 100, loaded straight into
//! the store. Each query then runs 5 times through the real handlers (HTTP API v2 events)
//! and the median latency and the capacity units DynamoDB Local reports per call are
//! printed as a Markdown table. Every answer is checked against the generated data.
//!
//! Run: `make bench`, or `BENCH_EVENTS=10000 cargo bench -p e2e --bench query` for a
//! quick run (the harness starts its own DynamoDB Local when AWS_ENDPOINT_URL_DYNAMODB is
//! unset).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use e2e::{app, parts, ApiEvent, Gateway};
use event_core::model::{format_time, new_id, Event, EventType, Resource, Severity};
use event_core::service::App;
use lambda_http::Request;
use serde_json::{json, Value};
use tokio::task::JoinSet;

const DEFAULT_EVENTS: usize = 100_000;
const DOMAINS: usize = 20;
const WEBHOOKS_PER_DOMAIN: usize = 2;
/// 15 per domain: 300 alerts in all, a few hundred events each.
const ALERTS_PER_DOMAIN: usize = 15;
const SMALL_DOMAIN_EVENTS: usize = 100;
const IN_FLIGHT: usize = 32;
const RUNS: usize = 5;
const DAYS: i64 = 30;
const PAGE: usize = 20;

const TITLES: [(&str, &str); 8] = [
    ("Disk usage above 90%", "DiskFull"),
    ("CPU usage high", "HighCpu"),
    ("Memory pressure", "MemoryPressure"),
    ("Instance down", "InstanceDown"),
    ("HTTP 5xx rate above 5%", "Http5xx"),
    ("Certificate expires in 7 days", "CertExpiry"),
    ("SSH login by a privileged user", "BastionLogin"),
    ("Replication lag above 30s", "ReplicationLag"),
];
const USERS: [&str; 4] = ["spaceoneadm", "glee", "ops", "deploy"];
const REGIONS: [&str; 3] = ["ap-northeast-2", "us-east-1", "eu-west-1"];

/// splitmix64: deterministic variety without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct Domain {
    domain_id: String,
    project_id: String,
    webhooks: Vec<String>,
    alerts: Vec<String>,
}

impl Domain {
    fn new() -> Domain {
        Domain {
            domain_id: new_id("domain"),
            project_id: new_id("project"),
            webhooks: (0..WEBHOOKS_PER_DOMAIN).map(|_| new_id("webhook")).collect(),
            alerts: (0..ALERTS_PER_DOMAIN).map(|_| new_id("alert")).collect(),
        }
    }
}

/// What the checks need to know about a loaded event.
struct Loaded {
    created_at: String,
    severity: Severity,
    alert_id: String,
}

fn synthetic_event(domain: &Domain, rng: &mut Rng, now: DateTime<Utc>) -> Event {
    let severity = match rng.below(100) {
        0..=9 => Severity::Critical,
        10..=24 => Severity::Error,
        25..=49 => Severity::Warning,
        50..=89 => Severity::Info,
        90..=94 => Severity::NotAvailable,
        _ => Severity::None,
    };
    let event_type = match rng.below(20) {
        0..=15 => EventType::Alert,
        16..=18 => EventType::Recovery,
        _ => EventType::Error,
    };
    let (title, rule) = *rng.pick(&TITLES);
    let host = rng.below(200);
    let created = now - Duration::milliseconds(rng.below(DAYS as u64 * 86_400_000) as i64);
    let occurred = created - Duration::milliseconds(rng.below(60_000) as i64);
    // One in twenty is unlinked (a RECOVERY with no open alert, say).
    let alert_id = if rng.below(20) == 0 { String::new() } else { rng.pick(&domain.alerts).clone() };
    let ip = format!("10.0.{}.{}", host / 250, host % 250 + 1);
    Event {
        event_id: new_id("event"),
        event_key: format!("{rule}-{host:04}"),
        event_type,
        title: format!("{title} on web-{host:03}"),
        description: format!("{title}: instance {ip}:9100 of job node has reported it for 5 minutes."),
        severity,
        rule: rule.to_string(),
        resource: Resource {
            resource_id: format!("server-{host:012x}"),
            resource_type: "inventory.Server".into(),
            name: format!("web-{host:03}"),
        },
        provider: "prometheus".into(),
        account: "123456789012".into(),
        image_url: String::new(),
        raw_data: json!({
            "alertname": rule,
            "instance": format!("{ip}:9100"),
            "labels": {"job": "node", "severity": severity.as_str().to_lowercase()},
            "value": rng.below(1000) as f64 / 10.0,
        }),
        raw_data_missing: false,
        event_rules: None,
        additional_info: BTreeMap::from([
            ("host".to_string(), ip),
            ("region".to_string(), rng.pick(&REGIONS).to_string()),
            ("user".to_string(), rng.pick(&USERS).to_string()),
        ]),
        alert_id,
        webhook_id: rng.pick(&domain.webhooks).clone(),
        project_id: domain.project_id.clone(),
        workspace_id: "workspace-1".into(),
        domain_id: domain.domain_id.clone(),
        created_at: format_time(created),
        occurred_at: format_time(occurred),
    }
}

/// Loads `per_domain` events into each domain, `IN_FLIGHT` puts at a time; answers
/// what each domain got, in load order.
async fn load(
    app: &App,
    domains: &[Domain],
    per_domain: usize,
    rng: &mut Rng,
    now: DateTime<Utc>,
) -> Vec<Vec<Loaded>> {
    let mut loaded: Vec<Vec<Loaded>> = domains.iter().map(|_| Vec::with_capacity(per_domain)).collect();
    let mut puts = JoinSet::new();
    for i in 0..per_domain * domains.len() {
        let d = i % domains.len();
        let event = synthetic_event(&domains[d], rng, now);
        loaded[d].push(Loaded {
            created_at: event.created_at.clone(),
            severity: event.severity,
            alert_id: event.alert_id.clone(),
        });
        while puts.len() >= IN_FLIGHT {
            finish(puts.join_next().await);
        }
        let store = app.store.clone();
        puts.spawn(async move { store.put_event(&event, None).await });
    }
    while let Some(done) = puts.join_next().await {
        finish(Some(done));
    }
    loaded
}

fn finish(done: Option<Result<event_core::Result<bool>, tokio::task::JoinError>>) {
    let stored = done.expect("a put is in flight").expect("put task runs").expect("event is stored");
    assert!(stored, "event ids are fresh");
}

#[derive(Clone, Copy)]
enum Op {
    List,
    Stat,
}

fn request(op: Op, body: &Value) -> Request {
    let (sample, path) = match op {
        Op::List => ("list", "/monitoring/v1/event/list"),
        Op::Stat => ("stat", "/monitoring/v1/event/stat"),
    };
    ApiEvent::new(Gateway::Http, sample).route("POST", path).body(&body.to_string()).request()
}

struct Measured {
    ms: f64,
    units: f64,
    body: Value,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the request `RUNS` times through the handler: median latency and units per call.
async fn measure(app: &App, op: Op, body: Value) -> Measured {
    let (mut ms, mut units) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    let mut answer = Value::Null;
    for _ in 0..RUNS {
        let req = request(op, &body);
        let before = app.store.consumed_capacity();
        let started = Instant::now();
        let response = match op {
            Op::List => event_list::handle(app, req).await,
            Op::Stat => event_stat::handle(app, req).await,
        };
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        units.push(app.store.consumed_capacity() - before);
        let (status, json) = parts(response);
        assert_eq!(status, 200, "{body}: {json}");
        answer = json;
    }
    Measured { ms: median(ms), units: median(units), body: answer }
}

fn total_count(body: &Value) -> usize {
    body["total_count"].as_u64().unwrap_or_else(|| panic!("total_count in {body}")) as usize
}

fn results(body: &Value) -> &Vec<Value> {
    body["results"].as_array().unwrap_or_else(|| panic!("results in {body}"))
}

/// The sum of a stat's `count` column.
fn stat_count(body: &Value) -> usize {
    results(body).iter().map(|row| row["count"].as_u64().expect("count") as usize).sum()
}

fn group_count(key: &str, name: &str, date_format: Option<&str>) -> Value {
    let mut key = json!({"key": key, "name": name});
    if let Some(format) = date_format {
        key["date_format"] = json!(format);
    }
    json!({"group": {"keys": [key], "fields": [{"name": "count", "operator": "count"}]}})
}

struct Table {
    rows: Vec<String>,
}

impl Table {
    fn row(&mut self, operation: &str, matching: usize, m: &Measured) {
        let line = format!("| {operation} | {} | {:.1} | {:.1} |", thousands(matching), m.ms, m.units);
        eprintln!("{line}");
        self.rows.push(line);
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::main]
async fn main() {
    let total: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .map(|v| v.parse().expect("BENCH_EVENTS is a number of events"))
        .unwrap_or(DEFAULT_EVENTS);
    let per_domain = (total / DOMAINS).max(1);
    let app = app().await;
    let now = Utc::now();
    let mut rng = Rng(0x5eed);
    let domains: Vec<Domain> = (0..DOMAINS).map(|_| Domain::new()).collect();

    let before = app.store.consumed_capacity();
    let started = Instant::now();
    let mut loaded = load(&app, &domains, per_domain, &mut rng, now).await;
    let load_time = started.elapsed().as_secs_f64();
    let load_units = app.store.consumed_capacity() - before;
    let stored = per_domain * DOMAINS;
    let load_line = format!(
        "Loaded {} events ({DOMAINS} domains × {}) in {load_time:.1} s: {:.0} events/s, \
         {IN_FLIGHT} puts in flight, {load_units:.0} write units.",
        thousands(stored),
        thousands(per_domain),
        stored as f64 / load_time
    );
    eprintln!("{load_line}");
    let small_domain = Domain::new();
    let small = load(&app, std::slice::from_ref(&small_domain), SMALL_DOMAIN_EVENTS, &mut rng, now)
        .await
        .pop()
        .expect("one domain");
    let big = loaded.swap_remove(0);
    let domain = &domains[0];

    let day_ago = format_time(now - Duration::days(1));
    let month_ago = format_time(now - Duration::days(DAYS));
    let last_day = json!([{"k": "created_at", "v": day_ago, "o": "datetime_gte"}]);
    let in_last_day = |events: &[Loaded]| events.iter().filter(|e| e.created_at >= day_ago).count();
    let alert_id = domain.alerts[0].clone();

    let mut table = Table { rows: Vec::new() };
    // The measured domain.
    let id = &domain.domain_id;
    let m = measure(&app, Op::List, json!({"domain_id": id, "query": {"page": {"limit": PAGE}}})).await;
    assert_eq!((total_count(&m.body), results(&m.body).len()), (big.len(), PAGE));
    table.row("list: first page (limit 20, with total_count)", big.len(), &m);

    let m = measure(
        &app,
        Op::List,
        json!({"domain_id": id, "query": {"page": {"limit": PAGE}}, "next_token": ""}),
    )
    .await;
    assert_eq!(results(&m.body).len(), PAGE);
    assert!(m.body["next_token"].is_string(), "more pages follow");
    table.row("list: first page with next_token (no total_count)", big.len(), &m);

    let critical = big.iter().filter(|e| e.severity == Severity::Critical).count();
    let m = measure(
        &app,
        Op::List,
        json!({"domain_id": id, "severity": "CRITICAL", "query": {"page": {"limit": PAGE}}}),
    )
    .await;
    assert_eq!(total_count(&m.body), critical);
    assert!(results(&m.body).iter().all(|e| e["severity"] == "CRITICAL"));
    table.row("list: severity CRITICAL, first page (limit 20)", critical, &m);

    let m = measure(&app, Op::List, json!({"domain_id": id, "query": {"count_only": true}})).await;
    assert_eq!(total_count(&m.body), big.len());
    table.row("list: count_only", big.len(), &m);

    let day = in_last_day(&big);
    let m = measure(
        &app,
        Op::List,
        json!({"domain_id": id, "query": {"filter": last_day, "page": {"limit": PAGE}}}),
    )
    .await;
    assert_eq!(total_count(&m.body), day);
    table.row("list: created_at in the last day, first page (limit 20)", day, &m);

    let per_severity = json!({"filter": last_day, "aggregate": [
        group_count("severity", "severity", None),
        {"sort": {"key": "count", "desc": true}},
    ]});
    let m = measure(&app, Op::Stat, json!({"domain_id": id, "query": per_severity})).await;
    assert_eq!(stat_count(&m.body), day);
    table.row("stat: events per severity, last day", day, &m);

    let per_day = json!({
        "filter": [{"k": "created_at", "v": month_ago, "o": "datetime_gte"}],
        "aggregate": [group_count("created_at", "day", Some("%Y-%m-%d")), {"sort": {"key": "day"}}],
    });
    let m = measure(&app, Op::Stat, json!({"domain_id": id, "query": per_day})).await;
    assert_eq!(stat_count(&m.body), big.len());
    assert!((DAYS as usize..=DAYS as usize + 1).contains(&results(&m.body).len()), "{}", m.body);
    table.row("stat: events per day, 30 days", big.len(), &m);

    let of_alert = big.iter().filter(|e| e.alert_id == alert_id).count();
    let m = measure(
        &app,
        Op::List,
        json!({"domain_id": id, "alert_id": alert_id, "query": {"page": {"limit": PAGE}}}),
    )
    .await;
    assert_eq!(total_count(&m.body), of_alert);
    assert!(results(&m.body).iter().all(|e| e["alert_id"] == json!(alert_id)));
    table.row("list: one alert_id (alert index), first page (limit 20)", of_alert, &m);

    // The small domain, in the same table.
    let id = &small_domain.domain_id;
    let m = measure(&app, Op::List, json!({"domain_id": id, "query": {"page": {"limit": PAGE}}})).await;
    assert_eq!(total_count(&m.body), small.len());
    table.row("small domain: list first page (limit 20, with total_count)", small.len(), &m);
    let day = in_last_day(&small);
    let per_severity = json!({"filter": last_day, "aggregate": [group_count("severity", "severity", None)]});
    let m = measure(&app, Op::Stat, json!({"domain_id": id, "query": per_severity})).await;
    assert_eq!(stat_count(&m.body), day);
    table.row("small domain: stat events per severity, last day", day, &m);

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    let dynamodb = match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(url) => format!("DynamoDB Local at {url}"),
        Err(_) => "DynamoDB Local (in memory, started by the bench)".to_string(),
    };
    println!();
    println!(
        "Table of {} events: {DOMAINS} domains × {} over the last {DAYS} days, plus a domain of {}. \
         Median of {RUNS} calls through the list/stat handlers (HTTP API v2 events); capacity \
         units as DynamoDB Local reports them (ReturnConsumedCapacity: TOTAL, eventually \
         consistent reads).",
        thousands(stored + small.len()),
        thousands(per_domain),
        SMALL_DOMAIN_EVENTS
    );
    println!();
    println!("| operation | matching events | median ms | capacity units |");
    println!("|---|---:|---:|---:|");
    for row in &table.rows {
        println!("{row}");
    }
    println!();
    println!("{load_line}");
    println!("Machine: {cores} cores, {dynamodb}, {build} build of the handlers.");
}
