//! The stat `project` stage: each row reshaped into named fields, plainly copied or
//! computed with python-core's project operators.
//!
//! In the reference a project after a group keeps MongoDB's `_id`, which python-core
//! flattens into the row, so the group's keys stay in the output unless the stage says
//! `exclude_keys: true`. `carry` holds those key names, worked out at parse time.

use serde_json::{Map, Value};

use super::condition::describe;
use super::parse::{field, flag, object, reject_unknown, text};
use super::path::Path;
use super::value::{float_value, Sum};
use crate::error::{Error, Result};

const OPERATORS: [&str; 9] =
    ["size", "sum", "array_to_object", "object_to_array", "concat", "add", "subtract", "multiply", "divide"];

#[derive(Debug, Clone)]
pub struct Project {
    fields: Vec<(String, Op)>,
    carry: Vec<String>,
    pub exclude_keys: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Copy(Path),
    Size(Path),
    Sum(Path),
    ArrayToObject(Path),
    ObjectToArray(Path),
    Concat(Vec<Path>),
    Arithmetic(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
}

/// An arithmetic operand: a field, a number, or a nested `{operator, fields}`.
#[derive(Debug, Clone)]
enum Expr {
    Field(Path),
    Number(serde_json::Number),
    Apply(Arithmetic, Vec<Expr>),
}

/// A number while computing: integers stay exact until something makes them floats.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Project {
    /// `carry`: the key names of the last group before this stage.
    pub fn parse(raw: &Value, at: &str, carry: Vec<String>) -> Result<Project> {
        let project = object(raw, at, "{fields, exclude_keys?}")?;
        reject_unknown(project, &["fields", "exclude_keys"], at)?;
        let fields = match project.get("fields") {
            Some(Value::Array(fields)) if !fields.is_empty() => fields,
            _ => {
                return Err(Error::invalid(format!(
                    "{at}: needs 'fields', a list of {{key, name, operator?}}"
                )))
            }
        };
        let fields = fields
            .iter()
            .enumerate()
            .map(|(i, f)| parse_field(f, &format!("{at}.fields[{i}]")))
            .collect::<Result<_>>()?;
        let exclude_keys = flag(project.get("exclude_keys"), &format!("{at}.exclude_keys"))?;
        Ok(Project { fields, carry: if exclude_keys { Vec::new() } else { carry }, exclude_keys })
    }

    pub fn run(&self, row: &Value) -> Value {
        let mut out = Map::new();
        for key in &self.carry {
            if let Some(v) = row.get(key) {
                out.insert(key.clone(), v.clone());
            }
        }
        for (name, op) in &self.fields {
            // A copied field that is missing stays missing, as in MongoDB.
            if let Some(v) = op.apply(row) {
                out.insert(name.clone(), v);
            }
        }
        Value::Object(out)
    }
}

fn parse_field(raw: &Value, at: &str) -> Result<(String, Op)> {
    let f = object(raw, at, "{key, name, operator?}")?;
    reject_unknown(f, &["key", "k", "name", "n", "operator", "o", "fields", "f"], at)?;
    let name = text(f, "name", "n", at)?.to_string();
    let key = || text(f, "key", "k", at).map(Path::new);
    let op = match field(f, "operator", "o") {
        None => Op::Copy(key()?),
        Some(_) => match text(f, "operator", "o", at)? {
            "size" => Op::Size(key()?),
            "sum" => Op::Sum(key()?),
            "array_to_object" => Op::ArrayToObject(key()?),
            "object_to_array" => Op::ObjectToArray(key()?),
            "concat" => Op::Concat(concat_keys(f, at)?),
            op @ ("add" | "subtract" | "multiply" | "divide") => Op::Arithmetic(parse_expr(f, op, at)?),
            other => {
                return Err(Error::invalid(format!(
                    "{at}: operator '{other}' is unknown; allowed: {}",
                    OPERATORS.join(", ")
                )))
            }
        },
    };
    Ok((name, op))
}

