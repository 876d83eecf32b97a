//! Test harness: a DynamoDB Local per test run, fresh tables per test, webhooks, and
//! API Gateway events (REST v1 and HTTP API v2) built from the console samples in
//! `events/`, fed to the very handlers the Lambdas run.
//!
//! `faults` puts a fault-injecting proxy between a service and that DynamoDB Local;
//! `model` holds the reference model of alert state that `tests/alert_model.rs` checks.
//!
//! Set `AWS_ENDPOINT_URL_DYNAMODB` to use a running DynamoDB Local (as `make test`
//! does); otherwise the harness starts one on a free port and stops it when the test
//! process ends.

pub mod cli;
pub mod faults;
pub mod model;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use event_core::api::Endpoint;
use event_core::config::{Config, Tables};
use event_core::model::WebhookFormat;
use event_core::service::webhooks::{create_webhook, IssuedKey, NewWebhook};
use event_core::service::App;
use event_core::store::Store;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

pub const DOMAIN: &str = "domain-58010aa2e451";
pub const PROJECT: &str = "project-18655561c535";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repo").to_path_buf()
}

pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("tests/fixtures").join(path)).expect("fixture exists")
}

/// The functions' timeout in template.yaml, in seconds: no invocation runs longer.
pub fn function_timeout_secs() -> i64 {
    let template = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
    let line = template.lines().find(|l| l.trim_start().starts_with("Timeout:")).expect("a Timeout");
    line.trim_start().trim_start_matches("Timeout:").trim().parse().expect("Timeout is a number")
}

/// The endpoint of the DynamoDB Local this test process uses.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(url) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
            return url;
        }
        start_dynamodb_local(None)
    })
}

/// A DynamoDB Local of this process's own that keeps its tables on disk, as `make run
/// DATA_DIR=…` runs it (the in-memory one never finishes building an index added to an
/// existing table, and refuses the next while one is building).
pub fn dynamodb_on_disk() -> aws_sdk_dynamodb::Client {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    dynamodb_at(
        ENDPOINT.get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("e2e-dynamodb-{}", random_suffix()));
            std::fs::create_dir_all(&dir).expect("a data directory");
            start_dynamodb_local(Some(&dir))
        }),
        &Config::default(),
    )
}

/// Starts DynamoDB Local on a free port, in memory or in `data_dir` (removed when it
/// stops), for as long as this process lives; answers its endpoint once it listens.
fn start_dynamodb_local(data_dir: Option<&Path>) -> String {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let child = spawn_dynamodb_local(port, data_dir);
    // The child watches our stdin pipe: when this process exits, it stops Java.
    Box::leak(Box::new(child));
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return format!("http://127.0.0.1:{port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("DynamoDB Local did not start on port {port}");
}

fn spawn_dynamodb_local(port: u16, data_dir: Option<&Path>) -> Child {
    let root = repo_root();
    let dir = Command::new(root.join("scripts/dynamodb-local.sh"))
        .arg("jar-dir")
        .output()
        .expect("install script runs");
    let dir = String::from_utf8_lossy(&dir.stdout).trim().to_string();
    assert!(!dir.is_empty(), "DynamoDB Local could not be installed");
    let dir = root.join(dir);
    let (storage, cleanup) = match data_dir {
        None => ("-inMemory".to_string(), String::new()),
        Some(data) => {
            (format!("-dbPath '{}'", data.display()), format!("; wait $pid; rm -rf '{}'", data.display()))
        }
    };
    let script = format!(
        "java -Djava.library.path='{lib}' -jar '{jar}' {storage} -port {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid{cleanup}",
        lib = dir.join("DynamoDBLocal_lib").display(),
        jar = dir.join("DynamoDBLocal.jar").display(),
    );
    let mut child =
        Command::new("sh").arg("-c").arg(script).stdin(Stdio::piped()).spawn().expect("sh starts");
    // Keep the pipe open for the life of the process.
    let stdin = child.stdin.take().expect("stdin is piped");
    Box::leak(Box::new(stdin)).flush().ok();
    child
}

fn random_suffix() -> String {
    event_core::digest::random_hex(5)
}

/// A client of the DynamoDB Local the tests use, for what the store does not offer
/// (changing a table as an older version left it).
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    dynamodb_at(endpoint(), &Config::default())
}

/// A client of the DynamoDB at `url`, with `config`'s timeouts.
pub fn dynamodb_at(url: &str, config: &Config) -> aws_sdk_dynamodb::Client {
    let sdk = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .timeout_config(config.storage_timeouts())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "tests",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(sdk)
}

