//! Rollups in tests: the events stream of a test's tables read from DynamoDB Local, the
//! consumer run over it, and the rollups checked against the events the query path
//! reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use event_core::model::parse_time;
use event_core::rollup::density::{hours_from_rollups, read_day, DayRead};
use event_core::rollup::plan::Buckets;
use event_core::rollup::{Change, Fact, Granularity, View};
use event_core::service::{App, RollupConsumer};
use event_core::store::stream::ShardBatch;
use event_core::store::{DayMarks, EventRange};
use serde_json::Value;

use crate::endpoint;

/// Every record the events stream holds now, shard by shard, in stream order.
pub async fn stream_records(app: &App) -> Vec<ShardBatch> {
    let mut stream = app.store.local_stream(endpoint()).await.expect("the events table streams");
    let mut shards: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    loop {
        let batches = stream.poll().await.expect("the stream reads");
        if batches.is_empty() {
            break;
        }
        for batch in batches {
            let last = batch.changes.last().expect("a batch holds records").sequence_number.clone();
            stream.handled(&batch.shard_id, &last);
            shards.entry(batch.shard_id).or_default().extend(batch.changes);
        }
    }
    shards.into_iter().map(|(shard_id, changes)| ShardBatch { shard_id, changes }).collect()
}

/// Runs `consumer` over the stream until it is caught up, as `eventctl serve` does.
pub async fn count_everything(app: &App, consumer: &RollupConsumer) {
    for shard in stream_records(app).await {
        for batch in shard.changes.chunks(500) {
            assert_eq!(consumer.consume(&shard.shard_id, batch).await, None, "every record is counted");
        }
    }
}

/// Per (view, granularity, bucket start, cell values), a count.
pub type Counts = BTreeMap<(View, Granularity, DateTime<Utc>, Vec<String>), u64>;

/// The cell a bucket's spilled events are listed under in [`Counts`] (no real cell has
/// one value in a pair view, nor this text in a one-field view in these tests).
pub const SPILLED: &str = "~spilled";

/// What the rollups of `domain_id` hold, every view and bucket (day items of the days
/// the consumer has marked compacted); a bucket's spilled events under the cell
/// `[SPILLED]`.
pub async fn rollups_of(app: &App, domain_id: &str) -> Counts {
    // Day items of days not marked compacted yet may be half written (reads ignore them).
    let marks = day_marks(app, domain_id).await;
    let mut counts = Counts::new();
    for view in View::all() {
        for granularity in [Granularity::Hour, Granularity::Day] {
            let all = Buckets {
                granularity,
                first: parse_time("1970-01-01").unwrap(),
                last: parse_time("2199-12-31").unwrap(),
            };
            let buckets =
                app.store.rollup_buckets(&crate::trusted(domain_id), view, &all).await.expect("rollups read");
            for bucket in buckets {
                if !read_from_rollups(&marks, granularity, bucket.start) {
                    continue;
                }
                for (cell, n) in bucket.cells {
                    *counts.entry((view, granularity, bucket.start, cell.0)).or_default() += n;
                }
                if bucket.spilled > 0 {
                    counts.insert((view, granularity, bucket.start, vec![SPILLED.into()]), bucket.spilled);
                }
            }
        }
    }
    counts
}

/// Every day mark of the domain, and its `compacted` day.
pub async fn day_marks(app: &App, domain_id: &str) -> DayMarks {
    let (first, last) = (parse_time("1970-01-01").unwrap(), parse_time("2199-12-31").unwrap());
    app.store.rollup_day_marks(domain_id, first, last, true).await.expect("rollups read")
}

/// Whether reads take a bucket from rollups, so rollups must hold it: an hour of a day
/// that is not sparse, or sparse and recounted with its hour items; a day whose day
/// items are written (a dense day compacted, a sparse day recounted with enough events).
pub fn read_from_rollups(marks: &DayMarks, granularity: Granularity, start: DateTime<Utc>) -> bool {
    let day = Granularity::Day.floor(start);
    let mark = marks.marks.get(&day);
    match granularity {
        Granularity::Hour => hours_from_rollups(mark),
        Granularity::Day => read_day(day, mark, marks.compacted) == DayRead::Rollups { day_item: true },
    }
}

/// What the rollups of `domain_id` must hold: the events the domain index reads,
/// counted in memory, in hour items, and in day items for the days the consumer has
/// compacted.
pub async fn expected_rollups(app: &App, domain_id: &str) -> Counts {
    let events =
        app.store.query_events(&EventRange::domain(&crate::trusted(domain_id))).await.expect("events read");
    // Day items are written once the consumer has compacted their day.
    let marks = day_marks(app, domain_id).await;
    let mut counts = Counts::new();
    for event in events {
        let json = serde_json::to_value(&event).unwrap();
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let fact = Fact {
            domain_id: event.domain_id.clone(),
            created_at: parse_time(&event.created_at).unwrap(),
            values: [
                text(&json["severity"]),
                text(&json["event_type"]),
                event.project_id.clone(),
                event.workspace_id.clone(),
                event.webhook_id.clone(),
                event.provider.clone(),
                event.resource.resource_type.clone(),
            ],
        };
        for view in View::all() {
            for granularity in [Granularity::Hour, Granularity::Day] {
                let start = granularity.floor(fact.created_at);
                if !read_from_rollups(&marks, granularity, start) {
                    continue;
                }
                let key = (view, granularity, start, fact.cell(view).0);
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    counts
}

/// The counts of a bucket with spilled events as exactness allows: its spilled events
/// and every cell of the expected counts the cells do not hold make one spilled count.
fn as_spilled(got: &Counts, want: &Counts) -> Counts {
    let spilled: std::collections::BTreeSet<_> = got
        .keys()
        .filter(|k| k.3 == [SPILLED])
        .map(|(view, granularity, at, _)| (*view, *granularity, *at))
        .collect();
    let mut counts = Counts::new();
    for ((view, granularity, at, cell), n) in want {
        if spilled.contains(&(*view, *granularity, *at)) {
            let held = got.get(&(*view, *granularity, *at, cell.clone())).copied().unwrap_or(0).min(*n);
            if held > 0 {
                counts.insert((*view, *granularity, *at, cell.clone()), held);
            }
            if *n > held {
                *counts.entry((*view, *granularity, *at, vec![SPILLED.into()])).or_default() += n - held;
            }
        } else {
            counts.insert((*view, *granularity, *at, cell.clone()), *n);
        }
    }
    counts
}

/// Fails unless the rollups of every domain are exactly the counts of its events: every
/// cell as counted, or, in a bucket with spilled events, each cell at most as counted and
/// the spilled events the rest.
pub async fn assert_rollups_exact(app: &App, domains: &[&str], context: &str) {
    for domain_id in domains {
        let got = rollups_of(app, domain_id).await;
        let want = as_spilled(&got, &expected_rollups(app, domain_id).await);
        let events = app.store.count_events(&EventRange::domain(&crate::trusted(domain_id))).await;
        assert!(events.expect("events count") > 0, "{context}: {domain_id} has events");
        if got != want {
            let wrong: Vec<_> = want
                .iter()
                .filter(|(k, n)| got.get(*k) != Some(*n))
                .map(|(k, n)| {
                    format!("{} {:?} {} {:?}: want {n}, got {:?}", k.0.name(), k.1, k.2, k.3, got.get(k))
                })
                .chain(got.keys().filter(|k| !want.contains_key(*k)).map(|k| format!("extra {k:?}")))
                .take(5)
                .collect();
            panic!("{context}: rollups of {domain_id} differ from its events:\n{}", wrong.join("\n"));
        }
    }
}
