//! The one mapping between our fields and Huawei's: severities to Cloud Eye's
//! `event_level` and AOM's `event_severity`, event types to Cloud Eye's `event_state`,
//! and times to Unix milliseconds (and a range of an event's own time to conditions). Reading (the query routes) and writing (the
//! `cloud_eye` and `aom` formats) both go through here, and docs/formats.md tabulates it.

use chrono::DateTime;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::model::{format_time, parse_time, EventType, Severity};

/// Severity → level. Each Huawei level has one severity it is written as (the first
/// one listed); NOT_AVAILABLE (a sender's value we could not read) reads as Major, as
/// urgent as ERROR, and NONE (no value) as Info.
const LEVELS: [(Severity, &str); 6] = [
    (Severity::Critical, "Critical"),
    (Severity::Error, "Major"),
    (Severity::Warning, "Minor"),
    (Severity::Info, "Info"),
    (Severity::NotAvailable, "Major"),
    (Severity::None, "Info"),
];

/// Event type → Cloud Eye `event_state`.
const STATES: [(EventType, &str); 3] =
    [(EventType::Alert, "incident"), (EventType::Recovery, "normal"), (EventType::Error, "warning")];

/// Cloud Eye's `event_level` (and AOM's `event_severity`) of a severity.
pub fn level(severity: Severity) -> &'static str {
    LEVELS.iter().find(|(s, _)| *s == severity).map_or("Info", |(_, level)| level)
}

/// Every level, in the order the APIs list them.
pub const LEVEL_NAMES: [&str; 4] = ["Critical", "Major", "Minor", "Info"];

/// The severities that read as `level` (exact, as Huawei spells it); empty for no level.
pub fn severities_of(level: &str) -> Vec<Severity> {
    LEVELS.iter().filter(|(_, l)| *l == level).map(|(s, _)| *s).collect()
}

/// The severity a sender's level is stored as; `None` for a value that is no level.
pub fn severity_of(level: &str) -> Option<Severity> {
    severities_of(level).first().copied()
}

/// Cloud Eye's `event_state` of an event type.
pub fn state(event_type: EventType) -> &'static str {
    STATES.iter().find(|(t, _)| *t == event_type).map_or("normal", |(_, state)| state)
}

/// Every `event_state`.
pub const STATE_NAMES: [&str; 3] = ["normal", "warning", "incident"];

/// The event type a Cloud Eye `event_state` is stored as.
pub fn event_type_of(state: &str) -> Option<EventType> {
    STATES.iter().find(|(_, s)| *s == state).map(|(t, _)| *t)
}

/// An API time (ISO 8601) as Unix milliseconds; 0 for text that is no time.
pub fn millis(time: &str) -> i64 {
    parse_time(time).map_or(0, |t| t.timestamp_millis())
}

/// Unix milliseconds as an API time.
pub fn time_of_millis(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(format_time)
}

/// How long after its own time an event may reach the service and still be found by a
/// time filter on that time (an event reported later is found by neither query's time
/// filter): the filter also bounds when the event was received, so the index bounds the
/// read.
pub const LATEST_REPORT_HOURS: i64 = 24;
/// How far ahead of the service's clock a sender's own time may be, the same as the
/// alert link's (a time further ahead counts as the arrival time there).
pub const EARLIEST_REPORT_MINUTES: i64 = 5;

/// The conditions that select events whose own time (`occurred_at`) lies in
/// `[from_ms, to_ms]` (each end optional): on `occurred_at` itself, and on `created_at`
/// from `EARLIEST_REPORT_MINUTES` before `from_ms` to `LATEST_REPORT_HOURS` after
/// `to_ms`, which the index reads.
pub fn own_time_filter(from_ms: Option<i64>, to_ms: Option<i64>) -> Result<Vec<Value>> {
    let time = |ms: i64| time_of_millis(ms).ok_or_else(|| Error::invalid(format!("{ms} is no time")));
    let mut filter = Vec::new();
    if let Some(from) = from_ms {
        filter.push(json!({"k": "occurred_at", "v": time(from)?, "o": "gte"}));
        let received = from.saturating_sub(EARLIEST_REPORT_MINUTES * 60_000).max(0);
        filter.push(json!({"k": "created_at", "v": time(received)?, "o": "gte"}));
    }
    if let Some(to) = to_ms {
        filter.push(json!({"k": "occurred_at", "v": time(to)?, "o": "lte"}));
        let received = to.saturating_add(LATEST_REPORT_HOURS * 3_600_000);
        if let Ok(received) = time(received) {
            filter.push(json!({"k": "created_at", "v": received, "o": "lte"}));
        }
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_time_range_bounds_the_receipt_time_too() {
        let filter = own_time_filter(Some(1606302400000), Some(1606306000000)).unwrap();
        assert_eq!(
            filter,
            [
                json!({"k": "occurred_at", "v": "2020-11-25T11:06:40.000Z", "o": "gte"}),
                json!({"k": "created_at", "v": "2020-11-25T11:01:40.000Z", "o": "gte"}),
                json!({"k": "occurred_at", "v": "2020-11-25T12:06:40.000Z", "o": "lte"}),
                json!({"k": "created_at", "v": "2020-11-26T12:06:40.000Z", "o": "lte"}),
            ]
        );
        assert_eq!(own_time_filter(None, None).unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn every_level_and_state_reads_back_as_what_it_is_written_as() {
        for name in LEVEL_NAMES {
            let severity = severity_of(name).unwrap();
            assert_eq!(level(severity), name);
            assert!(severities_of(name).contains(&severity));
        }
        for severity in Severity::ALL {
            assert!(severities_of(level(*severity)).contains(severity), "{severity}");
        }
        assert_eq!(severities_of("Major"), [Severity::Error, Severity::NotAvailable]);
        assert_eq!(severities_of("Info"), [Severity::Info, Severity::None]);
        assert_eq!(severity_of("major"), None, "Huawei's names are exact");
        for name in STATE_NAMES {
            assert_eq!(state(event_type_of(name).unwrap()), name);
        }
    }

    #[test]
    fn times_round_trip_through_milliseconds() {
        assert_eq!(time_of_millis(1606302400000).as_deref(), Some("2020-11-25T11:06:40.000Z"));
        assert_eq!(millis("2020-11-25T11:06:40.000Z"), 1606302400000);
        assert_eq!(millis("not a time"), 0);
    }
}