/// `fields: ["a", "b"]` (or `[{key}]`), or a single `key`.
fn concat_keys(f: &Map<String, Value>, at: &str) -> Result<Vec<Path>> {
    match field(f, "fields", "f") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(k) if !k.is_empty() => Ok(Path::new(k)),
                Value::Object(o) => text(o, "key", "k", at).map(Path::new),
                other => Err(Error::invalid(format!(
                    "{at}: concat 'fields' are field names, not {}",
                    describe(other)
                ))),
            })
            .collect(),
        None => Ok(vec![Path::new(text(f, "key", "k", at)?)]),
        Some(_) => {
            Err(Error::invalid(format!("{at}: operator 'concat' needs 'fields', a list of field names")))
        }
    }
}

fn parse_expr(f: &Map<String, Value>, op: &str, at: &str) -> Result<Expr> {
    let arithmetic = match op {
        "add" => Arithmetic::Add,
        "subtract" => Arithmetic::Subtract,
        "multiply" => Arithmetic::Multiply,
        "divide" => Arithmetic::Divide,
        other => {
            return Err(Error::invalid(format!(
                "{at}: operator '{other}' cannot be nested; allowed: add, subtract, multiply, divide"
            )))
        }
    };
    let operands = match field(f, "fields", "f") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(Error::invalid(format!("{at}: operator '{op}' needs 'fields', a list of operands"))),
    };
    if matches!(arithmetic, Arithmetic::Subtract | Arithmetic::Divide) && operands.len() != 2 {
        return Err(Error::invalid(format!("{at}: operator '{op}' takes exactly two 'fields'")));
    }
    let operands = operands
        .iter()
        .enumerate()
        .map(|(i, operand)| {
            let at = format!("{at}.fields[{i}]");
            match operand {
                Value::String(k) if !k.is_empty() => Ok(Expr::Field(Path::new(k))),
                Value::Number(n) => Ok(Expr::Number(n.clone())),
                Value::Object(nested) => {
                    reject_unknown(nested, &["operator", "o", "fields", "f"], &at)?;
                    parse_expr(nested, text(nested, "operator", "o", &at)?, &at)
                }
                other => Err(Error::invalid(format!(
                    "{at}: an operand is a field name, a number or {{operator, fields}}, not {}",
                    describe(other)
                ))),
            }
        })
        .collect::<Result<_>>()?;
    Ok(Expr::Apply(arithmetic, operands))
}

impl Op {
    fn apply(&self, row: &Value) -> Option<Value> {
        Some(match self {
            Op::Copy(path) => path.first(row)?.clone(),
            Op::Size(path) => {
                path.first(row).and_then(Value::as_array).map_or(Value::Null, |a| Value::from(a.len()))
            }
            Op::Sum(path) => {
                let mut sum = Sum::default();
                match path.first(row) {
                    Some(Value::Number(n)) => sum.add(n),
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(Value::as_number).for_each(|n| sum.add(n))
                    }
                    _ => {}
                }
                sum.value()
            }
            Op::ArrayToObject(path) => match path.first(row) {
                Some(Value::Array(pairs)) => Value::Object(pairs.iter().filter_map(pair).collect()),
                _ => Value::Null,
            },
            Op::ObjectToArray(path) => match path.first(row) {
                Some(Value::Object(map)) => Value::Array(
                    map.iter()
                        .map(|(k, v)| {
                            Value::Object(Map::from_iter([
                                ("k".into(), k.clone().into()),
                                ("v".into(), v.clone()),
                            ]))
                        })
                        .collect(),
                ),
                _ => Value::Null,
            },
            Op::Concat(paths) => concat(paths.iter().map(|p| p.first(row)).collect()),
            Op::Arithmetic(expr) => match expr.eval(row) {
                Some(Num::Int(i)) => Value::from(i),
                Some(Num::Float(f)) => float_value(f),
                None => Value::Null,
            },
        })
    }
}

/// `{k, v}` objects and `[k, v]` lists, as MongoDB's `$arrayToObject` takes them.
fn pair(item: &Value) -> Option<(String, Value)> {
    match item {
        Value::Object(o) => {
            Some((o.get("k")?.as_str()?.to_string(), o.get("v").cloned().unwrap_or(Value::Null)))
        }
        Value::Array(kv) if kv.len() == 2 => Some((kv[0].as_str()?.to_string(), kv[1].clone())),
        _ => None,
    }
}

