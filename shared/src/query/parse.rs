//! Reading the parts Query and StatisticsQuery share: condition lists, page, flags,
//! names. Every error names where in the query it is and what would be accepted.

use serde_json::{Map, Value};

use super::condition::{describe, Condition};
use crate::error::{Error, Result};

/// `page.start` and `page.limit` are uint32 in the API; larger numbers are refused
/// here so no later arithmetic on them can overflow.
const PAGE_MAX: u64 = u32::MAX as u64;

/// `{start, limit}`: `start` counts from 1 (a smaller one is 1); without a `limit` (or
/// with 0) there is no paging at all and `start` is ignored, as in python-core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Page {
    pub start: usize,
    pub limit: Option<usize>,
}

impl Default for Page {
    fn default() -> Page {
        Page { start: 1, limit: None }
    }
}

impl Page {
    pub fn apply<T>(&self, rows: Vec<T>) -> Vec<T> {
        match self.limit {
            Some(limit) => rows.into_iter().skip(self.start - 1).take(limit).collect(),
            None => rows,
        }
    }
}

/// The value of `long` or, failing that, its short alias (`key`/`k`, `name`/`n`).
pub fn field<'v>(object: &'v Map<String, Value>, long: &str, short: &str) -> Option<&'v Value> {
    object.get(long).or_else(|| object.get(short)).filter(|v| !v.is_null())
}

/// Non-empty text under `long` or `short`.
pub fn text<'v>(object: &'v Map<String, Value>, long: &str, short: &str, at: &str) -> Result<&'v str> {
    match field(object, long, short) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None => Err(Error::invalid(format!("{at}: needs '{long}'"))),
        Some(other) => {
            Err(Error::invalid(format!("{at}: '{long}' must be non-empty text, not {}", describe(other))))
        }
    }
}

pub fn reject_unknown(object: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<()> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => {
            Err(Error::invalid(format!("{at}: unknown key '{key}'; allowed: {}", allowed.join(", "))))
        }
        None => Ok(()),
    }
}

/// The object at `at`, or an error saying what shape was expected.
pub fn object<'v>(raw: &'v Value, at: &str, shape: &str) -> Result<&'v Map<String, Value>> {
    raw.as_object()
        .ok_or_else(|| Error::invalid(format!("{at}: must be an object {shape}, not {}", describe(raw))))
}

pub fn conditions(raw: Option<&Value>, at: &str) -> Result<Vec<Condition>> {
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, c)| Condition::parse(c, &format!("{at}[{i}]"))).collect()
        }
        Some(other) => Err(Error::invalid(format!(
            "{at}: must be a list of conditions {{k, v, o}}, not {}",
            describe(other)
        ))),
    }
}

pub fn page(raw: Option<&Value>, at: &str) -> Result<Page> {
    let page = match raw {
        None | Some(Value::Null) => return Ok(Page::default()),
        Some(raw) => object(raw, at, "{start, limit}")?,
    };
    reject_unknown(page, &["start", "limit"], at)?;
    let number = |key: &str| -> Result<Option<u64>> {
        match page.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().filter(|n| *n <= PAGE_MAX).map(Some).ok_or_else(|| {
                Error::invalid(format!(
                    "{at}.{key}: must be a whole number up to {PAGE_MAX}, not {}",
                    describe(v)
                ))
            }),
        }
    };
    // python-core reads a start below 1 as the first page.
    let start = match page.get("start") {
        Some(v) if v.as_i64().is_some_and(|n| n < 1) => 1,
        _ => number("start")?.unwrap_or(1),
    };
    let limit = number("limit")?.filter(|l| *l > 0);
    Ok(Page { start: start as usize, limit: limit.map(|l| l as usize) })
}

pub fn names(raw: Option<&Value>, at: &str) -> Result<Vec<String>> {
    let wrong = || Error::invalid(format!("{at}: must be a list of field names"));
    match raw {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(wrong))
            .collect(),
        Some(_) => Err(wrong()),
    }
}

pub fn flag(raw: Option<&Value>, at: &str) -> Result<bool> {
    match raw {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::invalid(format!("{at}: must be true or false, not {}", describe(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_counts_from_one_and_a_zero_limit_means_all() {
        assert_eq!(page(None, "page").unwrap(), Page { start: 1, limit: None });
        assert_eq!(
            page(Some(&json!({"start": 3, "limit": 2})), "page").unwrap(),
            Page { start: 3, limit: Some(2) }
        );
        assert_eq!(page(Some(&json!({"limit": 0})), "page").unwrap().limit, None);
        assert!(page(Some(&json!({"limit": -1})), "p").unwrap_err().to_string().contains("whole number"));
        assert!(page(Some(&json!({"limit": 1.5})), "p").is_err());
        assert!(page(Some(&json!({"limit": 5_000_000_000_u64})), "p").is_err());
        assert!(page(Some(&json!({"size": 5})), "p").unwrap_err().to_string().contains("unknown key 'size'"));
        assert!(page(Some(&json!([1, 2])), "p").unwrap_err().to_string().contains("{start, limit}"));
    }

    /// As python-core pages: a start below 1 is the first page.
    #[test]
    fn page_start_below_one_is_the_first_page() {
        for start in [json!(0), json!(-3)] {
            let parsed = page(Some(&json!({"start": start, "limit": 5})), "query.page").unwrap();
            assert_eq!(parsed, Page { start: 1, limit: Some(5) }, "start {start}");
        }
        assert!(page(Some(&json!({"start": 1.5})), "p").unwrap_err().to_string().contains("whole number"));
    }

    #[test]
    fn page_applies_start_only_with_a_limit() {
        let rows = vec![1, 2, 3, 4, 5];
        assert_eq!(Page { start: 2, limit: Some(2) }.apply(rows.clone()), [2, 3]);
        assert_eq!(Page { start: 5, limit: Some(9) }.apply(rows.clone()), [5]);
        assert_eq!(Page { start: 9, limit: Some(1) }.apply(rows.clone()), Vec::<i32>::new());
        assert_eq!(
            Page { start: 3, limit: None }.apply(rows.clone()),
            rows,
            "python-core ignores start alone"
        );
    }

    #[test]
    fn short_aliases_and_shapes_are_checked() {
        let o = json!({"k": "severity", "name": "", "n": "x"});
        let o = o.as_object().unwrap();
        assert_eq!(text(o, "key", "k", "at").unwrap(), "severity");
        assert!(text(o, "name", "n", "at").unwrap_err().to_string().contains("non-empty"));
        assert!(text(o, "operator", "o", "at").unwrap_err().to_string().contains("needs 'operator'"));
        assert!(names(Some(&json!(["a", 1])), "query.only").is_err());
        assert!(flag(Some(&json!("yes")), "query.minimal")
            .unwrap_err()
            .to_string()
            .contains("true or false"));
        assert!(conditions(Some(&json!({"k": "a"})), "filter")
            .unwrap_err()
            .to_string()
            .contains("list of conditions"));
        assert_eq!(conditions(Some(&json!([{"k": "a"}])), "filter").unwrap().len(), 1);
    }
}
