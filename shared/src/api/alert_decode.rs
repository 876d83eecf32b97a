//! Request decoding for the Alert API: both route generations into typed values.

use lambda_http::{Request, RequestExt};
use serde_json::Value;

use super::decode::{body_object, listing, optional_text, query_string_object, reject_unknown};
use crate::error::{Error, Result};
use crate::model::{AlertState, Urgency};
use crate::query::Query;
use crate::store::AlertEdit;

/// AlertQuery's exact-match fields, and the AlertInfo field each one matches.
const EXACT_FIELDS: [(&str, &str); 12] = [
    ("alert_id", "alert_id"),
    ("title", "title"),
    ("state", "state"),
    ("urgency", "urgency"),
    ("severity", "severity"),
    ("resource_id", "resource.resource_id"),
    ("provider", "provider"),
    ("account", "account"),
    ("triggered_by", "triggered_by"),
    ("workspace_id", "workspace_id"),
    ("project_id", "project_id"),
    ("webhook_id", "webhook_id"),
];

/// get: which alert, and the domain the request names (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertGet {
    pub alert_id: String,
    pub domain_id: Option<String>,
}

/// list: the query (with AlertQuery's fields as conditions), its `state` (which picks
/// the partitions read), the domain it names and the cursor.
#[derive(Debug)]
pub struct AlertList {
    pub query: Query,
    pub state: Option<AlertState>,
    pub domain_id: Option<String>,
    pub next_token: Option<String>,
}

/// update: which alert, what to set, and the state to move it to.
#[derive(Debug)]
pub struct AlertUpdate {
    pub alert_id: String,
    pub domain_id: Option<String>,
    pub edit: AlertEdit,
    pub state: Option<AlertState>,
}

/// `GET /alert/{id}?domain_id=` or `POST /alert/get {alert_id, domain_id?}`.
pub fn get_request(req: &Request, path_alert_id: Option<String>) -> Result<AlertGet> {
    if let Some(alert_id) = path_alert_id {
        let domain_id = req.query_string_parameters().first("domain_id").map(str::to_string);
        return Ok(AlertGet { alert_id, domain_id });
    }
    let body = body_object(req)?;
    reject_unknown(&body, &["alert_id", "domain_id"])?;
    Ok(AlertGet { alert_id: required(&body, "alert_id")?, domain_id: optional_text(&body, "domain_id")? })
}

/// AlertQuery from a JSON body, or from the query string of `GET /alerts`, where each
/// field is a parameter and `query` is the Query as JSON text.
pub fn list_request(req: &Request, from_query_string: bool) -> Result<AlertList> {
    let body = if from_query_string { query_string_object(req)? } else { body_object(req)? };
    list_body(&body)
}

/// An alert list request's JSON body (eventctl builds one from its flags).
pub fn list_body(body: &serde_json::Map<String, Value>) -> Result<AlertList> {
    let (query, next_token) = listing(body, &EXACT_FIELDS)?;
    let state = optional_text(body, "state")?.map(|s| s.parse::<AlertState>()).transpose()?;
    Ok(AlertList { query, state, domain_id: optional_text(body, "domain_id")?, next_token })
}

/// `PUT /alert/{id}` or `POST /alert/update`, with `{alert_id?, title?, description?,
/// urgency?, status_message?, state?, domain_id?}`.
pub fn update_request(req: &Request, path_alert_id: Option<String>) -> Result<AlertUpdate> {
    let body = body_object(req)?;
    let fields = ["alert_id", "domain_id", "title", "description", "urgency", "status_message", "state"];
    reject_unknown(&body, &fields)?;
    let alert_id = match path_alert_id {
        Some(alert_id) => alert_id,
        None => required(&body, "alert_id")?,
    };
    // An empty text is a value here: a person may clear a description or a message.
    let text = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid(format!("'{name}' must be a string."))),
    };
    let title = text("title")?;
    if title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(Error::invalid("'title' may not be empty."));
    }
    let edit = AlertEdit {
        title,
        description: text("description")?,
        urgency: optional_text(&body, "urgency")?.map(|u| u.parse::<Urgency>()).transpose()?,
        status_message: text("status_message")?,
    };
    let state = optional_text(&body, "state")?.map(|s| s.parse::<AlertState>()).transpose()?;
    if edit.is_empty() && state.is_none() {
        return Err(Error::invalid(
            "Nothing to update: give title, description, urgency, status_message or state.",
        ));
    }
    Ok(AlertUpdate { alert_id, domain_id: optional_text(&body, "domain_id")?, edit, state })
}

fn required(body: &serde_json::Map<String, Value>, name: &str) -> Result<String> {
    optional_text(body, name)?.ok_or_else(|| Error::RequiredParameter(name.into()))
}
