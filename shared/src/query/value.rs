//! How JSON values compare: MongoDB's rules, which python-core's queries run on.
//!
//! Sorting needs a total order, or `sort_by` may panic, so `total_cmp` ranks the types
//! as MongoDB does (missing = null < numbers < text < objects < lists < booleans).
//! Filters compare only within one type ("type bracketing"): `"5" < 6` is no match.

use std::cmp::Ordering;
use std::fmt::Write;

use serde_json::{Number, Value};

fn rank(value: Option<&Value>) -> u8 {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Number(_)) => 1,
        Some(Value::String(_)) => 2,
        Some(Value::Object(_)) => 3,
        Some(Value::Array(_)) => 4,
        Some(Value::Bool(_)) => 5,
    }
}

/// A total order over values, a missing value sorting as null.
pub fn total_cmp(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => number_cmp(x, y),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let pairs = x.iter().zip(y.iter());
            pairs
                .map(|((xk, xv), (yk, yv))| xk.cmp(yk).then_with(|| total_cmp(Some(xv), Some(yv))))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| x.len().cmp(&y.len()))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => x
            .iter()
            .zip(y.iter())
            .map(|(xv, yv)| total_cmp(Some(xv), Some(yv)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// An ordering only between values of one kind, as MongoDB's `$lt`/`$gt` have it.
pub fn bracket_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => Some(total_cmp(Some(a), Some(b))),
        _ => None,
    }
}

/// Numbers as numbers: exactly while both are integers, as floats otherwise.
pub fn number_cmp(x: &Number, y: &Number) -> Ordering {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a.cmp(&b);
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a.cmp(&b);
    }
    let float = |n: &Number| n.as_f64().filter(|f| !f.is_nan()).unwrap_or(0.0);
    float(x).total_cmp(&float(y))
}

/// Equality for grouping and sets: `5` and `5.0` are one value, as in MongoDB.
pub fn same(a: &Value, b: &Value) -> bool {
    total_cmp(Some(a), Some(b)).is_eq()
}

/// A text form of a value under which `same` values are equal strings, for hashing.
pub fn identity(value: Option<&Value>, out: &mut String) {
    match value {
        None => out.push('~'),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                let _ = write!(out, "{i}");
            }
            (None, Some(u), _) => {
                let _ = write!(out, "{u}");
            }
            (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        Some(Value::Array(items)) => {
            out.push('[');
            for item in items {
                identity(Some(item), out);
                out.push(',');
            }
            out.push(']');
        }
        Some(Value::Object(map)) => {
            out.push('{');
            for (key, item) in map {
                let _ = write!(out, "{}:", Value::String(key.clone()));
                identity(Some(item), out);
                out.push(',');
            }
            out.push('}');
        }
        Some(other) => {
            let _ = write!(out, "{other}");
        }
    }
}

/// A float that stays a float in JSON (`5.0`), as MongoDB's `$avg` answers; not finite
/// floats (which JSON cannot hold) are null.
pub fn float_value(n: f64) -> Value {
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// Adds numbers as integers while they fit, as floats after that.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum {
    int: i64,
    float: f64,
    is_float: bool,
}

impl Sum {
    pub fn add(&mut self, n: &Number) {
        match n.as_i64() {
            Some(i) if !self.is_float => match self.int.checked_add(i) {
                Some(total) => self.int = total,
                None => {
                    self.is_float = true;
                    self.float = self.int as f64 + i as f64;
                }
            },
            _ => {
                if !self.is_float {
                    self.is_float = true;
                    self.float = self.int as f64;
                }
                self.float += n.as_f64().unwrap_or(0.0);
            }
        }
    }

    pub fn value(&self) -> Value {
        if self.is_float {
            float_value(self.float)
        } else {
            Value::from(self.int)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn total_cmp_ranks_types_like_mongodb_and_missing_as_null() {
        let ordered = [
            json!(null),
            json!(-1),
            json!(2.5),
            json!(10),
            json!("A"),
            json!("a"),
            json!({}),
            json!([]),
            json!(false),
        ];
        for pair in ordered.windows(2) {
            assert_eq!(total_cmp(Some(&pair[0]), Some(&pair[1])), Ordering::Less, "{pair:?}");
        }
        assert_eq!(total_cmp(None, Some(&json!(null))), Ordering::Equal);
        assert_eq!(total_cmp(Some(&json!([1, 2])), Some(&json!([1, 3]))), Ordering::Less);
    }

    #[test]
    fn bracket_cmp_compares_only_like_with_like() {
        assert_eq!(bracket_cmp(&json!(5), &json!(5.0)), Some(Ordering::Equal));
        assert_eq!(bracket_cmp(&json!("b"), &json!("a")), Some(Ordering::Greater));
        assert_eq!(bracket_cmp(&json!("5"), &json!(6)), None);
        assert_eq!(bracket_cmp(&json!(null), &json!(null)), None);
    }

    #[test]
    fn big_integers_compare_exactly() {
        let (a, b) = (json!(9_007_199_254_740_993_i64), json!(9_007_199_254_740_992_i64));
        assert_eq!(bracket_cmp(&a, &b), Some(Ordering::Greater));
        assert_eq!(bracket_cmp(&json!(u64::MAX), &json!(-1)), Some(Ordering::Greater));
    }

    #[test]
    fn same_values_share_an_identity() {
        let id = |v: &Value| {
            let mut s = String::new();
            identity(Some(v), &mut s);
            s
        };
        assert!(same(&json!(5), &json!(5.0)));
        assert_eq!(id(&json!({"a": [5.0]})), id(&json!({"a": [5]})));
        assert_ne!(id(&json!("5")), id(&json!(5)));
        assert_ne!(id(&json!(null)), {
            let mut s = String::new();
            identity(None, &mut s);
            s
        });
    }

    #[test]
    fn sums_stay_integers_until_they_cannot() {
        let mut sum = Sum::default();
        sum.add(&Number::from(2));
        sum.add(&Number::from(3));
        assert_eq!(sum.value(), json!(5));
        sum.add(&Number::from_f64(0.5).unwrap());
        assert_eq!(sum.value(), json!(5.5));
        let mut big = Sum::default();
        big.add(&Number::from(i64::MAX));
        big.add(&Number::from(1));
        assert!(big.value().as_f64().unwrap() > 9.2e18);
        assert_eq!(float_value(4.0), json!(4.0));
    }
}
