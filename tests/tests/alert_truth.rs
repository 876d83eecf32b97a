//! Alert truth: the open or resolved state people act on, through real API Gateway events
//! on DynamoDB Local, with a fault-injecting proxy where a failure between two writes is
//! the point. Each test is one way the state derived from the events went wrong for good
//! (issue 18): repeats that did not refresh, a failure between two writes, a clock ahead,
//! a join racing a resolution, a stale sweep, a forgotten resolution, one constant
//! `Idempotency-Key`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use e2e::faults::{behind, Fault, Proxy, Rule, Target, When};
use e2e::*;
use event_core::model::{format_time, AlertState, Event, WebhookFormat};
use event_core::service::sweep::sweep_expired_alerts;
use event_core::service::webhooks::{IssuedKey, NewWebhook};
use event_core::service::App;
use serde_json::{json, Value};

/// Status and body of one delivery to `key`'s webhook, with `headers`.
async fn post_with(app: &App, key: &IssuedKey, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = ApiEvent::new(Gateway::Rest, "create").route("POST", &webhook_path(key)).body(body);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    parts(event_create::handle(app, req.request()).await)
}

async fn post(app: &App, key: &IssuedKey, body: &str) -> u16 {
    post_with(app, key, body, &[]).await.0
}

/// Delivers like a sender that retries every 503 until it is answered 200.
async fn deliver(app: &App, key: &IssuedKey, body: &str) -> usize {
    for attempt in 0.. {
        let (status, answer) = post_with(app, key, body, &[]).await;
        match status {
            200 => return attempt,
            503 => tokio::time::sleep(Duration::from_millis(50)).await,
            _ => panic!("{status} {answer}"),
        }
    }
    unreachable!()
}

async fn active_ids(app: &App) -> Vec<String> {
    aom_alarms(app, "active_alert").await.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect()
}

async fn stored(app: &App) -> Vec<Event> {
    events_oldest_first(app).await
}

async fn state_of(app: &App, alert_id: &str) -> AlertState {
    app.store.get_alert(&trusted(DOMAIN), alert_id).await.unwrap().expect("the alert exists").state
}

fn standard(event_type: &str, occurred_at: Option<String>) -> String {
    let mut body =
        json!({"title": "db down", "event_key": "db-1", "severity": "CRITICAL", "event_type": event_type});
    if let Some(at) = occurred_at {
        body["occurred_at"] = json!(at);
    }
    body.to_string()
}

async fn auto_resolving(app: &App, seconds: u64) -> IssuedKey {
    let new = NewWebhook {
        auto_resolve_after_seconds: Some(seconds),
        ..new_webhook(WebhookFormat::Standard, DOMAIN, PROJECT)
    };
    webhook_from(app, new).await
}

/// A service whose DynamoDB calls pass a fresh proxy, and the same service direct.
async fn proxied() -> (Arc<Proxy>, App, App) {
    let proxy = Arc::new(Proxy::start(endpoint()).await);
    let (app, direct) = behind(&proxy, |_| {}).await;
    (proxy, app, direct)
}

async fn sleep_until(at: Instant) {
    tokio::time::sleep(at.saturating_duration_since(Instant::now())).await;
}

#[tokio::test]
async fn an_aom_re_report_within_its_timeout_keeps_the_alarm_alive() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Aom).await;
    let mut report: Value = serde_json::from_str(&fixture("aom/report-alarm.json")).unwrap();
    report["events"][0]["timeout"] = json!(4000);
    let first = Instant::now();
    assert_eq!(post(&app, &key, &report.to_string()).await, 200);
    sleep_until(first + Duration::from_secs(2)).await;
    assert_eq!(post(&app, &key, &report.to_string()).await, 200, "AOM re-reports the active alarm");
    sleep_until(first + Duration::from_secs(5)).await;
    assert_eq!(active_ids(&app).await.len(), 1, "re-reported 3 s ago with a 4 s timeout: still active");
    assert_eq!(stored(&app).await.len(), 1, "the re-report is no second event");
}

