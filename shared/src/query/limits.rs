//! What one query may make a function hold: the bounds that keep a caller's request
//! from running a 256 MB function out of memory. Each refusal is a 400 that says what to
//! change.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::error::{Error, Result};

/// The most regular expressions (`regex`, each value of `regex_in`, `$regex`) one query
/// may hold, and their total length in bytes.
pub const MAX_PATTERNS: usize = 16;
pub const MAX_PATTERN_BYTES: usize = 4 * 1024;

/// Per regular expression: its compiled program, and the lazy DFA cache it may grow
/// while matching. The regex crate's default cache is 2 MB a pattern; a hundred patterns
/// took a server from 38 MB to 265 MB.
const REGEX_PROGRAM_BYTES: usize = 256 * 1024;
const REGEX_CACHE_BYTES: usize = 256 * 1024;

/// The most rows a stat stage may produce (`unwind` copies a whole row per element).
pub const MAX_STAGE_ROWS: usize = 100_000;

/// The most bytes of events a list call may hold for its page (raw_data can be about 1 MB
/// an event): as JSON text, which takes three to five times as much in memory.
pub const MAX_HELD_BYTES: usize = 32 * 1024 * 1024;

/// The most bytes of rows one stat may hold, as JSON text: the events it matched, and
/// again the rows of each `unwind` (a copy of the rest of the row per element). raw_data
/// can be about 1 MB an event, so a count of events alone bounds nothing.
pub const MAX_STAT_BYTES: usize = 64 * 1024 * 1024;

/// A caller's regular expression, case-insensitive, within the per-pattern bounds.
pub fn compile_regex(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_PROGRAM_BYTES)
        .dfa_size_limit(REGEX_CACHE_BYTES)
        .build()
}

/// Refuses a query (a Query or a StatisticsQuery, as sent) with more regular expressions
/// than [`MAX_PATTERNS`] or more than [`MAX_PATTERN_BYTES`] of them.
pub fn check_patterns(query: &Value) -> Result<()> {
    let mut patterns = Vec::new();
    collect_patterns(query, &mut patterns);
    let bytes: usize = patterns.iter().map(|p| p.as_str().map_or(0, str::len)).sum();
    if patterns.len() > MAX_PATTERNS || bytes > MAX_PATTERN_BYTES {
        return Err(Error::invalid(format!(
            "The query holds {} regular expressions ({bytes} bytes); one query may hold at most \
             {MAX_PATTERNS} ({MAX_PATTERN_BYTES} bytes). Combine patterns with '|', or use \
             contain_in or in for plain text.",
            patterns.len()
        )));
    }
    Ok(())
}

fn collect_patterns<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            let operator = map.get("o").or_else(|| map.get("operator")).and_then(Value::as_str);
            if matches!(operator, Some("regex" | "regex_in")) {
                match map.get("v").or_else(|| map.get("value")) {
                    Some(Value::Array(items)) => out.extend(items),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            out.extend(map.get("$regex"));
            map.values().for_each(|child| collect_patterns(child, out));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_patterns(item, out)),
        _ => {}
    }
}

/// About how many bytes `value` takes as JSON text, without writing it out.
pub fn approximate_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(n) => n.as_str().len(),
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|i| approximate_size(i) + 1).sum::<usize>(),
        Value::Object(map) => 2 + map.iter().map(|(k, v)| k.len() + 4 + approximate_size(v)).sum::<usize>(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn regex_in(n: usize) -> Value {
        let patterns: Vec<String> = (0..n).map(|i| format!("host-{i}.*")).collect();
        json!({"filter": [{"k": "title", "v": patterns, "o": "regex_in"}]})
    }

    #[test]
    fn patterns_are_counted_across_every_place_a_query_holds_them() {
        assert!(check_patterns(&regex_in(MAX_PATTERNS)).is_ok());
        let err = check_patterns(&regex_in(MAX_PATTERNS + 1)).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains(&format!("at most {MAX_PATTERNS}")), "{err}");
        let spread = json!({
            "filter": (0..10).map(|i| json!({"k": "title", "v": format!("a{i}"), "o": "regex"})).collect::<Vec<_>>(),
            "filter_or": (0..10).map(|i| json!({"key": "tags", "value": {"$regex": format!("b{i}")}, "operator": "match"})).collect::<Vec<_>>(),
        });
        assert!(check_patterns(&spread).is_err(), "10 regex + 10 $regex");
        let long = json!({"filter": [{"k": "title", "v": "x".repeat(MAX_PATTERN_BYTES + 1), "o": "regex"}]});
        assert!(check_patterns(&long).unwrap_err().to_string().contains("bytes"));
    }

    #[test]
    fn a_pattern_that_compiles_too_large_is_refused() {
        assert!(compile_regex("a{1000}{1000}").is_err());
        assert!(compile_regex("^web-\\d+$").is_ok());
    }

    #[test]
    fn approximate_size_follows_the_text() {
        let event = json!({"title": "disk", "raw_data": {"big": "x".repeat(10_000)}, "n": 12, "ok": true});
        let text = event.to_string().len();
        let approx = approximate_size(&event);
        assert!(approx >= text && approx < text + 64, "{approx} vs {text}");
    }
}
