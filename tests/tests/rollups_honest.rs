//! Rollups no tenant can break, and stats that are exact or read the index: a hostile
//! domain's free text cannot stall the consumer or change another domain's counts, and
//! a consumer that stops makes stats slower, never wrong.

use e2e::rollups::{assert_rollups_exact, count_everything};
use e2e::*;
use event_core::model::{format_time, Event, EventType, Resource, Severity, WebhookFormat};
use event_core::service::{App, RollupConsumer};
use serde_json::{json, Value};

const HOSTILE: &str = "domain-roll-hostile";
const VICTIM: &str = "domain-roll-victim";
const NEIGHBOUR: &str = "domain-roll-neighbour";

/// Posts `body` to the webhook as a sender does: again after a 503 (a loaded machine may
/// run a big delivery past its budget), until it is stored.
async fn post(app: &App, key: &event_core::service::webhooks::IssuedKey, body: &Value) {
    for _ in 0..10 {
        let req = ApiEvent::new(Gateway::Http, "create")
            .route("POST", &webhook_path(key))
            .body(&body.to_string())
            .request();
        let (status, answer) = parts(event_create::handle(app, req).await);
        match status {
            200 => return,
            503 => continue,
            _ => panic!("{status} {answer}"),
        }
    }
    panic!("still 503 after ten deliveries");
}

/// An event of `domain_id` stored straight into the events table (the webhook path is
/// exercised by the posts; this is volume).
fn event(domain_id: &str, i: usize, provider: String, resource_type: String) -> Event {
    let now = format_time(chrono::Utc::now());
    Event {
        event_id: format!("event-{:012x}", i + domain_id.len() * 1_000_000),
        event_key: format!("key-{i}"),
        event_type: EventType::Alert,
        title: format!("event {i}"),
        description: String::new(),
        severity: [Severity::Critical, Severity::Info][i % 2],
        rule: String::new(),
        resource: Resource { resource_id: String::new(), resource_type, name: String::new() },
        provider,
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: Default::default(),
        alert_id: String::new(),
        webhook_id: "webhook-000000000001".into(),
        project_id: "project-1".into(),
        workspace_id: String::new(),
        domain_id: domain_id.into(),
        created_at: now.clone(),
        occurred_at: now,
    }
}

async fn store_all(app: &App, events: Vec<Event>) {
    let mut writes = tokio::task::JoinSet::new();
    for event in events {
        if writes.len() >= 16 {
            writes.join_next().await.unwrap().unwrap();
        }
        let store = app.store.clone();
        writes.spawn(async move { assert!(store.put_event(&event, None).await.unwrap()) });
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap();
    }
}

/// Issue 19's reproduction, and more: the hostile domain posts 250 events whose
/// resource_type is 1.9 KB of distinct text (a day item of the resource_type views would
/// pass DynamoDB's 400 KB) and 1,200 whose provider and resource_type are short distinct
/// text (hundreds of KB of cells); a neighbour posts 700 ordinary events, and the victim
/// one before and one after. The consumer must take every batch, and every domain's
/// rollups must count its events exactly (the hostile domain's in spill items).
#[tokio::test]
async fn a_hostile_domain_cannot_stall_the_consumer_or_change_another_domains_counts() {
    let app = app().await;
    let victim = webhook_in(&app, WebhookFormat::Standard, VICTIM, "project-v").await;
    let hostile = webhook_in(&app, WebhookFormat::Standard, HOSTILE, "project-h").await;
    post(&app, &victim, &json!({"title": "before", "severity": "ERROR"})).await;
    let long: Vec<Value> = (0..250)
        .map(|i| {
            let resource_type = format!("{i:04}{}", "x".repeat(1900));
            json!({"title": format!("hostile {i}"), "resource": {"resource_type": resource_type}})
        })
        .collect();
    post(&app, &hostile, &Value::Array(long)).await;
    let short = (0..1200).map(|i| event(HOSTILE, i, format!("p{i:03}-{}", "y".repeat(90)), format!("t{i}")));
    store_all(&app, short.collect()).await;
    let ordinary = (0..700).map(|i| event(NEIGHBOUR, i, "prometheus".into(), "inventory.Server".into()));
    store_all(&app, ordinary.collect()).await;
    post(&app, &victim, &json!({"title": "after", "severity": "ERROR"})).await;

    // Every record counted, in batches of 500 as `count_everything` hands them: not one
    // batch is reported back as a failure. Every day dense, so every domain's events go
    // to hour items, the hostile one's spilling.
    let consumer = RollupConsumer::new(app.store.clone(), 0).dense_from(1);
    count_everything(&app, &consumer).await;
    assert_rollups_exact(&app, &[VICTIM, NEIGHBOUR, HOSTILE], "after the hostile domain's events").await;

    // The victim's stat, through the handler, from rollups where they are trusted.
    let per_severity = json!({"domain_id": VICTIM, "query": {"aggregate": [
        {"group": {"keys": [{"key": "severity", "name": "s"}], "fields": [{"name": "n", "operator": "count"}]}}]}});
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&per_severity.to_string())
        .request();
    let (status, body) = parts(event_stat::handle(&app, req).await);
    assert_eq!((status, &body["results"]), (200, &json!([{"s": "ERROR", "n": 2}])), "{body}");
    // The hostile domain's own stats stay exact (its spilled buckets read the index).
    let per_type = json!({"domain_id": HOSTILE, "query": {"aggregate": [
        {"group": {"keys": [{"key": "event_type", "name": "t"}], "fields": [{"name": "n", "operator": "count"}]}}]}});
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&per_type.to_string())
        .request();
    let (status, body) = parts(event_stat::handle(&app, req).await);
    assert_eq!((status, &body["results"]), (200, &json!([{"t": "ALERT", "n": 1450}])), "{body}");
}

