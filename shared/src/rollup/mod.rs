//! Rollups: how many events a domain stored per time bucket and per combination of the
//! fields dashboards group and filter on, kept from the events table's stream so a stat
//! over months reads a few hundred small items instead of every event. Pure: buckets,
//! views, what a batch of stream records adds to which item ([`fold`]), and how a
//! query's time range splits between rollups and the index ([`plan`]). DynamoDB access is
//! in `store::rollups`, the consumer in `service::rollups`.
//!
//! # Items
//! One item per (domain, view, bucket). A view is a set of one or two [`DIMENSIONS`]; an
//! item holds, for each combination of its view's values seen in its bucket, a count
//! (hour buckets, and day buckets for the same events, so a range reads whole days and
//! only its edges by the hour). Every view of every bucket is kept, so any query on at
//! most two of the fields reads one narrow view and nothing else.
//!
//! # Days
//! The stream updates hour items only ([`fold`]). A domain's day items are written once
//! a day is over and every shard has applied its events ([`progress`]): the consumer
//! sums the day's hour items of each view, read consistently, into its day item (a put,
//! so doing it twice writes the same) when every view's sum is the number of the day's
//! events the count index holds, then raises the domain's `compacted` day. Reads
//! take day items only for days before it and read a later day's hours. So a batch
//! writes 28 items per domain and hour it touches, not 56, and each day item is written
//! once, not once a batch.
//!
//! # Sparse days
//! Each (domain, day) is dense or sparse, decided once, by the first batch that brings
//! one of its events ([`density`]). Only a dense day's events go to hour items; a sparse
//! day writes nothing per event, reads take it from the index, and once it is over the
//! consumer recounts it from the index into its day items (when it has enough events to
//! be worth them). So a domain of a few events a batch pays a few writes a day, not 28
//! a batch.
//!
//! # Exactly once
//! Stream records of one shard arrive in order, and Lambda hands one shard's batches to
//! one invocation at a time. A shard's records that touch one item are applied in one
//! update that also raises that shard's high-water mark in the item, on condition that
//! the mark is below the first of them: a redelivered record is at or below the mark
//! and is dropped ([`Delta::after`]), whatever the batch it comes back in.

pub mod density;
pub mod plan;
pub mod progress;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::error::{Error, Result};

/// The event fields rollups count by, as paths into EventInfo. Alert state is not one:
/// it lives on the alert and changes after the event is stored, so a count kept from the
/// events stream could not follow it.
pub const DIMENSIONS: [&str; 7] = [
    "severity",
    "event_type",
    "project_id",
    "workspace_id",
    "webhook_id",
    "provider",
    "resource.resource_type",
];

/// The most cells one update may add to an item: DynamoDB bounds an update expression
/// at 4 KB, and each cell takes about 16 bytes of it.
pub const MAX_CELLS_PER_UPDATE: usize = 100;

/// The longest cell name an item holds. Fields are sender text of up to 2 KB, so a cell
/// of a pair view could take 4 KB and a few hundred of them an item's 400 KB; an event
/// whose cell is longer is counted in the bucket's spill item instead (see
/// [`Delta::fitting`]), and reads of that view and bucket take the index.
pub const MAX_CELL_NAME_BYTES: usize = 512;

/// The most bytes of cell names one update may add to an item, so that an item found
/// full ([`FULL_ITEM_BYTES`]) after an update has room for what other shards' updates
/// in flight may still add before they see it full.
pub const MAX_CELL_BYTES_PER_UPDATE: usize = 16 * 1024;

/// An item at least this large (as DynamoDB counts it) takes no new cells: the bucket's
/// later events of that view go to its spill item. 64 KB is hundreds of cells, far past
/// what real fields make (a day item of the benchmark's busiest view holds 48 cells,
/// 2 KB), and leaves 336 KB of DynamoDB's 400 KB for updates already under way: 20
/// shards' worth of [`MAX_CELL_BYTES_PER_UPDATE`].
pub const FULL_ITEM_BYTES: usize = 64 * 1024;

/// Whether a failed rollup write may succeed when tried again (throttling, DynamoDB
/// unreachable or busy), so its records go back to the stream; any other failure would
/// fail again on every retry, and its records are set aside instead.
pub fn transient(error: &Error) -> bool {
    matches!(error, Error::Throttled | Error::StorageUnavailable(_) | Error::InProgress(_))
}

/// A set of dimensions, as a bit mask over [`DIMENSIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dims(pub u8);

impl Dims {
    pub fn of(path: &str) -> Option<Dims> {
        DIMENSIONS.iter().position(|d| *d == path).map(|i| Dims(1 << i))
    }

