//! Reads when TTL has been at work, through API Gateway events on DynamoDB Local: TTL
//! deletes items each on its own time, so an event may outlive one of its raw_data
//! chunks, and an expired event may still be there for days.

use aws_sdk_dynamodb::types::AttributeValue;
use e2e::*;
use event_core::model::{Event, WebhookFormat};
use event_core::service::App;
use event_core::store::RawData;
use serde_json::{json, Value};

async fn create(app: &App, body: &Value) {
    let key = webhook(app, WebhookFormat::Standard).await;
    let req = ApiEvent::new(Gateway::Http, "create")
        .route("POST", &webhook_path(&key))
        .body(&body.to_string())
        .request();
    let (status, resp) = parts(event_create::handle(app, req).await);
    assert_eq!(status, 200, "{resp}");
}

async fn get(app: &App, event_id: &str, only: Option<&str>) -> (u16, Value) {
    let mut params = vec![("domain_id", DOMAIN)];
    params.extend(only.map(|only| ("only", only)));
    let path = format!("/monitoring/v1/event/{event_id}");
    let req = ApiEvent::new(Gateway::Rest, "get").route("GET", &path).query(&params).request();
    parts(event_get::handle(app, req).await)
}

async fn list(app: &App, body: Value) -> (u16, Value) {
    let mut body = body;
    body["domain_id"] = json!(DOMAIN);
    let req = ApiEvent::new(Gateway::Http, "list")
        .route("POST", "/monitoring/v1/events/search")
        .body(&body.to_string())
        .request();
    parts(event_list::handle(app, req).await)
}

async fn stat(app: &App, query: Value) -> (u16, Value) {
    let body = json!({"query": query, "domain_id": DOMAIN});
    let req = ApiEvent::new(Gateway::Http, "stat")
        .route("POST", "/monitoring/v1/events/stat")
        .body(&body.to_string())
        .request();
    parts(event_stat::handle(app, req).await)
}

/// The id of the one event titled `title`.
async fn id_of(app: &App, title: &str) -> String {
    let (status, body) =
        list(app, json!({"query": {"filter": [{"k": "title", "v": title}], "only": ["event_id"]}})).await;
    assert_eq!(status, 200, "{body}");
    body["results"][0]["event_id"].as_str().unwrap().to_string()
}

async fn item(app: &App, id: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
    let out = dynamodb()
        .get_item()
        .table_name(&app.config.tables.events)
        .key("event_id", AttributeValue::S(id.to_string()))
        .send()
        .await
        .unwrap();
    out.item
}

/// The key of an event's chunk item `n`, as the event item names its chunks.
async fn chunk_key(app: &App, event_id: &str, n: usize) -> String {
    let event = item(app, event_id).await.expect("the event is stored");
    let digest = event["raw_data_digest"].as_s().unwrap();
    format!("{event_id}#raw#{digest}#{n}")
}

async fn delete(app: &App, id: &str) {
    let table = &app.config.tables.events;
    let key = AttributeValue::S(id.to_string());
    dynamodb().delete_item().table_name(table).key("event_id", key).send().await.unwrap();
}

