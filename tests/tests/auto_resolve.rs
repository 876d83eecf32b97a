//! Alerts that resolve by themselves: AOM's `timeout`, a webhook's
//! `auto_resolve_after`, the reads that see an expired alert RESOLVED at once, the next
//! event that opens a new alert, and the sweep that writes it down.

use std::time::{Duration, Instant};

use chrono::Utc;
use e2e::*;
use event_core::model::{AlertState, WebhookFormat};
use event_core::service::sweep::sweep_expired_alerts;
use event_core::service::App;
use event_core::store::EventRange;
use serde_json::{json, Value};

async fn post(app: &App, path: &str, body: &Value) -> u16 {
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(&body.to_string()).request();
    parts(event_create::handle(app, req).await).0
}

async fn alarms(app: &App, listing: &str) -> Vec<Value> {
    aom_alarms(app, listing).await
}

async fn alert_ids(app: &App) -> Vec<String> {
    let events = app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap();
    events.into_iter().rev().map(|e| e.alert_id).collect()
}

#[tokio::test]
async fn an_aom_alarm_past_its_timeout_is_resolved_for_every_reader_and_the_next_report_opens_anew() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Aom).await;
    let mut report: Value = serde_json::from_str(&fixture("aom/report-alarm.json")).unwrap();
    report["events"][0]["timeout"] = json!(1000);
    assert_eq!(post(&app, &webhook_path(&key), &report).await, 200);
    let first = alert_ids(&app).await.remove(0);
    assert_eq!(alarms(&app, "active_alert").await.len(), 1);
    let open = app.store.get_alert(&trusted(DOMAIN), &first).await.unwrap().unwrap();
    assert_eq!(open.state, AlertState::Triggered);

    tokio::time::sleep(Duration::from_millis(1300)).await;
    let expired = app.store.get_alert(&trusted(DOMAIN), &first).await.unwrap().unwrap();
    assert_eq!(expired.state, AlertState::Resolved, "no sweep has run: the read says so");
    assert_eq!(expired.resolved_at, open.auto_resolve_at, "resolved when its timeout ran out");
    assert!(alarms(&app, "active_alert").await.is_empty());
    let history = alarms(&app, "history_alert").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["ends_at"], json!(event_core::huawei::mapping::millis(&open.auto_resolve_at)));

    report["events"][0]["starts_at"] = json!(1605232502000_i64);
    assert_eq!(post(&app, &webhook_path(&key), &report).await, 200);
    let second = alert_ids(&app).await.remove(1);
    assert_ne!(second, first, "the report after expiry opens a new alert");
    let active = alarms(&app, "active_alert").await;
    assert_eq!((active.len(), active[0]["id"].clone()), (1, json!(second)));
    assert!(
        app.store.expired_alerts(Utc::now(), 1, 10).await.unwrap().is_empty(),
        "the old one is written down"
    );

    // Swept rather than found by the next report: the key remembers the expiry, but no
    // sender time with it, so a report that started long before is not "late" for it.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(sweep_expired_alerts(&app, Utc::now()).await.unwrap(), 1);
    report["events"][0]["starts_at"] = json!(1605232503000_i64);
    assert_eq!(post(&app, &webhook_path(&key), &report).await, 200);
    let third = alert_ids(&app).await.remove(2);
    assert!(third != first && third != second, "a new alert");
    assert_eq!(
        app.store.get_alert(&trusted(DOMAIN), &third).await.unwrap().unwrap().state,
        AlertState::Triggered
    );
}

