//! The webhook route at its limits, through API Gateway events on DynamoDB Local: big
//! alert groups within the deadline, bodies and event counts past the limits kept as
//! ERROR events, and items that would not fit DynamoDB stored bounded, beside the
//! innocent events of their payload.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::*;
use event_core::config::Config;
use event_core::model::{Event, WebhookFormat};
use event_core::service::App;
use event_core::store::{EventRange, RawData};
use serde_json::{json, Value};

/// Lambda's limit on a synchronous invocation's payload: the whole API Gateway event.
const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

async fn deliver(app: &App, path: &str, body: &str) -> (u16, Value) {
    let event = ApiEvent::new(Gateway::Rest, "create").route("POST", path).body(body);
    parts(event_create::handle(app, event.request()).await)
}

async fn stored(app: &App) -> Vec<Event> {
    app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap()
}

/// What is stored once `body` is delivered, and delivered again as a sender's resend
/// would be, each answered 200.
async fn delivered_twice(app: &App, path: &str, body: &str) -> Vec<Event> {
    for _ in 0..2 {
        let (status, resp) = deliver(app, path, body).await;
        assert_eq!(status, 200, "{resp}");
    }
    stored(app).await
}

/// One Alertmanager alert named `fingerprint`, about `bytes` long once serialised (its
/// description annotation pads it, as runbooks and label dumps do in real groups).
fn alert(fingerprint: &str, bytes: usize) -> Value {
    let fixture: Value = serde_json::from_str(&fixture("alertmanager/firing-grouped-two.json")).unwrap();
    let mut alert = fixture["alerts"][0].clone();
    alert["fingerprint"] = json!(fingerprint);
    alert["labels"]["device"] = json!(format!("/dev/{fingerprint}"));
    alert["annotations"]["summary"] = json!(format!("Filesystem /dev/{fingerprint} is read-only"));
    let short = alert.to_string().len();
    alert["annotations"]["description"] = json!("d".repeat(bytes.saturating_sub(short + 20)));
    alert
}

/// The captured grouped notification, carrying `n` alerts `<tag>-0`… of about `bytes` each.
fn group(tag: &str, n: usize, bytes: usize) -> String {
    let mut body: Value = serde_json::from_str(&fixture("alertmanager/firing-grouped-two.json")).unwrap();
    body["alerts"] = (0..n).map(|i| alert(&format!("{tag}-{i}"), bytes)).collect();
    body.to_string()
}

/// How many times each fingerprint is stored.
fn by_fingerprint(events: &[Event]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events.iter().filter(|e| e.event_type.as_str() != "ERROR") {
        *counts.entry(event.additional_info["fingerprint"].clone()).or_insert(0) += 1;
    }
    counts
}

fn once_each(tag: &str, n: usize) -> BTreeMap<String, usize> {
    (0..n).map(|i| (format!("{tag}-{i}"), 1)).collect()
}

async fn alertmanager_stage(adjust: impl FnOnce(&mut Config)) -> (App, String) {
    let app = app_with(adjust).await;
    let key = webhook(&app, WebhookFormat::Alertmanager).await;
    (app, webhook_path(&key))
}

/// A group of `n` alerts of about `bytes` each, in one API Gateway event that Lambda
/// would take: every answer comes within the deadline (API Gateway answers 504 at 29 s;
/// create aims for its delivery budget), and the deliveries Alertmanager makes (its first,
/// then its retries on each 503) store every alert once. How many it takes is printed:
/// on AWS one; on DynamoDB Local, however many its speed on the machine allows.
async fn a_group_is_stored_within_the_deadline(n: usize, bytes: usize, budget_seconds: u32) {
    let (app, path) = alertmanager_stage(|c| c.delivery_budget_seconds = budget_seconds).await;
    let body = group("big", n, bytes);
    let event = ApiEvent::new(Gateway::Rest, "create").route("POST", &path).body(&body);
    let invoke_bytes = event.event.to_string().len();
    assert!(invoke_bytes < LAMBDA_PAYLOAD_BYTES, "Lambda would refuse a {invoke_bytes}-byte event");
    let started = Instant::now();
    let cpu = cpu_seconds();
    let answers = until_stored(&app, &event, 30).await;
    eprintln!(
        "{n} alerts, body {} bytes, API Gateway event {invoke_bytes} bytes: stored in {:.1} s by {} \
         deliveries {answers:?}, {:.2} s of CPU in this process",
        body.len(),
        started.elapsed().as_secs_f64(),
        answers.len(),
        cpu_seconds() - cpu
    );
    assert_eq!(by_fingerprint(&stored(&app).await), once_each("big", n));
}

