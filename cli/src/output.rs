//! Printing results: aligned tables for people (the default), JSON or YAML for scripts.
//! Only results go to stdout; logs and warnings go to stderr (`event_core::logging`).

use clap::ValueEnum;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Output {
    /// Aligned columns (a single record: one field a line).
    #[value(name = "table", alias = "text")]
    Text,
    /// The API's JSON answer, pretty-printed.
    Json,
    /// The same answer as YAML.
    Yaml,
}

/// Prints `value` as JSON or YAML, or, for a table, hands it to `table`.
pub fn emit(value: &Value, output: Output, table: impl FnOnce(&Value)) {
    match output {
        Output::Json => println!("{value:#}"),
        Output::Yaml => print!("{}", yaml(value)),
        Output::Text => table(value),
    }
}

/// `value` as a YAML document. serde-saphyr writes it; [`Plain`] hands it numbers as
/// numbers (serde_json's arbitrary-precision numbers serialize as a private map).
pub fn yaml(value: &Value) -> String {
    serde_saphyr::to_string(&Plain(value)).unwrap_or_else(|e| format!("# cannot write YAML: {e}\n"))
}

struct Plain<'v>(&'v Value);

impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => serializer.serialize_u64(u),
                (None, Some(i), _) => serializer.serialize_i64(i),
                (None, None, Some(f)) => serializer.serialize_f64(f),
                _ => serializer.serialize_str(&n.to_string()),
            },
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Plain(item))?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, &Plain(value))?;
                }
                map.end()
            }
        }
    }
}

/// Rows under headers, each column as wide as its widest cell.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: AsRef<str>>(headers: &[S]) -> Table {
        Table { headers: headers.iter().map(|h| h.as_ref().to_uppercase()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rows of `records` under `columns` (dotted paths into each record).
    pub fn of(records: &[Value], columns: &[String]) -> Table {
        let mut table = Table::new(columns);
        for record in records {
            table.row(columns.iter().map(|c| cell(at(record, c))).collect());
        }
        table
    }

    pub fn render(&self) -> String {
        let width = |i: usize| {
            let cells = self.rows.iter().filter_map(|r| r.get(i));
            cells.chain([&self.headers[i]]).map(|c| c.chars().count()).max().unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let mut text = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad + 2));
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// One record, a field a line (FIELD, VALUE).
pub fn print_record(record: &Value) {
    let mut table = Table::new(&["field", "value"]);
    if let Value::Object(fields) = record {
        for (name, value) in fields {
            table.row(vec![name.clone(), cell(value)]);
        }
    }
    table.print();
}

/// The value at a dotted path (`resource.resource_id`); null where there is none.
pub fn at<'v>(record: &'v Value, path: &str) -> &'v Value {
    path.split('.').try_fold(record, |value, key| value.get(key)).unwrap_or(&Value::Null)
}

/// A value as one table cell: text as it is (on one line), nothing for null, anything
/// else as compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.replace(['\n', '\r', '\t'], " "),
        other => other.to_string(),
    }
}

/// What `tables create` changed: tables created, indexes added or removed.
pub fn print_tables(changed: &[String], output: Output) {
    emit(&serde_json::json!({"changed": changed}), output, |_| match changed.is_empty() {
        true => println!("all tables and indexes exist"),
        false => println!("changed: {}", changed.join(", ")),
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn columns_line_up_whatever_the_widths_of_their_cells() {
        let rows = [json!({"id": "e-1", "title": "disk full", "n": 12}), json!({"id": "event-22", "n": 3})];
        let text = Table::of(&rows, &["id".into(), "n".into(), "title".into()]).render();
        assert_eq!(text, "ID        N   TITLE\ne-1       12  disk full\nevent-22  3\n");
    }

    #[test]
    fn yaml_writes_numbers_as_numbers_and_nesting_as_nesting() {
        let value: Value =
            serde_json::from_str(r#"{"total_count": 2, "results": [{"a": {"b": 1.5}}]}"#).unwrap();
        let text = yaml(&value);
        assert!(text.contains("total_count: 2"), "{text}");
        assert!(text.contains("b: 1.5"), "{text}");
        assert!(!text.contains("serde_json"), "{text}");
    }

    #[test]
    fn a_cell_is_one_line() {
        assert_eq!(cell(&json!("two\nlines")), "two lines");
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!({"k": 1})), r#"{"k":1}"#);
        assert_eq!(at(&json!({"resource": {"resource_id": "i-1"}}), "resource.resource_id"), "i-1");
    }
}
