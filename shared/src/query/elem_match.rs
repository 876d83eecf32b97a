//! The operand of `match`, MongoDB's `$elemMatch`, which python-core passes to MongoDB
//! as given. It takes one of two forms, told apart as MongoDB tells them, by whether
//! its keys are operators:
//! - `{"key": "env", "n": {"$gt": 5}}`: a list of objects has one element with these
//!   fields;
//! - `{"$in": ["prod", "db"]}`: a list of plain values has one element that passes
//!   these operators.
//!
//! Here the operand becomes clauses, each one of our operators on a field of an element
//! (or on the element itself); the condition module builds and evaluates them.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// MongoDB's spellings of our operators.
const OPERATORS: [(&str, &str); 10] = [
    ("$eq", "eq"),
    ("$ne", "not"),
    ("$gt", "gt"),
    ("$gte", "gte"),
    ("$lt", "lt"),
    ("$lte", "lte"),
    ("$in", "in"),
    ("$nin", "not_in"),
    ("$regex", "regex"),
    ("$exists", "exists"),
];

pub const MATCH_HELP: &str =
    "an object of the fields a list element must have (such as {\"key\": \"env\"}), \
     or of operators its elements must pass (such as {\"$in\": [\"prod\", \"db\"]})";

/// One test an element must pass: `op` with `operand` on the field `key` of the
/// element, or on the element itself when `key` is empty. `at` names it in errors.
pub struct Clause<'v> {
    pub key: &'v str,
    pub op: &'static str,
    pub operand: &'v Value,
    pub at: String,
}

/// The clauses of a `match` operand (an object, checked by the caller); `at` names the
/// condition.
pub fn clauses<'v>(fields: &'v Map<String, Value>, at: &str) -> Result<Vec<Clause<'v>>> {
    let bad = |at: &str, message: &str| Error::invalid(format!("{at}: {message}"));
    if fields.is_empty() {
        return Err(bad(at, "operator 'match' needs at least one field or operator in 'v'"));
    }
    let at = format!("{at}.v");
    if all_operators(fields) {
        return operators("", fields, &at);
    }
    if let Some(operator) = fields.keys().find(|k| k.starts_with('$')) {
        return Err(bad(
            &at,
            &format!("'{operator}' is an operator, the other keys are fields: use one or the other"),
        ));
    }
    let mut clauses = Vec::new();
    for (key, wanted) in fields {
        let at = format!("{at}.{key}");
        match wanted {
            Value::Object(ops) if all_operators(ops) => clauses.extend(operators(key, ops, &at)?),
            _ => clauses.push(Clause { key, op: "eq", operand: wanted, at }),
        }
    }
    Ok(clauses)
}

fn all_operators(object: &Map<String, Value>) -> bool {
    !object.is_empty() && object.keys().all(|k| k.starts_with('$'))
}

fn operators<'v>(key: &'v str, ops: &'v Map<String, Value>, at: &str) -> Result<Vec<Clause<'v>>> {
    ops.iter()
        .map(|(name, operand)| {
            let op = OPERATORS.iter().find(|(mongo, _)| mongo == name).map(|(_, ours)| *ours);
            let op = op.ok_or_else(|| {
                let names: Vec<&str> = OPERATORS.iter().map(|(mongo, _)| *mongo).collect();
                Error::invalid(format!("{at}: '{name}' is unknown; allowed: {}", names.join(", ")))
            })?;
            Ok(Clause { key, op, operand, at: at.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(v: Value) -> Result<Vec<(String, &'static str, Value, String)>> {
        let fields = v.as_object().unwrap();
        Ok(clauses(fields, "filter[0]")?
            .into_iter()
            .map(|c| (c.key.to_string(), c.op, c.operand.clone(), c.at))
            .collect())
    }

    #[test]
    fn fields_are_equality_or_operators_on_that_field() {
        assert_eq!(
            parsed(json!({"key": "env", "n": {"$gt": 5, "$lte": 7}})).unwrap(),
            [
                ("key".into(), "eq", json!("env"), "filter[0].v.key".into()),
                ("n".into(), "gt", json!(5), "filter[0].v.n".into()),
                ("n".into(), "lte", json!(7), "filter[0].v.n".into()),
            ]
        );
        assert_eq!(
            parsed(json!({"labels": {"env": "prod"}})).unwrap(),
            [("labels".into(), "eq", json!({"env": "prod"}), "filter[0].v.labels".into())],
            "an object without operators is a value"
        );
    }

    #[test]
    fn operators_alone_test_the_elements_themselves() {
        assert_eq!(
            parsed(json!({"$in": ["prod", "db"], "$ne": "dev"})).unwrap(),
            [
                (String::new(), "in", json!(["prod", "db"]), "filter[0].v".into()),
                (String::new(), "not", json!("dev"), "filter[0].v".into()),
            ]
        );
    }

    #[test]
    fn unknown_operators_mixed_forms_and_empty_operands_are_refused() {
        let unknown = parsed(json!({"n": {"$near": 1}})).unwrap_err().to_string();
        assert!(unknown.starts_with("filter[0].v.n: '$near' is unknown; allowed: $eq, $ne,"), "{unknown}");
        let mixed = parsed(json!({"$in": ["a"], "key": "x"})).unwrap_err().to_string();
        assert!(mixed.starts_with("filter[0].v: '$in' is an operator"), "{mixed}");
        assert!(parsed(json!({})).unwrap_err().to_string().contains("at least one"));
    }
}