/// CPU time this process has used (user and system, Linux), for what a delivery costs a
/// Lambda's share of a vCPU; 0 where /proc is not there.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are the 14th and 15th fields; after the command's ")" they are the
    // 12th and 13th. The kernel counts them at 100 Hz.
    (ticks(11) + ticks(12)) / 100.0
}

/// Delivers `event` as Alertmanager does, again on each 503, until it is answered 200
/// (within `most` deliveries); each answer must come within the deadline. The status
/// and seconds of each.
async fn until_stored(app: &App, event: &ApiEvent, most: usize) -> Vec<(u16, f64)> {
    let mut answers = Vec::new();
    loop {
        let sent = Instant::now();
        let (status, resp) = parts(event_create::handle(app, event.request()).await);
        let took = sent.elapsed();
        answers.push((status, took.as_secs_f64()));
        assert!(took < app.config.delivery_budget() + Duration::from_secs(6), "{answers:?}");
        match status {
            200 => return answers,
            503 => assert!(answers.len() < most, "no progress: {answers:?}"),
            _ => panic!("{status}: {resp}"),
        }
    }
}

/// A group past the old 1 MiB limit, small enough for `make test` on a busy machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_150_alerts_and_1_5_mb_is_stored_within_the_deadline() {
    a_group_is_stored_within_the_deadline(150, 10_000, Config::default().delivery_budget_seconds).await;
}

