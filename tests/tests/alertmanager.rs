//! The real sender: Debian's prometheus-alertmanager delivering to the local stack, with
//! the receiver docs/senders.md documents (the access key in `http_config.authorization`).
//! Firing creates, resolved resolves, a grouped notification makes one event per alert,
//! and a delivery whose response is lost after the service stored it (Alertmanager then
//! sends again) leaves exactly one copy.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::*;
use event_core::model::{AlertState, Event, WebhookFormat};
use event_core::service::App;
use event_core::store::EventRange;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ALERTMANAGER: &str = "prometheus-alertmanager";

/// The local server, but the first `drop` responses are lost: the handler runs (and
/// stores), then the connection closes without an answer, as when a network drops it.
async fn lossy_server(app: App, drop: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (app, seen) = (app.clone(), seen.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let (app, seen) = (app.clone(), seen.clone());
                    async move {
                        let response = eventctl::serve::dispatch(&app, req).await;
                        if seen.fetch_add(1, Ordering::SeqCst) < drop {
                            return Err("response lost");
                        }
                        Ok(response)
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (addr, requests)
}

struct Alertmanager {
    child: Child,
    api: SocketAddr,
    _dir: TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The Alertmanager receiver docs/senders.md gives operators, pointed at `base_url` with
/// this webhook and key: the test runs the documented configuration, not one of its own.
fn documented_receivers(base_url: &str, webhook_id: &str, access_key: &str) -> String {
    let doc = std::fs::read_to_string(repo_root().join("docs/senders.md")).expect("docs/senders.md");
    let marker = doc.find("<!-- alertmanager-receivers:").expect("docs/senders.md marks its receiver");
    let block = doc[marker..].split("```yaml\n").nth(1).and_then(|b| b.split("```").next());
    let block = block.expect("a yaml block after the marker");
    for placeholder in ["https://events.example.com", "webhook-ff9e2eda678a", "REPLACE-WITH-ACCESS-KEY"] {
        assert!(block.contains(placeholder), "the documented receiver names {placeholder}: {block}");
    }
    block
        .replace("https://events.example.com", base_url)
        .replace("webhook-ff9e2eda678a", webhook_id)
        .replace("REPLACE-WITH-ACCESS-KEY", access_key)
}

/// Alertmanager with the documented `receivers` and a route to them that groups and
/// flushes within a second or two.
async fn start_alertmanager(receivers: &str) -> Alertmanager {
    let dir = std::env::temp_dir().join(format!("alertmanager-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "route:\n  receiver: events\n  group_by: ['alertname', 'instance']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n{receivers}"
    );
    std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(ALERTMANAGER)
        .arg(format!("--config.file={}", dir.join("alertmanager.yml").display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address={api}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{ALERTMANAGER} must be installed (scripts/test.sh installs it): {e}"));
    let am = Alertmanager { child, api, _dir: TempDir(dir) };
    wait_for("Alertmanager's API", || async {
        http(api, "GET", "/-/ready", "").await.is_some_and(|(s, _)| s == 200)
    })
    .await;
    am
}

/// A small HTTP/1.1 client: status and body, or None if the server is not there.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn post_alerts(am: &Alertmanager, alerts: Value) {
    let (status, body) =
        http(am.api, "POST", "/api/v2/alerts", &alerts.to_string()).await.expect("Alertmanager answers");
    assert_eq!(status, 200, "{body}");
}

async fn events(app: &App) -> Vec<Event> {
    let range = EventRange::domain(&trusted(DOMAIN));
    app.store.query_events(&range).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_deliveries_create_resolve_group_and_never_duplicate() {
    let app = app().await;
    let key = webhook(&app, WebhookFormat::Alertmanager).await;
    let (addr, requests) = lossy_server(app.clone(), 1).await;
    let receivers = documented_receivers(&format!("http://{addr}"), &key.webhook.webhook_id, &key.access_key);
    let am = start_alertmanager(&receivers).await;
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

    // Firing; the first response is lost after the event was stored, so Alertmanager resends.
    let disk = json!({"labels": {"alertname": "DiskFull", "instance": "db-1:9100", "severity": "critical"},
                      "annotations": {"summary": "Disk full on db-1"}, "startsAt": started});
    post_alerts(&am, json!([disk])).await;
    wait_for("the lost response's redelivery", || async { requests.load(Ordering::SeqCst) >= 2 }).await;
    let stored = events(&app).await;
    assert_eq!(stored.len(), 1, "the redelivery stored nothing new: {stored:?}");
    let firing = &stored[0];
    assert_eq!((firing.event_type.as_str(), firing.severity.as_str()), ("ALERT", "CRITICAL"));
    assert_eq!(firing.title, "Disk full on db-1");

    // One notification carrying two alerts of one group: one event per alert.
    let fs = |device: &str| {
        json!({"labels": {"alertname": "FsReadOnly", "instance": "db-2:9100", "device": device, "severity": "warning"},
               "annotations": {"summary": format!("Filesystem {device} is read-only")}, "startsAt": started})
    };
    post_alerts(&am, json!([fs("/dev/sda1"), fs("/dev/sdb1")])).await;
    wait_for("the grouped notification", || async { events(&app).await.len() >= 3 }).await;
    let grouped: Vec<_> = events(&app).await.into_iter().filter(|e| e.rule == "FsReadOnly").collect();
    assert_eq!(grouped.len(), 2);
    assert_ne!(grouped[0].alert_id, grouped[1].alert_id, "two alerts, two problems");

    // Resolved: a RECOVERY that closes the firing alert.
    let mut resolved = disk.clone();
    resolved["endsAt"] = json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    post_alerts(&am, json!([resolved])).await;
    wait_for("the resolved notification", || async {
        events(&app).await.iter().any(|e| e.event_type.as_str() == "RECOVERY")
    })
    .await;
    let recovery = events(&app).await.into_iter().find(|e| e.event_type.as_str() == "RECOVERY").unwrap();
    assert_eq!(recovery.alert_id, firing.alert_id, "the recovery found its firing alert");
    let alert = app.store.get_alert(&trusted(DOMAIN), &firing.alert_id).await.unwrap().unwrap();
    assert_eq!(alert.state, AlertState::Resolved);

    // Read back through the API, as a person would.
    let get =
        http(addr, "GET", &format!("/monitoring/v1/event/{}?domain_id={DOMAIN}", firing.event_id), "").await;
    let (status, body) = get.unwrap();
    assert_eq!(status, 200, "{body}");
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(got["additional_info"].as_object().map(|m| m.is_empty()), Some(false), "{got}");
    assert_eq!(events(&app).await.len(), 4, "firing once, two grouped, one recovery");
}