    pub fn union(self, other: Dims) -> Dims {
        Dims(self.0 | other.0)
    }

    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// Positions in [`DIMENSIONS`], in order.
    pub fn positions(self) -> impl Iterator<Item = usize> {
        (0..DIMENSIONS.len()).filter(move |i| self.0 & (1 << i) != 0)
    }

    pub fn contains(self, other: Dims) -> bool {
        self.0 & other.0 == other.0
    }
}

/// A view: the dimensions one rollup item counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct View(Dims);

impl View {
    /// Every view kept: each dimension alone and each pair.
    pub fn all() -> impl Iterator<Item = View> {
        (1u8..1 << DIMENSIONS.len()).filter(|m| m.count_ones() <= 2).map(|m| View(Dims(m)))
    }

    /// The view a query reading `dims` is answered from, if one covers them: the view
    /// of exactly those fields, or for none at all the one-field view with the fewest
    /// values (event_type: three).
    pub fn covering(dims: Dims) -> Option<View> {
        match dims.count() {
            0 => Some(View(Dims(1 << 1))),
            1 | 2 => Some(View(dims)),
            _ => None,
        }
    }

    pub fn dims(self) -> Dims {
        self.0
    }

    /// As stored in item keys: the field names joined by `+`.
    pub fn name(self) -> String {
        self.0.positions().map(|i| DIMENSIONS[i]).collect::<Vec<_>>().join("+")
    }
}

/// How wide a bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn width(self) -> Duration {
        match self {
            Granularity::Hour => Duration::hours(1),
            Granularity::Day => Duration::days(1),
        }
    }

    /// The start of the bucket holding `t`.
    pub fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.duration_trunc(self.width()).unwrap_or(t)
    }

    /// The first bucket start at or after `t`.
    pub fn ceil(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let floor = self.floor(t);
        if floor == t {
            t
        } else {
            floor + self.width()
        }
    }

    /// A bucket's sort key: `H2022-06-01T05` or `D2022-06-01`, so each granularity's
    /// buckets sort in time order under their own prefix.
    pub fn key(self, start: DateTime<Utc>) -> String {
        match self {
            Granularity::Hour => start.format("H%Y-%m-%dT%H").to_string(),
            Granularity::Day => start.format("D%Y-%m-%d").to_string(),
        }
    }

    /// The bucket start a sort key names.
    pub fn parse_key(key: &str) -> Option<(Granularity, DateTime<Utc>)> {
        let (granularity, text) = match key.split_at_checked(1)? {
            ("H", rest) => (Granularity::Hour, format!("{rest}:00:00Z")),
            ("D", rest) => (Granularity::Day, format!("{rest}T00:00:00Z")),
            _ => return None,
        };
        let start = DateTime::parse_from_rfc3339(&text).ok()?.with_timezone(&Utc);
        Some((granularity, start))
    }
}

/// What one stored event contributes to rollups.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub domain_id: String,
    pub created_at: DateTime<Utc>,
    /// The event's value of each of [`DIMENSIONS`], in order.
    pub values: [String; 7],
}

impl Fact {
    /// The cell of `view` this event counts in: its values of the view's dimensions.
    pub fn cell(&self, view: View) -> Cell {
        Cell(view.dims().positions().map(|i| self.values[i].clone()).collect())
    }
}

/// The values of a view's dimensions that one count is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell(pub Vec<String>);

impl Cell {
    /// As an attribute name: `=` and the values as a JSON list, so any text (empty, or
    /// holding any separator) names one cell and reads back as itself.
    pub fn name(&self) -> String {
        format!("={}", serde_json::Value::from(self.0.clone()))
    }

    /// Whether an item may hold this cell ([`MAX_CELL_NAME_BYTES`]).
    pub fn fits(&self) -> bool {
        self.name().len() <= MAX_CELL_NAME_BYTES
    }

    pub fn parse(name: &str, view: View) -> Option<Cell> {
        let values: Vec<String> = serde_json::from_str(name.strip_prefix('=')?).ok()?;
        (values.len() == view.dims().count() as usize).then_some(Cell(values))
    }
}

/// A stream sequence number, in a form that compares as text in the order the numbers
/// have (they run to 40 digits, past what a DynamoDB number holds): the digit count as
/// two digits, then the digits without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seq(String);

impl Seq {
    pub fn parse(text: &str) -> Result<Seq> {
        if text.is_empty() || text.len() > 99 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Internal(format!("stream sequence number {text:?} is not a number")));
        }
        let digits = text.trim_start_matches('0');
        Ok(Seq(format!("{:02}{digits}", digits.len())))
    }

    /// As stored, and compared, in a rollup item.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(text: &str) -> Seq {
        Seq(text.to_string())
    }
}

