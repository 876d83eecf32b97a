//! The sweep: alerts past their auto-resolve time read as RESOLVED at once (see
//! `Alert::as_of`); this writes that down, so the alert leaves the open alarms' index and
//! its key marker. Scheduled in AWS (template.yaml's `SweepFunction`) and on a timer in
//! `eventctl serve`.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::service::App;
use crate::store::AlertScope;

use super::alert_link::write_down_expiry;

/// How far back the sweep looks for expiry hours: a sweep that was down longer leaves
/// the older ones as they are (they still read as RESOLVED, and the next event of their
/// key writes them down).
pub const LOOKBACK_HOURS: i64 = 48;
/// Alerts resolved per read of the expiry index.
const BATCH: usize = 500;
/// Reads per sweep: a sweep is bounded even if some alert will not resolve.
const MAX_ROUNDS: usize = 20;

/// Resolves every alert whose auto-resolve time is `now` or earlier, at that time;
/// answers how many (an alert refreshed since the index was read is left open).
pub async fn sweep_expired_alerts(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let store = &app.store;
    // The key remembers the expiry for the redelivery window, as it remembers a RECOVERY.
    let remember_until = now.timestamp() + i64::from(app.config.dedup_window_hours) * 3600;
    let mut resolved = 0;
    for _ in 0..MAX_ROUNDS {
        let expired = store.expired_alerts(now, LOOKBACK_HOURS, BATCH).await?;
        for alert in &expired {
            // The index is read eventually consistent, and a join may have moved the
            // time since: the write is conditional on the time read.
            let scope = AlertScope::of(alert);
            if write_down_expiry(app, &scope, &alert.alert_id, &alert.auto_resolve_at, remember_until).await?
            {
                resolved += 1;
            }
        }
        if expired.len() < BATCH {
            break;
        }
    }
    if resolved > 0 {
        tracing::info!(resolved, "expired alerts resolved");
    }
    Ok(resolved)
}
