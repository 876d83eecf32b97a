//! Dotted keys (`resource.resource_id`, `raw_data.alerts.labels.env`) into JSON values.
//!
//! Filters read paths the way MongoDB does, because that is what SpaceONE clients were
//! written against: a path that meets a list goes on into every element of it (or
//! into one element when the step is an index), and a list at the end of the path is
//! tested element by element. Sorting, grouping and projecting want one value, so
//! `Path::first` takes the first way through.

use serde_json::{Map, Value};

/// A key split once at parse time, so evaluation does no string splitting per event.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    steps: Vec<String>,
}

/// How to hand the values at the end of a path to a test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leaves {
    /// The value as found, even a list (`match` and `exists` look at the list itself).
    AsFound,
    /// A list's elements one by one; any other value as it is.
    Elements,
}

impl Path {
    /// An empty key is the value itself (a list element, for `match`).
    pub fn new(key: &str) -> Path {
        let steps = if key.is_empty() { Vec::new() } else { key.split('.').map(str::to_string).collect() };
        Path { steps }
    }

    /// The path as written, steps joined by dots.
    pub fn key(&self) -> String {
        self.steps.join(".")
    }

    /// The top-level field the path starts in ("" for the value itself).
    pub fn field(&self) -> &str {
        self.steps.first().map_or("", String::as_str)
    }

    /// The value at the path, following objects and list indexes only.
    pub fn first<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.steps.iter().try_fold(value, |current, step| match current {
            Value::Object(map) => map.get(step),
            Value::Array(items) => items.get(step.parse::<usize>().ok()?),
            _ => None,
        })
    }

    /// Whether `test` holds for any value the path reaches.
    pub fn any(&self, value: &Value, leaves: Leaves, test: &mut dyn FnMut(&Value) -> bool) -> bool {
        walk(value, &self.steps, leaves, test)
    }

    /// Whether the path reaches anything at all (a null counts, as in MongoDB).
    pub fn exists(&self, value: &Value) -> bool {
        self.any(value, Leaves::AsFound, &mut |_| true)
    }
}

fn walk(value: &Value, steps: &[String], leaves: Leaves, test: &mut dyn FnMut(&Value) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return match (value, leaves) {
            (Value::Array(items), Leaves::Elements) => items.iter().any(&mut *test),
            _ => test(value),
        };
    };
    match value {
        Value::Object(map) => map.get(step).is_some_and(|next| walk(next, rest, leaves, test)),
        Value::Array(items) => match step.parse::<usize>() {
            Ok(index) => items.get(index).is_some_and(|next| walk(next, rest, leaves, test)),
            // Lists of lists are not searched through, as in MongoDB.
            Err(_) => items.iter().filter(|i| i.is_object()).any(|item| walk(item, steps, leaves, test)),
        },
        _ => false,
    }
}

/// Sets `path` in `target` to `value`, creating (or replacing non-object) parents.
pub fn insert(target: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            target.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = target.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(map) = child {
                insert(map, rest, value);
            }
        }
    }
}

/// Keeps only the named (possibly dotted) fields of an object, at their places.
pub fn project(value: &Value, fields: &[String]) -> Value {
    let mut out = Map::new();
    for field in fields {
        if let Some(found) = Path::new(field).first(value) {
            insert(&mut out, field, found.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reached(value: &Value, key: &str, leaves: Leaves) -> Vec<Value> {
        let mut seen = Vec::new();
        Path::new(key).any(value, leaves, &mut |v| {
            seen.push(v.clone());
            false
        });
        seen
    }

    #[test]
    fn first_follows_objects_and_list_indexes() {
        let v = json!({"resource": {"name": "db-1"}, "list": [1, {"x": 2}]});
        assert_eq!(Path::new("resource.name").first(&v), Some(&json!("db-1")));
        assert_eq!(Path::new("resource.missing").first(&v), None);
        assert_eq!(Path::new("list.1.x").first(&v), Some(&json!(2)));
        assert_eq!(Path::new("list.x").first(&v), None);
        assert_eq!(Path::new("resource.name.deeper").first(&v), None);
    }

    #[test]
    fn any_goes_into_every_list_element_like_mongodb() {
        let v = json!({"alerts": [{"labels": {"env": "prod"}}, {"labels": {"env": "dev"}},
                                  "text", [{"labels": 1}]]});
        assert_eq!(reached(&v, "alerts.labels.env", Leaves::Elements), [json!("prod"), json!("dev")]);
        assert_eq!(reached(&v, "alerts.1.labels.env", Leaves::Elements), [json!("dev")]);
        let tags = json!({"tags": ["a", "b"]});
        assert_eq!(reached(&tags, "tags", Leaves::Elements), [json!("a"), json!("b")]);
        assert_eq!(reached(&tags, "tags", Leaves::AsFound), [json!(["a", "b"])]);
    }

    #[test]
    fn exists_counts_null_but_not_absence() {
        let v = json!({"a": null, "b": [{"c": 1}, {}]});
        assert!(Path::new("a").exists(&v));
        assert!(Path::new("b.c").exists(&v));
        assert!(!Path::new("b.d").exists(&v));
        assert!(!Path::new("z").exists(&v));
    }

    #[test]
    fn project_keeps_nested_fields_in_place() {
        let v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        let fields = ["a".to_string(), "b.c".into(), "zz".into()];
        assert_eq!(project(&v, &fields), json!({"a": 1, "b": {"c": 2}}));
        let overlapping = ["b.c".to_string(), "b".into()];
        assert_eq!(project(&v, &overlapping), json!({"b": {"c": 2, "d": 3}}));
    }

    #[test]
    fn insert_replaces_a_scalar_parent() {
        let mut map = Map::new();
        map.insert("a".into(), json!(1));
        insert(&mut map, "a.b", json!(2));
        assert_eq!(Value::Object(map), json!({"a": {"b": 2}}));
    }
}
