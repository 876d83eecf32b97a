//! Ranges of the event indexes, the Query that reads one, and the one reader that pages
//! through it within the read budget: lists, counts, stats and next_token pages all read
//! through [`RangePages`].

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};

use super::RawData;
use crate::error::{Error, Result};
use crate::model::format_time;
use crate::query::FieldTest;
use crate::store::schema::{
    ALERT_INDEX, COUNT_ATTRIBUTES, COUNT_INDEX, CREATED_KEY, DOMAIN_INDEX, TTL_ATTRIBUTE, WEBHOOK_INDEX,
};
use crate::store::{storage_error, Item, Store, Units};
use crate::tenant::AuthorizedDomain;

/// Which index a query reads: each is partitioned by one id and sorted by creation.
#[derive(Debug, Clone, PartialEq)]
pub enum EventIndex {
    Domain,
    Alert(String),
    Webhook(String),
}

/// A slice of one index: always inside one domain, optionally bounded in creation time
/// and narrowed by field tests DynamoDB evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRange {
    pub index: EventIndex,
    pub domain: AuthorizedDomain,
    /// Inclusive bounds on `created_at` (ISO text, as stored).
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// Never on the index's partition attribute (DynamoDB refuses filters on keys).
    pub filters: Vec<FieldTest>,
    /// Whether the events read carry raw_data, which the list indexes do not hold: a
    /// BatchGetItem of the event items follows each Query page (0.5 read units an event
    /// up to 4 KB), and chunk items are read for raw_data kept in them. Reads that only
    /// show a page's raw_data skip it and fetch it for that page instead
    /// ([`Store::raw_data`]).
    pub raw_data: RawData,
}

impl EventRange {
    /// Every event of a domain, newest first, whole.
    pub fn domain(domain: &AuthorizedDomain) -> EventRange {
        EventRange {
            index: EventIndex::Domain,
            domain: domain.clone(),
            created_from: None,
            created_to: None,
            filters: Vec::new(),
            raw_data: RawData::Read,
        }
    }

    /// A range whose bounds cross holds nothing (and DynamoDB refuses to be asked).
    fn is_empty(&self) -> bool {
        matches!((&self.created_from, &self.created_to), (Some(from), Some(to)) if from > to)
    }

    /// The index a count reads: the slim count index when it holds every attribute the
    /// filters test (the table key, event_id, is in every index), else the range's own.
    pub(super) fn count_index(&self) -> &'static str {
        let projected = |path: &str| path == "event_id" || COUNT_ATTRIBUTES.contains(&path);
        if self.index == EventIndex::Domain && self.filters.iter().all(|test| projected(test.path())) {
            COUNT_INDEX
        } else {
            self.partition().0
        }
    }

    pub(super) fn partition(&self) -> (&'static str, &'static str, &str) {
        match &self.index {
            EventIndex::Domain => (DOMAIN_INDEX, "domain_id", self.domain.as_str()),
            EventIndex::Alert(id) => (ALERT_INDEX, "alert_id", id),
            EventIndex::Webhook(id) => (WEBHOOK_INDEX, "webhook_id", id),
        }
    }
}

/// What a read does when the read budget runs out with more of the range to read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutOfTime {
    /// Answer the events found so far, with the key to go on from (a next_token page).
    EndPageShort,
    /// Refuse with a 400 that says how to narrow the range (a page that must be whole).
    Refuse,
}

/// The pages of one range read, one Query after another, within the read budget.
pub(super) struct RangePages<'r> {
    range: &'r EventRange,
    index: &'static str,
    select: Select,
    /// Where the next Query starts; None at the head of the range.
    start: Option<Item>,
    /// The start key came from a caller's next_token, so DynamoDB refusing it is the
    /// caller's mistake, not ours.
    from_token: bool,
    /// Items the next Query reads; None lets DynamoDB fill its 1 MB pages.
    limit: Option<usize>,
    out_of_time: OutOfTime,
    started: Instant,
    read: u64,
    queried: bool,
    done: bool,
}

impl<'r> RangePages<'r> {
    /// Pages of `index` answering `select`: the items themselves, or only their count.
    pub(super) fn new(range: &'r EventRange, index: &'static str, select: Select) -> Self {
        RangePages {
            range,
            index,
            select,
            start: None,
            from_token: false,
            limit: None,
            out_of_time: OutOfTime::Refuse,
            started: Instant::now(),
            read: 0,
            queried: false,
            done: range.is_empty(),
        }
    }

