//! Cloud Eye's "Querying Monitoring Details of an Event",
//! `GET /V1.0/{project_id}/event/{event_name}`, over our events: the query parameters
//! become a SpaceONE Query that list runs (so it plans, pushes down and bounds as every
//! list does: `service::huawei_reads`), and each event is rendered as Cloud Eye's
//! `event_info`. Translation only: nothing here reads.
//!
//! What each Cloud Eye field is of ours: `event_name` the title, `event_source` the
//! provider, `time` occurred_at, `detail.content` the description, `resource_id` and
//! `resource_name` the resource's id and name, `event_level` and `event_state` through
//! [`super::mapping`], and `event_user`, `group_id` and `event_type` the additional_info
//! keys of those names (absent: `""`, `""`, and `EVENT.CUSTOM` for anything but
//! `EVENT.SYS`). `from`/`to` bound the event's own time (`time`, our occurred_at), as
//! Cloud Eye's do, for events that reached the service within
//! [`super::mapping::LATEST_REPORT_HOURS`] of it, which bounds the index's read (Cloud
//! Eye itself accepts only events reported within the hour of their `time`).

use serde::Serialize;
use serde_json::json;

use super::mapping::{level, millis, own_time_filter, severities_of, state, LEVEL_NAMES, STATE_NAMES};
use crate::error::{Error, Result};
use crate::model::Event;
use crate::query::{Query, MAX_HELD_ROWS};

/// The additional_info keys a Cloud Eye event keeps its own fields under.
pub const INFO_EVENT_TYPE: &str = "event_type";
pub const INFO_EVENT_USER: &str = "event_user";
pub const INFO_GROUP_ID: &str = "group_id";
/// Cloud Eye's two event types; an event of another sender is a custom one.
pub const SYSTEM: &str = "EVENT.SYS";
pub const CUSTOM: &str = "EVENT.CUSTOM";

const PARAMETERS: [&str; 11] = [
    "event_type",
    "sub_event_type",
    "event_source",
    "event_level",
    "event_user",
    "event_state",
    "from",
    "to",
    "start",
    "limit",
    "domain_id",
];
const MAX_LIMIT: usize = 100;

/// One Cloud Eye event query, checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloudEyeQuery {
    pub project_id: String,
    pub event_name: String,
    pub event_type: String,
    pub event_source: Option<String>,
    pub event_level: Option<String>,
    pub event_user: Option<String>,
    pub event_state: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub start: usize,
    pub limit: usize,
    pub domain_id: Option<String>,
}

