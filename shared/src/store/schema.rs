//! The tables, keys and indexes: one definition that creates the tables locally
//! (`eventctl tables create`) and that `eventctl tables schema` prints for the check
//! against template.yaml (`scripts/check-template.py`). The events table streams its new
//! items to the rollup consumer, which keeps the rollups table (see `store::rollups`).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{built, storage_error, Store};
use crate::error::{Error, Result};

/// Sort key of every event index: `created_at#event_id`, so events order by creation
/// time and two events created in the same millisecond still have distinct keys.
pub const CREATED_KEY: &str = "created_key";
/// Epoch seconds after which DynamoDB's TTL deletes the item.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The list indexes hold every field of an event but raw_data ([`EVENT_FIELDS`]), so a
/// list page is one Query, and an entry costs 1 write unit where a copy of the whole
/// event would cost 2 once raw_data takes it past 1 KB. raw_data is read from the event
/// items only for pages that ask for it. (The indexes of versions before this one, named
/// without `-fields`, projected ALL.)
pub const DOMAIN_INDEX: &str = "domain_id-created_key-fields-index";
/// The domain index again, holding only the keys and the attributes counts filter on
/// most: a count reads about 200 bytes per event here instead of the whole event.
pub const COUNT_INDEX: &str = "domain_id-created_key-count-index";
/// What [`COUNT_INDEX`] holds besides its keys and `event_id`.
pub const COUNT_ATTRIBUTES: [&str; 4] = ["severity", "event_type", "project_id", "workspace_id"];
pub const ALERT_INDEX: &str = "alert_id-created_key-fields-index";
pub const WEBHOOK_INDEX: &str = "webhook_id-created_key-fields-index";
pub const WEBHOOK_DOMAIN_INDEX: &str = "domain_id-index";
/// The webhooks of a project, holding only their domain: how Huawei's read routes,
/// which name a project but no domain, learn the domain (see `functions/list`).
pub const WEBHOOK_PROJECT_INDEX: &str = "project_id-index";
/// Webhooks with a heartbeat, by when it is due (sparse: only they have the keys): what
/// the sweep reads (see `store::heartbeats`).
pub const HEARTBEAT_INDEX: &str = "heartbeat_partition-heartbeat_due-index";
/// Alerts by domain and state (open or resolved), newest first: see `store::alert_states`.
pub const ALERT_STATE_INDEX: &str = "state_partition-created_at-index";
/// `<domain_id>#open` or `<domain_id>#resolved`, the partition of [`ALERT_STATE_INDEX`].
pub const STATE_PARTITION: &str = "state_partition";
/// Open alerts that resolve by themselves, by the hour they do (see
/// `store::alert_states`): what the sweep reads.
pub const EXPIRY_INDEX: &str = "expiry_bucket-auto_resolve_at-index";
/// The hour (`YYYY-MM-DDTHH`) of an open alert's auto_resolve_at, the partition of
/// [`EXPIRY_INDEX`]; removed when the alert resolves.
pub const EXPIRY_BUCKET: &str = "expiry_bucket";
/// Keys of the rollups table: one rollup view of one domain, and one time bucket of it.
pub const ROLLUP_KEY: &str = "rollup_key";
pub const ROLLUP_BUCKET: &str = "bucket";

/// An event item's attributes that the list indexes hold besides the table key
/// (`event_id`) and `created_key`: all but raw_data (and where it lives,
/// `raw_data_chunks` and `raw_data_digest`). The TTL is one of them: reads hide an expired event before TTL
/// deletes it, by a filter on the index they read.
pub const EVENT_FIELDS: [&str; 19] = [
    "event_key",
    "event_type",
    "title",
    "description",
    "severity",
    "rule",
    "resource",
    "provider",
    "account",
    "image_url",
    "additional_info",
    "alert_id",
    "webhook_id",
    "project_id",
    "workspace_id",
    "domain_id",
    "created_at",
    "occurred_at",
    "expires_at",
];

/// A table as both DynamoDB and CloudFormation see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    /// The logical name (`events`, `webhooks`, `alerts`); the physical name comes from config.
    pub logical: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
    pub indexes: Vec<IndexDef>,
    pub ttl: bool,
    /// Whether the table streams each new item (NEW_IMAGE) to a consumer.
    pub stream: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
    /// The attributes projected besides the keys; None projects the whole item.
    pub includes: Option<Vec<&'static str>>,
}

