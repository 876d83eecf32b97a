//! What the read commands share: the domain, the SpaceONE query flags, durations, and
//! printing a list page. The flags become the JSON body of the API's list request and
//! go through its decoder (`event_core::api::decode`), so a query means here exactly
//! what it means to the API.

use chrono::{Duration, Utc};
use clap::Args;
use event_core::api::decode;
use event_core::config::ReadAuthorizer;
use event_core::model::format_time;
use event_core::query::StatQuery;
use event_core::tenant::{authorize, AuthorizedDomain, Identity};
use event_core::{Error, Result};
use serde_json::{json, Map, Value};

use crate::output::{emit, Output, Table};

#[derive(Args)]
pub struct Domain {
    /// The domain (tenant) to read; an operator may read any.
    #[arg(long, env = "EVENTCTL_DOMAIN_ID")]
    pub domain_id: String,
}

impl Domain {
    /// The domain, trusted as the API trusts an IAM caller that names one.
    pub fn authorized(&self) -> Result<AuthorizedDomain> {
        authorize(Identity::Absent, Some(&self.domain_id), ReadAuthorizer::Iam)
    }

    /// A `--query` StatisticsQuery (JSON text) over this domain, read as the stat
    /// routes read their body.
    pub fn stat_query(&self, query: &str) -> Result<StatQuery> {
        let query: Value =
            serde_json::from_str(query).map_err(|e| Error::invalid(format!("--query is not JSON: {e}")))?;
        let body = Map::from_iter([("domain_id".into(), json!(self.domain_id)), ("query".into(), query)]);
        Ok(decode::stat_body(body)?.query)
    }
}

#[derive(Args)]
pub struct Search {
    /// A whole SpaceONE Query as JSON, e.g. '{"filter": [{"k": "title", "v": "disk",
    /// "o": "contain"}], "sort": [{"key": "created_at"}]}'. The flags below add to it.
    #[arg(long, value_parser = json_object)]
    pub query: Option<Value>,
    /// A condition, or a JSON list of them, added to the query's filter, e.g.
    /// '{"k": "severity", "v": ["CRITICAL", "ERROR"], "o": "in"}'. Repeatable.
    #[arg(long = "filter", value_parser = json_value)]
    pub filters: Vec<Value>,
    /// An exact match on one of the list request's fields, as FIELD=VALUE (e.g.
    /// provider=aws, resource_id=i-0a1b). Repeatable.
    #[arg(long = "where", value_parser = field_value)]
    pub exact: Vec<(String, String)>,
    /// Only what was created this long ago or since (e.g. 45m, 1h30m, 2d).
    #[arg(long, value_parser = duration)]
    pub since: Option<Duration>,
    /// At most this many rows (the query's page.limit); 0: every match.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// The fields to show, comma-separated (the query's `only`); also the table's columns.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Page in created_at order: "" for the first page, then the token the page before
    /// printed. Without it the answer carries total_count instead.
    #[arg(long)]
    pub next_token: Option<String>,
}

impl Search {
    /// The list request's body: `domain_id`, the query, the exact-match fields (the
    /// `--where` ones and `named`, those a command has flags for) and `next_token`.
    pub fn body(&self, domain: &Domain, named: &[(&str, &Option<String>)]) -> Map<String, Value> {
        let mut query = self.query.clone().unwrap_or_else(|| json!({}));
        let mut conditions: Vec<Value> = match query.get("filter") {
            Some(Value::Array(list)) => list.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        };
        for filter in &self.filters {
            match filter {
                Value::Array(list) => conditions.extend(list.iter().cloned()),
                one => conditions.push(one.clone()),
            }
        }
        if let Some(since) = self.since {
            conditions.push(json!({"k": "created_at", "v": format_time(Utc::now() - since), "o": "gte"}));
        }
        if !conditions.is_empty() {
            query["filter"] = Value::Array(conditions);
        }
        if self.limit > 0 && query.get("page").is_none() {
            query["page"] = json!({"limit": self.limit});
        }
        if !self.only.is_empty() {
            query["only"] = json!(self.only);
        }
        let mut body = Map::new();
        body.insert("domain_id".into(), json!(domain.domain_id));
        body.insert("query".into(), query);
        for (name, value) in &self.exact {
            body.insert(name.clone(), json!(value));
        }
        for (name, value) in named {
            if let Some(value) = value {
                body.insert(name.to_string(), json!(value));
            }
        }
        if let Some(token) = &self.next_token {
            body.insert("next_token".into(), json!(token));
        }
        body
    }

