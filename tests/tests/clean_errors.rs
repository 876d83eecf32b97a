//! No answer tells how the service is built. With DynamoDB unreachable, every route
//! answers 503 with `Retry-After` and a body that says what happened and to retry,
//! without the SDK's error chain or the storage endpoint; the function's log line carries
//! the cause, the SpaceONE code as a field of its own, and API Gateway's request id.

use std::net::TcpListener;

use e2e::*;
use event_core::api::Endpoint;
use event_core::service::App;
use event_core::store::Store;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

/// An endpoint where nothing listens: DynamoDB is down.
fn dead_endpoint() -> (String, u16) {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    (format!("http://127.0.0.1:{port}"), port)
}

fn app_on(url: &str) -> App {
    let config = test_config();
    let store = Store::new(dynamodb_at(url, &config), config.tables.clone())
        .with_read_budget(config.read_budget())
        .with_retention_days(config.retention_days);
    App { store, config }
}

/// Every request a sender or reader makes, in both API Gateway payloads: the handler that
/// serves it and the request.
fn requests() -> Vec<(&'static str, Request)> {
    let webhook = Endpoint::WebhookEvents.path(&["webhook-ff9e2eda678a", "a-key"]);
    let mut all = Vec::new();
    for gateway in GATEWAYS {
        let create =
            ApiEvent::new(gateway, "create").route("POST", &webhook).body(r#"{"title": "disk full"}"#);
        let get = ApiEvent::new(gateway, "get")
            .route("GET", "/monitoring/v1/event/event-0123456789ab")
            .query(&[("domain_id", DOMAIN)]);
        let list = ApiEvent::new(gateway, "list")
            .route("POST", "/monitoring/v1/event/list")
            .body(&json!({"domain_id": DOMAIN}).to_string());
        let stat = ApiEvent::new(gateway, "stat").route("POST", "/monitoring/v1/event/stat").body(
            &json!({"domain_id": DOMAIN, "query": {"aggregate": [{"count": {"name": "n"}}]}}).to_string(),
        );
        let cloud_eye = ApiEvent::new(gateway, "list")
            .route("GET", &format!("/V1.0/{PROJECT}/event/disk%20full"))
            .query(&[("event_type", "EVENT.CUSTOM"), ("domain_id", DOMAIN)]);
        let aom = ApiEvent::new(gateway, "list")
            .route("POST", &format!("/v2/{PROJECT}/events"))
            .query(&[("domain_id", DOMAIN)])
            .body(r#"{"time_range": "-1.-1.60"}"#);
        all.extend([
            ("create", create.request()),
            ("get", get.request()),
            ("list", list.request()),
            ("stat", stat.request()),
            ("list", cloud_eye.request()),
            ("list", aom.request()),
        ]);
    }
    all
}

async fn handle(app: &App, function: &str, req: Request) -> Response<Body> {
    match function {
        "create" => event_create::handle(app, req).await,
        "get" => event_get::handle(app, req).await,
        "list" => event_list::handle(app, req).await,
        "stat" => event_stat::handle(app, req).await,
        other => unreachable!("{other}"),
    }
}

#[tokio::test]
async fn with_dynamodb_down_every_route_answers_503_in_words_and_logs_the_cause_with_its_code() {
    let (logs, _guard) = LogLines::capture();
    let (url, port) = dead_endpoint();
    let app = app_on(&url);
    let port = port.to_string();
    for (function, req) in requests() {
        let path = req.uri().path().to_string();
        let response = handle(&app, function, req).await;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let text = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
        assert_eq!(status, 503, "{path}: {text}");
        assert_eq!(retry_after.as_deref(), Some("2"), "{path}: {text}");
        // What it says: storage is down and to retry; not where storage is, nor the SDK's words.
        for internal in [port.as_str(), "127.0.0.1", "dispatch", "connect", "os error", "Error {"] {
            assert!(!text.contains(internal), "{path} answers {internal:?}: {text}");
        }
        let body: Value = serde_json::from_str(&text).unwrap();
        let message = body["error"]["message"]
            .as_str()
            .or(body["error_msg"].as_str())
            .or(body["error_message"].as_str())
            .unwrap_or_else(|| panic!("{path}: an error message: {body}"));
        assert!(message.starts_with("Storage is unavailable"), "{path}: {message}");
        assert!(message.contains("Retry"), "{path}: {message}");
        if body.get("error").is_some() {
            assert_eq!(error_code(status, &body), "ERROR_STORAGE_UNAVAILABLE", "{path}");
        }

        // The log line has what the body leaves out, and the code as a field.
        let (line, span) = logs.request_line();
        assert_eq!(line["message"], "request deferred", "{line}");
        assert_eq!(line["code"], "ERROR_STORAGE_UNAVAILABLE", "{line}");
        assert_eq!(line["status"], 503, "{line}");
        let cause = line["error"].as_str().unwrap_or_default();
        assert!(cause.starts_with("Storage is unavailable: "), "the cause: {line}");
        assert!(cause.contains(&port), "the log line names the endpoint it could not reach: {line}");
        let sample_id = ["JKJaXmPLvHcESHA=", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"];
        assert!(sample_id.contains(&span["apigw_request_id"].as_str().unwrap_or_default()), "{line}");
    }
}

#[tokio::test]
async fn a_refusal_logs_its_code_too() {
    let (logs, _guard) = LogLines::capture();
    let (url, _) = dead_endpoint();
    let app = app_on(&url);
    // A list without a domain is refused before storage is asked.
    let req =
        ApiEvent::new(Gateway::Http, "list").route("POST", "/monitoring/v1/event/list").body("{}").request();
    let (status, body) = parts(event_list::handle(&app, req).await);
    assert_eq!(status, 400, "{body}");
    let (line, _) = logs.request_line();
    assert_eq!(line["message"], "request refused", "{line}");
    assert_eq!(line["code"], error_code(status, &body), "{line}");
}
