#!/usr/bin/env python3
"""Fails when template.yaml's tables drift from the store's own definition.

Usage: eventctl tables schema | scripts/check-template.py template.yaml
Every property `eventctl tables schema` prints for a table must appear, equal, in the
template's table resource (the template may add more, such as point-in-time recovery).
"""
import json
import sys

import yaml


class Loader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, …) as plain values."""


Loader.add_multi_constructor("!", lambda loader, suffix, node: None)

RESOURCES = {
    "events": "EventsTable",
    "webhooks": "WebhooksTable",
    "alerts": "AlertsTable",
    "rollups": "RollupsTable",
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
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"template.yaml matches the store's {len(expected)} tables")


if __name__ == "__main__":
    main()
