//! The bounded pass `make test` runs: every seed, then generated inputs shaped like what
//! each parser reads (JSON built from the keys and words the parsers look for, and seeds
//! with one part replaced), so a short run still reaches past the first checks.

use std::fs;
use std::path::PathBuf;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

use event_core::query::OPERATORS;

use super::*;

/// Generated inputs per target: seconds in all, a few of the millions `make fuzz` runs.
const CASES: u32 = 4_000;

/// Keys the parsers look for, so generated objects get past "missing field".
const KEYS: &[&str] = &[
    "events",
    "title",
    "description",
    "severity",
    "event_type",
    "event_key",
    "resource",
    "resource_id",
    "resource_type",
    "name",
    "rule",
    "provider",
    "account",
    "image_url",
    "additional_info",
    "occurred_at",
    "alerts",
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "fingerprint",
    "groupKey",
    "receiver",
    "externalURL",
    "generatorURL",
    "alertname",
    "summary",
    "instance",
    "orgId",
    "ruleName",
    "ruleUrl",
    "evalMatches",
    "state",
    "message",
    "values",
    "valueString",
    "dashboardURL",
    "panelURL",
    "Type",
    "TopicArn",
    "Message",
    "MessageId",
    "Subject",
    "Timestamp",
    "SubscribeURL",
    "AlarmName",
    "NewStateValue",
    "NewStateReason",
    "StateChangeTime",
    "Trigger",
    "Dimensions",
    "MetricName",
    "Region",
    "AWSAccountId",
    "detail",
    "detail-type",
    "source",
    "eventTypeCode",
    "affectedEntities",
    "event_name",
    "event_source",
    "time",
    "content",
    "group_id",
    "resource_name",
    "event_state",
    "event_level",
    "event_user",
    "metadata",
    "starts_at",
    "ends_at",
    "timeout",
    "attach_rule",
    "id",
    "event_severity",
    "resource_provider",
    "filter",
    "filter_or",
    "sort",
    "page",
    "start",
    "limit",
    "only",
    "keyword",
    "count_only",
    "minimal",
    "unwind",
    "k",
    "v",
    "o",
    "key",
    "value",
    "operator",
    "desc",
    "keys",
    "aggregate",
    "distinct",
    "group",
    "fields",
    "conditions",
    "date_format",
    "data_type",
    "project",
    "exclude_keys",
    "count",
    "skip",
    "match",
    "path",
    "f",
    "n",
];

/// Words the parsers act on: states, severities, stage operators, times, field paths
/// (and every filter operator, from the query engine itself).
const WORDS: &[&str] = &[
    "firing",
    "resolved",
    "alerting",
    "ok",
    "no_data",
    "pending",
    "ALARM",
    "OK",
    "INSUFFICIENT_DATA",
    "Notification",
    "SubscriptionConfirmation",
    "UnsubscribeConfirmation",
    "aws.health",
    "CRITICAL",
    "critical",
    "ERROR",
    "warning",
    "INFO",
    "NONE",
    "NOT_AVAILABLE",
    "P1",
    "ALERT",
    "RECOVERY",
    "normal",
    "incident",
    "Critical",
    "Major",
    "Minor",
    "Info",
    "EVENT.SYS",
    "EVENT.CUSTOM",
    "alarm",
    "event",
    "$in",
    "$eq",
    "count",
    "sum",
    "average",
    "max",
    "min",
    "first",
    "last",
    "push",
    "add_to_set",
    "merge_objects",
    "size",
    "array_to_object",
    "object_to_array",
    "concat",
    "add",
    "divide",
    "now",
    "now-1d",
    "now+30m",
    "now/d",
    "now-99999999999d",
    "2022-06-21T00:34:58.034Z",
    "2026-11-30",
    "0001-01-01T00:00:00Z",
    "%Y-%m-%d",
    "%H:%M:%S.%L",
    "day",
    "month",
    "created_at",
    "severity",
    "resource.name",
    "additional_info.user",
    "raw_data.tags",
    "raw_data.n",
    "tags",
    "(a|b)*",
    "[",
    "\\",
    "",
];

fn text(words: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop_oneof![4 => select(words).prop_map(String::from), 1 => ".{0,12}"]
}

