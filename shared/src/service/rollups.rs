//! The rollup consumer: one shard's batch of stream records in, each rollup item it
//! touches updated once per run of records (see [`crate::rollup`] for why that is exact
//! under redelivery), and the first record not yet counted handed back, so the stream
//! resumes there.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use tokio::task::JoinSet;

use super::rollup_days::{put_items, Decided, Late};
use super::App;
use crate::model::format_time;
use crate::rollup::density::DENSE_BATCH_EVENTS;
use crate::rollup::plan::Buckets;
use crate::rollup::progress::MAX_WRITE_DELAY;
use crate::rollup::{
    fold, transient, Cell, Change, Delta, Dims, Granularity, ItemKey, View, COMPACT_TIME_PER_BATCH,
};
use crate::store::stream::LocalStream;
use crate::store::{EventIndex, EventRange, RawData, Store};

/// How often the local stack looks for new stream records, as Lambda polls a shard.
const POLL: Duration = Duration::from_secs(1);

/// Items updated at once: a batch touches each view's hour and day item per domain.
const IN_FLIGHT: usize = 16;

/// What one batch came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    /// The first record not certainly counted: the stream hands the batch again from it.
    pub failed: Option<String>,
    /// Events whose update failed in a way no retry changes (logged, not counted).
    pub set_aside: u64,
    /// The latest creation time of the events the shard has applied up to the failure
    /// (or the batch's end), as recorded in its progress.
    pub applied: Option<DateTime<Utc>>,
}

/// The consumer of one process (a Lambda instance, the local server), shared by its
/// invocations.
#[derive(Clone)]
pub struct RollupConsumer {
    store: Store,
    retention_days: u32,
    /// The earliest event time this process has recorded in the `#since` marker, so
    /// each batch does not write it again.
    marked_since: Arc<Mutex<Option<DateTime<Utc>>>>,
    /// Events of a domain's day in its first batch from which the day is dense.
    dense_from: u64,
    decided: Decided,
    /// Per shard, the `applied` this process last recorded.
    recorded: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
}

impl RollupConsumer {
    pub fn new(store: Store, retention_days: u32) -> Self {
        RollupConsumer {
            store,
            retention_days,
            marked_since: Arc::default(),
            dense_from: DENSE_BATCH_EVENTS,
            decided: Decided::default(),
            recorded: Arc::default(),
        }
    }

    /// Days whose first batch brings at least `events` of them are dense (default
    /// [`DENSE_BATCH_EVENTS`]); 1 makes every day dense, as tests of hour items want.
    pub fn dense_from(self, events: u64) -> Self {
        RollupConsumer { dense_from: events.max(1), ..self }
    }

    /// Counts one shard's batch, records in stream order. Answers the sequence number of
    /// the first record that is not certainly counted, if any: the caller hands the
    /// batch again from there (Lambda: a batch item failure), and records counted
    /// meanwhile are not counted twice.
    pub async fn consume(&self, shard_id: &str, changes: &[Change]) -> Option<String> {
        self.consume_batch(shard_id, changes).await.failed
    }

