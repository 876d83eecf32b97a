//! Rendering: JSON bodies, and the one mapping of errors to HTTP.

use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{json, Value};

use super::routes::Dialect;
use crate::error::{Error, Result};
use crate::model::Event;
use crate::query::Shape;

/// Lambda returns at most 6 MB (6,291,456 bytes) from a synchronous invocation, and the
/// body travels inside that answer as an escaped JSON string. Past this, API Gateway
/// would answer 502 and the client would never learn why; this bound leaves room for
/// the envelope.
pub const MAX_ESCAPED_BODY: usize = 6_000_000;

/// A 200 with `body`, or a 400 that says how to ask for less when the body would not
/// fit a Lambda response.
pub fn ok(body: &impl Serialize) -> Result<Response<Body>> {
    let text =
        serde_json::to_string(body).map_err(|e| Error::Internal(format!("cannot render the answer: {e}")))?;
    let escaped = text.len() + text.bytes().filter(|b| matches!(b, b'"' | b'\\')).count();
    if escaped > MAX_ESCAPED_BODY {
        return Err(Error::invalid(format!(
            "The answer would be {escaped} bytes, more than a Lambda response can carry \
             ({MAX_ESCAPED_BODY}). Ask for less: a smaller page.limit, fewer fields with \
             'only' or 'minimal', or a narrower filter."
        )));
    }
    Ok(text_response(200, text))
}

/// An event as get answers it: whole, or only the `only` fields, projected as list
/// projects them (a dotted name keeps that nested field, not its whole parent).
pub fn event(event: &Event, only: Vec<String>) -> Result<Value> {
    let value = serde_json::to_value(event).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Shape { only, minimal: false }.apply(value))
}

fn json(status: u16, body: &Value) -> Response<Body> {
    text_response(status, body.to_string())
}

fn text_response(status: u16, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(text))
        .expect("status and header are valid")
}

/// `{"error": {"code", "message", "status"}}`, the SpaceONE error shape, with
/// `Retry-After` on every transient fault and `Allow` on a 405. The message is
/// [`Error::public_message`]: causes stay in the logs (a 500 says only that something
/// broke, a 503 from storage only that storage failed and to retry).
pub fn error(err: &Error) -> Response<Body> {
    error_in(Dialect::SpaceOne, err)
}

/// An error in the shape of the API the request belongs to: SpaceONE's, or Huawei's
/// `{error_code, error_msg}` (Cloud Eye) and `{error_code, error_msg, error_message,
/// error_type}` (AOM: its reference's tables name `error_msg`, its examples
/// `error_message`, and Huawei's SDKs read `error_code` only beside `error_msg`), with
/// the same status and headers.
pub fn error_in(dialect: Dialect, err: &Error) -> Response<Body> {
    let message = shortened(err.public_message());
    let status = err.status();
    let body = match dialect {
        Dialect::SpaceOne => json!({"error": {"code": err.code(), "message": message, "status": status}}),
        Dialect::CloudEye => json!({"error_code": cloud_eye_code(err), "error_msg": message}),
        Dialect::Aom => json!({
            "error_code": aom_code(status),
            "error_msg": message,
            "error_message": message,
            "error_type": aom_type(status),
        }),
    };
    let mut response = json(status, &body);
    if let Some(seconds) = err.retry_after_seconds() {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    if let Error::MethodNotAllowed { allow, .. } = err {
        if let Ok(allow) = allow.parse() {
            response.headers_mut().insert("allow", allow);
        }
    }
    response
}

/// Huawei's API gateway's code for a request whose signature is missing or wrong: the
/// gateway answers it before Cloud Eye or AOM see the request.
const UNAUTHENTICATED: &str = "APIGW.0301";

/// Cloud Eye's codes (its "Error Codes" page) for what each error means.
fn cloud_eye_code(err: &Error) -> &'static str {
    match err {
        Error::InvalidArgument(_) | Error::RequiredParameter(_) => "ces.0013",
        Error::PayloadTooLarge { .. } => "ces.0014",
        Error::PermissionDenied(_) => "ces.0017",
        Error::Unauthenticated(_) => UNAUTHENTICATED,
        Error::NotFound { .. } => "ces.0016",
        Error::Internal(_) => "ces.0007",
        Error::Throttled
        | Error::InProgress(_)
        | Error::StorageUnavailable(_)
        | Error::UpstreamUnavailable(_)
        | Error::RateLimited { .. } => "ces.0008",
        Error::MethodNotAllowed { .. } | Error::WebhookDisabled(_) | Error::Conflict(_) => "ces.0011",
    }
}

/// AOM's code: `AOM.0` and the status, but for a signature that does not check, which
/// Huawei's API gateway answers before AOM sees the request.
fn aom_code(status: u16) -> String {
    match status {
        401 => UNAUTHENTICATED.to_string(),
        _ => format!("AOM.0{status}"),
    }
}

/// AOM's `error_type` per status, as its API reference writes them (503 included,
/// which it calls SC_NOT_IMPLEMENTED).
fn aom_type(status: u16) -> &'static str {
    match status {
        400 => "SC_BAD_REQUEST",
        401 => "SC_UNAUTHORIZED",
        403 => "SC_FORBIDDEN",
        404 => "SC_NOT_FOUND",
        405 => "SC_METHOD_NOT_ALLOWED",
        409 => "SC_CONFLICT",
        413 => "SC_REQUEST_ENTITY_TOO_LARGE",
        503 => "SC_NOT_IMPLEMENTED",
        _ => "SC_INTERNAL_SERVER_ERROR",
    }
}

