//! Sparse days (`rollup::density`): a domain's day is dense or sparse as its first batch
//! decides, and stats stay exact across the boundary. One domain over four days, its
//! events handed to the consumer as they would arrive:
//! - day A: 36 events, each alone in its batch: sparse, no hour items; recounted into
//!   day items once over;
//! - day B: one event, then batches of 40: the day turns busy after its first batch,
//!   stays sparse (its first batch decided), and marks the next day to start dense;
//! - day C: one event a batch, dense because B was busy: hour items;
//! - day D: one event, which closes C and is sparse again (C was quiet).
//!
//! Throughout, a reader runs the stat again and again and must always get the exact
//! answer (while days hand over from the index to rollups); records delivered again, and
//! a new consumer over the same records, change nothing.

use chrono::{DateTime, Duration, DurationRound, Utc};
use e2e::rollups::{assert_rollups_exact, day_marks, stream_records};
use e2e::*;
use event_core::model::{format_time, Event, EventType, Resource, Severity};
use event_core::rollup::density::DayMark;
use event_core::rollup::plan::Buckets;
use event_core::rollup::{Change, Dims, Granularity, ItemKey, View};
use event_core::service::{App, RollupConsumer};
use event_core::store::BucketRewrite;
use serde_json::{json, Value};

const DOMAIN: &str = "domain-roll-sparse";

fn event(i: usize, created: DateTime<Utc>) -> Event {
    Event {
        event_id: format!("event-{i:012x}"),
        event_key: format!("key-{}", i % 5),
        event_type: [EventType::Alert, EventType::Recovery][i % 2],
        title: format!("event {i}"),
        description: String::new(),
        severity: [Severity::Critical, Severity::Error, Severity::Info][i % 3],
        rule: String::new(),
        resource: Resource {
            resource_type: ["inventory.Server", "aws.EC2"][i % 2].into(),
            ..Default::default()
        },
        provider: "prometheus".into(),
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: Default::default(),
        alert_id: String::new(),
        webhook_id: format!("webhook-00000000000{}", i % 4),
        project_id: format!("project-{}", i % 3),
        workspace_id: String::new(),
        domain_id: DOMAIN.into(),
        created_at: format_time(created),
        occurred_at: format_time(created),
    }
}

/// The four days, from five days ago; each inner list is one batch.
fn days() -> (DateTime<Utc>, Vec<Vec<DateTime<Utc>>>) {
    let a = Utc::now().duration_trunc(Duration::days(1)).unwrap() - Duration::days(5);
    let day = |n: i64| a + Duration::days(n);
    let mut batches: Vec<Vec<DateTime<Utc>>> = (0..36).map(|i| vec![a + Duration::minutes(40 * i)]).collect();
    batches.push(vec![day(1) + Duration::minutes(10)]);
    for b in 0..2 {
        batches.push((0..40).map(|i| day(1) + Duration::hours(2 + b) + Duration::seconds(60 * i)).collect());
    }
    batches.extend((0..10).map(|i| vec![day(2) + Duration::minutes(5 + 90 * i)]));
    batches.push(vec![day(3) + Duration::hours(1)]);
    (a, batches)
}

/// Per day (`%Y-%m-%d`) and severity, a count, through the stat handler.
async fn per_day(app: &App, from: DateTime<Utc>) -> Value {
    let body = json!({"domain_id": DOMAIN, "query": {
        "filter": [{"k": "created_at", "v": format_time(from), "o": "datetime_gte"}],
        "aggregate": [
            {"group": {"keys": [{"key": "created_at", "name": "d", "date_format": "%Y-%m-%d"},
                                {"key": "severity", "name": "s"}],
                       "fields": [{"name": "n", "operator": "count"}]}},
            {"sort": {"keys": [{"key": "d"}, {"key": "s"}]}}]}});
    stat(app, body).await
}

/// The stat's results, through the stat handler.
async fn stat(app: &App, body: Value) -> Value {
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&body.to_string())
        .request();
    let (status, body) = parts(event_stat::handle(app, req).await);
    assert_eq!(status, 200, "{body}");
    body["results"].clone()
}

/// The stored events and their stream records, one list per batch.
async fn stored(app: &App) -> (DateTime<Utc>, String, Vec<Vec<Change>>) {
    let (a, days) = days();
    let mut n = 0;
    for batch in &days {
        for created in batch {
            assert!(app.store.put_event(&event(n, *created), None).await.unwrap());
            n += 1;
        }
    }
    let mut shards = stream_records(app).await;
    assert_eq!(shards.len(), 1);
    let shard = shards.remove(0);
    let mut records = shard.changes.into_iter();
    let batches = days.iter().map(|batch| records.by_ref().take(batch.len()).collect()).collect();
    (a, shard.shard_id, batches)
}

