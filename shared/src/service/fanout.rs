//! Stores one delivery's changes a few alert keys at a time. Each change costs about five
//! DynamoDB round trips, so one after another a group of a few thousand alerts cannot
//! finish before API Gateway's 29 s; side by side it can. Events of one alert key stay
//! in payload order (an ALERT and its RECOVERY in one payload must link in that order),
//! so each key's events are one sequence, and only sequences run side by side. A key's
//! first failure ends that key's sequence (a later event must not be linked before the
//! failed one), never another key's: the sender's retry finds the rest stored.
//!
//! A retry goes on where the last attempt stopped. A delivery of more changes than run
//! at once first reads which are stored already, in bulk (`Store::stored_changes`), and
//! runs the keys with something left to store first: otherwise a retry would re-check
//! the stored ones first, a claim and a read each, and with a slow store could spend
//! its whole budget there every time and never store the rest.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::change::{store_change, Change};
use crate::error::{Error, Result};
use crate::model::Event;
use crate::service::App;

/// How many alert keys are written at once: enough to store thousands of alerts within
/// the delivery budget (docs/benchmarks.md, "Big alert groups"), few enough that one
/// delivery does not take a table's whole burst capacity or the Lambda's connections.
const KEYS_AT_ONCE: usize = 16;

/// How long writes under way when the delivery budget ends may go on. A write cut off
/// gives its claim back; budget + this + the release stays inside API Gateway's 29 s.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(4);

/// How one key's sequence ended.
enum End {
    Done,
    OutOfTime,
    Failed(usize, Error),
}

/// What one key's sequence did: the events it stored (with their places in the
/// payload), how many of its changes it handled (stored, or found stored), how it ended.
struct Outcome {
    stored: Vec<(usize, Event)>,
    handled: usize,
    end: End,
}

/// Stores `changes` (in payload order) and answers the events this delivery stored, in
/// payload order. Past the delivery budget no change is started, and the answer is 503:
/// the sender's retry goes on where this one stopped.
pub(super) async fn store_all(
    app: &App,
    changes: Vec<Change>,
    now: DateTime<Utc>,
    started: Instant,
) -> Result<Vec<Event>> {
    let total = changes.len();
    let budget_end = started + app.config.delivery_budget();
    let mut changes = changes;
    if total > KEYS_AT_ONCE {
        find_stored(app, &mut changes, now).await;
    }
    let mut sequences = by_key(changes);
    // Stable: otherwise in payload order.
    sequences.sort_by_key(|sequence| sequence.iter().all(|(_, change)| change.stored_before.is_some()));
    // The first key alone, then KEYS_AT_ONCE at a time: a burst of redeliveries of a
    // small payload (a sender retrying, HA peers) then waits on its first change together,
    // instead of crowding the store that the one delivery storing it needs.
    let mut waiting = sequences.into_iter();
    let mut running = FuturesUnordered::new();
    running.extend(waiting.next().map(|sequence| store_sequence(app, sequence, now, budget_end)));
    let mut outcomes = Vec::new();
    while let Some(outcome) = running.next().await {
        outcomes.push(outcome);
        while running.len() < KEYS_AT_ONCE {
            let Some(sequence) = waiting.next() else { break };
            running.push(store_sequence(app, sequence, now, budget_end));
        }
    }
    let mut stored = Vec::with_capacity(total);
    let mut handled = 0;
    let mut failures = Vec::new();
    let mut out_of_time = false;
    for outcome in outcomes {
        stored.extend(outcome.stored);
        handled += outcome.handled;
        match outcome.end {
            End::Done => {}
            End::OutOfTime => out_of_time = true,
            End::Failed(index, err) => failures.push((index, err)),
        }
    }
    // The answer reports the failure that comes first in the payload; the log, every one.
    failures.sort_by_key(|(index, _)| *index);
    let mut failures = failures.into_iter();
    if let Some((_, first)) = failures.next() {
        for (index, err) in failures {
            tracing::warn!(index, code = err.code(), error = %err, "event not stored; the answer reports an earlier one");
        }
        return Err(first);
    }
    if out_of_time {
        return Err(Error::InProgress(format!(
            "Handled {handled} of the {total} events before this request's time ran out; retry to store the rest."
        )));
    }
    stored.sort_by_key(|(index, _)| *index);
    Ok(stored.into_iter().map(|(_, event)| event).collect())
}

