//! Query (spaceone.api.core.v1.Query): filter, filter_or, keyword, sort, page, only,
//! minimal, count_only; and what of it a store can evaluate itself.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::Value;

use super::collect::{ListCollector, ListPage, Shape};
use super::condition::{describe, Condition};
use super::limits::{check_patterns, compile_regex};
use super::parse::{self, Page};
use super::pushdown::{pushdown, Pushdown};
use super::sort::{parse_sort, SortKey};
use crate::error::{Error, Result};

/// The fields `keyword` searches, as the reference's event service names them.
const KEYWORD_FIELDS: [&str; 2] = ["event_id", "title"];

const RAW_DATA: &str = "raw_data";

const QUERY_KEYS: [&str; 9] =
    ["filter", "filter_or", "sort", "page", "only", "keyword", "count_only", "minimal", "unwind"];

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub(super) filter: Vec<Condition>,
    pub(super) filter_or: Vec<Condition>,
    pub(super) keyword: Option<Keyword>,
    /// Empty means the default order, created_at descending.
    sort: Vec<SortKey>,
    page: Page,
    shape: Shape,
    count_only: bool,
}

/// `keyword` as python-core reads it: words split at spaces, any of them found (case
/// ignored) in any keyword field. One regex of all the words, compiled once.
#[derive(Debug, Clone)]
pub(super) struct Keyword(Regex);

impl Keyword {
    pub(super) fn parse(raw: Option<&Value>, at: &str) -> Result<Option<Keyword>> {
        let text = match raw {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) => text,
            Some(other) => {
                return Err(Error::invalid(format!("{at}: must be text, not {}", describe(other))))
            }
        };
        let words: Vec<String> = text.split_whitespace().map(regex::escape).collect();
        if words.is_empty() {
            return Ok(None);
        }
        compile_regex(&words.join("|"))
            .map(|re| Some(Keyword(re)))
            .map_err(|e| Error::invalid(format!("{at}: too long to search for ({e})")))
    }

    fn matches(&self, event: &Value) -> bool {
        KEYWORD_FIELDS
            .iter()
            .any(|k| event.get(k).and_then(Value::as_str).is_some_and(|t| self.0.is_match(t)))
    }
}

impl Query {
    /// Parses a Query object; `null` (or a missing query) and `{}` are the empty query.
    pub fn from_json(value: &Value) -> Result<Query> {
        let object = match value {
            Value::Null => return Ok(Query::default()),
            Value::Object(map) => map,
            other => {
                return Err(Error::invalid(format!(
                    "query: must be an object (a SpaceONE Query), not {}",
                    describe(other)
                )))
            }
        };
        parse::reject_unknown(object, &QUERY_KEYS, "query")?;
        check_patterns(value)?;
        if object.get("unwind").is_some_and(|u| !u.is_null()) {
            return Err(Error::invalid("query.unwind is not supported for events."));
        }
        Ok(Query {
            filter: parse::conditions(object.get("filter"), "filter")?,
            filter_or: parse::conditions(object.get("filter_or"), "filter_or")?,
            keyword: Keyword::parse(object.get("keyword"), "query.keyword")?,
            sort: parse_sort(object.get("sort"), "query.sort")?,
            page: parse::page(object.get("page"), "query.page")?,
            shape: Shape {
                only: parse::names(object.get("only"), "query.only")?,
                minimal: parse::flag(object.get("minimal"), "query.minimal")?,
            },
            count_only: parse::flag(object.get("count_only"), "query.count_only")?,
        })
    }

    /// A query that only selects (no sort, page or shape): StatisticsQuery's filter part.
    pub(super) fn matching(
        filter: Vec<Condition>,
        filter_or: Vec<Condition>,
        keyword: Option<Keyword>,
    ) -> Query {
        Query { filter, filter_or, keyword, ..Query::default() }
    }

    /// Adds one of EventQuery's top-level fields (`severity`, `alert_id`, and
    /// `resource.resource_id` for `resource_id`) as an `eq` condition, exact as every
    /// `eq` is: `severity=critical` finds no CRITICAL event.
    pub fn add_exact(&mut self, key: &str, value: &str) {
        self.filter.push(Condition::eq(key, value));
    }

    pub fn count_only(&self) -> bool {
        self.count_only
    }

    /// Whether the results come in the store's order (created_at, newest first).
    pub fn default_order(&self) -> bool {
        self.sort.is_empty() || self.sort == [SortKey::new("created_at", true)]
    }

