//! Rollups in tests: the events stream of a test's tables read from DynamoDB Local, the
//! consumer run over it, and the rollups checked against the events the query path
//! reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use event_core::model::parse_time;
use event_core::rollup::plan::Buckets;
use event_core::rollup::{Change, Fact, Granularity, View};
use event_core::service::{App, RollupConsumer};
use event_core::store::stream::ShardBatch;
use event_core::store::EventRange;
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

/// What the rollups of `domain_id` hold, every view and bucket.
pub async fn rollups_of(app: &App, domain_id: &str) -> Counts {
    let mut counts = Counts::new();
    for view in View::all() {
        for granularity in [Granularity::Hour, Granularity::Day] {
            let all = Buckets {
                granularity,
                first: parse_time("1970-01-01").unwrap(),
                last: parse_time("2199-12-31").unwrap(),
            };
            app.store
                .each_rollup_cell(&crate::trusted(domain_id), view, &all, |at, cell, n| {
                    *counts.entry((view, granularity, at, cell.0)).or_default() += n;
                    Ok(())
                })
                .await
                .expect("rollups read");
        }
    }
    counts
}

/// What the rollups of `domain_id` must hold: the events the domain index reads,
/// counted in memory.
pub async fn expected_rollups(app: &App, domain_id: &str) -> Counts {
    let events =
        app.store.query_events(&EventRange::domain(&crate::trusted(domain_id))).await.expect("events read");
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
                let key = (view, granularity, granularity.floor(fact.created_at), fact.cell(view).0);
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    counts
}

/// Fails unless the rollups of every domain are exactly the counts of its events.
pub async fn assert_rollups_exact(app: &App, domains: &[&str], context: &str) {
    for domain_id in domains {
        let (got, want) = (rollups_of(app, domain_id).await, expected_rollups(app, domain_id).await);
        assert!(!want.is_empty(), "{context}: {domain_id} has events");
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
