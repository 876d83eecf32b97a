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

/// Numbers by their exact values, integers against floats included, so the order stays
/// total (comparing large integers as floats would make 2^53 + 1 "equal" to a float
/// that 2^53 also equals, and the order intransitive).
pub fn number_cmp(x: &Number, y: &Number) -> Ordering {
    match (exact(x), exact(y)) {
        (Exact::Int(a), Exact::Int(b)) => a.cmp(&b),
        (Exact::Float(a), Exact::Float(b)) => a.total_cmp(&b),
        (Exact::Int(a), Exact::Float(b)) => int_float_cmp(a, b),
        (Exact::Float(a), Exact::Int(b)) => int_float_cmp(b, a).reverse(),
    }
}

enum Exact {
    Int(i128),
    Float(f64),
}

fn exact(n: &Number) -> Exact {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => Exact::Int(i.into()),
        (None, Some(u)) => Exact::Int(u.into()),
        // JSON has no NaN; should one ever appear, it sorts as zero.
        _ => Exact::Float(n.as_f64().filter(|f| !f.is_nan()).unwrap_or(0.0)),
    }
}

fn int_float_cmp(i: i128, f: f64) -> Ordering {
    // Integers from JSON are within ±2^64, far inside these bounds.
    if f >= 1.0e30 {
        return Ordering::Less;
    }
    if f <= -1.0e30 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // `whole` is an integer below 1e30 in size, which i128 holds exactly.
    i.cmp(&(whole as i128)).then(if f > whole {
        Ordering::Less
    } else if f < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
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
            // An integral float is the integer it equals, as `number_cmp` sees it.
            (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
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
    use proptest::prelude::*;
    use serde_json::json;

    fn any_scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-3i64..3).prop_map(|i| Value::from(9_007_199_254_740_992_i64 + i)),
            any::<f64>().prop_map(float_value),
            prop::sample::select(vec![0.5, 2.0, 9_007_199_254_740_992.0, -1.5e19, 1.8e19])
                .prop_map(float_value),
            "[a-c]{0,2}".prop_map(Value::from),
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        any_scalar().prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[ab]", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// What sort_by needs not to panic: a total order.
        #[test]
        fn total_cmp_is_a_total_order(a in any_value(), b in any_value(), c in any_value()) {
            let cmp = |x: &Value, y: &Value| total_cmp(Some(x), Some(y));
            prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
            if cmp(&a, &b).is_le() && cmp(&b, &c).is_le() {
                prop_assert!(cmp(&a, &c).is_le(), "{} <= {} <= {}", a, b, c);
            }
            if same(&a, &b) {
                let (mut x, mut y) = (String::new(), String::new());
                identity(Some(&a), &mut x);
                identity(Some(&b), &mut y);
                prop_assert_eq!(x, y, "equal values hash alike");
            }
        }
    }

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
    fn numbers_order_exactly_and_transitively_across_ints_and_floats() {
        let big = json!(9_007_199_254_740_993_i64); // 2^53 + 1, not a float
        let float = json!(9_007_199_254_740_992.0_f64); // 2^53
        let int = json!(9_007_199_254_740_992_i64); // 2^53
        assert_eq!(total_cmp(Some(&big), Some(&float)), Ordering::Greater);
        assert_eq!(total_cmp(Some(&float), Some(&int)), Ordering::Equal);
        assert_eq!(total_cmp(Some(&json!(2)), Some(&json!(2.5))), Ordering::Less);
        assert_eq!(total_cmp(Some(&json!(-2)), Some(&json!(-2.5))), Ordering::Greater);
        assert_eq!(total_cmp(Some(&json!(u64::MAX)), Some(&json!(1.0e300))), Ordering::Less);
        assert_eq!(total_cmp(Some(&json!(i64::MIN)), Some(&json!(-1.0e300))), Ordering::Greater);
        let mut rows: Vec<Value> =
            [&big, &float, &int, &json!(1), &json!(1.5)].into_iter().cloned().collect();
        rows.sort_by(|a, b| total_cmp(Some(a), Some(b)));
        assert_eq!(rows, [json!(1), json!(1.5), float, int, big]);
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
        assert_eq!(id(&json!(1.0e16)), id(&json!(10_000_000_000_000_000_i64)));
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
