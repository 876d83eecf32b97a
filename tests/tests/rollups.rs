//! Rollups are exact under at-least-once delivery: the events stream of DynamoDB Local
//! is read for real, then handed to the consumer the ways Lambda may hand it (batches
//! again, batches split in two, a consumer stopped mid-batch or failing and the batch
//! coming back from its first uncounted record, two consumers at once), and after each,
//! every rollup item must equal what the events the query path reads count.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use e2e::rollups::{assert_rollups_exact, stream_records};
use e2e::*;
use event_core::config::Tables;
use event_core::model::{format_time, Event, EventType, Resource, Severity, WebhookFormat};
use event_core::rollup::{Change, Granularity};
use event_core::service::{App, RollupConsumer};
use event_core::store::Store;
use serde_json::json;

const DOMAINS: [&str; 2] = ["domain-roll-a", "domain-roll-b"];
const EVENTS: usize = 120;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 1, 22, 0, 0).unwrap()
}

/// Deterministic variety over four hours either side of midnight, stored out of time
/// order so every batch touches many buckets.
fn synthetic_event(i: usize) -> Event {
    let severities = [Severity::Critical, Severity::Error, Severity::Warning, Severity::Info];
    let types = [EventType::Alert, EventType::Recovery, EventType::Error];
    let minutes = (i * 37) % 240;
    let created =
        start() + chrono::Duration::minutes(minutes as i64) + chrono::Duration::milliseconds(i as i64);
    Event {
        event_id: format!("event-{i:012x}"),
        event_key: format!("key-{}", i % 5),
        event_type: types[i % 3],
        title: format!("title {i}"),
        description: String::new(),
        severity: severities[i % 4],
        rule: String::new(),
        resource: Resource {
            resource_id: format!("server-{}", i % 3),
            resource_type: ["inventory.Server", "", "aws.EC2"][i % 3 / 2 + i % 2].to_string(),
            name: String::new(),
        },
        provider: ["prometheus", "grafana"][i % 2].to_string(),
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({"n": i}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: Default::default(),
        alert_id: String::new(),
        webhook_id: format!("webhook-00000000000{}", i % 3),
        project_id: format!("project-{}", i % 5),
        workspace_id: format!("workspace-{}", i % 2),
        domain_id: DOMAINS[i % 2].to_string(),
        created_at: format_time(created),
        occurred_at: format_time(created),
    }
}

/// Fresh tables holding the synthetic events, one of them with raw_data large enough
/// for chunk items, and one event delivered through a webhook (so the stream also
/// holds a delivery claim): what the consumer must count or skip.
async fn loaded() -> App {
    let app = app().await;
    for i in 0..EVENTS {
        let mut event = synthetic_event(i);
        if i == 7 {
            event.raw_data = json!({"blob": "x".repeat(300 * 1024)});
        }
        assert!(app.store.put_event(&event, None).await.unwrap());
    }
    let key = webhook_in(&app, WebhookFormat::Standard, DOMAINS[0], "project-0").await;
    let req = ApiEvent::new(Gateway::Http, "create")
        .route("POST", &webhook_path(&key))
        .body(r#"{"title": "via the webhook", "severity": "CRITICAL"}"#)
        .request();
    assert_eq!(parts(event_create::handle(&app, req).await).0, 200);
    app
}

/// The records of the one shard DynamoDB Local gives a new table, and its id.
async fn records(app: &App) -> (String, Vec<Change>) {
    let mut shards = stream_records(app).await;
    assert_eq!(shards.len(), 1, "DynamoDB Local streams a new table through one shard");
    let shard = shards.remove(0);
    let events = shard.changes.iter().filter(|c| c.fact.is_some()).count();
    assert_eq!(events, EVENTS + 1, "every stored event, and nothing else, counts");
    assert!(shard.changes.len() >= events + 3, "two chunks and the claim are there too");
    (shard.shard_id, shard.changes)
}

#[tokio::test]
async fn batches_delivered_again_or_split_in_two_count_each_event_once() {
    let app = loaded().await;
    let (shard, changes) = records(&app).await;
    let consumer = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    for batch in changes.chunks(50) {
        assert_eq!(consumer.consume(&shard, batch).await, None);
    }
    assert_rollups_exact(&app, &DOMAINS, "each batch once").await;
    // Lambda hands a batch again after an error, whole or bisected, and a later batch
    // may overlap an earlier one when it resumes from a reported record.
    let (a, b) = changes.split_at(changes.len() / 2);
    for again in [&changes[..], a, b, &a[a.len() / 3..], &changes[17..93], &changes[changes.len() - 5..]] {
        assert_eq!(consumer.consume(&shard, again).await, None);
    }
    assert_rollups_exact(&app, &DOMAINS, "after batches came again").await;
    // A new consumer (a new Lambda instance) knows nothing of the old one's progress.
    let fresh = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    for batch in changes.chunks(7) {
        assert_eq!(fresh.consume(&shard, batch).await, None);
    }
    assert_rollups_exact(&app, &DOMAINS, "after a new consumer read the stream again").await;
}

#[tokio::test]
async fn a_consumer_stopped_mid_batch_or_failing_counts_each_event_once_when_the_batch_comes_back() {
    let app = loaded().await;
    let (shard, changes) = records(&app).await;
    let consumer = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    // Stopped after a while, in the middle of its updates, more each time; every stop
    // is followed by the batch again, as Lambda retries a timed-out invocation.
    for (n, millis) in [3u64, 10, 25, 60].into_iter().enumerate() {
        let stopped =
            tokio::time::timeout(Duration::from_millis(millis), consumer.consume(&shard, &changes)).await;
        assert!(stopped.is_err(), "stop {n} came before the consumer finished");
    }
    // A consumer whose rollup writes fail reports the first record it did not count…
    let broken =
        Store::new(dynamodb(), Tables { rollups: "no-such-table".into(), ..app.store.tables().clone() });
    let failed = RollupConsumer::new(broken, 0).dense_from(1).consume(&shard, &changes[40..]).await;
    let first_event = changes[40..].iter().find(|c| c.fact.is_some()).unwrap();
    assert_eq!(failed.as_deref(), Some(first_event.sequence_number.as_str()));
    // …and the stream resumes from the record each failure names.
    let mut from = 0;
    while let Some(sequence_number) = consumer.consume(&shard, &changes[from..]).await {
        from = changes.iter().position(|c| c.sequence_number == sequence_number).unwrap();
    }
    assert_rollups_exact(&app, &DOMAINS, "after stops and failures").await;
}

#[tokio::test]
async fn two_consumers_over_the_same_records_count_each_event_once() {
    let app = loaded().await;
    let (shard, changes) = records(&app).await;
    let one = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    let other = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    let run = |consumer: RollupConsumer, size: usize| {
        let (shard, changes) = (shard.clone(), changes.clone());
        async move {
            for batch in changes.chunks(size) {
                assert_eq!(consumer.consume(&shard, batch).await, None);
            }
        }
    };
    tokio::join!(run(one, 30), run(other, 11));
    assert_rollups_exact(&app, &DOMAINS, "two consumers").await;
}

#[tokio::test]
async fn rollup_items_expire_when_the_last_event_they_count_does() {
    let app = loaded().await;
    let (shard, changes) = records(&app).await;
    assert_eq!(
        RollupConsumer::new(app.store.clone(), 30).dense_from(1).consume(&shard, &changes).await,
        None
    );
    let items = dynamodb().scan().table_name(&app.store.tables().rollups).send().await.unwrap();
    let items = items.items();
    assert!(items.len() > 28 * 4, "every view has hour and day items");
    for item in items {
        let bucket = item["bucket"].as_s().unwrap();
        if item["rollup_key"].as_s().unwrap().starts_with('#') {
            continue; // the consumer's progress: where rollups start, how far each shard is
        }
        if item["rollup_key"].as_s().unwrap().ends_with("#days") {
            continue; // how far a domain's day items are written: it counts no events
        }
        let (granularity, start) = Granularity::parse_key(bucket).unwrap();
        let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
        // An event created in the bucket's last millisecond expires 30 days later.
        assert_eq!(expires, (start + granularity.width()).timestamp() + 30 * 86_400, "{bucket}");
    }
}

/// Events either side of the retention horizon, stored with the TTL the service gives
/// them; then what TTL does, in its own time: expired events deleted (the consumer sees
/// their removal and must not uncount it) and expired rollup items deleted. A stat over
/// a range across the horizon, or wholly before it, answers the same from both paths.
#[tokio::test]
async fn a_stat_over_an_expiring_range_answers_the_same_from_rollups_and_the_index() {
    const RETENTION_DAYS: u32 = 30;
    let app = app_with(|config| config.retention_days = RETENTION_DAYS).await;
    let now = Utc::now();
    let horizon = now - chrono::Duration::days(RETENTION_DAYS.into());
    let mut expired = Vec::new();
    for i in 0..72usize {
        let mut event = synthetic_event(i);
        let created = horizon + chrono::Duration::minutes(i as i64 * 10 - 360);
        event.created_at = format_time(created);
        event.domain_id = DOMAINS[0].into();
        let expires_at = created.timestamp() + i64::from(RETENTION_DAYS) * 86_400;
        assert!(app.store.put_event(&event, Some(expires_at)).await.unwrap());
        // Expired by the time the stats read (a minute covers the test's run): the event
        // created at the horizon itself expires as the test starts.
        if expires_at <= now.timestamp() + 60 {
            expired.push(event.event_id);
        }
    }
    let consumer = RollupConsumer::new(app.store.clone(), RETENTION_DAYS).dense_from(1);
    e2e::rollups::count_everything(&app, &consumer).await;
    let client = dynamodb();
    let events_table = &app.store.tables().events;
    for event_id in &expired {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(event_id.clone());
        client.delete_item().table_name(events_table).key("event_id", key).send().await.unwrap();
    }
    e2e::rollups::count_everything(&app, &consumer).await;
    let rollups = client.scan().table_name(&app.store.tables().rollups).send().await.unwrap();
    for item in rollups.items() {
        let expires: Option<i64> =
            item.get("expires_at").and_then(|e| e.as_n().ok()).and_then(|n| n.parse().ok());
        if expires.is_some_and(|e| e < now.timestamp()) {
            let key = [("rollup_key", &item["rollup_key"]), ("bucket", &item["bucket"])];
            let mut delete = client.delete_item().table_name(&app.store.tables().rollups);
            for (name, value) in key {
                delete = delete.key(name, value.clone());
            }
            delete.send().await.unwrap();
        }
    }
    let query_path = e2e::query_path(&app);
    let hourly = json!({"key": "created_at", "name": "hour", "date_format": "%Y-%m-%d %H"});
    let by_severity = json!({"key": "severity", "name": "severity"});
    for (from, to) in [(-2, 2), (-3, -1)] {
        let bound = |days: i64| format_time(horizon + chrono::Duration::days(days));
        for key in [&hourly, &by_severity] {
            let raw = json!({
                "filter": [{"k": "created_at", "v": bound(from), "o": "datetime_gte"},
                           {"k": "created_at", "v": bound(to), "o": "datetime_lt"}],
                "aggregate": [{"group": {"keys": [key], "fields": [{"name": "n", "operator": "count"}]}}]
            });
            let query = event_core::query::StatQuery::from_json(&raw).unwrap();
            assert!(query.rollup_ask(now).is_some());
            let both = (
                event_core::service::stat_events(&app, &trusted(DOMAINS[0]), &query).await.unwrap(),
                event_core::service::stat_events(&query_path, &trusted(DOMAINS[0]), &query).await.unwrap(),
            );
            assert_eq!(both.0, both.1, "{raw}");
            let total: u64 = both.0.results.iter().map(|r| r["n"].as_u64().unwrap()).sum();
            let stored = if to < 0 { 0 } else { 72 - expired.len() as u64 };
            assert_eq!(total, stored, "{raw}");
        }
    }
}

/// The local stack: `eventctl serve` follows DynamoDB Local's stream with the same
/// consumer, so events stored while it runs reach the rollups, and a stat that reads
/// rollup fields answers from them.
#[tokio::test]
async fn the_local_stack_follows_the_stream_into_rollups() {
    let mut app = loaded().await;
    // Every day dense, so the days below are answered from hour and day items however
    // the follower's batches fall (`tests/tests/rollups_sparse.rs` has sparse days).
    app.config.rollup_dense_batch_events = 1;
    // An earlier event of the other domain, so rollups count from well before the
    // measured domain's first event (the first hour after it is left to the index).
    let mut early = synthetic_event(EVENTS);
    early.created_at = "2022-06-01T00:00:00.000Z".into();
    early.domain_id = DOMAINS[0].into();
    assert!(app.store.put_event(&early, None).await.unwrap());
    let follower =
        tokio::spawn(event_core::service::rollups::follow_local_stream(app.clone(), endpoint().into()));
    let started = std::time::Instant::now();
    while e2e::rollups::rollups_of(&app, DOMAINS[1]).await
        != e2e::rollups::expected_rollups(&app, DOMAINS[1]).await
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the follower counts the stream within a minute"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    follower.abort();
    assert_rollups_exact(&app, &DOMAINS, "followed by the local stack").await;
    // The measured domain's events go from the table (not through the follower, which
    // has stopped): only rollups still know them.
    let client = dynamodb();
    for i in (1..EVENTS).step_by(2) {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(synthetic_event(i).event_id);
        client
            .delete_item()
            .table_name(&app.store.tables().events)
            .key("event_id", key)
            .send()
            .await
            .unwrap();
    }
    let per_day = json!({"domain_id": DOMAINS[1], "query": {"aggregate": [
        {"group": {"keys": [{"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"}],
                   "fields": [{"name": "n", "operator": "count"}]}}]}});
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&per_day.to_string())
        .request();
    let (status, body) = parts(event_stat::handle(&app, req).await);
    assert_eq!(status, 200, "{body}");
    let on = |day: &str| {
        (1..EVENTS).step_by(2).filter(|&i| synthetic_event(i).created_at.starts_with(day)).count()
    };
    let want =
        json!([{"day": "2022-06-01", "n": on("2022-06-01")}, {"day": "2022-06-02", "n": on("2022-06-02")}]);
    assert_eq!(body["results"], want, "answered from rollups");
}

/// The rollup Lambda as its event source mapping invokes it (the console sample
/// `events/rollup.json`: a tumbling-window batch of one event and one delivery claim).
#[tokio::test]
async fn the_rollup_function_counts_a_batch_once_and_reports_what_it_could_not_count() {
    use aws_lambda_events::event::dynamodb::TimeWindowEvent;
    let app = app().await;
    let sample = std::fs::read_to_string(repo_root().join("events/rollup.json")).unwrap();
    let event: TimeWindowEvent = serde_json::from_str(&sample).unwrap();
    let domain = "domain-58010aa2e451";
    // The rollups hold the sample's one event (not stored here: the claim counts nothing).
    let severities = |app: App| async move {
        let counts = e2e::rollups::rollups_of(&app, domain).await;
        let per_hour = counts.iter().filter(|(k, _)| k.0.name() == "severity" && k.1 == Granularity::Hour);
        per_hour.map(|(k, n)| json!({"s": k.3[0], "n": n})).collect::<Vec<_>>()
    };
    let consumer = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    for _ in 0..2 {
        let response = event_rollup::handle(&consumer, event.clone()).await.unwrap();
        // A tumbling window's response must carry a state, even an empty one.
        assert_eq!(serde_json::to_value(&response).unwrap(), json!({"state": {}, "batchItemFailures": []}));
        assert_eq!(severities(app.clone()).await, [json!({"s": "CRITICAL", "n": 1})], "counted once");
    }
    let broken =
        Store::new(dynamodb(), Tables { rollups: "no-such-table".into(), ..app.store.tables().clone() });
    let response =
        event_rollup::handle(&RollupConsumer::new(broken, 0).dense_from(1), event.clone()).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        response.batch_item_failures[0].item_identifier.as_deref(),
        Some("4421584500000000017450439091")
    );
    let mut unsharded = event;
    unsharded.time_window_properties.shard_id = None;
    let refused = event_rollup::handle(&consumer, unsharded).await.unwrap_err();
    assert!(refused.to_string().contains("TumblingWindowInSeconds"), "{refused}");
}
