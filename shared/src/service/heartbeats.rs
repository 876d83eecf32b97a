//! Heartbeats: a webhook that declares `heartbeat_seconds` says its sender delivers at
//! least that often (Alertmanager's always-firing Watchdog, say). Its deliveries move the
//! time the next one is due; the sweep opens an alert in the webhook's project when that
//! time passes ("No deliveries from <webhook> for N minutes", CRITICAL), and the next
//! delivery resolves it. Both are events of the key `heartbeat:<webhook_id>`, stored as
//! any delivery's are (claim, alert link, item), under identities named by the missed
//! due time, so a sweep or delivery run twice stores each once.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::change::{Change, Identity};
use super::fanout;
use super::normalise::normalise;
use crate::error::Result;
use crate::formats::ParsedEvent;
use crate::model::{format_time, parse_time, Webhook, WebhookState};
use crate::service::App;
use crate::store::Heartbeat;

/// Webhooks read per sweep round, and rounds per sweep.
const BATCH: i32 = 100;
const MAX_ROUNDS: usize = 10;

/// A delivery of `webhook`: moves its heartbeat on when it has one, but writes only when
/// a tenth of the interval has passed since the last write (or it was missed), so a busy
/// sender costs at most ten writes an interval. Answers the RECOVERY to store when the
/// heartbeat was missed.
pub(super) async fn on_delivery(
    app: &App,
    webhook: &Webhook,
    heartbeat: &Heartbeat,
    now: DateTime<Utc>,
) -> Result<Option<Change>> {
    let Some(seconds) = webhook.heartbeat_seconds else { return Ok(None) };
    let interval = Duration::seconds(seconds as i64);
    let due = now + interval;
    let slack = (interval / 10).max(Duration::seconds(1));
    let fresh = heartbeat.missed.is_none()
        && heartbeat.due.as_deref().and_then(parse_time).is_some_and(|at| at + slack > due);
    if fresh {
        return Ok(None);
    }
    let Some(missed) = app.store.beat(&webhook.webhook_id, &format_time(due)).await? else { return Ok(None) };
    let resumed = ParsedEvent {
        event_type: Some("RECOVERY".into()),
        title: Some(format!("Deliveries from {} resumed", webhook.name)),
        ..event(webhook, seconds)
    };
    let identity = Identity::Sender(format!("heartbeat-resumed:{missed}"));
    Ok(Some(Change::new(identity, normalise(webhook, resumed, now), None)))
}

/// Opens the alert of every webhook whose heartbeat is overdue at `now`; answers how many.
pub async fn sweep_heartbeats(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let mut missed = 0;
    for _ in 0..MAX_ROUNDS {
        let due = app.store.due_heartbeats(&format_time(now), BATCH).await?;
        for (webhook, at) in &due {
            // A delivery may have moved it since the index was read.
            // A disabled webhook takes no deliveries, so its silence says nothing: it
            // leaves the index without an alert (its first delivery once enabled again
            // moves it back).
            if !app.store.miss_heartbeat(&webhook.webhook_id, at).await?
                || webhook.state == WebhookState::Disabled
            {
                continue;
            }
            let seconds = webhook.heartbeat_seconds.unwrap_or_default();
            let alert = ParsedEvent { event_type: Some("ALERT".into()), ..event(webhook, seconds) };
            let identity = Identity::Sender(format!("heartbeat:{at}"));
            let change = Change::new(identity, normalise(webhook, alert, now), None);
            fanout::store_all(app, vec![change], now, Instant::now()).await?;
            tracing::warn!(webhook_id = %webhook.webhook_id, due = %at, "heartbeat missed; alert opened");
            missed += 1;
        }
        if due.len() < BATCH as usize {
            break;
        }
    }
    Ok(missed)
}

/// What both heartbeat events share: the key, the severity, the words.
fn event(webhook: &Webhook, seconds: u64) -> ParsedEvent {
    let silence = if seconds.is_multiple_of(60) {
        format!("{} minutes", seconds / 60)
    } else {
        format!("{seconds} seconds")
    };
    ParsedEvent {
        event_key: Some(format!("heartbeat:{}", webhook.webhook_id)),
        title: Some(format!("No deliveries from {} for {silence}", webhook.name)),
        description: Some(format!(
            "Webhook {} ({}) declares a heartbeat of {silence}, and nothing has arrived for that long.",
            webhook.name, webhook.webhook_id
        )),
        severity: Some("CRITICAL".into()),
        rule: Some("heartbeat".into()),
        provider: Some("event-service".into()),
        raw_data: serde_json::json!({"webhook_id": webhook.webhook_id, "heartbeat_seconds": seconds}),
        ..ParsedEvent::default()
    }
}
