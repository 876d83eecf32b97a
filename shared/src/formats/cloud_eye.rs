//! Huawei Cloud Eye's "Reporting Events" body (`POST /V1.0/{project_id}/events`): an
//! array of 1 to 100 `{event_name, event_source, time, detail {content, group_id,
//! resource_id, resource_name, event_state, event_level, event_user, event_type}}`.
//! Fields land where the Cloud Eye query route reads them back
//! (`huawei::cloud_eye`, tabulated in docs/formats.md), so a reported event answers that
//! route as it was reported.
//!
//! **event_key**: source, name and resource id: the same event of the same resource
//! is one problem. **dedup_key**: Cloud Eye's own rule, "events with the same time,
//! event_source, event_name, event_type, event_state, event_level, event_user,
//! resource_id and resource_name are the same event" (the project is the webhook's):
//! a resend stores nothing new.

use serde_json::{Map, Value};

use super::json::{json_kind, optional_object, optional_str, stable_key};
use super::{ParseError, ParsedEvent};
use crate::huawei::cloud_eye::{INFO_EVENT_TYPE, INFO_EVENT_USER, INFO_GROUP_ID};
use crate::huawei::mapping::{event_type_of, severity_of, time_of_millis, STATE_NAMES};
use crate::model::Resource;

/// Cloud Eye takes at most this many events per report.
const MAX_EVENTS: usize = 100;