/// One record of the events stream, reduced to what rollups need.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// As the stream gave it; a failed batch reports it back.
    pub sequence_number: String,
    pub seq: Seq,
    /// The event a new event item holds; None for anything else (a delivery claim, a
    /// raw_data chunk, an update, a deletion), which counts nothing.
    pub fact: Option<Fact>,
}

/// One rollup item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub domain_id: String,
    pub view: View,
    pub granularity: Granularity,
    pub start: DateTime<Utc>,
}

impl ItemKey {
    /// When TTL may delete the item: when the last event it can count expires, since
    /// events are created at the time they are stored, `retention_days` after that.
    pub fn expires_at(&self, retention_days: u32) -> Option<i64> {
        let end = self.start + self.granularity.width();
        (retention_days > 0).then(|| end.timestamp() + i64::from(retention_days) * 86_400)
    }
}

/// What a run of one shard's records adds to one item, record by record.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub item: ItemKey,
    /// In stream order; never empty.
    records: Vec<(Change, Cell)>,
}

impl Delta {
    pub fn first(&self) -> &Change {
        &self.records[0].0
    }

    pub fn last(&self) -> &Change {
        &self.records[self.records.len() - 1].0
    }

    /// The count each cell gains.
    pub fn cells(&self) -> BTreeMap<&Cell, u64> {
        let mut cells = BTreeMap::new();
        for (_, cell) in &self.records {
            *cells.entry(cell).or_insert(0) += 1;
        }
        cells
    }

    /// How many events the delta counts.
    pub fn events(&self) -> u64 {
        self.records.len() as u64
    }

    /// The part of the delta a shard has not applied yet, given the highest sequence
    /// number of its records the item already counts.
    pub fn after(&self, applied: &Seq) -> Option<Delta> {
        self.keep(|change, _| change.seq > *applied)
    }

    /// The records whose cell an item may hold ([`Cell::fits`]).
    pub fn fitting(&self) -> Option<Delta> {
        self.keep(|_, cell| cell.fits())
    }

    /// The records whose cell no item holds: they always go to the spill item, so where
    /// a record is counted does not depend on when it comes.
    pub fn too_long(&self) -> Option<Delta> {
        self.keep(|_, cell| !cell.fits())
    }

    /// The records of both deltas of one item, in stream order, each once.
    pub fn merge(a: Option<Delta>, b: Option<Delta>) -> Option<Delta> {
        match (a, b) {
            (Some(mut a), Some(b)) => {
                a.records.extend(b.records);
                a.records.sort_by(|x, y| x.0.seq.cmp(&y.0.seq));
                a.records.dedup_by(|x, y| x.0.seq == y.0.seq);
                Some(a)
            }
            (a, b) => a.or(b),
        }
    }

    fn keep(&self, keep: impl Fn(&Change, &Cell) -> bool) -> Option<Delta> {
        let records: Vec<_> = self.records.iter().filter(|(c, cell)| keep(c, cell)).cloned().collect();
        (!records.is_empty()).then(|| Delta { item: self.item.clone(), records })
    }
}

/// How long one batch may go on writing day items (each domain-day reads its 28 views'
/// hours and writes their day items, the views at once), well inside the rollup
/// function's timeout (120 s): a domain's first compaction (from where rollups start),
/// or many domains' days just after midnight, go on in later batches.
pub const COMPACT_TIME_PER_BATCH: std::time::Duration = std::time::Duration::from_secs(30);

