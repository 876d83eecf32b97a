//! What the service answers against what the model holds: every acknowledged change
//! stored exactly once, events of one incident under one alert_id and different
//! incidents under different ones, unlinked RECOVERYs with alert_id "", and AOM's
//! active and history alarms exactly the model's open and resolved alerts.

use std::collections::{BTreeMap, BTreeSet};

use super::reference::{key_name, Link, Reference};

/// A stored event as the comparison needs it: the change's tag (its description) and
/// the alert it names, in creation order.
#[derive(Debug, Clone)]
pub struct Seen {
    pub tag: String,
    pub alert_id: String,
}

/// Every way the service differs from the model; empty when they agree.
/// `unnamed_resolved_allowed`: a resolved alert named by no event is not a divergence
/// (a refused delivery may have opened it, and it expired before the retry).
pub fn divergences(
    model: &Reference,
    seen: &[Seen],
    active: &BTreeSet<String>,
    history: &BTreeSet<String>,
    unnamed_resolved_allowed: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut expected: BTreeMap<&str, Vec<Link>> = BTreeMap::new();
    for e in &model.expected {
        expected.entry(e.tag.as_str()).or_default().push(e.link);
    }
    let mut stored: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in seen {
        stored.entry(s.tag.as_str()).or_default().push(s.alert_id.as_str());
    }
    for (tag, ids) in &stored {
        if !expected.contains_key(tag) {
            out.push(format!("{tag}: stored {} time(s), the model stored it never", ids.len()));
        }
    }

    // Each model alert's id, from the events that must name it.
    let mut ids: BTreeMap<usize, &str> = BTreeMap::new();
    let mut either: Vec<(&str, usize, &str)> = Vec::new();
    for (tag, links) in &expected {
        let got = stored.get(tag).cloned().unwrap_or_default();
        if got.len() != links.len() {
            out.push(format!("{tag}: stored {} time(s), expected {}", got.len(), links.len()));
            continue;
        }
        for (link, id) in links.iter().zip(got) {
            match *link {
                Link::Unlinked if !id.is_empty() => {
                    out.push(format!("{tag}: a RECOVERY with nothing open names alert {id}, expected none"))
                }
                Link::Unlinked => {}
                Link::UnlinkedOr(r) => either.push((tag, r, id)),
                Link::Alert(_) if id.is_empty() => out.push(format!("{tag}: names no alert, expected one")),
                Link::Alert(r) => match ids.get(&r) {
                    Some(known) if *known != id => {
                        out.push(format!("{tag}: names {id}, but its incident's other events name {known}"))
                    }
                    Some(_) => {}
                    None => {
                        ids.insert(r, id);
                    }
                },
            }
        }
    }
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for (r, id) in &ids {
        if let Some(other) = owners.insert(id, *r) {
            let keys = (key_name(model.alerts[other].key), key_name(model.alerts[*r].key));
            out.push(format!("{id} holds two incidents (of {} and {})", keys.0, keys.1));
        }
    }
    for (tag, r, id) in either {
        if !id.is_empty() && ids.get(&r) != Some(&id) {
            out.push(format!("{tag}: names {id}, neither none nor the alert that auto-resolved"));
        }
    }

    let named: BTreeSet<&str> = seen.iter().map(|s| s.alert_id.as_str()).collect();
    let name = |id: &str| match owners.get(id) {
        Some(r) => format!("{id} ({})", key_name(model.alerts[*r].key)),
        None if named.contains(id) => format!("{id} (named only by events stored a wrong number of times)"),
        None => format!("{id} (named by no event)"),
    };
    for (listing, got, open) in [("active_alert", active, true), ("history_alert", history, false)] {
        let want: BTreeSet<&str> =
            ids.iter().filter(|(r, _)| model.alerts[**r].open == open).map(|(_, id)| *id).collect();
        for id in want.iter().filter(|id| !got.contains(**id)) {
            out.push(format!("AOM {listing} does not list {}", name(id)));
        }
        for id in got.iter().filter(|id| !want.contains(id.as_str())) {
            let unnamed = !owners.contains_key(id.as_str()) && !named.contains(id.as_str());
            if !open && unnamed && unnamed_resolved_allowed {
                continue;
            }
            out.push(format!("AOM {listing} lists {}, which the model holds {}", name(id), other(open)));
        }
    }
    out
}

fn other(open: bool) -> &'static str {
    if open {
        "resolved (or does not have)"
    } else {
        "open (or does not have)"
    }
}