    /// Starts after `key`, the start key of a caller's next_token.
    pub(super) fn after(mut self, key: Option<Item>) -> Self {
        self.from_token = key.is_some();
        self.start = key;
        self
    }

    /// DynamoDB's Limit counts items read before filtering, so a selective filter needs
    /// more reads than matches: the first Query reads `first` items, each next one twice
    /// as many, up to 1000.
    pub(super) fn growing_limit(mut self, first: usize) -> Self {
        self.limit = Some(first);
        self
    }

    pub(super) fn on_out_of_time(mut self, out_of_time: OutOfTime) -> Self {
        self.out_of_time = out_of_time;
        self
    }

    /// The next page, or None once the range is read, or once the budget ends a read
    /// that may end short ([`RangePages::stopped_at`] tells where).
    pub(super) async fn next(&mut self, store: &Store) -> Result<Option<QueryOutput>> {
        if self.done {
            return Ok(None);
        }
        if let (Some(from), Some(to)) = (store.live_from(self.range), &self.range.created_to) {
            if from > *to {
                self.done = true; // every event of the range has expired
                return Ok(None);
            }
        }
        if self.queried && self.started.elapsed() > store.read_budget {
            return match self.out_of_time {
                OutOfTime::EndPageShort => Ok(None),
                OutOfTime::Refuse => Err(self.too_large(store.read_budget)),
            };
        }
        let mut out = store
            .range_query(self.range, self.index)
            .select(self.select.clone())
            .set_limit(self.limit.map(|limit| limit as i32))
            .set_exclusive_start_key(self.start.take())
            .send()
            .await
            .map_err(|e| invalid_start_key(e, self.from_token))?;
        store.record(Units::Read, out.consumed_capacity());
        self.start = out.last_evaluated_key.take();
        self.done = self.start.is_none();
        self.queried = true;
        self.read += out.scanned_count as u64;
        self.limit = self.limit.map(|limit| (limit * 2).min(1000));
        Ok(Some(out))
    }

    /// Where a read that the budget ended short stopped: the last Query's
    /// LastEvaluatedKey. None when the range was read to its end.
    pub(super) fn stopped_at(&self) -> Option<&Item> {
        if self.done {
            None
        } else {
            self.start.as_ref()
        }
    }

    /// A range too large to read before API Gateway gives up (29 s) gets an answer that
    /// says how to narrow it, not a timeout.
    fn too_large(&self, budget: Duration) -> Error {
        Error::invalid(format!(
            "The matching range is too large to read in one call: {} events in {:.0} s, and more \
             remain. Narrow it (a created_at range, an alert_id or a webhook_id), or page with \
             next_token, which reads only as far as each page.",
            self.read,
            budget.as_secs_f64()
        ))
    }
}

impl Store {
    /// The range's lower bound on `created_at`, raised to the oldest event that has not
    /// expired: an event stored at second `s` expires at `s + retention` (its
    /// `expires_at`), and reads hide it from then on. The count index holds no
    /// `expires_at` to filter on, and every read agrees with it this way. (An event stored
    /// under a longer retention than today's is hidden once today's has passed.)
    fn live_from(&self, range: &EventRange) -> Option<String> {
        let floor = (self.retention_days > 0).then(|| {
            let oldest = chrono::Utc::now().timestamp() - i64::from(self.retention_days) * 86_400 + 1;
            format_time(chrono::DateTime::from_timestamp(oldest, 0).unwrap_or_default())
        });
        match (range.created_from.clone(), floor) {
            (Some(from), Some(floor)) => Some(from.max(floor)),
            (from, floor) => from.or(floor),
        }
    }