/// A consumer that stopped part way through the stream (a stalled or lagging one):
/// stats count what it applied from rollups and everything after from the index, so
/// they stay exact. Events go in one a minute over four whole hours, in time order as
/// create stores them, and the consumer takes the first 60% of the stream. Ten events of
/// the first hour are then deleted from the events table: only rollups still know them,
/// which shows that hour was answered from rollups.
#[tokio::test]
async fn a_stalled_consumer_makes_stats_slower_never_wrong() {
    const DOMAIN: &str = "domain-roll-stalled";
    let app = app_with(|config| config.rollup_settle_seconds = 0).await;
    let hour = chrono::Duration::hours(1);
    let start = event_core::rollup::Granularity::Hour.floor(chrono::Utc::now()) - hour * 4;
    let mut ids = Vec::new();
    for i in 0..240 {
        let mut e = event(DOMAIN, i, "prometheus".into(), "inventory.Server".into());
        e.created_at = format_time(start + chrono::Duration::minutes(i as i64));
        assert!(app.store.put_event(&e, None).await.unwrap());
        ids.push(e.event_id);
    }
    let mut shards = e2e::rollups::stream_records(&app).await;
    let shard = shards.remove(0);
    let consumer = RollupConsumer::new(app.store.clone(), 0);
    let applied = shard.changes.len() * 6 / 10;
    for batch in shard.changes[..applied].chunks(50) {
        assert_eq!(consumer.consume(&shard.shard_id, batch).await, None);
    }
    for id in &ids[..10] {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(id.clone());
        dynamodb()
            .delete_item()
            .table_name(&app.store.tables().events)
            .key("event_id", key)
            .send()
            .await
            .unwrap();
    }

    let since = json!([{"k": "created_at", "v": format_time(start), "o": "datetime_gte"}]);
    let per_hour = json!({"domain_id": DOMAIN, "query": {"filter": since, "aggregate": [
        {"group": {"keys": [{"key": "created_at", "name": "h", "date_format": "%Y-%m-%d %H"}],
                   "fields": [{"name": "n", "operator": "count"}]}}]}});
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/event/stat")
        .body(&per_hour.to_string())
        .request();
    let (status, body) = parts(event_stat::handle(&app, req).await);
    let want: Vec<Value> =
        (0..4).map(|h| json!({"h": (start + hour * h).format("%Y-%m-%d %H").to_string(), "n": 60})).collect();
    assert_eq!((status, &body["results"]), (200, &json!(want)), "{body}");

    let count = json!({"domain_id": DOMAIN, "query": {"filter": since, "count_only": true}});
    let req = ApiEvent::new(Gateway::Http, "list")
        .route("POST", "/monitoring/v1/event/list")
        .body(&count.to_string())
        .request();
    let (status, body) = parts(event_list::handle(&app, req).await);
    assert_eq!((status, &body["total_count"]), (200, &json!(240)), "{body}");
}

/// The isolation test over time: a hostile writer stores events with fresh values in
/// every free-text field rollups count (long and short, alternating) as fast as it can,
/// and a victim one event a second, while the local stack's consumer follows the stream.
/// Throughout, every shard's progress stays within the staleness bound
/// (`ROLLUP_SETTLE_SECONDS`, 120 s); at the end the consumer catches up and both domains'
/// rollups count their events exactly. `ROLLUP_SOAK_SECONDS` (10 here, so `make test`
/// runs a short pass; `make soak` runs 600).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hostile_writer_beside_a_following_consumer_neither_delays_nor_changes_a_victim() {
    const VICTIM: &str = "domain-roll-soak-victim";
    const HOSTILE: &str = "domain-roll-soak-hostile";
    let seconds: u64 = std::env::var("ROLLUP_SOAK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let app = app().await;
    let follower =
        tokio::spawn(event_core::service::rollups::follow_local_stream(app.clone(), endpoint().into()));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let hostile = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while std::time::Instant::now() < until {
                let long = if n % 2 == 0 { "z".repeat(1900) } else { String::new() };
                let batch = (0..16).map(|i| {
                    let k = n * 16 + i;
                    event(HOSTILE, k, format!("p{k}{long}"), format!("t{k}{long}"))
                });
                store_all(&app, batch.collect()).await;
                n += 1;
            }
            n * 16
        })
    };
    let mut victims = 0;
    let mut worst = chrono::Duration::zero();
    while std::time::Instant::now() < until {
        store_all(&app, vec![event(VICTIM, victims, "prometheus".into(), "inventory.Server".into())]).await;
        victims += 1;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = chrono::Utc::now();
        if let Some(counted) = app.store.rollup_progress().await.unwrap().counted_until(now) {
            worst = worst.max(now - counted);
        }
    }
    let hostile_events = hostile.await.unwrap();
    assert!(worst < chrono::Duration::seconds(120), "rollups lagged {worst} behind the events");
    let caught_up = std::time::Instant::now();
    let expected = e2e::rollups::expected_rollups(&app, VICTIM).await;
    while e2e::rollups::rollups_of(&app, VICTIM).await != expected {
        assert!(caught_up.elapsed().as_secs() < 60, "the consumer caught up within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    follower.abort();
    assert_rollups_exact(&app, &[VICTIM, HOSTILE], "after the soak").await;
    println!(
        "rollup soak: {seconds} s, {victims} victim events, {hostile_events} hostile events, worst lag {} s",
        worst.num_seconds()
    );
}
