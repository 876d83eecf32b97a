//! How a query's created_at range splits between rollup buckets and the index: whole
//! days from day buckets, whole hours around them from hour buckets, and what is left at
//! the edges (a part of an hour), before the rollups are known to count everything
//! (events that may have expired, or were stored before the consumer started), and
//! after them (the last minutes, which the stream may not have delivered yet) from the
//! index.

use chrono::{DateTime, Duration, Utc};

use super::Granularity;

/// Where rollups count every event: from `since` (bucket-aligned or not) to `until`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counted {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A run of buckets of one granularity, first and last start inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Buckets {
    pub granularity: Granularity,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// An inclusive created_at range in whole milliseconds; None is unbounded.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The parts of a range: buckets to read from rollups, and ranges to read from the index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Split {
    pub buckets: Vec<Buckets>,
    pub index: Vec<TimeRange>,
}

/// Splits the inclusive range `from..=to` (None: unbounded) given where rollups count
/// everything; `finest` is the widest bucket the query can use (Hour when it groups by
/// the hour). Events created before `counted.since` exist only in the index, so an
/// unbounded start reads the index up to there.
pub fn split(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    counted: Counted,
    finest: Granularity,
) -> Split {
    let ms = Duration::milliseconds(1);
    let end = to.map(|t| t + ms); // exclusive
    let lo = Granularity::Hour.ceil(from.map_or(counted.since, |f| f.max(counted.since)));
    let hi = Granularity::Hour.floor(end.map_or(counted.until, |e| e.min(counted.until)));
    if lo >= hi {
        return Split { buckets: Vec::new(), index: vec![(from, to)] };
    }
    let mut split = Split::default();
    if from.is_none_or(|f| f < lo) {
        split.index.push((from, Some(lo - ms)));
    }
    let hours = |first: DateTime<Utc>, end: DateTime<Utc>| {
        (first < end).then(|| Buckets {
            granularity: Granularity::Hour,
            first,
            last: end - Granularity::Hour.width(),
        })
    };
    let (day_lo, day_hi) = (Granularity::Day.ceil(lo), Granularity::Day.floor(hi));
    if finest == Granularity::Day && day_lo < day_hi {
        split.buckets.extend(hours(lo, day_lo));
        split.buckets.push(Buckets {
            granularity: Granularity::Day,
            first: day_lo,
            last: day_hi - Granularity::Day.width(),
        });
        split.buckets.extend(hours(day_hi, hi));
    } else {
        split.buckets.extend(hours(lo, hi));
    }
    if end.is_none_or(|e| hi < e) {
        split.index.push((Some(hi), to));
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    fn counted() -> Counted {
        Counted { since: at("2022-01-01T00:00:00Z"), until: at("2022-07-01T12:34:56.789Z") }
    }

    fn hours(first: &str, last: &str) -> Buckets {
        Buckets { granularity: Granularity::Hour, first: at(first), last: at(last) }
    }

    fn days(first: &str, last: &str) -> Buckets {
        Buckets { granularity: Granularity::Day, first: at(first), last: at(last) }
    }

    #[test]
    fn whole_days_come_from_days_and_their_edges_from_hours_and_the_index() {
        let split = split(
            Some(at("2022-06-01T05:30:00Z")),
            Some(at("2022-06-04T02:00:00Z")),
            counted(),
            Granularity::Day,
        );
        assert_eq!(
            split.buckets,
            [
                hours("2022-06-01T06:00:00Z", "2022-06-01T23:00:00Z"),
                days("2022-06-02T00:00:00Z", "2022-06-03T00:00:00Z"),
                hours("2022-06-04T00:00:00Z", "2022-06-04T01:00:00Z"),
            ]
        );
        assert_eq!(
            split.index,
            [
                (Some(at("2022-06-01T05:30:00Z")), Some(at("2022-06-01T05:59:59.999Z"))),
                (Some(at("2022-06-04T02:00:00Z")), Some(at("2022-06-04T02:00:00Z"))),
            ]
        );
    }

    #[test]
    fn a_range_on_day_edges_reads_days_only() {
        let split = split(
            Some(at("2022-06-01T00:00:00Z")),
            Some(at("2022-06-30T23:59:59.999Z")),
            counted(),
            Granularity::Day,
        );
        assert_eq!(split.buckets, [days("2022-06-01T00:00:00Z", "2022-06-30T00:00:00Z")]);
        assert!(split.index.is_empty());
    }

    #[test]
    fn grouping_by_the_hour_reads_hours() {
        let split = split(
            Some(at("2022-06-01T00:00:00Z")),
            Some(at("2022-06-02T23:59:59.999Z")),
            counted(),
            Granularity::Hour,
        );
        assert_eq!(split.buckets, [hours("2022-06-01T00:00:00Z", "2022-06-02T23:00:00Z")]);
    }

    #[test]
    fn what_rollups_may_not_count_yet_comes_from_the_index() {
        let open = split(None, None, counted(), Granularity::Day);
        assert_eq!(
            open.buckets,
            [
                days("2022-01-01T00:00:00Z", "2022-06-30T00:00:00Z"),
                hours("2022-07-01T00:00:00Z", "2022-07-01T11:00:00Z"),
            ]
        );
        assert_eq!(
            open.index,
            [(None, Some(at("2021-12-31T23:59:59.999Z"))), (Some(at("2022-07-01T12:00:00Z")), None)]
        );
        let recent = split(Some(at("2022-07-01T12:10:00Z")), None, counted(), Granularity::Day);
        assert_eq!((recent.buckets.len(), recent.index), (0, vec![(Some(at("2022-07-01T12:10:00Z")), None)]));
        let before = split(None, Some(at("2021-06-01T00:00:00Z")), counted(), Granularity::Day);
        assert_eq!(before.index, [(None, Some(at("2021-06-01T00:00:00Z")))]);
        let crossed = split(
            Some(at("2022-06-02T00:00:00Z")),
            Some(at("2022-06-01T00:00:00Z")),
            counted(),
            Granularity::Day,
        );
        assert!(crossed.buckets.is_empty(), "an empty range reads nothing from rollups");
    }
}
