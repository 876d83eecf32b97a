//! create: `POST /monitoring/v1/webhook/{webhook_id}/{access_key}/events`, and `PUT`
//! for an `aom` webhook (AOM's push_events sends PUT; any other format answers 405).
//! The body is the monitor's own payload; the answer is `200 {}` once every event it
//! carries is stored, or for a `cloud_eye` webhook Cloud Eye's own answer,
//! `[{event_id, event_name}]` of the events this delivery stored. An `Idempotency-Key`
//! header names the delivery for redelivery detection when the payload's format has no
//! identity of its own (with the body's bytes: one key sent with different bodies names
//! different changes). With `_` in place of the access key, the key comes from the
//! Authorization header (Bearer, or a Basic password). `?action=clear` makes an AOM
//! body clear the alarms it names, as AOM's own `?action=clear` does.
//!
//! Huawei's own ingestion paths, `POST /V1.0/{project_id}/events` (Cloud Eye's
//! CreateEvents) and `PUT /v2/{project_id}/push/events` (AOM's PushEvents), take the
//! same payloads signed by Huawei's SDKs: the signature's access key id is a `cloud_eye`
//! or `aom` webhook of that project, its secret key the one the webhook's create or
//! rotate-key answered.

use event_core::api::{self, CreateRoute};
use event_core::model::WebhookFormat;
use event_core::service::{self, App, Credential, Delivery};
use event_core::telemetry;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Value};

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    api::serve(req, |req, route| async move {
        // On the request's log line, refusals included: which webhook a sender uses.
        let span = tracing::Span::current();
        let (access_key, signed);
        let credential = match &route {
            CreateRoute::Webhook { webhook_id, access_key: in_path } => {
                span.record("webhook_id", webhook_id.as_str());
                access_key =
                    api::access_key(&req, in_path).inspect_err(|e| telemetry::delivery(None, Err(e)))?;
                Credential::AccessKey { webhook_id, access_key: &access_key }
            }
            CreateRoute::Huawei { project_id, format } => {
                signed = api::huawei_signature(&req).inspect_err(|e| telemetry::delivery(None, Err(e)))?;
                span.record("webhook_id", signed.access_key_id.as_str());
                Credential::Huawei { signed: &signed, project_id, format: *format }
            }
        };
        // No limit here: Lambda's 6 MB invoke payload bounds what arrives, and a body
        // over MAX_BODY_BYTES is kept as an ERROR event, never refused.
        let body: &[u8] = req.body().as_ref();
        let idempotency_key = api::header(&req, "idempotency-key");
        let params = req.query_string_parameters();
        let action = params.first("action");
        let put = req.method() == lambda_http::http::Method::PUT;
        let delivery = Delivery { credential, body, idempotency_key, action, put };
        let outcome = service::create_events(app, delivery).await;
        let stored = |c: &service::Created| telemetry::Stored {
            events: c.events.len(),
            duplicates: c.duplicates,
            parse_errors: c.parse_errors,
        };
        telemetry::delivery(outcome.as_ref().ok().map(|c| c.format), outcome.as_ref().map(stored));
        let created = outcome?;
        // What this delivery stored (a redelivery stores nothing), and whose.
        span.record("format", tracing::field::display(created.format));
        span.record("events_stored", created.events.len());
        span.record("events_deduplicated", created.duplicates);
        if let Some(event) = created.events.first() {
            span.record("domain_id", event.domain_id.as_str());
        }
        Ok(match created.format {
            WebhookFormat::CloudEye => {
                let stored =
                    created.events.iter().map(|e| json!({"event_id": e.event_id, "event_name": e.title}));
                Value::Array(stored.collect())
            }
            _ => json!({}),
        })
    })
    .await
}
