//! The rollup consumer: one shard's batch of stream records in, each rollup item it
//! touches updated once per run of records (see [`crate::rollup`] for why that is exact
//! under redelivery), and the first record not yet counted handed back, so the stream
//! resumes there.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::App;
use crate::rollup::{fold, Change, Delta, ItemKey, Seq};
use crate::store::stream::LocalStream;
use crate::store::Store;

/// How often the local stack looks for new stream records, as Lambda polls a shard.
const POLL: Duration = Duration::from_secs(1);

/// Items updated at once: a batch touches each view's hour and day item per domain.
const IN_FLIGHT: usize = 16;

/// The consumer of one process (a Lambda instance, the local server), shared by its
/// invocations.
#[derive(Clone)]
pub struct RollupConsumer {
    store: Store,
    retention_days: u32,
    /// The earliest event time this process has recorded in the `#since` marker, so
    /// each batch does not write it again.
    marked_since: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl RollupConsumer {
    pub fn new(store: Store, retention_days: u32) -> Self {
        RollupConsumer { store, retention_days, marked_since: Arc::default() }
    }

    /// Counts one shard's batch, records in stream order. Answers the sequence number of
    /// the first record that is not certainly counted, if any: the caller hands the
    /// batch again from there (Lambda: a batch item failure), and records counted
    /// meanwhile are not counted twice.
    pub async fn consume(&self, shard_id: &str, changes: &[Change]) -> Option<String> {
        let first_fact = changes.iter().find(|c| c.fact.is_some());
        if let Some(first) = first_fact {
            if let Err(error) = self.mark_since(changes).await {
                tracing::warn!(%error, "cannot record where rollups start");
                return Some(first.sequence_number.clone());
            }
        }
        let mut per_item: BTreeMap<ItemKey, Vec<Delta>> = BTreeMap::new();
        for delta in fold(changes) {
            per_item.entry(delta.item.clone()).or_default().push(delta);
        }
        let mut tasks = JoinSet::new();
        let mut failed: Option<(Seq, String)> = None;
        let note = |failure: Option<&Change>, failed: &mut Option<(Seq, String)>| {
            if let Some(change) = failure {
                if failed.as_ref().is_none_or(|(seq, _)| change.seq < *seq) {
                    *failed = Some((change.seq.clone(), change.sequence_number.clone()));
                }
            }
        };
        for runs in per_item.into_values() {
            while tasks.len() >= IN_FLIGHT {
                if let Some(done) = tasks.join_next().await {
                    note(done.ok().flatten().as_ref(), &mut failed);
                }
            }
            let (store, shard, retention) = (self.store.clone(), shard_id.to_string(), self.retention_days);
            tasks.spawn(async move { apply_runs(&store, &shard, retention, runs).await });
        }
        while let Some(done) = tasks.join_next().await {
            note(done.ok().flatten().as_ref(), &mut failed);
        }
        failed.map(|(_, sequence_number)| sequence_number)
    }

    async fn mark_since(&self, changes: &[Change]) -> crate::Result<()> {
        let Some(earliest) = changes.iter().filter_map(|c| c.fact.as_ref()).map(|f| f.created_at).min()
        else {
            return Ok(());
        };
        let marked = *self.marked_since.lock().unwrap_or_else(|e| e.into_inner());
        if marked.is_some_and(|m| m <= earliest) {
            return Ok(());
        }
        self.store.mark_rollups_since(earliest).await?;
        let mut marked = self.marked_since.lock().unwrap_or_else(|e| e.into_inner());
        *marked = Some(marked.map_or(earliest, |m| m.min(earliest)));
        Ok(())
    }
}

/// Counts the events stream of the DynamoDB Local at `endpoint` into rollups until the
/// process ends: the local stack's stand-in for the rollup function and its event source
/// mapping, with the same consumer.
pub async fn follow_local_stream(app: App, endpoint: String) {
    let consumer = RollupConsumer::new(app.store.clone(), app.config.retention_days);
    loop {
        let error = match app.store.local_stream(&endpoint).await {
            Ok(mut stream) => follow(&consumer, &mut stream).await,
            Err(error) => error,
        };
        tracing::warn!(%error, "reading the events stream failed; trying again");
        tokio::time::sleep(POLL * 5).await;
    }
}

async fn follow(consumer: &RollupConsumer, stream: &mut LocalStream) -> crate::Error {
    loop {
        let batches = match stream.poll().await {
            Ok(batches) => batches,
            Err(error) => return error,
        };
        if batches.is_empty() {
            tokio::time::sleep(POLL).await;
        }
        for batch in batches {
            // A failed batch is read again from its first uncounted record, as Lambda
            // does with a reported batch item failure.
            let failed = consumer.consume(&batch.shard_id, &batch.changes).await;
            let done = match &failed {
                None => batch.changes.last(),
                Some(sequence_number) => {
                    let at = batch.changes.iter().position(|c| &c.sequence_number == sequence_number);
                    at.and_then(|at| at.checked_sub(1)).map(|before| &batch.changes[before])
                }
            };
            if let Some(done) = done {
                stream.handled(&batch.shard_id, &done.sequence_number);
            }
            if failed.is_some() {
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Applies one item's runs in stream order; on a failure, answers the first record of
/// the run that failed (later runs of the item are not tried: they would raise the mark
/// past it).
async fn apply_runs(store: &Store, shard_id: &str, retention_days: u32, runs: Vec<Delta>) -> Option<Change> {
    for run in runs {
        if let Err(error) = store.apply_rollup(&run, shard_id, retention_days).await {
            tracing::warn!(%error, item = ?run.item, "rollup update failed; the batch will be handed again");
            return Some(run.first().clone());
        }
    }
    None
}