impl CloudEyeQuery {
    /// From the path's project and event name and the query string's parameters.
    pub fn parse<'a>(
        project_id: String,
        event_name: String,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<CloudEyeQuery> {
        let mut query = CloudEyeQuery { project_id, event_name, limit: MAX_LIMIT, ..Default::default() };
        for (name, value) in params {
            let number = |min: i64, max: i64| -> Result<i64> {
                value.parse().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
                    Error::invalid(format!("'{name}' must be an integer from {min} to {max}, not '{value}'."))
                })
            };
            let one_of = |allowed: &[&str]| -> Result<Option<String>> {
                match allowed.contains(&value) {
                    true => Ok(Some(value.to_string())),
                    false => Err(Error::invalid(format!(
                        "'{name}' must be one of {}, not '{value}'.",
                        allowed.join(", ")
                    ))),
                }
            };
            let text = || (!value.is_empty()).then(|| value.to_string());
            match name {
                "event_type" => query.event_type = one_of(&[SYSTEM, CUSTOM])?.unwrap_or_default(),
                // Huawei's SDK sends it; it names a sub-type of Cloud Eye's system events
                // (SUB_EVENT.OPS, SUB_EVENT.PLAN, SUB_EVENT.CUSTOM), which no event of ours
                // carries, so it narrows nothing: accepted and ignored.
                "sub_event_type" => {}
                "event_source" => query.event_source = text(),
                "event_level" => query.event_level = one_of(&LEVEL_NAMES)?,
                "event_user" => query.event_user = text(),
                "event_state" => query.event_state = one_of(&STATE_NAMES)?,
                "from" => query.from = Some(number(0, i64::MAX)?),
                "to" => query.to = Some(number(0, i64::MAX)?),
                "start" => query.start = number(0, MAX_HELD_ROWS as i64)? as usize,
                "limit" => query.limit = number(1, MAX_LIMIT as i64)? as usize,
                "domain_id" => query.domain_id = text(),
                other => {
                    return Err(Error::invalid(format!(
                        "Unknown parameter '{other}'; allowed: {}.",
                        PARAMETERS.join(", ")
                    )))
                }
            }
        }
        if query.event_type.is_empty() {
            return Err(Error::RequiredParameter("event_type".into()));
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if from >= to {
                return Err(Error::invalid(format!("'from' ({from}) must be smaller than 'to' ({to}).")));
            }
        }
        if query.start + query.limit > MAX_HELD_ROWS {
            return Err(Error::invalid(format!(
                "start + limit may reach at most {MAX_HELD_ROWS}; narrow the query with from and to."
            )));
        }
        Ok(query)
    }

    /// The SpaceONE Query that selects, orders and pages the same events: newest
    /// `time` first.
    pub fn to_query(&self) -> Result<Query> {
        let eq = |k: &str, v: &str| json!({"k": k, "v": v, "o": "eq"});
        let info = |key: &str| format!("additional_info.{key}");
        let mut filter = vec![eq("project_id", &self.project_id), eq("title", &self.event_name)];
        filter.push(match self.event_type.as_str() {
            SYSTEM => eq(&info(INFO_EVENT_TYPE), SYSTEM),
            _ => json!({"k": info(INFO_EVENT_TYPE), "v": SYSTEM, "o": "not"}),
        });
        if let Some(source) = &self.event_source {
            filter.push(eq("provider", source));
        }
        if let Some(level) = &self.event_level {
            let severities: Vec<&str> = severities_of(level).into_iter().map(|s| s.as_str()).collect();
            filter.push(json!({"k": "severity", "v": severities, "o": "in"}));
        }
        if let Some(state) = &self.event_state {
            let event_type = super::mapping::event_type_of(state).expect("checked by parse");
            filter.push(eq("event_type", event_type.as_str()));
        }
        if let Some(user) = &self.event_user {
            filter.push(eq(&info(INFO_EVENT_USER), user));
        }
        filter.extend(own_time_filter(self.from, self.to)?);
        Query::from_json(&json!({
            "filter": filter,
            "sort": {"key": "occurred_at", "desc": true},
            "page": {"start": self.start + 1, "limit": self.limit},
        }))
    }

    /// Cloud Eye's answer for a page of our events (newest first) and how many match in
    /// all: `event_users` and `event_sources` are those of the events answered.
    pub fn answer(&self, events: &[Event], total: usize) -> CloudEyeAnswer {
        let mut users: Vec<String> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        for event in events {
            let user = info_text(event, INFO_EVENT_USER);
            if !users.contains(&user) {
                users.push(user);
            }
            if !sources.contains(&event.provider) {
                sources.push(event.provider.clone());
            }
        }
        CloudEyeAnswer {
            event_name: self.event_name.clone(),
            event_type: self.event_type.clone(),
            event_users: users,
            event_sources: sources,
            event_info: events.iter().map(event_info).collect(),
            meta_data: MetaData { total },
        }
    }
}

/// Cloud Eye's answer to "Querying Monitoring Details of an Event".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudEyeAnswer {
    pub event_name: String,
    pub event_type: String,
    pub event_users: Vec<String>,
    pub event_sources: Vec<String>,
    pub event_info: Vec<EventInfo>,
    pub meta_data: MetaData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaData {
    pub total: usize,
}

/// One event as Cloud Eye's `event_info` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventInfo {
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub time: i64,
    pub detail: EventDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventDetail {
    pub content: String,
    pub group_id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub event_state: &'static str,
    pub event_level: &'static str,
    pub event_user: String,
    pub event_type: &'static str,
}

