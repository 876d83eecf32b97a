//! The one mapping between our fields and Huawei's: severities to Cloud Eye's
//! `event_level` and AOM's `event_severity`, event types to Cloud Eye's `event_state`,
//! and times to Unix milliseconds. Reading (the query routes) and writing (the
//! `cloud_eye` and `aom` formats) both go through here, and docs/formats.md tabulates it.

use chrono::DateTime;

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

#[cfg(test)]
mod tests {
    use super::*;

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
