//! Dotted keys (`resource.resource_id`, `additional_info.user`) into JSON values.

use serde_json::{Map, Value};

/// The value at a dotted path, if every step is an object holding the next key.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |current, step| current.as_object()?.get(step))
}

/// Sets `path` in `target` to `value`, creating the objects on the way.
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

/// Keeps only the named (possibly dotted) fields of an object.
pub fn project(value: &Value, fields: &[String]) -> Value {
    let mut out = Map::new();
    for field in fields {
        if let Some(found) = lookup(value, field) {
            insert(&mut out, field, found.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_follows_objects_only() {
        let v = json!({"resource": {"name": "db-1"}, "list": [1]});
        assert_eq!(lookup(&v, "resource.name"), Some(&json!("db-1")));
        assert_eq!(lookup(&v, "resource.missing"), None);
        assert_eq!(lookup(&v, "list.0"), None);
    }

    #[test]
    fn project_keeps_nested_fields_in_place() {
        let v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        assert_eq!(project(&v, &["a".into(), "b.c".into(), "zz".into()]), json!({"a": 1, "b": {"c": 2}}));
    }
}
