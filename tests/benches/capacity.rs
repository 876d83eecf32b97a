//! What each operation costs in DynamoDB capacity units (ReturnConsumedCapacity: TOTAL on
//! every call), as DynamoDB Local reports them and as AWS bills them, and how long it
//! takes on this machine. DynamoDB Local does not double a transaction's writes and
//! reports nothing for a rejected conditional write; AWS bills a transactional write
//! twice and a rejected one as a write (see `Consumed`).
//! Run: `make bench` (or `cargo bench -p e2e --bench capacity` with DynamoDB Local up).

use std::time::Instant;

use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use serde_json::{json, Value};

/// One row: the operation, what it cost and how long it took; answers its response body.
async fn measure<F>(app: &App, label: &str, bytes: usize, op: F) -> Value
where
    F: std::future::Future<Output = (u16, Value)>,
{
    let before = app.store.consumed();
    let started = Instant::now();
    let (status, body) = op.await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{label}: {body}");
    let used = app.store.consumed().since(&before);
    let bytes = if bytes == 0 { String::new() } else { bytes.to_string() };
    println!(
        "| {label:<58} | {bytes:>7} | {:>5.1} | {:>5.1} | {:>5.1} | {:>7.2} |",
        used.local_writes(),
        used.aws_writes(),
        used.reads,
        elapsed.as_secs_f64() * 1000.0
    );
    body
}

/// The single-alert fixture with its alert made another change of the same alert
/// (`starts_at`), or another alert (`fingerprint`).
fn alertmanager(fixture: &Value, fingerprint: &str, starts_at: &str) -> Value {
    let mut payload = fixture.clone();
    payload["alerts"][0]["fingerprint"] = json!(fingerprint);
    payload["alerts"][0]["startsAt"] = json!(starts_at);
    payload
}