fn hours_of(day: DateTime<Utc>) -> Buckets {
    Buckets { granularity: Granularity::Hour, first: day, last: day + Duration::hours(23) }
}

#[tokio::test]
async fn stats_stay_exact_as_days_turn_dense_sparse_and_hand_over_to_rollups() {
    let app = app().await;
    let (a, shard, batches) = stored(&app).await;
    let want = per_day(&query_path(&app), a).await;
    assert_eq!(want.as_array().map(Vec::len), Some(3 * 3 + 1), "three severities a day, D's one: {want}");

    // A reader all along: every answer exact, whichever days rollups hold by then.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (app, want, done) = (app.clone(), want.clone(), done.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(per_day(&app, a).await, want, "a stat while the consumer runs (read {reads})");
                reads += 1;
            }
            reads
        })
    };
    let consumer = RollupConsumer::new(app.store.clone(), 0);
    for batch in &batches {
        assert_eq!(consumer.consume(&shard, batch).await, None);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.await.unwrap() > 0, "the reader ran");

    let day = |n: i64| a + Duration::days(n);
    let marks = day_marks(&app, DOMAIN).await.marks;
    let mark = |n| marks.get(&day(n)).copied();
    let sparse = |hot, counted| Some(DayMark { dense: false, hot, counted, hours: false, late: false });
    assert_eq!(mark(0), sparse(false, Some(36)), "A: sparse, recounted");
    assert_eq!(mark(1), sparse(true, Some(81)), "B: sparse as its first batch decided, then busy");
    assert_eq!(
        mark(2),
        Some(DayMark { dense: true, hot: false, counted: None, hours: false, late: false }),
        "C: dense after B"
    );
    assert_eq!(mark(3), sparse(false, None), "D: sparse again, not over");
    let view = View::covering(Dims(0)).unwrap();
    let store = &app.store;
    let hours = |n: i64| async move {
        store.rollup_buckets(&trusted(DOMAIN), view, &hours_of(day(n))).await.unwrap()
    };
    assert!(hours(0).await.is_empty() && hours(1).await.is_empty(), "sparse days write no hour items");
    assert_eq!(hours(2).await.iter().map(|b| b.cells.iter().map(|c| c.1).sum::<u64>()).sum::<u64>(), 10);
    assert_rollups_exact(&app, &[DOMAIN], "after the four days").await;
    assert_eq!(per_day(&app, a).await, want);
    let repair = event_core::service::rollup_repair::verify(&app.store, &trusted(DOMAIN), a, day(4)).await;
    assert_eq!(repair.unwrap(), [], "verify finds nothing to repair");

    // Records again, whole, split and resumed, and a new consumer over all of them.
    for batch in &batches {
        assert_eq!(consumer.consume(&shard, batch).await, None);
    }
    let all: Vec<Change> = batches.concat();
    let fresh = RollupConsumer::new(app.store.clone(), 0);
    for batch in all.chunks(7).chain(all[20..90].chunks(33)) {
        assert_eq!(fresh.consume(&shard, batch).await, None);
    }
    assert_rollups_exact(&app, &[DOMAIN], "after records came again").await;
    assert_eq!(per_day(&app, a).await, want);

    // An event of day A stored long after the day was recounted (as a bulk load of
    // history does): its record marks the day late (stats read it from the index), and
    // its batch recounts the day, which is then trusted again.
    assert!(app.store.put_event(&event(500, a + Duration::minutes(12 * 60 + 7)), None).await.unwrap());
    let late: Vec<Change> = stream_records(&app)
        .await
        .remove(0)
        .changes
        .into_iter()
        .filter(|c| c.fact.as_ref().is_some_and(|f| f.created_at == a + Duration::minutes(12 * 60 + 7)))
        .collect();
    assert_eq!(late.len(), 1);
    assert_eq!(consumer.consume(&shard, &late).await, None);
    let mark = day_marks(&app, DOMAIN).await.marks[&day(0)];
    assert_eq!((mark.counted, mark.late), (Some(37), false), "day A recounted after its late event");
    assert_rollups_exact(&app, &[DOMAIN], "after a late event").await;
    let want = per_day(&query_path(&app), a).await;
    assert_eq!(per_day(&app, a).await, want);

    // Day B's stat now comes from its day items (A's too, but for its first minutes:
    // rollups start after the first event counted): events deleted from the events
    // table behind the consumer's back still count there, and only there.
    for i in 36..41 {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(format!("event-{i:012x}"));
        let events = &app.store.tables().events;
        dynamodb().delete_item().table_name(events).key("event_id", key).send().await.unwrap();
    }
    let count = |rows: &Value, d: DateTime<Utc>| -> u64 {
        let d = d.format("%Y-%m-%d").to_string();
        rows.as_array().unwrap().iter().filter(|r| r["d"] == d).map(|r| r["n"].as_u64().unwrap()).sum()
    };
    let after = per_day(&app, a).await;
    assert_eq!((count(&after, day(0)), count(&after, day(1)), count(&after, day(3))), (37, 81, 1), "{after}");
    let index = per_day(&query_path(&app), a).await;
    assert_eq!(count(&index, day(1)), 76, "the index no longer holds them: {index}");
}

