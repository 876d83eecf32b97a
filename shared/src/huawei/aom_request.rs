//! AOM's "Querying Events and Alarms" request: the body (`time_range`, `step`,
//! `search`, `sort`, `metadata_relation`) and the query string (`type`, and
//! `limit`/`marker` for paging, as AOM's later event APIs page), checked.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What the request lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// No `type`, or any other value: every event.
    Events,
    /// `active_alert`: open alerts.
    ActiveAlarms,
    /// `history_alert`: resolved alerts.
    HistoryAlarms,
}

/// `metadata_relation[]`'s relation: how one key's values combine with the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The key's value is one of `value`, and every other AND holds.
    And,
    /// The key's value is one of `value`, or another OR holds.
    Or,
    /// The key's value is none of `value`.
    Not,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetadataRelation {
    pub key: String,
    pub values: Vec<String>,
    pub relation: Relation,
}

/// One AOM query, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AomQuery {
    pub project_id: String,
    pub listing: Listing,
    /// Unix milliseconds, inclusive, resolved against the server's clock.
    pub start_ms: i64,
    pub end_ms: i64,
    pub search: Option<String>,
    pub order_by: Vec<String>,
    pub descending: bool,
    pub relations: Vec<MetadataRelation>,
    pub offset: usize,
    pub limit: usize,
    pub domain_id: Option<String>,
}

const BODY_KEYS: [&str; 5] = ["time_range", "step", "search", "sort", "metadata_relation"];
const PARAMETERS: [&str; 4] = ["type", "limit", "marker", "domain_id"];
/// The page size when `limit` is not given, and the largest one.
pub const MAX_LIMIT: usize = 1000;
/// AOM's constraint: `durationInMinutes × 60 / period ≤ 1440`.
const MAX_POINTS: i64 = 1440;

impl AomQuery {
    pub fn parse<'a>(
        project_id: String,
        body: &Map<String, Value>,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: DateTime<Utc>,
    ) -> Result<AomQuery> {
        if let Some(key) = body.keys().find(|k| !BODY_KEYS.contains(&k.as_str())) {
            return Err(Error::invalid(format!(
                "Unknown body key '{key}'; allowed: {}.",
                BODY_KEYS.join(", ")
            )));
        }
        let step = match body.get("step") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| Error::invalid("'step' must be a positive number of milliseconds."))?,
            ),
        };
        let (start_ms, end_ms) = match body.get("time_range") {
            Some(Value::String(text)) => time_range(text, step, now.timestamp_millis())?,
            None | Some(Value::Null) => return Err(Error::RequiredParameter("time_range".into())),
            Some(_) => return Err(Error::invalid("'time_range' must be text: start.end.minutes")),
        };
        let search = match body.get("search") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => (!s.is_empty()).then(|| s.clone()),
            Some(_) => return Err(Error::invalid("'search' must be text.")),
        };
        let (order_by, descending) = sort(body.get("sort"))?;
        let mut query = AomQuery {
            project_id,
            listing: Listing::Events,
            start_ms,
            end_ms,
            search,
            order_by,
            descending,
            relations: relations(body.get("metadata_relation"))?,
            offset: 0,
            limit: MAX_LIMIT,
            domain_id: None,
        };
        for (name, value) in params {
            let count = |min: usize, max: usize| {
                value.parse().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
                    Error::invalid(format!("'{name}' must be an integer from {min} to {max}, not '{value}'."))
                })
            };
            match name {
                "type" => {
                    query.listing = match value {
                        "active_alert" => Listing::ActiveAlarms,
                        "history_alert" => Listing::HistoryAlarms,
                        _ => Listing::Events,
                    }
                }
                "limit" => query.limit = count(1, MAX_LIMIT)?,
                // The marker is the position the previous page ended at.
                "marker" => query.offset = count(0, usize::MAX)?,
                "domain_id" => query.domain_id = (!value.is_empty()).then(|| value.to_string()),
                other => {
                    return Err(Error::invalid(format!(
                        "Unknown parameter '{other}'; allowed: {}.",
                        PARAMETERS.join(", ")
                    )))
                }
            }
        }
        Ok(query)
    }
}