#[tokio::test]
async fn a_deleted_raw_data_chunk_degrades_every_read_and_never_answers_500() {
    let app = app().await;
    create(&app, &json!({"title": "big", "event_key": "big", "blob": "z".repeat(600 * 1024)})).await;
    create(&app, &json!({"title": "small", "event_key": "small"})).await;
    let big = id_of(&app, "big").await;
    let second = chunk_key(&app, &big, 1).await;
    assert!(item(&app, &second).await.is_some(), "600 KB of raw_data takes three chunks");
    delete(&app, &second).await;

    let (status, event) = get(&app, &big, None).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!((&event["raw_data"], &event["raw_data_missing"]), (&Value::Null, &json!(true)));
    assert_eq!(event["title"], "big");
    let (status, event) = get(&app, &big, Some("title")).await;
    assert_eq!((status, event), (200, json!({"title": "big"})));

    let (status, page) = list(&app, json!({})).await;
    assert_eq!(status, 200, "{page}");
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let degraded: Vec<&Value> = results.iter().filter(|e| e.get("raw_data_missing").is_some()).collect();
    assert_eq!(degraded.len(), 1, "only the event whose chunk is gone says so: {results:?}");
    assert_eq!((&degraded[0]["title"], &degraded[0]["raw_data"]), (&json!("big"), &Value::Null));
    let small = results.iter().find(|e| e["title"] == "small").unwrap();
    assert_eq!(small["raw_data"], json!({"title": "small", "event_key": "small"}));
    for query in [
        json!({"minimal": true}),
        json!({"filter": [{"k": "raw_data.blob", "v": true, "o": "exists"}]}),
        json!({"page": {"limit": 1}}),
    ] {
        let (status, page) = list(&app, json!({"query": query})).await;
        assert_eq!(status, 200, "{query}: {page}");
    }
    let (status, page) = list(&app, json!({"next_token": ""})).await;
    assert_eq!((status, page["results"].as_array().map(Vec::len)), (200, Some(2)), "{page}");

    let (status, answer) = stat(&app, json!({"aggregate": [{"count": {"name": "n"}}]})).await;
    assert_eq!((status, &answer["results"]), (200, &json!([{"n": 2}])), "{answer}");
    let by_title = json!({"aggregate": [{"group": {"keys": [{"key": "title", "name": "t"}],
                                                   "fields": [{"key": "raw_data.blob", "name": "b", "operator": "count"}]}}]});
    let (status, answer) = stat(&app, by_title).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn raw_data_chunks_expire_a_day_after_their_event() {
    let app = app_with(|c| c.retention_days = 3).await;
    create(&app, &json!({"title": "big", "event_key": "big", "blob": "z".repeat(300 * 1024)})).await;
    let big = id_of(&app, "big").await;
    let expires = |item: std::collections::HashMap<String, AttributeValue>| -> i64 {
        item["expires_at"].as_n().unwrap().parse().unwrap()
    };
    let event = expires(item(&app, &big).await.unwrap());
    for n in 0..2 {
        let chunk = expires(item(&app, &chunk_key(&app, &big, n).await).await.unwrap());
        assert_eq!(chunk, event + 86_400, "chunk {n}");
    }
}

#[tokio::test]
async fn reads_that_do_not_show_raw_data_do_not_read_its_chunks() {
    let app = app().await;
    create(&app, &json!({"title": "big", "event_key": "big", "blob": "z".repeat(600 * 1024)})).await;
    let big = id_of(&app, "big").await;
    let units = |app: &App| app.store.consumed_capacity();
    let cost = |before: f64, app: &App| units(app) - before;
    let before = units(&app);
    assert_eq!(get(&app, &big, Some("title,resource.name")).await.0, 200);
    let slim = cost(before, &app);
    let before = units(&app);
    let (status, whole) = get(&app, &big, None).await;
    assert_eq!((status, whole["raw_data"]["blob"].as_str().map(str::len)), (200, Some(600 * 1024)));
    let full = cost(before, &app);
    // The event item is about 1 KB; its three chunks 600 KB, read strongly consistent.
    assert!(slim <= 1.0 && full > 100.0, "get with only: {slim} units, without: {full}");
    let before = units(&app);
    let (status, page) = list(&app, json!({"query": {"minimal": true}})).await;
    assert_eq!((status, page["results"].as_array().map(Vec::len)), (200, Some(1)), "{page}");
    assert!(cost(before, &app) <= 1.0, "a minimal list: {} units", cost(before, &app));
}

#[tokio::test]
async fn an_expired_event_is_not_read_before_ttl_deletes_it() {
    let app = app_with(|c| c.retention_days = 3).await;
    create(&app, &json!({"title": "old", "event_key": "old"})).await;
    create(&app, &json!({"title": "new", "event_key": "new"})).await;
    let old = id_of(&app, "old").await;
    // As if its time had come and DynamoDB's TTL had not got to it yet.
    let past = (chrono::Utc::now().timestamp() - 60).to_string();
    dynamodb()
        .update_item()
        .table_name(&app.config.tables.events)
        .key("event_id", AttributeValue::S(old.clone()))
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(":past", AttributeValue::N(past))
        .send()
        .await
        .unwrap();
    let (status, err) = get(&app, &old, None).await;
    assert_eq!((status, error_code(status, &err).as_str()), (404, "ERROR_NOT_FOUND"));
    for query in [json!({}), json!({"page": {"limit": 5}}), json!({"filter": [{"k": "title", "v": "old"}]})] {
        let (status, page) = list(&app, json!({"query": query})).await;
        assert_eq!(status, 200, "{page}");
        let titles: Vec<&Value> = page["results"].as_array().unwrap().iter().map(|e| &e["title"]).collect();
        assert!(!titles.contains(&&json!("old")), "{query}: {titles:?}");
    }
    let (status, page) = list(&app, json!({"next_token": ""})).await;
    assert_eq!((status, page["results"].as_array().map(Vec::len)), (200, Some(1)), "{page}");
    let by_title = json!({"aggregate": [{"group": {"keys": [{"key": "title", "name": "t"}],
                                                   "fields": [{"name": "n", "operator": "count"}]}}]});
    let (status, answer) = stat(&app, by_title).await;
    assert_eq!((status, &answer["results"]), (200, &json!([{"t": "new", "n": 1}])), "{answer}");
}

#[tokio::test]
async fn two_writers_of_one_event_id_never_mix_their_chunks() {
    let app = app().await;
    create(&app, &json!({"title": "big", "event_key": "big", "blob": "a".repeat(600 * 1024)})).await;
    let id = id_of(&app, "big").await;
    let domain = trusted(DOMAIN);
    let first = app.store.get_event(&domain, &id, RawData::Read).await.unwrap().unwrap();
    // A delivery that took the claim over writes its chunks for the same event id, then
    // finds the id taken: another body of the same change, shorter (two chunks, not three).
    let other = Event { raw_data: json!({"title": "big", "blob": "b".repeat(300 * 1024)}), ..first.clone() };
    assert!(!app.store.put_event(&other, None).await.unwrap(), "the id is taken");
    let read = app.store.get_event(&domain, &id, RawData::Read).await;
    let read = read.expect("the stored event still reads").unwrap();
    assert_eq!(read.raw_data, first.raw_data, "its own chunks, whole");
}

#[tokio::test]
async fn counts_on_the_count_index_leave_out_events_that_have_expired() {
    let app = app_with(|c| c.retention_days = 1).await;
    create(&app, &json!({"title": "fresh", "event_key": "fresh"})).await;
    let fresh = app.store.get_event(&trusted(DOMAIN), &id_of(&app, "fresh").await, RawData::Skip).await;
    let fresh = fresh.unwrap().unwrap();
    // Stored two days ago with a day's retention: expired, and TTL has not deleted it yet.
    let stored_at = chrono::Utc::now() - chrono::Duration::days(2);
    let old = Event {
        event_id: event_core::model::new_id("event"),
        title: "expired".into(),
        created_at: event_core::model::format_time(stored_at),
        ..fresh
    };
    app.store.put_event(&old, Some(stored_at.timestamp() + 86_400)).await.unwrap();

    let (status, page) = list(&app, json!({"query": {"count_only": true}})).await;
    assert_eq!((status, &page["total_count"]), (200, &json!(1)), "the count index: {page}");
    let (status, page) =
        list(&app, json!({"query": {"filter": [{"k": "title", "v": "none of them", "o": "not"}]}})).await;
    assert_eq!((status, &page["total_count"]), (200, &json!(1)), "{page}");
    let by_severity = json!({"aggregate": [{"group": {"keys": [{"key": "severity", "name": "s"}],
                                                      "fields": [{"name": "n", "operator": "count"}]}}]});
    let (status, answer) = stat(&app, by_severity).await;
    assert_eq!(status, 200, "{answer}");
    let counted: u64 = answer["results"].as_array().unwrap().iter().map(|r| r["n"].as_u64().unwrap()).sum();
    assert_eq!(counted, 1, "{answer}");
}
