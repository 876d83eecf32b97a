//! The SpaceONE standard event JSON: one event, a list of events, or `{"events": [...]}`.
//! Field names are EventInfo's; `title` is the one field a sender must give.

use serde_json::{Map, Value};

use super::json::text_field;
use super::{ParseError, ParsedEvent};
use crate::model::Resource;

pub fn parse(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    let items: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => match map.get("events") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(_) => return Err(ParseError::new("'events' must be a list of event objects")),
            None => vec![body],
        },
        _ => {
            return Err(ParseError::new(
                "the standard format wants an event object, a list of them, or {\"events\": [...]}",
            ))
        }
    };
    items.into_iter().enumerate().map(|(i, item)| parse_one(item).map_err(|e| at(i, e))).collect()
}

fn at(index: usize, error: ParseError) -> ParseError {
    ParseError::new(format!("event #{index}: {}", error.0))
}

fn parse_one(item: &Value) -> Result<ParsedEvent, ParseError> {
    if !item.is_object() {
        return Err(ParseError::new("an event must be a JSON object"));
    }
    let title = text_field(item, "title").ok_or_else(|| ParseError::new("'title' (a string) is required"))?;
    let resource = match item.get("resource") {
        None | Some(Value::Null) => None,
        Some(r @ Value::Object(_)) => Some(Resource {
            resource_id: text_field(r, "resource_id").unwrap_or_default(),
            resource_type: text_field(r, "resource_type").unwrap_or_default(),
            name: text_field(r, "name").unwrap_or_default(),
        }),
        Some(_) => {
            return Err(ParseError::new("'resource' must be an object {resource_id, resource_type, name}"))
        }
    };
    let additional_info = match item.get("additional_info") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return Err(ParseError::new("'additional_info' must be an object")),
    };
    Ok(ParsedEvent {
        event_key: text_field(item, "event_key").filter(|k| !k.is_empty()),
        event_type: text_field(item, "event_type"),
        title: Some(title),
        description: text_field(item, "description"),
        severity: text_field(item, "severity"),
        rule: text_field(item, "rule"),
        resource,
        provider: text_field(item, "provider"),
        account: text_field(item, "account"),
        image_url: text_field(item, "image_url"),
        occurred_at: text_field(item, "occurred_at"),
        additional_info,
        raw_data: item.clone(),
        auto_resolve_after_ms: None,
        dedup_key: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPACEONEADM: &str = include_str!("../../../tests/fixtures/standard/bastion-ssh-spaceoneadm.json");

    #[test]
    fn seed_payload_maps_every_field() {
        let body: Value = serde_json::from_str(SPACEONEADM).unwrap();
        let events = parse(&body).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.event_key.as_deref(), Some("cfbdd0cee08f0f2664dbef297c370017"));
        assert_eq!(e.event_type.as_deref(), Some("ALERT"));
        assert_eq!(e.severity.as_deref(), Some("INFO"));
        assert_eq!(e.resource.as_ref().unwrap().resource_id, "server-1187737cc0d9");
        assert_eq!(e.additional_info["host"], json!([]));
        assert_eq!(e.raw_data, body);
    }

    #[test]
    fn lists_and_events_wrappers_carry_several_events() {
        let one = json!({"title": "a"});
        assert_eq!(parse(&json!([one, one])).unwrap().len(), 2);
        assert_eq!(parse(&json!({"events": [one, one, one]})).unwrap().len(), 3);
    }

    #[test]
    fn malformed_events_say_what_to_fix() {
        assert_eq!(parse(&json!({"foo": 1})).unwrap_err().0, "event #0: 'title' (a string) is required");
        assert!(parse(&json!([{"title": "a"}, 3])).unwrap_err().0.starts_with("event #1:"));
        assert!(parse(&json!({"title": "a", "resource": "x"})).unwrap_err().0.contains("'resource'"));
        assert!(parse(&json!("text")).is_err());
    }
}
