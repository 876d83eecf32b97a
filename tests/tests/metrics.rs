//! The functions' metrics, as CloudWatch reads them: embedded-metric-format lines the
//! create function's invocation leaves on stdout (here captured from the recorder the
//! Lambda installs), for deliveries by format and outcome, events stored, duplicates,
//! parse errors and refusals. One test in this process: the recorder is process-wide.

use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use event_core::telemetry;
use serde_json::{json, Value};

async fn post(app: &App, path: &str, body: &str) -> u16 {
    let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(body);
    parts(event_create::handle(app, req.request()).await).0
}

/// The EMF documents flushed since the last flush.
fn flushed(collector: &metrics_cloudwatch_embedded::Collector) -> Vec<Value> {
    let mut out = Vec::new();
    collector.flush(&mut out).expect("flushes to memory");
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

/// The value of `metric` in the document whose dimensions have these values.
fn value(docs: &[Value], metric: &str, dimensions: &[(&str, &str)]) -> Option<Value> {
    docs.iter()
        .find(|d| d.get(metric).is_some() && dimensions.iter().all(|(k, v)| d[*k] == *v))
        .map(|d| d[metric].clone())
}

#[tokio::test]
async fn a_delivery_leaves_emf_lines_that_count_it_by_format_and_outcome() {
    let collector = telemetry::install("events-create").expect("the recorder installs");
    flushed(collector);
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Alertmanager).await;
    let body = fixture("alertmanager/firing-grouped-two.json");

    assert_eq!(post(&app, &webhook_path(&key), &body).await, 200);
    let docs = flushed(collector);
    let delivery = docs.iter().find(|d| d.get("Deliveries").is_some()).expect("a Deliveries line");
    let aws = &delivery["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(aws["Namespace"], "EventService", "{delivery}");
    let dimensions: Vec<&str> =
        aws["Dimensions"][0].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(dimensions, ["FunctionName", "Format", "Code"], "{delivery}");
    assert!(aws["Metrics"].as_array().unwrap().contains(&json!({"Name": "Deliveries", "Unit": "Count"})));
    assert!(delivery["_aws"]["Timestamp"].as_u64().is_some(), "{delivery}");
    assert_eq!(delivery["FunctionName"], "events-create");
    assert_eq!(delivery["Format"], "alertmanager");
    assert_eq!(delivery["Code"], "OK");
    assert_eq!(delivery["Deliveries"], 1);
    let stored = value(&docs, "EventsStored", &[]).expect("an EventsStored line");
    let alerts = serde_json::from_str::<Value>(&body).unwrap()["alerts"].as_array().unwrap().len();
    assert_eq!(stored, json!(alerts), "{docs:?}");

    // The same body again: a redelivery, nothing stored, every event a duplicate.
    assert_eq!(post(&app, &webhook_path(&key), &body).await, 200);
    let docs = flushed(collector);
    assert_eq!(value(&docs, "Deliveries", &[("Code", "OK")]), Some(json!(1)), "{docs:?}");
    assert_eq!(value(&docs, "DuplicateEvents", &[]), Some(json!(alerts)), "{docs:?}");
    assert_eq!(value(&docs, "EventsStored", &[]), None, "no new events, no line: {docs:?}");

    // A body no format reads: stored as a parse-error event.
    assert_eq!(post(&app, &webhook_path(&key), "<not json>").await, 200);
    let docs = flushed(collector);
    assert_eq!(value(&docs, "ParseErrorEvents", &[]), Some(json!(1)), "{docs:?}");

    // A wrong key: refused before the webhook is known, counted by cause.
    let wrong = format!("/monitoring/v1/webhook/{}/not-the-key/events", key.webhook.webhook_id);
    assert_eq!(post(&app, &wrong, &body).await, 403);
    let docs = flushed(collector);
    let refused = [("Format", "unknown"), ("Code", "ERROR_PERMISSION_DENIED")];
    assert_eq!(value(&docs, "Deliveries", &refused), Some(json!(1)), "{docs:?}");
    let by_cause = [("Operation", "create"), ("Code", "ERROR_PERMISSION_DENIED")];
    assert_eq!(value(&docs, "Refusals", &by_cause), Some(json!(1)), "{docs:?}");
    assert_eq!(value(&docs, "ServerErrors", &[]), None, "{docs:?}");
}