/// Sets `stored_before` on the changes an earlier delivery stored. Only a hint of where
/// to start and a saving: should the read fail, each claim finds out for itself.
async fn find_stored(app: &App, changes: &mut [Change], now: DateTime<Utc>) {
    let Some(webhook_id) = changes.first().map(|c| c.event.webhook_id.clone()) else { return };
    let identities: Vec<&str> = changes.iter().map(|c| c.identity.name()).collect();
    let now_secs = now.timestamp().max(Utc::now().timestamp());
    let mut stored = match app.store.stored_changes(&webhook_id, &identities, now_secs).await {
        Ok(stored) => stored,
        Err(err) => {
            tracing::warn!(webhook_id, code = err.code(), error = %err, "could not read which changes are stored; claiming each");
            return;
        }
    };
    for change in changes.iter_mut().filter(|c| c.event.webhook_id == webhook_id) {
        // The first change of an identity only: a second one in the same payload is
        // judged against the first, as its claim would be.
        change.stored_before = stored.remove(change.identity.name());
    }
}

/// One key's changes, one after another, until the first failure or the budget's end.
async fn store_sequence(
    app: &App,
    sequence: Vec<(usize, Change)>,
    now: DateTime<Utc>,
    budget_end: Instant,
) -> Outcome {
    let mut outcome = Outcome { stored: Vec::new(), handled: 0, end: End::Done };
    for (index, change) in sequence {
        if Instant::now() >= budget_end {
            outcome.end = End::OutOfTime;
            break;
        }
        let cut_off = budget_end + IN_FLIGHT_GRACE;
        match store_change(app, change, now, cut_off).await {
            Ok(Some(event)) => outcome.stored.push((index, event)),
            Ok(None) => {}
            Err(err) => {
                outcome.end = End::Failed(index, err);
                break;
            }
        }
        outcome.handled += 1;
    }
    outcome
}

/// The changes as one sequence per alert key, each in payload order (with each change's
/// place in the payload), the sequences in the order their keys first appear.
fn by_key(changes: Vec<Change>) -> Vec<Vec<(usize, Change)>> {
    let mut sequences: Vec<Vec<(usize, Change)>> = Vec::new();
    let mut of_key: HashMap<String, usize> = HashMap::new();
    for (index, change) in changes.into_iter().enumerate() {
        let next = sequences.len();
        let at = *of_key.entry(change.event.event_key.clone()).or_insert(next);
        if at == next {
            sequences.push(Vec::new());
        }
        sequences[at].push((index, change));
    }
    sequences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventType, Resource, Severity};
    use crate::service::change::Identity;

    fn change(key: &str, title: &str) -> Change {
        let event = Event {
            event_id: String::new(),
            event_key: key.into(),
            event_type: EventType::Alert,
            title: title.into(),
            description: String::new(),
            severity: Severity::None,
            rule: String::new(),
            resource: Resource::default(),
            provider: String::new(),
            account: String::new(),
            image_url: String::new(),
            raw_data: serde_json::Value::Null,
            raw_data_missing: false,
            event_rules: None,
            additional_info: Default::default(),
            alert_id: String::new(),
            webhook_id: String::new(),
            project_id: String::new(),
            workspace_id: String::new(),
            domain_id: String::new(),
            created_at: String::new(),
            occurred_at: String::new(),
        };
        Change::new(Identity::Sender(title.into()), event, None)
    }

    #[test]
    fn each_key_is_one_sequence_in_payload_order() {
        let changes =
            vec![change("a", "1"), change("b", "2"), change("a", "3"), change("c", "4"), change("a", "5")];
        let sequences: Vec<Vec<(usize, String)>> = by_key(changes)
            .into_iter()
            .map(|s| s.into_iter().map(|(i, c)| (i, c.event.title)).collect())
            .collect();
        let expected: Vec<Vec<(usize, String)>> = vec![
            vec![(0, "1".into()), (2, "3".into()), (4, "5".into())],
            vec![(1, "2".into())],
            vec![(3, "4".into())],
        ];
        assert_eq!(sequences, expected);
    }
}
