"""Huawei Cloud's official Python SDKs (huaweicloudsdkces, huaweicloudsdkaom) against the
local stack, unchanged but for the endpoint and credentials: every read call, both
ingestion calls (signed with a webhook's credentials), and their error cases. Run by scripts/huawei-sdk.sh, which starts the stack and stores the events.

    python sdk_calls.py ENDPOINT PROJECT_ID UNKNOWN_PROJECT_ID

Exits non-zero on the first call whose result is not the expected one."""

import json
import sys
import time
import urllib.request

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkces.v1 import (CesClient, CreateEventsRequest, CreateEventsRequestBody, EventItemDetail,
                                  ListEventDetailRequest)
from huaweicloudsdkaom.v2 import (AomClient, EventList, EventModel, EventQueryParam2, ListEventsRequest,
                                  PushEventsRequest)

endpoint, project, unknown = sys.argv[1:4]
failures = []


def client(kind, project_id):
    # Any AK/SK: the reads (IAM mode) do not check Huawei's signature; ingestion does.
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

# Ingestion on Huawei's own paths, signed by the SDKs with the credentials a webhook's
# create answered (ak: the webhook id, sk: derived from the deployment's secret), in a
# project of its own so the reads above keep their counts.
ingest_project = "project-huawei-ingest"


def create_webhook(fmt, project_id):
    body = json.dumps({"name": f"sdk-push-{fmt}", "project_id": project_id, "format": fmt,
                       "domain_id": "domain-huawei-sdk"}).encode()
    request = urllib.request.Request(f"{endpoint}/monitoring/v1/webhook/create", data=body, method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        created = json.load(answer)
    return created["huawei_credentials"]["ak"], created["huawei_credentials"]["sk"]


def signed_client(kind, ak, sk, project_id):
    credentials = BasicCredentials(ak, sk, project_id)
    return kind.new_builder().with_credentials(credentials).with_endpoint(endpoint).build()


now_ms = int(time.time() * 1000)
ces_ak, ces_sk = create_webhook("cloud_eye", ingest_project)
aom_ak, aom_sk = create_webhook("aom", ingest_project)
ces_push = signed_client(CesClient, ces_ak, ces_sk, ingest_project)
report = [CreateEventsRequestBody(
    event_name="diskFull", event_source="financial.System", time=now_ms,
    detail=EventItemDetail(content="disk /data is full", resource_id="ecs-1", resource_name="web-1",
                           event_state="normal", event_level="Major", event_user="ops", event_type="EVENT.CUSTOM"))]
check("ces create_events", lambda: ces_push.create_events(CreateEventsRequest(body=report)),
      lambda o: o[0] == "ok" and len(o[1].body) == 1 and o[1].body[0].event_name == "diskFull"
      and o[1].body[0].event_id.startswith("ev"))
check("ces create_events read back", lambda: ces_push.list_event_detail(
    ListEventDetailRequest(event_name="diskFull", event_type="EVENT.CUSTOM")),
    lambda o: o[0] == "ok" and o[1].meta_data.total == 1 and o[1].event_info[0].detail.resource_id == "ecs-1")
check("ces create_events wrong sk", lambda: signed_client(CesClient, ces_ak, aom_sk, ingest_project)
      .create_events(CreateEventsRequest(body=report)), error(401, "APIGW.0301"))
check("ces create_events another project", lambda: signed_client(CesClient, ces_ak, ces_sk, project)
      .create_events(CreateEventsRequest(body=report)), error(403, "ces.0017"))
check("ces create_events with an aom webhook", lambda: signed_client(CesClient, aom_ak, aom_sk, ingest_project)
      .create_events(CreateEventsRequest(body=report)), error(400, "ces.0013"))

aom_push = signed_client(AomClient, aom_ak, aom_sk, ingest_project)
alarm = EventModel(starts_at=now_ms, timeout=0, metadata={
    "event_name": "cpuHigh", "event_severity": "Critical", "event_type": "alarm",
    "resource_provider": "ecs", "resource_type": "vm", "resource_id": "ecs-2"},
    annotations={"message": "CPU above 95%"}, attach_rule={})
check("aom push_events", lambda: aom_push.push_events(PushEventsRequest(body=EventList(events=[alarm]))),
      lambda o: o[0] == "ok")
check("aom push_events read back active", lambda: aom_push.list_events(
    ListEventsRequest(type="active_alert", body=aom_query())),
    lambda o: o[0] == "ok" and len(o[1].events) == 1 and o[1].events[0].metadata.get("event_name") == "cpuHigh")
check("aom push_events clear", lambda: aom_push.push_events(
    PushEventsRequest(action="clear", body=EventList(events=[alarm]))), lambda o: o[0] == "ok")
check("aom push_events cleared", lambda: aom_push.list_events(
    ListEventsRequest(type="active_alert", body=aom_query())),
    lambda o: o[0] == "ok" and len(o[1].events or []) == 0)
check("aom push_events wrong sk", lambda: signed_client(AomClient, aom_ak, ces_sk, ingest_project)
      .push_events(PushEventsRequest(body=EventList(events=[alarm]))), error(401, "APIGW.0301"))
check("aom push_events unknown webhook", lambda: signed_client(AomClient, "webhook-000000000000", aom_sk,
      ingest_project).push_events(PushEventsRequest(body=EventList(events=[alarm]))), error(401, "APIGW.0301"))

print(f"huawei-sdk: {len(failures)} of the calls failed" + (f": {', '.join(failures)}" if failures else ""))
sys.exit(1 if failures else 0)
