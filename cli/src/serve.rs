//! The local stack's HTTP server: turns each request into the `lambda_http::Request` a
//! Lambda would receive and calls the very same handler function.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::str::FromStr;

use event_core::api::{self, openapi, response, Endpoint, Route};
use event_core::model::WebhookFormat;
use event_core::service::webhooks::{create_webhook, NewWebhook};
use event_core::service::{create_events, App, Credential, Delivery};
use event_core::{Error, Result};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::Method;
use lambda_http::{Body, RequestExt};
use tokio::net::TcpListener;

/// API Gateway refuses bodies over 10 MB; so does the local server.
const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;

pub async fn run(app: App, addr: SocketAddr, demo: bool) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Internal(format!("cannot listen on {addr}: {e}")))?;
    if demo {
        setup_demo(&app, addr).await?;
    }
    // Locally, the rollup consumer follows DynamoDB Local's stream, as the rollup
    // function follows the table's stream in AWS.
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        tokio::spawn(event_core::service::rollups::follow_local_stream(app.clone(), endpoint));
    }
    // Locally, a timer sweeps expired alerts, as the schedule does in AWS.
    tokio::spawn(sweep_expired_alerts(app.clone()));
    tracing::info!(%addr, "serving the Event API");
    serve(app, listener).await
}

/// Every minute, writes down the resolution of alerts past their auto-resolve time, and
/// opens the alerts of missed heartbeats.
async fn sweep_expired_alerts(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(e) = event_core::service::sweep::sweep_expired_alerts(&app, chrono::Utc::now()).await {
            tracing::warn!(error = %e, "alert sweep failed; the next one retries");
        }
        if let Err(e) = event_core::service::heartbeats::sweep_heartbeats(&app, chrono::Utc::now()).await {
            tracing::warn!(error = %e, "heartbeat sweep failed; the next one retries");
        }
    }
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(app: App, listener: TcpListener) -> Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(dispatch(&app, req).await) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

/// Answers one HTTP request with the handler of its route, as API Gateway would.
pub async fn dispatch(app: &App, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, GATEWAY_BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return to_hyper(response::error(&Error::PayloadTooLarge {
                size: GATEWAY_BODY_LIMIT + 1,
                limit: GATEWAY_BODY_LIMIT,
            }))
        }
    };
    let path = parts.uri.path().to_string();
    if parts.method == Method::GET && path == "/openapi.json" {
        return document();
    }
    let query = parts.uri.query().and_then(|q| QueryMap::from_str(q).ok()).unwrap_or_default();
    let route = api::route(&parts.method, &path);
    let request = lambda_http::Request::from_parts(parts, Body::from(body.to_vec()))
        .with_query_string_parameters(query)
        .with_raw_http_path(path);
    let response = match route {
        Ok(Route::Create(_)) => event_create::handle(app, request).await,
        Ok(Route::List(_)) => event_list::handle(app, request).await,
        Ok(Route::Stat(_)) => event_stat::handle(app, request).await,
        Ok(Route::Alert(_)) => event_alerts::handle(app, request).await,
        Ok(Route::Webhook(_)) => event_webhooks::handle(app, request).await,
        Ok(Route::EventRule(_)) => event_event_rules::handle(app, request).await,
        // Where API Gateway would route nowhere, get's handler answers as API Gateway
        // would (404, 405).
        // get also serves the console's files.
        Ok(Route::Get(_)) | Ok(Route::Console(_)) | Err(_) => event_get::handle(app, request).await,
    };
    to_hyper(response)
}

/// `GET /openapi.json`: the contract of every route, for people and for schemathesis.
fn document() -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(openapi::DOCUMENT.as_bytes())))
        .expect("the header is valid")
}

fn to_hyper(response: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes: &[u8] = body.as_ref();
    hyper::Response::from_parts(parts, Full::new(Bytes::copy_from_slice(bytes)))
}

async fn setup_demo(app: &App, addr: SocketAddr) -> Result<()> {
    app.store.create_tables().await?;
    let new = NewWebhook {
        name: "demo".into(),
        format: WebhookFormat::Auto,
        domain_id: "domain-58010aa2e451".into(),
        workspace_id: "workspace-demo".into(),
        project_id: "project-18655561c535".into(),
        verify_sns_signature: true,
        sns_policy: Default::default(),
        auto_resolve_after_seconds: None,
        max_deliveries_per_minute: None,
        count_requests: false,
    };
    let issued = create_webhook(&app.store, new).await?;
    let url = webhook_url(&format!("http://{addr}"), &issued.webhook.webhook_id, &issued.access_key);
    let domain = &issued.webhook.domain_id;
    deliver_demo_events(app, &issued.webhook.webhook_id, &issued.access_key).await?;
    println!("\nConsole: http://{addr}/console (domain_id {domain}: one alert open, two resolved)");
    println!("\nDemo webhook (format auto, domain {domain}):\n  {url}\n");
    println!("Try it:");
    println!(
        "  curl -s -X POST '{url}' -H 'content-type: application/json' \\\n    -d '{{\"title\": \"disk full\", \"severity\": \"CRITICAL\", \"event_key\": \"disk-1\"}}'"
    );
    println!(
        "  curl -s -X POST 'http://{addr}/monitoring/v1/event/list' -d '{{\"domain_id\": \"{domain}\"}}'"
    );
    println!("  curl -s 'http://{addr}/monitoring/v1/event/<event_id>?domain_id={domain}'\n");
    println!("Every route, body and error: http://{addr}/openapi.json\n");
    Ok(())
}

/// What the console shows first: one alert open (CRITICAL), two an ALERT opened and a
/// RECOVERY resolved, as a sender would post them.
const DEMO_EVENTS: &str = r#"[
  {"title": "Disk full on web-1", "severity": "CRITICAL", "event_key": "demo-disk-web-1",
   "description": "/var is 97% full", "provider": "prometheus",
   "resource": {"resource_id": "web-1", "resource_type": "inventory.Server", "name": "web-1"},
   "additional_info": {"mount": "/var", "used_percent": "97"}},
  {"title": "CPU high on db-1", "severity": "ERROR", "event_key": "demo-cpu-db-1", "provider": "prometheus"},
  {"title": "CPU high on db-1", "severity": "ERROR", "event_key": "demo-cpu-db-1", "event_type": "RECOVERY",
   "provider": "prometheus"},
  {"title": "Memory pressure on cache-1", "severity": "WARNING", "event_key": "demo-mem-cache-1"},
  {"title": "Memory pressure on cache-1", "severity": "WARNING", "event_key": "demo-mem-cache-1",
   "event_type": "RECOVERY"}
]"#;

/// Stores the demo's events through the create operation, as a delivery to its webhook.
async fn deliver_demo_events(app: &App, webhook_id: &str, access_key: &str) -> Result<()> {
    let delivery = Delivery {
        credential: Credential::AccessKey { webhook_id, access_key },
        body: DEMO_EVENTS.as_bytes(),
        idempotency_key: None,
        action: None,
        put: false,
    };
    create_events(app, delivery).await.map(|_| ())
}

/// `{base_url}/monitoring/v1/webhook/{webhook_id}/{access_key}/events`
pub fn webhook_url(base_url: &str, webhook_id: &str, access_key: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), Endpoint::WebhookEvents.path(&[webhook_id, access_key]))
}