/// `start.end.minutes` as inclusive millisecond bounds, with AOM's rules: `-1` for the
/// start is `end - minutes`; `-1` for the end is `start + minutes`, no later than now;
/// both `-1` are the last `minutes` to now; `minutes` must be positive, at least
/// `(end - start) / 60000 - 1`, and with `step`, `minutes × 60 / (step / 1000) ≤ 1440`.
pub fn time_range(text: &str, step: Option<i64>, now_ms: i64) -> Result<(i64, i64)> {
    let wrong = |why: &str| Error::invalid(format!("time_range '{text}': {why}"));
    let parts: Vec<&str> = text.split('.').collect();
    let [start, end, minutes] = parts[..] else {
        return Err(wrong("must be startTimeInMillis.endTimeInMillis.durationInMinutes"));
    };
    let number =
        |part: &str| part.trim().parse::<i64>().map_err(|_| wrong(&format!("'{part}' is no integer")));
    let (start, end, minutes) = (number(start)?, number(end)?, number(minutes)?);
    if minutes <= 0 {
        return Err(wrong("durationInMinutes must be greater than 0"));
    }
    let span = minutes.checked_mul(60_000).ok_or_else(|| wrong("durationInMinutes is too large"))?;
    let bound = |t: i64| match t {
        -1 => Ok(None),
        t if t >= 0 => Ok(Some(t)),
        _ => Err(wrong("a time is -1 or milliseconds since 1970")),
    };
    let (start, end) = match (bound(start)?, bound(end)?) {
        (None, None) => (now_ms.saturating_sub(span), now_ms),
        (None, Some(end)) => (end.saturating_sub(span), end),
        (Some(start), None) => (start, start.saturating_add(span).min(now_ms)),
        (Some(start), Some(end)) => {
            if end < start {
                return Err(wrong("the end is before the start"));
            }
            if minutes < (end - start) / 60_000 - 1 {
                return Err(wrong("durationInMinutes must be at least (end - start) / 60000 - 1"));
            }
            (start, end)
        }
    };
    if let Some(step) = step {
        if minutes.saturating_mul(60_000) > MAX_POINTS.saturating_mul(step) {
            return Err(wrong(&format!(
                "durationInMinutes × 60 / (step / 1000) must be at most {MAX_POINTS}"
            )));
        }
    }
    Ok((start.min(end), end))
}

/// `sort {order_by[], order}`: by `starts_at`, newest first, unless it says otherwise.
fn sort(raw: Option<&Value>) -> Result<(Vec<String>, bool)> {
    let object = match raw {
        None | Some(Value::Null) => return Ok((Vec::new(), true)),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(Error::invalid("'sort' must be an object {order_by, order}.")),
    };
    if let Some(key) = object.keys().find(|k| !["order_by", "order"].contains(&k.as_str())) {
        return Err(Error::invalid(format!("Unknown sort key '{key}'; allowed: order_by, order.")));
    }
    let order_by = strings(object.get("order_by"), "sort.order_by")?;
    let descending = match object.get("order") {
        None | Some(Value::Null) => true,
        Some(Value::String(o)) if o == "desc" => true,
        Some(Value::String(o)) if o == "asc" => false,
        Some(_) => return Err(Error::invalid("'sort.order' must be asc or desc.")),
    };
    Ok((order_by, descending))
}

fn relations(raw: Option<&Value>) -> Result<Vec<MetadataRelation>> {
    let items = match raw {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Error::invalid("'metadata_relation' must be a list of {key, value, relation}."))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("metadata_relation[{i}]");
            let object = item.as_object().ok_or_else(|| Error::invalid(format!("{at} must be an object")))?;
            if let Some(key) = object.keys().find(|k| !["key", "value", "relation"].contains(&k.as_str())) {
                return Err(Error::invalid(format!(
                    "{at}: unknown key '{key}'; allowed: key, value, relation"
                )));
            }
            let key = match object.get("key") {
                Some(Value::String(key)) => key.clone(),
                _ => return Err(Error::invalid(format!("{at}.key must be text"))),
            };
            let relation = match object.get("relation") {
                None | Some(Value::Null) => Relation::And,
                Some(Value::String(r)) if r == "AND" => Relation::And,
                Some(Value::String(r)) if r == "OR" => Relation::Or,
                Some(Value::String(r)) if r == "NOT" => Relation::Not,
                Some(_) => return Err(Error::invalid(format!("{at}.relation must be AND, OR or NOT"))),
            };
            Ok(MetadataRelation {
                key,
                values: strings(object.get("value"), &format!("{at}.value"))?,
                relation,
            })
        })
        .collect()
}

