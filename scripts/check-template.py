#!/usr/bin/env python3
"""Fails when template.yaml's tables drift from the store's own definition, or when a
throttle alarm is blind to one of them.

Usage: eventctl tables schema | scripts/check-template.py template.yaml
Every property `eventctl tables schema` prints for a table must appear, equal, in the
template's table resource (the template may add more, such as point-in-time recovery).
Every table, and every global secondary index of it, must be in a throttle alarm for
reads and for writes: the TableName dimension alone does not count an index's throttle
events, so each index is named (TableName + GlobalSecondaryIndexName).
"""
import json
import sys

import yaml


class Loader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, …) as plain values."""


def tag(loader, suffix, node):
    """`!Ref X` reads as {"Ref": "X"} (alarms name their tables by it); other tags as None."""
    if suffix == "Ref" and isinstance(node, yaml.ScalarNode):
        return {"Ref": loader.construct_scalar(node)}
    return None


Loader.add_multi_constructor("!", tag)

RESOURCES = {
    "events": "EventsTable",
    "webhooks": "WebhooksTable",
    "alerts": "AlertsTable",
    "rollups": "RollupsTable",
    "event_rules": "EventRulesTable",
}


def normalise(value):
    """Lists of key/attribute definitions compare as sets: order carries no meaning there."""
    if isinstance(value, list):
        return sorted((normalise(v) for v in value), key=json.dumps)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def main():
    expected = json.load(sys.stdin)
    with open(sys.argv[1]) as f:
        template = yaml.load(f, Loader=Loader)
    problems = []
    for logical, props in expected.items():
        resource = template["Resources"].get(RESOURCES[logical])
        if resource is None:
            problems.append(f"{RESOURCES[logical]}: missing from the template")
            continue
        actual = resource.get("Properties", {})
        for name, value in props.items():
            if normalise(actual.get(name)) != normalise(value):
                problems.append(
                    f"{RESOURCES[logical]}.{name}: template has {json.dumps(actual.get(name))}, "
                    f"the store defines {json.dumps(value)}"
                )
    problems += blind_throttle_alarms(template["Resources"])
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"template.yaml matches the store's {len(expected)} tables")


def blind_throttle_alarms(resources):
    """(table, index or None, Read|Write) that no alarm's throttle metric counts."""
    seen = set()
    for resource in resources.values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = resource.get("Properties", {})
        metrics = [props] + [m.get("MetricStat", {}).get("Metric", {}) for m in props.get("Metrics", [])]
        for metric in metrics:
            name = metric.get("MetricName", "")
            if metric.get("Namespace") != "AWS/DynamoDB" or not name.endswith("ThrottleEvents"):
                continue
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            table = (dims.get("TableName") or {}).get("Ref")
            seen.add((table, dims.get("GlobalSecondaryIndexName"), name[: -len("ThrottleEvents")]))
    problems = []
    for logical in RESOURCES.values():
        indexes = resources[logical]["Properties"].get("GlobalSecondaryIndexes", [])
        for index in [None] + [i["IndexName"] for i in indexes]:
            for kind in ("Read", "Write"):
                if (logical, index, kind) not in seen:
                    where = f"index {index}" if index else "the table itself"
                    problems.append(f"{logical}: no alarm counts {kind}ThrottleEvents of {where}")
    return problems


if __name__ == "__main__":
    main()
