//! How far the consumer has counted, and so how far stats may trust rollups.
//!
//! Each shard's consumer records, after each batch, the latest creation time of the
//! events it has applied (`applied`) and when it last ran (`seen`). A shard's records
//! come in the order their items were written, and an event is written at most
//! [`MAX_WRITE_DELAY`] after its `created_at` (the create function's timeout), so every
//! event of the shard created up to `applied - MAX_WRITE_DELAY` is counted. Rollups are
//! trusted up to the lowest such time over the shards; beyond it stats read the index,
//! so a stalled consumer makes them slower, never wrong.
//!
//! Shards close (DynamoDB Streams rolls them every few hours) and fall idle, and a
//! closed shard never runs again: a shard's entry no longer holds the others back once
//! it has not run for [`LIVENESS`] while another shard, running still, has applied events
//! created after it last ran. A consumer that fails keeps running (Lambda hands it the
//! batch again) and keeps its entry live, holding everyone back; a consumer that stopped
//! altogether leaves no live entry, and then every entry holds.

use chrono::{DateTime, Duration, Utc};

use super::Seq;

/// The longest an event's item is written after its `created_at`: the create function's
/// timeout (29 s), rounded up.
pub const MAX_WRITE_DELAY: Duration = Duration::seconds(30);

/// How long a shard's consumer may go without running before its entry is taken for a
/// closed or idle shard (when another shard has moved past it). Lambda hands a failed
/// batch again within seconds, so a failing consumer stays well inside it.
pub const LIVENESS: Duration = Duration::minutes(10);

/// One shard's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardProgress {
    pub shard_id: String,
    /// The latest creation time of the events the shard's consumer has applied, every
    /// record before them included.
    pub applied: DateTime<Utc>,
    /// When the consumer last ran on the shard.
    pub seen: DateTime<Utc>,
    /// The last record the consumer has handled, every record before it included: a
    /// rebuilt bucket's items take it as the shard's mark (see `service::rollup_repair`).
    pub through: Option<Seq>,
}

/// What the consumer has recorded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    /// The earliest creation time of the events counted (rollups count nothing before).
    pub since: Option<DateTime<Utc>>,
    pub shards: Vec<ShardProgress>,
}

impl Progress {
    /// Up to when (inclusive) rollups count every event, at `now`; None when nothing is
    /// known to be counted.
    pub fn counted_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let live = |s: &ShardProgress| s.seen >= now - LIVENESS;
        let holding = self
            .shards
            .iter()
            .filter(|s| live(s) || !self.shards.iter().any(|other| live(other) && other.applied > s.seen));
        holding.map(|s| s.applied).min().map(|applied| applied - MAX_WRITE_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    fn shard(id: &str, applied: &str, seen: &str) -> ShardProgress {
        ShardProgress { shard_id: id.into(), applied: at(applied), seen: at(seen), through: None }
    }

    #[test]
    fn rollups_are_trusted_up_to_the_slowest_running_shard() {
        let now = at("2022-06-01T12:00:00Z");
        let progress = Progress {
            since: None,
            shards: vec![
                shard("a", "2022-06-01T11:59:50Z", "2022-06-01T11:59:55Z"),
                // Failing: it runs (Lambda retries its batch) but applies nothing new.
                shard("b", "2022-06-01T11:20:00Z", "2022-06-01T11:59:58Z"),
            ],
        };
        assert_eq!(progress.counted_until(now), Some(at("2022-06-01T11:19:30Z")));
        assert_eq!(Progress::default().counted_until(now), None);
    }

    #[test]
    fn a_closed_shard_stops_holding_once_a_running_one_has_moved_past_it() {
        let now = at("2022-06-01T12:00:00Z");
        let closed = shard("old", "2022-06-01T08:00:00Z", "2022-06-01T08:00:05Z");
        let running = shard("new", "2022-06-01T11:59:00Z", "2022-06-01T11:59:30Z");
        let progress = Progress { since: None, shards: vec![closed.clone(), running] };
        assert_eq!(progress.counted_until(now), Some(at("2022-06-01T11:58:30Z")));
        // Within LIVENESS of its last run a quiet shard still holds.
        let quiet = shard("old", "2022-06-01T11:52:00Z", "2022-06-01T11:55:00Z");
        let progress = Progress { since: None, shards: vec![quiet, progress.shards[1].clone()] };
        assert_eq!(progress.counted_until(now), Some(at("2022-06-01T11:51:30Z")));
    }

    #[test]
    fn a_consumer_that_stopped_everywhere_holds_at_where_it_stopped() {
        let now = at("2022-06-01T12:00:00Z");
        let progress = Progress {
            since: None,
            shards: vec![
                shard("a", "2022-06-01T09:00:00Z", "2022-06-01T09:00:10Z"),
                shard("b", "2022-06-01T09:00:05Z", "2022-06-01T09:00:12Z"),
            ],
        };
        // Neither runs any more: b's events after a stopped are not known to be counted.
        assert_eq!(progress.counted_until(now), Some(at("2022-06-01T08:59:30Z")));
    }
}
