//! create: webhook check, parse, normalise, the domain's event rules, then each change
//! claimed, linked to its alert and stored (`change`, a few alert keys at a time by `fanout`).

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::change::{Change, Identity};
use super::fanout;
use super::heartbeats;
use super::intake;
use super::normalise::{is_parse_error, normalise, parse_error_event};
use super::webhooks::{access_key_matches, signature_matches};
use crate::digest::{hex, sha256};
use crate::error::{Error, Result};
use crate::formats;
use crate::huawei::signature::{SignedRequest, MAX_CLOCK_SKEW_MINUTES};
use crate::model::{format_time, Event, EventType, Webhook, WebhookFormat, WebhookState};
use crate::service::App;
use crate::sns;
use crate::store::Heartbeat;

/// The events one delivery stored, in payload order, and the webhook's format (whose
/// sender may expect its own answer: Cloud Eye's lists the events).
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub events: Vec<Event>,
    pub format: WebhookFormat,
    /// Events of the payload found already stored (a redelivery's).
    pub duplicates: usize,
    /// ERROR events stored for what no format could read (the payload, or an event of it).
    pub parse_errors: usize,
}

/// One POST to a webhook's URL, as the create route received it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub credential: Credential<'a>,
    pub body: &'a [u8],
    /// The `Idempotency-Key` header: names the delivery's changes when the payload's
    /// format has no identity of its own.
    pub idempotency_key: Option<&'a str>,
    /// The URL's `?action=` (AOM's `clear`).
    pub action: Option<&'a str>,
    /// Sent with PUT, as AOM's push_events sends: only an `aom` webhook takes it.
    pub put: bool,
}

/// How a delivery proves it may use its webhook.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The webhook's id and access key, from its URL (or the key from the Authorization
    /// header).
    AccessKey { webhook_id: &'a str, access_key: &'a str },
    /// Huawei's own ingestion paths: the SDK's request signature, whose access key id
    /// is the webhook's id, the project the path names, which must be the webhook's,
    /// and the format the path speaks, which must be the webhook's too.
    Huawei { signed: &'a SignedRequest, project_id: &'a str, format: WebhookFormat },
}

/// Accepts one webhook delivery. Answers only after every event is durably stored;
/// a redelivered change (same webhook, same identity, within the window) is not stored
/// again, and its delivery is answered like the original. A payload that takes longer
/// than the delivery budget is answered 503 once the writes under way end, so the
/// answer comes before API Gateway gives up and the sender's retry goes on from there.
/// A body over `MAX_BODY_BYTES`, and events past `MAX_EVENTS_PER_DELIVERY`, become an
/// ERROR event each (see `intake`).
pub async fn create_events(app: &App, delivery: Delivery<'_>) -> Result<Created> {
    let started = Instant::now();
    let (webhook, heartbeat) = authorize(app, delivery.credential).await?;
    let outcome = accept(app, &webhook, &heartbeat, delivery, started).await;
    if webhook.count_requests {
        count_request(app, &webhook, &outcome).await;
    }
    outcome
}

/// Counts an authorized delivery in its webhook's `requests`, as an error when it was
/// refused or failed or stored an ERROR event (a payload not readable as its format).
/// A count that fails is logged, and the answer stays the delivery's own: its events
/// are stored, and a retry would store nothing new but count again.
async fn count_request(app: &App, webhook: &Webhook, outcome: &Result<Created>) {
    let failed = match outcome {
        Ok(created) => created.events.iter().any(|e| e.event_type == EventType::Error),
        Err(_) => true,
    };
    if let Err(e) = app.store.count_request(&webhook.webhook_id, failed).await {
        tracing::warn!(webhook_id = %webhook.webhook_id, code = e.code(), error = %e, "delivery not counted");
    }
}

