//! A delivery's log line says whose it was and what it did: the webhook, its format,
//! the domain and the number of events stored (none for a redelivery), with API
//! Gateway's request id to join the access log; a refused one names the webhook and the
//! SpaceONE code, so a misconfigured sender is found without reading bodies.

use e2e::*;
use event_core::model::WebhookFormat;
use serde_json::json;

#[tokio::test]
async fn a_delivery_logs_its_webhook_format_domain_and_events_stored_and_a_refusal_its_code() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Alertmanager).await;
    let webhook_id = key.webhook.webhook_id.clone();
    let body = fixture("alertmanager/firing-grouped-two.json");
    let (logs, _guard) = LogLines::capture();
    let deliver = |path: String| {
        let req = ApiEvent::new(Gateway::Http, "create").route("POST", &path).body(&body).request();
        let app = app.clone();
        async move { parts(event_create::handle(&app, req).await) }
    };

    let (status, answer) = deliver(webhook_path(&key)).await;
    assert_eq!(status, 200, "{answer}");
    let (line, span) = logs.request_line();
    assert_eq!(line["message"], "request served", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert_eq!(span["webhook_id"], json!(webhook_id), "{line}");
    assert_eq!(span["format"], "alertmanager", "{line}");
    assert_eq!(span["events_stored"], 2, "two alerts, two events: {line}");
    assert_eq!(span["events_deduplicated"], 0, "{line}");
    assert_eq!(span["domain_id"], DOMAIN, "{line}");
    assert_eq!(span["apigw_request_id"], "JKJaXmPLvHcESHA=", "the sample event's requestId: {line}");

    // The same notification again: answered alike, nothing stored.
    let (status, _) = deliver(webhook_path(&key)).await;
    assert_eq!(status, 200);
    let (line, span) = logs.request_line();
    assert_eq!(span["events_stored"], 0, "a redelivery stores nothing: {line}");
    assert_eq!(span["events_deduplicated"], 2, "both found already stored: {line}");

    // A sender with a wrong key: refused, and the line says which webhook and why.
    let wrong = webhook_path(&key).replace(&key.access_key, "not-the-key");
    let (status, answer) = deliver(wrong).await;
    assert_eq!(status, 403, "{answer}");
    let (line, span) = logs.request_line();
    assert_eq!(line["message"], "request refused", "{line}");
    assert_eq!(line["code"], "ERROR_PERMISSION_DENIED", "{line}");
    assert_eq!(span["webhook_id"], json!(webhook_id), "{line}");
    assert!(!line.to_string().contains("not-the-key"), "the key stays out of the log: {line}");
}