/// What a batch of one shard's records adds to each hour item: per item, its records in
/// stream order, cut into runs of at most [`MAX_CELLS_PER_UPDATE`] distinct cells and
/// [`MAX_CELL_BYTES_PER_UPDATE`] bytes of their names (cells too long for an item count
/// toward neither: they go to the spill item).
pub fn fold(changes: &[Change]) -> Vec<Delta> {
    let mut per_item: HashMap<ItemKey, Vec<(Change, Cell)>> = HashMap::new();
    for change in changes {
        let Some(fact) = &change.fact else { continue };
        for view in View::all() {
            let item = ItemKey {
                domain_id: fact.domain_id.clone(),
                view,
                granularity: Granularity::Hour,
                start: Granularity::Hour.floor(fact.created_at),
            };
            per_item.entry(item).or_default().push((change.clone(), fact.cell(view)));
        }
    }
    let mut deltas = Vec::new();
    for (item, records) in per_item {
        let mut run: Vec<(Change, Cell)> = Vec::new();
        let mut distinct = std::collections::HashSet::new();
        let mut bytes = 0;
        for (change, cell) in records {
            let name = cell.name().len();
            let new = name <= MAX_CELL_NAME_BYTES && !distinct.contains(&cell);
            if new
                && (distinct.len() == MAX_CELLS_PER_UPDATE || bytes + name > MAX_CELL_BYTES_PER_UPDATE)
                && !run.is_empty()
            {
                deltas.push(Delta { item: item.clone(), records: std::mem::take(&mut run) });
                distinct.clear();
                bytes = 0;
            }
            if new {
                bytes += name;
                distinct.insert(cell.clone());
            }
            run.push((change, cell));
        }
        deltas.push(Delta { item, records: run });
    }
    deltas.sort_by(|a, b| a.item.cmp(&b.item).then_with(|| a.first().seq.cmp(&b.first().seq)));
    deltas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    fn change(seq: u32, domain: &str, created: &str, severity: &str) -> Change {
        let values = [severity, "ALERT", "project-1", "workspace-1", "webhook-1", "prometheus", "Server"]
            .map(str::to_string);
        Change {
            sequence_number: format!("{seq:021}"),
            seq: Seq::parse(&format!("{seq:021}")).unwrap(),
            fact: Some(Fact { domain_id: domain.into(), created_at: at(created), values }),
        }
    }

    #[test]
    fn views_are_every_field_and_every_pair() {
        assert_eq!(View::all().count(), 7 + 21);
        let severity = Dims::of("severity").unwrap();
        let project = Dims::of("project_id").unwrap();
        let both = View::covering(severity.union(project)).unwrap();
        assert_eq!(both.name(), "severity+project_id");
        assert_eq!(View::covering(Dims(0)).unwrap().name(), "event_type");
        let three = severity.union(project).union(Dims::of("provider").unwrap());
        assert_eq!(View::covering(three), None, "three fields: no view, the index answers");
        assert_eq!(Dims::of("resource"), None);
    }

    #[test]
    fn buckets_floor_ceil_and_name_themselves() {
        let t = at("2022-06-01T05:30:00.001Z");
        assert_eq!(Granularity::Hour.floor(t), at("2022-06-01T05:00:00Z"));
        assert_eq!(Granularity::Hour.ceil(t), at("2022-06-01T06:00:00Z"));
        assert_eq!(Granularity::Day.ceil(at("2022-06-01T00:00:00Z")), at("2022-06-01T00:00:00Z"));
        for (g, key) in [(Granularity::Hour, "H2022-06-01T05"), (Granularity::Day, "D2022-06-01")] {
            let start = g.floor(t);
            assert_eq!(g.key(start), key);
            assert_eq!(Granularity::parse_key(key), Some((g, start)));
        }
        assert_eq!(Granularity::parse_key("X2022"), None);
        assert!(Granularity::Hour.key(at("2022-06-01T23:00:00Z")).as_str() < "H2022-06-02T00");
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        let seq = |s: &str| Seq::parse(s).unwrap();
        assert!(seq("999") < seq("1000"));
        assert!(seq("000000000000000000999") < seq("1000"));
        assert_eq!(seq("0042"), seq("42"));
        let long = "4".repeat(40);
        assert!(seq(&long[..39]) < seq(&long));
        assert!(Seq::parse("12a").is_err() && Seq::parse("").is_err());
    }

    #[test]
    fn cells_name_any_text_and_read_back() {
        let view =
            View::covering(Dims::of("severity").unwrap().union(Dims::of("provider").unwrap())).unwrap();
        for values in [vec!["", ""], vec!["a\"b", "=,]"], vec!["CRITICAL", "é"]] {
            let cell = Cell(values.iter().map(|v| v.to_string()).collect());
            assert_eq!(Cell::parse(&cell.name(), view), Some(cell));
        }
        assert_eq!(Cell::parse("=[\"one\"]", view), None, "a cell of another view");
    }

    #[test]
    fn a_batch_folds_into_one_delta_per_item_and_bucket() {
        let changes = vec![
            change(1, "d1", "2022-06-01T05:10:00.000Z", "ERROR"),
            Change { fact: None, ..change(2, "d1", "2022-06-01T05:10:00.000Z", "ERROR") },
            change(3, "d1", "2022-06-01T05:20:00.000Z", "ERROR"),
            change(4, "d1", "2022-06-01T05:50:00.000Z", "INFO"),
            change(5, "d2", "2022-06-01T05:20:00.000Z", "INFO"),
            change(6, "d1", "2022-06-01T06:20:00.000Z", "INFO"),
        ];
        let deltas = fold(&changes);
        // d1: two hours; d2: one hour; for each of 28 views. No day items: those are
        // written once the day is over.
        assert_eq!(deltas.len(), 28 * 3);
        assert!(deltas.iter().all(|d| d.item.granularity == Granularity::Hour));
        let severity = View::covering(Dims::of("severity").unwrap()).unwrap();
        let hour = deltas
            .iter()
            .find(|d| {
                d.item.domain_id == "d1"
                    && d.item.view == severity
                    && d.item.start == at("2022-06-01T05:00:00Z")
            })
            .unwrap();
        let cells: Vec<_> = hour.cells().into_iter().map(|(c, n)| (c.0[0].clone(), n)).collect();
        assert_eq!(cells, [("ERROR".to_string(), 2), ("INFO".to_string(), 1)]);
        assert_eq!(
            (hour.first().seq.clone(), hour.last().seq.clone()),
            (changes[0].seq.clone(), changes[3].seq.clone())
        );
        let rest = hour.after(&changes[2].seq).unwrap();
        assert_eq!(rest.cells().into_values().sum::<u64>(), 1, "only record 4 is above the mark");
        assert_eq!(hour.after(&changes[3].seq), None);
    }

    #[test]
    fn an_item_gains_at_most_so_many_cells_per_update() {
        let changes: Vec<Change> = (0..250)
            .map(|i| {
                let mut c = change(i + 1, "d1", "2022-06-01T05:10:00.000Z", "ERROR");
                c.fact.as_mut().unwrap().values[2] = format!("project-{}", i % 150);
                c
            })
            .collect();
        let project = View::covering(Dims::of("project_id").unwrap()).unwrap();
        let runs: Vec<_> = fold(&changes)
            .into_iter()
            .filter(|d| d.item.view == project && d.item.granularity == Granularity::Hour)
            .collect();
        assert_eq!(runs.len(), 3, "100 projects, 100 more (50 new, 50 again), the last 50");
        assert!(runs.iter().all(|r| r.cells().len() <= MAX_CELLS_PER_UPDATE));
        assert!(runs[0].last().seq < runs[1].first().seq, "runs follow each other in stream order");
        assert_eq!(runs.iter().map(|r| r.cells().values().sum::<u64>()).sum::<u64>(), 250);
    }

    #[test]
    fn long_cells_go_to_the_spill_item_and_cell_bytes_bound_an_update() {
        let resource_type = View::covering(Dims::of("resource.resource_type").unwrap()).unwrap();
        let hour = |deltas: Vec<Delta>| -> Vec<Delta> {
            deltas
                .into_iter()
                .filter(|d| d.item.view == resource_type && d.item.granularity == Granularity::Hour)
                .collect()
        };
        // 50 cells of 1.9 KB and 50 of 400 bytes, alternating.
        let changes: Vec<Change> = (0..100)
            .map(|i| {
                let mut c = change(i + 1, "d1", "2022-06-01T05:10:00.000Z", "ERROR");
                let len = if i % 2 == 0 { 1900 } else { 400 };
                c.fact.as_mut().unwrap().values[6] = format!("{i:03}{}", "x".repeat(len));
                c
            })
            .collect();
        let runs = hour(fold(&changes));
        // 50 fitting cells of about 410 bytes: 16 KB takes 40 of them per update.
        assert_eq!(runs.len(), 2, "{:?}", runs.iter().map(|r| r.events()).collect::<Vec<_>>());
        for run in &runs {
            let fitting = run.fitting().map_or(0, |f| f.cells().len());
            let bytes: usize = run.fitting().map_or(0, |f| f.cells().keys().map(|c| c.name().len()).sum());
            assert!(fitting <= MAX_CELLS_PER_UPDATE && bytes <= MAX_CELL_BYTES_PER_UPDATE, "{bytes}");
        }
        let long: u64 = runs.iter().filter_map(Delta::too_long).map(|d| d.events()).sum();
        let fit: u64 = runs.iter().filter_map(Delta::fitting).map(|d| d.events()).sum();
        assert_eq!((long, fit), (50, 50), "every long cell spills, every other fits");
        let merged = Delta::merge(runs[0].too_long(), runs[0].fitting()).unwrap();
        assert_eq!(merged, runs[0], "the two parts make the run again, in stream order");
    }

    #[test]
    fn items_expire_when_the_last_event_they_count_does() {
        let item = ItemKey {
            domain_id: "d".into(),
            view: View::covering(Dims(0)).unwrap(),
            granularity: Granularity::Day,
            start: at("2022-06-01T00:00:00Z"),
        };
        assert_eq!(item.expires_at(0), None);
        assert_eq!(item.expires_at(30), Some(at("2022-07-02T00:00:00Z").timestamp()));
    }
}
