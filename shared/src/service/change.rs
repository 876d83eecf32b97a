//! One change of a delivery: its claim (which tells a redelivery from a new change), its
//! link to its alert, and its write. `fanout.rs` runs many of them side by side.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::alert_link::linked_alert;
use super::repeats::{self, Repeat};
use crate::digest::random_hex;
use crate::error::{Error, Result};
use crate::model::Event;
use crate::service::App;
use crate::store::{Claim, DeliveryClaim, EventSlot, StoredEvent};

/// One change of the payload: the identity its claim is taken under, its event, and
/// when its alert resolves by itself if nothing refreshes it.
pub(super) struct Change {
    pub identity: Identity,
    pub event: Event,
    pub auto_resolve_at: Option<String>,
    /// The event an earlier delivery stored for this change, when a bulk read before
    /// the claims found it (`fanout`): the claim is then judged without its round trips.
    pub stored_before: Option<StoredEvent>,
}

/// How long a delivery waits for a concurrent delivery of the same change to finish
/// before answering 503 (the sender retries later and then sees a duplicate); never
/// past the delivery's own cut-off.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(5);
/// Its polls start this far apart and double up to the longest: a big group's events
/// wait side by side, and many waiters polling fast would slow the very delivery they
/// wait for.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(100);
const IN_FLIGHT_POLL_LONGEST: Duration = Duration::from_millis(800);

/// What tells two deliveries of one change apart from two changes.
pub(super) enum Identity {
    /// The sender's own: a dedup key from the payload, or the `Idempotency-Key` header.
    Sender(String),
    /// Only the body's bytes, a guess: trusted within the body window, and only while the
    /// key's alert is as the stored body left it (a repeat incident sends the same bytes).
    Body(String),
}

impl Change {
    pub(super) fn new(identity: Identity, event: Event, auto_resolve_at: Option<String>) -> Change {
        Change { identity, event, auto_resolve_at, stored_before: None }
    }
}

impl Identity {
    /// The name the change's claim is taken under.
    pub(super) fn name(&self) -> &str {
        match self {
            Identity::Sender(name) | Identity::Body(name) => name,
        }
    }
}

/// How many occurrences of one change a delivery walks past: each is a state change of
/// its key within the change's window (a body's repeat incident, an expired alert's
/// report).
const MAX_REPEATS: usize = 64;

/// How one claimed change ended.
enum Written {
    /// This delivery stored the event.
    Now,
    /// The claim's event id holds another event.
    Taken,
}

/// Stores one change's event under its claim; `None` when an earlier delivery stored
/// it. The stored event completes the claim: no write marks it done. Any failure gives
/// the claim back (keeping its event id, since the event may have landed before the
/// failure) and is answered 503, so the sender's retry finds the event, or stores it.
/// Writes still going at `cut_off` are cut off and the claim given back alike, so the
/// answer comes before API Gateway gives up. The claim call itself is not cut: a claim
/// landed unseen could not be given back, and would hold the change for its 29 s; the
/// storage timeouts bound that call.
pub(super) async fn store_change(
    app: &App,
    change: Change,
    now: DateTime<Utc>,
    cut_off: Instant,
) -> Result<Option<Event>> {
    let Change { identity, mut event, auto_resolve_at, stored_before } = change;
    let auto_resolve_at = auto_resolve_at.as_deref();
    let claimed = claim(app, &identity, stored_before, &event, now, auto_resolve_at, cut_off).await?;
    let Some(claim) = claimed else {
        return Ok(None); // already stored by an earlier delivery
    };
    event.event_id = claim.event_id().to_string();
    let written = async {
        // A suppressed ALERT (a maintenance window) opens and joins no alert.
        if !event.suppressed() {
            event.alert_id = linked_alert(app, &event, now, auto_resolve_at).await?;
        }
        if app.store.put_event(&event, expires_at(app.config.retention_days, now)).await? {
            return Ok(Written::Now);
        }
        // The id is taken: by this event when an earlier attempt's answer was lost.
        Ok(match app.store.event_slot(&claim, &event).await? {
            EventSlot::This => Written::Now,
            EventSlot::Free | EventSlot::Other => Written::Taken,
        })
    };
    match within(cut_off, written).await {
        Ok(Written::Now) => Ok(Some(event)),
        Ok(Written::Taken) => Err(taken(app, &claim).await),
        Err(err) => {
            app.store.release_delivery(&claim).await;
            Err(err)
        }
    }
}

/// Drops a claim whose event id holds another event, so the sender's retry mints a new
/// one.
async fn taken(app: &App, claim: &DeliveryClaim) -> Error {
    app.store.forget_delivery(claim).await;
    Error::Internal(format!(
        "event id {} already holds another event; the claim is dropped so a retry mints a new id",
        claim.event_id()
    ))
}