    fn range_query(&self, range: &EventRange, index: &'static str) -> QueryFluentBuilder {
        let (_, partition_attr, partition) = range.partition();
        let mut key_condition = "#p = :p".to_string();
        let mut request = self
            .client
            .query()
            .table_name(&self.tables.events)
            .index_name(index)
            .scan_index_forward(false)
            .expression_attribute_names("#p", partition_attr)
            .expression_attribute_values(":p", AttributeValue::S(partition.to_string()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        // The sort key is `created_at#event_id`: `~` sorts after `#` and every id
        // character, so `to~` includes every event created at exactly `to`.
        let from = self.live_from(range);
        match (&from, &range.created_to) {
            (Some(_), Some(_)) => key_condition.push_str(" AND #s BETWEEN :from AND :to"),
            (Some(_), None) => key_condition.push_str(" AND #s >= :from"),
            (None, Some(_)) => key_condition.push_str(" AND #s <= :to"),
            (None, None) => {}
        }
        if from.is_some() || range.created_to.is_some() {
            request = request.expression_attribute_names("#s", CREATED_KEY);
        }
        if let Some(from) = &from {
            request = request.expression_attribute_values(":from", AttributeValue::S(from.clone()));
        }
        if let Some(to) = &range.created_to {
            request = request.expression_attribute_values(":to", AttributeValue::S(format!("{to}~")));
        }
        let mut filters = Vec::new();
        // Alert and webhook ids are unique, but tenancy must not rest on that: the
        // domain is enforced on every index that is not partitioned by it.
        if range.index != EventIndex::Domain {
            filters.push("#d = :d".to_string());
            request = request
                .expression_attribute_names("#d", "domain_id")
                .expression_attribute_values(":d", AttributeValue::S(range.domain.to_string()));
        }
        // TTL deletes an expired event days later at worst; until then, no read shows it.
        // The count index does not hold expires_at: there `live_from` alone hides them.
        if index != COUNT_INDEX {
            filters.push("(attribute_not_exists(#ttl) OR #ttl > :now)".to_string());
            request = request.expression_attribute_names("#ttl", TTL_ATTRIBUTE).expression_attribute_values(
                ":now",
                AttributeValue::N(chrono::Utc::now().timestamp().to_string()),
            );
        }
        for (n, test) in range.filters.iter().enumerate() {
            let steps: Vec<&str> = test.path().split('.').collect();
            let mut names = Vec::with_capacity(steps.len());
            for (i, step) in steps.iter().enumerate() {
                let name = format!("#f{n}_{i}");
                request = request.expression_attribute_names(&name, *step);
                names.push(name);
            }
            let path = names.join(".");
            let (FieldTest::OneOf { values, .. } | FieldTest::NoneOf { values, .. }) = test;
            let mut placeholders = Vec::with_capacity(values.len());
            for (i, value) in values.iter().enumerate() {
                let placeholder = format!(":f{n}_{i}");
                request = request.expression_attribute_values(&placeholder, AttributeValue::S(value.clone()));
                placeholders.push(placeholder);
            }
            let one_of = format!("{path} IN ({})", placeholders.join(", "));
            filters.push(match test {
                FieldTest::OneOf { .. } => one_of,
                FieldTest::NoneOf { .. } => format!("(attribute_not_exists({path}) OR NOT ({one_of}))"),
            });
        }
        if !filters.is_empty() {
            request = request.filter_expression(filters.join(" AND "));
        }
        request.key_condition_expression(key_condition)
    }
}

/// A token from another query (or a forged one) makes DynamoDB refuse the start key:
/// that is the client's mistake, not ours.
fn invalid_start_key<R: std::fmt::Debug>(err: SdkError<QueryError, R>, had_token: bool) -> Error {
    match &err {
        SdkError::ServiceError(s) if had_token && s.err().code() == Some("ValidationException") => {
            Error::invalid("next_token does not belong to this query; start again without it.")
        }
        _ => storage_error(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_the_slim_index_only_when_it_holds_what_the_filters_test() {
        let test = |path: &str| FieldTest::OneOf { path: path.into(), values: vec!["x".into()] };
        let range = |index, filters| EventRange {
            index,
            filters,
            ..EventRange::domain(&crate::tenant::trusted("domain-1"))
        };
        assert_eq!(range(EventIndex::Domain, vec![]).count_index(), COUNT_INDEX);
        let slim = vec![test("severity"), test("project_id"), test("event_id")];
        assert_eq!(range(EventIndex::Domain, slim).count_index(), COUNT_INDEX);
        let wide = vec![test("severity"), test("resource.resource_id")];
        assert_eq!(range(EventIndex::Domain, wide).count_index(), DOMAIN_INDEX);
        let alert = range(EventIndex::Alert("alert-1".into()), vec![]);
        assert_eq!(alert.count_index(), ALERT_INDEX, "an alert's events are few; its index is exact");
    }
}
