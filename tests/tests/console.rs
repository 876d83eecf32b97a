//! The web console through the get function, from API Gateway's two payloads: the page
//! and its files with their types and revalidation headers, a 304 for an unchanged
//! file, the SpaceONE 404 for any other name, and the page told how readers sign in.

use e2e::{app, app_with, ApiEvent, Gateway, GATEWAYS};
use event_core::config::ReadAuthorizer;
use lambda_http::{Body, Response};

fn header<'r>(response: &'r Response<Body>, name: &str) -> &'r str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8(response.body().as_ref().to_vec()).unwrap()
}

fn console_get(gateway: Gateway, path: &str) -> ApiEvent {
    ApiEvent::new(gateway, "get").route("GET", path).query(&[])
}

#[tokio::test]
async fn the_console_page_and_its_files_are_served_by_the_get_function() {
    let app = app().await;
    for gateway in GATEWAYS {
        let page = event_get::handle(&app, console_get(gateway, "/console").request()).await;
        assert_eq!(page.status(), 200, "{gateway:?}");
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert!(text(&page).contains(r#"<meta name="auth-mode" content="iam">"#));
        assert!(text(&page).contains(r#"<script type="module" src="app.js">"#));

        let script = event_get::handle(&app, console_get(gateway, "/console/app.js").request()).await;
        assert_eq!(script.status(), 200);
        assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
        assert_eq!(header(&script, "cache-control"), "no-cache");
        let etag = header(&script, "etag").to_string();
        let again = console_get(gateway, "/console/app.js").header("if-none-match", &etag);
        let again = event_get::handle(&app, again.request()).await;
        assert_eq!(again.status(), 304, "{gateway:?}");
        assert!(text(&again).is_empty());

        let css = event_get::handle(&app, console_get(gateway, "/console/style.css").request()).await;
        assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");

        for path in ["/console/..%2F..%2FCargo.toml", "/console/index.html", "/console/secret"] {
            let refused = event_get::handle(&app, console_get(gateway, path).request()).await;
            assert_eq!(refused.status(), 404, "{gateway:?} {path}");
            assert!(text(&refused).contains("ERROR_NOT_FOUND"), "{path}");
        }
        let posted = ApiEvent::new(gateway, "get").route("POST", "/console").body("{}");
        assert_eq!(event_get::handle(&app, posted.request()).await.status(), 405);
    }
}

#[tokio::test]
async fn behind_a_jwt_authorizer_the_page_asks_for_a_token() {
    let app = app_with(|config| config.read_authorizer = ReadAuthorizer::Jwt).await;
    let page = event_get::handle(&app, console_get(Gateway::Http, "/console/").request()).await;
    assert_eq!(page.status(), 200);
    assert!(text(&page).contains(r#"<meta name="auth-mode" content="jwt">"#));
    assert!(text(&page).contains(r#"<base href="./">"#), "the address ends in /");
}
