//! next_token pages: a page of a range that ends where it is full (or where the read
//! budget ends it), and the key it hands back to go on from.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Select};

use super::range::{EventRange, OutOfTime, RangePages};
use crate::error::{Error, Result};
use crate::model::Event;
use crate::store::schema::CREATED_KEY;
use crate::store::{page_token, Item, Store};

/// Where a page ended: the index keys of its last event. As a token it is opaque text;
/// the partition comes from the request, so a token cannot lead into another domain.
#[derive(Debug, Clone, PartialEq)]
pub struct PageKey {
    created_key: String,
    event_id: String,
}

impl PageKey {
    pub fn to_token(&self) -> String {
        page_token::encode(&self.created_key, &self.event_id)
    }

    pub fn from_token(token: &str) -> Result<PageKey> {
        let (created_key, event_id) = page_token::decode(token)?;
        if !event_id.starts_with("event-") || !created_key.ends_with(&event_id) {
            return Err(page_token::invalid());
        }
        Ok(PageKey { created_key, event_id })
    }

    /// The Query start key that goes on after this key in the range's index.
    fn start_key(&self, range: &EventRange) -> Item {
        let (_, partition_attr, partition) = range.partition();
        HashMap::from([
            ("event_id".to_string(), AttributeValue::S(self.event_id.clone())),
            (CREATED_KEY.to_string(), AttributeValue::S(self.created_key.clone())),
            (partition_attr.to_string(), AttributeValue::S(partition.to_string())),
        ])
    }

    /// Where a Query stopped (its LastEvaluatedKey), as a page key.
    fn stopped_at(key: &Item) -> Result<PageKey> {
        let text = |name: &str| match key.get(name) {
            Some(AttributeValue::S(text)) => Ok(text.clone()),
            _ => Err(Error::Internal(format!("a LastEvaluatedKey without {name}"))),
        };
        Ok(PageKey { created_key: text(CREATED_KEY)?, event_id: text("event_id")? })
    }
}

impl Store {
    /// Up to `want` events of the range that `keep` accepts, newest first, starting
    /// after `after`; with the key to continue from, unless the range is exhausted.
    /// `out_of_time` says what happens when the read budget runs out first.
    pub async fn query_page(
        &self,
        range: &EventRange,
        after: Option<&PageKey>,
        want: usize,
        keep: impl Fn(&Event) -> bool,
        out_of_time: OutOfTime,
    ) -> Result<(Vec<Event>, Option<PageKey>)> {
        let mut pages = RangePages::new(range, range.partition().0, Select::AllProjectedAttributes)
            .after(after.map(|key| key.start_key(range)))
            .growing_limit(want.clamp(25, 1000))
            .on_out_of_time(out_of_time);
        let mut events = Vec::new();
        while let Some(page) = pages.next(self).await? {
            for event in self.page_events(range, page.items.unwrap_or_default()).await? {
                if keep(&event) {
                    let key = PageKey {
                        created_key: format!("{}#{}", event.created_at, event.event_id),
                        event_id: event.event_id.clone(),
                    };
                    events.push(event);
                    if events.len() == want {
                        return Ok((events, Some(key)));
                    }
                }
            }
        }
        Ok((events, pages.stopped_at().map(PageKey::stopped_at).transpose()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_anything_else() {
        let key = PageKey {
            created_key: "2022-06-21T00:34:58.034Z#event-4e16ba3bd384".into(),
            event_id: "event-4e16ba3bd384".into(),
        };
        assert_eq!(PageKey::from_token(&key.to_token()).unwrap(), key);
        for bad in ["", "zz", "abc", "6576656e74", &"41".repeat(300)] {
            assert_eq!(PageKey::from_token(bad).unwrap_err().status(), 400, "{bad}");
        }
    }
}