pub fn tables() -> Vec<TableDef> {
    // An index holds its own keys anyway.
    let fields = |name, partition_key: &'static str| IndexDef {
        name,
        partition_key,
        sort_key: Some(CREATED_KEY),
        includes: Some(EVENT_FIELDS.into_iter().filter(|f| *f != partition_key).collect()),
    };
    vec![
        TableDef {
            logical: "events",
            partition_key: "event_id",
            sort_key: None,
            indexes: vec![
                fields(DOMAIN_INDEX, "domain_id"),
                IndexDef { includes: Some(COUNT_ATTRIBUTES.into()), ..fields(COUNT_INDEX, "domain_id") },
                fields(ALERT_INDEX, "alert_id"),
                fields(WEBHOOK_INDEX, "webhook_id"),
            ],
            ttl: true,
            stream: true,
        },
        TableDef {
            logical: "webhooks",
            partition_key: "webhook_id",
            sort_key: None,
            indexes: vec![
                IndexDef {
                    name: WEBHOOK_DOMAIN_INDEX,
                    partition_key: "domain_id",
                    sort_key: None,
                    includes: None,
                },
                IndexDef {
                    name: WEBHOOK_PROJECT_INDEX,
                    partition_key: "project_id",
                    sort_key: None,
                    includes: Some(vec!["domain_id"]),
                },
                IndexDef {
                    name: HEARTBEAT_INDEX,
                    partition_key: "heartbeat_partition",
                    sort_key: Some("heartbeat_due"),
                    includes: None,
                },
            ],
            ttl: false,
            stream: false,
        },
        TableDef {
            logical: "alerts",
            partition_key: "alert_id",
            sort_key: None,
            indexes: vec![
                IndexDef {
                    name: ALERT_STATE_INDEX,
                    partition_key: STATE_PARTITION,
                    sort_key: Some("created_at"),
                    includes: None,
                },
                IndexDef {
                    name: EXPIRY_INDEX,
                    partition_key: EXPIRY_BUCKET,
                    sort_key: Some("auto_resolve_at"),
                    includes: None,
                },
            ],
            ttl: true,
            stream: false,
        },
        // One item per domain holding all its event rules: create reads a domain's rules
        // with one GetItem (see `store::event_rules`).
        TableDef {
            logical: "event_rules",
            partition_key: "domain_id",
            sort_key: None,
            indexes: vec![],
            ttl: false,
            stream: false,
        },
        TableDef {
            logical: "rollups",
            partition_key: ROLLUP_KEY,
            sort_key: Some(ROLLUP_BUCKET),
            indexes: vec![],
            ttl: true,
            stream: false,
        },
    ]
}

impl TableDef {
    fn attributes(&self) -> Vec<&'static str> {
        let mut names = vec![self.partition_key];
        names.extend(self.sort_key);
        for index in &self.indexes {
            names.push(index.partition_key);
            names.extend(index.sort_key);
        }
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The table's key schema, indexes and TTL as CloudFormation properties
    /// (the subset template.yaml must agree with).
    pub fn cloudformation(&self) -> Value {
        let key = |name: &str, kind: &str| json!({"AttributeName": name, "KeyType": kind});
        let mut key_schema = vec![key(self.partition_key, "HASH")];
        key_schema.extend(self.sort_key.map(|sort| key(sort, "RANGE")));
        let mut props = json!({
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": self.attributes().iter()
                .map(|a| json!({"AttributeName": a, "AttributeType": "S"})).collect::<Vec<_>>(),
            "KeySchema": key_schema,
        });
        if self.stream {
            props["StreamSpecification"] = json!({"StreamViewType": "NEW_IMAGE"});
        }
        if !self.indexes.is_empty() {
            props["GlobalSecondaryIndexes"] = self
                .indexes
                .iter()
                .map(|i| {
                    let mut schema = vec![key(i.partition_key, "HASH")];
                    schema.extend(i.sort_key.map(|s| key(s, "RANGE")));
                    let projection = match &i.includes {
                        None => json!({"ProjectionType": "ALL"}),
                        Some(names) => json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": names}),
                    };
                    json!({"IndexName": i.name, "KeySchema": schema, "Projection": projection})
                })
                .collect();
        }
        if self.ttl {
            props["TimeToLiveSpecification"] = json!({"AttributeName": TTL_ATTRIBUTE, "Enabled": true});
        }
        props
    }
}

/// `{logical name: CloudFormation properties}` for every table.
pub fn cloudformation() -> Value {
    Value::Object(tables().iter().map(|t| (t.logical.to_string(), t.cloudformation())).collect())
}