#[tokio::main]
async fn main() {
    let app = app().await;
    let standard = webhook_path(&webhook(&app, WebhookFormat::Standard).await);
    let prometheus = webhook_path(&webhook(&app, WebhookFormat::Alertmanager).await);
    let post = |path: &str, body: String| {
        let req = ApiEvent::new(Gateway::Http, "create").route("POST", path).body(&body).request();
        let app = app.clone();
        async move { parts(event_create::handle(&app, req).await) }
    };
    println!(
        "| operation | payload bytes | write units (DynamoDB Local) | write units (AWS) | read units | ms (DynamoDB Local) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");

    let seed = fixture("standard/bastion-ssh-spaceoneadm.json");
    let n = seed.len();
    measure(&app, "standard: 1 event, new key (opens an alert)", n, post(&standard, seed.clone())).await;
    measure(&app, "standard: the same delivery again (not stored)", n, post(&standard, seed.clone())).await;
    let repeat = seed.replacen("spaceoneadm\"", "spaceoneadm again\"", 1);
    measure(&app, "standard: 1 event, same key (joins the open alert)", n, post(&standard, repeat)).await;
    let recovery =
        json!({"title": "ok", "event_key": "cfbdd0cee08f0f2664dbef297c370017", "event_type": "RECOVERY"})
            .to_string();
    let n = recovery.len();
    measure(&app, "standard: RECOVERY (resolves the alert)", n, post(&standard, recovery)).await;

    let single: Value = serde_json::from_str(&fixture("alertmanager/firing-single-critical.json")).unwrap();
    let first = single.to_string();
    let n = first.len();
    measure(&app, "alertmanager: 1 alert, new key (opens an alert)", n, post(&prometheus, first.clone()))
        .await;
    measure(&app, "alertmanager: the same delivery again (not stored)", n, post(&prometheus, first)).await;
    let again = alertmanager(&single, "ab906f89a7cb9bdc", "2026-11-22T16:54:27Z").to_string();
    measure(&app, "alertmanager: 1 alert, same key (joins the open alert)", n, post(&prometheus, again))
        .await;
    let mut group = single.clone();
    group["alerts"] = (0..10)
        .map(|i| alertmanager(&single, &format!("{i:016x}"), "2026-11-22T15:54:27Z")["alerts"][0].clone())
        .collect();
    let group = group.to_string();
    let n = group.len();
    measure(&app, "alertmanager: 10-alert group, new keys", n, post(&prometheus, group.clone())).await;
    measure(&app, "alertmanager: the same group again (not stored)", n, post(&prometheus, group)).await;
    // Past 16 changes a delivery first reads which are stored, in bulk (fanout.rs).
    let mut big = single.clone();
    big["alerts"] = (0..40)
        .map(|i| {
            alertmanager(&single, &format!("{:016x}", 100 + i), "2026-11-22T15:54:27Z")["alerts"][0].clone()
        })
        .collect();
    let big = big.to_string();
    let n = big.len();
    measure(&app, "alertmanager: 40-alert group, new keys", n, post(&prometheus, big.clone())).await;
    measure(&app, "alertmanager: the same 40 again (not stored)", n, post(&prometheus, big)).await;

    let events =
        app.store.query_events(&event_core::store::EventRange::domain(&trusted(DOMAIN))).await.unwrap();
    let alert = events.iter().find(|e| e.event_key == "ab906f89a7cb9bdc").unwrap();
    let (event_id, alert_id) = (alert.event_id.clone(), alert.alert_id.clone());
    let get = |event_id: String| {
        let req = ApiEvent::new(Gateway::Http, "get")
            .route("GET", &format!("/monitoring/v1/event/{event_id}"))
            .query(&[("domain_id", DOMAIN)])
            .request();
        let app = app.clone();
        async move { parts(event_get::handle(&app, req).await) }
    };
    measure(&app, "get: one Alertmanager event", 0, get(event_id)).await;
    let list = |query: Value| {
        let body = json!({"domain_id": DOMAIN, "query": query, "next_token": ""}).to_string();
        let req = ApiEvent::new(Gateway::Http, "list").route("POST", "/monitoring/v1/event/list").body(&body);
        let app = app.clone();
        async move { parts(event_list::handle(&app, req.request()).await) }
    };
    let page = json!({"page": {"limit": 20}});
    let body = measure(&app, "list: a next_token page, 15 events (whole events)", 0, list(page)).await;
    assert_eq!(body["results"].as_array().map(Vec::len), Some(15));
    let page = json!({"page": {"limit": 20}, "only": ["event_id", "title", "severity", "created_at"]});
    measure(&app, "list: the same page without raw_data (`only`)", 0, list(page)).await;
    let of_alert = json!({"page": {"limit": 20}, "filter": [{"k": "alert_id", "v": alert_id}]});
    measure(&app, "list: an alert's events, a page (whole events)", 0, list(of_alert)).await;

    // An alert that resolves by itself: a repeat of its change is not stored, but moves
    // its auto-resolve time on (the one repeat that writes).
    let aom = webhook_path(&webhook(&app, WebhookFormat::Aom).await);
    let report = fixture("aom/report-alarm.json");
    let n = report.len();
    measure(&app, "aom: 1 alarm, new key (opens an auto-resolving alert)", n, post(&aom, report.clone()))
        .await;
    measure(&app, "aom: the same report again (refreshes its alert)", n, post(&aom, report)).await;

    let raw = json!({"title": "big", "blob": "x".repeat(300 * 1024)}).to_string();
    let n = raw.len();
    measure(&app, "standard: 1 event with 300 KB raw_data (chunked)", n, post(&standard, raw)).await;

    // What a read of many entries costs on each index: 400 copies of the Alertmanager
    // event in a domain of their own, loaded in bulk, one in ten of them the webhook's.
    const READS_DOMAIN: &str = "domain-index-reads";
    let copies: Vec<_> = (0..400)
        .map(|i| event_core::model::Event {
            event_id: event_core::model::new_id("event"),
            domain_id: READS_DOMAIN.into(),
            created_at: format!("2026-11-22T15:{:02}:{:02}.000Z", i / 60, i % 60),
            webhook_id: if i % 10 == 0 { alert.webhook_id.clone() } else { "webhook-other".into() },
            ..alert.clone()
        })
        .collect();
    app.store.load_events(&copies, None).await.unwrap();
    let list_in = |query: Value, next_token: Option<&str>| {
        let mut body = json!({"domain_id": READS_DOMAIN, "query": query});
        if let Some(token) = next_token {
            body["next_token"] = json!(token);
        }
        let body = body.to_string();
        let req = ApiEvent::new(Gateway::Http, "list").route("POST", "/monitoring/v1/event/list").body(&body);
        let app = app.clone();
        async move { parts(event_list::handle(&app, req.request()).await) }
    };
    let count = json!({"count_only": true, "filter": [{"k": "severity", "v": "CRITICAL", "o": "eq"}]});
    let body = measure(&app, "count_only, 400 events: count index", 0, list_in(count, None)).await;
    assert_eq!(body["total_count"], json!(400), "{body}");
    let count = json!({"count_only": true, "filter": [{"k": "title", "v": alert.title, "o": "eq"}]});
    measure(&app, "count_only, 400 events: domain index", 0, list_in(count, None)).await;
    let webhook = json!({"page": {"limit": 20}, "filter": [{"k": "webhook_id", "v": alert.webhook_id}],
        "only": ["event_id", "title"]});
    let label = "list: a next_token page of 20 of a webhook with 1 in 10 of its domain's events";
    let body = measure(&app, label, 0, list_in(webhook, Some(""))).await;
    assert_eq!(body["results"].as_array().map(Vec::len), Some(20));
}
