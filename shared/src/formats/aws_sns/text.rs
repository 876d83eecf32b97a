//! Any other SNS notification: its text as it was sent, titled by its Subject.

use serde_json::{Map, Value};

use super::{Envelope, PROVIDER};
use crate::formats::json::stable_key;
use crate::formats::ParsedEvent;

pub(super) fn text_event(envelope: &Envelope<'_>, message: &str, raw: &Value) -> ParsedEvent {
    let mut info = Map::new();
    envelope.info(&mut info);
    info.insert("Type".into(), Value::String("Notification".into()));
    if let Some(attributes) = raw.get("MessageAttributes").filter(|a| !a.is_null()) {
        info.insert("MessageAttributes".into(), attributes.clone());
    }
    let topic = envelope.topic();
    ParsedEvent {
        event_key: Some(stable_key(&["aws-sns-message", envelope.topic_arn, envelope.subject.unwrap_or("")])),
        event_type: Some("ALERT".into()),
        title: Some(match envelope.subject {
            Some(subject) => subject.to_string(),
            None => format!("AWS SNS notification from {}", topic.name),
        }),
        description: Some(message.to_string()),
        severity: Some("INFO".into()),
        rule: None,
        resource: Some(topic),
        provider: Some(PROVIDER.into()),
        account: envelope.account(),
        image_url: None,
        occurred_at: envelope.time(),
        additional_info: info,
        raw_data: raw.clone(),
        auto_resolve_after_ms: None,
        dedup_key: envelope.message_id.map(str::to_string),
    }
}
