//! From what a sender described to a stored Event: defaults, enum checks, tenancy from
//! the webhook, derived keys, and bounds that keep every item inside DynamoDB's limits.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::digest::{hex, sha256_of_parts};
use crate::formats::{info_text, ParsedEvent};
use crate::model::{format_time, new_id, parse_time, Event, EventType, Resource, Severity, Webhook};

/// Bounds on the text fields, so that an event item always fits DynamoDB's 400 KB
/// beside its raw data (which keeps the sender's full text).
const MAX_TITLE: usize = 2 * 1024;
const MAX_DESCRIPTION: usize = 32 * 1024;
const MAX_SHORT_FIELD: usize = 2 * 1024;
const MAX_ADDITIONAL_INFO: usize = 64 * 1024;

/// The reference's answer to a payload its plugin cannot read: keep it, as one ERROR
/// event, so the broken integration shows up instead of vanishing.
pub(super) fn parse_error_event(webhook: &Webhook, message: &str, payload: Value) -> ParsedEvent {
    ParsedEvent {
        event_key: Some(parse_error_key(webhook)),
        event_type: Some(EventType::Error.as_str().into()),
        title: Some(format!("Webhook Event Parsing Error - {}", webhook.name)),
        description: Some(message.to_string()),
        severity: Some(Severity::Critical.as_str().into()),
        raw_data: payload,
        ..ParsedEvent::default()
    }
}

/// The event_key of a webhook's parse-error events: one alert for all of them.
fn parse_error_key(webhook: &Webhook) -> String {
    format!("{}:parsing-error", webhook.webhook_id)
}

/// Whether `event` is one of `webhook`'s parse-error events.
pub(super) fn is_parse_error(webhook: &Webhook, event: &Event) -> bool {
    event.event_key == parse_error_key(webhook)
}

pub(super) fn normalise(webhook: &Webhook, item: ParsedEvent, now: DateTime<Utc>) -> Event {
    let event_type = match item.event_type.as_deref().map(str::parse::<EventType>) {
        None => EventType::Alert,
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            let message = format!("event_type: {e}");
            return normalise(webhook, parse_error_event(webhook, &message, item.raw_data), now);
        }
    };
    let severity = match item.severity.as_deref() {
        None | Some("") => Severity::None,
        Some(text) => text.parse().unwrap_or_else(|_| {
            tracing::warn!(webhook_id = %webhook.webhook_id, severity = text, "unknown severity; using NOT_AVAILABLE");
            Severity::NotAvailable
        }),
    };
    let created_at = format_time(now);
    let occurred_at =
        item.occurred_at.as_deref().and_then(parse_time).map(format_time).unwrap_or(created_at.clone());
    let title = bounded(item.title.unwrap_or_default(), MAX_TITLE);
    let resource = item.resource.unwrap_or_default();
    let resource = Resource {
        resource_id: bounded(resource.resource_id, MAX_SHORT_FIELD),
        resource_type: bounded(resource.resource_type, MAX_SHORT_FIELD),
        name: bounded(resource.name, MAX_SHORT_FIELD),
    };
    let rule = bounded(item.rule.unwrap_or_default(), MAX_SHORT_FIELD);
    let event_key = item
        .event_key
        .unwrap_or_else(|| derived_key(&webhook.webhook_id, &title, &resource.resource_id, &rule));
    let additional_info = bounded_info(&item.additional_info);
    Event {
        event_id: new_id("event"),
        event_key: bounded(event_key, MAX_SHORT_FIELD),
        event_type,
        title,
        description: bounded(item.description.unwrap_or_default(), MAX_DESCRIPTION),
        severity,
        rule,
        resource,
        provider: bounded(item.provider.unwrap_or_default(), MAX_SHORT_FIELD),
        account: bounded(item.account.unwrap_or_default(), MAX_SHORT_FIELD),
        image_url: bounded(item.image_url.unwrap_or_default(), MAX_SHORT_FIELD),
        raw_data: item.raw_data,
        raw_data_missing: false,
        event_rules: None,
        additional_info,
        alert_id: String::new(),
        webhook_id: webhook.webhook_id.clone(),
        project_id: webhook.project_id.clone(),
        workspace_id: webhook.workspace_id.clone(),
        domain_id: webhook.domain_id.clone(),
        created_at,
        occurred_at,
    }
}

/// additional_info within [`MAX_ADDITIONAL_INFO`] bytes, keys included: values are cut
/// to what is left, and once nothing is left the remaining keys are dropped, with one
/// key saying how many (keys are the sender's: without this, a payload with thousands
/// of them would make an item DynamoDB refuses).
fn bounded_info(info: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    let mut budget = MAX_ADDITIONAL_INFO;
    let mut kept = BTreeMap::new();
    let mut dropped = 0;
    for (key, value) in info {
        let key = bounded(key.clone(), MAX_SHORT_FIELD);
        if budget < key.len() + TRUNCATED.len() {
            dropped += 1;
            continue;
        }
        let text = bounded(info_text(value), (budget - key.len()).min(MAX_DESCRIPTION));
        budget = budget.saturating_sub(key.len() + text.len());
        kept.insert(key, text);
    }
    if dropped > 0 {
        let note = format!("{dropped} more keys dropped: additional_info keeps {MAX_ADDITIONAL_INFO} bytes");
        kept.insert(INFO_TRUNCATED.to_string(), note);
    }
    kept
}

