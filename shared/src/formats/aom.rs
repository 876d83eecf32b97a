//! Huawei AOM's "Reporting Events and Alarms" body (`PUT /v2/{project_id}/push/events`):
//! `{events: [{starts_at, ends_at, timeout, metadata, annotations, attach_rule, id}]}`,
//! and its `?action=clear`, which clears the alarms it names. Fields land where the AOM
//! query route reads them back (`huawei::aom`, tabulated in docs/formats.md): the
//! metadata whole in additional_info, and `annotations`, `attach_rule`, `timeout` and
//! `ends_at` in raw_data.
//!
//! **event_key**: the metadata, every key and value: AOM keys an alarm by its metadata,
//! and a clear names the alarm by the same metadata. `event_type alarm` opens or joins
//! the alert of that key, and a clear resolves it. An `event` is a notice, not a
//! problem: it is stored as a RECOVERY, and since only events carry its key (the key
//! includes `event_type`), no alert ever opens for it. **dedup_key**: the action, the
//! metadata and `starts_at`: the same report sent again stores nothing new.

use serde_json::{Map, Value};

use super::json::{json_kind, stable_key, text_field};
use super::{ParseError, ParsedEvent};
use crate::huawei::aom::{
    EVENT_NAME, EVENT_SEVERITY, EVENT_TYPE, RESOURCE_ID, RESOURCE_PROVIDER, RESOURCE_TYPE,
};
use crate::huawei::mapping::{severity_of, time_of_millis};
use crate::model::{EventType, Resource};

/// The `action` that clears the alarms a body names.
pub const CLEAR: &str = "clear";

pub fn parse(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    parse_action(body, None)
}

/// The events of a report, or of a clear when `action` is `clear`.
pub fn parse_action(body: &Value, action: Option<&str>) -> Result<Vec<ParsedEvent>, ParseError> {
    let clear = action == Some(CLEAR);
    match body.get("events") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                parse_one(item, clear).map_err(|e| ParseError::new(format!("event #{i}: {}", e.0)))
            })
            .collect(),
        Some(other) => Err(ParseError::new(format!("'events' must be a list, not {}", json_kind(other)))),
        None => Err(ParseError::new("an AOM report is {\"events\": [...]}")),
    }
}

/// AOM clears an alarm not reported again within its `timeout` (ms): 3 days when
/// absent, 15 days at most.
const DEFAULT_TIMEOUT_MS: i64 = 3 * 86_400_000;
const MAX_TIMEOUT_MS: i64 = 15 * 86_400_000;

fn timeout(item: &Value) -> i64 {
    let given = item.get("timeout").and_then(Value::as_i64).filter(|ms| *ms > 0);
    given.unwrap_or(DEFAULT_TIMEOUT_MS).min(MAX_TIMEOUT_MS)
}

/// Whether a body looks like an AOM report, for `auto`.
pub fn looks_like(body: &Value) -> bool {
    let first = body.get("events").and_then(Value::as_array).and_then(|items| items.first());
    first.is_some_and(|e| e.get("metadata").is_some_and(Value::is_object))
}

