//! The web console: a page, a few JavaScript modules and a style sheet (`console/` at the
//! repository's root), compiled into the get function, which serves them on `GET
//! /console` and `GET /console/{asset}`. The page calls the API it is served by, from
//! the same origin; nothing here reads storage.
//!
//! A file is found by its exact name in [`ASSETS`], never by a path, so no request can
//! reach anything else. Every answer carries an ETag and `Cache-Control: no-cache`: a
//! browser revalidates (a 304, no body) and never runs a module older than the page.

use std::time::Instant;

use lambda_http::{Body, Request, RequestExt, Response};

use super::response;
use super::routes::{route, ConsoleRoute, Route};
use crate::config::ReadAuthorizer;
use crate::digest::{hex, sha256};
use crate::error::Error;

/// One file of the console.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, body: include_str!(concat!("../../../console/", $name)) }
    };
}

/// Every file the page loads, by the name it loads it under.
pub const ASSETS: [Asset; 10] = [
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("auth.js", JS),
    asset!("dom.js", JS),
    asset!("alerts.js", JS),
    asset!("events.js", JS),
    asset!("chart.js", JS),
    asset!("webhooks.js", JS),
    asset!("filters.js", JS),
];

/// The page; `{{base}}` and `{{auth_mode}}` are filled in per request.
const PAGE: &str = include_str!("../../../console/index.html");

/// Nothing from another host, no inline script or style: the page talks to its own API only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

/// The console's route, when the request is for the console.
pub fn route_of(req: &Request) -> Option<ConsoleRoute> {
    match route(req.method(), &request_path(req)) {
        Ok(Route::Console(console)) => Some(console),
        _ => None,
    }
}

/// Answers one console request (a file, a 304, or the SpaceONE 404 for an unknown name)
/// and logs its line.
pub fn respond(req: &Request, console: ConsoleRoute, mode: ReadAuthorizer) -> Response<Body> {
    let started = Instant::now();
    let path = request_path(req);
    let if_none_match = super::header(req, "if-none-match");
    let response = match console.asset {
        None => file(&page(&path, mode), "text/html; charset=utf-8", if_none_match),
        Some(name) => match ASSETS.iter().find(|a| a.name == name) {
            Some(asset) => file(asset.body, asset.content_type, if_none_match),
            None => response::error(&Error::not_found("console file", name)),
        },
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        operation = "console",
        path,
        status = response.status().as_u16(),
        latency_ms,
        "request served"
    );
    response
}

fn request_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path().to_string()
    } else {
        raw.to_string()
    }
}

/// The page, with its base and how it authenticates (`jwt`: it asks for a token; `iam`:
/// for a domain_id). The base is relative to the address the browser shows, which a
/// custom domain's mapping or a REST API's stage may make longer than the path the
/// function sees: `…/console` and `…/console/` both resolve it to `…/console/`, where the
/// files are, with the API one level up.
pub fn page(path: &str, mode: ReadAuthorizer) -> String {
    let base = if path.ends_with('/') { "./" } else { "console/" };
    let mode = match mode {
        ReadAuthorizer::Jwt => "jwt",
        ReadAuthorizer::Iam => "iam",
    };
    PAGE.replace("{{base}}", base).replace("{{auth_mode}}", mode)
}

fn file(body: &str, content_type: &str, if_none_match: Option<&str>) -> Response<Body> {
    let etag = format!("\"{}\"", &hex(&sha256(body.as_bytes()))[..32]);
    let unchanged =
        if_none_match.is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let builder = Response::builder()
        .header("etag", &etag)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("content-security-policy", CONTENT_SECURITY_POLICY);
    let response = match unchanged {
        true => builder.status(304).body(Body::Empty),
        false => builder.status(200).header("content-type", content_type).body(Body::Text(body.to_string())),
    };
    response.expect("status and headers are valid")
}

#[cfg(test)]
mod tests {
    use lambda_http::http::Method;

    use super::*;