/// `work`'s outcome, or a 503 when it is still going at `cut_off`.
async fn within<T>(cut_off: Instant, work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout_at(cut_off.into(), work).await.unwrap_or_else(|_| {
        Err(Error::InProgress(
            "This request's time ran out while it stored an event; retry to store it.".into(),
        ))
    })
}

/// The claim on one change, `None` when it is already stored. A change stored before
/// (found by its claim, or `stored_before`) is judged by `repeats`: a redelivery (which
/// may refresh its open alert), or a new occurrence, claimed as the next in the change's
/// chain of occurrences.
async fn claim(
    app: &App,
    identity: &Identity,
    mut stored_before: Option<StoredEvent>,
    event: &Event,
    now: DateTime<Utc>,
    auto_resolve_at: Option<&str>,
    cut_off: Instant,
) -> Result<Option<DeliveryClaim>> {
    let by_body = matches!(identity, Identity::Body(_));
    let (mut name, window) = match identity {
        Identity::Sender(name) => (name.clone(), i64::from(app.config.dedup_window_hours) * 3600),
        Identity::Body(name) => (name.clone(), i64::from(app.config.body_dedup_window_minutes) * 60),
    };
    for _ in 0..MAX_REPEATS {
        let claimed = match stored_before.take() {
            Some(stored) => Claimed::Stored(Some(stored)),
            None => claim_change(app, &name, event, now, window, cut_off).await?,
        };
        match claimed {
            Claimed::Mine(claim) => return Ok(Some(claim)),
            Claimed::Stored(Some(stored)) => {
                let first = as_first_delivered(event, &stored);
                match repeats::judge(app, by_body, &stored, &first, now, auto_resolve_at).await? {
                    Repeat::Redelivery => return Ok(None),
                    Repeat::NewOccurrence => name = format!("{name}@{}", stored.event_id),
                }
            }
            // Marked done by an earlier version, which kept no event to judge by.
            Claimed::Stored(None) => return Ok(None),
        }
    }
    // A change that occurred this often within its window: the event is stored under a
    // name of its own. A resend of this very delivery may then be stored twice, which is
    // better than a 200 for an event that was never stored.
    tracing::warn!(webhook_id = %event.webhook_id, "the same change occurred {MAX_REPEATS} times within its window; stored as a new one");
    let own = format!("{name}@{}", random_hex(8));
    Ok(match claim_change(app, &own, event, now, window, cut_off).await? {
        Claimed::Mine(claim) => Some(claim),
        Claimed::Stored(_) => None,
    })
}

/// `event` where its first delivery's event rules put it. The claim's identity comes from
/// the payload, before any rule ran, so an edited rule never makes a redelivery look like
/// a new change; and the key whose alert tells a redelivery from a new occurrence is the
/// stored event's, not the one the rules would pick now.
fn as_first_delivered<'e>(event: &'e Event, stored: &StoredEvent) -> Cow<'e, Event> {
    if stored.project_id.is_empty() || stored.project_id == event.project_id {
        return Cow::Borrowed(event);
    }
    Cow::Owned(Event { project_id: stored.project_id.clone(), ..event.clone() })
}

enum Claimed {
    Mine(DeliveryClaim),
    /// Stored already, as this event when the marker says.
    Stored(Option<StoredEvent>),
}

/// Claims one change, waiting briefly (never past `cut_off`) for a concurrent delivery
/// of it, so both are answered alike.
async fn claim_change(
    app: &App,
    name: &str,
    event: &Event,
    now: DateTime<Utc>,
    window: i64,
    cut_off: Instant,
) -> Result<Claimed> {
    let deadline = (Instant::now() + IN_FLIGHT_WAIT).min(cut_off);
    let mut poll = IN_FLIGHT_POLL;
    loop {
        let now_secs = now.timestamp().max(Utc::now().timestamp());
        match app.store.claim_delivery(&event.webhook_id, name, now_secs, window).await? {
            Claim::New(claim) => return Ok(Claimed::Mine(claim)),
            Claim::Duplicate(stored) => return Ok(Claimed::Stored(stored)),
            Claim::Taken(theirs) => return Err(taken(app, &theirs).await),
            Claim::InFlight(_) if Instant::now() < deadline => {
                tokio::time::sleep(poll.min(deadline.saturating_duration_since(Instant::now()))).await;
                poll = (poll * 2).min(IN_FLIGHT_POLL_LONGEST);
            }
            Claim::InFlight(_) => {
                return Err(Error::InProgress(
                    "Another delivery of this event is still being stored; retry in a moment.".into(),
                ))
            }
        }
    }
}

fn expires_at(retention_days: u32, now: DateTime<Utc>) -> Option<i64> {
    (retention_days > 0).then(|| now.timestamp() + i64::from(retention_days) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_sets_expiry_only_when_configured() {
        let now = Utc::now();
        assert_eq!(expires_at(0, now), None);
        assert_eq!(expires_at(2, now), Some(now.timestamp() + 172_800));
    }
}
