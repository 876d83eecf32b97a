//! create: webhook check, parse, normalise, claim each change, link it to its alert
//! (`alert_link`), store.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::alert_link::{alert_scope, linked_alert, started_before};
use super::fanout::{self, Change};
use super::intake;
use super::normalise::{normalise, parse_error_event};
use super::webhooks::access_key_matches;
use crate::digest::{hex, random_hex, sha256};
use crate::error::{Error, Result};
use crate::formats;
use crate::model::{format_time, Event, EventType, Webhook, WebhookFormat, WebhookState};
use crate::service::App;
use crate::sns;
use crate::store::{Claim, DeliveryClaim, EventSlot, StoredEvent};

/// The events one delivery stored, in payload order, and the webhook's format (whose
/// sender may expect its own answer: Cloud Eye's lists the events).
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub events: Vec<Event>,
    pub format: WebhookFormat,
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

/// Accepts one webhook delivery. Answers only after every event is durably stored;
/// a redelivered change (same webhook, same identity, within the window) is not stored
/// again, and its delivery is answered like the original. A payload that takes longer
/// than the delivery budget is answered 503 once the writes under way end, so the
/// answer comes before API Gateway gives up and the sender's retry goes on from there.
/// A body over `MAX_BODY_BYTES`, and events past `MAX_EVENTS_PER_DELIVERY`, become an
/// ERROR event each (see `intake`). `action` is the URL's `?action=` (AOM's `clear`).
pub async fn create_events(
    app: &App,
    webhook_id: &str,
    access_key: &str,
    body: &[u8],
    idempotency_key: Option<&str>,
    action: Option<&str>,
) -> Result<Created> {
    let started = Instant::now();
    let webhook = authorize(app, webhook_id, access_key).await?;
    within_rate_limit(app, &webhook).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("The request body is empty; send the monitor's JSON payload."));
    }
    let now = Utc::now();
    let unreadable = |reason: String, kept: Value| {
        tracing::warn!(webhook_id, error = %reason, "payload not readable as {}; storing an ERROR event", webhook.format);
        vec![parse_error_event(&webhook, &reason, kept)]
    };
    let (mut parsed, confirmed) = if body.len() > app.config.max_body_bytes {
        (vec![intake::oversized_body(&webhook, body, app.config.max_body_bytes)], None)
    } else {
        match parse_body(body) {
            Ok(payload) => {
                let replay_window = chrono::Duration::hours(app.config.dedup_window_hours.into());
                let confirmed = check_sns(&webhook, &payload, replay_window).await?;
                match formats::parse_delivery(webhook.format, &payload, action) {
                    Ok(parsed) => (parsed, confirmed),
                    Err(e) => (unreadable(e.0, payload), confirmed),
                }
            }
            Err((reason, kept)) => (unreadable(reason, kept), None),
        }
    };
    if let Some(confirmed) = confirmed {
        parsed.iter_mut().for_each(|e| {
            e.additional_info.insert("subscription_confirmed".into(), Value::Bool(confirmed));
        });
    }
    let parsed = intake::capped(&webhook, parsed, app.config.max_events_per_delivery);
    let body_hash = sha256_hex(body);
    let changes = parsed
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let identity = match (&item.dedup_key, idempotency_key) {
                (Some(key), _) => Identity::Sender(format!("change:{key}")),
                (None, Some(key)) => Identity::Sender(format!("key:{key}#{index}")),
                (None, None) => Identity::Body(format!("body:{body_hash}#{index}")),
            };
            // The sender's own (AOM's timeout) or the webhook's; from the event's arrival.
            let auto_resolve_after = item
                .auto_resolve_after_ms
                .or(webhook.auto_resolve_after_seconds.map(|s| s.saturating_mul(1000) as i64));
            let auto_resolve_at =
                auto_resolve_after.map(|ms| format_time(now + chrono::Duration::milliseconds(ms)));
            Change { identity, event: normalise(&webhook, item, now), auto_resolve_at }
        })
        .collect();
    let events = fanout::store_all(app, changes, now, started).await?;
    Ok(Created { events, format: webhook.format })
}

/// What tells two deliveries of one change apart from two changes.
pub(super) enum Identity {
    /// The sender's own: a dedup key from the payload, or the `Idempotency-Key` header.
    Sender(String),
    /// Only the body's bytes, a guess: trusted within the body window, and only while the
    /// key's alert is as the stored body left it (a repeat incident sends the same bytes).
    Body(String),
}

