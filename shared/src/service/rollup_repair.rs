//! Repair (`eventctl rollups verify|rebuild`): a domain's rollups compared, bucket by
//! bucket and view by view, with a recount of its events from the domain index, and the
//! buckets that differ rewritten from the recount.
//!
//! Day items are compared only for days the consumer has written them for (see
//! [`crate::rollup`], "Days").
//!
//! Only buckets the consumer has applied every event of (they end before its progress,
//! [`crate::rollup::progress`]) are rewritten: there the recount and the consumer agree
//! on what exists, and later deliveries of their records are redeliveries, dropped by
//! the marks the rewrite keeps, raised to where each shard's consumer has got (an item
//! lost altogether is rebuilt with them). So a rebuild may run while the consumer runs,
//! and a second one finds nothing to do.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{format_time, parse_time, Event};
use crate::rollup::density::{hours_from_rollups, read_day, DayRead};
use crate::rollup::plan::Buckets;
use crate::rollup::progress::Progress;
use crate::rollup::{Cell, Fact, Granularity, ItemKey, Seq, View, FULL_ITEM_BYTES, MAX_CELL_NAME_BYTES};
use crate::store::{BucketRewrite, EventIndex, EventRange, RawData, Store};
use crate::tenant::AuthorizedDomain;

/// One bucket of one view where rollups and the recount differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub view: String,
    pub bucket: String,
    /// Events the bucket's rollups count (cells and spill item), and the recount.
    pub rollups: u64,
    pub recount: u64,
    /// Whether the consumer has applied every event of the bucket: one it has not may
    /// differ only until it does, and is not rewritten.
    pub settled: bool,
}

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rebuilt {
    pub rewritten: usize,
    /// Differing buckets left alone: the consumer has not applied all their events.
    pub unsettled: usize,
}

type Cells = BTreeMap<Cell, u64>;

