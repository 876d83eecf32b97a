//! Soak: mixed Alertmanager deliveries from concurrent senders while random storage
//! faults come and go (throttling, 500s, lost requests and answers, slow calls, DynamoDB
//! killed and restarted). Senders retry as Alertmanager does. At the end every change a
//! sender saw acknowledged must be stored exactly once, and nothing else stored twice.
//!
//! `SOAK_SECONDS` (20 here, so `make test` runs a short pass; `make soak` runs 600) and
//! `SOAK_SEED` choose the run; the figures are printed at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e::faults::{behind, Fault, Proxy, Rule, Target, When};
use e2e::*;
use event_core::model::WebhookFormat;
use event_core::service::App;
use event_core::store::{EventRange, Store};
use serde_json::{json, Value};

const SENDERS: usize = 4;

/// A small deterministic generator: the run is repeatable from its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// An Alertmanager notification of these firing alerts, shaped like the captured fixture.
fn notification(fingerprints: &[String]) -> String {
    let mut body: Value = serde_json::from_str(&fixture("alertmanager/firing-grouped-two.json")).unwrap();
    let template = body["alerts"][0].clone();
    let alerts: Vec<Value> = fingerprints
        .iter()
        .map(|fingerprint| {
            let mut alert = template.clone();
            alert["fingerprint"] = json!(fingerprint);
            alert["labels"]["device"] = json!(format!("/dev/{fingerprint}"));
            alert["startsAt"] = json!("2026-11-22T15:54:45Z");
            alert
        })
        .collect();
    body["alerts"] = Value::Array(alerts);
    body.to_string()
}

#[derive(Default)]
struct Tally {
    deliveries: usize,
    answers: BTreeMap<u16, usize>,
    acknowledged: BTreeSet<String>,
    /// Groups no attempt got through yet: the next flush sends them again.
    pending: Vec<Vec<String>>,
}