pub fn parse(body: &Value) -> Result<Vec<ParsedEvent>, ParseError> {
    let items = match body {
        Value::Array(items) if !items.is_empty() && items.len() <= MAX_EVENTS => items,
        Value::Array(items) => {
            return Err(ParseError::new(format!(
                "Cloud Eye reports carry 1 to {MAX_EVENTS} events, not {}",
                items.len()
            )))
        }
        other => {
            return Err(ParseError::new(format!(
                "a Cloud Eye report is a list of events, not {}",
                json_kind(other)
            )))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_one(item).map_err(|e| ParseError::new(format!("event #{i}: {}", e.0))))
        .collect()
}

/// Whether a body looks like a Cloud Eye report, for `auto`.
pub fn looks_like(body: &Value) -> bool {
    let first = body.as_array().and_then(|items| items.first());
    first.is_some_and(|e| e.get("event_name").is_some() && e.get("detail").is_some_and(Value::is_object))
}

fn parse_one(item: &Value) -> Result<ParsedEvent, ParseError> {
    if !item.is_object() {
        return Err(ParseError::new(format!("an event must be a JSON object, not {}", json_kind(item))));
    }
    let name = optional_str(item, "event_name", "the event's")?
        .ok_or_else(|| ParseError::new("'event_name' (a string) is required"))?;
    let source = optional_str(item, "event_source", "the event's")?.unwrap_or_default();
    let time = match item.get("time") {
        Some(Value::Number(n)) => n.as_i64().and_then(time_of_millis),
        _ => None,
    }
    .ok_or_else(|| ParseError::new("'time' (Unix milliseconds) is required"))?;
    let empty = Map::new();
    let detail = optional_object(item, "detail", "the event's")?.unwrap_or(&empty);
    let detail_value = Value::Object(detail.clone());
    let text = |key: &str| optional_str(&detail_value, key, "detail");
    let state = text("event_state")?;
    let event_type = match state {
        None => None,
        Some(state) => Some(event_type_of(state).ok_or_else(|| {
            ParseError::new(format!(
                "detail 'event_state' must be one of {}, not '{state}'",
                STATE_NAMES.join(", ")
            ))
        })?),
    };
    let level = text("event_level")?;
    let resource = Resource {
        resource_id: text("resource_id")?.unwrap_or_default().to_string(),
        resource_type: String::new(),
        name: text("resource_name")?.unwrap_or_default().to_string(),
    };
    let mut additional_info = Map::new();
    for (key, info) in
        [("event_type", INFO_EVENT_TYPE), ("event_user", INFO_EVENT_USER), ("group_id", INFO_GROUP_ID)]
    {
        if let Some(value) = text(key)? {
            additional_info.insert(info.to_string(), Value::String(value.to_string()));
        }
    }
    let identity = [
        time.as_str(),
        source,
        name,
        text("event_type")?.unwrap_or_default(),
        state.unwrap_or_default(),
        level.unwrap_or_default(),
        text("event_user")?.unwrap_or_default(),
        &resource.resource_id,
        &resource.name,
    ];
    Ok(ParsedEvent {
        event_key: Some(stable_key(&["cloud_eye", source, name, &resource.resource_id])),
        event_type: event_type.map(|t| t.as_str().to_string()),
        title: Some(name.to_string()),
        description: text("content")?.map(str::to_string),
        // A level Cloud Eye does not know is kept as written, and becomes NOT_AVAILABLE.
        severity: level.map(|l| severity_of(l).map_or(l.to_string(), |s| s.as_str().to_string())),
        resource: Some(resource.clone()),
        provider: Some(source.to_string()),
        occurred_at: Some(time.clone()),
        additional_info,
        raw_data: item.clone(),
        dedup_key: Some(format!("cloud_eye:{}", stable_key(&identity))),
        ..ParsedEvent::default()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const REPORT: &str = include_str!("../../../tests/fixtures/cloud_eye/report-two.json");

    #[test]
    fn the_documented_report_maps_every_field() {
        let body: Value = serde_json::from_str(REPORT).unwrap();
        let events = parse(&body).unwrap();
        assert_eq!(events.len(), 2);
        let e = &events[0];
        assert_eq!(e.title.as_deref(), Some("systemInvaded"));
        assert_eq!(e.provider.as_deref(), Some("financial.Sys"));
        assert_eq!(e.occurred_at.as_deref(), Some("2018-03-27T03:26:34.000Z"));
        assert_eq!(e.description.as_deref(), Some("The financial system was invaded"));
        assert_eq!(e.severity.as_deref(), Some("ERROR"), "Major");
        assert_eq!(e.event_type.as_deref(), Some("RECOVERY"), "normal");
        assert_eq!(e.resource.as_ref().unwrap().name, "ecs001");
        assert_eq!(e.additional_info["event_user"], "xiaokong");
        assert_eq!(e.additional_info["group_id"], "rg15221211517051YWWkEnVd");
        assert_eq!(e.raw_data, body[0]);
        assert!(looks_like(&body));
    }

    #[test]
    fn cloud_eyes_identity_rule_decides_what_is_the_same_event() {
        let event =
            json!({"event_name": "a", "event_source": "s.x", "time": 1, "detail": {"event_level": "Minor"}});
        let key = |e: &Value| parse(&json!([e])).unwrap()[0].dedup_key.clone().unwrap();
        let mut content = event.clone();
        content["detail"]["content"] = json!("other words");
        assert_eq!(key(&event), key(&content), "content is not part of the identity");
        for (path, value) in [("time", json!(2)), ("event_source", json!("s.y")), ("event_name", json!("b"))]
        {
            let mut changed = event.clone();
            changed[path] = value;
            assert_ne!(key(&event), key(&changed), "{path}");
        }
        for field in
            ["event_type", "event_state", "event_level", "event_user", "resource_id", "resource_name"]
        {
            let mut changed = event.clone();
            changed["detail"][field] = json!(if field == "event_state" { "warning" } else { "Major" });
            assert_ne!(key(&event), key(&changed), "{field}");
        }
    }

    #[test]
    fn malformed_reports_say_what_to_fix() {
        let event = json!({"event_name": "a", "time": 1, "detail": {}});
        assert!(parse(&json!([])).unwrap_err().0.contains("1 to 100"));
        assert!(parse(&json!(vec![event.clone(); 101])).unwrap_err().0.contains("not 101"));
        assert!(parse(&event).unwrap_err().0.contains("list of events"));
        assert!(parse(&json!([{"time": 1}])).unwrap_err().0.contains("event_name"));
        assert!(parse(&json!([{"event_name": "a"}])).unwrap_err().0.contains("time"));
        let bad_state = json!([{"event_name": "a", "time": 1, "detail": {"event_state": "fine"}}]);
        assert!(parse(&bad_state).unwrap_err().0.contains("event_state"));
        assert_eq!(parse(&json!([event])).unwrap()[0].severity, None);
    }
}