    /// [`Self::consume`], telling what the batch came to; also records the shard's
    /// progress (see [`crate::rollup::progress`]).
    pub async fn consume_batch(&self, shard_id: &str, changes: &[Change]) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        let mut failed: Option<Change> = None;
        let first_fact = changes.iter().find(|c| c.fact.is_some());
        if let Some(first) = first_fact {
            if let Err(error) = self.mark_since(changes).await {
                tracing::warn!(code = error.code(), %error, "cannot record where rollups start");
                failed = Some(first.clone());
            }
        }
        // Records of sparse days count nothing here: reads take those days from the
        // index (see `crate::rollup::density`).
        let (mut dense, mut late) = (Vec::new(), Vec::new());
        if failed.is_none() {
            let decided = match self.store.rollup_progress().await {
                Ok(progress) => {
                    let until = progress.counted_until(Utc::now());
                    let shard = progress.shards.iter().find(|s| s.shard_id == shard_id);
                    let handled = shard.and_then(|s| s.through.as_ref());
                    let (store, dense_from, retention) = (&self.store, self.dense_from, self.retention_days);
                    self.decided.sparse_days(store, changes, dense_from, retention, until, handled).await
                }
                Err(error) => Err(error),
            };
            match decided {
                Ok((sparse, late_days)) => {
                    late = late_days;
                    dense = changes
                        .iter()
                        .map(|c| match &c.fact {
                            Some(f)
                                if sparse.contains(&(
                                    f.domain_id.clone(),
                                    Granularity::Day.floor(f.created_at),
                                )) =>
                            {
                                Change { fact: None, ..c.clone() }
                            }
                            _ => c.clone(),
                        })
                        .collect();
                }
                Err(error) => {
                    tracing::warn!(code = error.code(), %error, "cannot decide the batch's days");
                    failed = first_fact.cloned();
                }
            }
        }
        let wrote = dense.iter().any(|c| c.fact.is_some());
        if failed.is_none() {
            let (first_failed, set_aside) = self.apply(shard_id, &dense).await;
            failed = first_failed;
            outcome.set_aside = set_aside;
        }
        // Every record before the first failed one is counted (or set aside), so the
        // shard has applied every event created before that one's event.
        let counted: Vec<&Change> =
            changes.iter().filter(|c| failed.as_ref().is_none_or(|f| c.seq < f.seq)).collect();
        outcome.applied = counted.iter().filter_map(|c| c.fact.as_ref()).map(|f| f.created_at).max();
        if let Some(fact) = failed.as_ref().and_then(|f| f.fact.as_ref()) {
            let before = fact.created_at - chrono::Duration::milliseconds(1);
            outcome.applied = outcome.applied.max(Some(before));
        }
        let through = counted.last().map(|c| c.seq.clone());
        if wrote || failed.is_some() || self.new_day(shard_id, outcome.applied) {
            let recorded =
                self.store.record_rollup_progress(shard_id, outcome.applied, through, Utc::now()).await;
            match recorded {
                Ok(()) => self.note_recorded(shard_id, outcome.applied),
                // Stats then trust rollups only as far as the last progress recorded.
                Err(error) => {
                    tracing::warn!(code = error.code(), %error, shard_id, "cannot record the rollups' progress")
                }
            }
        }
        if failed.is_none() {
            self.write_late_days_again(late).await;
        }
        let domains: BTreeSet<&str> =
            counted.iter().filter_map(|c| c.fact.as_ref()).map(|f| f.domain_id.as_str()).collect();
        if !domains.is_empty() {
            if let Err(error) = self.compact(&domains).await {
                // Reads take those days from their hours until a later batch writes them.
                tracing::warn!(%error, "cannot write rollup day items");
            }
        }
        outcome.failed = failed.map(|f| f.sequence_number);
        outcome
    }

    /// Writes again the day items of days that got records after they were over (now
    /// applied: a dense day's hours hold them, the index holds a sparse day's), and
    /// records each fixed up to its late count, so reads trust them again. A dense day
    /// whose hours do not match its events yet (more of them on their way) stays late:
    /// read from its hours, and written again by the batch of its next late records.
    async fn write_late_days_again(&self, late: Vec<Late>) {
        for day in late {
            let written = if day.dense {
                self.compact_day(&day.domain_id, day.day, day.count).await
            } else {
                let (store, retention) = (&self.store, self.retention_days);
                let counted =
                    self.decided.count_sparse_day(store, &day.domain_id, day.day, retention, day.count);
                counted.await.map(|()| true)
            };
            let fixed = match written {
                Ok(true) => self.store.mark_rollup_day_fixed(&day.domain_id, day.day, day.count).await,
                Ok(false) => Ok(()),
                Err(error) => Err(error),
            };
            if let Err(error) = fixed {
                tracing::warn!(code = error.code(), %error, "cannot write a late day's items again: it reads from hours or the index");
            }
        }
    }

    /// Whether `applied` closes a day that what this process last recorded for the
    /// shard did not (or it recorded nothing yet). A batch that wrote no rollup item
    /// records its progress only then: a progress behind what the shard has applied
    /// only makes stats read more of the index, and once a day is what sparse days need
    /// to be recounted once over.
    fn new_day(&self, shard_id: &str, applied: Option<DateTime<Utc>>) -> bool {
        let Some(applied) = applied else { return false };
        let closed = |t: DateTime<Utc>| Granularity::Day.floor(t - MAX_WRITE_DELAY);
        let recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        recorded.get(shard_id).is_none_or(|last| closed(applied) > closed(*last))
    }

    fn note_recorded(&self, shard_id: &str, applied: Option<DateTime<Utc>>) {
        if let Some(applied) = applied {
            let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
            let last = recorded.entry(shard_id.to_string()).or_insert(applied);
            *last = (*last).max(applied);
        }
    }

    /// Writes the day items of each domain's days that every shard has applied and that
    /// have none yet (see [`crate::rollup`], "Days"), at most
    /// [`COMPACT_TIME_PER_BATCH`] of it a batch, so a batch of many domains just after
    /// midnight, or the first batch after an upgrade, stays well inside the function's
    /// timeout; the rest follow in later batches.
    async fn compact(&self, domains: &BTreeSet<&str>) -> crate::Result<()> {
        let progress = self.store.rollup_progress().await?;
        let now = Utc::now();
        let (Some(since), Some(counted_until)) = (progress.since, progress.counted_until(now)) else {
            return Ok(());
        };
        let end = Granularity::Day.floor(counted_until);
        // Days reads may take from day items: none before the retention horizon (their
        // hours and events expire each in its own time).
        let horizon = (self.retention_days > 0)
            .then(|| Granularity::Day.ceil(now - Span::days(self.retention_days.into())));
        let started = std::time::Instant::now();
        let spent = || started.elapsed() >= COMPACT_TIME_PER_BATCH;
        for domain_id in domains {
            if spent() {
                break;
            }
            let from = match self.store.rollup_days_compacted(domain_id).await? {
                Some(from) => from,
                None => Granularity::Day.floor(since),
            };
            let from = horizon.map_or(from, |h| from.max(h));
            if from >= end {
                continue;
            }
            // Every event counts in every view: the days with hour items of one view are
            // the days with events.
            let hours = Buckets { granularity: Granularity::Hour, first: from, last: end - Span::hours(1) };
            let any = View::covering(Dims(0)).expect("a view for no field");
            let mut days: BTreeSet<DateTime<Utc>> = self
                .store
                .rollup_buckets_consistent(domain_id, any, &hours)
                .await?
                .into_iter()
                .map(|b| Granularity::Day.floor(b.start))
                .collect();
            // Sparse days have no hour items: their marks name them.
            let marks = self.store.rollup_day_marks(domain_id, from, end - Span::days(1), true).await?;
            days.extend(marks.marks.keys().copied().filter(|day| *day < end));
            let mut through = end;
            for day in days {
                let done = match marks.marks.get(&day) {
                    _ if spent() => false,
                    Some(mark) if !mark.dense => {
                        // A late day is read from the index for good: no recount.
                        if mark.counted.is_none() && !mark.late {
                            self.decided
                                .count_sparse_day(&self.store, domain_id, day, self.retention_days, 0)
                                .await?;
                        }
                        true
                    }
                    _ => self.compact_day(domain_id, day, 0).await?,
                };
                if !done {
                    through = day;
                    break;
                }
            }
            if through > from {
                self.store.mark_rollup_days_compacted(domain_id, through).await?;
            }
        }
        Ok(())
    }

    /// Puts each view's day item: the sum of its hour items (spilled events stay
    /// spilled, and cells past an item's room spill, as a rebuild lays them out). Only
    /// when every view's hours count as many events as the count index holds for the
    /// day: progress rests on events being stored in time order, and a day whose hours
    /// are short (records stored out of order and not applied yet, a record set aside)
    /// is left to its hours and tried again by a later batch. False then. `generation`
    /// is the day's late count the write answers for (0 for a day compacted in time).
    async fn compact_day(&self, domain_id: &str, day: DateTime<Utc>, generation: u64) -> crate::Result<bool> {
        let range = EventRange {
            index: EventIndex::Domain,
            domain: crate::tenant::stream_domain(domain_id),
            created_from: Some(format_time(day)),
            created_to: Some(format_time(day + Span::days(1) - Span::milliseconds(1))),
            filters: Vec::new(),
            raw_data: RawData::Skip,
        };
        let stored_events = self.store.count_events(&range).await?;
        let hours = Buckets { granularity: Granularity::Hour, first: day, last: day + Span::hours(23) };
        // Each view's hours, read at once.
        let mut reads = JoinSet::new();
        for view in View::all() {
            let (store, domain_id) = (self.store.clone(), domain_id.to_string());
            reads.spawn(async move {
                let buckets = store.rollup_buckets_consistent(&domain_id, view, &hours).await;
                (view, buckets)
            });
        }
        let mut read = Vec::new();
        while let Some(done) = reads.join_next().await {
            let (view, buckets) = done.map_err(|e| crate::Error::Internal(e.to_string()))?;
            read.push((view, buckets?));
        }
        read.sort_by_key(|(view, _)| *view);
        let mut sums = Vec::new();
        for (view, buckets) in read {
            let mut cells: BTreeMap<Cell, u64> = BTreeMap::new();
            let mut spilled = 0;
            for bucket in buckets {
                spilled += bucket.spilled;
                for (cell, n) in bucket.cells {
                    *cells.entry(cell).or_default() += n;
                }
            }
            let counted = cells.values().sum::<u64>() + spilled;
            if counted != stored_events {
                tracing::info!(
                    domain_id, %day, view = view.name(), counted, stored_events,
                    "a day's rollup hours do not count its events yet: its day items wait"
                );
                return Ok(false);
            }
            sums.push((view, cells, spilled));
        }
        let items = sums
            .into_iter()
            .map(|(view, cells, spilled)| {
                let item = ItemKey {
                    domain_id: domain_id.to_string(),
                    view,
                    granularity: Granularity::Day,
                    start: day,
                };
                (item, cells, spilled)
            })
            .collect();
        put_items(&self.store, items, self.retention_days, generation).await?;
        Ok(true)
    }

    /// Applies the batch's deltas, items in parallel and each item's runs in order:
    /// the first record not certainly counted, and how many events were set aside.
    async fn apply(&self, shard_id: &str, changes: &[Change]) -> (Option<Change>, u64) {
        let mut per_item: BTreeMap<ItemKey, Vec<Delta>> = BTreeMap::new();
        for delta in fold(changes) {
            per_item.entry(delta.item.clone()).or_default().push(delta);
        }
        let mut tasks = JoinSet::new();
        let mut failed: Option<Change> = None;
        let mut set_aside = 0;
        let mut note = |done: Result<Runs, tokio::task::JoinError>| {
            let runs = done.unwrap_or(Runs { failed: None, set_aside: 0 });
            set_aside += runs.set_aside;
            if let Some(change) = runs.failed {
                if failed.as_ref().is_none_or(|f| change.seq < f.seq) {
                    failed = Some(change);
                }
            }
        };
        for runs in per_item.into_values() {
            while tasks.len() >= IN_FLIGHT {
                if let Some(done) = tasks.join_next().await {
                    note(done);
                }
            }
            let (store, shard, retention) = (self.store.clone(), shard_id.to_string(), self.retention_days);
            tasks.spawn(async move { apply_runs(&store, &shard, retention, runs).await });
        }
        while let Some(done) = tasks.join_next().await {
            note(done);
        }
        (failed, set_aside)
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
    let consumer = RollupConsumer::new(app.store.clone(), app.config.retention_days)
        .dense_from(app.config.rollup_dense_batch_events);
    loop {
        let error = match app.store.local_stream(&endpoint).await {
            Ok(mut stream) => follow(&consumer, &mut stream).await,
            Err(error) => error,
        };
        tracing::warn!(code = error.code(), %error, "reading the events stream failed; trying again");
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

/// What one item's runs came to.
struct Runs {
    /// The first record of the run that failed and may succeed when tried again.
    failed: Option<Change>,
    set_aside: u64,
}

/// Applies one item's runs in stream order. A failure that a retry may cure answers the
/// first record of its run (later runs of the item are not tried: they would raise the
/// mark past it); any other is logged and the run set aside, so no record holds back
/// the shard's others.
async fn apply_runs(store: &Store, shard_id: &str, retention_days: u32, runs: Vec<Delta>) -> Runs {
    let mut set_aside = 0;
    for run in runs {
        match store.apply_rollup(&run, shard_id, retention_days).await {
            Ok(()) => {}
            Err(error) if transient(&error) => {
                tracing::warn!(code = error.code(), %error, item = ?run.item, "rollup update failed; the batch will be handed again");
                return Runs { failed: Some(run.first().clone()), set_aside };
            }
            Err(error) => {
                tracing::error!(
                    code = error.code(), %error, item = ?run.item, first = %run.first().sequence_number, events = run.events(),
                    "rollup update set aside: its bucket undercounts until `eventctl rollups rebuild`"
                );
                set_aside += run.events();
            }
        }
    }
    Runs { failed: None, set_aside }
}
