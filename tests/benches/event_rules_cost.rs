//! What a domain's event rules add to a delivery, in DynamoDB units: the same
//! Alertmanager alert (a new key each time, so each opens an alert) delivered to a domain
//! without rules and to one with ten (one of which matches, moves the alert to another
//! project and raises it), with the per-instance cache cold, warm, and off
//! (`RULES_CACHE_SECONDS=0`); then to a webhook with a heartbeat.
//! Run: `cargo bench -p e2e --bench event_rules_cost` with DynamoDB Local up.

use e2e::*;
use event_core::model::{new_id, WebhookFormat};
use event_core::service::App;
use serde_json::{json, Value};

async fn row(app: &App, label: &str, path: &str, alert: &Value, n: &mut u32) {
    *n += 1;
    let mut payload = alert.clone();
    payload["alerts"][0]["fingerprint"] = json!(format!("{:016x}", *n));
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(&payload.to_string()).request();
    let before = app.store.consumed();
    let (status, body) = parts(event_create::handle(app, req).await);
    assert_eq!(status, 200, "{label}: {body}");
    let used = app.store.consumed().since(&before);
    println!("| {label:<66} | {:>5.1} | {:>5.1} |", used.aws_writes(), used.reads);
}

async fn rules(app: &App, domain: &str) {
    for i in 0..10 {
        let (matched, value) = if i == 9 { ("alertname", "HighCPU") } else { ("alertname", "NoSuchAlert") };
        let rule = json!({"name": format!("rule {i}"), "domain_id": domain,
            "conditions": [{"key": format!("additional_info.{matched}"), "value": value, "operator": "eq"},
                           {"key": "title", "value": "cpu", "operator": "contain"}],
            "conditions_policy": "ALL", "resource_group": "WORKSPACE",
            "actions": {"change_project": "project-dba", "change_severity": "CRITICAL", "change_urgency": "HIGH"}});
        let req = ApiEvent::new(Gateway::Http, "event_rules")
            .route("POST", "/monitoring/v1/event-rule/create")
            .body(&rule.to_string())
            .request();
        assert_eq!(parts(event_event_rules::handle(app, req).await).0, 200);
    }
}

#[tokio::main]
async fn main() {
    let app = app().await;
    let alert: Value = serde_json::from_str(&fixture("alertmanager/firing-single-critical.json")).unwrap();
    let mut n = 0;
    println!("| delivery of one Alertmanager alert (opens an alert) | write units (AWS) | read units |");
    println!("|---|---:|---:|");

    let plain = new_id("domain");
    let path = webhook_path(&webhook_in(&app, WebhookFormat::Alertmanager, &plain, PROJECT).await);
    row(&app, "no rules: first delivery of the instance (reads that there are none)", &path, &alert, &mut n)
        .await;
    row(&app, "no rules: next delivery (cached)", &path, &alert, &mut n).await;

    let ruled = new_id("domain");
    let path = webhook_path(&webhook_in(&app, WebhookFormat::Alertmanager, &ruled, PROJECT).await);
    rules(&app, &ruled).await;
    row(&app, "10 rules, 1 matches: first delivery after a change (reads them)", &path, &alert, &mut n).await;
    row(&app, "10 rules, 1 matches: next delivery (cached)", &path, &alert, &mut n).await;

    let uncached = App {
        config: event_core::config::Config { rules_cache_seconds: 0, ..app.config.clone() },
        ..app.clone()
    };
    row(&uncached, "10 rules, 1 matches, RULES_CACHE_SECONDS=0: every delivery", &path, &alert, &mut n).await;
    row(
        &uncached,
        "10 rules, 1 matches, RULES_CACHE_SECONDS=0: every delivery (again)",
        &path,
        &alert,
        &mut n,
    )
    .await;
    let beating = new_id("domain");
    let create = json!({"name": "watchdog", "project_id": PROJECT, "domain_id": beating, "format": "alertmanager",
                        "heartbeat": 15});
    let req = ApiEvent::new(Gateway::Http, "webhooks")
        .route("POST", "/monitoring/v1/webhook/create")
        .body(&create.to_string())
        .request();
    let created = parts(event_webhooks::handle(&app, req).await).1;
    let (id, key) = (created["webhook_id"].as_str().unwrap(), created["access_key"].as_str().unwrap());
    let path = format!("/monitoring/v1/webhook/{id}/{key}/events");
    // As if the last write was two minutes ago.
    let due = event_core::model::format_time(chrono::Utc::now() + chrono::Duration::minutes(13));
    app.store.beat(id, &due).await.unwrap();
    row(&app, "heartbeat 15 min: a delivery 1.5 min or more after the last write", &path, &alert, &mut n)
        .await;
    row(&app, "heartbeat 15 min: a delivery within 1.5 min of it (no write)", &path, &alert, &mut n).await;
}