#[tokio::test]
async fn a_webhooks_auto_resolve_after_moves_on_with_each_event_and_the_sweep_writes_it_down() {
    let app = app().await;
    let new = event_core::service::webhooks::NewWebhook {
        auto_resolve_after_seconds: Some(3),
        ..new_webhook(WebhookFormat::Standard, DOMAIN, PROJECT)
    };
    let key = webhook_from(&app, new).await;
    let plain = webhook(&app, WebhookFormat::Standard).await;
    let event =
        |description: &str| json!({"title": "disk full", "event_key": "disk-1", "description": description});
    assert_eq!(post(&app, &webhook_path(&plain), &json!({"title": "cpu", "event_key": "cpu-1"})).await, 200);
    let first = Instant::now();
    assert_eq!(post(&app, &webhook_path(&key), &event("91%")).await, 200);
    let (alert_id, plain_alert) = (alert_of(&app, "91%").await, alert_of(&app, "").await);

    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = Instant::now();
    assert_eq!(post(&app, &webhook_path(&key), &event("95%")).await, 200);
    assert_eq!(alert_of(&app, "95%").await, alert_id, "joins, and moves the time on");
    sleep_until(first + Duration::from_millis(3500)).await;
    assert_eq!(
        app.store.get_alert(&trusted(DOMAIN), &alert_id).await.unwrap().unwrap().state,
        AlertState::Triggered
    );

    sleep_until(second + Duration::from_millis(3500)).await;
    assert_eq!(
        app.store.get_alert(&trusted(DOMAIN), &alert_id).await.unwrap().unwrap().state,
        AlertState::Resolved
    );
    let waiting = app.store.expired_alerts(Utc::now(), 1, 10).await.unwrap();
    assert_eq!(waiting.iter().map(|a| a.alert_id.as_str()).collect::<Vec<_>>(), [alert_id.as_str()]);
    assert_eq!(sweep_expired_alerts(&app, Utc::now()).await.unwrap(), 1);
    assert_eq!(sweep_expired_alerts(&app, Utc::now()).await.unwrap(), 0, "written down once");
    assert_eq!(
        app.store.get_alert(&trusted(DOMAIN), &plain_alert).await.unwrap().unwrap().state,
        AlertState::Triggered,
        "no time set"
    );
    let history = alarms(&app, "history_alert").await;
    assert_eq!(history.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(), [json!(alert_id)]);

    assert_eq!(post(&app, &webhook_path(&key), &event("97%")).await, 200);
    assert_ne!(alert_of(&app, "97%").await, alert_id, "after the sweep, the key opens a new alert");
}

/// The alert of the event with this description.
async fn alert_of(app: &App, description: &str) -> String {
    let events = app.store.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap();
    events.into_iter().find(|e| e.description == description).expect("the event is stored").alert_id
}

async fn sleep_until(deadline: Instant) {
    tokio::time::sleep(deadline.saturating_duration_since(Instant::now())).await;
}

/// A key's alert opened by a webhook without an auto-resolve time gains one from an
/// event of a webhook with it (the join marks the key); past that time an event of the
/// first webhook, which carries none, still finds the alert expired and opens a new one.
#[tokio::test]
async fn an_alert_that_gains_an_auto_resolve_time_by_a_join_expires_for_every_webhook() {
    let app = app().await;
    let new = event_core::service::webhooks::NewWebhook {
        auto_resolve_after_seconds: Some(1),
        ..new_webhook(WebhookFormat::Standard, DOMAIN, PROJECT)
    };
    let timed = webhook_from(&app, new).await;
    let plain = webhook(&app, WebhookFormat::Standard).await;
    let event =
        |description: &str| json!({"title": "disk full", "event_key": "disk-2", "description": description});
    assert_eq!(post(&app, &webhook_path(&plain), &event("80%")).await, 200);
    let alert_id = alert_of(&app, "80%").await;
    assert_eq!(post(&app, &webhook_path(&timed), &event("85%")).await, 200);
    assert_eq!(alert_of(&app, "85%").await, alert_id, "joins, and gives the alert a time");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(&app, &webhook_path(&plain), &event("90%")).await, 200);
    assert_ne!(alert_of(&app, "90%").await, alert_id, "the expired alert is not joined");
    assert_eq!(
        app.store.get_alert(&trusted(DOMAIN), &alert_id).await.unwrap().unwrap().state,
        AlertState::Resolved
    );
    assert!(app.store.expired_alerts(Utc::now(), 1, 10).await.unwrap().is_empty(), "written down");
}
