//! The consumer's part of sparse days (see [`crate::rollup::density`]): each batch's
//! (domain, day)s decided, dense or sparse, once and for good; and a sparse day, once
//! over, recounted from the index into its day items.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tokio::task::JoinSet;

use super::rollup_repair::{layout, recount};
use crate::rollup::density::{sparse_hours_pay, DayMark, SPARSE_DAY_ITEMS_FROM};
use crate::rollup::{Cell, Change, Dims, Granularity, ItemKey, Seq, View};
use crate::store::Store;

/// Days decided at once.
const IN_FLIGHT: usize = 16;

/// Marks kept in memory before the older days' are dropped (a dropped one is read again).
const KEPT: usize = 50_000;

type Decision = crate::Result<(DomainDay, DayMark)>;

fn joined(done: Option<Result<Decision, tokio::task::JoinError>>) -> Decision {
    match done {
        Some(Ok(decision)) => decision,
        Some(Err(e)) => Err(crate::Error::Internal(e.to_string())),
        None => Err(crate::Error::Internal("no day decision in flight".into())),
    }
}

/// A day that got records after it was over, and how many batches brought such.
pub(super) struct Late {
    pub domain_id: String,
    pub day: DateTime<Utc>,
    pub dense: bool,
    pub count: u64,
}

/// A (domain, day start).
pub(super) type DomainDay = (String, DateTime<Utc>);

/// The marks this process has read or put. A mark's `dense` never changes, so a cached
/// one answers for good; `hot` and `counted` only ever get set, so a cached one at worst
/// sets them again.
#[derive(Clone, Default)]
pub(super) struct Decided(Arc<Mutex<HashMap<DomainDay, DayMark>>>);

impl Decided {
    fn get(&self, key: &DomainDay) -> Option<DayMark> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(key).copied()
    }

    fn put(&self, key: DomainDay, mark: DayMark) {
        let mut decided = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A long-lived process keeps the last few days: records come in time order.
        if decided.len() >= KEPT {
            let horizon = key.1 - Duration::days(2);
            decided.retain(|(_, day), _| *day >= horizon);
        }
        decided.insert(key, mark);
    }

    /// The (domain, day)s of `changes` that are sparse, deciding those not decided yet
    /// (a day the first time, from how many of its events the batch brings and whether
    /// the day before was hot). A day that ended before `counted_until` (where the
    /// progress said every event was applied) and gets a record the shard had not
    /// handled (after `handled`: not one delivered again) may have had its day items
    /// written without it: it is marked late.
    pub(super) async fn sparse_days(
        &self,
        store: &Store,
        changes: &[Change],
        dense_from: u64,
        retention_days: u32,
        counted_until: Option<DateTime<Utc>>,
        handled: Option<&Seq>,
    ) -> crate::Result<(HashSet<DomainDay>, Vec<Late>)> {
        let mut events: BTreeMap<DomainDay, u64> = BTreeMap::new();
        let mut new = HashSet::new();
        for change in changes {
            let Some(fact) = &change.fact else { continue };
            let key = (fact.domain_id.clone(), Granularity::Day.floor(fact.created_at));
            if handled.is_none_or(|h| change.seq > *h) {
                new.insert(key.clone());
            }
            *events.entry(key).or_default() += 1;
        }
        let over = |key: &DomainDay| counted_until.is_some_and(|until| key.1 + Duration::days(1) <= until);
        // Days this process has not decided yet are read or decided at once (a batch
        // just after midnight may bring many domains' first events of the day).
        let mut marks: HashMap<DomainDay, DayMark> = HashMap::new();
        let mut reads = JoinSet::new();
        for (key, n) in &events {
            match self.get(key) {
                Some(mark) => {
                    marks.insert(key.clone(), mark);
                }
                None => {
                    while reads.len() >= IN_FLIGHT {
                        let (key, mark) = joined(reads.join_next().await)?;
                        marks.insert(key, mark);
                    }
                    let (this, store, key, n) = (self.clone(), store.clone(), key.clone(), *n);
                    reads.spawn(async move {
                        let mark = this.decide(&store, &key, n, dense_from, retention_days).await;
                        mark.map(|mark| (key, mark))
                    });
                }
            }
        }
        while let Some(done) = reads.join_next().await {
            let (key, mark) = joined(Some(done))?;
            marks.insert(key, mark);
        }
        let (mut sparse, mut late) = (HashSet::new(), Vec::new());
        for (key, n) in events {
            let mark = marks
                .get(&key)
                .copied()
                .ok_or_else(|| crate::Error::Internal(format!("no rollup day decision for {key:?}")))?;
            if n >= dense_from && !mark.hot {
                store.mark_rollup_day_hot(&key.0, key.1).await?;
                self.put(key.clone(), DayMark { hot: true, ..mark });
            }
            // Every batch that brings such records counts once more, so a day's items
            // are trusted again only once written after the last of them.
            if over(&key) && new.contains(&key) {
                tracing::info!(domain_id = key.0, day = %key.1, "events of a day came after it was over: its day items are written again");
                let count = store.mark_rollup_day_late(&key.0, key.1).await?;
                late.push(Late { domain_id: key.0.clone(), day: key.1, dense: mark.dense, count });
            }
            if !mark.dense {
                sparse.insert(key);
            }
        }
        Ok((sparse, late))
    }

    async fn decide(
        &self,
        store: &Store,
        key: &DomainDay,
        events: u64,
        dense_from: u64,
        retention_days: u32,
    ) -> crate::Result<DayMark> {
        if let Some(mark) = store.rollup_day_mark(&key.0, key.1).await? {
            self.put(key.clone(), mark);
            return Ok(mark);
        }
        let before_key = (key.0.clone(), key.1 - Duration::days(1));
        let before = match self.get(&before_key) {
            Some(mark) => Some(mark),
            None => store.rollup_day_mark(&key.0, before_key.1).await?,
        };
        let wanted = DayMark::first(events, before.as_ref(), dense_from);
        let item = ItemKey {
            domain_id: key.0.clone(),
            view: View::covering(Dims(0)).expect("a view for no field"),
            granularity: Granularity::Day,
            start: key.1,
        };
        let mark = store.decide_rollup_day(&key.0, key.1, wanted, item.expires_at(retention_days)).await?;
        self.put(key.clone(), mark);
        Ok(mark)
    }

    /// Recounts a sparse day that is over from the domain index and puts its day items
    /// when it has at least [`SPARSE_DAY_ITEMS_FROM`] events, and its hour items when
    /// they pay ([`sparse_hours_pay`]), then records the count on its mark (reads take
    /// the day from those items from then on). `generation` is the day's late count the
    /// recount answers for (0 for a day recounted in time).
    pub(super) async fn count_sparse_day(
        &self,
        store: &Store,
        domain_id: &str,
        day: DateTime<Utc>,
        retention_days: u32,
        generation: u64,
    ) -> crate::Result<()> {
        let domain = crate::tenant::stream_domain(domain_id);
        let counts = recount(store, &domain, day, day + Duration::days(1)).await?;
        let any = View::covering(Dims(0)).expect("a view for no field");
        let events: u64 = counts
            .iter()
            .filter(|(k, _)| k.view == any && k.granularity == Granularity::Day)
            .flat_map(|(_, cells)| cells.values())
            .sum();
        let hour_items = counts.keys().filter(|k| k.granularity == Granularity::Hour).count() as u64;
        let hours = sparse_hours_pay(events, hour_items);
        if events >= SPARSE_DAY_ITEMS_FROM {
            let items = counts
                .into_iter()
                .filter(|(k, _)| hours || k.granularity == Granularity::Day)
                .map(|(item, cells)| (item, cells, 0))
                .collect();
            put_items(store, items, retention_days, generation).await?;
        }
        store.mark_rollup_day_counted(domain_id, day, events, hours).await?;
        let key = (domain_id.to_string(), day);
        if let Some(mark) = self.get(&key) {
            self.put(key, DayMark { counted: Some(events), hours, ..mark });
        }
        Ok(())
    }
}