/// Messages quote what the client sent; a 100 KB regex need not come back whole.
const MAX_MESSAGE_CHARS: usize = 1_000;

fn shortened(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_projects_dotted_names_as_list_does() {
        let event: Event = serde_json::from_value(json!({
            "event_id": "event-1", "event_key": "k", "event_type": "ALERT", "title": "t",
            "description": "", "severity": "INFO", "rule": "", "provider": "", "account": "",
            "image_url": "", "resource": {"resource_id": "r-1", "name": "web-01", "resource_type": "host"},
            "raw_data": {}, "additional_info": {}, "alert_id": "", "webhook_id": "w", "project_id": "p",
            "workspace_id": "ws", "domain_id": "d", "created_at": "2026-11-30T00:00:00.000Z",
            "occurred_at": "2026-11-30T00:00:00.000Z"
        }))
        .unwrap();
        let only =
            |fields: &[&str]| self::event(&event, fields.iter().map(|f| f.to_string()).collect()).unwrap();
        assert_eq!(only(&["resource.name", "title"]), json!({"resource": {"name": "web-01"}, "title": "t"}));
        assert_eq!(only(&[])["event_id"], "event-1");
    }

    #[test]
    fn transient_faults_carry_retry_after_and_client_errors_do_not() {
        let throttled = error(&Error::Throttled);
        assert_eq!(throttled.status(), 503);
        assert_eq!(throttled.headers()["retry-after"], "1");
        let body: Value = serde_json::from_slice(throttled.body()).unwrap();
        assert_eq!(body["error"]["code"], "ERROR_THROTTLED");
        assert_eq!(error(&Error::StorageUnavailable("down".into())).headers()["retry-after"], "2");
        assert!(error(&Error::invalid("bad")).headers().get("retry-after").is_none());
    }

    #[test]
    fn huawei_routes_answer_in_their_peers_shapes_with_the_same_headers() {
        let body = |dialect, err: &Error| -> Value {
            serde_json::from_slice(error_in(dialect, err).body()).unwrap()
        };
        let invalid = Error::invalid("bad limit");
        assert_eq!(
            body(Dialect::CloudEye, &invalid),
            json!({"error_code": "ces.0013", "error_msg": "bad limit"})
        );
        assert_eq!(
            body(Dialect::Aom, &invalid),
            json!({
                "error_code": "AOM.0400",
                "error_msg": "bad limit",
                "error_message": "bad limit",
                "error_type": "SC_BAD_REQUEST"
            })
        );
        let denied = Error::PermissionDenied("no".into());
        assert_eq!(body(Dialect::CloudEye, &denied)["error_code"], "ces.0017");
        assert_eq!(body(Dialect::Aom, &denied)["error_type"], "SC_FORBIDDEN");
        let throttled = error_in(Dialect::Aom, &Error::Throttled);
        assert_eq!(
            (throttled.status().as_u16(), &throttled.headers()["retry-after"]),
            (503, &"1".parse().unwrap())
        );
        assert_eq!(body(Dialect::Aom, &Error::Internal("x".into()))["error_code"], "AOM.0500");
        assert_eq!(body(Dialect::CloudEye, &Error::Internal("x".into()))["error_code"], "ces.0007");
        let unsigned = Error::Unauthenticated("Not signed".into());
        assert_eq!(
            body(Dialect::CloudEye, &unsigned),
            json!({"error_code": "APIGW.0301", "error_msg": "Not signed"})
        );
        assert_eq!(body(Dialect::Aom, &unsigned)["error_code"], "APIGW.0301");
        assert_eq!(body(Dialect::Aom, &unsigned)["error_type"], "SC_UNAUTHORIZED");
        assert_eq!(body(Dialect::SpaceOne, &unsigned)["error"]["code"], "ERROR_AUTHENTICATE_FAILURE");
    }

    #[test]
    fn a_wrong_method_is_told_the_right_one() {
        let err = Error::MethodNotAllowed { message: "x".into(), allow: "POST".into() };
        assert_eq!(error(&err).headers()["allow"], "POST");
        assert!(error(&Error::invalid("bad")).headers().get("allow").is_none());
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let err = Error::invalid(format!("'{}' is not a valid regular expression", "é".repeat(5_000)));
        let body: Value = serde_json::from_slice(error(&err).body()).unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with("éé…"), "{message}");
        assert_eq!(shortened("short".into()), "short");
    }

    #[test]
    fn an_answer_too_large_for_lambda_is_a_400_that_says_how_to_ask_for_less() {
        let fits = json!({"results": ["x".repeat(MAX_ESCAPED_BODY - 100)]});
        assert_eq!(ok(&fits).unwrap().status(), 200);
        let too_large = json!({"results": ["x".repeat(MAX_ESCAPED_BODY)]});
        let err = ok(&too_large).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("page.limit"), "{err}");
    }

    #[test]
    fn quotes_count_twice_since_the_body_is_escaped_once_more() {
        // Each quote is `\"` in the body and `\\\"` once the body is a JSON string.
        let quotes = json!(["\"".repeat(MAX_ESCAPED_BODY / 3)]);
        assert!(quotes.to_string().len() < MAX_ESCAPED_BODY);
        assert_eq!(ok(&quotes).unwrap_err().status(), 400);
    }
}
