//! One fuzz target per parser, each asserting what every input must keep: no panic, and
//! a refusal that is the parser's own (a 400 for a query, a 404 or 405 for a path).
//! `make fuzz` runs them under libFuzzer (fuzz_targets/); `cargo test` runs a bounded
//! pass of the same functions (tests below). Seeds: `seeds/<target>/`.

use chrono::{DateTime, Utc};
use event_core::api::{route as route_of, routes::redacted, CreateRoute, Endpoint, Route};
use event_core::formats;
use event_core::model::WebhookFormat;
use event_core::query::{Query, StatQuery};
use event_core::Error;
use http::Method;
use serde_json::{json, Value};

/// A fuzz target: one input, checked against the property it must keep.
pub type Target = fn(&[u8]);

/// Every target by name, as `make fuzz` and the seed folders name them.
pub const TARGETS: [(&str, Target); 9] = [
    ("standard", standard),
    ("alertmanager", alertmanager),
    ("grafana", grafana),
    ("aws_sns", aws_sns),
    ("cloud_eye", cloud_eye),
    ("aom", aom),
    ("query", query),
    ("stat_query", stat_query),
    ("route", route),
];

pub fn standard(data: &[u8]) {
    webhook(WebhookFormat::Standard, data);
}

pub fn alertmanager(data: &[u8]) {
    webhook(WebhookFormat::Alertmanager, data);
}

pub fn grafana(data: &[u8]) {
    webhook(WebhookFormat::Grafana, data);
}

pub fn aws_sns(data: &[u8]) {
    webhook(WebhookFormat::AwsSns, data);
}

pub fn cloud_eye(data: &[u8]) {
    webhook(WebhookFormat::CloudEye, data);
}

/// As every format, and as a clear (`?action=clear`) too.
pub fn aom(data: &[u8]) {
    webhook(WebhookFormat::Aom, data);
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    if let Ok(events) = formats::parse_delivery(WebhookFormat::Aom, &body, Some("clear")) {
        assert!(events.iter().all(|e| e.event_type.as_deref() == Some("RECOVERY")), "a clear of {body}");
    }
}

/// A body is read (or refused with a ParseError, which the service stores as an ERROR
/// event), and `auto` tells its format, whatever the JSON.
fn webhook(format: WebhookFormat, data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    formats::detect(&body);
    if let Ok(events) = formats::parse(format, &body) {
        assert!(!events.is_empty(), "{format} read no events and no error from {body}");
    }
}

/// A Query is parsed or refused with a 400, and a parsed one matches, sorts, pages and
/// shapes events without failing.
pub fn query(data: &[u8]) {
    let Some((raw, query)) = parsed(data, Query::from_json) else { return };
    let matched = events().into_iter().filter(|e| query.matches(e, now())).collect();
    if let Err(err) = query.render_list(matched) {
        client_error(&err, &raw);
    }
}

/// A StatisticsQuery is parsed or refused with a 400, and a parsed one runs its stages.
pub fn stat_query(data: &[u8]) {
    let Some((raw, stat)) = parsed(data, StatQuery::from_json) else { return };
    let matched = events().into_iter().filter(|e| stat.filter_query().matches(e, now())).collect();
    if let Err(err) = stat.evaluate(matched, now()) {
        client_error(&err, &raw);
    }
}

/// The input as JSON, and what `parse` makes of it; `None` when the input is not JSON or
/// `parse` refuses it, which it may only do with a 400.
fn parsed<T>(data: &[u8], parse: fn(&Value) -> event_core::Result<T>) -> Option<(Value, T)> {
    let raw = serde_json::from_slice::<Value>(data).ok()?;
    match parse(&raw) {
        Ok(parsed) => Some((raw, parsed)),
        Err(err) => {
            client_error(&err, &raw);
            None
        }
    }
}

/// The first byte picks the method, the rest is the path. A path is routed or refused
/// with a 404 or 405; a webhook path, once its key is masked for the logs, still names
/// the same webhook and no longer the key.
pub fn route(data: &[u8]) {
    const METHODS: [Method; 8] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
    ];
    let Some((&pick, path)) = data.split_first() else { return };
    let method = &METHODS[usize::from(pick) % METHODS.len()];
    let path = String::from_utf8_lossy(path);
    let logged = redacted(&path);
    match route_of(method, &path) {
        Ok(Route::Create(CreateRoute::Webhook { webhook_id, access_key })) => {
            let masked = Route::Create(CreateRoute::Webhook {
                webhook_id: webhook_id.clone(),
                access_key: "***".into(),
            });
            assert_eq!(route_of(method, &logged).ok(), Some(masked), "{path} is logged as {logged}");
            let rebuilt = Endpoint::WebhookEvents.path(&[webhook_id.as_str(), access_key.as_str()]);
            let again = Route::Create(CreateRoute::Webhook { webhook_id, access_key });
            assert_eq!(route_of(method, &rebuilt).ok(), Some(again), "{path} rebuilt as {rebuilt}");
        }
        Ok(_) => {}
        Err(err) => assert!(matches!(err.status(), 404 | 405), "{method} {path}: {err:?}"),
    }
}

fn client_error(err: &Error, raw: &Value) {
    assert_eq!(err.status(), 400, "{raw} was refused with {err:?}");
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
}

/// Events with every kind of value a query meets: text, times, nested objects, lists,
/// numbers in raw_data.
fn events() -> Vec<Value> {
    let event = |id: &str, severity: &str, created_at: &str, raw_data: Value| {
        json!({
            "event_id": id, "event_key": format!("key-{id}"), "event_type": "ALERT",
            "title": format!("disk full on {id}"), "description": "", "severity": severity,
            "rule": "", "resource": {"resource_id": "server-1", "resource_type": "inventory.Server", "name": "web-1"},
            "provider": "prometheus", "account": "", "image_url": "", "raw_data": raw_data,
            "additional_info": {"user": "spaceoneadm", "host": "['10.0.0.1']"},
            "alert_id": "alert-1", "webhook_id": "webhook-1", "project_id": "project-1",
            "workspace_id": "workspace-1", "domain_id": "domain-1",
            "created_at": created_at, "occurred_at": created_at,
        })
    };
    vec![
        event("event-1", "CRITICAL", "2026-11-30T11:00:00.000Z", json!({"n": 3, "tags": ["a", "b"]})),
        event("event-2", "INFO", "2026-11-01T00:00:00.000Z", json!([{"k": "a", "v": 1.5}, null])),
        event("event-3", "NONE", "2022-06-21T00:34:58.034Z", json!({"n": -7, "nested": {"deep": [true]}})),
    ]
}

#[cfg(test)]
mod tests;
