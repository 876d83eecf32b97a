//! Rendering: JSON bodies, and the one mapping of errors to HTTP.

use lambda_http::{Body, Response};
use serde_json::{json, Value};

use crate::error::Error;

pub fn json(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .expect("status and header are valid")
}

/// `{"error": {"code", "message", "status"}}`, the SpaceONE error shape. Internal
/// details stay in the logs: a 500 says only that something broke.
pub fn error(err: &Error) -> Response<Body> {
    let message = match err {
        Error::Internal(_) => "Internal error; the request id in the logs tells what happened.".to_string(),
        other => other.to_string(),
    };
    json(err.status(), &json!({"error": {"code": err.code(), "message": message, "status": err.status()}}))
}
