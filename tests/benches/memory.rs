//! Peak heap of the heaviest list and stat requests the query limits let through (or
//! refuse only at their bound), each through the real handler with a real API Gateway
//! event. A counting allocator reports the most bytes the process held during each
//! request, above what it held before it. Run: `make bench` (or `cargo bench -p e2e
//! --bench memory` with DynamoDB Local up); BENCH_MEMORY_EVENTS sets how many 350 KB
//! events are loaded (default 150, about 52 MB of raw_data).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use serde_json::{json, Value};

struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = HELD.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MB: f64 = 1024.0 * 1024.0;

/// One request: its status, the error's first words if any, peak heap above the start.
async fn measure(label: &str, request: impl std::future::Future<Output = (u16, Value)>) {
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let (status, body) = request.await;
    let elapsed = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let note = body["error"]["message"].as_str().map(|m| m.chars().take(60).collect::<String>());
    println!(
        "| {label:<58} | {status} {} | {:>7.1} | {:>6} |",
        note.unwrap_or_default(),
        peak as f64 / MB,
        elapsed.as_millis()
    );
}

/// Sixteen patterns (the most a query may hold), 4 KB in all, each matching every title.
fn sixteen_regexes() -> Vec<Value> {
    (0..16)
        .map(|i| json!({"k": "title", "v": format!("^big|{}{i}", "y".repeat(240)), "o": "regex"}))
        .collect()
}

#[tokio::main]
async fn main() {
    let events: usize = std::env::var("BENCH_MEMORY_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Standard).await;
    let path = webhook_path(&key);
    for i in 0..events {
        // 300 elements to unwind, and 340 KB besides that each copy of a row carries.
        let body = json!({"title": format!("big {i}"), "event_key": format!("k{i}"),
                          "items": (0..300).collect::<Vec<_>>(), "blob": "x".repeat(340 * 1024)});
        let req =
            ApiEvent::new(Gateway::Http, "create").route("POST", &path).body(&body.to_string()).request();
        let (status, answer) = parts(event_create::handle(&app, req).await);
        assert_eq!(status, 200, "{answer}");
    }
    println!("{events} events of about 350 KB each in one domain\n");
    println!("| request | answer | peak heap MB | ms |");
    println!("|---|---|---:|---:|");
    let list = |query: Value| {
        let body = json!({"domain_id": DOMAIN, "query": query}).to_string();
        let req = ApiEvent::new(Gateway::Http, "list")
            .route("POST", "/monitoring/v1/event/list")
            .body(&body)
            .request();
        let app: App = app.clone();
        async move { parts(event_list::handle(&app, req).await) }
    };
    let stat = |query: Value| {
        let body = json!({"domain_id": DOMAIN, "query": query}).to_string();
        let req = ApiEvent::new(Gateway::Http, "stat")
            .route("POST", "/monitoring/v1/event/stat")
            .body(&body)
            .request();
        let app: App = app.clone();
        async move { parts(event_stat::handle(&app, req).await) }
    };
    let regexes = sixteen_regexes();
    measure(
        "list: 16 regexes, sorted by title, every event",
        list(json!({"filter": regexes, "sort": {"key": "title"}})),
    )
    .await;
    measure(
        "list: 16 regexes, sorted by title, page of 50",
        list(json!({"filter": regexes, "sort": {"key": "title"}, "page": {"limit": 50}})),
    )
    .await;
    measure(
        "list: 16 regexes, sorted by title, page of 10",
        list(json!({"filter": regexes, "sort": {"key": "title"}, "page": {"limit": 10}})),
    )
    .await;
    measure("list: newest 100, whole events", list(json!({"page": {"limit": 100}}))).await;
    let group_by_blob = json!({"group": {"keys": [{"key": "raw_data.blob", "name": "b"}],
                                          "fields": [{"name": "n", "operator": "count"}]}});
    measure(
        "stat: group by a raw_data field (every event's raw_data)",
        stat(json!({"aggregate": [group_by_blob]})),
    )
    .await;
    measure(
        "stat: unwind raw_data.items (each copy carries 340 KB)",
        stat(json!({"aggregate": [{"unwind": {"path": "raw_data.items"}}, {"count": {"name": "n"}}]})),
    )
    .await;
    let projected = json!({"aggregate": [
        {"project": {"fields": [{"key": "raw_data.items", "name": "items"}]}},
        {"unwind": {"path": "items"}},
        {"group": {"keys": [{"key": "items", "name": "item"}], "fields": [{"name": "n", "operator": "count"}]}}]});
    measure("stat: project, then unwind and group the items", stat(projected)).await;
}
