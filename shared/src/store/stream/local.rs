//! DynamoDB Local's stream of the events table, read shard by shard the way Lambda's
//! event source mapping reads it in AWS: a shard's records in order, a child shard only
//! after its parent is drained, and a batch read again from where it failed until it
//! succeeds.
//!
//! The Streams API is called as JSON over HTTP, and its records are read as the very
//! records Lambda delivers (they have the same shape), so the local stack counts through
//! [`change_from_lambda`] like the rollup function. No SDK crate for it: DynamoDB Local
//! writes an empty map as `{}` rather than `{"M": {}}`, which the SDK refuses.

use std::collections::BTreeMap;

use aws_lambda_events::event::dynamodb::Event as StreamRecords;
use http_body_util::BodyExt;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use super::change_from_lambda;
use crate::error::{Error, Result};
use crate::rollup::Change;
use crate::store::{storage_error, Store};

/// Records one read hands out per shard, as the template's BatchSize.
const BATCH: u32 = 1000;

/// One shard's next records, in stream order.
#[derive(Debug, Clone)]
pub struct ShardBatch {
    pub shard_id: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Default)]
struct Shard {
    parent: Option<String>,
    /// The last record handled; None reads from the shard's start.
    after: Option<String>,
    /// Closed, and read to its end.
    drained: bool,
}

/// A reader of the events stream that remembers how far each shard has been handled.
pub struct LocalStream {
    client: Client<HttpConnector, String>,
    endpoint: String,
    /// DynamoDB Local keeps one database per access key and region (unless started with
    /// -sharedDb): the stream is read as whoever created the table.
    authorization: String,
    stream_arn: String,
    shards: BTreeMap<String, Shard>,
}

impl Store {
    /// The events table's stream on the DynamoDB Local at `endpoint`, read from its start.
    pub async fn local_stream(&self, endpoint: &str) -> Result<LocalStream> {
        let table = self
            .client
            .describe_table()
            .table_name(&self.tables.events)
            .send()
            .await
            .map_err(storage_error)?;
        let stream_arn = table
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| Error::Internal(format!("table {} has no stream", self.tables.events)))?
            .to_string();
        let config = self.client.config();
        let region = config.region().map_or("us-east-1".to_string(), |r| r.to_string());
        let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "local".into());
        Ok(LocalStream {
            client: Client::builder(TokioExecutor::new()).build_http(),
            endpoint: endpoint.to_string(),
            authorization: format!(
                "AWS4-HMAC-SHA256 Credential={key}/20200101/{region}/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=0"
            ),
            stream_arn,
            shards: BTreeMap::new(),
        })
    }
}

impl LocalStream {
    /// The next records of every shard that may be read now (not yet handled, parent
    /// drained), at most one batch a shard; none when the stream is caught up.
    pub async fn poll(&mut self) -> Result<Vec<ShardBatch>> {
        self.discover().await?;
        let ready: Vec<String> = self
            .shards
            .iter()
            .filter(|(_, s)| !s.drained)
            .filter(|(_, s)| s.parent.as_ref().is_none_or(|p| self.shards.get(p).is_none_or(|p| p.drained)))
            .map(|(id, _)| id.clone())
            .collect();
        let mut batches = Vec::new();
        for shard_id in ready {
            let (changes, closed) = self.read(&shard_id).await?;
            if changes.is_empty() {
                if closed {
                    self.shards.entry(shard_id).or_default().drained = true;
                }
                continue;
            }
            batches.push(ShardBatch { shard_id, changes });
        }
        Ok(batches)
    }

    /// Marks a shard handled up to and including `sequence_number`.
    pub fn handled(&mut self, shard_id: &str, sequence_number: &str) {
        self.shards.entry(shard_id.to_string()).or_default().after = Some(sequence_number.to_string());
    }

    async fn discover(&mut self) -> Result<()> {
        let mut start = Value::Null;
        loop {
            let out = self
                .call("DescribeStream", json!({"StreamArn": self.stream_arn, "ExclusiveStartShardId": start}))
                .await?;
            let description = &out["StreamDescription"];
            for shard in description["Shards"].as_array().into_iter().flatten() {
                let Some(id) = shard["ShardId"].as_str() else { continue };
                let known = self.shards.entry(id.to_string()).or_default();
                known.parent = shard["ParentShardId"].as_str().map(str::to_string);
            }
            start = description["LastEvaluatedShardId"].clone();
            if start.is_null() {
                return Ok(());
            }
        }
    }

    /// Up to a batch of the shard's records after the handled ones, and whether the
    /// shard is closed with nothing after them.
    async fn read(&self, shard_id: &str) -> Result<(Vec<Change>, bool)> {
        let after = self.shards.get(shard_id).and_then(|s| s.after.clone());
        let mut request = json!({"StreamArn": self.stream_arn, "ShardId": shard_id});
        match after {
            Some(sequence_number) => {
                request["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
                request["SequenceNumber"] = json!(sequence_number);
            }
            None => request["ShardIteratorType"] = json!("TRIM_HORIZON"),
        }
        let iterator = self.call("GetShardIterator", request).await?["ShardIterator"].clone();
        if iterator.is_null() {
            return Ok((Vec::new(), true));
        }
        let mut out = self.call("GetRecords", json!({"ShardIterator": iterator, "Limit": BATCH})).await?;
        for record in out["Records"].as_array_mut().into_iter().flatten() {
            record["dynamodb"]["NewImage"].as_object_mut().into_iter().flatten().for_each(|(_, v)| typed(v));
        }
        let closed = out["NextShardIterator"].is_null();
        let records: StreamRecords = serde_json::from_value(out)
            .map_err(|e| Error::Internal(format!("DynamoDB Local's stream records: {e}")))?;
        let changes = records.records.iter().map(change_from_lambda).collect::<Result<Vec<_>>>()?;
        Ok((changes, closed))
    }

    async fn call(&self, operation: &str, body: Value) -> Result<Value> {
        let request = http::Request::post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{operation}"))
            .header("authorization", &self.authorization)
            .body(body.to_string())
            .map_err(|e| Error::Internal(format!("a Streams request: {e}")))?;
        let unavailable = |e: &dyn std::fmt::Display| Error::StorageUnavailable(format!("{operation}: {e}"));
        let response = self.client.request(request).await.map_err(|e| unavailable(&e))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| unavailable(&e))?.to_bytes();
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            return Err(unavailable(&format!("HTTP {status}: {text}")));
        }
        serde_json::from_str(&text).map_err(|e| Error::Internal(format!("{operation} answered {e}")))
    }
}

/// An attribute value as DynamoDB writes it: DynamoDB Local writes an empty map as `{}`.
fn typed(value: &mut Value) {
    let Some(object) = value.as_object_mut() else { return };
    if object.is_empty() {
        *value = json!({"M": {}});
        return;
    }
    if let Some(Value::Object(map)) = object.get_mut("M") {
        map.values_mut().for_each(typed);
    }
    if let Some(Value::Array(list)) = object.get_mut("L") {
        list.iter_mut().for_each(typed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_maps_as_dynamodb_local_writes_them_are_typed() {
        let mut value = json!({"M": {"a": {}, "b": {"L": [{}, {"S": "x"}]}}});
        typed(&mut value);
        assert_eq!(value, json!({"M": {"a": {"M": {}}, "b": {"L": [{"M": {}}, {"S": "x"}]}}}));
        let mut top = json!({});
        typed(&mut top);
        assert_eq!(top, json!({"M": {}}));
    }
}
