//! The webhook route under storage faults: a fault-injecting proxy between the create
//! function and DynamoDB Local. The promise under test: a 2xx means every event of the
//! payload is stored exactly once; any fault is a 503 with `Retry-After`, and resending
//! the same payload stores the rest, once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::faults::{behind, Fault, Proxy, Rule, Target, When};
use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use event_core::store::EventRange;
use serde_json::{json, Value};

/// Status, `Retry-After` and body of one delivery through API Gateway.
async fn deliver(app: &App, path: &str, body: &str) -> (u16, Option<String>, Value) {
    let req = ApiEvent::new(Gateway::Rest, "create").route("POST", path).body(body).request();
    let response = event_create::handle(app, req).await;
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = parts(response);
    (status, retry_after, body)
}

/// A 503 with `Retry-After` and the SpaceONE error shape; its code.
fn assert_retryable(answer: &(u16, Option<String>, Value)) -> String {
    let (status, retry_after, body) = answer;
    assert_eq!(*status, 503, "{body}");
    assert!(retry_after.as_deref().is_some_and(|s| s.parse::<u32>().is_ok()), "Retry-After: {body}");
    error_code(*status, body)
}

/// One Alertmanager alert, shaped like the captured fixture's, named `fingerprint`.
fn alert(fingerprint: &str, starts_at: &str) -> Value {
    let fixture: Value = serde_json::from_str(&fixture("alertmanager/firing-grouped-two.json")).unwrap();
    let mut alert = fixture["alerts"][0].clone();
    alert["fingerprint"] = json!(fingerprint);
    alert["labels"]["device"] = json!(format!("/dev/{fingerprint}"));
    alert["annotations"]["summary"] = json!(format!("Filesystem /dev/{fingerprint} is read-only"));
    alert["startsAt"] = json!(starts_at);
    alert
}

/// The captured grouped notification, carrying `alerts` instead of its two.
fn notification(alerts: Vec<Value>) -> String {
    let mut body: Value = serde_json::from_str(&fixture("alertmanager/firing-grouped-two.json")).unwrap();
    body["alerts"] = Value::Array(alerts);
    body.to_string()
}

/// `n` distinct firing alerts `<tag>-0`…
fn alerts(tag: &str, n: usize) -> Vec<Value> {
    (0..n).map(|i| alert(&format!("{tag}-{i}"), "2026-11-22T15:54:45Z")).collect()
}