/// Text joined, or lists joined; null if any part is missing or of another kind, as
/// MongoDB's `$concat` and `$concatArrays` answer.
fn concat(parts: Vec<Option<&Value>>) -> Value {
    if parts.iter().all(|p| matches!(p, Some(Value::String(_)))) {
        Value::String(parts.iter().flatten().filter_map(|p| p.as_str()).collect())
    } else if parts.iter().all(|p| matches!(p, Some(Value::Array(_)))) {
        Value::Array(parts.iter().flatten().filter_map(|p| p.as_array()).flatten().cloned().collect())
    } else {
        Value::Null
    }
}

impl Expr {
    /// None where MongoDB answers null: a missing or non-numeric operand, or division
    /// by zero (where MongoDB fails the query).
    fn eval(&self, row: &Value) -> Option<Num> {
        match self {
            Expr::Field(path) => num(path.first(row)?.as_number()?),
            Expr::Number(n) => num(n),
            Expr::Apply(op, operands) => {
                let values = operands.iter().map(|e| e.eval(row)).collect::<Option<Vec<Num>>>()?;
                let (first, rest) = values.split_first()?;
                rest.iter().try_fold(*first, |acc, next| op.apply(acc, *next))
            }
        }
    }
}

fn num(n: &serde_json::Number) -> Option<Num> {
    n.as_i64().map(Num::Int).or_else(|| n.as_f64().map(Num::Float))
}