/// A domain's busy first batch makes its day dense from the start, and the consumer's
/// progress is written only by batches that wrote rollup items or closed a day.
#[tokio::test]
async fn a_busy_first_batch_makes_a_day_dense_and_quiet_batches_write_no_progress() {
    let app = app().await;
    let start =
        Utc::now().duration_trunc(Duration::days(1)).unwrap() - Duration::days(3) + Duration::hours(1);
    for i in 0..60 {
        let created = start + Duration::minutes(i as i64);
        assert!(app.store.put_event(&event(i, created), None).await.unwrap());
    }
    let mut shards = stream_records(&app).await;
    let shard = shards.remove(0);
    let consumer = RollupConsumer::new(app.store.clone(), 0);
    let (busy, quiet) = shard.changes.split_at(30);
    assert_eq!(consumer.consume(&shard.shard_id, busy).await, None);
    let marks = day_marks(&app, DOMAIN).await.marks;
    assert_eq!(marks.get(&(start - Duration::hours(1))).map(|m| m.dense), Some(true));
    let recorded = app.store.rollup_progress().await.unwrap().shards;
    assert_eq!(recorded.len(), 1, "the first batch records the shard's progress");
    // A batch of a dense day writes hour items and its progress.
    assert_eq!(consumer.consume(&shard.shard_id, &quiet[..1]).await, None);
    let after = app.store.rollup_progress().await.unwrap().shards;
    assert!(after[0].applied > recorded[0].applied, "progress moved with the dense day's items");
    assert_eq!(consumer.consume(&shard.shard_id, &quiet[1..]).await, None);
    assert_rollups_exact(&app, &[DOMAIN], "a dense day").await;

    // Another domain's sparse day, the same day: its batches write no progress.
    let other = "domain-roll-sparse-other";
    let mut e = event(1000, start + Duration::minutes(90));
    e.domain_id = other.into();
    assert!(app.store.put_event(&e, None).await.unwrap());
    let records: Vec<Change> = stream_records(&app)
        .await
        .remove(0)
        .changes
        .into_iter()
        .filter(|c| c.fact.as_ref().is_some_and(|f| f.domain_id == other))
        .collect();
    assert_eq!(records.len(), 1);
    let before = app.store.rollup_progress().await.unwrap().shards;
    assert_eq!(consumer.consume(&shard.shard_id, &records).await, None);
    assert_eq!(app.store.rollup_progress().await.unwrap().shards, before, "no progress for a sparse batch");
    let rows = {
        let body = json!({"domain_id": other, "query": {"count_only": true}});
        let req = ApiEvent::new(Gateway::Http, "list")
            .route("POST", "/monitoring/v1/event/list")
            .body(&body.to_string())
            .request();
        parts(event_list::handle(&app, req).await).1
    };
    assert_eq!(rows["total_count"], json!(1), "{rows}");
}

/// Per hour (`%Y-%m-%d %H`) of `day`, a count, through the stat handler.
async fn per_hour(app: &App, day: DateTime<Utc>) -> Value {
    let body = json!({"domain_id": DOMAIN, "query": {
        "filter": [{"k": "created_at", "v": format_time(day), "o": "datetime_gte"},
                   {"k": "created_at", "v": format_time(day + Duration::days(1)), "o": "datetime_lt"}],
        "aggregate": [
            {"group": {"keys": [{"key": "created_at", "name": "h", "date_format": "%Y-%m-%d %H"}],
                       "fields": [{"name": "n", "operator": "count"}]}},
            {"sort": {"keys": [{"key": "h"}]}}]}});
    stat(app, body).await
}