fn json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        select(&[0i64, 1, -1, 2_147_483_647, 4_294_967_295][..]).prop_map(Value::from),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        text([WORDS, &OPERATORS[..]].concat()).prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((text(KEYS.to_vec()), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn seed_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target)
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let entries = fs::read_dir(seed_dir(target)).unwrap_or_else(|e| panic!("seeds/{target}: {e}"));
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("a readable entry").path()).collect();
    files.sort();
    files.iter().filter(|p| p.is_file()).map(|p| fs::read(p).expect("a readable seed")).collect()
}

/// Generated JSON, or a seed with one of its values replaced by generated JSON.
fn json_input(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Value> = seeds(target).iter().filter_map(|s| serde_json::from_slice(s).ok()).collect();
    let mutated = (select(seeds), any::<Index>(), json()).prop_map(|(mut seed, at, part)| {
        let nodes = count(&seed);
        replace(&mut seed, at.index(nodes), part);
        seed
    });
    prop_oneof![json(), mutated].prop_map(|value| value.to_string().into_bytes())
}

fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// Replaces the `n`th value in pre-order (0 is `value` itself).
fn replace(value: &mut Value, n: usize, part: Value) {
    let Some(mut n) = n.checked_sub(1) else {
        *value = part;
        return;
    };
    let children: Vec<&mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => return,
    };
    for child in children {
        let size = count(child);
        if n < size {
            return replace(child, n, part);
        }
        n -= size;
    }
}

/// A method byte and a path of route-like segments, some percent-encoded or empty.
fn route_input() -> impl Strategy<Value = Vec<u8>> {
    const SEGMENTS: &[&str] = &[
        "",
        "monitoring",
        "v1",
        "webhook",
        "event",
        "events",
        "get",
        "list",
        "stat",
        "search",
        "prod",
        "webhook-1",
        "key",
        "%2F",
        "%",
        "%zz",
        "%E9",
        "***",
        "é",
        "{event_id}",
        "..",
        "V1.0",
        "v2",
        "project-1",
    ];
    let path = vec(text(SEGMENTS.to_vec()), 0..9).prop_map(|segments| format!("/{}", segments.join("/")));
    let seeded = select(seeds("route")).prop_flat_map(|seed| {
        (Just(seed), vec(any::<u8>(), 0..4), any::<Index>()).prop_map(|(seed, insert, at)| {
            let mut data = seed.clone();
            let at = at.index(data.len() + 1);
            data.splice(at..at, insert);
            data
        })
    });
    prop_oneof![
        (any::<u8>(), path).prop_map(|(method, path)| [vec![method], path.into_bytes()].concat()),
        seeded,
        vec(any::<u8>(), 0..64),
    ]
}

#[test]
fn every_seed_keeps_its_property() {
    for (name, target) in TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "seeds/{name} is empty");
        seeds.iter().for_each(|seed| target(seed));
    }
}

#[test]
fn replace_reaches_every_value_once() {
    let seed = json!({"a": [1, {"b": 2}], "c": 3});
    let replaced: Vec<Value> = (0..count(&seed))
        .map(|n| {
            let mut value = seed.clone();
            replace(&mut value, n, json!("x"));
            value
        })
        .collect();
    assert_eq!(replaced[0], json!("x"));
    assert_eq!(replaced[4], json!({"a": [1, {"b": "x"}], "c": 3}));
    assert_eq!(replaced[5], json!({"a": [1, {"b": 2}], "c": "x"}));
    assert_eq!(replaced.iter().collect::<std::collections::HashSet<_>>().len(), count(&seed));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn standard_never_panics(data in json_input("standard")) { standard(&data) }

    #[test]
    fn alertmanager_never_panics(data in json_input("alertmanager")) { alertmanager(&data) }

    #[test]
    fn grafana_never_panics(data in json_input("grafana")) { grafana(&data) }

    #[test]
    fn aws_sns_never_panics(data in json_input("aws_sns")) { aws_sns(&data) }

    #[test]
    fn cloud_eye_never_panics(data in json_input("cloud_eye")) { cloud_eye(&data) }

    #[test]
    fn aom_never_panics(data in json_input("aom")) { aom(&data) }

    #[test]
    fn query_is_parsed_or_a_400(data in json_input("query")) { query(&data) }

    #[test]
    fn stat_query_is_parsed_or_a_400(data in json_input("stat_query")) { stat_query(&data) }

    #[test]
    fn paths_are_routed_or_a_404_or_405(data in route_input()) { route(&data) }
}
