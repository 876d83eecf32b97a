//! The OpenAPI 3.1 document of every route (docs/openapi.json), which the local server
//! serves at `GET /openapi.json` and schemathesis tests the running stack against.

/// docs/openapi.json, as checked in.
pub const DOCUMENT: &str = include_str!("../../../docs/openapi.json");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::api::Endpoint;

    #[test]
    fn the_document_lists_exactly_the_routes_of_the_route_table() {
        let document: Value = serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON");
        let paths = document["paths"].as_object().expect("the document has paths");
        let documented: BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("a path item is an object");
                item.keys()
                    .filter(|k| HTTP_METHODS.contains(&k.as_str()))
                    .map(|m| (m.to_uppercase(), path.clone()))
            })
            .collect();
        let routed: BTreeSet<(String, String)> = Endpoint::ALL
            .into_iter()
            .map(|e| e.spec())
            .map(|(method, template)| (method.to_string(), template.to_string()))
            .collect();
        assert_eq!(routed.len(), Endpoint::ALL.len(), "two endpoints share a method and path");
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(undocumented.is_empty(), "routes missing from docs/openapi.json: {undocumented:?}");
        assert!(unrouted.is_empty(), "docs/openapi.json documents routes nothing serves: {unrouted:?}");
    }

    const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
}
