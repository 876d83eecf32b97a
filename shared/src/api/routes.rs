//! The documented paths of both API generations, and which operation serves each.

use lambda_http::http::Method;

use crate::error::{Error, Result};

/// One of the four operations, with what its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /monitoring/v1/webhook/{webhook_id}/{access_key}/events`
    Create { webhook_id: String, access_key: String },
    /// `GET /monitoring/v1/event/{event_id}` (id in the path) or `POST /monitoring/v1/event/get`.
    Get { event_id: Option<String> },
    /// `GET /monitoring/v1/events` (query in the query string), `POST /monitoring/v1/events/search`,
    /// `POST /monitoring/v1/event/list`.
    List { from_query_string: bool },
    /// `POST /monitoring/v1/events/stat`, `POST /monitoring/v1/event/stat`.
    Stat,
}

impl Route {
    /// The Lambda function that serves the route.
    pub fn operation(&self) -> &'static str {
        match self {
            Route::Create { .. } => "create",
            Route::Get { .. } => "get",
            Route::List { .. } => "list",
            Route::Stat => "stat",
        }
    }
}

/// Matches a request path (with or without an API Gateway stage prefix) to its route.
pub fn route(method: &Method, path: &str) -> Result<Route> {
    let Some(start) = path.find("/monitoring/v1/") else {
        return Err(unknown(path));
    };
    let segments: Vec<&str> = path[start..].trim_end_matches('/').split('/').skip(3).collect();
    let (route, allowed) = match segments.as_slice() {
        ["webhook", webhook_id, access_key, "events"] if !webhook_id.is_empty() && !access_key.is_empty() => {
            (Route::Create { webhook_id: decode(webhook_id), access_key: decode(access_key) }, Method::POST)
        }
        ["event", "get"] => (Route::Get { event_id: None }, Method::POST),
        ["event", "list"] => (Route::List { from_query_string: false }, Method::POST),
        ["event", "stat"] | ["events", "stat"] => (Route::Stat, Method::POST),
        ["event", event_id] if !event_id.is_empty() => {
            (Route::Get { event_id: Some(decode(event_id)) }, Method::GET)
        }
        ["events"] => (Route::List { from_query_string: true }, Method::GET),
        ["events", "search"] => (Route::List { from_query_string: false }, Method::POST),
        _ => return Err(unknown(path)),
    };
    if *method != allowed {
        return Err(Error::MethodNotAllowed(format!("{} takes {allowed}, not {method}.", redacted(path))));
    }
    Ok(route)
}

/// The path as logs may show it: a webhook's access key is a credential, so it is masked.
pub fn redacted(path: &str) -> String {
    let Some(start) = path.find("/monitoring/v1/webhook/") else {
        return path.to_string();
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    let key_index = path[..start].split('/').count() + 4;
    if let Some(segment) = segments.get_mut(key_index) {
        *segment = "***";
    }
    segments.join("/")
}

fn unknown(path: &str) -> Error {
    Error::not_found("path", redacted(path))
}

/// Percent-decodes a path segment (API Gateway passes the raw path through).
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_generations_route_to_the_same_operations() {
        let post = |p| route(&Method::POST, p).unwrap().operation();
        let get = |p| route(&Method::GET, p).unwrap().operation();
        assert_eq!(post("/monitoring/v1/webhook/webhook-1/key/events"), "create");
        assert_eq!(get("/monitoring/v1/event/event-1"), "get");
        assert_eq!(post("/monitoring/v1/event/get"), "get");
        assert_eq!(get("/monitoring/v1/events"), "list");
        assert_eq!(post("/monitoring/v1/events/search"), "list");
        assert_eq!(post("/monitoring/v1/event/list"), "list");
        assert_eq!(post("/monitoring/v1/events/stat"), "stat");
        assert_eq!(post("/monitoring/v1/event/stat"), "stat");
    }

    #[test]
    fn path_values_are_extracted_and_decoded_behind_a_stage() {
        assert_eq!(
            route(&Method::POST, "/prod/monitoring/v1/webhook/webhook-1/a%2Bb/events/").unwrap(),
            Route::Create { webhook_id: "webhook-1".into(), access_key: "a+b".into() }
        );
        assert_eq!(
            route(&Method::GET, "/monitoring/v1/event/event-4e16ba3bd384").unwrap(),
            Route::Get { event_id: Some("event-4e16ba3bd384".into()) }
        );
    }

    #[test]
    fn logged_paths_hide_the_access_key() {
        assert_eq!(
            redacted("/monitoring/v1/webhook/webhook-1/secret/events"),
            "/monitoring/v1/webhook/webhook-1/***/events"
        );
        assert_eq!(
            redacted("/prod/monitoring/v1/webhook/webhook-1/secret/events"),
            "/prod/monitoring/v1/webhook/webhook-1/***/events"
        );
        assert_eq!(redacted("/monitoring/v1/event/event-1"), "/monitoring/v1/event/event-1");
    }

    #[test]
    fn wrong_method_and_unknown_path_are_client_errors() {
        assert_eq!(route(&Method::GET, "/monitoring/v1/event/list").unwrap_err().status(), 405);
        assert_eq!(route(&Method::DELETE, "/monitoring/v1/event/event-1").unwrap_err().status(), 405);
        assert_eq!(route(&Method::POST, "/monitoring/v1/nothing").unwrap_err().status(), 404);
        assert_eq!(route(&Method::POST, "/elsewhere").unwrap_err().status(), 404);
        assert_eq!(route(&Method::POST, "/monitoring/v1/webhook//k/events").unwrap_err().status(), 404);
    }
}
