//! Maintenance windows end to end: an event rule with a schedule and `suppress`, made
//! through the event_rules function, over Alertmanager's real payloads delivered through
//! create on DynamoDB Local. In a test-sized window a project's ALERT is stored, flagged
//! and opens no alert, its redelivery is not stored again, a RECOVERY still resolves the
//! alert opened before the window, another project is untouched, and list and stat leave
//! the suppressed event out unless asked; once the window is over, the alert still firing
//! opens its alert.

use std::time::Duration;

use chrono::Utc;
use e2e::*;
use event_core::api::Endpoint;
use event_core::model::{format_time, new_id, WebhookFormat};
use event_core::service::webhooks::IssuedKey;
use event_core::service::App;
use serde_json::{json, Value};

async fn deliver(app: &App, key: &IssuedKey, fixture_name: &str) {
    let body = fixture(&format!("alertmanager/{fixture_name}"));
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", &webhook_path(key)).body(&body);
    let (status, answer) = parts(event_create::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
}

async fn list(app: &App, domain: &str, extra: Value) -> Value {
    let mut body = json!({"domain_id": domain, "query": {"only": ["event_id", "event_type", "alert_id", "project_id", "additional_info.alertname"]}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let req = ApiEvent::new(Gateway::Rest, "list")
        .route("POST", "/monitoring/v1/event/list")
        .body(&body.to_string());
    let (status, answer) = parts(event_list::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn count(app: &App, domain: &str, extra: Value) -> Value {
    let mut body = json!({"domain_id": domain, "query": {"aggregate": [{"count": {"name": "n"}}]}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&body.to_string());
    let (status, answer) = parts(event_stat::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
    answer["results"][0]["n"].clone()
}

fn alertname(row: &Value) -> &str {
    row["additional_info"]["alertname"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_window_suppresses_a_projects_alerts_and_lets_its_recovery_through() {
    let app = app_with(|c| c.read_rollups = false).await;
    let domain = new_id("domain");
    let key = webhook_in(&app, WebhookFormat::Alertmanager, &domain, PROJECT).await;
    let other = webhook_in(&app, WebhookFormat::Alertmanager, &domain, "project-other").await;
    deliver(&app, &key, "firing-single-critical.json").await; // HighCPU, before the window

    let (start, end) = (Utc::now() - chrono::Duration::seconds(1), Utc::now() + chrono::Duration::seconds(6));
    let window = json!({"name": "db upgrade", "domain_id": domain, "conditions_policy": "ALWAYS",
        "resource_group": "PROJECT", "project_id": PROJECT, "actions": {"suppress": true},
        "schedule": {"start": format_time(start), "end": format_time(end)}});
    let req = ApiEvent::new(Gateway::Http, "event_rules")
        .route("POST", &Endpoint::EventRuleCreate.path(&[]))
        .body(&window.to_string());
    let (status, rule) = parts(event_event_rules::handle(&app, req.request()).await);
    assert_eq!(status, 200, "{rule}");
    let rule_id = rule["event_rule_id"].as_str().unwrap().to_string();
    assert_eq!(rule["schedule"]["weekly"], false);

    deliver(&app, &key, "firing-single-warning.json").await; // DiskFull, in the window
    deliver(&app, &key, "firing-single-warning.json").await; // its redelivery
    deliver(&app, &other, "firing-single-warning.json").await; // another project
    deliver(&app, &key, "resolved-single.json").await; // HighCPU's RECOVERY
    assert!(Utc::now() < end, "the deliveries took longer than the window; rerun");

    let shown = list(&app, &domain, json!({})).await;
    let rows = shown["results"].as_array().unwrap();
    assert_eq!(shown["total_count"], 3, "the suppressed ALERT is left out: {shown}");
    assert!(rows.iter().all(|r| !(alertname(r) == "DiskFull" && r["project_id"] == PROJECT)), "{shown}");
    let recovery = rows.iter().find(|r| r["event_type"] == "RECOVERY").unwrap();
    let high_cpu = rows.iter().find(|r| alertname(r) == "HighCPU" && r["event_type"] == "ALERT").unwrap();
    assert_eq!(recovery["alert_id"], high_cpu["alert_id"], "the RECOVERY resolved the alert opened before");
    let alert_id = high_cpu["alert_id"].as_str().unwrap();
    let alert = app.store.get_alert(&trusted(&domain), alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state.as_str(), "RESOLVED");
    let elsewhere = rows.iter().find(|r| alertname(r) == "DiskFull").unwrap();
    assert_eq!(elsewhere["project_id"], "project-other");
    assert!(!elsewhere["alert_id"].as_str().unwrap().is_empty(), "another project's alert opens");

    let suppressed = list(&app, &domain, json!({"suppressed": true})).await;
    assert_eq!(suppressed["total_count"], 1, "asked for, only the suppressed one, once: {suppressed}");
    let held = &suppressed["results"][0];
    assert_eq!((alertname(held), held["alert_id"].clone()), ("DiskFull", json!("")));
    assert_eq!(count(&app, &domain, json!({})).await, 3);
    assert_eq!(count(&app, &domain, json!({"suppressed": true})).await, 1);
    let event_id = held["event_id"].as_str().unwrap();
    let req = ApiEvent::new(Gateway::Http, "get")
        .route("POST", "/monitoring/v1/event/get")
        .body(&json!({"event_id": event_id, "domain_id": domain}).to_string());
    let (status, got) = parts(event_get::handle(&app, req.request()).await);
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["event_rules"]["suppressed_by"], json!(rule_id));
    assert_eq!(got["domain_id"], json!(domain), "shown in its own domain");
    let other_domain = new_id("domain");
    assert_eq!(list(&app, &other_domain, json!({"suppressed": true})).await["total_count"], 0);

    // The window ends; Alertmanager sends the still-firing alert again: it opens its alert.
    let wait = (end - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300);
    tokio::time::sleep(wait).await;
    deliver(&app, &key, "firing-single-warning.json").await;
    let after = list(&app, &domain, json!({})).await;
    let opened: Vec<&Value> = after["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| alertname(r) == "DiskFull" && r["project_id"] == PROJECT)
        .collect();
    assert_eq!(opened.len(), 1, "{after}");
    assert!(!opened[0]["alert_id"].as_str().unwrap().is_empty());
    assert_eq!(list(&app, &domain, json!({"suppressed": true})).await["total_count"], 1);
}
