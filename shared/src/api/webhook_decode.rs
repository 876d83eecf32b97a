//! Request decoding for the Webhook API: both route generations into typed values.

use std::collections::BTreeMap;

use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};

use super::decode::{body_object, optional_text, query_string_object, reject_unknown};
use crate::error::{Error, Result};
use crate::model::{WebhookFormat, WebhookSettings, WebhookState};
use crate::query::Query;

/// WebhookQuery's exact-match fields (each matches the WebhookInfo field of its name).
const EXACT_FIELDS: [&str; 5] = ["webhook_id", "name", "state", "project_id", "workspace_id"];

/// The longest a rotated-out key may keep working.
pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 3600;

/// A request about one webhook: which, the domain it names, and what to set.
#[derive(Debug)]
pub struct WebhookRequest<T> {
    pub webhook_id: String,
    pub domain_id: Option<String>,
    pub value: T,
}

/// create: where the webhook goes and its settings (name required).
#[derive(Debug)]
pub struct CreateWebhook {
    pub domain_id: Option<String>,
    pub project_id: String,
    pub workspace_id: String,
    pub settings: WebhookSettings,
}

/// list: WebhookQuery's fields as conditions of the query, and the domain it names.
#[derive(Debug)]
pub struct WebhookList {
    pub query: Query,
    pub domain_id: Option<String>,
}

/// `POST /webhooks` or `POST /webhook/create`: `{name, project_id, workspace_id?, tags?,
/// plugin_info? {plugin_id, options}, format?, options?, auto_resolve_after_seconds?,
/// max_deliveries_per_minute?, count_requests?, domain_id?}`.
pub fn create_request(req: &Request) -> Result<CreateWebhook> {
    let body = body_object(req)?;
    let mut allowed =
        vec!["name", "project_id", "workspace_id", "resource_group", "domain_id", "plugin_info"];
    allowed.extend(SETTINGS.iter().chain(&PLUGIN).copied());
    reject_unknown(&body, &allowed)?;
    let mut settings = settings(&body)?;
    if let Some(info) = body.get("plugin_info").filter(|v| !v.is_null()) {
        let info = object(info, "plugin_info")?;
        reject_unknown(info, &["plugin_id", "options", "version", "upgrade_mode", "metadata"])?;
        if let Some(format) = optional_text(info, "plugin_id")? {
            settings.format = Some(parse_format(&format)?);
        }
        if let Some(options) = info.get("options").filter(|v| !v.is_null()) {
            plugin_options(object(options, "plugin_info.options")?, &mut settings)?;
        }
    }
    plugin(&body, &mut settings)?;
    if settings.name.is_none() {
        return Err(Error::RequiredParameter("name".into()));
    }
    Ok(CreateWebhook {
        domain_id: optional_text(&body, "domain_id")?,
        project_id: optional_text(&body, "project_id")?
            .ok_or_else(|| Error::RequiredParameter("project_id".into()))?,
        workspace_id: optional_text(&body, "workspace_id")?.unwrap_or_default(),
        settings,
    })
}

/// update (`PUT /webhook/{id}` or `POST /webhook/update`): name, tags, auto-resolve, rate limit.
pub fn update_request(req: &Request, path_id: Option<String>) -> Result<WebhookRequest<WebhookSettings>> {
    let body = body_object(req)?;
    let mut allowed = vec!["webhook_id", "domain_id"];
    allowed.extend(SETTINGS);
    reject_unknown(&body, &allowed)?;
    let value = settings(&body)?;
    if value.is_empty() {
        return Err(Error::invalid(format!("Nothing to update: give {}.", SETTINGS.join(", "))));
    }
    about(req, &body, path_id, value)
}

/// The settings of an update and an update-plugin in one JSON object (eventctl's
/// `webhook update` builds one from its flags, so its values are checked as the API's).
pub fn settings_body(body: &Map<String, Value>) -> Result<WebhookSettings> {
    reject_unknown(body, &SETTINGS.iter().chain(&PLUGIN).copied().collect::<Vec<_>>())?;
    let mut value = settings(body)?;
    plugin(body, &mut value)?;
    Ok(value)
}

