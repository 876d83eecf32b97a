//! Heartbeats end to end: a webhook given a heartbeat through the Webhook API (seconds,
//! as the local stack allows), Alertmanager's payloads delivered through create, and the
//! sweep, on DynamoDB Local. Silence past the heartbeat opens a CRITICAL alert in the
//! webhook's project ("No deliveries from <webhook> for N seconds"); the next delivery
//! resolves it; a sweep run twice opens it once; a webhook without a heartbeat is never
//! tracked; a heartbeat under the configured least is a 400.

use std::time::Duration;

use chrono::Utc;
use e2e::*;
use event_core::api::Endpoint;
use event_core::model::{new_id, WebhookFormat};
use event_core::service::heartbeats::sweep_heartbeats;
use event_core::service::App;
use event_core::store::{EventRange, RawData};
use serde_json::{json, Value};

async fn webhooks_api(app: &App, endpoint: Endpoint, body: Value) -> (u16, Value) {
    let event =
        ApiEvent::new(Gateway::Http, "webhooks").route("POST", &endpoint.path(&[])).body(&body.to_string());
    parts(event_webhooks::handle(app, event.request()).await)
}

async fn deliver(app: &App, path: &str) {
    let body = fixture("alertmanager/firing-single-warning.json");
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(&body);
    let (status, answer) = parts(event_create::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
}

/// The heartbeat key's events, oldest first.
async fn heartbeat_events(app: &App, domain: &str, webhook_id: &str) -> Vec<event_core::model::Event> {
    let domain = trusted(domain);
    let mut events = app.store.query_events(&EventRange::domain(&domain)).await.unwrap();
    events.retain(|e| e.event_key == format!("heartbeat:{webhook_id}"));
    events.reverse();
    events
}

#[tokio::test]
async fn silence_past_the_heartbeat_opens_an_alert_and_the_next_delivery_resolves_it() {
    let app = app_with(|c| c.heartbeat_min_seconds = 1).await;
    let domain = new_id("domain");
    let create = json!({"name": "prometheus", "project_id": PROJECT, "domain_id": domain, "format": "alertmanager",
                        "heartbeat": "2s"});
    let (status, created) = webhooks_api(&app, Endpoint::WebhookCreate, create).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["heartbeat_seconds"], 2);
    let (id, key) = (created["webhook_id"].as_str().unwrap(), created["access_key"].as_str().unwrap());
    let path = Endpoint::WebhookEvents.path(&[id, key]);
    let quiet = webhook_in(&app, WebhookFormat::Alertmanager, &domain, PROJECT).await;

    deliver(&app, &path).await;
    assert_eq!(sweep_heartbeats(&app, Utc::now()).await.unwrap(), 0, "not due yet");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(sweep_heartbeats(&app, Utc::now()).await.unwrap(), 1);
    assert_eq!(sweep_heartbeats(&app, Utc::now()).await.unwrap(), 0, "missed once");
    let events = heartbeat_events(&app, &domain, id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let missed = &events[0];
    assert_eq!(missed.title, "No deliveries from prometheus for 2 seconds");
    assert_eq!((missed.severity.as_str(), missed.project_id.as_str()), ("CRITICAL", PROJECT));
    let alert = app.store.get_alert(&trusted(&domain), &missed.alert_id).await.unwrap().unwrap();
    assert_eq!((alert.state.as_str(), alert.severity.as_str()), ("TRIGGERED", "CRITICAL"));
    assert_eq!(alert.title, missed.title);

    // The next delivery (the very same notification again: a redelivery counts) resolves it.
    deliver(&app, &path).await;
    let events = heartbeat_events(&app, &domain, id).await;
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[1].event_type.as_str(), events[1].alert_id.as_str()),
        ("RECOVERY", missed.alert_id.as_str())
    );
    let alert = app.store.get_alert(&trusted(&domain), &missed.alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state.as_str(), "RESOLVED");
    deliver(&app, &path).await;
    assert_eq!(heartbeat_events(&app, &domain, id).await.len(), 2, "resolved once");

    // A webhook without a heartbeat is not tracked, however long it is silent.
    let (_, quiet_info) = webhooks_api(
        &app,
        Endpoint::WebhookGet,
        json!({"webhook_id": quiet.webhook.webhook_id, "domain_id": domain}),
    )
    .await;
    assert_eq!(quiet_info["heartbeat_seconds"], Value::Null);
    assert!(heartbeat_events(&app, &domain, &quiet.webhook.webhook_id).await.is_empty());

    // Disabled, its silence opens nothing.
    let disable = json!({"webhook_id": id, "domain_id": domain});
    assert_eq!(webhooks_api(&app, Endpoint::WebhookDisable, disable.clone()).await.0, 200);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(sweep_heartbeats(&app, Utc::now()).await.unwrap(), 0, "a disabled webhook");
    assert_eq!(heartbeat_events(&app, &domain, id).await.len(), 2);
    assert_eq!(webhooks_api(&app, Endpoint::WebhookEnable, disable).await.0, 200);

    // Turned off: no more alerts.
    let off = json!({"webhook_id": id, "domain_id": domain, "heartbeat": 0});
    let (status, updated) = webhooks_api(&app, Endpoint::WebhookUpdate, off).await;
    assert_eq!((status, updated["heartbeat_seconds"].clone()), (200, Value::Null), "{updated}");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(sweep_heartbeats(&app, Utc::now()).await.unwrap(), 0);
    let stored = app.store.get_event(&trusted(&domain), &missed.event_id, RawData::Skip).await.unwrap();
    assert!(stored.is_some());
}

#[tokio::test]
async fn a_heartbeat_shorter_than_the_least_allowed_is_a_400() {
    let app = app().await; // the default: a minute at least
    let domain = new_id("domain");
    for heartbeat in [json!("30s"), json!("5x"), json!(-1)] {
        let create = json!({"name": "p", "project_id": PROJECT, "domain_id": domain, "heartbeat": heartbeat});
        let (status, answer) = webhooks_api(&app, Endpoint::WebhookCreate, create).await;
        assert_eq!(status, 400, "{heartbeat}: {answer}");
    }
    let listed = webhooks_api(&app, Endpoint::WebhookList, json!({"domain_id": domain})).await.1;
    assert_eq!(listed["total_count"], 0, "nothing was created");
    let create = json!({"name": "p", "project_id": PROJECT, "domain_id": domain, "heartbeat": 15});
    let (status, created) = webhooks_api(&app, Endpoint::WebhookCreate, create).await;
    assert_eq!((status, created["heartbeat_seconds"].clone()), (200, json!(900)), "{created}");
}