fn strings(raw: Option<&Value>, at: &str) -> Result<Vec<String>> {
    let wrong = || Error::invalid(format!("'{at}' must be a list of strings."));
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(wrong)).collect()
        }
        Some(_) => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_650_852_600_000;

    #[test]
    fn time_ranges_resolve_minus_one_as_the_seed_explains() {
        let range = |text| time_range(text, None, NOW);
        assert_eq!(range("-1.-1.60").unwrap(), (NOW - 3_600_000, NOW));
        assert_eq!(range("-1.1650852300000.5").unwrap(), (1650852000000, 1650852300000));
        assert_eq!(range("1650852000000.-1.5").unwrap(), (1650852000000, 1650852300000));
        assert_eq!(range("1650852000000.-1.60").unwrap(), (1650852000000, NOW), "never past now");
        assert_eq!(range("1650852000000.1650852300000.5").unwrap(), (1650852000000, 1650852300000));
        for bad in ["-1.-1.0", "-1.-1", "a.b.c", "1650852300000.1650852000000.5", "0.6000000.60", "-2.-1.5"] {
            assert_eq!(range(bad).unwrap_err().status(), 400, "{bad}");
        }
        assert!(time_range("-1.-1.1440", Some(60_000), NOW).is_ok());
        assert!(time_range("-1.-1.1441", Some(60_000), NOW).is_err());
    }

    #[test]
    fn the_seed_request_parses_and_the_query_string_picks_the_listing() {
        let body = json!({
            "time_range": "-1.-1.30",
            "metadata_relation": [{"key": "event_type", "relation": "AND", "value": ["alarm"]},
                                  {"key": "event_severity", "relation": "AND",
                                   "value": ["Critical", "Major", "Minor", "Info"]}],
            "search": "",
            "sort": {"order_by": ["starts_at"], "order": "desc"}
        });
        let body = body.as_object().unwrap();
        let now = DateTime::from_timestamp_millis(NOW).unwrap();
        let parse = |params: &[(&str, &str)]| AomQuery::parse("p".into(), body, params.iter().copied(), now);
        let query = parse(&[]).unwrap();
        assert_eq!((query.listing, query.start_ms, query.end_ms), (Listing::Events, NOW - 1_800_000, NOW));
        assert_eq!(query.relations[1].values.len(), 4);
        assert_eq!((query.search.clone(), query.descending), (None, true));
        assert_eq!(parse(&[("type", "active_alert")]).unwrap().listing, Listing::ActiveAlarms);
        assert_eq!(parse(&[("type", "history_alert")]).unwrap().listing, Listing::HistoryAlarms);
        assert_eq!(parse(&[("type", "anything")]).unwrap().listing, Listing::Events);
        let paged = parse(&[("limit", "2"), ("marker", "4")]).unwrap();
        assert_eq!((paged.limit, paged.offset), (2, 4));
        for bad in [("limit", "0"), ("limit", "1001"), ("marker", "x"), ("page", "1")] {
            assert_eq!(parse(&[bad]).unwrap_err().status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let now = Utc::now();
        let parse = |body: Value| AomQuery::parse("p".into(), body.as_object().unwrap(), [], now);
        assert_eq!(parse(json!({})).unwrap_err().status(), 400);
        for body in [
            json!({"time_range": 5}),
            json!({"time_range": "-1.-1.5", "step": 0}),
            json!({"time_range": "-1.-1.5", "sort": {"order": "up"}}),
            json!({"time_range": "-1.-1.5", "metadata_relation": [{"key": "k", "relation": "XOR"}]}),
            json!({"time_range": "-1.-1.5", "metadata_relation": [{"key": "k", "value": [1]}]}),
            json!({"time_range": "-1.-1.5", "limit": 5}),
        ] {
            assert_eq!(parse(body.clone()).unwrap_err().status(), 400, "{body}");
        }
    }
}
