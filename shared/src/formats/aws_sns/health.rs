//! An AWS Health event (EventBridge → SNS, or posted raw), read as the reference reads
//! it: keyed by its ARN, so that "closed" resolves "open".

use serde_json::{Map, Value};

use super::{Envelope, PROVIDER};
use crate::formats::json::{id_text, optional_object, optional_str, sender_time};
use crate::formats::{ParseError, ParsedEvent};
use crate::model::Resource;

/// An AWS Health event as EventBridge writes it (`source: aws.health`).
pub(crate) fn is_health_event(message: &Value) -> bool {
    message.get("source").and_then(Value::as_str) == Some("aws.health") && message.get("detail").is_some()
}

pub(super) fn health_event(
    health: &Value,
    envelope: Option<&Envelope<'_>>,
    raw: &Value,
) -> Result<ParsedEvent, ParseError> {
    let detail_map = optional_object(health, "detail", "the AWS Health event's")?
        .ok_or_else(|| ParseError::new("the AWS Health event has no 'detail'"))?;
    let detail = health.get("detail").unwrap_or(&Value::Null);
    let what = "the AWS Health event's";
    let field = |key| optional_str(detail, key, what);
    let event_arn = field("eventArn")?
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ParseError::new("the AWS Health event has no 'detail.eventArn'"))?;
    let status = field("statusCode")?.unwrap_or("open").to_ascii_lowercase();
    let category = field("eventTypeCategory")?.unwrap_or_default();
    let code = field("eventTypeCode")?.unwrap_or_default();
    let account = optional_str(health, "account", what)?.filter(|a| !a.is_empty());
    let source = optional_str(health, "source", what)?.unwrap_or("aws.health");

    let mut text: Vec<String> = Vec::new();
    if let Some(descriptions) = detail_map.get("eventDescription").and_then(Value::as_array) {
        for d in descriptions {
            if let Some(t) = d.get("latestDescription").and_then(Value::as_str) {
                text.push(t.replace("\\n", "\n"));
            }
        }
    }
    let entities: Vec<String> = detail_map
        .get("affectedEntities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("entityValue").and_then(id_text))
        .collect();
    let mut description = text.join(" ");
    if let Some(account) = account {
        description.push_str(&format!(" (Account:{account})"));
    }
    if entities.is_empty() {
        description.push_str("\n\nAffected Entities: None");
    } else {
        description.push_str("\n\nAffected Entities:");
        for entity in &entities {
            description.push_str(&format!("\n - {entity}"));
        }
    }

    let mut info = Map::new();
    let text_value = |s: &str| Value::String(s.to_string());
    for (key, value) in [
        ("id", optional_str(health, "id", what)?),
        ("account", account),
        ("region", optional_str(health, "region", what)?),
        ("service", field("service")?),
        ("eventTypeCode", Some(code)),
        ("eventTypeCategory", Some(category)),
        ("statusCode", Some(status.as_str())),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            info.insert(key.into(), text_value(value));
        }
    }
    if !entities.is_empty() {
        info.insert(
            "affectedEntities".into(),
            Value::Array(entities.iter().map(|e| text_value(e)).collect()),
        );
    }
    if let Some(envelope) = envelope {
        envelope.info(&mut info);
    }

    Ok(ParsedEvent {
        // The reference keys a Health event by its ARN, so "closed" resolves "open".
        event_key: Some(event_arn.to_string()),
        event_type: Some(if status == "closed" { "RECOVERY" } else { "ALERT" }.into()),
        title: Some(if code.is_empty() { "AWS Health event".to_string() } else { title_case(code) }),
        description: Some(description),
        severity: Some(
            if category.eq_ignore_ascii_case("issue") || category.eq_ignore_ascii_case("scheduledChange") {
                "ERROR"
            } else {
                "INFO"
            }
            .into(),
        ),
        rule: Some(category.to_string()).filter(|c| !c.is_empty()),
        resource: Some(Resource {
            resource_id: event_arn.to_string(),
            resource_type: source.to_string(),
            name: field("service")?.unwrap_or_default().to_string(),
        }),
        provider: Some(PROVIDER.into()),
        account: account.map(str::to_string).or_else(|| envelope.and_then(Envelope::account)),
        image_url: None,
        occurred_at: field("startTime")?
            .and_then(sender_time)
            .or_else(|| optional_str(health, "time", what).ok().flatten().and_then(sender_time))
            .or_else(|| envelope.and_then(Envelope::time)),
        additional_info: info,
        raw_data: raw.clone(),
        auto_resolve_after_ms: None,
        dedup_key: envelope
            .and_then(|e| e.message_id)
            .or_else(|| optional_str(health, "id", what).ok().flatten())
            .map(str::to_string),
    })
}

/// `AWS_EC2_INSTANCE_ISSUE` → `Aws Ec2 Instance Issue`, as the reference titles them.
fn title_case(code: &str) -> String {
    code.split(|c: char| c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first.chain(chars.map(|c| c.to_ascii_lowercase())).collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
