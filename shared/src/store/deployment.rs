//! Whether the tables this store names belong to a deployed stack. CloudFormation tags
//! every table it creates with `aws:cloudformation:stack-name`; `eventctl tables create`
//! adds and removes indexes, which on a stack's tables is the stack's business (a change
//! there drifts the stack and rebuilds an index the functions are reading).

use aws_config::SdkConfig;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_types::service_config::ServiceConfigKey;

use super::{storage_error, Store};
use crate::error::Result;

/// The tag CloudFormation puts on the resources of a stack.
pub const STACK_TAG: &str = "aws:cloudformation:stack-name";

/// A table of this store's that carries a stack's tag.
#[derive(Debug, Clone, PartialEq)]
pub struct StackTable {
    pub table: String,
    pub stack: String,
}

impl Store {
    /// The DynamoDB endpoint the client was configured with (`AWS_ENDPOINT_URL_DYNAMODB`,
    /// `AWS_ENDPOINT_URL` or a profile's), if any: none means AWS's own.
    pub fn endpoint_url(&self) -> Option<String> {
        self.endpoint.clone()
    }

    /// This store's existing tables that carry a stack's tag (a missing table is none).
    pub async fn stack_tables(&self) -> Result<Vec<StackTable>> {
        let mut found = Vec::new();
        for def in super::schema::tables() {
            let name = self.physical_name(def.logical);
            let described = match self.client.describe_table().table_name(name).send().await {
                Ok(described) => described,
                Err(e) if e.code() == Some("ResourceNotFoundException") => continue,
                Err(e) => return Err(storage_error(e)),
            };
            let Some(arn) = described.table().and_then(|t| t.table_arn()) else { continue };
            let tags = match self.client.list_tags_of_resource().resource_arn(arn).send().await {
                Ok(tags) => tags,
                // DynamoDB Local has no tags ("Tagging is not currently supported"): its
                // tables are nobody's stack.
                Err(e) if e.code() == Some("UnknownOperationException") => return Ok(found),
                Err(e) => return Err(storage_error(e)),
            };
            if let Some(tag) = tags.tags().iter().find(|t| t.key() == STACK_TAG) {
                found.push(StackTable { table: name.to_string(), stack: tag.value().to_string() });
            }
        }
        Ok(found)
    }
}

/// The endpoint the SDK resolves for DynamoDB from `sdk`, as its client does: the
/// service's own setting (`AWS_ENDPOINT_URL_DYNAMODB`, a profile's `endpoint_url`), else
/// the global one.
pub(super) fn configured_endpoint(sdk: &SdkConfig) -> Option<String> {
    let key = ServiceConfigKey::builder()
        .service_id("DynamoDB")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    let service = key.ok().and_then(|key| sdk.service_config().and_then(|c| c.load_config(key)));
    service.or_else(|| sdk.endpoint_url().map(str::to_string))
}