/// How many times each alert (by fingerprint and start) is stored in the test domain.
async fn stored(direct: &App) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in direct.store.query_events(&EventRange::domain(DOMAIN)).await.unwrap() {
        let info = &event.additional_info;
        let name = format!("{}@{}", info["fingerprint"], info["starts_at"]);
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

fn once_each(names: &[&str]) -> BTreeMap<String, usize> {
    names.iter().map(|n| (n.to_string(), 1)).collect()
}

/// The writes of one delivery, as the proxy tells them apart.
fn claim_write() -> Target {
    Target::any().containing("claimed_at")
}
fn event_write() -> Target {
    Target::op("PutItem").containing("created_key")
}
fn alert_transaction() -> Target {
    Target::op("TransactWriteItems")
}
fn alert_update() -> Target {
    Target::op("UpdateItem").containing("SET description")
}
fn claim_completion() -> Target {
    Target::op("UpdateItem").containing(":done")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_any_write_is_a_503_and_the_resend_stores_the_rest_once() {
    // Alert a opens an alert, b opens another, a again (a later start) joins a's.
    let payload = notification(vec![
        alert("a", "2026-11-22T15:54:45Z"),
        alert("b", "2026-11-22T15:54:45Z"),
        alert("a", "2026-11-22T16:10:00Z"),
    ]);
    let all = once_each(&["a@2026-11-22T15:54:45Z", "b@2026-11-22T15:54:45Z", "a@2026-11-22T16:10:00Z"]);
    let cases = [
        ("claim put", claim_write(), 2),
        ("event put", event_write(), 2),
        ("alert transaction", alert_transaction(), 2),
        ("alert update", alert_update(), 1),
        ("claim completion", claim_completion(), 2),
    ];
    let mut runs = tokio::task::JoinSet::new();
    for (kind, target, nth) in cases {
        let payload = payload.clone();
        runs.spawn(async move {
            let proxy = Proxy::start(endpoint()).await;
            let (app, direct) = behind(&proxy, |_| {}).await;
            let key = webhook(&direct, WebhookFormat::Alertmanager).await;
            proxy.add(Rule::new(Fault::Throttle, target, When::Nth(nth)));
            let first = deliver(&app, &webhook_path(&key), &payload).await;
            let resend = deliver(&app, &webhook_path(&key), &payload).await;
            Run {
                case: kind.to_string(),
                first,
                resend,
                injected: proxy.injected(Fault::Throttle),
                stored: stored(&direct).await,
            }
        });
    }
    let mut failures = Vec::new();
    while let Some(run) = runs.join_next().await {
        let run = run.unwrap();
        failures.extend(run.check(Some("ERROR_THROTTLED"), &all));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One delivery under a fault, then its resend.
struct Run {
    case: String,
    first: (u16, Option<String>, Value),
    resend: (u16, Option<String>, Value),
    injected: usize,
    stored: BTreeMap<String, usize>,
}

impl Run {
    /// What went wrong: the first answer not a 503 with `Retry-After` and `code` (any
    /// 503 code, or a 200, when None), the resend not a 200, or not every alert once.
    fn check(&self, code: Option<&str>, all: &BTreeMap<String, usize>) -> Vec<String> {
        let mut failures = Vec::new();
        let (status, retry_after, body) = &self.first;
        let retryable = *status == 503 && retry_after.is_some() && body["error"]["status"] == json!(503);
        match code {
            Some(code) if !retryable || body["error"]["code"] != json!(code) => failures
                .push(format!("{}: first answer {status} {retry_after:?} {body}, not 503 {code}", self.case)),
            None if !retryable && *status != 200 => {
                failures.push(format!("{}: first answer {status} {retry_after:?} {body}", self.case))
            }
            _ => {}
        }
        if self.resend.0 != 200 {
            failures.push(format!("{}: resend answered {} {}", self.case, self.resend.0, self.resend.2));
        }
        if self.injected == 0 {
            failures.push(format!("{}: no fault injected", self.case));
        }
        if &self.stored != all {
            failures.push(format!("{}: stored {:?}", self.case, self.stored));
        }
        failures
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_third_of_five_alerts_throttled_is_a_503_and_the_resend_stores_all_five_once() {
    let proxy = Proxy::start(endpoint()).await;
    let (app, direct) = behind(&proxy, |_| {}).await;
    let key = webhook(&direct, WebhookFormat::Alertmanager).await;
    let payload = notification(alerts("five", 5));
    proxy.add(Rule::new(Fault::Throttle, event_write(), When::Nth(3)));

    let first = deliver(&app, &webhook_path(&key), &payload).await;
    assert_eq!(assert_retryable(&first), "ERROR_THROTTLED");
    let after_first = stored(&direct).await;
    assert_eq!(after_first.len(), 2, "the two before the throttled one: {after_first:?}");
    let (status, _, body) = deliver(&app, &webhook_path(&key), &payload).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<String> = (0..5).map(|i| format!("five-{i}@2026-11-22T15:54:45Z")).collect();
    assert_eq!(stored(&direct).await, once_each(&names.iter().map(String::as_str).collect::<Vec<_>>()));
    assert!(proxy.injected(Fault::Throttle) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_any_write_never_stores_twice_nor_blocks_the_resend() {
    let payload = notification(vec![alert("a", "2026-11-22T15:54:45Z"), alert("b", "2026-11-22T15:54:45Z")]);
    let all = once_each(&["a@2026-11-22T15:54:45Z", "b@2026-11-22T15:54:45Z"]);
    let mut runs = tokio::task::JoinSet::new();
    for (kind, target) in [
        ("claim put", claim_write()),
        ("event put", event_write()),
        ("alert transaction", alert_transaction()),
        ("claim completion", claim_completion()),
    ] {
        for first_attempt_only in [true, false] {
            let (payload, target) = (payload.clone(), target.clone());
            runs.spawn(async move {
                let proxy = Proxy::start(endpoint()).await;
                let (app, direct) = behind(&proxy, |_| {}).await;
                let key = webhook(&direct, WebhookFormat::Alertmanager).await;
                let rule = Rule::new(Fault::DropResponse, target, When::Nth(2));
                proxy.add(if first_attempt_only { rule.first_attempt_only() } else { rule });
                let first = deliver(&app, &webhook_path(&key), &payload).await;
                let resend = deliver(&app, &webhook_path(&key), &payload).await;
                let case = format!("{kind}, lost on the first attempt only: {first_attempt_only}");
                Run {
                    case,
                    first,
                    resend,
                    injected: proxy.injected(Fault::DropResponse),
                    stored: stored(&direct).await,
                }
            });
        }
    }
    let mut failures = Vec::new();
    while let Some(run) = runs.join_next().await {
        failures.extend(run.unwrap().check(None, &all));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_dynamodb_is_a_503_within_the_storage_timeouts() {
    let proxy = Proxy::start(endpoint()).await;
    let (app, direct) = behind(&proxy, |c| {
        c.storage_attempt_timeout_ms = 300;
        c.storage_operation_timeout_ms = 1_000;
    })
    .await;
    let key = webhook(&direct, WebhookFormat::Alertmanager).await;
    let payload = notification(alerts("hung", 3));
    let bound = Duration::from_millis(1_000 + 1_500);

    // Everything hangs: the webhook lookup already times out.
    proxy.add(Rule::new(Fault::Hang, Target::any(), When::Always));
    let started = Instant::now();
    let answer = deliver(&app, &webhook_path(&key), &payload).await;
    assert_eq!(assert_retryable(&answer), "ERROR_STORAGE_UNAVAILABLE");
    assert!(started.elapsed() < bound, "answered after {:?}", started.elapsed());
    proxy.clear();

    // Only the second event write hangs: the claim is given back, the resend stores it.
    proxy.add(Rule::new(Fault::Hang, event_write(), When::Nth(2)));
    let started = Instant::now();
    let answer = deliver(&app, &webhook_path(&key), &payload).await;
    assert_eq!(assert_retryable(&answer), "ERROR_STORAGE_UNAVAILABLE");
    assert!(started.elapsed() < bound + Duration::from_secs(1), "answered after {:?}", started.elapsed());
    let (status, _, body) = deliver(&app, &webhook_path(&key), &payload).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<String> = (0..3).map(|i| format!("hung-{i}@2026-11-22T15:54:45Z")).collect();
    assert_eq!(stored(&direct).await, once_each(&names.iter().map(String::as_str).collect::<Vec<_>>()));
    assert!(proxy.injected(Fault::Hang) >= 2);
}
