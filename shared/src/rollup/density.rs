//! Which of a domain's days the stream counts into hour items (dense) and which it
//! leaves to the index (sparse): decided once per (domain, day), by the first batch that
//! brings one of the day's events, and never changed, so every record of the day, on
//! any shard and in any delivery, is treated alike and counted exactly once or never.
//!
//! A batch costs one write per (domain, view, hour) it touches, 28 for one domain and
//! hour, so hour items pay off only for a domain with about as many events a batch. A
//! sparse day writes nothing per event: reads take it from the index, and once it is
//! over the consumer recounts it from the index into its 28 day items, when it has at
//! least [`SPARSE_DAY_ITEMS_FROM`] events (fewer are cheaper read from the index than
//! written), and its hour items too when it has at least
//! [`SPARSE_HOURS_EVENTS_PER_ITEM`] events for each of them, so a range edge or an
//! hourly stat inside a busy sparse day does not read the whole day from the index.

use chrono::{DateTime, Utc};

/// Events of one domain and day in the first batch that brings any, from which the day
/// is dense: 28 hour items and the shard's progress cost at most one write unit an event
/// then.
pub const DENSE_BATCH_EVENTS: u64 = 29;

/// Events a sparse day must have for its recount to be written as day items: 28 items
/// and the day's mark, at most one write unit an event.
pub const SPARSE_DAY_ITEMS_FROM: u64 = 29;

/// Events a recounted sparse day must have for each hour item it would take (one per
/// view and hour with events, 672 at most) for those to be written: at most half a
/// write unit an event. A day with fewer reads its hours from the count index: fewer
/// than 1,344 events there, about 32 read units for a whole day.
pub const SPARSE_HOURS_EVENTS_PER_ITEM: u64 = 2;

/// Whether a sparse day of `events`, whose recount takes `hour_items` hour items, gets
/// them written (see [`SPARSE_HOURS_EVENTS_PER_ITEM`]).
pub fn sparse_hours_pay(events: u64, hour_items: u64) -> bool {
    events >= SPARSE_DAY_ITEMS_FROM && events >= hour_items.saturating_mul(SPARSE_HOURS_EVENTS_PER_ITEM)
}

/// What the consumer decided for one domain's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayMark {
    /// The stream counts the day's events into hour items.
    pub dense: bool,
    /// A batch brought at least [`DENSE_BATCH_EVENTS`] of the day's events: the next day
    /// starts dense (a busy domain's first batch after midnight may be small).
    pub hot: bool,
    /// A sparse day recounted once it was over: how many events it had (its day items
    /// exist when at least [`SPARSE_DAY_ITEMS_FROM`]).
    pub counted: Option<u64>,
    /// A sparse day recounted once over with its hour items written too (see
    /// [`sparse_hours_pay`]).
    pub hours: bool,
    /// An event of the day reached the consumer after the progress had passed the
    /// day's end (stored far out of time order, as bulk loads do): its day items may
    /// have been written without it, so the day is read from its hours for good when
    /// dense, from the index when sparse.
    pub late: bool,
}

/// How a stat reads one day of a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRead {
    /// From rollup items: its day item when `day_item`, else its hour items.
    Rollups { day_item: bool },
    /// From the index: a sparse day without day items (yet).
    Index,
}

impl DayMark {
    /// The mark a day gets when `events` of it come in its first batch and the day
    /// before was `before`; `dense_from` is [`DENSE_BATCH_EVENTS`] but in tests.
    pub fn first(events: u64, before: Option<&DayMark>, dense_from: u64) -> DayMark {
        let hot = events >= dense_from;
        DayMark { dense: hot || before.is_some_and(|b| b.hot), hot, counted: None, hours: false, late: false }
    }
}

/// Whether a day's hours are read from hour items (a dense day's, which the stream
/// keeps; a recounted sparse day's, unless events came late since) rather than the
/// index. A day with no mark reads as a dense one (see [`read_day`]).
pub fn hours_from_rollups(mark: Option<&DayMark>) -> bool {
    mark.is_none_or(|m| m.dense || (m.hours && !m.late))
}

