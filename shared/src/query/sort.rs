//! Sorting rows by `{key, desc}` keys, for list results and the stat `sort` stage.

use std::cmp::Ordering;

use serde_json::Value;

use super::condition::describe;
use super::parse::{field, flag, text};
use super::path::Path;
use super::value::total_cmp;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub key: String,
    pub desc: bool,
}

impl SortKey {
    pub fn new(key: &str, desc: bool) -> SortKey {
        SortKey { key: key.to_string(), desc }
    }
}

/// `{key, desc}`, a list of them, or the API's `{keys: [{key, desc}, ...]}`. `{}` (an
/// unset Sort message) is no sort.
pub fn parse_sort(raw: Option<&Value>, at: &str) -> Result<Vec<SortKey>> {
    let one = |v: &Value, at: &str| -> Result<SortKey> {
        let object = v.as_object().ok_or_else(|| {
            Error::invalid(format!("{at}: a sort key is an object {{key, desc}}, not {}", describe(v)))
        })?;
        Ok(SortKey::new(text(object, "key", "k", at)?, flag(object.get("desc"), &format!("{at}.desc"))?))
    };
    let list = |items: &[Value], at: &str| -> Result<Vec<SortKey>> {
        items.iter().enumerate().map(|(i, v)| one(v, &format!("{at}[{i}]"))).collect()
    };
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => list(items, at),
        Some(Value::Object(map)) if map.is_empty() => Ok(Vec::new()),
        Some(v @ Value::Object(map)) => match field(map, "keys", "keys") {
            Some(Value::Array(items)) if !items.is_empty() => list(items, &format!("{at}.keys")),
            Some(Value::Array(_)) | None => Ok(vec![one(v, at)?]),
            Some(other) => Err(Error::invalid(format!(
                "{at}.keys: must be a list of {{key, desc}}, not {}",
                describe(other)
            ))),
        },
        Some(other) => Err(Error::invalid(format!(
            "{at}: must be {{key, desc}}, a list of them or {{keys: [...]}}, not {}",
            describe(other)
        ))),
    }
}

/// A stable sort by several keys, so equal rows keep their order. Values order as in
/// MongoDB; a missing value sorts as null, before everything else.
pub fn sort_rows(rows: &mut [Value], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    let paths: Vec<(Path, bool)> = keys.iter().map(|k| (Path::new(&k.key), k.desc)).collect();
    rows.sort_by(|a, b| {
        paths
            .iter()
            .map(|(path, desc)| {
                let ordering = total_cmp(path.first(a), path.first(b));
                if *desc {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sorted(rows: Value, keys: &[SortKey]) -> Value {
        let mut rows = rows.as_array().unwrap().clone();
        sort_rows(&mut rows, keys);
        Value::Array(rows)
    }

    #[test]
    fn sort_accepts_every_spelling() {
        let want = vec![SortKey::new("a", true), SortKey::new("b", false)];
        let list = json!([{"key": "a", "desc": true}, {"key": "b"}]);
        assert_eq!(parse_sort(Some(&list), "sort").unwrap(), want);
        let keys = json!({"keys": [{"key": "a", "desc": true}, {"k": "b"}]});
        assert_eq!(parse_sort(Some(&keys), "sort").unwrap(), want);
        assert_eq!(parse_sort(Some(&json!({"key": "a", "desc": true})), "sort").unwrap(), want[..1]);
        assert_eq!(
            parse_sort(Some(&json!({"key": "a", "keys": []})), "sort").unwrap(),
            vec![SortKey::new("a", false)]
        );
        assert_eq!(parse_sort(Some(&json!({})), "sort").unwrap(), vec![]);
    }

    #[test]
    fn malformed_sorts_say_where() {
        let err = |v: Value| parse_sort(Some(&v), "query.sort").unwrap_err().to_string();
        assert_eq!(err(json!({"desc": true})), "query.sort: needs 'key'");
        assert!(
            err(json!({"keys": [{"key": "a"}, {"key": 1}]})).starts_with("query.sort.keys[1]: 'key' must be")
        );
        assert!(err(json!({"key": "a", "desc": "yes"})).starts_with("query.sort.desc:"));
        assert!(err(json!("created_at")).contains("{key, desc}"));
        assert!(err(json!([1])).starts_with("query.sort[0]:"));
    }

    #[test]
    fn sort_is_stable_and_orders_mixed_types_totally() {
        let rows =
            json!([{"n": 2, "id": 1}, {"id": 2}, {"n": "x", "id": 3}, {"n": 1, "id": 4}, {"n": 2, "id": 5}]);
        let ids =
            |v: Value| v.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(ids(sorted(rows.clone(), &[SortKey::new("n", false)])), [2, 4, 1, 5, 3]);
        assert_eq!(ids(sorted(rows, &[SortKey::new("n", true)])), [3, 1, 5, 4, 2]);
    }

    #[test]
    fn later_keys_break_ties_of_earlier_ones() {
        let rows = json!([{"a": 1, "b": {"c": 1}}, {"a": 0, "b": {"c": 5}}, {"a": 1, "b": {"c": 3}}]);
        let keys = [SortKey::new("a", true), SortKey::new("b.c", true)];
        assert_eq!(
            sorted(rows, &keys),
            json!([{"a": 1, "b": {"c": 3}}, {"a": 1, "b": {"c": 1}}, {"a": 0, "b": {"c": 5}}])
        );
    }
}
