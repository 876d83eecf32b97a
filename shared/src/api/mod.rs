//! HTTP at the edge: routes, request decoding, the tenant, responses, and the one
//! wrapper every handler runs in (one log line per request).

pub mod alert_decode;
pub mod console;
pub mod decode;
pub mod event_rule_decode;
pub mod openapi;
pub mod response;
pub mod routes;
pub mod tenant;
pub mod webhook_decode;

use std::future::Future;
use std::time::Instant;

use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::huawei::signature::{RequestParts, SignedRequest};
pub use routes::{
    dialect, route, AlertRoute, ConsoleRoute, CreateRoute, Dialect, Endpoint, EventRuleRoute, GetRoute,
    ListRoute, Operation, Route, StatRoute, WebhookRoute,
};

/// Runs one operation for one request: routes it, runs `work` with the operation's own
/// typed route, renders the outcome and logs one line with the request id, route,
/// domain, status and latency (and `code` on an error). `work` may record the span's
/// other fields (create: `webhook_id`, `format`, `events_stored`, `events_deduplicated`), and counts a failure
/// by cause (`telemetry::failed`). Never fails: every error becomes its error response,
/// in the shape of the API the path belongs to (SpaceONE's, Cloud Eye's or AOM's).
pub async fn serve<R, F, Fut, T>(req: Request, work: F) -> Response<Body>
where
    R: Operation,
    F: FnOnce(Request, R) -> Fut,
    Fut: Future<Output = Result<T>>,
    T: serde::Serialize,
{
    let operation = R::NAME;
    let started = Instant::now();
    let path = request_path(&req);
    let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
    let apigw_request_id = gateway_request_id(&req);
    let span = tracing::info_span!(
        "request",
        request_id,
        apigw_request_id,
        operation,
        domain_id = tracing::field::Empty,
        // create's: which webhook, its format, and what the delivery stored.
        webhook_id = tracing::field::Empty,
        format = tracing::field::Empty,
        events_stored = tracing::field::Empty,
        events_deduplicated = tracing::field::Empty
    );
    async move {
        let outcome = match route(req.method(), &path).map(R::of) {
            Ok(Some(route)) => work(req, route).await,
            // API Gateway sent this function a path another function serves.
            Ok(None) => Err(Error::not_found("path", routes::redacted(&path))),
            Err(e) => Err(e),
        };
        let (response, failure) = match outcome.and_then(|body| response::ok(&body)) {
            Ok(response) => (response, None),
            Err(err) => (response::error_in(dialect(&path), &err), Some(err)),
        };
        if let Some(err) = &failure {
            crate::telemetry::failed(operation, err);
        }
        let status = response.status().as_u16();
        let path = routes::redacted(&path);
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        // The SpaceONE code is a field of its own, so errors count by cause without
        // parsing messages; `error` is the whole cause, which the body leaves out.
        match &failure {
            // A transient fault (throttling, storage down): the client retries; worth a
            // look when it repeats, not a page.
            Some(err) if err.retry_after_seconds().is_some() => {
                tracing::warn!(path, status, latency_ms, code = err.code(), error = %err, "request deferred")
            }
            Some(err) if status >= 500 => {
                tracing::error!(path, status, latency_ms, code = err.code(), error = %err, "request failed")
            }
            Some(err) => {
                tracing::info!(path, status, latency_ms, code = err.code(), error = %err, "request refused")
            }
            None => tracing::info!(path, status, latency_ms, "request served"),
        }
        response
    }
    .instrument(span)
    .await
}

/// API Gateway's id of the request (`$context.requestId`, what its access log names), so
/// an access log line and the function's line of one request join.
fn gateway_request_id(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    let id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(context)) => context.request_id.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    };
    id.unwrap_or_default()
}

/// The signature Huawei's SDKs put on a call to Huawei's own ingestion paths; none, or
/// one that cannot be read, is refused (401) with what is missing.
pub fn huawei_signature(req: &Request) -> Result<SignedRequest> {
    let path = request_path(req);
    let query = req.query_string_parameters();
    let header = |name: &str| header(req, name).map(str::to_string);
    let parts = RequestParts {
        method: req.method().as_str(),
        path: routes::from_root(&path),
        query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        header: &header,
        body: req.body().as_ref(),
    };
    SignedRequest::from_parts(&parts)
        .map_err(|reason| Error::Unauthenticated(format!("Not signed: {reason}.")))
}

/// The request's path as the client sent it (API Gateway's raw path when it gives one).
fn request_path(req: &Request) -> String {
    let path = req.raw_http_path().to_string();
    if path.is_empty() {
        req.uri().path().to_string()
    } else {
        path
    }
}

/// The raw body, refused with 413 past `limit` bytes.
pub fn body_bytes(req: &Request, limit: usize) -> Result<&[u8]> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > limit {
        return Err(Error::PayloadTooLarge { size: bytes.len(), limit });
    }
    Ok(bytes)
}

/// The path segment that says "the access key is in the Authorization header".
pub const KEY_IN_HEADER: &str = "_";

/// The webhook access key a sender presents. In the path by default; with
/// [`KEY_IN_HEADER`] in its place, from `Authorization: Bearer <key>` or the password of
/// `Authorization: Basic` (what an SNS HTTPS subscription to `https://any:<key>@host/…`
/// sends), so the key need not appear in URLs, logs or sender configs that show them.
pub fn access_key(req: &Request, path_key: &str) -> Result<String> {
    if path_key != KEY_IN_HEADER {
        return Ok(path_key.to_string());
    }
    let missing = || {
        Error::PermissionDenied(
            "The webhook URL says the access key is in the Authorization header \
             ('Bearer <key>', or Basic with the key as password), and there is none."
                .into(),
        )
    };
    let authorization = header(req, "authorization").ok_or_else(missing)?;
    let (scheme, credential) = authorization.trim().split_once(' ').ok_or_else(missing)?;
    let credential = credential.trim();
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        Some(credential.to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD.decode(credential).ok();
        let text = decoded.and_then(|bytes| String::from_utf8(bytes).ok());
        text.and_then(|t| t.split_once(':').map(|(_, password)| password.to_string()))
    } else {
        None
    };
    key.filter(|k| !k.is_empty()).ok_or_else(missing)
}

/// A header's value, if present and text.
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name)?.to_str().ok().filter(|v| !v.is_empty())
}