/// A service instance over fresh, empty tables of its own.
/// A domain as a trusted backend names it (IAM mode): tests read through the same tenant
/// check as the functions.
pub fn trusted(domain_id: &str) -> event_core::tenant::AuthorizedDomain {
    use event_core::config::ReadAuthorizer;
    use event_core::tenant::{authorize, Identity};
    authorize(Identity::Absent, Some(domain_id), ReadAuthorizer::Iam).expect("IAM mode trusts a named domain")
}

pub async fn app() -> App {
    app_with(|_| {}).await
}

/// The default configuration, with tables of its own: names no other test uses.
pub fn test_config() -> Config {
    let suffix = random_suffix();
    Config {
        tables: Tables {
            events: format!("events-{suffix}"),
            webhooks: format!("webhooks-{suffix}"),
            alerts: format!("alerts-{suffix}"),
            rollups: format!("rollups-{suffix}"),
            event_rules: format!("event-rules-{suffix}"),
        },
        ..Config::default()
    }
}

pub async fn app_with(adjust: impl FnOnce(&mut Config)) -> App {
    let mut config = test_config();
    adjust(&mut config);
    let store = Store::new(dynamodb(), config.tables.clone())
        .with_read_budget(config.read_budget())
        .with_retention_days(config.retention_days);
    store.create_tables().await.expect("tables are created");
    App { store, config }
}

/// The same tables and store, reading no rollups: every stat and count from the index.
pub fn query_path(app: &App) -> App {
    App { store: app.store.clone(), config: Config { read_rollups: false, ..app.config.clone() } }
}

pub async fn webhook(app: &App, format: WebhookFormat) -> IssuedKey {
    webhook_in(app, format, DOMAIN, PROJECT).await
}

pub async fn webhook_in(app: &App, format: WebhookFormat, domain_id: &str, project_id: &str) -> IssuedKey {
    webhook_from(app, new_webhook(format, domain_id, project_id)).await
}

pub fn new_webhook(format: WebhookFormat, domain_id: &str, project_id: &str) -> NewWebhook {
    NewWebhook {
        name: "bastion".into(),
        format,
        domain_id: domain_id.into(),
        workspace_id: "workspace-1".into(),
        project_id: project_id.into(),
        verify_sns_signature: true,
        sns_policy: Default::default(),
        auto_resolve_after_seconds: None,
        max_deliveries_per_minute: None,
        count_requests: false,
    }
}

pub async fn webhook_from(app: &App, new: NewWebhook) -> IssuedKey {
    create_webhook(&app.store, new).await.expect("webhook is created")
}

pub fn webhook_path(key: &IssuedKey) -> String {
    Endpoint::WebhookEvents.path(&[&key.webhook.webhook_id, &key.access_key])
}

/// Which API Gateway payload a request arrives in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gateway {
    /// REST API, Lambda proxy integration (payload 1.0).
    Rest,
    /// HTTP API (payload 2.0).
    Http,
}

pub const GATEWAYS: [Gateway; 2] = [Gateway::Rest, Gateway::Http];

/// A request as API Gateway hands it to Lambda, built from the console sample
/// `events/<operation>.<rest|http>.json` with this method, path, query and body.
#[derive(Debug, Clone)]
pub struct ApiEvent {
    pub gateway: Gateway,
    pub event: Value,
}

