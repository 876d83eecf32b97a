//! The reference model: per alert key, what the intended semantics (issue 18) say the
//! service holds after each acknowledged delivery. It knows nothing of DynamoDB; it
//! plans the body a move sends and, once the delivery got its 200, applies it.
//!
//! Auto-resolve times are known only within the span of the delivery that set them
//! (any attempt between the first send and the 200 may be the one that counted), so
//! each is kept as a window `[lo, hi]`. The driver never lets a read or a delivery fall
//! inside a window it depends on: it waits past `hi` first (`due`), or stops the case
//! as inconclusive.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::ops::{Op, Stamp, KEYS};

/// The AOM alarm's index among the keys.
pub const AOM: usize = KEYS;
/// The auto-resolving webhook's `auto_resolve_after_seconds`, and the AOM `timeout`.
pub const AUTO_RESOLVE: Duration = Duration::from_secs(2);
/// A sender time further ahead than this counts as the arrival time for lateness.
const SKEW: i64 = 5 * 60;
/// Past `hi` by this much, every read must say RESOLVED.
pub const EXPIRY_MARGIN: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Plain,
    Auto,
    Aom,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// The sender's time, if the body carries one.
    Alert(Option<DateTime<Utc>>),
    Recovery(Option<DateTime<Utc>>),
}

/// One delivery the model expects, and what it is to the service.
#[derive(Debug, Clone)]
pub struct Planned {
    pub key: usize,
    pub hook: Hook,
    pub body: String,
    /// AOM's `?action=clear`.
    pub clear: bool,
    /// Storing this change (`Some`), or a redelivery of the key's last change (`None`).
    pub fresh: Option<(String, Kind)>,
}

/// Which alert a stored event must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Alert(usize),
    Unlinked,
    /// A RECOVERY after its alert auto-resolved: the semantics do not say whether it is
    /// linked to that alert or stored unlinked, so either is accepted.
    UnlinkedOr(usize),
}

#[derive(Debug, Clone)]
pub struct Expected {
    pub tag: String,
    pub key: usize,
    pub link: Link,
}

#[derive(Debug, Clone)]
pub struct AlertRef {
    pub key: usize,
    pub open: bool,
    window: Option<(Instant, Instant)>,
}

#[derive(Debug, Clone, Default)]
struct KeyState {
    open: Option<usize>,
    /// The effective sender time of the key's last RECOVERY, when it carried one.
    recovered_at: Option<DateTime<Utc>>,
    /// The alert the key's last resolution concerns (a late ALERT links to it).
    resolved: Option<usize>,
    /// The alert that auto-resolved, while nothing else happened to the key.
    expired: Option<usize>,
    last: Option<(String, String, Kind)>,
    /// The last body's alert expired since: sending it again is a new occurrence.
    last_is_new: bool,
    /// Whether the last change was a RECOVERY that resolved an open alert.
    last_resolved_one: bool,
    /// The last untimed ALERT body and its tag, for a repeat incident.
    last_alert: Option<(String, String)>,
    /// The AOM alarm's last reported `starts_at` (ms).
    starts_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Reference {
    auto_keys: [bool; KEYS],
    keys: Vec<KeyState>,
    pub alerts: Vec<AlertRef>,
    pub expected: Vec<Expected>,
    counter: usize,
}

impl Reference {
    pub fn new(auto_keys: [bool; KEYS]) -> Reference {
        Reference {
            auto_keys,
            keys: vec![KeyState::default(); KEYS + 1],
            alerts: Vec::new(),
            expected: Vec::new(),
            counter: 0,
        }
    }

    pub fn hook(&self, key: usize) -> Hook {
        match key {
            AOM => Hook::Aom,
            k if self.auto_keys[k] => Hook::Auto,
            _ => Hook::Plain,
        }
    }

    /// The key a move delivers to; none for a pause.
    pub fn key_of(op: &Op) -> Option<usize> {
        match *op {
            Op::Alert { key, .. }
            | Op::Recovery { key, .. }
            | Op::LateAlert { key }
            | Op::Repeat { key }
            | Op::ExpireThenRepeat { key } => Some(key),
            Op::AomReport | Op::AomReReport | Op::AomClear => Some(AOM),
            Op::Pause => None,
        }
    }

