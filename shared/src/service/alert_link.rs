//! Linking each event to its alert: the one open alert of its key, opened, joined or
//! resolved as the event says, and the key's memory of its last resolution for events
//! that arrive late.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{new_id, Alert, AlertState, Event, EventType};
use crate::service::App;
use crate::store::{AlertScope, Joined, OpenAlert, Recovery, Resolution};

pub(super) fn alert_scope(event: &Event) -> AlertScope<'_> {
    AlertScope {
        domain_id: &event.domain_id,
        workspace_id: &event.workspace_id,
        project_id: &event.project_id,
        event_key: &event.event_key,
    }
}

/// Whether an ALERT started before its key's last RECOVERY: a late delivery of the
/// incident that RECOVERY ended.
pub(super) fn started_before(event: &Event, resolution: &Resolution) -> bool {
    event.occurred_at < resolution.occurred_at
}

/// The alert `event` belongs to ("" for none). An ALERT joins the open alert of its key
/// or opens one; a late ALERT joins the alert its RECOVERY resolved. A RECOVERY resolves
/// the open alert, and with nothing open is stored unlinked (the reference drops it; we
/// keep every event a sender gave us); either way its key remembers it for the
/// redelivery window, for the late ALERTs. An open alert past its auto-resolve time
/// resolved then: that is written down, and the event opens a new alert.
pub(super) async fn linked_alert(
    app: &App,
    event: &Event,
    now: DateTime<Utc>,
    auto_resolve_at: Option<&str>,
) -> Result<String> {
    let scope = alert_scope(event);
    let store = &app.store;
    let remember_until = now.timestamp() + i64::from(app.config.dedup_window_hours) * 3600;
    let recovery =
        Recovery { created_at: &event.created_at, occurred_at: &event.occurred_at, remember_until };
    let join = |alert_id, auto_resolves| {
        Join { app, event, alert_id, auto_resolves, auto_resolve_at, remember_until }.run()
    };
    // Each pass reads the key once; a pass ends early only when a racing delivery
    // changed the key's memory between that read and our write.
    for _ in 0..3 {
        let state = store.key_state(&scope).await?;
        let is_recovery = event.event_type == EventType::Recovery;
        match (state.open, state.resolved.filter(|r| !is_recovery && started_before(event, r))) {
            (Some(alert_id), _) if is_recovery => {
                store.resolve_alert(&scope, &alert_id, recovery).await?;
                return Ok(alert_id);
            }
            (Some(alert_id), _) => {
                if let Some(alert_id) = join(alert_id, state.auto_resolves).await? {
                    return Ok(alert_id);
                }
            }
            (None, _) if is_recovery => {
                store.remember_resolution(&scope, recovery).await?;
                return Ok(String::new());
            }
            (None, Some(Resolution { alert_id: Some(alert_id), .. })) => return Ok(alert_id),
            (None, Some(resolution)) => {
                let alert = Alert {
                    state: AlertState::Resolved,
                    resolved_at: resolution.occurred_at.clone(),
                    ..new_alert(event, None)
                };
                if store.record_resolved_alert(&alert, &resolution).await? {
                    return Ok(alert.alert_id);
                }
            }
            (None, None) => {
                let alert = new_alert(event, auto_resolve_at);
                match store.open_alert(&alert).await? {
                    OpenAlert::Opened => return Ok(alert.alert_id),
                    // A racing delivery opened it: the next pass reads the key and joins.
                    OpenAlert::Existing(_) => {}
                }
            }
        }
    }
    Err(Error::InProgress(format!(
        "The alert of event_key {:?} keeps changing under concurrent deliveries; retry in a moment.",
        event.event_key
    )))
}

/// An event joining its key's open alert.
struct Join<'a> {
    app: &'a App,
    event: &'a Event,
    alert_id: String,
    /// Whether the alert has an auto-resolve time (its key's marker says).
    auto_resolves: bool,
    auto_resolve_at: Option<&'a str>,
    remember_until: i64,
}

impl Join<'_> {
    /// The joined alert; `None` when it was past its auto-resolve time, which is then
    /// written down (the key remembers the expiry as it remembers a RECOVERY). Only an
    /// alert that resolves by itself, or comes to, is written: any other join writes
    /// nothing (the alert's description and updated_at are its newest event's).
    async fn run(self) -> Result<Option<String>> {
        let store = &self.app.store;
        if !self.auto_resolves && self.auto_resolve_at.is_none() {
            return Ok(Some(self.alert_id));
        }
        let scope = alert_scope(self.event);
        match store.join_alert(&self.alert_id, &self.event.created_at, self.auto_resolve_at).await? {
            Joined::Open if self.auto_resolves => Ok(Some(self.alert_id)),
            Joined::Open => {
                store.mark_auto_resolves(&scope, &self.alert_id).await?;
                Ok(Some(self.alert_id))
            }
            Joined::Expired(at) => {
                store
                    .resolve_alert(&scope, &self.alert_id, Recovery::expiry(&at, self.remember_until))
                    .await?;
                Ok(None)
            }
        }
    }
}

fn new_alert(event: &Event, auto_resolve_at: Option<&str>) -> Alert {
    Alert {
        alert_id: new_id("alert"),
        event_key: event.event_key.clone(),
        title: event.title.clone(),
        description: event.description.clone(),
        state: if event.event_type == EventType::Error { AlertState::Error } else { AlertState::Triggered },
        urgency: event.severity.urgency(),
        severity: event.severity,
        webhook_id: event.webhook_id.clone(),
        project_id: event.project_id.clone(),
        workspace_id: event.workspace_id.clone(),
        domain_id: event.domain_id.clone(),
        created_at: event.created_at.clone(),
        updated_at: event.created_at.clone(),
        resolved_at: String::new(),
        auto_resolve_at: auto_resolve_at.unwrap_or_default().to_string(),
    }
}
