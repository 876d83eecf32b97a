//! What each operation costs in DynamoDB capacity units, as DynamoDB Local reports them
//! (ReturnConsumedCapacity: TOTAL on every call), and how long it takes on this machine.
//! Run: `make bench` (or `cargo bench -p e2e --bench capacity` with DynamoDB Local up).

use std::time::Instant;

use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use serde_json::json;

async fn measure<F: std::future::Future<Output = (u16, serde_json::Value)>>(app: &App, label: &str, op: F) {
    let before = app.store.consumed_capacity();
    let started = Instant::now();
    let (status, body) = op.await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{label}: {body}");
    println!(
        "| {label:<52} | {:>6.1} | {:>8.2} |",
        app.store.consumed_capacity() - before,
        elapsed.as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let path = webhook_path(&key);
    let post = |body: String| {
        let req = ApiEvent::new(Gateway::Http, "create").route("POST", &path).body(&body).request();
        let app = app.clone();
        async move { parts(event_create::handle(&app, req).await) }
    };
    println!(
        "| operation                                            | capacity units | ms (DynamoDB Local) |"
    );
    println!("|---|---:|---:|");
    let seed = fixture("standard/bastion-ssh-spaceoneadm.json");
    measure(&app, "create: 1 event, new key (opens an alert)", post(seed.clone())).await;
    measure(&app, "create: the same delivery again (redelivery, not stored)", post(seed.clone())).await;
    let repeat = seed.replacen("spaceoneadm\"", "spaceoneadm again\"", 1);
    measure(&app, "create: 1 event, same key (joins the open alert)", post(repeat)).await;
    let recovery =
        json!({"title": "ok", "event_key": "cfbdd0cee08f0f2664dbef297c370017", "event_type": "RECOVERY"});
    measure(&app, "create: RECOVERY (resolves the alert)", post(recovery.to_string())).await;
    let ten: Vec<_> =
        (0..10).map(|i| json!({"title": format!("t{i}"), "event_key": format!("k{i}")})).collect();
    measure(&app, "create: 10 events, new keys", post(json!(ten).to_string())).await;
    let raw = json!({"title": "big", "blob": "x".repeat(300 * 1024)});
    measure(&app, "create: 1 event with 300 KB raw_data (chunked)", post(raw.to_string())).await;

    let events =
        app.store.query_events(&event_core::store::EventRange::domain(&trusted(DOMAIN))).await.unwrap();
    let small = events.iter().find(|e| e.title.starts_with('t')).unwrap().event_id.clone();
    let get = |event_id: String| {
        let req = ApiEvent::new(Gateway::Http, "get")
            .route("GET", &format!("/monitoring/v1/event/{event_id}"))
            .query(&[("domain_id", DOMAIN)])
            .request();
        let app = app.clone();
        async move { parts(event_get::handle(&app, req).await) }
    };
    measure(&app, "get: one event", get(small)).await;
}