    /// The concrete delivery of `op` (not a pause) in the current state.
    pub fn plan(&mut self, op: Op, now: DateTime<Utc>) -> Planned {
        let key = Self::key_of(&op).expect("a move that delivers");
        let state = &self.keys[key];
        match op {
            Op::Alert { reuse: true, .. } if state.open.is_none() && state.last_resolved_one => {
                match state.last_alert.clone() {
                    Some((body, tag)) => self.planned(key, body, false, Some((tag, Kind::Alert(None)))),
                    None => self.standard(key, "ALERT", None),
                }
            }
            Op::Alert { stamp, .. } => self.standard(key, "ALERT", stamped(stamp, now)),
            Op::Recovery { stamp, .. } => self.standard(key, "RECOVERY", stamped(stamp, now)),
            Op::LateAlert { .. } => {
                let at = state.recovered_at.map(|t| t - chrono::Duration::seconds(60)).unwrap_or(now);
                self.standard(key, "ALERT", Some(at))
            }
            Op::Repeat { .. } | Op::ExpireThenRepeat { .. } | Op::Pause => self.repeat(key, now),
            Op::AomReReport if state.open.is_some() => self.repeat(key, now),
            Op::AomReport | Op::AomReReport => {
                let starts_at = now.timestamp_millis().max(state.starts_at.map_or(0, |s| s + 1));
                self.keys[AOM].starts_at = Some(starts_at);
                let tag = format!("aom-report-{starts_at}");
                let body = aom_body(starts_at, &tag, Some(AUTO_RESOLVE.as_millis() as i64));
                let at = DateTime::from_timestamp_millis(starts_at);
                self.planned(AOM, body, false, Some((tag, Kind::Alert(at))))
            }
            Op::AomClear => {
                let starts_at = state.starts_at.unwrap_or(now.timestamp_millis());
                let tag = format!("aom-clear-{starts_at}");
                let body = aom_body(starts_at, &tag, None);
                let again =
                    state.last.as_ref().is_some_and(|(last, _, _)| *last == body) && !state.last_is_new;
                let at = DateTime::from_timestamp_millis(starts_at);
                self.planned(AOM, body, true, (!again).then_some((tag, Kind::Recovery(at))))
            }
        }
    }

    fn repeat(&mut self, key: usize, now: DateTime<Utc>) -> Planned {
        let state = &self.keys[key];
        match state.last.clone() {
            None if key == AOM => self.plan(Op::AomReport, now),
            None => self.standard(key, "ALERT", None),
            Some((body, tag, kind)) => {
                let fresh = state.last_is_new.then_some((tag, kind));
                let clear = key == AOM && matches!(kind, Kind::Recovery(_));
                self.planned(key, body, clear, fresh)
            }
        }
    }

