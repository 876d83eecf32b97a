//! The Webhook and Alert APIs together, as a team starting out uses them behind a JWT
//! authorizer: a webhook created over HTTP (counting its deliveries), an event posted to
//! its URL, the event's alert read by its `alert_id`, acknowledged and resolved, the
//! webhook disabled (its URL then answers 400), both listed and counted; and a second
//! domain sees none of it. Every call is an API Gateway event into the function that
//! serves it in Lambda.

use e2e::*;
use event_core::api::Endpoint;
use event_core::config::ReadAuthorizer;
use event_core::model::new_id;
use event_core::service::App;
use lambda_http::Request;
use serde_json::{json, Value};

/// A request of the caller of `domain`, whose JWT the authorizer vouched for.
fn as_caller(
    gateway: Gateway,
    sample: &str,
    domain: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> Request {
    ApiEvent::new(gateway, sample)
        .route(method, path)
        .query(&[])
        .body(&body.to_string())
        .claims_domain(domain)
        .request()
}

async fn webhooks(app: &App, domain: &str, endpoint: Endpoint, body: Value) -> (u16, Value) {
    let req = as_caller(Gateway::Http, "webhooks", domain, "POST", &endpoint.path(&[]), &body);
    parts(event_webhooks::handle(app, req).await)
}

async fn alerts(app: &App, domain: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let req = as_caller(Gateway::Rest, "alerts", domain, method, path, &body);
    parts(event_alerts::handle(app, req).await)
}

async fn deliver(app: &App, url: &str, body: &str) -> (u16, Value) {
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", url).body(body);
    parts(event_create::handle(app, req.request()).await)
}

fn ok(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1
}

#[tokio::test]
async fn a_webhook_made_over_http_feeds_an_alert_that_people_acknowledge_and_resolve() {
    let app = app_with(|config| config.read_authorizer = ReadAuthorizer::Jwt).await;
    let (domain, other) = (new_id("domain"), new_id("domain"));

    let create = json!({"name": "alertmanager", "project_id": PROJECT, "count_requests": true,
                        "plugin_info": {"plugin_id": "standard", "options": {}}});
    let created = ok(webhooks(&app, &domain, Endpoint::WebhookCreate, create).await);
    let (id, url) = (created["webhook_id"].as_str().unwrap(), created["webhook_url"].as_str().unwrap());
    assert_eq!(
        (created["domain_id"].as_str(), created["count_requests"].as_bool()),
        (Some(&*domain), Some(true))
    );

    let event = json!({"title": "disk full on web-1", "severity": "CRITICAL", "event_key": "disk-web-1",
                       "event_type": "ALERT"})
    .to_string();
    let stored = ok(deliver(&app, url, &event).await);
    assert_eq!(ok(deliver(&app, url, &event).await), stored, "a redelivery is answered like the first");
    assert_eq!(deliver(&app, url, "{not json").await.0, 200, "kept as an ERROR event");

    // The event names its alert; the Alert API reads it, with the events linked to it.
    let list = json!({"query": {"filter": [{"k": "event_type", "v": "ALERT", "o": "eq"}]}});
    let req = as_caller(Gateway::Http, "list", &domain, "POST", &Endpoint::EventList.path(&[]), &list);
    let events = ok(parts(event_list::handle(&app, req).await));
    assert_eq!(events["total_count"], 1, "{events}");
    let alert_id = events["results"][0]["alert_id"].as_str().unwrap().to_string();
    let by_id = Endpoint::AlertById.path(&[&alert_id]);
    let alert = ok(alerts(&app, &domain, "GET", &by_id, json!({})).await);
    assert_eq!(
        (alert["state"].as_str(), alert["triggered_by"].as_str(), alert["event_count"].as_u64()),
        (Some("TRIGGERED"), Some(id), Some(1)),
        "{alert}"
    );

    // A person acknowledges it, then resolves it.
    let update = |state: &str| json!({"alert_id": alert_id, "state": state});
    let path = Endpoint::AlertUpdate.path(&[]);
    let acknowledged = ok(alerts(&app, &domain, "POST", &path, update("ACKNOWLEDGED")).await);
    assert_eq!(acknowledged["state"], "ACKNOWLEDGED");
    assert_ne!(acknowledged["acknowledged_at"], "");
    let resolved = ok(alerts(&app, &domain, "POST", &path, update("RESOLVED")).await);
    assert_eq!(resolved["state"], "RESOLVED");

    // Disabled, its URL refuses deliveries, and they are not counted as its requests.
    ok(webhooks(&app, &domain, Endpoint::WebhookDisable, json!({"webhook_id": id})).await);
    let (status, answer) = deliver(&app, url, &event).await;
    assert_eq!(
        (status, error_code(status, &answer)),
        (400, "ERROR_WEBHOOK_STATE_DISABLED".into()),
        "{answer}"
    );
    let got = ok(webhooks(&app, &domain, Endpoint::WebhookGet, json!({"webhook_id": id})).await);
    assert_eq!(got["state"], "DISABLED");
    assert_eq!(got["requests"], json!({"total": 3, "error": 1}), "two deliveries and an unreadable one");

    // Listed and counted, each in the domain's own terms.
    let listed = ok(webhooks(&app, &domain, Endpoint::WebhookList, json!({"state": "DISABLED"})).await);
    assert_eq!(listed["results"].as_array().map(|r| r.len()), Some(1), "{listed}");
    let stat = json!({"query": {"aggregate": [{"group": {"keys": [{"key": "state", "name": "state"}],
                                                        "fields": [{"name": "n", "operator": "count"}]}}]}});
    let webhook_stat = ok(webhooks(&app, &domain, Endpoint::WebhookStat, stat.clone()).await);
    assert_eq!(webhook_stat["results"], json!([{"state": "DISABLED", "n": 1}]));
    let list = json!({"query": {"filter": [{"k": "state", "v": "RESOLVED", "o": "eq"}]}});
    let alert_list = ok(alerts(&app, &domain, "POST", &Endpoint::AlertList.path(&[]), list).await);
    assert_eq!(alert_list["total_count"], 1, "{alert_list}");
    assert_eq!(alert_list["results"][0]["alert_id"], json!(alert_id));
    let alert_stat = ok(alerts(&app, &domain, "POST", &Endpoint::AlertStat.path(&[]), stat.clone()).await);
    // The unreadable payload's ERROR event keeps an ERROR alert open, for a person to see.
    let mut by_state = alert_stat["results"].as_array().cloned().unwrap_or_default();
    by_state.sort_by_key(|row| row["state"].to_string());
    assert_eq!(by_state, [json!({"state": "ERROR", "n": 1}), json!({"state": "RESOLVED", "n": 1})]);

    // Another domain: nothing to read, nothing to change, nothing counted.
    let (status, _) = webhooks(&app, &other, Endpoint::WebhookGet, json!({"webhook_id": id})).await;
    assert_eq!(status, 404);
    assert_eq!(alerts(&app, &other, "GET", &by_id, json!({})).await.0, 404);
    let (status, _) = alerts(&app, &other, "POST", &path, update("ACKNOWLEDGED")).await;
    assert_eq!(status, 404);
    let empty = ok(webhooks(&app, &other, Endpoint::WebhookList, json!({})).await);
    assert_eq!(empty, json!({"results": [], "total_count": 0}));
    let none = ok(alerts(&app, &other, "POST", &Endpoint::AlertStat.path(&[]), stat).await);
    assert_eq!(none["results"], json!([]));
    let after = ok(alerts(&app, &domain, "GET", &by_id, json!({})).await);
    assert_eq!(after["state"], "RESOLVED", "unchanged by the other domain");
}