/// One event as Cloud Eye's `event_info` shows it.
pub fn event_info(event: &Event) -> EventInfo {
    EventInfo {
        event_id: event.event_id.clone(),
        event_name: event.title.clone(),
        event_source: event.provider.clone(),
        time: millis(&event.occurred_at),
        detail: EventDetail {
            content: event.description.clone(),
            group_id: info_text(event, INFO_GROUP_ID),
            resource_id: event.resource.resource_id.clone(),
            resource_name: event.resource.name.clone(),
            event_state: state(event.event_type),
            event_level: level(event.severity),
            event_user: info_text(event, INFO_EVENT_USER),
            event_type: match info_text(event, INFO_EVENT_TYPE).as_str() {
                SYSTEM => SYSTEM,
                _ => CUSTOM,
            },
        },
    }
}

fn info_text(event: &Event, key: &str) -> String {
    event.additional_info.get(key).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(params: &[(&str, &str)]) -> Result<CloudEyeQuery> {
        CloudEyeQuery::parse("project-1".into(), "rebootServer".into(), params.iter().copied())
    }

    #[test]
    fn event_type_is_required_and_every_enumerated_parameter_is_exact() {
        assert_eq!(parse(&[]).unwrap_err().status(), 400);
        let query = parse(&[("event_type", "EVENT.SYS")]).unwrap();
        assert_eq!((query.start, query.limit), (0, 100));
        for (name, bad) in [
            ("event_type", "event.sys"),
            ("event_level", "critical"),
            ("event_state", "Normal"),
            ("limit", "0"),
            ("limit", "101"),
            ("start", "-1"),
            ("from", "soon"),
            ("nonsense", "1"),
        ] {
            let err = parse(&[("event_type", "EVENT.SYS"), (name, bad)]).unwrap_err();
            assert_eq!(err.status(), 400, "{name}={bad}");
        }
        // Huawei's SDK sends sub_event_type; it narrows nothing of ours.
        let sub = parse(&[("event_type", "EVENT.SYS"), ("sub_event_type", "SUB_EVENT.OPS")]).unwrap();
        assert_eq!(sub, query);
        let crossed = parse(&[("event_type", CUSTOM), ("from", "2000"), ("to", "2000")]).unwrap_err();
        assert!(crossed.to_string().contains("smaller"), "{crossed}");
    }

    #[test]
    fn every_parameter_becomes_a_condition_on_the_field_it_maps_to() {
        let query = parse(&[
            ("event_type", "EVENT.CUSTOM"),
            ("event_source", "SYS.ECS"),
            ("event_level", "Major"),
            ("event_state", "warning"),
            ("event_user", "ops"),
            ("from", "1606296086000"),
            ("to", "1606302400000"),
            ("start", "2"),
            ("limit", "5"),
        ])
        .unwrap();
        let q = query.to_query().unwrap();
        assert_eq!(q.page(), (3, Some(5)));
        let event = |severity: &str, user: &str| {
            json!({"project_id": "project-1", "title": "rebootServer", "provider": "SYS.ECS",
                   "severity": severity, "event_type": "ERROR", "created_at": "2020-11-25T10:00:00.000Z",
                   "occurred_at": "2020-11-25T10:00:00.000Z", "additional_info": {"event_user": user}})
        };
        let now = chrono::Utc::now();
        assert!(q.matches(&event("ERROR", "ops"), now));
        assert!(q.matches(&event("NOT_AVAILABLE", "ops"), now));
        assert!(!q.matches(&event("CRITICAL", "ops"), now));
        assert!(!q.matches(&event("ERROR", "root"), now));
        let mut system = event("ERROR", "ops");
        system["additional_info"]["event_type"] = json!(SYSTEM);
        assert!(!q.matches(&system, now), "EVENT.CUSTOM excludes system events");
        let mut earlier = event("ERROR", "ops");
        earlier["occurred_at"] = json!("2020-11-25T09:00:00.000Z");
        assert!(!q.matches(&earlier, now), "from/to select the event's own time");
    }
}