    fn standard(&mut self, key: usize, event_type: &str, at: Option<DateTime<Utc>>) -> Planned {
        self.counter += 1;
        let tag = format!("k{key}-c{}", self.counter);
        let mut body = json!({"title": format!("model k{key}"), "event_key": format!("k{key}"),
            "event_type": event_type, "severity": "CRITICAL", "description": tag});
        if let Some(at) = at {
            body["occurred_at"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        let kind = if event_type == "ALERT" { Kind::Alert(at) } else { Kind::Recovery(at) };
        self.planned(key, body.to_string(), false, Some((tag, kind)))
    }

    fn planned(&self, key: usize, body: String, clear: bool, fresh: Option<(String, Kind)>) -> Planned {
        Planned { key, hook: self.hook(key), body, clear, fresh }
    }

    /// The model after `planned` was acknowledged; its delivery ran from `sent` to `acked`.
    pub fn apply(&mut self, planned: &Planned, sent: Instant, acked: Instant, arrival: DateTime<Utc>) {
        let key = planned.key;
        let window = (planned.hook != Hook::Plain).then(|| (sent + AUTO_RESOLVE, acked + AUTO_RESOLVE));
        let Some((tag, kind)) = planned.fresh.clone() else {
            // A redelivery stores nothing; on an open auto-resolving alert it refreshes.
            if let Some(r) = self.keys[key].open {
                if self.alerts[r].window.is_some() {
                    self.alerts[r].window = window;
                }
            }
            return;
        };
        let state = &mut self.keys[key];
        let expired = state.expired.take();
        let link = match kind {
            Kind::Alert(at) => match state.open {
                Some(r) => {
                    if window.is_some() {
                        self.alerts[r].window = window;
                    }
                    Link::Alert(r)
                }
                None if at.zip(state.recovered_at).is_some_and(|(at, recovered)| at < recovered) => {
                    let r = match state.resolved {
                        Some(r) => r,
                        None => {
                            self.alerts.push(AlertRef { key, open: false, window: None });
                            self.alerts.len() - 1
                        }
                    };
                    state.resolved = Some(r);
                    Link::Alert(r)
                }
                None => {
                    self.alerts.push(AlertRef { key, open: true, window });
                    state.open = Some(self.alerts.len() - 1);
                    Link::Alert(self.alerts.len() - 1)
                }
            },
            Kind::Recovery(at) => {
                let skewed = arrival + chrono::Duration::seconds(SKEW);
                state.recovered_at = at.map(|at| if at > skewed { arrival } else { at });
                match state.open.take() {
                    Some(r) => {
                        self.alerts[r].open = false;
                        self.alerts[r].window = None;
                        state.resolved = Some(r);
                        Link::Alert(r)
                    }
                    None => expired.map_or(Link::Unlinked, Link::UnlinkedOr),
                }
            }
        };
        let state = &mut self.keys[key];
        state.last_resolved_one = matches!((kind, link), (Kind::Recovery(_), Link::Alert(_)));
        if matches!(kind, Kind::Alert(None)) {
            state.last_alert = Some((planned.body.clone(), tag.clone()));
        }
        state.last = Some((planned.body.clone(), tag.clone(), kind));
        state.last_is_new = false;
        self.expected.push(Expected { tag, key, link });
    }

    /// When an open alert whose earliest expiry is before `before` is surely expired.
    pub fn due(&self, before: Instant) -> Option<Instant> {
        self.alerts
            .iter()
            .filter(|a| a.open)
            .filter_map(|a| a.window)
            .filter(|(lo, _)| *lo < before)
            .map(|(_, hi)| hi + EXPIRY_MARGIN)
            .max()
    }

    /// When `key`'s open alert is surely expired, if it resolves by itself.
    pub fn expiry_of(&self, key: usize) -> Option<Instant> {
        let r = self.keys[key].open?;
        self.alerts[r].window.map(|(_, hi)| hi + EXPIRY_MARGIN)
    }

    /// The earliest time `key`'s open alert may expire.
    pub fn earliest_expiry(&self, key: usize) -> Option<Instant> {
        let r = self.keys[key].open?;
        self.alerts[r].window.map(|(lo, _)| lo)
    }

    /// Whether some open alert may have expired by `at` (a read then is inconclusive).
    pub fn may_expire_by(&self, at: Instant) -> bool {
        self.alerts.iter().any(|a| a.open && a.window.is_some_and(|(lo, _)| lo <= at))
    }

    /// Every open alert surely past its auto-resolve time at `now` reads RESOLVED; the
    /// key remembers the expiry, with no sender time, and its last body sent again is
    /// a new occurrence.
    pub fn expire(&mut self, now: Instant) {
        for r in 0..self.alerts.len() {
            let alert = &mut self.alerts[r];
            if alert.open && alert.window.is_some_and(|(_, hi)| hi + EXPIRY_MARGIN <= now) {
                alert.open = false;
                alert.window = None;
                let state = &mut self.keys[alert.key];
                state.open = None;
                state.recovered_at = None;
                state.resolved = Some(r);
                state.expired = Some(r);
                state.last_is_new = true;
                state.last_resolved_one = false;
            }
        }
    }

    /// Each key's open alert, for messages.
    pub fn open_alerts(&self) -> Vec<(usize, Option<usize>)> {
        self.keys.iter().enumerate().map(|(k, s)| (k, s.open)).collect()
    }
}

fn stamped(stamp: Stamp, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match stamp {
        Stamp::None => None,
        Stamp::Now => Some(now),
        Stamp::Ahead => Some(now + chrono::Duration::minutes(10)),
    }
}

/// One AOM alarm, the documented report's metadata; `timeout` only on reports.
fn aom_body(starts_at: i64, tag: &str, timeout: Option<i64>) -> String {
    let fixture: Value = serde_json::from_str(&crate::fixture("aom/report-alarm.json")).expect("fixture");
    let mut event = fixture["events"][0].clone();
    event["starts_at"] = json!(starts_at);
    event["metadata"]["resource_id"] = json!("ecs-model");
    event["annotations"]["message"] = json!(tag);
    match timeout {
        Some(ms) => event["timeout"] = json!(ms),
        None => {
            event.as_object_mut().expect("an object").remove("timeout");
        }
    }
    json!({ "events": [event] }).to_string()
}

/// Names a key as messages do.
pub fn key_name(key: usize) -> String {
    if key == AOM {
        "aom alarm".into()
    } else {
        format!("k{key}")
    }
}
