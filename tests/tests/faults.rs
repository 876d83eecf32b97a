//! The webhook route under storage faults: a fault-injecting proxy between the create
//! function and DynamoDB Local. The promise under test: a 2xx means every event of the
//! payload is stored exactly once; any fault is a 503 with `Retry-After`, and resending
//! the same payload stores the rest, once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::faults::{behind, Fault, Proxy, Rule, Target, When};
use e2e::*;
use event_core::config::Config;
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

/// A create function whose DynamoDB calls go through a fresh proxy, on fresh tables, with
/// an Alertmanager webhook at `path`; `direct` reads the same tables past the proxy.
struct Stage {
    proxy: Arc<Proxy>,
    app: App,
    direct: App,
    path: String,
}

async fn stage(adjust: impl FnOnce(&mut Config)) -> Stage {
    let proxy = Arc::new(Proxy::start(endpoint()).await);
    let (app, direct) = behind(&proxy, adjust).await;
    let key = webhook(&direct, WebhookFormat::Alertmanager).await;
    Stage { proxy, app, direct, path: webhook_path(&key) }
}

impl Stage {
    async fn deliver(&self, body: &str) -> (u16, Option<String>, Value) {
        deliver(&self.app, &self.path, body).await
    }
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
    for event in direct.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap() {
        let info = &event.additional_info;
        let name = format!("{}@{}", info["fingerprint"], info["starts_at"]);
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

fn once_each<S: ToString>(names: impl IntoIterator<Item = S>) -> BTreeMap<String, usize> {
    names.into_iter().map(|n| (n.to_string(), 1)).collect()
}

/// Each of [`alerts`]`(tag, n)` stored once.
fn all_once(tag: &str, n: usize) -> BTreeMap<String, usize> {
    once_each((0..n).map(|i| format!("{tag}-{i}@2026-11-22T15:54:45Z")))
}

/// The writes of one delivery, as the proxy tells them apart.
fn claim_write() -> Target {
    Target::any().containing("claimed_at")
}
fn event_write() -> Target {
    Target::op("PutItem").containing("created_key")
}
fn alert_put() -> Target {
    Target::op("PutItem").containing("\"urgency\"")
}
fn alert_marker_put() -> Target {
    Target::op("PutItem").containing("open_alert_id")
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

/// Alert a opens an alert, b opens another, a again (a later start) joins a's: every
/// kind of write a delivery makes.
fn three_alerts() -> (String, BTreeMap<String, usize>) {
    let payload = notification(vec![
        alert("a", "2026-11-22T15:54:45Z"),
        alert("b", "2026-11-22T15:54:45Z"),
        alert("a", "2026-11-22T16:10:00Z"),
    ]);
    (payload, once_each(["a@2026-11-22T15:54:45Z", "b@2026-11-22T15:54:45Z", "a@2026-11-22T16:10:00Z"]))
}

/// The writes of a three-alert delivery, and which of each kind to fail.
fn write_kinds() -> [(&'static str, Target, usize); 4] {
    [
        ("claim put", claim_write(), 2),
        ("event put", event_write(), 2),
        ("alert put", alert_put(), 2),
        ("alert marker put", alert_marker_put(), 2),
    ]
}

/// Delivers `payload` once under `rule` on fresh tables, then resends it.
async fn under(case: String, payload: String, rule: Rule) -> Run {
    let s = stage(|_| {}).await;
    let fault = rule.fault();
    s.proxy.add(rule);
    let first = s.deliver(&payload).await;
    let resend = s.deliver(&payload).await;
    Run { case, first, resend, injected: s.proxy.injected(fault), stored: stored(&s.direct).await }
}

/// Runs every case at once; asserts on all their failures together.
async fn run_all(cases: Vec<(String, Rule, Option<&'static str>)>) {
    let (payload, all) = three_alerts();
    let mut runs = tokio::task::JoinSet::new();
    for (case, rule, code) in cases {
        let payload = payload.clone();
        runs.spawn(async move { (under(case, payload, rule).await, code) });
    }
    let (mut failures, mut faulted, mut cases) = (Vec::new(), 0, 0);
    while let Some(run) = runs.join_next().await {
        let (run, code) = run.unwrap();
        failures.extend(run.check(code, &all));
        (faulted, cases) = (faulted + run.injected, cases + 1);
    }
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("{cases} cases, {faulted} requests faulted, every alert stored once in each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_or_failed_write_of_any_kind_is_a_503_and_the_resend_stores_the_rest_once() {
    let mut cases = Vec::new();
    for (kind, target, nth) in write_kinds() {
        for (fault, code) in
            [(Fault::Throttle, "ERROR_THROTTLED"), (Fault::ServerError, "ERROR_STORAGE_UNAVAILABLE")]
        {
            cases.push((
                format!("{kind}: {fault:?}"),
                Rule::new(fault, target.clone(), When::Nth(nth)),
                Some(code),
            ));
        }
    }
    run_all(cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_third_of_five_alerts_throttled_is_a_503_and_the_resend_stores_all_five_once() {
    let s = stage(|_| {}).await;
    let payload = notification(alerts("five", 5));
    s.proxy.add(Rule::new(Fault::Throttle, event_write(), When::Nth(3)));

    let first = s.deliver(&payload).await;
    assert_eq!(assert_retryable(&first), "ERROR_THROTTLED");
    // One alert's failure does not stop the others': all but the throttled one are in.
    let after_first = stored(&s.direct).await;
    assert_eq!(after_first.len(), 4, "every alert but the throttled one: {after_first:?}");
    let (status, _, body) = s.deliver(&payload).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored(&s.direct).await, all_once("five", 5));
    assert!(s.proxy.injected(Fault::Throttle) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_or_answer_lost_on_any_write_never_stores_twice_nor_blocks_the_resend() {
    let mut cases = Vec::new();
    for (kind, target, nth) in write_kinds() {
        for fault in [Fault::DropRequest, Fault::DropResponse] {
            for first_attempt_only in [true, false] {
                let rule = Rule::new(fault, target.clone(), When::Nth(nth));
                let rule = if first_attempt_only { rule.first_attempt_only() } else { rule };
                let case = format!("{kind}: {fault:?}, on the first attempt only: {first_attempt_only}");
                cases.push((case, rule, None));
            }
        }
    }
    run_all(cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_dynamodb_is_a_503_within_the_storage_timeouts() {
    let s = stage(|c| {
        c.storage_attempt_timeout_ms = 300;
        c.storage_operation_timeout_ms = 1_000;
    })
    .await;
    let payload = notification(alerts("hung", 3));
    let bound = Duration::from_millis(1_000 + 1_500);

    // Everything hangs: the webhook lookup already times out.
    s.proxy.add(Rule::new(Fault::Hang, Target::any(), When::Always));
    let started = Instant::now();
    let answer = s.deliver(&payload).await;
    assert_eq!(assert_retryable(&answer), "ERROR_STORAGE_UNAVAILABLE");
    assert!(started.elapsed() < bound, "answered after {:?}", started.elapsed());
    s.proxy.clear();

    // Only the second event write hangs: the claim is given back, the resend stores it.
    s.proxy.add(Rule::new(Fault::Hang, event_write(), When::Nth(2)));
    let started = Instant::now();
    let answer = s.deliver(&payload).await;
    assert_eq!(assert_retryable(&answer), "ERROR_STORAGE_UNAVAILABLE");
    assert!(started.elapsed() < bound + Duration::from_secs(1), "answered after {:?}", started.elapsed());
    let (status, _, body) = s.deliver(&payload).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored(&s.direct).await, all_once("hung", 3));
    assert!(s.proxy.injected(Fault::Hang) >= 2);
}

/// How many events of the test domain the list route counts under `filter`.
async fn listed(app: &App, filter: Value) -> u64 {
    let body = json!({"query": {"filter": [filter], "count_only": true}, "domain_id": DOMAIN});
    let req = ApiEvent::new(Gateway::Http, "list")
        .route("POST", "/monitoring/v1/event/list")
        .body(&body.to_string());
    let (status, body) = parts(event_list::handle(app, req.request()).await);
    assert_eq!(status, 200, "{body}");
    body["total_count"].as_u64().unwrap()
}

/// One flush of Alertmanager lasts at least this long (its minimum notify timeout).
const FLUSH: Duration = Duration::from_secs(10);
/// Between flushes of one group: `group_interval`, 5 minutes by default, shortened.
const GROUP_INTERVAL: Duration = Duration::from_secs(1);

/// Alertmanager's webhook notifier on a shorter clock: within a flush, a 5xx is retried
/// with exponential backoff (0.5 s, ×1.5, at most 5 s) until the flush's deadline; a 4xx
/// ends the flush; the next flush sends the group again. Every answer, until a 2xx or
/// `until`.
async fn alertmanager(app: &App, path: &str, body: &str, until: Instant) -> Vec<u16> {
    let mut answers = Vec::new();
    while Instant::now() < until {
        let flush_end = Instant::now() + FLUSH;
        let mut backoff = Duration::from_millis(500);
        loop {
            let (status, _, _) = deliver(app, path, body).await;
            answers.push(status);
            if status < 300 {
                return answers;
            }
            if status < 500 || Instant::now() + backoff > flush_end {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 3 / 2).min(Duration::from_secs(5));
        }
        tokio::time::sleep(GROUP_INTERVAL).await;
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_killed_mid_delivery_then_restarted_loses_nothing_and_stores_nothing_twice() {
    let started = Instant::now();
    let Stage { proxy, app, direct, path } = stage(|c| {
        c.storage_attempt_timeout_ms = 1_000;
        c.storage_operation_timeout_ms = 3_000;
    })
    .await;
    // Flushes go on as long as Alertmanager's would; on a loaded machine the resends
    // need more of them.
    let until = Instant::now() + Duration::from_secs(180);

    // DynamoDB goes away as the 121st event write arrives, and is back 6 s later: after
    // that write's retries (3 s) and its claim's release (2 s) gave up, so the claim
    // stays held.
    proxy.add(Rule::new(Fault::Kill, event_write(), When::Nth(121)));
    let outage = tokio::spawn({
        let proxy = proxy.clone();
        async move {
            while proxy.kills() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let killed = Instant::now();
            tokio::time::sleep(Duration::from_secs(6)).await;
            proxy.restart().await;
            killed
        }
    });
    // Other groups keep notifying meanwhile, one alert each; every one answered 2xx must
    // be readable at once.
    let others = tokio::spawn({
        let (app, direct, path) = (app.clone(), direct.clone(), path.clone());
        async move {
            let mut unreadable = Vec::new();
            let mut answered = 0;
            for i in 0..20 {
                let fingerprint = format!("small-{i}");
                let body = notification(vec![alert(&fingerprint, "2026-11-22T15:54:45Z")]);
                let answers = alertmanager(&app, &path, &body, until).await;
                if answers.last() == Some(&200) {
                    answered += 1;
                    let found =
                        listed(&direct, json!({"k": "additional_info.fingerprint", "v": fingerprint})).await;
                    if found != 1 {
                        unreadable.push(format!("{fingerprint}: {found} after {answers:?}"));
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            (answered, unreadable)
        }
    });

    let answers = alertmanager(&app, &path, &notification(alerts("big", 300)), until).await;
    let accepted = Instant::now();
    assert_eq!(answers.last(), Some(&200), "the 300-alert group was never accepted: {answers:?}");
    let big = json!({"k": "additional_info.fingerprint", "v": "big-", "o": "contain"});
    assert_eq!(listed(&direct, big).await, 300, "a 2xx means all 300 are readable");
    let killed = outage.await.unwrap();
    // The claim held when DynamoDB went away blocks the resends until it is stale, no
    // longer than the function's timeout; then the rest of the group takes seconds.
    let blocked = accepted - killed;
    let bound = Duration::from_secs(function_timeout_secs() as u64 + 20);
    assert!(blocked < bound, "accepted {blocked:?} after the outage began");
    let (answered, unreadable) = others.await.unwrap();
    assert!(unreadable.is_empty(), "answered 2xx but not readable: {unreadable:?}");

    assert!(answers.iter().all(|s| *s == 200 || *s == 503), "only 200 and 503: {answers:?}");
    assert!(answers.len() > 1, "the outage hit the delivery: {answers:?}");
    assert_eq!((proxy.kills(), proxy.injected(Fault::Kill)), (1, 1));
    let stored = stored(&direct).await;
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let big_stored = stored.keys().filter(|k| k.starts_with("big-")).count();
    assert_eq!((big_stored, stored.len() - big_stored), (300, answered), "every alert once, nothing else");
    eprintln!(
        "300-alert group: {} attempts ({answers:?}), accepted {blocked:?} after the outage began; \
         {answered} other groups accepted; {:?} in all",
        answers.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_storm_answers_only_503_while_it_lasts_then_every_alert_once() {
    let s = stage(|_| {}).await;
    let payload = notification(alerts("storm", 20));
    // Every write of the table is throttled for 4 s, as when a burst exceeds its capacity.
    let writes = ["PutItem", "UpdateItem", "TransactWriteItems"];
    let calm = Instant::now() + Duration::from_secs(4);
    for op in writes {
        s.proxy.add(Rule::new(Fault::Throttle, Target::op(op), When::Until(calm)));
    }
    let answers = alertmanager(&s.app, &s.path, &payload, Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(answers.last(), Some(&200), "{answers:?}");
    assert!(answers[..answers.len() - 1].iter().all(|status| *status == 503), "{answers:?}");
    assert!(answers.len() > 1 && s.proxy.injected(Fault::Throttle) > 0, "{answers:?}");
    assert_eq!(stored(&s.direct).await, all_once("storm", 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_too_long_for_its_time_answers_503_in_time_and_the_resends_finish_it() {
    let s = stage(|c| c.delivery_budget_seconds = 1).await;
    // A slow DynamoDB: each event write takes 500 ms, so 80 alerts need over 2 s even
    // written 16 keys at a time.
    s.proxy.add(Rule::new(Fault::Delay(Duration::from_millis(500)), event_write(), When::Always));
    let payload = notification(alerts("slow", 80));
    let mut answers = Vec::new();
    loop {
        let started = Instant::now();
        let answer = s.deliver(&payload).await;
        let took = started.elapsed();
        answers.push((answer.0, took));
        // The budget (1 s), the writes under way cut off 4 s past it at the latest,
        // their claims given back (2 s at most), and the machine's slack (2 s): an answer
        // after that would be one that waited for more than the writes under way.
        assert!(
            took < Duration::from_secs(1 + 4 + 2 + 2),
            "an answer later than the budget and the cut-off of the writes under way allow: {answers:?}"
        );
        if answer.0 == 200 {
            break;
        }
        assert_eq!(assert_retryable(&answer), "ERROR_IN_PROGRESS");
        assert!(answers.len() < 20, "no progress: {answers:?}");
    }
    assert!(answers.len() > 1, "{answers:?}");
    assert_eq!(stored(&s.direct).await, all_once("slow", 80));
    assert!(s.proxy.injected(Fault::Delay(Duration::from_millis(500))) >= 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_resend_of_a_big_group_goes_on_where_the_last_stopped_however_slow_a_recheck_is() {
    let s = stage(|c| c.delivery_budget_seconds = 1).await;
    // Each event write takes 300 ms, so 80 alerts cannot be stored in the 1 s budget; and
    // the read that tells a claimed change stored takes 2 s, longer than the budget: a
    // resend that re-checked its stored changes one by one, first, would never get past
    // them.
    s.proxy.add(Rule::new(Fault::Delay(Duration::from_millis(300)), event_write(), When::Always));
    let recheck = Target::op("GetItem").containing("\"#y\":\"event_type\"");
    s.proxy.add(Rule::new(Fault::Delay(Duration::from_secs(2)), recheck, When::Always));
    let payload = notification(alerts("resumed", 80));
    let mut progress = Vec::new();
    loop {
        let answer = s.deliver(&payload).await;
        progress.push(stored(&s.direct).await.len());
        if answer.0 == 200 {
            break;
        }
        assert_eq!(assert_retryable(&answer), "ERROR_IN_PROGRESS");
        let before = progress.len().checked_sub(2).map_or(0, |i| progress[i]);
        assert!(progress[progress.len() - 1] > before, "a resend stored nothing new: {progress:?}");
    }
    assert!(progress.len() > 1, "the budget cut the first delivery short: {progress:?}");
    assert_eq!(stored(&s.direct).await, all_once("resumed", 80));
    // The stored changes were found by the bulk read, not one slow re-check each.
    assert_eq!(s.proxy.injected(Fault::Delay(Duration::from_secs(2))), 0, "{progress:?}");
    eprintln!("80 alerts stored after each attempt: {progress:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_read_of_what_is_stored_that_fails_only_loses_its_shortcut() {
    let s = stage(|_| {}).await;
    // Every BatchGetItem fails: a big group's delivery cannot learn in bulk which of its
    // changes are stored, and claims each one instead.
    s.proxy.add(Rule::new(Fault::ServerError, Target::op("BatchGetItem"), When::Always));
    let payload = notification(alerts("unread", 20));
    assert_eq!(s.deliver(&payload).await.0, 200);
    assert_eq!(s.deliver(&payload).await.0, 200, "the resend is a redelivery, found by its claims");
    assert!(s.proxy.injected(Fault::ServerError) >= 2, "both deliveries tried the bulk read");
    assert_eq!(stored(&s.direct).await, all_once("unread", 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_still_going_when_the_budget_ends_is_cut_off_its_claim_given_back_and_the_resend_stores_it_once(
) {
    // Storage timeouts longer than the write, so only the delivery's own cut-off (4 s
    // past the budget) can end it.
    let s = stage(|c| {
        c.delivery_budget_seconds = 1;
        c.storage_attempt_timeout_ms = 30_000;
        c.storage_operation_timeout_ms = 30_000;
    })
    .await;
    s.proxy.add(Rule::new(Fault::Delay(Duration::from_secs(10)), event_write(), When::Nth(1)));
    let payload = notification(alerts("cut", 1));
    let started = Instant::now();
    let first = s.deliver(&payload).await;
    let took = started.elapsed();
    assert_eq!(assert_retryable(&first), "ERROR_IN_PROGRESS");
    assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(8), "{took:?}");
    // The claim was given back: the resend need not wait for it to go stale (29 s).
    let resent = Instant::now();
    assert_eq!(s.deliver(&payload).await.0, 200);
    assert!(resent.elapsed() < Duration::from_secs(8), "{:?}", resent.elapsed());
    // The cut-off write reaches DynamoDB after its 10 s all the same; it is the same event.
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(started.elapsed())).await;
    assert_eq!(stored(&s.direct).await, all_once("cut", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_count_that_fails_leaves_the_stored_delivery_answered_200() {
    let s = stage(|_| {}).await;
    let counting = event_core::service::webhooks::NewWebhook {
        count_requests: true,
        ..new_webhook(WebhookFormat::Alertmanager, DOMAIN, PROJECT)
    };
    let key = webhook_from(&s.direct, counting).await;
    // Every count of the webhook's deliveries fails: storage answers 500 to it.
    let count = Target::op("UpdateItem").containing("requests_total");
    s.proxy.add(Rule::new(Fault::ServerError, count, When::Always));
    let payload = notification(alerts("counted", 3));
    let (status, _, body) = deliver(&s.app, &webhook_path(&key), &payload).await;
    assert_eq!(status, 200, "the events are stored; a count is not the delivery's answer: {body}");
    assert_eq!(stored(&s.direct).await, all_once("counted", 3));
    assert!(s.proxy.injected(Fault::ServerError) >= 1, "the count was tried and failed");
}