    /// `(start, limit)`: start counts from 1; without a limit, start is not applied.
    pub fn page(&self) -> (usize, Option<usize>) {
        (self.page.start, self.page.limit)
    }

    pub fn pushdown(&self, now: DateTime<Utc>) -> Pushdown {
        pushdown(&self.filter, self.filter_or.is_empty() && self.keyword.is_none(), now)
    }

    /// Whether matching reads no event field but `fields` (a keyword reads the title).
    pub fn matches_on(&self, fields: &[&str]) -> bool {
        self.keyword.is_none()
            && self.filter.iter().chain(&self.filter_or).all(|c| fields.contains(&c.field()))
    }

    /// Whether the answer shows raw_data: every field does, unless `only` or `minimal`
    /// leave it out.
    pub fn shows_raw_data(&self) -> bool {
        !self.count_only && self.shape.shows(RAW_DATA)
    }

    /// Whether the event satisfies every `filter` condition, one of `filter_or` (when
    /// there are any) and the keyword.
    pub fn matches(&self, event: &Value, now: DateTime<Utc>) -> bool {
        self.filter.iter().all(|c| c.matches(event, now))
            && (self.filter_or.is_empty() || self.filter_or.iter().any(|c| c.matches(event, now)))
            && self.keyword.as_ref().is_none_or(|k| k.matches(event))
    }

    /// The list answer over rows already in memory (a domain's webhooks or event rules):
    /// those the query matches, ordered and paged.
    pub fn list_rows(&self, rows: Vec<Value>, now: DateTime<Utc>) -> Result<ListPage> {
        let mut list = self.collector();
        for row in rows.into_iter().filter(|row| self.matches(row, now)) {
            list.push(row)?;
        }
        Ok(list.finish())
    }

