//! A change delivered again, whose claim says it is stored already: a redelivery, which
//! stores nothing but still refreshes its open alert when that alert resolves by itself
//! (the sender is still firing), or a new occurrence of the same change, stored anew (an
//! incident that came back after its alert closed).

use chrono::{DateTime, Utc};

use super::alert_link::{started_before, Link};
use crate::error::Result;
use crate::model::{Event, EventType};
use crate::service::App;
use crate::store::{AlertNow, KeyState, StoredEvent};

pub(super) enum Repeat {
    /// The change again: nothing to store.
    Redelivery,
    /// The same change as a new occurrence: stored under the next name of its chain.
    NewOccurrence,
}

/// Whether `event`, a change stored before as `stored`, is a redelivery, refreshing the
/// open alert it joined when that alert resolves by itself. A sender's identity names
/// one change, which repeats only once its alert has expired; a body's bytes (`by_body`)
/// repeat whenever the key's alert is no longer as the stored event left it (open as the
/// alert it joined; closed after a RECOVERY).
pub(super) async fn judge(
    app: &App,
    by_body: bool,
    stored: &StoredEvent,
    event: &Event,
    now: DateTime<Utc>,
    auto_resolve_at: Option<&str>,
) -> Result<Repeat> {
    // A sender's retry of a delivery that failed after its event was stored: the same
    // change, even if its alert closed while the sender waited to retry. And a sender's
    // redelivery of a change that refreshes nothing costs its claim alone.
    if stored.after_failure {
        return Ok(Repeat::Redelivery);
    }
    // An ALERT stored without an alert was suppressed by a maintenance window: repeated
    // inside a window it is the same change; still firing after the window, it is a new
    // occurrence, which opens the alert the window held back.
    if stored.event_type == EventType::Alert.as_str() && stored.alert_id.is_empty() {
        return Ok(if event.suppressed() { Repeat::Redelivery } else { Repeat::NewOccurrence });
    }
    if !by_body && auto_resolve_at.is_none() {
        return Ok(Repeat::Redelivery);
    }
    let link = Link::new(app, event, now, auto_resolve_at);
    let mut state = app.store.key_state(&link.scope).await?;
    if stored.event_type == EventType::Recovery.as_str() {
        let same = !by_body || state.open.is_none();
        return Ok(if same { Repeat::Redelivery } else { Repeat::NewOccurrence });
    }
    if state.open.as_deref() == Some(stored.alert_id.as_str()) {
        if !state.auto_resolves && auto_resolve_at.is_none() {
            return Ok(Repeat::Redelivery);
        }
        if link.join(&stored.alert_id, state.auto_resolves).await?.is_some() {
            return Ok(Repeat::Redelivery);
        }
        // It had closed, and the key now says so.
        state = app.store.key_state(&link.scope).await?;
    }
    if by_body {
        return Ok(if body_left_key_so(&state, stored, event) {
            Repeat::Redelivery
        } else {
            Repeat::NewOccurrence
        });
    }
    Ok(match app.store.alert_now(&stored.alert_id, &event.created_at).await? {
        AlertNow::Expired(_) => Repeat::NewOccurrence,
        AlertNow::Resolved(resolution) if resolution.by_expiry => Repeat::NewOccurrence,
        _ => Repeat::Redelivery,
    })
}

/// Whether the key is still as a stored ALERT body left it, its alert not being the
/// key's open one: closed by a RECOVERY that this copy of the body started before (a
/// late copy).
fn body_left_key_so(state: &KeyState, stored: &StoredEvent, event: &Event) -> bool {
    match (&state.open, &state.resolved) {
        (None, Some(resolution)) => {
            started_before(event, resolution)
                && resolution.alert_id.as_deref() == Some(stored.alert_id.as_str())
        }
        _ => false,
    }
}