/// The buckets of `domain` between `from` and `to` (widened to whole days) whose rollups
/// differ from a recount of its events.
pub async fn verify(
    store: &Store,
    domain: &AuthorizedDomain,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Difference>> {
    Ok(compare(store, domain, from, to).await?.0.into_iter().map(|(d, _, _)| d).collect())
}

/// Rewrites every settled bucket [`verify`] finds different from the recount.
pub async fn rebuild(
    store: &Store,
    domain: &AuthorizedDomain,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    retention_days: u32,
) -> Result<Rebuilt> {
    let mut rebuilt = Rebuilt::default();
    let (differences, progress) = compare(store, domain, from, to).await?;
    let through: Vec<(String, Seq)> =
        progress.shards.into_iter().filter_map(|s| Some((s.shard_id, s.through?))).collect();
    for (difference, item, recount) in differences {
        if !difference.settled {
            rebuilt.unsettled += 1;
            continue;
        }
        let mut attempts = 0;
        loop {
            let stored = store.read_rollup_bucket(&item).await?;
            let counts = layout(&recount, stored.full());
            let rewritten =
                store.rewrite_rollup_bucket(&item, &stored, &counts, &through, retention_days).await?;
            if rewritten {
                break;
            }
            attempts += 1;
            if attempts == 5 {
                return Err(Error::InProgress(format!(
                    "rollup bucket {} of {} keeps changing; try again",
                    difference.bucket, difference.view
                )));
            }
        }
        rebuilt.rewritten += 1;
    }
    Ok(rebuilt)
}

/// The cells an item takes of a recount, as the consumer would place them: those that
/// fit ([`MAX_CELL_NAME_BYTES`]) while the item stays under [`FULL_ITEM_BYTES`]; the
/// rest counted as spilled. Marked full if it was, or if cells had to be left out for
/// room.
pub(crate) fn layout(recount: &BTreeMap<Cell, u64>, was_full: bool) -> BucketRewrite {
    let (mut cells, mut spilled, mut bytes, mut full) = (Vec::new(), 0, 0, was_full);
    for (cell, n) in recount {
        let size = cell.name().len() + 8;
        if cell.name().len() > MAX_CELL_NAME_BYTES {
            spilled += n;
        } else if bytes + size >= FULL_ITEM_BYTES {
            spilled += n;
            full = true;
        } else {
            bytes += size;
            cells.push((cell.clone(), *n));
        }
    }
    BucketRewrite { cells, spilled, full, generation: None }
}

async fn compare(
    store: &Store,
    domain: &AuthorizedDomain,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<(Difference, ItemKey, Cells)>, Progress)> {
    let first = Granularity::Day.floor(from);
    let end = Granularity::Day.ceil(to + Duration::milliseconds(1));
    let recount = recount(store, domain, first, end).await?;
    let progress = store.rollup_progress().await?;
    let counted_until = progress.counted_until(Utc::now());
    // Day items exist only for days the consumer has compacted (see `crate::rollup`,
    // "Days"), or a sparse day recounted once over; a sparse day has hour items only
    // when its recount wrote them (see `crate::rollup::density`). Reads take the rest from hours or the index, so
    // only what reads take from rollups is compared.
    let marks = store.rollup_day_marks(domain.as_str(), first, end - Duration::days(1), false).await?;
    let mut differences = Vec::new();
    for view in View::all() {
        for granularity in [Granularity::Hour, Granularity::Day] {
            let run = Buckets { granularity, first, last: end - granularity.width() };
            let mut stored = BTreeMap::new();
            for bucket in store.rollup_buckets(domain, view, &run).await? {
                stored.insert(bucket.start, bucket);
            }
            let starts: BTreeSet<DateTime<Utc>> = stored
                .keys()
                .copied()
                .chain(
                    recount
                        .keys()
                        .filter(|k| k.view == view && k.granularity == granularity)
                        .map(|k| k.start),
                )
                .collect();
            for start in starts {
                let day = Granularity::Day.floor(start);
                let mark = marks.marks.get(&day);
                let compared = match granularity {
                    Granularity::Hour => hours_from_rollups(mark),
                    Granularity::Day => {
                        read_day(day, mark, marks.compacted) == DayRead::Rollups { day_item: true }
                    }
                };
                if !compared {
                    continue;
                }
                let item = ItemKey { domain_id: domain.to_string(), view, granularity, start };
                let want = recount.get(&item).cloned().unwrap_or_default();
                let (cells, spilled) =
                    stored.get(&start).map_or((Vec::new(), 0), |b| (b.cells.clone(), b.spilled));
                let got: Cells = cells.into_iter().collect();
                let exact = if spilled == 0 {
                    got == want
                } else {
                    got.values().sum::<u64>() + spilled == want.values().sum::<u64>()
                        && got.iter().all(|(cell, n)| want.get(cell).is_some_and(|w| n <= w))
                };
                if exact {
                    continue;
                }
                let difference = Difference {
                    view: view.name(),
                    bucket: granularity.key(start),
                    rollups: got.values().sum::<u64>() + spilled,
                    recount: want.values().sum(),
                    settled: counted_until.is_some_and(|until| start + granularity.width() <= until),
                };
                differences.push((difference, item, want));
            }
        }
    }
    Ok((differences, progress))
}

/// Every view's counts of the domain's events created in `[first, end)`, per item.
pub(crate) async fn recount(
    store: &Store,
    domain: &AuthorizedDomain,
    first: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<BTreeMap<ItemKey, Cells>> {
    let range = EventRange {
        index: EventIndex::Domain,
        domain: domain.clone(),
        created_from: Some(format_time(first)),
        created_to: Some(format_time(end - Duration::milliseconds(1))),
        filters: Vec::new(),
        raw_data: RawData::Skip,
    };
    let mut counts: BTreeMap<ItemKey, Cells> = BTreeMap::new();
    store
        .each_event(&range, |event| {
            let fact = fact(&event)?;
            for view in View::all() {
                for granularity in [Granularity::Hour, Granularity::Day] {
                    let item = ItemKey {
                        domain_id: fact.domain_id.clone(),
                        view,
                        granularity,
                        start: granularity.floor(fact.created_at),
                    };
                    *counts.entry(item).or_default().entry(fact.cell(view)).or_default() += 1;
                }
            }
            Ok(())
        })
        .await?;
    Ok(counts)
}

/// What an event counts in, as the consumer reads it from the stream.
fn fact(event: &Event) -> Result<Fact> {
    let json = serde_json::to_value(event).map_err(|e| Error::Internal(e.to_string()))?;
    let text = |path: &str| json[path].as_str().unwrap_or_default().to_string();
    let created_at = parse_time(&event.created_at).ok_or_else(|| {
        Error::Internal(format!("event {} has created_at {:?}", event.event_id, event.created_at))
    })?;
    Ok(Fact {
        domain_id: event.domain_id.clone(),
        created_at,
        values: [
            text("severity"),
            text("event_type"),
            event.project_id.clone(),
            event.workspace_id.clone(),
            event.webhook_id.clone(),
            event.provider.clone(),
            event.resource.resource_type.clone(),
        ],
    })
}