/// update-plugin (`PUT /webhook/{id}/plugin` or `POST /webhook/update-plugin`): the
/// format (our built-in "plugin") and its options.
pub fn update_plugin_request(
    req: &Request,
    path_id: Option<String>,
) -> Result<WebhookRequest<WebhookSettings>> {
    let body = body_object(req)?;
    let mut allowed = vec!["webhook_id", "domain_id", "version", "upgrade_mode"];
    allowed.extend(PLUGIN);
    reject_unknown(&body, &allowed)?;
    let mut value = WebhookSettings::default();
    plugin(&body, &mut value)?;
    if value.is_empty() {
        return Err(Error::invalid("Nothing to update: give format and/or options."));
    }
    about(req, &body, path_id, value)
}

/// get, enable, disable, delete: `{webhook_id, domain_id?}`, or the id in the path and
/// `domain_id` in the body or the query string.
pub fn webhook_request(req: &Request, path_id: Option<String>) -> Result<WebhookRequest<()>> {
    let body = body_object(req)?;
    reject_unknown(&body, &["webhook_id", "domain_id"])?;
    about(req, &body, path_id, ())
}

/// rotate-key: `{webhook_id, grace_seconds?, domain_id?}`; the old key works for
/// `grace_seconds` more (0, the default: it stops at once; at most 30 days).
pub fn rotate_request(req: &Request) -> Result<WebhookRequest<chrono::Duration>> {
    let body = body_object(req)?;
    reject_unknown(&body, &["webhook_id", "domain_id", "grace_seconds"])?;
    let grace = match body.get("grace_seconds") {
        None | Some(Value::Null) => 0,
        Some(value) => match value.as_i64() {
            Some(n) if (0..=MAX_GRACE_SECONDS).contains(&n) => n,
            _ => {
                return Err(Error::invalid(format!(
                "'grace_seconds' must be a whole number of seconds from 0 to {MAX_GRACE_SECONDS} (30 days)."
            )))
            }
        },
    };
    about(req, &body, None, chrono::Duration::seconds(grace))
}

/// list: WebhookQuery from a JSON body, or from the query string of `GET /webhooks`.
pub fn list_request(req: &Request, from_query_string: bool) -> Result<WebhookList> {
    let body = if from_query_string { query_string_object(req)? } else { body_object(req)? };
    let mut allowed = EXACT_FIELDS.to_vec();
    allowed.extend(["query", "domain_id"]);
    reject_unknown(&body, &allowed)?;
    let mut query = Query::from_json(body.get("query").unwrap_or(&Value::Null))?;
    for name in EXACT_FIELDS {
        if let Some(mut value) = optional_text(&body, name)? {
            if name == "state" {
                value = value.parse::<WebhookState>()?.as_str().to_string();
            }
            query.add_exact(name, &value);
        }
    }
    Ok(WebhookList { query, domain_id: optional_text(&body, "domain_id")? })
}

/// update's fields (also create's).
const SETTINGS: [&str; 6] = [
    "name",
    "tags",
    "auto_resolve_after_seconds",
    "max_deliveries_per_minute",
    "count_requests",
    "heartbeat",
];
/// update-plugin's fields (also create's).
const PLUGIN: [&str; 2] = ["format", "options"];
const OPTIONS: [&str; 3] = ["verify_sns_signature", "sns_topic_arns", "require_sns_signature_v2"];

fn about<T>(
    req: &Request,
    body: &Map<String, Value>,
    path_id: Option<String>,
    value: T,
) -> Result<WebhookRequest<T>> {
    let webhook_id = match path_id {
        Some(id) => id,
        None => {
            optional_text(body, "webhook_id")?.ok_or_else(|| Error::RequiredParameter("webhook_id".into()))?
        }
    };
    let domain_id = match optional_text(body, "domain_id")? {
        Some(domain) => Some(domain),
        None => req.query_string_parameters().first("domain_id").map(str::to_string),
    };
    Ok(WebhookRequest { webhook_id, domain_id, value })
}