    /// The table's columns: the fields asked for, else `default`.
    pub fn columns(&self, default: &[&str]) -> Vec<String> {
        let asked = self.query.as_ref().and_then(|q| q.get("only")).and_then(Value::as_array);
        match (self.only.is_empty(), asked) {
            (false, _) => self.only.clone(),
            (true, Some(only)) => only.iter().filter_map(Value::as_str).map(String::from).collect(),
            (true, None) => default.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// A list answer (`{results, total_count}` or a next_token page): its rows under
/// `columns`, then the count or the next page's token.
pub fn print_page(page: &Value, columns: &[String], output: Output) {
    emit(page, output, |page| {
        let rows = page["results"].as_array().map(Vec::as_slice).unwrap_or_default();
        if !rows.is_empty() {
            Table::of(rows, columns).print();
        }
        if let Some(total) = page["total_count"].as_u64() {
            println!("{} of {total} shown", rows.len());
        }
        match page["next_token"].as_str() {
            Some(token) => println!("next page: --next-token {token}"),
            None if page.get("total_count").is_none() => println!("{} shown; last page", rows.len()),
            None => {}
        }
    });
}

/// A stat answer's rows, every column their fields.
pub fn print_stat(answer: &Value, output: Output) {
    emit(answer, output, |answer| {
        let rows = answer["results"].as_array().map(Vec::as_slice).unwrap_or_default();
        let mut columns: Vec<String> = Vec::new();
        for row in rows {
            for key in row.as_object().into_iter().flat_map(|r| r.keys()) {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
        Table::of(rows, &columns).print();
        if let Some(total) = answer["total_count"].as_u64() {
            println!("total_count: {total}");
        }
    });
}

pub fn to_json(value: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}

/// `1h30m`, `45m`, `2d`, `90s` (humantime's forms: units from ns to years, combined).
pub fn duration(text: &str) -> std::result::Result<Duration, String> {
    let std = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?}: {e} (a duration such as 90s, 45m, 1h30m or 2d)"))?;
    Duration::from_std(std).map_err(|_| format!("{text:?} is too long"))
}

fn json_value(text: &str) -> std::result::Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

fn json_object(text: &str) -> std::result::Result<Value, String> {
    match json_value(text)? {
        object @ Value::Object(_) => Ok(object),
        _ => Err("a Query is a JSON object, e.g. '{\"filter\": []}'".into()),
    }
}

fn field_value(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => Ok((field.trim().into(), value.into())),
        _ => Err(format!("{text:?}: expected FIELD=VALUE, e.g. provider=aws")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_combine_units() {
        assert_eq!(duration("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(duration("2d"), Ok(Duration::days(2)));
        assert_eq!(duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(duration("0s"), Ok(Duration::zero()));
        assert!(duration("1x").is_err());
        assert!(duration("h").is_err());
    }

    #[test]
    fn flags_add_to_the_query_they_are_given() {
        let search = Search {
            query: Some(json!({"filter": [{"k": "title", "v": "disk", "o": "contain"}]})),
            filters: vec![json!({"k": "severity", "v": "CRITICAL", "o": "eq"})],
            exact: vec![("provider".into(), "aws".into())],
            since: None,
            limit: 5,
            only: vec!["event_id".into()],
            next_token: None,
        };
        let domain = Domain { domain_id: "domain-1".into() };
        let state = Some("TRIGGERED".to_string());
        let body = search.body(&domain, &[("state", &state), ("urgency", &None)]);
        assert_eq!(
            Value::Object(body),
            json!({
                "domain_id": "domain-1",
                "provider": "aws",
                "state": "TRIGGERED",
                "query": {
                    "filter": [{"k": "title", "v": "disk", "o": "contain"},
                               {"k": "severity", "v": "CRITICAL", "o": "eq"}],
                    "page": {"limit": 5},
                    "only": ["event_id"],
                },
            })
        );
    }
}