/// Items written at once.
const WRITES_IN_FLIGHT: usize = 16;

/// Puts items as a rebuild lays them out: each its cells, and how many events spilled.
/// `generation` is the late count of their day they answer for: an item written for a
/// later one is left as it is.
pub(super) async fn put_items(
    store: &Store,
    items: Vec<(ItemKey, BTreeMap<Cell, u64>, u64)>,
    retention_days: u32,
    generation: u64,
) -> crate::Result<()> {
    let mut writes = JoinSet::new();
    for (item, cells, spilled) in items {
        while writes.len() >= WRITES_IN_FLIGHT {
            if let Some(done) = writes.join_next().await {
                done.map_err(|e| crate::Error::Internal(e.to_string()))??;
            }
        }
        let store = store.clone();
        writes.spawn(async move { put_item(&store, item, cells, spilled, retention_days, generation).await });
    }
    while let Some(done) = writes.join_next().await {
        done.map_err(|e| crate::Error::Internal(e.to_string()))??;
    }
    Ok(())
}

async fn put_item(
    store: &Store,
    item: ItemKey,
    cells: BTreeMap<Cell, u64>,
    spilled: u64,
    retention_days: u32,
    generation: u64,
) -> crate::Result<()> {
    for _ in 0..3 {
        let stored = store.read_rollup_bucket(&item).await?;
        if stored.generation() > generation {
            // A recount for later late events wrote it: it holds all these do.
            return Ok(());
        }
        let mut counts = layout(&cells, stored.full());
        counts.spilled += spilled;
        counts.generation = (generation > 0).then_some(generation);
        if store.rewrite_rollup_bucket(&item, &stored, &counts, &[], retention_days).await? {
            return Ok(());
        }
    }
    Err(crate::Error::InProgress(format!("rollup item {item:?} keeps changing")))
}