#[tokio::test]
async fn a_repeat_on_an_auto_resolving_webhook_refreshes_its_alert_and_after_expiry_opens_a_new_one() {
    let app = app().await;
    let key = auto_resolving(&app, 3).await;
    let body = standard("ALERT", None);
    let first = Instant::now();
    assert_eq!(post(&app, &key, &body).await, 200);
    let opened = stored(&app).await[0].alert_id.clone();
    sleep_until(first + Duration::from_secs(2)).await;
    assert_eq!(post(&app, &key, &body).await, 200, "the sender repeats: still firing");
    sleep_until(first + Duration::from_millis(4000)).await;
    assert_eq!(state_of(&app, &opened).await, AlertState::Triggered, "the repeat moved its time on");
    assert_eq!(stored(&app).await.len(), 1, "a repeat of an open alert is no second event");

    // Past its auto-resolve time, before any sweep: the same bytes are a new occurrence.
    sleep_until(first + Duration::from_millis(5500)).await;
    assert_eq!(state_of(&app, &opened).await, AlertState::Resolved);
    assert_eq!(post(&app, &key, &body).await, 200);
    let events = stored(&app).await;
    assert_eq!(events.len(), 2, "stored: the answer 200 means it");
    assert_ne!(events[1].alert_id, opened, "a new alert");
    assert_eq!(active_ids(&app).await, [events[1].alert_id.clone()]);
}

#[tokio::test]
async fn a_failure_on_either_write_of_an_opening_leaves_exactly_one_alarm() {
    for (name, target) in [
        ("marker put", Target::op("PutItem").containing("open_alert_id")),
        ("alert put", Target::op("PutItem").containing("\"urgency\"")),
    ] {
        for fault in [Fault::Throttle, Fault::ServerError, Fault::DropRequest, Fault::DropResponse] {
            let (proxy, app, direct) = proxied().await;
            let key = webhook(&direct, WebhookFormat::Standard).await;
            proxy.add(Rule::new(fault, target.clone(), When::Nth(1)));
            let retries = deliver(&app, &key, &standard("ALERT", None)).await;
            let case = format!("{fault:?} on the {name}, {retries} retries");
            let events = stored(&direct).await;
            assert_eq!(events.len(), 1, "{case}");
            assert_eq!(
                active_ids(&direct).await,
                [events[0].alert_id.clone()],
                "{case}: one alarm, the event's"
            );
            deliver(&app, &key, &standard("RECOVERY", None)).await;
            assert_eq!(active_ids(&direct).await, Vec::<String>::new(), "{case}: its RECOVERY reaches it");
        }
    }
}

#[tokio::test]
async fn a_recovery_stamped_ahead_of_the_clock_does_not_veto_the_next_incident() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let now = Utc::now();
    assert_eq!(post(&app, &key, &standard("ALERT", Some(format_time(now)))).await, 200);
    let ahead = format_time(now + chrono::Duration::minutes(10));
    assert_eq!(post(&app, &key, &standard("RECOVERY", Some(ahead))).await, 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let later = format_time(Utc::now());
    let body = json!({"title": "db down again", "event_key": "db-1", "occurred_at": later}).to_string();
    assert_eq!(post(&app, &key, &body).await, 200);
    let events = stored(&app).await;
    assert_ne!(events[2].alert_id, events[0].alert_id, "a new incident, not a late copy of the old one");
    assert_eq!(active_ids(&app).await, [events[2].alert_id.clone()]);
    assert!(events[1].occurred_at.as_str() > later.as_str(), "the RECOVERY keeps its sender's time");
}

#[tokio::test]
async fn a_resolve_whose_second_write_failed_is_repaired_by_the_next_alert() {
    let (proxy, app, direct) = proxied().await;
    let key = webhook(&direct, WebhookFormat::Standard).await;
    assert_eq!(post(&app, &key, &standard("ALERT", None)).await, 200);
    // The key's marker update after the alert was written RESOLVED; the SDK's retries too.
    proxy.add(Rule::new(
        Fault::ServerError,
        Target::op("UpdateItem").containing("resolved_alert_id"),
        When::Nth(1),
    ));
    assert_eq!(post(&app, &key, &standard("RECOVERY", None)).await, 503);
    let first = stored(&direct).await[0].alert_id.clone();
    assert_eq!(state_of(&direct, &first).await, AlertState::Resolved);

    // The sender never retries that RECOVERY; the next incident must still be seen.
    let body = json!({"title": "db down again", "event_key": "db-1"}).to_string();
    assert_eq!(post(&app, &key, &body).await, 200);
    let events = stored(&direct).await;
    let again = events.iter().find(|e| e.title == "db down again").unwrap();
    assert_ne!(again.alert_id, first, "not joined to the resolved alert");
    assert_eq!(active_ids(&direct).await, vec![again.alert_id.clone()]);
}