    /// An empty list answer to fill with matched events: created_at, newest first, by
    /// default; an explicit sort breaks ties by created_at and event_id, oldest first,
    /// as the reference breaks them by insertion order.
    pub fn collector(&self) -> ListCollector<'_> {
        let order = if self.default_order() {
            vec![SortKey::new("created_at", true)]
        } else {
            let mut keys = self.sort.clone();
            keys.extend([SortKey::new("created_at", false), SortKey::new("event_id", false)]);
            keys
        };
        ListCollector::new(order, self.page, self.count_only, &self.shape)
    }

    /// Sorts, pages and shapes matched events: `{results, total_count}`, or only
    /// `{total_count}` for count_only.
    pub fn render_list(&self, matched: Vec<Value>) -> Result<Value> {
        let mut list = self.collector();
        for row in matched {
            list.push(row)?;
        }
        serde_json::to_value(list.finish()).map_err(|e| Error::Internal(e.to_string()))
    }

    /// Applies `only` (which wins) or `minimal` to one event.
    pub fn shape(&self, event: Value) -> Value {
        self.shape.apply(event)
    }

    /// Whether a condition or a sort key looks into raw_data.
    pub fn tests_raw_data(&self) -> bool {
        self.filter.iter().chain(&self.filter_or).any(|c| c.field() == RAW_DATA)
            || self.sort.iter().any(|k| k.key.split('.').next() == Some(RAW_DATA))
    }

    /// Whether the answer needs raw_data: a test or sort on it, or rows that show it. A
    /// read that does not skips its chunk items.
    pub fn reads_raw_data(&self) -> bool {
        self.tests_raw_data() || self.shape.shows(RAW_DATA)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn events() -> Vec<Value> {
        vec![
            json!({"event_id": "event-3", "title": "CPU high", "severity": "WARNING",
                   "created_at": "2022-06-22T10:00:00.000Z",
                   "resource": {"name": "web-1", "resource_id": "server-2"}, "value": 3}),
            json!({"event_id": "event-2", "title": "Disk full", "severity": "CRITICAL",
                   "created_at": "2022-06-21T12:00:00.000Z",
                   "resource": {"name": "db-1", "resource_id": "server-1"}, "value": 10}),
            json!({"event_id": "event-1", "title": "disk FULL", "severity": "CRITICAL",
                   "created_at": "2022-06-21T12:00:00.000Z",
                   "resource": {"name": "db-1", "resource_id": "server-1"}, "value": 5}),
        ]
    }

    fn list(query: Value) -> Value {
        let q = Query::from_json(&query).unwrap();
        let now = Utc::now();
        q.render_list(events().into_iter().filter(|e| q.matches(e, now)).collect()).unwrap()
    }

    fn ids(result: &Value) -> Vec<&str> {
        result["results"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()).collect()
    }

    fn err(query: Value) -> String {
        Query::from_json(&query).unwrap_err().to_string()
    }

    #[test]
    fn null_and_empty_queries_list_everything_newest_first() {
        for empty in [Value::Null, json!({})] {
            let all = list(empty);
            assert_eq!((ids(&all), &all["total_count"]), (vec!["event-3", "event-2", "event-1"], &json!(3)));
        }
        let q = Query::from_json(&json!({})).unwrap();
        let shuffled = vec![events()[2].clone(), events()[0].clone(), events()[1].clone()];
        assert_eq!(
            ids(&q.render_list(shuffled).unwrap()),
            ["event-3", "event-1", "event-2"],
            "equal times keep input order"
        );
    }

    #[test]
    fn filter_is_all_and_filter_or_is_any() {
        let q = json!({"filter": [{"k": "severity", "v": "CRITICAL"}, {"k": "value", "v": 6, "o": "gt"}]});
        assert_eq!(ids(&list(q)), ["event-2"]);
        let q = json!({"filter_or": [{"k": "severity", "v": "WARNING"}, {"k": "value", "v": 10}]});
        assert_eq!(ids(&list(q)), ["event-3", "event-2"]);
        let q = json!({"filter": [{"k": "severity", "v": "CRITICAL"}],
                       "filter_or": [{"k": "value", "v": 3}, {"k": "value", "v": 5}]});
        assert_eq!(ids(&list(q)), ["event-1"]);
    }

    #[test]
    fn keyword_finds_any_word_in_event_id_or_title_ignoring_case() {
        assert_eq!(ids(&list(json!({"keyword": "DISK"}))), ["event-2", "event-1"]);
        assert_eq!(ids(&list(json!({"keyword": "event-3"}))), ["event-3"]);
        assert_eq!(ids(&list(json!({"keyword": " cpu  full "}))), ["event-3", "event-2", "event-1"]);
        assert_eq!(ids(&list(json!({"keyword": "   "}))).len(), 3, "a blank keyword is no keyword");
        assert_eq!(ids(&list(json!({"keyword": "(disk"}))), Vec::<&str>::new(), "words are literal");
        assert_eq!(
            ids(&list(json!({"keyword": "web-1"}))),
            Vec::<&str>::new(),
            "resource names are not searched"
        );
    }

    #[test]
    fn sort_orders_and_breaks_ties_oldest_first() {
        assert_eq!(ids(&list(json!({"sort": {"key": "value"}}))), ["event-3", "event-1", "event-2"]);
        let q = json!({"sort": [{"key": "severity"}, {"key": "value", "desc": true}]});
        assert_eq!(ids(&list(q)), ["event-2", "event-1", "event-3"]);
        assert_eq!(ids(&list(json!({"sort": {"key": "severity"}}))), ["event-1", "event-2", "event-3"]);
        let q = json!({"sort": {"keys": [{"key": "created_at", "desc": true}]}});
        assert_eq!(
            ids(&list(q)),
            ["event-3", "event-2", "event-1"],
            "explicit default order keeps the store's"
        );
    }

    #[test]
    fn page_slices_after_counting() {
        let q = json!({"sort": {"keys": [{"key": "created_at"}]}, "page": {"start": 2, "limit": 1}});
        let paged = list(q);
        assert_eq!((ids(&paged), &paged["total_count"]), (vec!["event-2"], &json!(3)));
        assert_eq!(ids(&list(json!({"page": {"start": 3, "limit": 10}}))), ["event-1"]);
        assert_eq!(ids(&list(json!({"page": {"start": 4, "limit": 10}}))), Vec::<&str>::new());
        assert_eq!(ids(&list(json!({"page": {"start": 2}}))).len(), 3, "start without limit pages nothing");
    }

    #[test]
    fn only_minimal_and_count_only_shape_the_answer() {
        let only = list(json!({"only": ["event_id", "resource.name"], "page": {"limit": 1}}));
        assert_eq!(only["results"], json!([{"event_id": "event-3", "resource": {"name": "web-1"}}]));
        let minimal = list(json!({"minimal": true, "page": {"limit": 1}}));
        assert_eq!(
            minimal["results"][0],
            json!({"event_id": "event-3", "title": "CPU high", "severity": "WARNING",
                   "created_at": "2022-06-22T10:00:00.000Z",
                   "resource": {"name": "web-1", "resource_id": "server-2"}})
        );
        let both = list(json!({"minimal": true, "only": ["value"], "page": {"limit": 1}}));
        assert_eq!(both["results"], json!([{"value": 3}]), "only wins over minimal");
        assert_eq!(list(json!({"count_only": true, "keyword": "disk"})), json!({"total_count": 2}));
    }

    #[test]
    fn knows_whether_an_answer_needs_raw_data() {
        let reads = |query: Value| Query::from_json(&query).unwrap().reads_raw_data();
        assert!(reads(json!({})), "every field is shown");
        assert!(!reads(json!({"minimal": true})));
        assert!(!reads(json!({"only": ["title", "resource.name"]})));
        assert!(reads(json!({"only": ["raw_data.alerts"]})));
        assert!(reads(json!({"only": ["title"], "filter": [{"k": "raw_data.labels.env", "v": "prod"}]})));
        assert!(reads(json!({"minimal": true, "sort": [{"key": "raw_data.n"}]})));
        assert!(!reads(json!({"only": ["raw_data_missing"]})));
    }

    #[test]
    fn add_exact_is_eq_on_the_field() {
        let mut q = Query::from_json(&Value::Null).unwrap();
        q.add_exact("severity", "CRITICAL");
        q.add_exact("resource.resource_id", "server-1");
        let now = Utc::now();
        let hits: Vec<_> = events().into_iter().filter(|e| q.matches(e, now)).collect();
        assert_eq!(hits.len(), 2);
        q.add_exact("event_id", "EVENT-1");
        assert!(!events().iter().any(|e| q.matches(e, now)), "ids stay exact");
    }

    /// `{"domain_id": D, "severity": "warning"}` when every stored severity is upper case.
    #[test]
    fn exact_fields_are_exact() {
        let mut q = Query::from_json(&Value::Null).unwrap();
        q.add_exact("severity", "warning");
        let now = Utc::now();
        assert!(!events().iter().any(|e| q.matches(e, now)));
        let q = Query::from_json(&json!({"filter": [{"k": "resource.name", "v": "WEB-1"}]})).unwrap();
        assert!(!events().iter().any(|e| q.matches(e, now)));
    }

    #[test]
    fn page_start_zero_is_the_first_page() {
        let q = json!({"sort": {"keys": [{"key": "created_at"}]}, "page": {"start": 0, "limit": 1}});
        assert_eq!(ids(&list(q)), ["event-1"]);
    }

    /// The store's answer is the whole answer only when no OR condition or keyword
    /// narrows it further.
    #[test]
    fn pushdown_is_complete_without_filter_or_and_keyword() {
        let push = |q: Value| Query::from_json(&q).unwrap().pushdown(Utc::now());
        assert!(push(json!({"filter": [{"k": "alert_id", "v": "alert-a"}]})).complete);
        assert!(!push(json!({"keyword": "disk"})).complete);
        let or_only = push(json!({"filter_or": [{"k": "alert_id", "v": "alert-a"}]}));
        assert_eq!(
            (or_only.alert_id, or_only.complete),
            (None, false),
            "an OR condition does not narrow the index"
        );
    }

    #[test]
    fn malformed_queries_say_what_is_wrong() {
        assert!(err(json!({"filter": [{"k": "a", "v": 1}, {"k": "b", "v": 1, "o": "nope"}]}))
            .starts_with("filter[1]: operator 'nope' is unknown; allowed: eq,"));
        assert!(err(json!({"filter_or": [{"k": "a", "v": "x", "o": "in"}]}))
            .starts_with("filter_or[0]: operator 'in'"));
        assert!(err(json!({"page": {"limit": -1}})).contains("whole number"));
        assert!(err(json!({"sort": {"desc": true}})).contains("needs 'key'"));
        assert!(err(json!({"filters": []})).contains("unknown key 'filters'; allowed: filter,"));
        assert!(err(json!({"keyword": 5})).contains("query.keyword: must be text"));
        assert!(err(json!({"only": "event_id"})).contains("list of field names"));
        assert!(err(json!({"count_only": 1})).contains("true or false"));
        assert!(err(json!("severity")).contains("must be an object"));
        let unwind = Query::from_json(&json!({"unwind": {"path": "tags"}})).unwrap_err();
        // A request this service will never serve, so a 4xx: a 5xx would page the operator.
        assert_eq!((unwind.status(), unwind.code()), (400, "ERROR_INVALID_ARGUMENT"));
        assert_eq!(Query::from_json(&json!({"filter": [{}]})).unwrap_err().code(), "ERROR_INVALID_ARGUMENT");
    }
}
