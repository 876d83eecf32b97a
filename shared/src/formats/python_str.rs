//! Python's `str()` of a JSON value, which is how the reference stores a non-string
//! additional_info value.

use serde_json::Value;

/// Renders an additional_info value as the reference stores it: strings as they are,
/// anything else as Python's `str()` writes it (`[]`, `['10.0.0.1']`, `True`, `None`),
/// which is what seed 001's examples show.
pub fn info_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => {
            let mut out = String::new();
            write_python_repr(other, &mut out);
            out
        }
    }
}

fn write_python_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_python_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_str(k, out);
                out.push_str(": ");
                write_python_repr(v, out);
            }
            out.push('}');
        }
    }
}

/// Python's `repr` of a str: single quotes unless the text has one and no double quote.
fn write_python_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn info_text_matches_the_seed_examples() {
        assert_eq!(info_text(&json!([])), "[]");
        assert_eq!(info_text(&json!(["125.131.104.40"])), "['125.131.104.40']");
        assert_eq!(info_text(&json!("spaceoneadm")), "spaceoneadm");
    }

    #[test]
    fn info_text_writes_python_literals() {
        assert_eq!(info_text(&json!({"a": [1, 2.5, true, null]})), "{'a': [1, 2.5, True, None]}");
        assert_eq!(info_text(&json!(["it's"])), "[\"it's\"]");
        assert_eq!(info_text(&json!(false)), "False");
    }
}