    fn get(path: &str, if_none_match: Option<&str>) -> Response<Body> {
        let mut builder = lambda_http::http::Request::builder().method(Method::GET).uri(path);
        if let Some(tag) = if_none_match {
            builder = builder.header("if-none-match", tag);
        }
        let req: Request = builder.body(Body::Empty).unwrap();
        let req = req.with_raw_http_path(path);
        match route_of(&req) {
            Some(console) => respond(&req, console, ReadAuthorizer::Iam),
            None => response::error(&Error::not_found("path", path)),
        }
    }

    fn text(response: &Response<Body>) -> String {
        String::from_utf8(response.body().as_ref().to_vec()).unwrap()
    }

    fn header<'r>(response: &'r Response<Body>, name: &str) -> &'r str {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    #[test]
    fn each_file_is_served_with_its_type_and_revalidation_headers() {
        let page = get("/console", None);
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert!(text(&page).contains(r#"<meta name="auth-mode" content="iam">"#), "{}", text(&page));
        for asset in &ASSETS {
            let answer = get(&format!("/console/{}", asset.name), None);
            assert_eq!(answer.status(), 200, "{}", asset.name);
            assert_eq!(header(&answer, "content-type"), asset.content_type, "{}", asset.name);
            assert_eq!(text(&answer), asset.body);
            assert_eq!(header(&answer, "cache-control"), "no-cache");
            assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
            assert!(header(&answer, "content-security-policy").contains("connect-src 'self'"));
            assert!(header(&answer, "etag").starts_with('"'));
        }
        assert_eq!(header(&get("/console/style.css", None), "content-type"), "text/css; charset=utf-8");
        assert_eq!(header(&get("/console/app.js", None), "content-type"), JS);
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        let sources = ASSETS.iter().map(|a| a.body).chain([PAGE]);
        for source in sources {
            for import in source.split("from './").skip(1).chain(source.split("src=\"").skip(1)) {
                let name = import.split(['\'', '"']).next().unwrap();
                assert!(ASSETS.iter().any(|a| a.name == name), "{name} is loaded but not served");
            }
        }
    }

    #[test]
    fn a_matching_etag_is_answered_304_without_a_body() {
        let first = get("/console/app.js", None);
        let etag = header(&first, "etag").to_string();
        let again = get("/console/app.js", Some(&etag));
        assert_eq!(again.status(), 304);
        assert!(text(&again).is_empty());
        assert_eq!(header(&again, "etag"), etag);
        let listed = get("/console/app.js", Some(&format!("\"other\", {etag}")));
        assert_eq!(listed.status(), 304);
        assert_eq!(get("/console/app.js", Some("\"other\"")).status(), 200);
        assert_ne!(header(&get("/console/api.js", None), "etag"), etag, "each file has its own tag");
    }

    #[test]
    fn nothing_but_the_listed_files_is_reachable() {
        for path in [
            "/console/..%2FCargo.toml",
            "/console/..%2F..%2Fdocs%2Fopenapi.json",
            "/console/%2E%2E",
            "/console/index.html",
            "/console/APP.JS",
            "/console/app.js%00",
            "/console/app.js.map",
            "/console/.%2Fapp.js",
        ] {
            let answer = get(path, None);
            assert_eq!(answer.status(), 404, "{path}");
            assert_eq!(header(&answer, "content-type"), "application/json", "{path}");
            assert!(text(&answer).contains("ERROR_NOT_FOUND"), "{path}");
        }
        for path in ["/console/../Cargo.toml", "/console/a/app.js", "/console/./app.js/"] {
            assert_ne!(get(path, None).status(), 200, "{path}");
        }
    }

    #[test]
    fn the_page_finds_its_files_with_or_without_a_trailing_slash() {
        assert!(text(&get("/console", None)).contains(r#"<base href="console/">"#));
        assert!(text(&get("/prod/console/", None)).contains(r#"<base href="./">"#));
        assert!(page("/console", ReadAuthorizer::Jwt).contains(r#"<meta name="auth-mode" content="jwt">"#));
    }
}