impl Arithmetic {
    fn apply(self, a: Num, b: Num) -> Option<Num> {
        let float = |n: Num| match n {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        };
        let exact = match (self, a, b) {
            (Arithmetic::Add, Num::Int(x), Num::Int(y)) => x.checked_add(y),
            (Arithmetic::Subtract, Num::Int(x), Num::Int(y)) => x.checked_sub(y),
            (Arithmetic::Multiply, Num::Int(x), Num::Int(y)) => x.checked_mul(y),
            _ => None,
        };
        if let Some(i) = exact {
            return Some(Num::Int(i));
        }
        let (x, y) = (float(a), float(b));
        Some(Num::Float(match self {
            Arithmetic::Add => x + y,
            Arithmetic::Subtract => x - y,
            Arithmetic::Multiply => x * y,
            Arithmetic::Divide if y == 0.0 => return None,
            Arithmetic::Divide => x / y,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row() -> Value {
        json!({"sev": "CRITICAL", "ids": ["e1", "e2"], "more": ["e3"], "n": 7, "m": 2, "x": 0.5, "zero": 0,
               "title": "Disk", "info": {"a": 1, "b": "x"}, "pairs": [{"k": "a", "v": 1}, ["b", 2], "junk"]})
    }

    fn project(spec: Value, carry: &[&str]) -> Value {
        let carry = carry.iter().map(|c| c.to_string()).collect();
        Project::parse(&spec, "aggregate[1].project", carry).unwrap().run(&row())
    }

    fn one(field: Value) -> Value {
        project(json!({"fields": [field]}), &[])["r"].clone()
    }

    fn err(spec: Value) -> String {
        Project::parse(&spec, "aggregate[1].project", Vec::new()).unwrap_err().to_string()
    }

    #[test]
    fn plain_fields_are_copied_under_their_names_and_missing_ones_left_out() {
        let fields = json!([{"key": "sev", "name": "severity"}, {"k": "info.a", "n": "a"},
                            {"key": "nope", "name": "z"}]);
        let out = project(json!({ "fields": fields }), &[]);
        assert_eq!(out, json!({"severity": "CRITICAL", "a": 1}));
    }

    #[test]
    fn group_keys_stay_unless_exclude_keys() {
        let spec = json!({"fields": [{"key": "n", "name": "count"}]});
        assert_eq!(project(spec, &["sev", "absent"]), json!({"sev": "CRITICAL", "count": 7}));
        let spec = json!({"fields": [{"key": "n", "name": "count"}], "exclude_keys": true});
        assert_eq!(project(spec, &["sev"]), json!({"count": 7}));
    }

    #[test]
    fn size_counts_list_elements() {
        assert_eq!(one(json!({"key": "ids", "name": "r", "operator": "size"})), json!(2));
        assert_eq!(one(json!({"key": "title", "name": "r", "operator": "size"})), Value::Null);
    }

    #[test]
    fn sum_adds_a_lists_numbers() {
        assert_eq!(one(json!({"key": "n", "name": "r", "operator": "sum"})), json!(7));
        assert_eq!(one(json!({"key": "ids", "name": "r", "operator": "sum"})), json!(0));
    }

    #[test]
    fn array_to_object_and_object_to_array_are_inverse() {
        assert_eq!(
            one(json!({"key": "pairs", "name": "r", "operator": "array_to_object"})),
            json!({"a": 1, "b": 2})
        );
        let array = one(json!({"key": "info", "name": "r", "operator": "object_to_array"}));
        assert_eq!(array, json!([{"k": "a", "v": 1}, {"k": "b", "v": "x"}]));
        assert_eq!(one(json!({"key": "title", "name": "r", "operator": "object_to_array"})), Value::Null);
    }

    #[test]
    fn concat_joins_text_or_lists_and_is_null_on_a_mix() {
        assert_eq!(
            one(json!({"name": "r", "operator": "concat", "fields": ["sev", "title"]})),
            json!("CRITICALDisk")
        );
        assert_eq!(
            one(json!({"name": "r", "operator": "concat", "fields": ["ids", {"key": "more"}]})),
            json!(["e1", "e2", "e3"])
        );
        assert_eq!(one(json!({"name": "r", "operator": "concat", "fields": ["sev", "ids"]})), Value::Null);
        assert_eq!(
            one(json!({"name": "r", "operator": "concat", "fields": ["sev", "missing"]})),
            Value::Null
        );
    }

    #[test]
    fn arithmetic_nests_and_keeps_integers_exact() {
        assert_eq!(one(json!({"name": "r", "operator": "add", "fields": ["n", "m", 1]})), json!(10));
        assert_eq!(one(json!({"name": "r", "operator": "subtract", "fields": ["n", "x"]})), json!(6.5));
        let nested = json!({"operator": "add", "fields": ["m", 1]});
        assert_eq!(one(json!({"name": "r", "operator": "multiply", "fields": ["n", nested]})), json!(21));
        assert_eq!(one(json!({"name": "r", "operator": "divide", "fields": ["n", "m"]})), json!(3.5));
        assert_eq!(one(json!({"name": "r", "operator": "divide", "fields": ["n", "zero"]})), Value::Null);
        assert_eq!(one(json!({"name": "r", "operator": "add", "fields": ["n", "title"]})), Value::Null);
        assert_eq!(
            one(json!({"name": "r", "o": "multiply", "f": [i64::MAX, 2]})).as_f64().map(|f| f > 1e19),
            Some(true)
        );
    }

    #[test]
    fn malformed_projects_name_the_part_and_what_is_allowed() {
        assert!(err(json!({})).contains("needs 'fields'"));
        assert!(err(json!({"fields": []})).contains("needs 'fields'"));
        assert_eq!(
            err(json!({"fields": [{"key": "a", "name": "b", "operator": "round"}]})),
            "aggregate[1].project.fields[0]: operator 'round' is unknown; allowed: size, sum, \
             array_to_object, object_to_array, concat, add, subtract, multiply, divide"
        );
        assert!(err(json!({"fields": [{"key": "a"}]})).ends_with("needs 'name'"));
        assert!(err(json!({"fields": [{"name": "b", "operator": "size"}]})).ends_with("needs 'key'"));
        assert!(err(json!({"fields": [{"name": "b", "operator": "divide", "fields": ["a"]}]}))
            .contains("exactly two"));
        assert!(err(json!({"fields": [{"name": "b", "operator": "add", "fields": [true]}]}))
            .starts_with("aggregate[1].project.fields[0].fields[0]:"));
        let size = json!({"operator": "size", "fields": ["a"]});
        assert!(err(json!({"fields": [{"name": "b", "operator": "add", "fields": [size]}]}))
            .contains("cannot be nested"));
        assert!(err(json!({"fields": [{"key": "a", "name": "b"}], "exclude_keys": "yes"}))
            .contains("exclude_keys"));
    }
}
