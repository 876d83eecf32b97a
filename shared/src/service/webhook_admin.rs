//! The Webhook API: SpaceONE's create, get, list, stat, update, update-plugin, enable,
//! disable, delete, and our key rotation, each inside the caller's domain. Another
//! domain's webhook is "not found" to every one of them: the store reads a webhook by
//! id alone, so the domain is checked here, once, in [`webhook_in`].
//!
//! The access key is answered only by create and rotate-key; only its hash is stored.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use serde_json::{json, Value};

use super::webhooks::{create_tagged_webhook, huawei_secret_key, rotate_key, IssuedKey, NewWebhook};
use super::{stat_events, App};
use crate::config::Secret;
use crate::error::{Error, Result};
use crate::model::{Webhook, WebhookFormat, WebhookSettings, WebhookState};
use crate::query::{ListPage, Query, StatAnswer, StatQuery};
use crate::store::ProjectNaming;
use crate::tenant::AuthorizedDomain;

/// A webhook's `requests`: its deliveries and failed ones, where it counts them
/// (`count_requests`); else, with no write of its own, the events it stored (still
/// kept) and how many of them are ERROR events.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Requests {
    pub total: u64,
    pub error: u64,
}

/// The webhook `webhook_id` of `domain`; another domain's, or none, is "not found".
pub async fn webhook_in(app: &App, domain: &AuthorizedDomain, webhook_id: &str) -> Result<Webhook> {
    match app.store.get_webhook(webhook_id).await? {
        Some(webhook) if webhook.domain_id == domain.as_str() => Ok(webhook),
        _ => Err(Error::not_found("webhook_id", webhook_id)),
    }
}

/// create: a new webhook of `domain` in `project_id`, with its access key (shown once).
pub async fn create_in(
    app: &App,
    domain: &AuthorizedDomain,
    project_id: String,
    workspace_id: String,
    settings: &WebhookSettings,
) -> Result<IssuedKey> {
    let mut defaults = Webhook {
        webhook_id: String::new(),
        name: String::new(),
        state: WebhookState::Enabled,
        format: crate::model::WebhookFormat::Standard,
        access_key_hash: String::new(),
        project_id,
        workspace_id,
        domain_id: domain.as_str().to_string(),
        created_at: String::new(),
        verify_sns_signature: true,
        sns_policy: Default::default(),
        previous_key: None,
        auto_resolve_after_seconds: None,
        max_deliveries_per_minute: None,
        count_requests: false,
        heartbeat_seconds: None,
        tags: BTreeMap::new(),
    };
    settings.apply(&mut defaults);
    check_heartbeat(app, &defaults)?;
    let new = NewWebhook {
        name: defaults.name,
        format: defaults.format,
        domain_id: defaults.domain_id,
        workspace_id: defaults.workspace_id,
        project_id: defaults.project_id,
        verify_sns_signature: defaults.verify_sns_signature,
        sns_policy: defaults.sns_policy,
        auto_resolve_after_seconds: defaults.auto_resolve_after_seconds,
        max_deliveries_per_minute: defaults.max_deliveries_per_minute,
        count_requests: defaults.count_requests,
    };
    let mut issued = create_tagged_webhook(&app.store, new, defaults.tags).await?;
    if defaults.heartbeat_seconds.is_some() {
        issued.webhook.heartbeat_seconds = defaults.heartbeat_seconds;
        set_heartbeat(app, &issued.webhook).await?;
    }
    Ok(issued)
}

/// update and update-plugin: the settings given, applied to the webhook of `domain`.
pub async fn update_in(
    app: &App,
    domain: &AuthorizedDomain,
    webhook_id: &str,
    settings: &WebhookSettings,
) -> Result<Webhook> {
    let mut webhook = webhook_in(app, domain, webhook_id).await?;
    settings.apply(&mut webhook);
    if settings.heartbeat_seconds.is_some() {
        set_heartbeat(app, &webhook).await?;
    } else {
        app.store.set_webhook_settings(&webhook).await?;
    }
    Ok(webhook)
}

fn check_heartbeat(app: &App, webhook: &Webhook) -> Result<()> {
    let least = app.config.heartbeat_min_seconds;
    match webhook.heartbeat_seconds {
        Some(seconds) if seconds < least => Err(Error::invalid(format!(
            "'heartbeat' must be at least {least} seconds here (HEARTBEAT_MIN_SECONDS)."
        ))),
        _ => Ok(()),
    }
}

/// Stores a webhook's new heartbeat setting and starts (or stops) tracking it: the
/// first delivery is due one interval from now.
async fn set_heartbeat(app: &App, webhook: &Webhook) -> Result<()> {
    check_heartbeat(app, webhook)?;
    app.store.set_webhook_settings(webhook).await?;
    match webhook.heartbeat_seconds {
        Some(seconds) => {
            let due = Utc::now() + chrono::Duration::seconds(seconds as i64);
            app.store.beat(&webhook.webhook_id, &crate::model::format_time(due)).await?;
        }
        None => app.store.stop_heartbeat(&webhook.webhook_id).await?,
    }
    Ok(())
}

