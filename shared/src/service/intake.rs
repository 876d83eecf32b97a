//! The bounds on what one delivery may ask of create: a body over `MAX_BODY_BYTES`, or
//! more events than `MAX_EVENTS_PER_DELIVERY`, is kept as an ERROR event that says so,
//! never refused: a sender told 413 drops the payload (SNS) or waits for its next
//! flush (Alertmanager), and nobody would see that its alerts went missing.

use serde_json::{json, Value};

use super::normalise::parse_error_event;
use crate::formats::ParsedEvent;
use crate::model::Webhook;

/// How much of a body an ERROR event that stands for it keeps: a head to recognise the
/// sender and the payload by, well inside an event item.
pub(super) const BODY_HEAD_KEPT: usize = 64 * 1024;

/// The head of a body as text, at most [`BODY_HEAD_KEPT`] bytes of it.
pub(super) fn body_head(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(BODY_HEAD_KEPT)]).into_owned()
}

/// The one ERROR event stored for a body over the limit: its head, its size, and how many
/// alerts it carried when that can be told (an Alertmanager or Grafana group, a JSON list).
pub(super) fn oversized_body(webhook: &Webhook, body: &[u8], limit: usize) -> ParsedEvent {
    let alerts = count_alerts(body);
    let counted = alerts.map(|n| format!(" It carried {n} alerts.")).unwrap_or_default();
    let reason = format!(
        "The request body is {} bytes, over this service's limit of {limit} bytes (MAX_BODY_BYTES), so \
         its events were not stored; this event keeps its head.{counted} Split the notification \
         (Alertmanager: a smaller group_by or max_alerts).",
        body.len()
    );
    tracing::warn!(webhook_id = %webhook.webhook_id, bytes = body.len(), limit, "body over the limit; storing an ERROR event");
    let mut kept = json!({"body": body_head(body), "body_bytes": body.len()});
    if let Some(n) = alerts {
        kept["alerts"] = json!(n);
    }
    parse_error_event(webhook, &reason, kept)
}

fn count_alerts(body: &[u8]) -> Option<usize> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(map) => map.get("alerts")?.as_array().map(Vec::len),
        Value::Array(items) => Some(items.len()),
        _ => None,
    }
}

/// At most `cap` events of a delivery, in payload order; past it, the rest become one
/// ERROR event that says how many were dropped (and the first of their titles), so the
/// loss is visible in the domain's events instead of silent.
pub(super) fn capped(webhook: &Webhook, mut events: Vec<ParsedEvent>, cap: usize) -> Vec<ParsedEvent> {
    if events.len() <= cap {
        return events;
    }
    let dropped = events.split_off(cap);
    const NAMED: usize = 20;
    let titles: Vec<&str> = dropped.iter().take(NAMED).map(|e| e.title.as_deref().unwrap_or("")).collect();
    let reason = format!(
        "The payload carried {} events; one delivery stores at most {cap} (MAX_EVENTS_PER_DELIVERY), so the \
         last {} were dropped. Split the notification (Alertmanager: a smaller group_by or max_alerts).",
        cap + dropped.len(),
        dropped.len()
    );
    tracing::warn!(webhook_id = %webhook.webhook_id, dropped = dropped.len(), cap, "events past the cap dropped");
    let kept = json!({"events": cap + dropped.len(), "stored": cap, "dropped": dropped.len(), "first_dropped_titles": titles});
    events.push(parse_error_event(webhook, &reason, kept));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventType, WebhookFormat, WebhookState};

    fn webhook() -> Webhook {
        Webhook {
            webhook_id: "webhook-1".into(),
            name: "am".into(),
            state: WebhookState::Enabled,
            format: WebhookFormat::Alertmanager,
            access_key_hash: String::new(),
            project_id: "p".into(),
            workspace_id: "w".into(),
            domain_id: "d".into(),
            created_at: String::new(),
            verify_sns_signature: true,
            sns_policy: Default::default(),
            previous_key: None,
            max_deliveries_per_minute: None,
            count_requests: false,
            heartbeat_seconds: None,
            auto_resolve_after_seconds: None,
            tags: Default::default(),
        }
    }

    #[test]
    fn an_oversized_body_keeps_its_head_size_and_alert_count() {
        let body = json!({"alerts": vec![json!({"labels": {"a": "x".repeat(50_000)}}); 3]}).to_string();
        let event = oversized_body(&webhook(), body.as_bytes(), 1000);
        assert_eq!(event.event_type.as_deref(), Some(EventType::Error.as_str()));
        assert!(event.description.as_deref().unwrap().contains("3 alerts"), "{:?}", event.description);
        assert_eq!(event.raw_data["body_bytes"], body.len());
        assert_eq!(event.raw_data["alerts"], 3);
        assert_eq!(event.raw_data["body"].as_str().unwrap().len(), BODY_HEAD_KEPT);
        let text = oversized_body(&webhook(), b"not json at all", 5);
        assert!(text.raw_data.get("alerts").is_none());
    }

    #[test]
    fn events_past_the_cap_become_one_error_event_that_counts_them() {
        let events: Vec<ParsedEvent> =
            (0..7).map(|i| ParsedEvent { title: Some(format!("t{i}")), ..ParsedEvent::default() }).collect();
        assert_eq!(capped(&webhook(), events.clone(), 7), events);
        let kept = capped(&webhook(), events.clone(), 5);
        assert_eq!(kept.len(), 6);
        assert_eq!(kept[..5], events[..5]);
        assert_eq!(kept[5].raw_data["dropped"], 2);
        assert_eq!(kept[5].raw_data["first_dropped_titles"], json!(["t5", "t6"]));
        assert!(kept[5].description.as_deref().unwrap().contains("last 2 were dropped"));
    }
}
