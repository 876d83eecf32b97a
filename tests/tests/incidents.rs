//! Incidents over time, through real API Gateway events on DynamoDB Local: a repeat
//! incident that sends the very same bytes is stored (a body's hash identifies a
//! redelivery only while its key's alert stands as that body left it), and an ALERT
//! that arrives after its own RECOVERY joins the resolved alert instead of opening one
//! that nothing would ever resolve.

use e2e::*;
use event_core::model::{AlertState, Event, WebhookFormat};
use event_core::service::App;
use event_core::store::AlertScope;
use serde_json::json;

async fn deliver(app: &App, key: &event_core::service::webhooks::IssuedKey, body: &str) {
    let req = ApiEvent::new(Gateway::Rest, "create").route("POST", &webhook_path(key)).body(body).request();
    let (status, answer) = parts(event_create::handle(app, req).await);
    assert_eq!(status, 200, "{answer}");
}

async fn stored(app: &App) -> Vec<Event> {
    events_oldest_first(app).await
}

async fn alert_state(app: &App, alert_id: &str) -> AlertState {
    app.store.get_alert(&trusted(DOMAIN), alert_id).await.unwrap().expect("the event's alert exists").state
}

async fn open_alert_of(app: &App, event: &Event) -> Option<String> {
    let scope = AlertScope {
        domain_id: &event.domain_id,
        workspace_id: &event.workspace_id,
        project_id: &event.project_id,
        event_key: &event.event_key,
    };
    app.store.key_state(&scope).await.unwrap().open
}

#[tokio::test]
async fn the_same_alert_body_after_its_recovery_is_a_new_incident() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let alert = json!({"title": "db down", "event_key": "db-1", "severity": "CRITICAL"}).to_string();
    let recovery =
        json!({"title": "db down", "event_key": "db-1", "severity": "CRITICAL", "event_type": "RECOVERY"})
            .to_string();
    for body in [&alert, &recovery, &alert] {
        deliver(&app, &key, body).await;
        // The sender's retry of the very same delivery is no new incident.
        deliver(&app, &key, body).await;
    }
    let events = stored(&app).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ALERT", "RECOVERY", "ALERT"], "the second outage is stored, each once");
    assert_eq!(events[0].alert_id, events[1].alert_id);
    assert_ne!(events[2].alert_id, events[0].alert_id, "the repeat opens a new alert");
    assert_eq!(alert_state(&app, &events[0].alert_id).await, AlertState::Resolved);
    assert_eq!(alert_state(&app, &events[2].alert_id).await, AlertState::Triggered);
    assert_eq!(open_alert_of(&app, &events[2]).await.as_deref(), Some(events[2].alert_id.as_str()));
}

#[tokio::test]
async fn grafana_legacy_no_data_then_ok_twice_stores_four_events() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Grafana).await;
    let (no_data, ok) = (fixture("grafana/legacy-no-data.json"), fixture("grafana/legacy-ok.json"));
    for body in [&no_data, &ok, &no_data, &ok] {
        deliver(&app, &key, body).await;
        deliver(&app, &key, body).await;
    }
    let events = stored(&app).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ALERT", "RECOVERY", "ALERT", "RECOVERY"]);
    assert_eq!(events[2].alert_id, events[3].alert_id);
    assert_ne!(events[0].alert_id, events[2].alert_id);
    for event in &events {
        assert_eq!(alert_state(&app, &event.alert_id).await, AlertState::Resolved);
    }
    assert_eq!(open_alert_of(&app, &events[3]).await, None);
}

#[tokio::test]
async fn past_the_body_window_the_same_body_is_stored_again() {
    let app = app_with(|config| config.body_dedup_window_minutes = 0).await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let body = json!({"title": "cpu high", "event_key": "cpu-1"}).to_string();
    deliver(&app, &key, &body).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    deliver(&app, &key, &body).await;
    let events = stored(&app).await;
    assert_eq!(events.len(), 2, "a body identity lasts no longer than its window");
    assert_eq!(events[0].alert_id, events[1].alert_id, "both join the one open alert");
}

#[tokio::test]
async fn an_alertmanager_alert_after_its_own_resolution_leaves_no_alert_open() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Alertmanager).await;
    // The resolved notification overtakes the firing one (an HA peer, a retry).
    deliver(&app, &key, &fixture("alertmanager/resolved-single.json")).await;
    deliver(&app, &key, &fixture("alertmanager/firing-single-critical.json")).await;
    let events = stored(&app).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["RECOVERY", "ALERT"]);
    let late = &events[1];
    assert_eq!(open_alert_of(&app, late).await, None, "nothing is left open");
    assert!(!late.alert_id.is_empty(), "the late ALERT still has its alert, for the history");
    let alert = app.store.get_alert(&trusted(DOMAIN), &late.alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state, AlertState::Resolved);
    assert_eq!(alert.resolved_at, events[0].occurred_at, "resolved when its RECOVERY happened");

    // A warning that fired later than that resolution is a new incident.
    let mut later: serde_json::Value =
        serde_json::from_str(&fixture("alertmanager/firing-single-critical.json")).unwrap();
    later["alerts"][0]["startsAt"] = json!("2026-11-22T16:30:00Z");
    deliver(&app, &key, &later.to_string()).await;
    let events = stored(&app).await;
    assert_eq!(events.len(), 3);
    assert_eq!(open_alert_of(&app, &events[2]).await.as_deref(), Some(events[2].alert_id.as_str()));
    assert_ne!(events[2].alert_id, late.alert_id);
}

#[tokio::test]
async fn a_late_alert_joins_the_alert_its_recovery_resolved() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let report = |event_type: &str, minute: u32, description: &str| {
        json!({"title": "disk", "event_key": "disk-9", "event_type": event_type, "description": description,
               "occurred_at": format!("2026-11-30T08:{minute:02}:00Z")})
        .to_string()
    };
    deliver(&app, &key, &report("ALERT", 0, "90%")).await;
    deliver(&app, &key, &report("RECOVERY", 20, "40%")).await;
    // Sent at 08:10 and delayed past the recovery.
    deliver(&app, &key, &report("ALERT", 10, "95%")).await;
    let events = stored(&app).await;
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.alert_id == events[0].alert_id), "one incident, one alert");
    assert_eq!(alert_state(&app, &events[0].alert_id).await, AlertState::Resolved);
    assert_eq!(open_alert_of(&app, &events[2]).await, None);
}