/// enable and disable.
pub async fn set_state_in(
    app: &App,
    domain: &AuthorizedDomain,
    webhook_id: &str,
    state: WebhookState,
) -> Result<Webhook> {
    webhook_in(app, domain, webhook_id).await?;
    super::webhooks::set_state(&app.store, webhook_id, state).await
}

/// delete. Its events and alerts stay (they name the webhook); its URL then answers 403.
pub async fn delete_in(app: &App, domain: &AuthorizedDomain, webhook_id: &str) -> Result<()> {
    let webhook = webhook_in(app, domain, webhook_id).await?;
    app.store.delete_webhook(webhook_id).await?;
    if webhook.count_requests {
        app.store.delete_request_counts(webhook_id).await?;
    }
    Ok(())
}

/// rotate-key: a new access key, shown once; the old one keeps working for `grace`.
pub async fn rotate_in(
    app: &App,
    domain: &AuthorizedDomain,
    webhook_id: &str,
    grace: chrono::Duration,
) -> Result<IssuedKey> {
    webhook_in(app, domain, webhook_id).await?;
    rotate_key(&app.store, webhook_id, grace).await
}

/// list: the query language over the domain's WebhookInfo rows (one Query on the
/// domain index: a domain's webhooks are few).
pub async fn list_in(app: &App, domain: &AuthorizedDomain, query: &Query) -> Result<ListPage> {
    query.list_rows(rows(app, domain).await?, Utc::now())
}

/// stat: StatisticsQuery over the domain's WebhookInfo rows.
pub async fn stat_in(app: &App, domain: &AuthorizedDomain, query: &StatQuery) -> Result<StatAnswer> {
    query.stat_rows(rows(app, domain).await?, Utc::now())
}

/// WebhookInfo of one webhook, with its counts.
pub async fn info_of(app: &App, domain: &AuthorizedDomain, webhook: &Webhook) -> Value {
    let counts = requests(app, domain, std::slice::from_ref(webhook)).await;
    webhook_info(webhook, counts.get(&webhook.webhook_id).copied().unwrap_or_default())
}

async fn rows(app: &App, domain: &AuthorizedDomain) -> Result<Vec<Value>> {
    let webhooks = app.store.list_webhooks(domain.as_str()).await?;
    let counts = requests(app, domain, &webhooks).await;
    let count = |id: &str| counts.get(id).copied().unwrap_or_default();
    Ok(webhooks.iter().map(|w| webhook_info(w, count(&w.webhook_id))).collect())
}

/// Each webhook's `requests`: the counted deliveries of those that count them (one
/// BatchGetItem), and for the others the events stored and how many are ERROR events,
/// from one stat that rollups answer (webhook_id × event_type counts). A read that
/// fails leaves its counts at 0 (logged), rather than failing the read of the webhooks.
async fn requests(app: &App, domain: &AuthorizedDomain, webhooks: &[Webhook]) -> HashMap<String, Requests> {
    let (counting, uncounted): (Vec<&Webhook>, Vec<&Webhook>) =
        webhooks.iter().partition(|w| w.count_requests);
    let mut counts = events_stored(app, domain, &uncounted).await;
    if !counting.is_empty() {
        let ids: Vec<&str> = counting.iter().map(|w| w.webhook_id.as_str()).collect();
        match app.store.request_counts(&ids).await {
            Ok(counted) => {
                counts.extend(counted.into_iter().map(|(id, (total, error))| (id, Requests { total, error })))
            }
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "webhook request counts unavailable; answered as 0")
            }
        }
    }
    counts
}

/// Events stored per webhook and how many are ERROR events: no write on the delivery path.
async fn events_stored(
    app: &App,
    domain: &AuthorizedDomain,
    webhooks: &[&Webhook],
) -> HashMap<String, Requests> {
    let mut counts = HashMap::new();
    if webhooks.is_empty() {
        return counts;
    }
    let ids: Vec<&str> = webhooks.iter().map(|w| w.webhook_id.as_str()).collect();
    let query = json!({
        "filter": [{"k": "webhook_id", "v": ids, "o": "in"}],
        "aggregate": [{"group": {"keys": [{"key": "webhook_id", "name": "webhook_id"},
                                          {"key": "event_type", "name": "event_type"}],
                                 "fields": [{"name": "n", "operator": "count"}]}}],
    });
    let answer = match StatQuery::from_json(&query) {
        Ok(query) => stat_events(app, domain, &query).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(answer) => {
            for row in answer.results {
                let id = row["webhook_id"].as_str().unwrap_or_default().to_string();
                let n = row["n"].as_u64().unwrap_or_default();
                let entry: &mut Requests = counts.entry(id).or_default();
                entry.total += n;
                if row["event_type"] == "ERROR" {
                    entry.error += n;
                }
            }
        }
        Err(e) => {
            tracing::warn!(code = e.code(), error = %e, "webhook request counts unavailable; answered as 0")
        }
    }
    counts
}