/// The figure: 5,000 alerts in 5 MB. Minutes on DynamoDB Local, so `make bench`
/// runs it (docs/benchmarks.md, "Big alert groups"), not `make test`, with the budget
/// `BIG_GROUP_BUDGET_SECONDS` gives (the default one when unset): with a long one, the
/// time one delivery takes to store the whole group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes on DynamoDB Local: make bench"]
async fn a_group_of_5000_alerts_and_5_mb_is_stored_within_the_deadline() {
    let budget = std::env::var("BIG_GROUP_BUDGET_SECONDS").ok().and_then(|s| s.parse().ok());
    a_group_is_stored_within_the_deadline(
        5_000,
        1_000,
        budget.unwrap_or(Config::default().delivery_budget_seconds),
    )
    .await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_kept_as_one_error_event_that_counts_its_alerts() {
    let (app, path) = alertmanager_stage(|c| c.max_body_bytes = 20_000).await;
    let body = group("over", 30, 1_000);
    let events = delivered_twice(&app, &path, &body).await;
    assert_eq!(events.len(), 1, "one ERROR event, and its resend is a duplicate: {events:?}");
    let kept = &events[0];
    assert_eq!(kept.event_type.as_str(), "ERROR");
    assert!(kept.description.contains("30 alerts") && kept.description.contains("MAX_BODY_BYTES"));
    assert_eq!(kept.raw_data["alerts"], json!(30));
    assert_eq!(kept.raw_data["body_bytes"], json!(body.len()));
    assert!(body.starts_with(kept.raw_data["body"].as_str().unwrap()));
}

#[tokio::test]
async fn events_past_the_cap_are_counted_in_one_error_event() {
    let (app, path) = alertmanager_stage(|c| c.max_events_per_delivery = 5).await;
    let body = group("cap", 8, 500);
    let events = delivered_twice(&app, &path, &body).await;
    assert_eq!(by_fingerprint(&events), once_each("cap", 5));
    let errors: Vec<&Event> = events.iter().filter(|e| e.event_type.as_str() == "ERROR").collect();
    assert_eq!(errors.len(), 1, "the resend stores no second ERROR event");
    assert_eq!(errors[0].raw_data["dropped"], json!(3));
    assert!(errors[0].description.contains("last 3 were dropped"), "{}", errors[0].description);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_key_link_in_payload_order_while_keys_are_written_side_by_side() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    // Each of 40 keys opens, resolves and reopens, one right after the other.
    let mut events = Vec::new();
    for k in 0..40 {
        for step in ["ALERT", "RECOVERY", "ALERT"] {
            events.push(json!({"title": format!("t{k}"), "event_key": format!("k{k}"), "event_type": step}));
        }
    }
    let body = Value::Array(events).to_string();
    until_stored(
        &app,
        &ApiEvent::new(Gateway::Rest, "create").route("POST", &webhook_path(&key)).body(&body),
        20,
    )
    .await;
    let stored = stored(&app).await;
    assert_eq!(stored.len(), 120);
    for k in 0..40 {
        let mut of_key: Vec<&Event> = stored.iter().filter(|e| e.event_key == format!("k{k}")).collect();
        // The same created_at for all: the event ids do not tell the order, the alerts do.
        of_key.sort_by_key(|e| e.event_type.as_str() != "RECOVERY");
        let (recovery, alerts) = (of_key[0], &of_key[1..]);
        assert_eq!(recovery.event_type.as_str(), "RECOVERY");
        assert!(!recovery.alert_id.is_empty(), "k{k}: the RECOVERY came after its ALERT and resolved it");
        let reopened: Vec<&&Event> = alerts.iter().filter(|e| e.alert_id != recovery.alert_id).collect();
        assert_eq!(reopened.len(), 1, "k{k}: the second ALERT opened a new alert: {of_key:?}");
        let open = app.store.get_alert(&trusted(DOMAIN), &reopened[0].alert_id).await.unwrap().unwrap();
        let resolved = app.store.get_alert(&trusted(DOMAIN), &recovery.alert_id).await.unwrap().unwrap();
        assert_eq!((resolved.state.as_str(), open.state.as_str()), ("RESOLVED", "TRIGGERED"), "k{k}");
    }
}

/// The poison payload of issue 10: events whose items DynamoDB would refuse (a 450 KB
/// resource name; 300 additional_info keys of 1.5 KB; a key DynamoDB takes for no
/// attribute name) between two innocent ones. Every event is stored, the poison ones
/// bounded; and a resend stores nothing twice.
#[tokio::test]
async fn a_poison_payload_stores_the_innocent_events_and_bounded_poison_ones() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let many: serde_json::Map<String, Value> =
        (0..300).map(|i| (format!("{i:03}{}", "k".repeat(1_500)), json!(i))).collect();
    let body = json!([
        {"title": "innocent before", "event_key": "a"},
        {"title": "long resource", "event_key": "b", "resource": {"name": "n".repeat(450 * 1024)}},
        {"title": "many keys", "event_key": "c", "additional_info": many},
        {"title": "empty key", "event_key": "d", "additional_info": {"": "x"}},
        {"title": "innocent after", "event_key": "e"},
    ])
    .to_string();
    let events = delivered_twice(&app, &webhook_path(&key), &body).await;
    let by_title: BTreeMap<&str, &Event> = events.iter().map(|e| (e.title.as_str(), e)).collect();
    let titles: Vec<&str> = by_title.keys().copied().collect();
    assert_eq!(titles, ["empty key", "innocent after", "innocent before", "long resource", "many keys"]);
    for event in &events {
        let item = serde_json::to_string(event).unwrap().len()
            - serde_json::to_string(&event.raw_data).unwrap().len();
        assert!(item < 100 * 1024, "{}: {item} bytes besides raw_data", event.title);
        assert!(!event.alert_id.is_empty(), "{}: linked to its alert", event.title);
        let got =
            app.store.get_event(&trusted(DOMAIN), &event.event_id, RawData::Read).await.unwrap().unwrap();
        assert_eq!(&got, event);
    }
    let long = &by_title["long resource"].resource.name;
    assert!(long.len() <= 2048 && long.ends_with("[truncated]"), "{}", long.len());
    assert_eq!(by_title["long resource"].raw_data["resource"]["name"].as_str().unwrap().len(), 450 * 1024);
    let info = &by_title["many keys"].additional_info;
    assert!(info["additional_info_truncated"].contains("keys dropped"), "{info:?}");
    // DynamoDB refuses the empty attribute name: the event is stored stripped, saying why.
    let refused = &by_title["empty key"].additional_info;
    assert!(refused["stored_bounded"].contains("DynamoDB refused"), "{refused:?}");
}