impl Store {
    /// Creates any missing table, and brings the indexes of an existing one (a table
    /// kept from an older version, with `make run DATA_DIR=…`) in line with its
    /// definition: an index it no longer has is removed, since every event write would
    /// go on paying for it, and one it lacks is added (DynamoDB fills it from the
    /// table). Enables TTL where the table has it. Idempotent; answers what it changed.
    pub async fn create_tables(&self) -> Result<Vec<String>> {
        let existing = self.table_names().await?;
        let mut changed = Vec::new();
        for def in tables() {
            let name = self.physical_name(def.logical).to_string();
            if existing.contains(&name) {
                changed.extend(self.sync_indexes(&name, &def).await?);
                if def.stream && self.enable_stream(&name).await? {
                    changed.push(format!("{name} stream"));
                }
                continue;
            }
            self.create_table(&name, &def).await?;
            changed.push(name);
        }
        Ok(changed)
    }

    /// Every table's name. ListTables answers at most 100 a call, so this pages.
    async fn table_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self
                .client
                .list_tables()
                .set_exclusive_start_table_name(start)
                .send()
                .await
                .map_err(storage_error)?;
            names.extend(page.table_names().iter().cloned());
            start = page.last_evaluated_table_name;
            if start.is_none() {
                return Ok(names);
            }
        }
    }

    /// Removes the indexes `def` lacks, then adds those the table lacks, so the
    /// attribute definitions sent with an added index describe every index the table
    /// then has. One change per UpdateTable, each once the one before has finished, as
    /// DynamoDB requires.
    async fn sync_indexes(&self, name: &str, def: &TableDef) -> Result<Vec<String>> {
        let table = self.client.describe_table().table_name(name).send().await.map_err(storage_error)?;
        let present: Vec<String> = table
            .table()
            .map(|t| {
                t.global_secondary_indexes().iter().filter_map(|i| i.index_name()).map(String::from).collect()
            })
            .unwrap_or_default();
        let mut changes = Vec::new();
        for old in present.iter().filter(|p| def.indexes.iter().all(|i| i.name != p.as_str())) {
            let delete = built(DeleteGlobalSecondaryIndexAction::builder().index_name(old).build())?;
            self.change_index(name, None, GlobalSecondaryIndexUpdate::builder().delete(delete).build())
                .await?;
            changes.push(format!("{name} index {old} removed"));
        }
        for index in def.indexes.iter().filter(|i| !present.iter().any(|p| p == i.name)) {
            let create = CreateGlobalSecondaryIndexAction::builder()
                .index_name(index.name)
                .set_key_schema(Some(index_key_schema(index)))
                .projection(projection(index))
                .build();
            let update = GlobalSecondaryIndexUpdate::builder().create(built(create)?).build();
            self.change_index(name, Some(def), update).await?;
            changes.push(format!("{name} index {} added", index.name));
        }
        Ok(changes)
    }

    /// Streams a table's new items if it does not yet (a table kept from before the
    /// rollups); answers whether it had to.
    async fn enable_stream(&self, name: &str) -> Result<bool> {
        let table = self.client.describe_table().table_name(name).send().await.map_err(storage_error)?;
        let streaming =
            table.table().and_then(|t| t.stream_specification()).is_some_and(|s| s.stream_enabled());
        if streaming {
            return Ok(false);
        }
        self.client
            .update_table()
            .table_name(name)
            .stream_specification(new_images())
            .send()
            .await
            .map_err(storage_error)?;
        Ok(true)
    }

    /// One index change, once the table has finished the one before (DynamoDB refuses a
    /// second while an index is being built or removed), waiting until it is done.
    async fn change_index(
        &self,
        name: &str,
        def: Option<&TableDef>,
        update: GlobalSecondaryIndexUpdate,
    ) -> Result<()> {
        self.until_settled(name).await?;
        self.client
            .update_table()
            .table_name(name)
            .set_attribute_definitions(def.map(attribute_definitions))
            .global_secondary_index_updates(update)
            .send()
            .await
            .map_err(storage_error)?;
        self.until_settled(name).await
    }

    /// Waits until the table and every index it has are ACTIVE (an index is filled from
    /// the table, so this takes longer the more the table holds). The on-disk DynamoDB
    /// Local, the only one whose tables outlive it, takes seconds; the in-memory one did
    /// not finish adding an index to an existing table within the 10 minutes waited.
    async fn until_settled(&self, name: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let out = self.client.describe_table().table_name(name).send().await.map_err(storage_error)?;
            let settled = out.table().is_some_and(|t| {
                t.table_status() == Some(&TableStatus::Active)
                    && t.global_secondary_indexes()
                        .iter()
                        .all(|i| i.index_status() == Some(&IndexStatus::Active))
            });
            if settled {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::StorageUnavailable(format!("table {name} is still changing its indexes")));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(super) fn physical_name(&self, logical: &str) -> &str {
        match logical {
            "events" => &self.tables.events,
            "webhooks" => &self.tables.webhooks,
            "rollups" => &self.tables.rollups,
            "event_rules" => &self.tables.event_rules,
            _ => &self.tables.alerts,
        }
    }

    async fn create_table(&self, name: &str, def: &TableDef) -> Result<()> {
        let mut request = self
            .client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key_element(def.partition_key, KeyType::Hash))
            .set_attribute_definitions(Some(attribute_definitions(def)));
        if let Some(sort) = def.sort_key {
            request = request.key_schema(key_element(sort, KeyType::Range));
        }
        if def.stream {
            request = request.stream_specification(new_images());
        }
        for index in &def.indexes {
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(index_key_schema(index)))
                .projection(projection(index));
            request = request.global_secondary_indexes(gsi.build().expect("index is complete"));
        }
        request.send().await.map_err(storage_error)?;
        if def.ttl {
            self.client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(TTL_ATTRIBUTE)
                        .enabled(true)
                        .build()
                        .expect("ttl specification is complete"),
                )
                .send()
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }
}

