//! A rule's schedule: the window it applies in (a maintenance window, with `suppress`),
//! once, or each week again at the same wall-clock times of a named time zone, so a
//! Saturday 02:00-04:00 Europe/Berlin window stays at 02:00 local across DST.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::format_time;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The (first) window, API time (UTC).
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub weekly: bool,
    /// IANA name; the weekly window keeps its wall-clock times here.
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".into()
}

impl Schedule {
    /// A checked schedule: `start` and `end` RFC 3339 (any offset), `end` after `start`; a
    /// weekly window at most a week long, in a time zone this service knows.
    pub fn new(start: &str, end: &str, weekly: bool, time_zone: Option<&str>) -> Result<Schedule> {
        let time = |name: &str, text: &str| {
            DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                Error::invalid(format!(
                    "schedule.{name} must be an RFC 3339 time, e.g. 2026-12-12T02:00:00+01:00."
                ))
            })
        };
        let (from, to) = (time("start", start)?, time("end", end)?);
        if to <= from {
            return Err(Error::invalid("schedule.end must be after schedule.start."));
        }
        if weekly && to - from > Duration::weeks(1) {
            return Err(Error::invalid("A weekly schedule's window may last a week at most."));
        }
        let time_zone = time_zone.unwrap_or("UTC");
        if time_zone.parse::<Tz>().is_err() {
            return Err(Error::invalid(format!(
                "schedule.time_zone {time_zone:?} is not an IANA time zone name (e.g. Europe/Berlin, UTC)."
            )));
        }
        Ok(Schedule { start: format_time(from), end: format_time(to), weekly, time_zone: time_zone.into() })
    }

    /// Whether `at` falls in one of the schedule's windows (start included, end not).
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc));
        let (Some(start), Some(end)) = (parse(&self.start), parse(&self.end)) else { return false };
        if !self.weekly {
            return start <= at && at < end;
        }
        let tz: Tz = self.time_zone.parse().unwrap_or(Tz::UTC);
        let local = |t: DateTime<Utc>| -> NaiveDateTime { t.with_timezone(&tz).naive_local() };
        let (first, length, now) = (local(start), local(end) - local(start), local(at));
        if now < first {
            return false;
        }
        let weeks = (now - first).num_weeks();
        let opened = first + Duration::weeks(weeks);
        opened <= now && now < opened + length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_one_off_window_holds_from_its_start_to_before_its_end() {
        let window = Schedule::new("2026-12-07T10:00:00Z", "2026-12-07T12:00:00+00:00", false, None).unwrap();
        assert!(!window.active_at(at("2026-12-07T09:59:59Z")));
        assert!(window.active_at(at("2026-12-07T10:00:00Z")));
        assert!(window.active_at(at("2026-12-07T11:59:59Z")));
        assert!(!window.active_at(at("2026-12-07T12:00:00Z")));
        assert!(!window.active_at(at("2026-12-14T11:00:00Z")), "not weekly");
    }

    #[test]
    fn a_weekly_window_keeps_its_local_time_across_daylight_saving() {
        // Saturdays 02:00-04:00 in Berlin: 01:00Z in winter (CET), 00:00Z in summer (CEST).
        let window = Schedule::new(
            "2026-01-03T02:00:00+01:00",
            "2026-01-03T04:00:00+01:00",
            true,
            Some("Europe/Berlin"),
        )
        .unwrap();
        assert!(window.active_at(at("2026-01-10T01:30:00Z")), "a week later, winter");
        assert!(window.active_at(at("2026-07-04T00:30:00Z")), "summer: 02:30 CEST");
        assert!(!window.active_at(at("2026-07-04T02:30:00Z")), "04:30 CEST is after it");
        assert!(!window.active_at(at("2026-01-05T01:30:00Z")), "a Monday");
        assert!(!window.active_at(at("2025-12-27T01:30:00Z")), "before the first window");
    }

    #[test]
    fn schedules_that_cannot_hold_are_refused_with_what_to_fix() {
        let err = |s: Result<Schedule>| s.unwrap_err().to_string();
        assert!(err(Schedule::new("tomorrow", "2026-12-07T12:00:00Z", false, None)).contains("RFC 3339"));
        assert!(
            err(Schedule::new("2026-12-07T12:00:00Z", "2026-12-07T12:00:00Z", false, None)).contains("after")
        );
        assert!(
            err(Schedule::new("2026-12-01T00:00:00Z", "2026-12-09T00:00:00Z", true, None)).contains("a week")
        );
        assert!(err(Schedule::new("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", true, Some("Mars/Base")))
            .contains("IANA"));
    }
}
