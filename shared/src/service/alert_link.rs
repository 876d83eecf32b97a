//! Linking each event to its alert: the one open alert of its key, opened, joined or
//! resolved as the event says, and the key's memory of its last resolution for events
//! that arrive late. docs/data-model.md ("The alert state machine") gives every state
//! of a key, every input and the writes each takes; each write is conditional on the
//! state it assumes, and a key left half-written by a failure is repaired by its next
//! event here.

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};
use crate::model::{new_id, parse_time, Alert, AlertState, Event, EventType};
use crate::service::App;
use crate::store::{AlertNow, AlertScope, Recovery, Resolution, Resolved};

/// How far ahead of its arrival a sender's time may be and still count for lateness: a
/// clock that runs ahead, or seconds read as milliseconds, must not make every later
/// ALERT of its key look older than a RECOVERY.
const SENDER_CLOCK_SKEW: Duration = Duration::minutes(5);

/// Reads of the key before a racing delivery's changes make this one give up (503).
const PASSES: usize = 4;

pub(super) fn alert_scope(event: &Event) -> AlertScope<'_> {
    AlertScope {
        domain_id: &event.domain_id,
        workspace_id: &event.workspace_id,
        project_id: &event.project_id,
        event_key: &event.event_key,
    }
}

/// When `event` happened by its sender, for lateness: `None` when the sender gave no time
/// (its occurred_at is its arrival), its arrival when the sender's time is more than
/// [`SENDER_CLOCK_SKEW`] ahead of that. The event itself keeps the sender's value.
pub(super) fn sender_time(event: &Event) -> Option<String> {
    if event.occurred_at == event.created_at {
        return None;
    }
    let arrival = parse_time(&event.created_at)?;
    let ahead = parse_time(&event.occurred_at).is_none_or(|t| t > arrival + SENDER_CLOCK_SKEW);
    Some(if ahead { event.created_at.clone() } else { event.occurred_at.clone() })
}

/// Whether an ALERT started before its key's last RECOVERY: a late delivery of the
/// incident that RECOVERY ended. Like is compared with like: only when both carry a
/// sender time.
pub(super) fn started_before(event: &Event, resolution: &Resolution) -> bool {
    !resolution.late_before.is_empty() && sender_time(event).is_some_and(|t| t < resolution.late_before)
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
    let link = Link::new(app, event, now, auto_resolve_at);
    let is_recovery = event.event_type == EventType::Recovery;
    // Each pass reads the key once; a pass ends without a link only when the key was
    // found half-written (and is repaired) or a racing delivery changed it.
    for _ in 0..PASSES {
        let state = app.store.key_state(&link.scope).await?;
        let linked = match state.open {
            Some(open) if is_recovery => link.resolve(&open).await?,
            Some(open) => link.join(&open, state.auto_resolves).await?,
            None if is_recovery => match resolved_by(&state.resolved, event) {
                // This very RECOVERY resolved it, and its event's write failed after.
                Some(alert_id) => Some(alert_id),
                None => {
                    let late_before = sender_time(event).unwrap_or_default();
                    app.store.remember_resolution(&link.scope, &late_before, link.remember_until).await?;
                    Some(String::new())
                }
            },
            None => link.open_or_late(state.resolved).await?,
        };
        if let Some(alert_id) = linked {
            return Ok(alert_id);
        }
    }
    Err(Error::InProgress(format!(
        "The alert of event_key {:?} keeps changing under concurrent deliveries; retry in a moment.",
        event.event_key
    )))
}

/// One event's linking, or one repeat's refresh (`service/repeats.rs`).
pub(super) struct Link<'a> {
    app: &'a App,
    event: &'a Event,
    pub(super) scope: AlertScope<'a>,
    auto_resolve_at: Option<&'a str>,
    remember_until: i64,
    /// The time its writes compare auto-resolve times with: the event's arrival.
    at: &'a str,
}