/// The additional_info key that says how many of the sender's keys were dropped.
const INFO_TRUNCATED: &str = "additional_info_truncated";

/// A stable key for senders that give none: the same problem reported again maps to
/// the same key, so it joins the same alert.
fn derived_key(webhook_id: &str, title: &str, resource_id: &str, rule: &str) -> String {
    hex(&sha256_of_parts(&[webhook_id, title, resource_id, rule])[..16])
}

/// Cuts text to at most `limit` bytes on a character boundary, saying it was cut.
fn bounded(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut cut = limit.saturating_sub(TRUNCATED.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str(TRUNCATED);
    text
}

const TRUNCATED: &str = "…[truncated]";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats;
    use crate::model::{WebhookFormat, WebhookState};
    use serde_json::json;

    fn webhook() -> Webhook {
        Webhook {
            webhook_id: "webhook-ff9e2eda678a".into(),
            name: "bastion".into(),
            state: WebhookState::Enabled,
            format: WebhookFormat::Standard,
            access_key_hash: String::new(),
            project_id: "project-18655561c535".into(),
            workspace_id: "workspace-1".into(),
            domain_id: "domain-58010aa2e451".into(),
            created_at: String::new(),
            verify_sns_signature: true,
            sns_policy: Default::default(),
            previous_key: None,
            auto_resolve_after_seconds: None,
            max_deliveries_per_minute: None,
            count_requests: false,
            heartbeat_seconds: None,
            tags: Default::default(),
        }
    }

    fn parsed(value: Value) -> ParsedEvent {
        formats::parse(WebhookFormat::Standard, &value).unwrap().remove(0)
    }

    #[test]
    fn defaults_fill_what_the_sender_left_out() {
        let now = Utc::now();
        let event = normalise(&webhook(), parsed(json!({"title": "disk full"})), now);
        assert_eq!(event.event_type, EventType::Alert);
        assert_eq!(event.severity, Severity::None);
        assert_eq!((event.provider.as_str(), event.account.as_str()), ("", ""));
        assert_eq!(event.occurred_at, event.created_at);
        assert_eq!(event.domain_id, "domain-58010aa2e451");
        assert_eq!(event.event_key.len(), 32);
    }

    #[test]
    fn tenancy_comes_from_the_webhook_never_from_the_payload() {
        let body = json!({"title": "t", "domain_id": "domain-other", "project_id": "project-other"});
        let event = normalise(&webhook(), parsed(body), Utc::now());
        assert_eq!(
            (event.domain_id.as_str(), event.project_id.as_str()),
            ("domain-58010aa2e451", "project-18655561c535")
        );
    }

    #[test]
    fn unknown_severity_becomes_not_available_and_unknown_type_an_error_event() {
        let event = normalise(&webhook(), parsed(json!({"title": "t", "severity": "LOUD"})), Utc::now());
        assert_eq!(event.severity, Severity::NotAvailable);
        let event = normalise(&webhook(), parsed(json!({"title": "t", "event_type": "PANIC"})), Utc::now());
        assert_eq!(event.event_type, EventType::Error);
        assert_eq!(event.title, "Webhook Event Parsing Error - bastion");
        assert!(event.description.contains("PANIC"), "{}", event.description);
        assert_eq!(event.raw_data, json!({"title": "t", "event_type": "PANIC"}));
    }

    #[test]
    fn same_problem_derives_the_same_key() {
        let a = normalise(&webhook(), parsed(json!({"title": "t", "rule": "r"})), Utc::now());
        let b = normalise(&webhook(), parsed(json!({"title": "t", "rule": "r"})), Utc::now());
        let c = normalise(&webhook(), parsed(json!({"title": "u", "rule": "r"})), Utc::now());
        assert_eq!(a.event_key, b.event_key);
        assert_ne!(a.event_key, c.event_key);
    }

    #[test]
    fn oversized_text_fields_are_cut_on_character_boundaries() {
        let title = "é".repeat(MAX_TITLE);
        let info: serde_json::Map<String, Value> =
            (0..100).map(|i| (format!("k{i}"), json!("x".repeat(10_000)))).collect();
        let event =
            normalise(&webhook(), parsed(json!({"title": title, "additional_info": info})), Utc::now());
        assert!(event.title.len() <= MAX_TITLE && event.title.ends_with("[truncated]"));
        let info_bytes: usize = event.additional_info.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(info_bytes <= MAX_ADDITIONAL_INFO + 100, "{info_bytes}");
        assert!(event.additional_info[INFO_TRUNCATED].starts_with("93 more keys dropped"));
    }

    #[test]
    fn resource_fields_and_additional_info_keys_are_bounded_however_many_and_long() {
        let long = "r".repeat(500 * 1024);
        let info: serde_json::Map<String, Value> =
            (0..5_000).map(|i| (format!("{i:04}{}", "k".repeat(3_000)), json!(i))).collect();
        let body = json!({"title": "t", "resource": {"resource_id": long, "resource_type": long, "name": long},
                          "additional_info": info});
        let event = normalise(&webhook(), parsed(body), Utc::now());
        for field in [&event.resource.resource_id, &event.resource.resource_type, &event.resource.name] {
            assert!(field.len() <= MAX_SHORT_FIELD && field.ends_with("[truncated]"));
        }
        let info_bytes: usize = event.additional_info.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(info_bytes <= MAX_ADDITIONAL_INFO + 100, "{info_bytes}");
        assert!(event.additional_info.len() < 40, "{}", event.additional_info.len());
    }
}