#[tokio::test]
async fn a_join_racing_a_resolution_neither_joins_the_resolved_alert_nor_puts_it_back_for_the_sweep() {
    let (proxy, app, direct) = proxied().await;
    let key = auto_resolving(&direct, 2).await;
    assert_eq!(post(&direct, &key, &standard("ALERT", None)).await, 200);
    let first = stored(&direct).await[0].alert_id.clone();
    // The join's write is slow; the RECOVERY resolves the alert before it lands.
    let slow = Target::op("UpdateItem").containing("auto_resolve_at = :x");
    proxy.add(Rule::new(Fault::Delay(Duration::from_millis(1500)), slow, When::Nth(1)));
    let body = json!({"title": "db still down", "event_key": "db-1"}).to_string();
    let join = tokio::spawn({
        let (app, key, body) = (app.clone(), key.clone(), body.clone());
        async move { post(&app, &key, &body).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(post(&direct, &key, &standard("RECOVERY", None)).await, 200);
    assert_eq!(join.await.unwrap(), 200);
    let events = stored(&direct).await;
    let joined = events.iter().find(|e| e.title == "db still down").unwrap();
    assert_ne!(joined.alert_id, first, "decided after the RECOVERY: a new incident");
    assert_eq!(state_of(&direct, &first).await, AlertState::Resolved);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let waiting = direct.store.expired_alerts(Utc::now(), 1, 10).await.unwrap();
    assert!(
        waiting.iter().all(|a| a.alert_id != first),
        "the resolved alert is not back in the expiry index"
    );
}

#[tokio::test]
async fn the_sweep_leaves_an_alert_refreshed_after_it_read_the_index() {
    let (proxy, app, direct) = proxied().await;
    let key = auto_resolving(&direct, 3).await;
    assert_eq!(post(&direct, &key, &standard("ALERT", None)).await, 200);
    let alert_id = stored(&direct).await[0].alert_id.clone();
    // A sweep that sees the alert expired (its clock 5 s on stands for an index read that
    // is behind the item), whose write is slow; a join moves the time on meanwhile.
    proxy.add(Rule::new(Fault::Delay(Duration::from_millis(1500)), Target::op("UpdateItem"), When::Nth(1)));
    let sweep = tokio::spawn({
        let app = app.clone();
        async move { sweep_expired_alerts(&app, Utc::now() + chrono::Duration::seconds(5)).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    refresh_auto_resolve(&direct, &alert_id, &format_time(Utc::now() + chrono::Duration::hours(1))).await;
    assert_eq!(sweep.await.unwrap(), 0, "nothing resolved: the alert is no longer expired");
    assert_eq!(state_of(&direct, &alert_id).await, AlertState::Triggered);
}

/// Moves an open alert's auto-resolve time on, as a joining event would.
async fn refresh_auto_resolve(app: &App, alert_id: &str, at: &str) {
    app.store.join_alert(alert_id, &format_time(Utc::now()), Some(at)).await.unwrap();
}

#[tokio::test]
async fn a_second_recovery_keeps_which_alert_the_first_resolved_for_a_late_alert() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let t = |minutes: i64| Some(format_time(Utc::now() - chrono::Duration::minutes(60 - minutes)));
    assert_eq!(post(&app, &key, &standard("ALERT", t(0))).await, 200);
    assert_eq!(post(&app, &key, &standard("RECOVERY", t(20))).await, 200);
    let second =
        json!({"title": "db down", "event_key": "db-1", "event_type": "RECOVERY", "occurred_at": t(30)});
    assert_eq!(post(&app, &key, &second.to_string()).await, 200);
    let late = json!({"title": "db down (late)", "event_key": "db-1", "occurred_at": t(10)});
    assert_eq!(post(&app, &key, &late.to_string()).await, 200);
    let events = stored(&app).await;
    let late = events.iter().find(|e| e.title == "db down (late)").unwrap();
    assert_eq!(
        late.alert_id, events[0].alert_id,
        "the late ALERT belongs to the alert the first RECOVERY resolved"
    );
    assert!(active_ids(&app).await.is_empty());
    assert_eq!(aom_alarms(&app, "history_alert").await.len(), 1, "no second alert recorded for it");
}

#[tokio::test]
async fn one_idempotency_key_on_every_delivery_does_not_drop_the_later_ones() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let header = [("Idempotency-Key", "nagios")];
    let cpu = json!({"title": "cpu hot", "event_key": "cpu-1"}).to_string();
    let disk = json!({"title": "disk full", "event_key": "disk-1"}).to_string();
    assert_eq!(post_with(&app, &key, &cpu, &header).await.0, 200);
    assert_eq!(post_with(&app, &key, &cpu, &header).await.0, 200, "a true resend");
    assert_eq!(post_with(&app, &key, &disk, &header).await.0, 200);
    let titles: Vec<String> = stored(&app).await.into_iter().map(|e| e.title).collect();
    assert_eq!(titles, ["cpu hot", "disk full"], "the resend once, the other delivery stored");
}

#[tokio::test]
async fn a_recovery_between_the_two_writes_of_an_opening_leaves_no_alert_that_no_key_names() {
    let (proxy, app, direct) = proxied().await;
    let key = webhook(&direct, WebhookFormat::Standard).await;
    // The opening's alert put is slow: its key's marker already names the alert.
    let slow = Target::op("PutItem").containing("\"urgency\"");
    proxy.add(Rule::new(Fault::Delay(Duration::from_millis(1500)), slow, When::Nth(1)));
    let opening = tokio::spawn({
        let (app, key) = (app.clone(), key.clone());
        async move { post(&app, &key, &standard("ALERT", None)).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(post(&direct, &key, &standard("RECOVERY", None)).await, 200);
    assert_eq!(opening.await.unwrap(), 200);
    let events = stored(&direct).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].alert_id, events[1].alert_id, "the ALERT and its RECOVERY share one alert");
    assert_eq!(state_of(&direct, &events[0].alert_id).await, AlertState::Resolved);
    let again =
        json!({"title": "db down", "event_key": "db-1", "event_type": "RECOVERY", "description": "again"});
    assert_eq!(post(&direct, &key, &again.to_string()).await, 200);
    assert_eq!(active_ids(&direct).await, Vec::<String>::new(), "nothing is left open");
}

#[tokio::test]
async fn a_recovery_whose_event_write_failed_after_it_resolved_its_alert_is_linked_to_it_on_retry() {
    let (proxy, app, direct) = proxied().await;
    let key = webhook(&direct, WebhookFormat::Standard).await;
    assert_eq!(post(&direct, &key, &standard("ALERT", None)).await, 200);
    proxy.add(Rule::new(Fault::ServerError, Target::op("PutItem").containing("created_key"), When::Nth(1)));
    assert!(deliver(&app, &key, &standard("RECOVERY", None)).await > 0, "the first attempt failed");
    let events = stored(&direct).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].alert_id, events[0].alert_id, "the RECOVERY is its alert's");
    assert_eq!(state_of(&direct, &events[0].alert_id).await, AlertState::Resolved);
}

#[tokio::test]
async fn a_retry_after_the_alert_expired_of_a_delivery_whose_event_landed_is_not_stored_twice() {
    let (proxy, app, direct) = proxied().await;
    let key = auto_resolving(&direct, 1).await;
    // Every attempt of the event's put lands, and its answer is lost: 503, event stored.
    proxy.add(Rule::new(Fault::DropResponse, Target::op("PutItem").containing("created_key"), When::Nth(1)));
    assert_eq!(post(&app, &key, &standard("ALERT", None)).await, 503);
    assert_eq!(stored(&direct).await.len(), 1, "it landed");
    // The sender retries after the alert's auto-resolve time: still the same delivery.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(&app, &key, &standard("ALERT", None)).await, 200);
    assert_eq!(stored(&direct).await.len(), 1, "the retry stores nothing");
    // A repeat after that is a new occurrence again.
    assert_eq!(post(&app, &key, &standard("ALERT", None)).await, 200);
    assert_eq!(stored(&direct).await.len(), 2, "the next repeat of an expired alert is stored");
}