/// A sparse day busy enough for its hour items to pay (60 events in one hour: 28 hour
/// items) gets them written by its recount, and stats read its hours from them. Its late
/// events are recounted again, each recount's items carrying the late count they answer
/// for, and a recount that read the index before a newer one's cannot overwrite it.
#[tokio::test]
async fn a_busy_sparse_day_is_recounted_into_hours_and_an_older_recount_never_overwrites_a_newer() {
    let app = app().await;
    let day = Utc::now().duration_trunc(Duration::days(1)).unwrap() - Duration::days(3);
    let ten = day + Duration::hours(10);
    let mut n = 0;
    let mut put = |created: DateTime<Utc>| {
        n += 1;
        let (app, e) = (app.clone(), event(n, created));
        async move { assert!(app.store.put_event(&e, None).await.unwrap()) }
    };
    // The day before's event first: rollups count from the first event they see.
    put(day - Duration::hours(20)).await;
    for i in 0..60 {
        put(ten + Duration::seconds(50 * i)).await;
    }
    // The next day's event: the progress passes the day's end, and the day is recounted.
    put(day + Duration::days(1) + Duration::hours(1)).await;
    let mut shards = stream_records(&app).await;
    let shard = shards.remove(0);
    let consumer = RollupConsumer::new(app.store.clone(), 0);
    for batch in shard.changes.chunks(5) {
        assert_eq!(consumer.consume(&shard.shard_id, batch).await, None);
    }
    let mark = day_marks(&app, DOMAIN).await.marks[&day];
    assert_eq!((mark.dense, mark.counted, mark.hours), (false, Some(60), true), "{mark:?}");
    let item = ItemKey {
        domain_id: DOMAIN.into(),
        view: View::covering(Dims(0)).unwrap(),
        granularity: Granularity::Hour,
        start: ten,
    };
    let held = |stored: &event_core::store::StoredBucket| stored.generation();
    assert_eq!(held(&app.store.read_rollup_bucket(&item).await.unwrap()), 0);
    assert_rollups_exact(&app, &[DOMAIN], "a sparse day recounted with its hours").await;
    assert_eq!(per_hour(&app, day).await, per_hour(&query_path(&app), day).await);

    // Two late events, each in a batch of its own: each marks the day late and recounts
    // it, the second recount's items answering for the second late count.
    let mut stale = None;
    for (late, minute) in [(1, 7), (2, 9)] {
        put(ten + Duration::minutes(minute)).await;
        let record: Vec<Change> = stream_records(&app)
            .await
            .remove(0)
            .changes
            .into_iter()
            .filter(|c| c.fact.as_ref().is_some_and(|f| f.created_at == ten + Duration::minutes(minute)))
            .collect();
        assert_eq!(consumer.consume(&shard.shard_id, &record).await, None);
        let stored = app.store.read_rollup_bucket(&item).await.unwrap();
        assert_eq!(stored.generation(), late, "the items answer for late event {late}");
        let mark = day_marks(&app, DOMAIN).await.marks[&day];
        assert_eq!((mark.counted, mark.hours, mark.late), (Some(60 + late), true, false), "{mark:?}");
        stale.get_or_insert(stored);
    }
    // A recount that read the item before the second one wrote it fails its condition.
    let older = BucketRewrite { cells: Vec::new(), spilled: 61, full: false, generation: Some(1) };
    let stale = stale.unwrap();
    assert!(!app.store.rewrite_rollup_bucket(&item, &stale, &older, &[], 0).await.unwrap());
    assert_rollups_exact(&app, &[DOMAIN], "after two late events").await;
    let to = day + Duration::days(1);
    let verified = event_core::service::rollup_repair::verify(&app.store, &trusted(DOMAIN), day, to).await;
    assert_eq!(verified.unwrap(), [], "verify compares the hours and finds nothing");

    // The hours come from the hour items: events deleted behind the consumer's back
    // still count there, and only there.
    for i in 2..5 {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(format!("event-{i:012x}"));
        let events = &app.store.tables().events;
        dynamodb().delete_item().table_name(events).key("event_id", key).send().await.unwrap();
    }
    let hour = |rows: Value| rows.as_array().unwrap().iter().map(|r| r["n"].as_u64().unwrap()).max();
    assert_eq!(hour(per_hour(&app, day).await), Some(62));
    assert_eq!(hour(per_hour(&query_path(&app), day).await), Some(59));
}