/// The delivery of an authorized, enabled webhook.
async fn accept(
    app: &App,
    webhook: &Webhook,
    heartbeat: &Heartbeat,
    delivery: Delivery<'_>,
    started: Instant,
) -> Result<Created> {
    let Delivery { body, idempotency_key, action, put, .. } = delivery;
    let webhook_id = webhook.webhook_id.as_str();
    if put && webhook.format != WebhookFormat::Aom {
        return Err(Error::MethodNotAllowed {
            message: format!(
                "A {} webhook takes POST, not PUT (only an aom webhook takes PUT).",
                webhook.format
            ),
            allow: "POST".into(),
        });
    }
    within_rate_limit(app, webhook).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("The request body is empty; send the monitor's JSON payload."));
    }
    let now = Utc::now();
    // Any delivery the webhook stores counts for its heartbeat, a redelivery included; a
    // missed heartbeat's RECOVERY is stored with the delivery's events. The beat answers
    // "missed" once: should storing fail, the heartbeat alert stays open until the next
    // missed heartbeat's RECOVERY (docs/data-model.md, heartbeats).
    let resumed = heartbeats::on_delivery(app, webhook, heartbeat, now).await?;
    let unreadable = |reason: String, kept: Value| {
        tracing::warn!(webhook_id, error = %reason, "payload not readable as {}; storing an ERROR event", webhook.format);
        vec![parse_error_event(webhook, &reason, kept)]
    };
    let (mut parsed, confirmed) = if body.len() > app.config.max_body_bytes {
        (vec![intake::oversized_body(webhook, body, app.config.max_body_bytes)], None)
    } else {
        match parse_body(body) {
            Ok(payload) => {
                let replay_window = chrono::Duration::hours(app.config.dedup_window_hours.into());
                let confirmed = check_sns(webhook, &payload, replay_window).await?;
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
    let parsed = intake::capped(webhook, parsed, app.config.max_events_per_delivery);
    // Read once per delivery, and mostly from this instance's cache: no read per event.
    let rules = app.store.rules_for_delivery(&webhook.domain_id, app.config.rules_cache()).await?;
    let body_hash = sha256_hex(body);
    let changes: Vec<Change> = resumed
        .into_iter()
        .chain(parsed.into_iter().enumerate().map(|(index, item)| {
            let identity = match (&item.dedup_key, idempotency_key) {
                (Some(key), _) => Identity::Sender(format!("change:{key}")),
                // With the body's hash: a sender that sends one key with every delivery
                // must not have each later delivery taken for the first.
                (None, Some(key)) => Identity::Sender(format!("key:{key}:{body_hash}#{index}")),
                (None, None) => Identity::Body(format!("body:{body_hash}#{index}")),
            };
            // The sender's own (AOM's timeout) or the webhook's; from the event's arrival.
            let auto_resolve_after = item
                .auto_resolve_after_ms
                .or(webhook.auto_resolve_after_seconds.map(|s| s.saturating_mul(1000) as i64));
            let auto_resolve_at =
                auto_resolve_after.map(|ms| format_time(now + chrono::Duration::milliseconds(ms)));
            // The identity above is the payload's, taken before any rule runs: a rule
            // edited between a delivery and its redelivery cannot make them two changes.
            let mut event = normalise(webhook, item, now);
            rules.apply(&mut event);
            Change::new(identity, event, auto_resolve_at)
        }))
        .collect();
    let total = changes.len();
    let events = fanout::store_all(app, changes, now, started).await?;
    let parse_errors = events.iter().filter(|e| is_parse_error(webhook, e)).count();
    Ok(Created {
        duplicates: total.saturating_sub(events.len()),
        parse_errors,
        events,
        format: webhook.format,
    })
}

/// The webhook a Huawei SDK's signed call names (its access key id), once its signature
/// checks with the webhook's secret key, its date is fresh, and the path's project and
/// format are the webhook's.
async fn signed_webhook(
    app: &App,
    signed: &SignedRequest,
    project_id: &str,
    format: WebhookFormat,
    now: DateTime<Utc>,
) -> Result<(Webhook, Heartbeat)> {
    let Some(secret) = &app.config.huawei_signing_secret else {
        return Err(Error::PermissionDenied(
            "Huawei's ingestion paths are off in this deployment (no HUAWEI_SIGNING_SECRET); \
             post to the webhook's URL instead."
                .into(),
        ));
    };
    if !signed.fresh(now) {
        return Err(Error::Unauthenticated(format!(
            "The request was signed at {}, more than {MAX_CLOCK_SKEW_MINUTES} minutes from this \
             service's clock; set the sender's clock right.",
            format_time(signed.signed_at)
        )));
    }
    let id = &signed.access_key_id;
    let found = app.store.webhook_for_delivery(id).await?;
    let Some((webhook, heartbeat)) = found.filter(|(w, _)| signature_matches(w, signed, secret, now)) else {
        return Err(Error::Unauthenticated(format!(
            "No webhook {id} accepts this signature; sign with the ak and sk that the webhook's \
             create or rotate-key answered (huawei_credentials)."
        )));
    };
    if webhook.project_id != project_id {
        return Err(Error::PermissionDenied(format!(
            "Webhook {id} belongs to project {}, not {project_id}; use its project id.",
            webhook.project_id
        )));
    }
    if webhook.format != format {
        return Err(Error::invalid(format!(
            "Webhook {id} takes {} payloads; this path takes {format} ones: post to a {format} webhook.",
            webhook.format
        )));
    }
    Ok((webhook, heartbeat))
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

/// The webhook, when `access_key` opens it. An unknown webhook and a wrong key are
/// answered alike, so a caller without the key learns nothing, not even that the
/// webhook exists (403 both); a disabled webhook is a 400, told only to a caller with
/// the key.
async fn authorize(app: &App, credential: Credential<'_>) -> Result<(Webhook, Heartbeat)> {
    let now = Utc::now();
    let (webhook, heartbeat) = match credential {
        Credential::AccessKey { webhook_id, access_key } => {
            let found = app.store.webhook_for_delivery(webhook_id).await?;
            found.filter(|(w, _)| access_key_matches(w, access_key, now)).ok_or_else(|| {
                Error::PermissionDenied(format!(
                    "No webhook {webhook_id} accepts this access key; check the webhook URL or its key."
                ))
            })?
        }
        Credential::Huawei { signed, project_id, format } => {
            signed_webhook(app, signed, project_id, format, now).await?
        }
    };
    if webhook.state == WebhookState::Disabled {
        return Err(Error::WebhookDisabled(webhook.webhook_id.clone()));
    }
    Ok((webhook, heartbeat))
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
}