impl<'a> Link<'a> {
    pub(super) fn new(
        app: &'a App,
        event: &'a Event,
        now: DateTime<Utc>,
        auto_resolve_at: Option<&'a str>,
    ) -> Link<'a> {
        Link {
            app,
            event,
            scope: alert_scope(event),
            auto_resolve_at,
            remember_until: now.timestamp() + i64::from(app.config.dedup_window_hours) * 3600,
            at: &event.created_at,
        }
    }

    /// A RECOVERY of the key's open alert `open`. An alert already past its auto-resolve
    /// time is written down as expired then, and the RECOVERY still links to it.
    async fn resolve(&self, open: &str) -> Result<Option<String>> {
        let store = &self.app.store;
        let late_before = sender_time(self.event).unwrap_or_default();
        let recovery = Recovery {
            resolved_at: self.at,
            late_before: &late_before,
            remember_until: self.remember_until,
            expiry: false,
            event_id: &self.event.event_id,
        };
        let resolved = Resolution {
            alert_id: Some(open.to_string()),
            late_before: late_before.clone(),
            by_expiry: false,
            event_id: self.event.event_id.clone(),
        };
        match store.resolve_alert(self.scope.domain_id, open, recovery).await? {
            Resolved::Now | Resolved::Already(_) => {}
            Resolved::Expired(at) => {
                store
                    .resolve_alert(self.scope.domain_id, open, Recovery::expiry(&at, self.remember_until))
                    .await?;
            }
            // Its opener put the key's marker and has not put the alert (yet, or ever):
            // the alert is put here, resolved. An opener still under way then finds it
            // and links its ALERT to it, which never leaves an open alert no key names.
            Resolved::Missing => {
                let alert = Alert {
                    alert_id: open.to_string(),
                    state: AlertState::Resolved,
                    resolved_at: self.at.to_string(),
                    ..new_alert(self.event, None)
                };
                if !store.put_alert(&alert).await? {
                    return Ok(None); // its opener put it meanwhile: resolve that one
                }
            }
            Resolved::StillOpen => return Ok(None),
        }
        store.forget_open(&self.scope, open, &resolved, self.remember_until).await?;
        Ok(Some(open.to_string()))
    }

    /// An event joining the key's open alert `open`; `None` when the alert turned out
    /// closed (past its auto-resolve time, or resolved by a RECOVERY whose second write
    /// failed), and the key was repaired to say so. A join of an alert that resolves by
    /// itself moves its auto-resolve time (a write); any other join reads the alert.
    pub(super) async fn join(&self, open: &str, auto_resolves: bool) -> Result<Option<String>> {
        let store = &self.app.store;
        let found = if auto_resolves || self.auto_resolve_at.is_some() {
            store.join_alert(open, self.at, self.auto_resolve_at).await?
        } else {
            store.alert_now(open, self.at).await?
        };
        match found {
            AlertNow::Open => {}
            AlertNow::Expired(at) => {
                write_down_expiry(self.app, &self.scope, open, &at, self.remember_until).await?;
                return Ok(None);
            }
            AlertNow::Resolved(resolution) => {
                store.forget_open(&self.scope, open, &resolution, self.remember_until).await?;
                return Ok(None);
            }
            // Its opener put the key's marker and died before the alert: this event puts
            // the alert the marker names.
            AlertNow::Missing => {
                let alert =
                    Alert { alert_id: open.to_string(), ..new_alert(self.event, self.auto_resolve_at) };
                if !store.put_alert(&alert).await? {
                    return Ok(None); // put meanwhile by another delivery: decide again
                }
            }
        }
        if self.auto_resolve_at.is_some() && !auto_resolves {
            store.mark_auto_resolves(&self.scope, open).await?;
        }
        Ok(Some(open.to_string()))
    }

    /// An ALERT with nothing open: late for the key's last RECOVERY, it joins the alert
    /// that RECOVERY resolved (one recorded as resolved, when it found nothing open);
    /// otherwise it opens a new alert. `None` when a racing delivery changed the key.
    async fn open_or_late(&self, resolved: Option<Resolution>) -> Result<Option<String>> {
        let store = &self.app.store;
        match resolved.filter(|r| started_before(self.event, r)) {
            Some(Resolution { alert_id: Some(alert_id), .. }) => Ok(Some(alert_id)),
            Some(resolution) => {
                let alert = Alert {
                    state: AlertState::Resolved,
                    resolved_at: resolution.late_before.clone(),
                    ..new_alert(self.event, None)
                };
                let recorded = store.record_resolved_alert(&alert, &resolution).await?;
                Ok(recorded.then_some(alert.alert_id))
            }
            None => {
                let alert = new_alert(self.event, self.auto_resolve_at);
                let opened = store.open_alert(&alert).await?;
                Ok(opened.then_some(alert.alert_id))
            }
        }
    }
}

/// The alert a key's last resolution resolved, when `event` is the RECOVERY that did.
fn resolved_by(resolution: &Option<Resolution>, event: &Event) -> Option<String> {
    let resolution = resolution.as_ref()?;
    (resolution.event_id == event.event_id).then(|| resolution.alert_id.clone()).flatten()
}

/// Writes down that `alert_id` resolved by itself at `at`, and the key's memory of it;
/// false when it turned out refreshed since `at` was read (still open), or closed already.
pub(super) async fn write_down_expiry(
    app: &App,
    scope: &AlertScope<'_>,
    alert_id: &str,
    at: &str,
    remember_until: i64,
) -> Result<bool> {
    let store = &app.store;
    let (resolution, now) =
        match store.resolve_alert(scope.domain_id, alert_id, Recovery::expiry(at, remember_until)).await? {
            Resolved::Now => (
                Resolution { alert_id: Some(alert_id.to_string()), by_expiry: true, ..Resolution::default() },
                true,
            ),
            Resolved::Already(resolution) => (resolution, false),
            Resolved::Missing => (Resolution::default(), false),
            Resolved::StillOpen | Resolved::Expired(_) => return Ok(false),
        };
    store.forget_open(scope, alert_id, &resolution, remember_until).await?;
    Ok(now)
}

fn new_alert(event: &Event, auto_resolve_at: Option<&str>) -> Alert {
    Alert {
        alert_id: new_id("alert"),
        event_key: event.event_key.clone(),
        title: event.title.clone(),
        description: event.description.clone(),
        state: if event.event_type == EventType::Error { AlertState::Error } else { AlertState::Triggered },
        urgency: event.event_rules.as_ref().and_then(|r| r.urgency).unwrap_or(event.severity.urgency()),
        severity: event.severity,
        webhook_id: event.webhook_id.clone(),
        project_id: event.project_id.clone(),
        workspace_id: event.workspace_id.clone(),
        domain_id: event.domain_id.clone(),
        created_at: event.created_at.clone(),
        updated_at: event.created_at.clone(),
        resolved_at: String::new(),
        auto_resolve_at: auto_resolve_at.unwrap_or_default().to_string(),
        resource: event.resource.clone(),
        provider: event.provider.clone(),
        account: event.account.clone(),
        acknowledged_at: String::new(),
        status_message: String::new(),
        description_set_at: String::new(),
        no_notification: event.event_rules.as_ref().is_some_and(|r| r.no_notification),
    }
}
