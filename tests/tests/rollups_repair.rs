//! Repair: `verify` finds the buckets whose rollups differ from a recount of the
//! domain's events, `rebuild` rewrites them while the consumer goes on counting new
//! events, a second rebuild has nothing to do, and records delivered again afterwards
//! are still counted once.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use e2e::rollups::{assert_rollups_exact, count_everything, stream_records};
use e2e::*;
use event_core::model::{format_time, parse_time, Event, EventType, Resource, Severity};
use event_core::service::rollup_repair::{rebuild, verify};
use event_core::service::RollupConsumer;
use serde_json::json;

const DOMAIN: &str = "domain-roll-repair";

fn at(text: &str) -> DateTime<Utc> {
    parse_time(text).unwrap()
}

fn event(i: usize, created: DateTime<Utc>) -> Event {
    Event {
        event_id: format!("event-{:012x}", 0xbee000 + i),
        event_key: format!("key-{i}"),
        event_type: [EventType::Alert, EventType::Recovery][i % 2],
        title: format!("event {i}"),
        description: String::new(),
        severity: [Severity::Critical, Severity::Error, Severity::Info][i % 3],
        rule: String::new(),
        resource: Resource { resource_type: format!("type-{}", i % 4), ..Resource::default() },
        provider: ["prometheus", "grafana"][i % 2].into(),
        account: String::new(),
        image_url: String::new(),
        raw_data: json!({}),
        raw_data_missing: false,
        event_rules: None,
        additional_info: Default::default(),
        alert_id: String::new(),
        webhook_id: format!("webhook-00000000000{}", i % 3),
        project_id: format!("project-{}", i % 5),
        workspace_id: String::new(),
        domain_id: DOMAIN.into(),
        created_at: format_time(created),
        occurred_at: format_time(created),
    }
}

async fn delete(client: &aws_sdk_dynamodb::Client, table: &str, rollup_key: &str, bucket: &str) {
    let out = client
        .delete_item()
        .table_name(table)
        .key("rollup_key", AttributeValue::S(rollup_key.into()))
        .key("bucket", AttributeValue::S(bucket.into()))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(out.attributes.is_some(), "{rollup_key} {bucket} existed");
}

#[tokio::test]
async fn rebuild_rewrites_what_verify_finds_while_the_consumer_runs_and_only_once() {
    let app = app().await;
    let (from, to) = (at("2022-06-01T00:00:00Z"), at("2022-06-02T23:59:59.999Z"));
    // 96 events over two days, one every half hour, stored in time order.
    for i in 0..96 {
        let created = from + chrono::Duration::minutes(30 * i as i64 + 7);
        assert!(app.store.put_event(&event(i, created), None).await.unwrap());
    }
    // A later event, so the consumer's progress puts both days behind it.
    assert!(app.store.put_event(&event(96, at("2022-06-05T12:00:00Z")), None).await.unwrap());
    count_everything(&app, &RollupConsumer::new(app.store.clone(), 0)).await;
    let domain = trusted(DOMAIN);
    assert_eq!(verify(&app.store, &domain, from, to).await.unwrap(), [], "rollups as counted");

    // Lost counts: a day item and an hour item gone (a batch that reached the failure
    // queue), and a cell that counts too many.
    let (client, table) = (dynamodb(), app.store.tables().rollups.clone());
    delete(&client, &table, &format!("{DOMAIN}#severity"), "D2022-06-01").await;
    delete(&client, &table, &format!("{DOMAIN}#project_id+provider"), "H2022-06-02T10").await;
    client
        .update_item()
        .table_name(&table)
        .key("rollup_key", AttributeValue::S(format!("{DOMAIN}#event_type")))
        .key("bucket", AttributeValue::S("D2022-06-02".into()))
        .update_expression("ADD #c :n")
        .expression_attribute_names("#c", "=[\"ALERT\"]")
        .expression_attribute_values(":n", AttributeValue::N("5".into()))
        .send()
        .await
        .unwrap();
    let found = verify(&app.store, &domain, from, to).await.unwrap();
    let named: Vec<_> =
        found.iter().map(|d| (d.view.as_str(), d.bucket.as_str(), d.rollups, d.recount)).collect();
    for want in [
        ("event_type", "D2022-06-02", 53, 48),
        ("severity", "D2022-06-01", 0, 48),
        ("project_id+provider", "H2022-06-02T10", 0, 2),
    ] {
        assert!(named.contains(&want), "{want:?} in {found:?}");
    }
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|d| d.settled), "{found:?}");

    // Rebuild while the local stack's consumer follows the stream and new events arrive.
    let follower =
        tokio::spawn(event_core::service::rollups::follow_local_stream(app.clone(), endpoint().into()));
    let writer = {
        let store = app.store.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                let created = at("2022-06-05T13:00:00Z") + chrono::Duration::minutes(i as i64);
                assert!(store.put_event(&event(100 + i, created), None).await.unwrap());
            }
        })
    };
    let rebuilt = rebuild(&app.store, &domain, from, to, 0).await.unwrap();
    assert_eq!((rebuilt.rewritten, rebuilt.unsettled), (3, 0));
    writer.await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    follower.abort();
    assert_eq!(verify(&app.store, &domain, from, to).await.unwrap(), [], "after the rebuild");
    assert_eq!(rebuild(&app.store, &domain, from, to, 0).await.unwrap().rewritten, 0, "nothing left to do");

    // The whole stream again, as after a consumer's restart: the rewritten items kept
    // their marks, so nothing is counted twice.
    let consumer = RollupConsumer::new(app.store.clone(), 0);
    for shard in stream_records(&app).await {
        for batch in shard.changes.chunks(100) {
            assert_eq!(consumer.consume(&shard.shard_id, batch).await, None);
        }
    }
    assert_rollups_exact(&app, &[DOMAIN], "after the rebuild and a redelivery").await;
}
