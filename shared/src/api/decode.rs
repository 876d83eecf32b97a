//! Request decoding for the read operations: both route generations into typed values.

use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::query::{Query, StatQuery};

/// EventQuery's exact-match fields, and the event field each one matches.
const EXACT_FIELDS: [(&str, &str); 11] = [
    ("event_id", "event_id"),
    ("event_key", "event_key"),
    ("event_type", "event_type"),
    ("severity", "severity"),
    ("resource_id", "resource.resource_id"),
    ("provider", "provider"),
    ("account", "account"),
    ("alert_id", "alert_id"),
    ("webhook_id", "webhook_id"),
    ("project_id", "project_id"),
    ("workspace_id", "workspace_id"),
];

/// A get request: which event, the domain it names (if any), the fields to return.
#[derive(Debug, Clone, PartialEq)]
pub struct GetRequest {
    pub event_id: String,
    pub domain_id: Option<String>,
    pub only: Vec<String>,
}

/// A list or stat request: the domain it names (if any) and the query.
#[derive(Debug)]
pub struct Scoped<Q> {
    pub domain_id: Option<String>,
    pub query: Q,
}

/// A list request: EventQuery, and the cursor when the caller pages with next_token
/// (`""` asks for the first page).
#[derive(Debug)]
pub struct ListRequest {
    pub scoped: Scoped<Query>,
    pub next_token: Option<String>,
    /// `suppressed: true`: the events maintenance windows suppressed, which a list
    /// otherwise leaves out (and only those).
    pub suppressed: bool,
}

/// The body as a JSON object; an empty body is `{}`.
/// The largest body a read route takes. A query is a few KB; past this it is a
/// mistake or an attempt to make the function parse and hold something large.
pub const MAX_READ_BODY_BYTES: usize = 64 * 1024;

pub fn body_object(req: &Request) -> Result<Map<String, Value>> {
    let bytes = super::body_bytes(req, MAX_READ_BODY_BYTES)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid("The request body must be a JSON object.")),
        Err(e) => Err(Error::invalid(format!("The request body is not valid JSON: {e}"))),
    }
}

/// `GET /event/{id}?domain_id=&only=a,b` or `POST /event/get {event_id, domain_id, only}`.
pub fn get_request(req: &Request, path_event_id: Option<String>) -> Result<GetRequest> {
    match path_event_id {
        Some(event_id) => {
            let params = req.query_string_parameters();
            let only = params.all("only").unwrap_or_default();
            let only = only.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty());
            Ok(GetRequest {
                event_id,
                domain_id: params.first("domain_id").map(str::to_string),
                only: only.map(str::to_string).collect(),
            })
        }
        None => {
            let body = body_object(req)?;
            reject_unknown(&body, &["event_id", "domain_id", "only"])?;
            let event_id = optional_text(&body, "event_id")?
                .ok_or_else(|| Error::RequiredParameter("event_id".into()))?;
            let only = match body.get("only") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        // An empty name is no field (it would answer `{"": …}`), as in list's `only`.
                        i.as_str()
                            .filter(|name| !name.is_empty())
                            .map(str::to_string)
                            .ok_or_else(|| Error::invalid("'only' must be a list of field names."))
                    })
                    .collect::<Result<_>>()?,
                Some(_) => return Err(Error::invalid("'only' must be a list of field names.")),
            };
            Ok(GetRequest { event_id, domain_id: optional_text(&body, "domain_id")?, only })
        }
    }
}

/// EventQuery from a JSON body, or from the query string of `GET /events`, where each
/// field is a parameter and `query` is the Query as JSON text.
pub fn list_request(req: &Request, from_query_string: bool) -> Result<ListRequest> {
    let body = if from_query_string { query_string_object(req)? } else { body_object(req)? };
    list_body(body)
}

/// A list request's JSON body (eventctl builds one from its flags, so it reads exactly
/// what the API reads).
pub fn list_body(mut body: Map<String, Value>) -> Result<ListRequest> {
    let suppressed = take_suppressed(&mut body)?;
    let (query, next_token) = listing(&body, &EXACT_FIELDS)?;
    let scoped = Scoped { domain_id: optional_text(&body, "domain_id")?, query };
    Ok(ListRequest { scoped, next_token, suppressed })
}

/// The events stat's request: StatRequest, and whether it counts suppressed events
/// (only those) instead of the others.
pub fn event_stat_request(req: &Request) -> Result<(Scoped<StatQuery>, bool)> {
    let mut body = body_object(req)?;
    let suppressed = take_suppressed(&mut body)?;
    Ok((stat_body(body)?, suppressed))
}

/// Takes `suppressed` out of a body (or a legacy query string, where it is text).
fn take_suppressed(body: &mut Map<String, Value>) -> Result<bool> {
    match body.remove("suppressed") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => Err(Error::invalid("'suppressed' must be true or false.")),
    }
}

/// A list request's body (events or alerts): its fields checked against `exact` (name in
/// the request, key in the Query), `query`, `domain_id` and `next_token`; the Query with
/// the exact-match fields added; the next_token.
pub(super) fn listing(body: &Map<String, Value>, exact: &[(&str, &str)]) -> Result<(Query, Option<String>)> {
    let mut allowed: Vec<&str> = exact.iter().map(|(name, _)| *name).collect();
    allowed.extend(["query", "domain_id", "next_token"]);
    reject_unknown(body, &allowed)?;
    let mut query = Query::from_json(body.get("query").unwrap_or(&Value::Null))?;
    for (name, key) in exact {
        if let Some(value) = optional_text(body, name)? {
            query.add_exact(key, &value);
        }
    }
    let next_token = match body.get("next_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(token.clone()),
        Some(_) => return Err(Error::invalid("'next_token' must be a string (\"\" for the first page).")),
    };
    Ok((query, next_token))
}

/// `{query: StatisticsQuery, domain_id?}`.
pub fn stat_request(req: &Request) -> Result<Scoped<StatQuery>> {
    stat_body(body_object(req)?)
}

/// A stat request's JSON body (eventctl builds one from its flags).
pub fn stat_body(body: Map<String, Value>) -> Result<Scoped<StatQuery>> {
    reject_unknown(&body, &["query", "domain_id"])?;
    let query = match body.get("query") {
        None | Some(Value::Null) => return Err(Error::RequiredParameter("query".into())),
        Some(q) => StatQuery::from_json(q)?,
    };
    Ok(Scoped { domain_id: optional_text(&body, "domain_id")?, query })
}

pub(super) fn query_string_object(req: &Request) -> Result<Map<String, Value>> {
    let params = req.query_string_parameters();
    let mut object = Map::new();
    for (name, value) in params.iter() {
        let value = if name == "query" {
            serde_json::from_str(value).map_err(|e| {
                Error::invalid(format!("The 'query' parameter must be a JSON Query object: {e}"))
            })?
        } else {
            Value::String(value.to_string())
        };
        object.insert(name.to_string(), value);
    }
    Ok(object)
}

pub(super) fn reject_unknown(body: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => {
            Err(Error::invalid(format!("Unknown parameter '{key}'; allowed: {}.", allowed.join(", "))))
        }
        None => Ok(()),
    }
}

pub(super) fn optional_text(body: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid(format!("'{name}' must be a string."))),
    }
}