fn settings(body: &Map<String, Value>) -> Result<WebhookSettings> {
    let name = optional_text(body, "name")?;
    if body.get("name").is_some_and(|n| n.as_str().is_some_and(|n| n.trim().is_empty())) {
        return Err(Error::invalid("'name' may not be empty."));
    }
    let tags = match body.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Object(tags)) => Some(
            tags.iter()
                .map(|(k, v)| match v {
                    // DynamoDB refuses a map with an empty key.
                    _ if k.is_empty() => Err(Error::invalid("tags: a tag's name may not be empty.")),
                    Value::String(v) => Ok((k.clone(), v.clone())),
                    _ => Err(Error::invalid(format!("tags.{k}: a tag's value must be a string."))),
                })
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        Some(_) => {
            return Err(Error::invalid("'tags' must be an object of text values, e.g. {\"env\": \"prod\"}."))
        }
    };
    let whole = |name: &str, most: u64| match body.get(name) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(value) => match value.as_u64() {
            Some(n) if n <= most => Ok(Some(Some(n).filter(|&n| n > 0))),
            _ => Err(Error::invalid(format!("'{name}' must be a whole number from 0 (none) to {most}."))),
        },
    };
    Ok(WebhookSettings {
        name,
        tags,
        auto_resolve_after_seconds: whole("auto_resolve_after_seconds", 366 * 24 * 3600)?,
        max_deliveries_per_minute: whole("max_deliveries_per_minute", u64::from(u32::MAX))?
            .map(|n| n.map(|n| n as u32)),
        count_requests: match body.get("count_requests") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(on)) => Some(*on),
            Some(_) => return Err(Error::invalid("'count_requests' must be true or false.")),
        },
        heartbeat_seconds: heartbeat(body.get("heartbeat"))?,
        ..WebhookSettings::default()
    })
}

/// The longest heartbeat a webhook may declare.
const MAX_HEARTBEAT_SECONDS: u64 = 7 * 24 * 3600;

/// `heartbeat`: whole minutes (`15`), or a duration with its unit (`15m`, `2h`, `90s`);
/// 0 or null: none. How short it may be is the service's to say (`HEARTBEAT_MIN_SECONDS`).
fn heartbeat(value: Option<&Value>) -> Result<Option<Option<u64>>> {
    let bad = || {
        Error::invalid(
            "'heartbeat' must be whole minutes (15) or a duration like 90s, 15m or 2h; 0 or null: none.",
        )
    };
    let seconds = match value {
        None => return Ok(None),
        Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_u64().ok_or_else(bad)?.checked_mul(60).ok_or_else(bad)?,
        Some(Value::String(text)) => {
            let text = text.trim();
            let (number, unit) = text.split_at(text.len().saturating_sub(1));
            let n: u64 = number.parse().map_err(|_| bad())?;
            match unit {
                "s" => n,
                "m" => n.checked_mul(60).ok_or_else(bad)?,
                "h" => n.checked_mul(3600).ok_or_else(bad)?,
                _ => return Err(bad()),
            }
        }
        Some(_) => return Err(bad()),
    };
    if seconds > MAX_HEARTBEAT_SECONDS {
        return Err(Error::invalid("'heartbeat' may be a week at most."));
    }
    Ok(Some(Some(seconds).filter(|&s| s > 0)))
}

fn plugin(body: &Map<String, Value>, settings: &mut WebhookSettings) -> Result<()> {
    if let Some(format) = optional_text(body, "format")? {
        settings.format = Some(parse_format(&format)?);
    }
    if let Some(options) = body.get("options").filter(|v| !v.is_null()) {
        plugin_options(object(options, "options")?, settings)?;
    }
    Ok(())
}

fn plugin_options(options: &Map<String, Value>, settings: &mut WebhookSettings) -> Result<()> {
    reject_unknown(options, &OPTIONS)?;
    let flag = |name: &str| match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Error::invalid(format!("options.{name} must be true or false."))),
    };
    settings.verify_sns_signature = flag("verify_sns_signature")?;
    settings.require_sns_signature_v2 = flag("require_sns_signature_v2")?;
    settings.sns_topic_arns = match options.get("sns_topic_arns") {
        None | Some(Value::Null) => None,
        Some(Value::Array(arns)) => Some(
            arns.iter()
                .map(|a| a.as_str().filter(|a| a.starts_with("arn:")).map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::invalid("options.sns_topic_arns must be a list of topic ARNs (arn:aws:sns:…).")
                })?,
        ),
        Some(_) => {
            return Err(Error::invalid(
                "options.sns_topic_arns must be a list of topic ARNs (arn:aws:sns:…).",
            ))
        }
    };
    Ok(())
}

fn parse_format(format: &str) -> Result<WebhookFormat> {
    format.parse::<WebhookFormat>()
}

fn object<'v>(value: &'v Value, name: &str) -> Result<&'v Map<String, Value>> {
    value.as_object().ok_or_else(|| Error::invalid(format!("'{name}' must be an object.")))
}