/// One sender: new groups (and, now and then, a group it already sent, as Alertmanager
/// repeats), each retried on 5xx a few times within the flush, then left for the next.
async fn sender(app: App, path: String, id: usize, seed: u64, until: Instant, tally: Arc<Mutex<Tally>>) {
    let mut random = Random(seed ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut sent: Vec<Vec<String>> = Vec::new();
    let mut next = 0usize;
    while Instant::now() < until {
        let pending = tally.lock().unwrap().pending.pop();
        let group = match pending {
            Some(group) => group,
            None if !sent.is_empty() && random.below(5) == 0 => {
                sent[random.below(sent.len() as u64) as usize].clone()
            }
            None => {
                // Now and then a group big enough that its delivery first reads which of
                // its changes are stored, in bulk (fanout.rs), before it claims any.
                let size = match random.below(8) {
                    0 => 17 + random.below(24) as usize,
                    _ => 1 + random.below(5) as usize,
                };
                next += size;
                (next - size..next).map(|n| format!("s{id}-{n}")).collect()
            }
        };
        let body = notification(&group);
        let mut acknowledged = false;
        for attempt in 0..3 {
            let req = ApiEvent::new(Gateway::Http, "create").route("POST", &path).body(&body).request();
            let status = event_create::handle(&app, req).await.status().as_u16();
            assert!(status == 200 || status >= 500, "a fault answered {status}: the sender would drop it");
            {
                let mut tally = tally.lock().unwrap();
                tally.deliveries += 1;
                *tally.answers.entry(status).or_default() += 1;
                if status == 200 {
                    tally.acknowledged.extend(group.iter().cloned());
                    acknowledged = true;
                }
            }
            if acknowledged {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
        if !acknowledged {
            tally.lock().unwrap().pending.push(group.clone());
        }
        sent.push(group);
    }
}

/// Faults come and go at random until `until`.
async fn chaos(proxy: Arc<Proxy>, seed: u64, until: Instant) {
    let mut random = Random(seed);
    let halfway = Instant::now() + (until - Instant::now()) / 2;
    let operations =
        ["PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem", "TransactWriteItems", "Query"];
    while Instant::now() < until {
        let target = Target::op(operations[random.below(operations.len() as u64) as usize]);
        let nth = When::Nth(1 + random.below(20) as usize);
        match random.below(8) {
            0 => proxy.add(Rule::new(
                Fault::Throttle,
                target,
                When::Until(Instant::now() + Duration::from_millis(300)),
            )),
            1 => proxy.add(Rule::new(Fault::ServerError, target, nth)),
            2 => proxy.add(Rule::new(Fault::DropRequest, target, nth)),
            3 => proxy.add(Rule::new(Fault::DropResponse, target, nth)),
            4 => proxy.add(Rule::new(Fault::Delay(Duration::from_millis(400)), target, nth)),
            // DynamoDB goes away at least once a run, at random times after that.
            _ if proxy.kills() == 0 && Instant::now() > halfway => {
                proxy.kill();
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                proxy.restart().await;
            }
            5 if random.below(4) == 0 => {
                proxy.kill();
                tokio::time::sleep(Duration::from_millis(500 + random.below(1_500))).await;
                proxy.restart().await;
            }
            _ => proxy.clear(),
        }
        tokio::time::sleep(Duration::from_millis(100 + random.below(400))).await;
    }
    proxy.clear();
    proxy.restart().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_change_is_stored_exactly_once_under_random_faults() {
    let seconds = env_number("SOAK_SECONDS", 20);
    let seed = env_number("SOAK_SEED", 0x5EED_CAFE_F00D);
    let proxy = Arc::new(Proxy::start(endpoint()).await);
    // Short timeouts, so a hang costs a sender seconds, not the default 12.
    let (app, direct) = behind(&proxy, |c| {
        c.storage_attempt_timeout_ms = 500;
        c.storage_operation_timeout_ms = 2_000;
    })
    .await;
    let path = webhook_path(&webhook(&direct, WebhookFormat::Alertmanager).await);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tally = Arc::new(Mutex::new(Tally::default()));

    let chaos = tokio::spawn(chaos(proxy.clone(), seed, until));
    let senders: Vec<_> = (0..SENDERS)
        .map(|id| tokio::spawn(sender(app.clone(), path.clone(), id, seed, until, tally.clone())))
        .collect();
    for task in senders {
        task.await.expect("a sender panicked");
    }
    chaos.await.unwrap();

    // The faults are over: the next flushes deliver what is still pending.
    let pending = std::mem::take(&mut tally.lock().unwrap().pending);
    // A claim a faulted delivery could not give back blocks its change until it goes
    // stale (29 s), so a flush may still meet a 503; Alertmanager's next one gets through.
    for group in pending {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let body = notification(&group);
            let req = ApiEvent::new(Gateway::Http, "create").route("POST", &path).body(&body).request();
            let status = event_create::handle(&app, req).await.status().as_u16();
            if status == 200 {
                break;
            }
            assert!(
                status >= 500 && Instant::now() < deadline,
                "with DynamoDB healthy again, still {status}"
            );
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        tally.lock().unwrap().acknowledged.extend(group);
    }

    // Reading back thousands of events on a loaded machine outlasts the service's 12 s
    // per call: the check reads with patience of its own.
    let mut patient = direct.config.clone();
    patient.storage_attempt_timeout_ms = 120_000;
    patient.storage_operation_timeout_ms = 600_000;
    let reader = Store::new(dynamodb_at(endpoint(), &patient), patient.tables.clone())
        .with_read_budget(Duration::from_secs(600));
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for event in reader.query_events(&EventRange::domain(&trusted(DOMAIN))).await.unwrap() {
        *stored.entry(event.additional_info["fingerprint"].clone()).or_default() += 1;
    }
    let tally = tally.lock().unwrap();
    let lost: Vec<&String> = tally.acknowledged.iter().filter(|f| !stored.contains_key(*f)).collect();
    let duplicated: Vec<(&String, &usize)> = stored.iter().filter(|(_, n)| **n > 1).collect();
    let unacknowledged = stored.keys().filter(|f| !tally.acknowledged.contains(*f)).count();
    let faults: usize = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::DropRequest,
        Fault::DropResponse,
        Fault::Delay(Duration::from_millis(400)),
    ]
    .into_iter()
    .map(|f| proxy.injected(f))
    .sum();
    println!(
        "soak: {seconds} s, seed {seed:#x}: {} deliveries ({:?} by status), {faults} faulted requests, \
         {} outages; {} changes acknowledged, {} stored, {} lost, {} duplicated, {unacknowledged} stored \
         without an acknowledgement (a 503 after the write)",
        tally.deliveries,
        tally.answers,
        proxy.kills(),
        tally.acknowledged.len(),
        stored.len(),
        lost.len(),
        duplicated.len()
    );
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert!(duplicated.is_empty(), "stored more than once: {duplicated:?}");
    assert!(tally.deliveries > 0 && faults > 0, "the run delivered and faulted something");
}