/// WebhookInfo: SpaceONE's fields, then our settings. The URL is the header-key form
/// (`…/_/events`): the key itself is not stored, so only create and rotate-key show
/// the URL with the key in it ([`issued_info`]).
pub fn webhook_info(webhook: &Webhook, requests: Requests) -> Value {
    let url = delivery_path(&webhook.webhook_id, "_");
    json!({
        "webhook_id": webhook.webhook_id,
        "name": webhook.name,
        "state": webhook.state.as_str(),
        "webhook_url": url,
        "capability": {},
        "plugin_info": {
            "plugin_id": webhook.format.as_str(),
            "version": "builtin",
            "options": {
                "verify_sns_signature": webhook.verify_sns_signature,
                "sns_topic_arns": webhook.sns_policy.topic_arns,
                "require_sns_signature_v2": webhook.sns_policy.require_signature_v2,
            },
            "metadata": {},
        },
        "tags": webhook.tags,
        "project_id": webhook.project_id,
        "workspace_id": webhook.workspace_id,
        "domain_id": webhook.domain_id,
        "created_at": webhook.created_at,
        "requests": {"total": requests.total, "error": requests.error},
        "format": webhook.format.as_str(),
        "auto_resolve_after_seconds": webhook.auto_resolve_after_seconds,
        "max_deliveries_per_minute": webhook.max_deliveries_per_minute,
        "count_requests": webhook.count_requests,
        "heartbeat_seconds": webhook.heartbeat_seconds,
        "previous_key_valid_until": webhook.previous_key.as_ref().map(|k| k.valid_until.clone()),
    })
}

/// create and rotate-key: WebhookInfo with the access key and the URL that carries it,
/// the only answers that ever show the key; for a `cloud_eye` or `aom` webhook, when the
/// deployment has a signing secret, also the credentials Huawei's SDKs sign its
/// CreateEvents or PushEvents with (`huawei_credentials {ak, sk}`).
pub fn issued_info(issued: &IssuedKey, signing_secret: Option<&Secret>) -> Value {
    let webhook = &issued.webhook;
    let mut info = webhook_info(webhook, Requests::default());
    info["access_key"] = json!(issued.access_key);
    info["webhook_url"] = json!(delivery_path(&webhook.webhook_id, &issued.access_key));
    let huawei = matches!(webhook.format, WebhookFormat::CloudEye | WebhookFormat::Aom);
    if let (true, Some(secret)) = (huawei, signing_secret) {
        let sk = huawei_secret_key(secret, &webhook.webhook_id, &webhook.access_key_hash);
        info["huawei_credentials"] = json!({"ak": webhook.webhook_id, "sk": sk});
    }
    info
}

/// The path a sender posts to (api's `Endpoint::WebhookEvents`; ids and keys are
/// URL-safe as minted: `webhook-<hex>`, hex keys).
fn delivery_path(webhook_id: &str, access_key: &str) -> String {
    format!("/monitoring/v1/webhook/{webhook_id}/{access_key}/events")
}

/// The domain a Huawei read names through its path's `{project_id}` alone (Huawei's SDKs
/// cannot send `domain_id`): the one domain whose webhooks name that project. The answer
/// is only the *requested* domain; [`crate::api::tenant::caller_domain`] still decides
/// (IAM mode trusts it as it trusts `domain_id`; JWT mode refuses one not the token's).
/// No webhook names the project: not found. Webhooks of two domains name it: the request
/// must say which, with `domain_id`.
pub async fn project_domain(app: &App, project_id: &str) -> Result<String> {
    let mut domains = app.store.project_domains(project_id).await?;
    match domains.len() {
        0 => Err(Error::not_found("project_id", project_id)),
        1 => Ok(domains.remove(0)),
        _ => Err(Error::RequiredParameter("domain_id".into())),
    }
}

/// A Huawei read of a caller whose domain an authorizer vouched for: a project that only
/// other domains' webhooks name belongs to another domain (SpaceONE's project ids are
/// unique across domains), so it is not found, as Huawei answers a project the caller
/// cannot see. A project no webhook names any more (its webhooks deleted or moved) still
/// answers the domain's own events of it. One Query of the project index.
pub async fn project_in(app: &App, domain: &AuthorizedDomain, project_id: &str) -> Result<()> {
    match app.store.project_naming(project_id, domain.as_str()).await? {
        ProjectNaming::OtherDomains => Err(Error::not_found("project_id", project_id)),
        ProjectNaming::Domain | ProjectNaming::Nobody => Ok(()),
    }
}
