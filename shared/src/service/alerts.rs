//! The Alert API's get, update and update_state over the alerts this service keeps.
//!
//! A person moves an alert TRIGGERED → ACKNOWLEDGED → RESOLVED. Acknowledging keeps it
//! open (its key's events still join it, a RECOVERY still resolves it). Resolving is the
//! very transition a RECOVERY makes (docs/data-model.md, "The alert state machine"): the
//! alert's conditional update to RESOLVED, then its key's marker turned into the memory
//! of that resolution, remembering no sender time, so the key's next ALERT opens a new
//! alert. An alert past its auto-resolve time resolved then, and is written down so.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::alert_link::write_down_expiry;
use super::alert_search::alert_info;
use super::search::list_events;
use super::webhooks::access_key_matches;
use super::App;
use crate::error::{Error, Result};
use crate::model::{format_time, Alert, AlertState};
use crate::query::Query;
use crate::store::{AlertEdit, AlertScope, Recovery, Resolution, Resolved, Store};
use crate::tenant::{webhook_domain, AuthorizedDomain};

/// One alert of `domain`, as of now; another domain's is "not found".
pub async fn get_alert(store: &Store, domain: &AuthorizedDomain, alert_id: &str) -> Result<Alert> {
    store.get_alert(domain, alert_id).await?.ok_or_else(|| Error::not_found("alert_id", alert_id))
}

/// get's answer: AlertInfo with `event_count`.
pub async fn alert_detail(app: &App, domain: &AuthorizedDomain, alert_id: &str) -> Result<Value> {
    let alert = get_alert(&app.store, domain, alert_id).await?;
    let mut info = alert_info(&alert);
    info["event_count"] = alert_event_count(app, domain, &alert.alert_id).await?.into();
    Ok(info)
}

/// How many of the events still kept were linked to the alert: one `Select: COUNT`
/// Query of the alert index (0.5 read unit per 4 KB of its keys), so only a single
/// alert's read answers it, never a list.
async fn alert_event_count(app: &App, domain: &AuthorizedDomain, alert_id: &str) -> Result<u64> {
    let query = Query::from_json(&json!({
        "filter": [{"k": "alert_id", "v": alert_id, "o": "eq"}],
        "count_only": true,
    }))?;
    let page = list_events(app, domain, &query, None).await?;
    Ok(page.total_count.unwrap_or_default() as u64)
}

/// update: the fields a person sets, and the state (ACKNOWLEDGED or RESOLVED), if given.
pub async fn update_alert(
    app: &App,
    domain: &AuthorizedDomain,
    alert_id: &str,
    edit: &AlertEdit,
    state: Option<AlertState>,
) -> Result<Alert> {
    let alert = get_alert(&app.store, domain, alert_id).await?;
    let now = Utc::now();
    if !edit.is_empty() && !app.store.edit_alert(domain.as_str(), alert_id, edit, &format_time(now)).await? {
        return Err(Error::not_found("alert_id", alert_id));
    }
    if let Some(state) = state {
        change_state(app, domain, &alert, state, now).await?;
    }
    get_alert(&app.store, domain, alert_id).await
}

/// update_state: the state change a notification's link makes, authorized by the access
/// key of the alert's webhook instead of a token. No such alert, no such webhook and a
/// wrong key are answered alike (403), so the link reveals nothing without its key.
pub async fn update_alert_state(app: &App, alert_id: &str, access_key: &str, state: &str) -> Result<Alert> {
    let state: AlertState = state.parse()?;
    let now = Utc::now();
    let refused = || {
        Error::PermissionDenied(
            "No such alert, or the access key is not its webhook's; use the link of the alert's notification."
                .into(),
        )
    };
    let alert = app.store.alert_by_id(alert_id).await?.ok_or_else(refused)?;
    let webhook = app.store.get_webhook(&alert.webhook_id).await?.ok_or_else(refused)?;
    if webhook.domain_id != alert.domain_id || !access_key_matches(&webhook, access_key, now) {
        return Err(refused());
    }
    let domain = webhook_domain(&webhook);
    change_state(app, &domain, &alert, state, now).await?;
    get_alert(&app.store, &domain, alert_id).await
}

/// Moves `alert` to `state` as a person asks: ACKNOWLEDGED (an open alert; again is no
/// change) or RESOLVED (any alert; again is no change).
async fn change_state(
    app: &App,
    domain: &AuthorizedDomain,
    alert: &Alert,
    state: AlertState,
    now: DateTime<Utc>,
) -> Result<()> {
    let at = format_time(now);
    let current = alert.clone().as_of(&at).state;
    match state {
        AlertState::Resolved => resolve(app, alert, now).await,
        AlertState::Acknowledged if current == AlertState::Acknowledged => Ok(()),
        AlertState::Acknowledged if current == AlertState::Resolved => Err(Error::invalid(format!(
            "Alert {} is RESOLVED; a resolved alert cannot be acknowledged (the key's next ALERT opens a new one).",
            alert.alert_id
        ))),
        // Not applied when it was resolved or acknowledged since it was read: the
        // answer then shows what it is now.
        AlertState::Acknowledged => {
            app.store.acknowledge_alert(domain.as_str(), &alert.alert_id, &at).await.map(|_| ())
        }
        other => Err(Error::invalid(format!(
            "state may be set to ACKNOWLEDGED or RESOLVED, not {}; an alert is TRIGGERED (or ERROR) only by its events.",
            other.as_str()
        ))),
    }
}

/// A person's resolve: the alert's update, then its key's marker, as a RECOVERY's.
async fn resolve(app: &App, alert: &Alert, now: DateTime<Utc>) -> Result<()> {
    let store = &app.store;
    let scope = AlertScope::of(alert);
    let remember_until = now.timestamp() + i64::from(app.config.dedup_window_hours) * 3600;
    let at = format_time(now);
    // No sender time: no ALERT counts as late for a person's resolve.
    let recovery =
        Recovery { resolved_at: &at, late_before: "", remember_until, expiry: false, event_id: "" };
    let resolution = match store.resolve_alert(&alert.domain_id, &alert.alert_id, recovery).await? {
        Resolved::Now => Resolution { alert_id: Some(alert.alert_id.clone()), ..Resolution::default() },
        // Resolved before (perhaps with its marker left behind by a failure): the marker
        // still gets its memory, which a marker naming another alert now ignores.
        Resolved::Already(resolution) => resolution,
        Resolved::Expired(at) => {
            write_down_expiry(app, &scope, &alert.alert_id, &at, remember_until).await?;
            return Ok(());
        }
        Resolved::Missing => return Err(Error::not_found("alert_id", alert.alert_id.clone())),
        Resolved::StillOpen => {
            return Err(Error::InProgress(format!(
                "Alert {} is changing under a concurrent delivery; retry in a moment.",
                alert.alert_id
            )))
        }
    };
    store.forget_open(&scope, &alert.alert_id, &resolution, remember_until).await
}