impl ApiEvent {
    pub fn new(gateway: Gateway, sample: &str) -> ApiEvent {
        let suffix = match gateway {
            Gateway::Rest => "rest",
            Gateway::Http => "http",
        };
        let path = repo_root().join("events").join(format!("{sample}.{suffix}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        ApiEvent { gateway, event: serde_json::from_str(&text).expect("sample event is JSON") }
    }

    pub fn route(mut self, method: &str, path: &str) -> Self {
        match self.gateway {
            Gateway::Rest => {
                self.event["httpMethod"] = json!(method);
                self.event["path"] = json!(path);
                self.event["requestContext"]["httpMethod"] = json!(method);
                self.event["requestContext"]["path"] = json!(format!("/prod{path}"));
            }
            Gateway::Http => {
                self.event["rawPath"] = json!(path);
                self.event["requestContext"]["http"]["method"] = json!(method);
                self.event["requestContext"]["http"]["path"] = json!(path);
                self.event["routeKey"] = json!(format!("{method} {path}"));
            }
        }
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.event["body"] = json!(body);
        self.event["isBase64Encoded"] = json!(false);
        self
    }

    /// A request header, as the gateway passes it on.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name] = json!(value);
        if self.gateway == Gateway::Rest {
            self.event["multiValueHeaders"][name] = json!([value]);
        }
        self
    }

    pub fn query(mut self, params: &[(&str, &str)]) -> Self {
        let map: serde_json::Map<String, Value> =
            params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        match self.gateway {
            Gateway::Rest => {
                self.event["queryStringParameters"] = Value::Object(map.clone());
                let multi = map.into_iter().map(|(k, v)| (k, json!([v]))).collect();
                self.event["multiValueQueryStringParameters"] = Value::Object(multi);
            }
            Gateway::Http => {
                let raw: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
                self.event["rawQueryString"] = json!(raw.join("&"));
                self.event["queryStringParameters"] = Value::Object(map);
            }
        }
        self
    }

    /// As if a JWT authorizer vouched for a caller of `domain_id`.
    pub fn claims_domain(self, domain_id: &str) -> Self {
        self.claims(json!({"sub": "user-1", "domain_id": domain_id}))
    }

    /// As if a JWT authorizer vouched for a caller with these claims.
    pub fn claims(mut self, claims: Value) -> Self {
        self.event["requestContext"]["authorizer"] = match self.gateway {
            Gateway::Rest => json!({ "claims": claims }),
            Gateway::Http => json!({"jwt": {"claims": claims, "scopes": null}}),
        };
        self
    }

    pub fn request(&self) -> Request {
        lambda_http::request::from_str(&self.event.to_string()).expect("API Gateway event deserialises")
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Status and JSON body of a handler's response.
/// AOM's open (`active_alert`) or resolved (`history_alert`) alarms of the test project
/// created in the last hour, through the list function.
pub async fn aom_alarms(app: &App, listing: &str) -> Vec<Value> {
    let req = ApiEvent::new(Gateway::Rest, "list")
        .route("POST", &Endpoint::AomEvents.path(&[PROJECT]))
        .query(&[("domain_id", DOMAIN), ("type", listing)])
        .body(&serde_json::json!({"time_range": "-1.-1.60"}).to_string());
    let (status, answer) = parts(event_list::handle(app, req.request()).await);
    assert_eq!(status, 200, "{answer}");
    answer["events"].as_array().cloned().unwrap_or_default()
}

/// Every event of the test domain, oldest first.
pub async fn events_oldest_first(app: &App) -> Vec<event_core::model::Event> {
    let range = event_core::store::EventRange::domain(&trusted(DOMAIN));
    let mut events = app.store.query_events(&range).await.expect("the domain's events read");
    events.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.event_id.cmp(&b.event_id)));
    events
}

pub fn parts(response: Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: &[u8] = response.body().as_ref();
    let json = serde_json::from_slice(body).unwrap_or_else(|e| panic!("response is JSON ({e}): {body:?}"));
    (status, json)
}

/// Asserts the SpaceONE error shape and returns the error's code.
pub fn error_code(status: u16, body: &Value) -> String {
    let error = &body["error"];
    assert_eq!(error["status"], json!(status), "error body carries its status: {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "error has a message: {body}");
    error["code"].as_str().expect("error has a code").to_string()
}
pub mod rollups;

/// The functions' JSON log lines (`event_core::logging::json_subscriber`), captured for
/// this thread while the guard lives: a current-thread `#[tokio::test]` runs the handler
/// on it.
#[derive(Clone, Default)]
pub struct LogLines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogLines {
    pub fn capture() -> (LogLines, tracing::subscriber::DefaultGuard) {
        let lines = LogLines::default();
        let writer = lines.clone();
        let guard = tracing::subscriber::set_default(event_core::logging::json_subscriber(None, move || {
            writer.clone()
        }));
        (lines, guard)
    }

    /// The lines written so far, as JSON, emptied.
    pub fn take(&self) -> Vec<Value> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("a JSON log line ({e}): {line}"))
            })
            .collect()
    }

    /// The one request line (`request served`, `refused`, `deferred` or `failed`) written
    /// so far, and the request span's fields; emptied.
    pub fn request_line(&self) -> (Value, Value) {
        let lines = self.take();
        let line = lines
            .iter()
            .find(|l| l["message"].as_str().is_some_and(|m| m.starts_with("request ")))
            .unwrap_or_else(|| panic!("a request line in {lines:?}"))
            .clone();
        let span = line["spans"][0].clone();
        (line, span)
    }
}

impl Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