/// How many repeat incidents of one byte-identical body a delivery walks past; each is
/// a state change of its key within the body window.
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
    identity: &Identity,
    mut event: Event,
    now: DateTime<Utc>,
    auto_resolve_at: Option<&str>,
    cut_off: Instant,
) -> Result<Option<Event>> {
    let Some(claim) = claim(app, identity, &event, now, cut_off).await? else {
        return Ok(None); // already stored by an earlier delivery
    };
    event.event_id = claim.event_id().to_string();
    let written = async {
        event.alert_id = linked_alert(app, &event, now, auto_resolve_at).await?;
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

/// The claim on one change, `None` when it is already stored. A body stored before is a
/// redelivery only while its key's alert is as that body left it; otherwise it is a
/// repeat incident, claimed as the next in the body's chain of incidents.
async fn claim(
    app: &App,
    identity: &Identity,
    event: &Event,
    now: DateTime<Utc>,
    cut_off: Instant,
) -> Result<Option<DeliveryClaim>> {
    let (mut name, window) = match identity {
        Identity::Sender(name) => (name.clone(), i64::from(app.config.dedup_window_hours) * 3600),
        Identity::Body(name) => (name.clone(), i64::from(app.config.body_dedup_window_minutes) * 60),
    };
    for _ in 0..MAX_REPEATS {
        match claim_change(app, &name, event, now, window, cut_off).await? {
            Claimed::Mine(claim) => return Ok(Some(claim)),
            Claimed::Stored(Some(stored)) if matches!(identity, Identity::Body(_)) => {
                if is_redelivery(app, &stored, event).await? {
                    return Ok(None);
                }
                name = format!("{name}@{}", stored.event_id);
            }
            Claimed::Stored(_) => return Ok(None),
        }
    }
    // A key that changed state this often within the window: the event is stored under
    // a name of its own. A resend of this very delivery may then be stored twice, which is
    // better than a 200 for an event that was never stored.
    tracing::warn!(webhook_id = %event.webhook_id, "the same body repeated {MAX_REPEATS} incidents within the body window; stored as a new one");
    let own = format!("{name}@{}", random_hex(8));
    Ok(match claim_change(app, &own, event, now, window, cut_off).await? {
        Claimed::Mine(claim) => Some(claim),
        Claimed::Stored(_) => None,
    })
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

/// Whether `event`, whose body is byte for byte the one `stored` was, is that body sent
/// again: its key's alert is still as the stored event left it (open as the alert it
/// joined; closed after a RECOVERY). An ALERT body seen after its alert was resolved is
/// a repeat incident unless it started before that resolution.
async fn is_redelivery(app: &App, stored: &StoredEvent, event: &Event) -> Result<bool> {
    let state = app.store.key_state(&alert_scope(event)).await?;
    if stored.event_type == EventType::Recovery.as_str() {
        return Ok(state.open.is_none());
    }
    Ok(match (state.open, state.resolved) {
        (Some(open), _) => open == stored.alert_id,
        (None, Some(resolution)) => {
            started_before(event, &resolution)
                && resolution.alert_id.as_deref() == Some(stored.alert_id.as_str())
        }
        (None, None) => false,
    })
}

/// For a webhook receiving SNS: verifies the message's signature (unless the webhook
/// turned that off) and confirms a subscription. `Some(confirmed)` for a subscription
/// confirmation, which is stored as an event either way.
async fn check_sns(
    webhook: &Webhook,
    payload: &Value,
    replay_window: chrono::Duration,
) -> Result<Option<bool>> {
    let sns = webhook.format == WebhookFormat::AwsSns
        || (webhook.format == WebhookFormat::Auto && formats::detect(payload) == WebhookFormat::AwsSns);
    if !sns {
        return Ok(None);
    }
    let enveloped = payload.get("Type").is_some() && payload.get("TopicArn").is_some();
    if !enveloped && !webhook.sns_policy.topic_arns.is_empty() {
        return Err(Error::PermissionDenied(
            "This webhook accepts chosen SNS topics only, and a raw message delivery does not say its \
             topic: turn raw delivery off on the subscription."
                .into(),
        ));
    }
    if webhook.verify_sns_signature {
        if !enveloped {
            return Err(Error::PermissionDenied(
                "This webhook verifies SNS signatures, and a raw message delivery carries none: turn raw \
                 delivery off on the subscription, or create the webhook with --no-verify-sns-signature."
                    .into(),
            ));
        }
        // A genuinely signed message sent again later is a replay: refuse what is older
        // than the redelivery window, which is what keeps a repeat from being stored twice.
        sns::check_policy(payload, &webhook.sns_policy, Utc::now() - replay_window)?;
        sns::verify(payload).await?;
    } else if enveloped {
        sns::check_policy(payload, &webhook.sns_policy, DateTime::<Utc>::MIN_UTC)?;
    }
    if payload.get("Type").and_then(Value::as_str) != Some("SubscriptionConfirmation") {
        return Ok(None);
    }
    let confirmed = sns::confirm(payload).await?;
    tracing::info!(webhook_id = %webhook.webhook_id, confirmed, "SNS subscription confirmation");
    Ok(Some(confirmed))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// Missing webhook → 404; wrong key → 403; disabled → 400. The key is checked before
/// the state, so a caller without the key learns nothing about the webhook.
/// The webhook, when `access_key` opens it. An unknown webhook and a wrong key are
/// answered alike, so a caller without the key learns nothing, not even that the
/// webhook exists.
async fn authorize(app: &App, webhook_id: &str, access_key: &str) -> Result<Webhook> {
    let webhook = app.store.get_webhook(webhook_id).await?;
    let Some(webhook) = webhook.filter(|w| access_key_matches(w, access_key, Utc::now())) else {
        return Err(Error::PermissionDenied(format!(
            "No webhook {webhook_id} accepts this access key; check the webhook URL or its key."
        )));
    };
    if webhook.state == WebhookState::Disabled {
        return Err(Error::WebhookDisabled(webhook_id.to_string()));
    }
    Ok(webhook)
}

/// Counts this delivery against the webhook's rate limit, if it has one.
async fn within_rate_limit(app: &App, webhook: &Webhook) -> Result<()> {
    let Some(per_minute) = webhook.max_deliveries_per_minute else { return Ok(()) };
    let now = Utc::now().timestamp();
    let minute_start = now - now.rem_euclid(60);
    if app.store.count_delivery(&webhook.webhook_id, minute_start, per_minute).await? {
        return Ok(());
    }
    let retry_after = u32::try_from(minute_start + 60 - now).unwrap_or(1).max(1);
    tracing::warn!(webhook_id = %webhook.webhook_id, per_minute, "webhook rate limit reached; answering 503");
    Err(Error::RateLimited { per_minute, retry_after })
}

/// The body as JSON; otherwise why not, and what of it an ERROR event keeps: the head of
/// its text and its size. A sender that posts something unreadable learns of it from
/// that event, not from a 400 it may drop on the floor.
fn parse_body(body: &[u8]) -> Result<Value, (String, Value)> {
    serde_json::from_slice(body).map_err(|e| {
        let hint =
            if e.to_string().contains("recursion limit") { " (it nests deeper than 128 levels)" } else { "" };
        let kept = serde_json::json!({"body": intake::body_head(body), "body_bytes": body.len()});
        (format!("The request body is not valid JSON{hint}: {e}"), kept)
    })
}

fn expires_at(retention_days: u32, now: DateTime<Utc>) -> Option<i64> {
    (retention_days > 0).then(|| now.timestamp() + i64::from(retention_days) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_json_say_so_and_keep_a_bounded_head() {
        let (reason, kept) = parse_body(b"<xml/>").unwrap_err();
        assert!(reason.contains("not valid JSON"), "{reason}");
        assert_eq!(kept, serde_json::json!({"body": "<xml/>", "body_bytes": 6}));
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_body(deep.as_bytes()).unwrap_err().0.contains("128 levels"));
        let long = "x".repeat(intake::BODY_HEAD_KEPT + 10);
        let (_, kept) = parse_body(long.as_bytes()).unwrap_err();
        assert_eq!(kept["body"].as_str().unwrap().len(), intake::BODY_HEAD_KEPT);
        assert_eq!(kept["body_bytes"], intake::BODY_HEAD_KEPT + 10);
    }

    #[test]
    fn retention_sets_expiry_only_when_configured() {
        let now = Utc::now();
        assert_eq!(expires_at(0, now), None);
        assert_eq!(expires_at(2, now), Some(now.timestamp() + 172_800));
    }
}