fn parse_one(item: &Value, clear: bool) -> Result<ParsedEvent, ParseError> {
    if !item.is_object() {
        return Err(ParseError::new(format!("an event must be a JSON object, not {}", json_kind(item))));
    }
    let metadata: Map<String, Value> = match item.get("metadata") {
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            return Err(ParseError::new(format!("'metadata' must be an object, not {}", json_kind(other))))
        }
        None => return Err(ParseError::new("'metadata' (an object with event_name, …) is required")),
    };
    let meta = Value::Object(metadata.clone());
    let text = |key: &str| text_field(&meta, key).unwrap_or_default();
    let name =
        text_field(&meta, EVENT_NAME).ok_or_else(|| ParseError::new("metadata 'event_name' is required"))?;
    let starts_at = item.get("starts_at").and_then(Value::as_i64).and_then(time_of_millis);
    // Sorted (a JSON object keeps no order), each key and value its own part.
    let mut pairs: Vec<(&String, String)> =
        metadata.iter().map(|(k, v)| (k, text_field(&meta, k).unwrap_or_else(|| v.to_string()))).collect();
    pairs.sort();
    let parts: Vec<&str> = pairs.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]).collect();
    let key = stable_key(&parts);
    let event_type = match (clear, text(EVENT_TYPE).as_str()) {
        (true, _) | (false, "event") => EventType::Recovery,
        _ => EventType::Alert,
    };
    let action = if clear { CLEAR } else { "report" };
    let severity = text(EVENT_SEVERITY);
    Ok(ParsedEvent {
        event_key: Some(format!("aom:{key}")),
        event_type: Some(event_type.as_str().to_string()),
        title: Some(name),
        description: item.get("annotations").and_then(|a| text_field(a, "message")),
        // A severity AOM does not know is kept as written, and becomes NOT_AVAILABLE.
        severity: (!severity.is_empty())
            .then(|| severity_of(&severity).map_or(severity.clone(), |s| s.as_str().to_string())),
        resource: Some(Resource {
            resource_id: text(RESOURCE_ID),
            resource_type: text(RESOURCE_TYPE),
            name: text("resource_name"),
        }),
        provider: Some(text(RESOURCE_PROVIDER)),
        occurred_at: starts_at.clone(),
        additional_info: metadata,
        raw_data: item.clone(),
        auto_resolve_after_ms: Some(timeout(item)),
        dedup_key: Some(format!("aom:{}", stable_key(&[action, &key, &starts_at.unwrap_or_default()]))),
        ..ParsedEvent::default()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ALARM: &str = include_str!("../../../tests/fixtures/aom/report-alarm.json");

    #[test]
    fn the_documented_report_maps_every_field() {
        let body: Value = serde_json::from_str(ALARM).unwrap();
        let events = parse(&body).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.title.as_deref(), Some("test"));
        assert_eq!(e.severity.as_deref(), Some("ERROR"), "Major");
        assert_eq!(e.event_type.as_deref(), Some("ALERT"), "an alarm");
        assert_eq!(e.provider.as_deref(), Some("ecs"));
        assert_eq!(e.resource.as_ref().unwrap().resource_id, "ecs123");
        assert_eq!(e.resource.as_ref().unwrap().resource_type, "vm");
        assert_eq!(e.description.as_deref(), Some("Alarm Details"));
        assert_eq!(e.occurred_at.as_deref(), Some("2020-11-13T01:55:01.000Z"));
        assert_eq!(e.additional_info, body["events"][0]["metadata"].as_object().unwrap().clone());
        assert_eq!(e.raw_data, body["events"][0]);
        assert_eq!(e.auto_resolve_after_ms, Some(60_000), "its timeout");
        assert!(looks_like(&body));
    }

    #[test]
    fn a_clear_resolves_the_alarm_its_metadata_names() {
        let body: Value = serde_json::from_str(ALARM).unwrap();
        let report = &parse(&body).unwrap()[0];
        let clear = &parse_action(&body, Some(CLEAR)).unwrap()[0];
        assert_eq!(clear.event_type.as_deref(), Some("RECOVERY"));
        assert_eq!(clear.event_key, report.event_key, "the same alarm");
        assert_ne!(clear.dedup_key, report.dedup_key, "a different change");
        assert_eq!(parse_action(&body, Some("report")).unwrap()[0], *report, "any other action reports");
        let mut other = body.clone();
        other["events"][0]["metadata"]["resource_id"] = json!("ecs456");
        assert_ne!(parse(&other).unwrap()[0].event_key, report.event_key, "another resource, another alarm");
        let mut notice = body.clone();
        notice["events"][0]["metadata"]["event_type"] = json!("event");
        assert_eq!(
            parse(&notice).unwrap()[0].event_type.as_deref(),
            Some("RECOVERY"),
            "a notice opens nothing"
        );
        let timeout = |t: Value| {
            let mut alarm = body.clone();
            alarm["events"][0]["timeout"] = t;
            parse(&alarm).unwrap()[0].auto_resolve_after_ms
        };
        assert_eq!(timeout(json!(null)), Some(3 * 86_400_000), "AOM's default");
        assert_eq!(timeout(json!(30 * 86_400_000_i64)), Some(15 * 86_400_000), "AOM's most");
    }

    #[test]
    fn malformed_reports_say_what_to_fix() {
        assert!(parse(&json!({"events": 1})).unwrap_err().0.contains("list"));
        assert!(parse(&json!([])).unwrap_err().0.contains("events"));
        assert!(parse(&json!({"events": [{}]})).unwrap_err().0.contains("metadata"));
        assert!(parse(&json!({"events": [{"metadata": {}}]})).unwrap_err().0.contains("event_name"));
        assert!(parse(&json!({"events": [3]})).unwrap_err().0.starts_with("event #0"));
    }
}
