"""Huawei Cloud's official Python SDKs (huaweicloudsdkces, huaweicloudsdkaom) against the
local stack, unchanged but for the endpoint and credentials: every read call and its
error cases. Run by scripts/huawei-sdk.sh, which starts the stack and stores the events.

    python sdk_calls.py ENDPOINT PROJECT_ID UNKNOWN_PROJECT_ID

Exits non-zero on the first call whose result is not the expected one."""

import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkces.v1 import CesClient, ListEventDetailRequest
from huaweicloudsdkaom.v2 import AomClient, ListEventsRequest, EventQueryParam2

endpoint, project, unknown = sys.argv[1:4]
failures = []


def client(kind, project_id):
    # Any AK/SK: the local stack (IAM mode) does not check Huawei's signature.
    credentials = BasicCredentials("LOCALAK", "LOCALSK", project_id)
    return kind.new_builder().with_credentials(credentials).with_endpoint(endpoint).build()


def check(name, call, expect):
    """`expect(result)` for an answer, or `("error", status, code)` for an SDK error."""
    try:
        result = call()
        outcome = ("ok", result)
    except exceptions.ClientRequestException as e:
        outcome = ("error", e.status_code, e.error_code, e.error_msg)
    ok = expect(outcome)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {summary(outcome)}")
    if not ok:
        failures.append(name)


def summary(outcome):
    if outcome[0] == "error":
        return f"{outcome[1]} {outcome[2]} {outcome[3]!r}"
    answer = outcome[1].to_dict()
    listed = answer.get("events", answer.get("event_info"))
    return f"{len(listed or [])} listed: " + str(answer)[:140]


def error(status, code):
    return lambda o: o[0] == "error" and o[1] == status and o[2] == code and bool(o[3]) \
        and not o[3].lstrip().startswith("{")


ces, ces_unknown = client(CesClient, project), client(CesClient, unknown)
aom, aom_unknown = client(AomClient, project), client(AomClient, unknown)

# Cloud Eye: ListEventDetail.
check("ces list_event_detail", lambda: ces.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded", event_type="EVENT.CUSTOM")),
    lambda o: o[0] == "ok" and o[1].meta_data.total == 2 and len(o[1].event_info) == 2
    and o[1].event_info[0].detail.event_user == "xiaokong")
check("ces list_event_detail sub_event_type, limit", lambda: ces.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded", event_type="EVENT.CUSTOM",
                           sub_event_type="SUB_EVENT.CUSTOM", limit=1)),
    lambda o: o[0] == "ok" and o[1].meta_data.total == 2 and len(o[1].event_info) == 1)
check("ces list_event_detail event_level", lambda: ces.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded", event_type="EVENT.CUSTOM", event_level="Critical")),
    lambda o: o[0] == "ok" and o[1].meta_data.total == 0)
check("ces list_event_detail unknown project", lambda: ces_unknown.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded", event_type="EVENT.CUSTOM")), error(404, "ces.0016"))
check("ces list_event_detail bad event_level", lambda: ces.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded", event_type="EVENT.CUSTOM", event_level="Huge")),
    error(400, "ces.0013"))
check("ces list_event_detail from >= to", lambda: ces.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded", event_type="EVENT.CUSTOM", _from=2, to=1)),
    error(400, "ces.0013"))
check("ces list_event_detail no event_type", lambda: ces.list_event_detail(
    ListEventDetailRequest(event_name="systemInvaded")), error(400, "ces.0013"))

# AOM: ListEvents, each type.
def aom_query(**kw):
    return EventQueryParam2(time_range="-1.-1.30", **kw)

# Every event of the project: the AOM alarm and the two Cloud Eye events (not the other
# domain's).
check("aom list_events events", lambda: aom.list_events(ListEventsRequest(body=aom_query())),
      lambda o: o[0] == "ok" and len(o[1].events) == 3 and o[1].events[0].metadata.get("event_name") == "test")
check("aom list_events active_alert", lambda: aom.list_events(
    ListEventsRequest(type="active_alert", body=aom_query())),
    lambda o: o[0] == "ok" and len(o[1].events) == 1)
check("aom list_events history_alert", lambda: aom.list_events(
    ListEventsRequest(type="history_alert", body=aom_query())),
    lambda o: o[0] == "ok" and len(o[1].events or []) == 0)
check("aom list_events limit", lambda: aom.list_events(ListEventsRequest(limit=1, body=aom_query())),
      lambda o: o[0] == "ok" and len(o[1].events) == 1)
check("aom list_events unknown project", lambda: aom_unknown.list_events(ListEventsRequest(body=aom_query())),
      error(404, "AOM.0404"))
# The SDK's own documentation: a type other than the two alert types lists everything.
check("aom list_events other type", lambda: aom.list_events(ListEventsRequest(type="nonsense", body=aom_query())),
      lambda o: o[0] == "ok" and len(o[1].events) == 3)
check("aom list_events bad time_range", lambda: aom.list_events(
    ListEventsRequest(body=EventQueryParam2(time_range="yesterday"))), error(400, "AOM.0400"))
check("aom list_events limit 0", lambda: aom.list_events(ListEventsRequest(limit=0, body=aom_query())),
      error(400, "AOM.0400"))

print(f"huawei-sdk: {len(failures)} of the calls failed" + (f": {', '.join(failures)}" if failures else ""))
sys.exit(1 if failures else 0)