fn new_images() -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewImage)
        .build()
        .expect("stream specification is complete")
}

fn key_element(attr: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(attr).key_type(kind).build().expect("key schema is complete")
}

fn index_key_schema(index: &IndexDef) -> Vec<KeySchemaElement> {
    let mut schema = vec![key_element(index.partition_key, KeyType::Hash)];
    schema.extend(index.sort_key.map(|sort| key_element(sort, KeyType::Range)));
    schema
}

fn projection(index: &IndexDef) -> Projection {
    match &index.includes {
        None => Projection::builder().projection_type(ProjectionType::All).build(),
        Some(names) => Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(names.iter().map(|n| n.to_string()).collect()))
            .build(),
    }
}

fn attribute_definitions(def: &TableDef) -> Vec<AttributeDefinition> {
    def.attributes()
        .into_iter()
        .map(|attr| {
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition is complete")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_index_sorts_by_the_unique_created_key() {
        let events = &tables()[0];
        let keys: Vec<_> = events.indexes.iter().map(|i| (i.partition_key, i.sort_key)).collect();
        assert_eq!(
            keys,
            [
                ("domain_id", Some(CREATED_KEY)),
                ("domain_id", Some(CREATED_KEY)),
                ("alert_id", Some(CREATED_KEY)),
                ("webhook_id", Some(CREATED_KEY))
            ]
        );
    }

    #[test]
    fn the_count_index_holds_every_field_of_an_event_summary() {
        use crate::model::{EventSummary, EventType, Severity};
        let mut held: Vec<&str> = COUNT_ATTRIBUTES.into();
        held.extend(["event_id", "domain_id", "created_at"]); // created_at: from created_key
        held.sort_unstable();
        let mut fields = EventSummary::FIELDS;
        fields.sort_unstable();
        assert_eq!(held, fields);
        let summary = EventSummary {
            event_id: "event-1".into(),
            event_type: EventType::Alert,
            severity: Severity::Error,
            project_id: "p".into(),
            workspace_id: "w".into(),
            domain_id: "d".into(),
            created_at: "2026-11-23T00:00:00.000Z".into(),
        };
        let rendered = serde_json::to_value(summary).unwrap();
        let mut rendered: Vec<&str> = rendered.as_object().unwrap().keys().map(String::as_str).collect();
        rendered.sort_unstable();
        assert_eq!(rendered, fields);
    }

    #[test]
    fn cloudformation_defines_each_key_attribute_once() {
        let events = cloudformation()["events"]["AttributeDefinitions"].as_array().unwrap().len();
        assert_eq!(events, 5, "event_id, domain_id, alert_id, webhook_id, created_key");
        let rollups = &cloudformation()["rollups"];
        assert_eq!(rollups["AttributeDefinitions"].as_array().unwrap().len(), 2);
        assert_eq!(rollups["KeySchema"][1], json!({"AttributeName": ROLLUP_BUCKET, "KeyType": "RANGE"}));
    }

    #[test]
    fn only_the_events_table_streams_its_new_items() {
        let streams: Vec<_> = cloudformation()
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, props)| props.get("StreamSpecification").is_some())
            .map(|(name, props)| (name.clone(), props["StreamSpecification"]["StreamViewType"].clone()))
            .collect();
        assert_eq!(streams, [("events".to_string(), json!("NEW_IMAGE"))]);
    }
}