/// How a day is read, given its mark (None: no event of it has reached the consumer,
/// or it was counted before days had marks: hour and day items, as dense days) and
/// the first day whose dense day items are not written yet.
pub fn read_day(day: DateTime<Utc>, mark: Option<&DayMark>, compacted: Option<DateTime<Utc>>) -> DayRead {
    match mark {
        Some(m) if !m.dense => match m.counted {
            Some(n) if n >= SPARSE_DAY_ITEMS_FROM && !m.late => DayRead::Rollups { day_item: true },
            _ => DayRead::Index,
        },
        _ => DayRead::Rollups {
            day_item: compacted.is_some_and(|through| day < through) && !mark.is_some_and(|m| m.late),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    #[test]
    fn a_day_is_dense_from_a_full_first_batch_or_a_hot_day_before() {
        assert!(!DayMark::first(1, None, DENSE_BATCH_EVENTS).dense);
        assert!(DayMark::first(DENSE_BATCH_EVENTS, None, DENSE_BATCH_EVENTS).dense);
        let hot = DayMark { dense: false, hot: true, counted: None, hours: false, late: false };
        assert!(
            DayMark::first(1, Some(&hot), DENSE_BATCH_EVENTS).dense,
            "a day that turned busy: the next starts dense"
        );
        let quiet = DayMark { dense: true, hot: false, counted: None, hours: false, late: false };
        assert!(
            !DayMark::first(1, Some(&quiet), DENSE_BATCH_EVENTS).dense,
            "a dense day that stayed quiet does not carry on"
        );
    }

    #[test]
    fn a_busy_sparse_day_gets_hour_items_and_reads_its_hours_from_them() {
        assert!(!sparse_hours_pay(28, 1), "too few for day items: no hour items either");
        assert!(sparse_hours_pay(29, 14));
        assert!(!sparse_hours_pay(1_000, 672), "a day of every view and hour needs 1,344");
        assert!(sparse_hours_pay(11_000, 672));
        let sparse = DayMark { dense: false, hot: false, counted: Some(11_000), hours: false, late: false };
        assert!(!hours_from_rollups(Some(&sparse)));
        let with_hours = DayMark { hours: true, ..sparse };
        assert!(hours_from_rollups(Some(&with_hours)));
        assert!(!hours_from_rollups(Some(&DayMark { late: true, ..with_hours })), "late: the index");
        assert!(hours_from_rollups(None));
    }

    #[test]
    fn sparse_days_read_the_index_until_their_day_items_are_written() {
        let day = parse_time("2022-06-01T00:00:00Z").unwrap();
        let sparse = |counted| DayMark { dense: false, hot: false, counted, hours: false, late: false };
        assert_eq!(read_day(day, Some(&sparse(None)), None), DayRead::Index);
        assert_eq!(read_day(day, Some(&sparse(Some(3))), None), DayRead::Index);
        assert_eq!(read_day(day, Some(&sparse(Some(40))), None), DayRead::Rollups { day_item: true });
        let late = DayMark { late: true, ..sparse(Some(40)) };
        assert_eq!(read_day(day, Some(&late), None), DayRead::Index, "a late event: the index answers");
        let later = parse_time("2022-06-02T00:00:00Z").unwrap();
        assert_eq!(read_day(day, None, Some(later)), DayRead::Rollups { day_item: true });
        let dense = DayMark { dense: true, hot: true, counted: None, hours: false, late: false };
        assert_eq!(read_day(day, Some(&dense), Some(day)), DayRead::Rollups { day_item: false });
        let later = Some(day + chrono::Duration::days(1));
        assert_eq!(read_day(day, Some(&dense), later), DayRead::Rollups { day_item: true });
        let late = DayMark { late: true, ..dense };
        assert_eq!(read_day(day, Some(&late), later), DayRead::Rollups { day_item: false }, "its hours");
    }
}
