//! `GET /v1/docs`: the OpenAPI document rendered by Redoc, whose script is vendored in the
//! binary (`services/api/assets/`, fetched and checked by `assets/fetch-redoc.sh`) and served
//! from here, so the page works offline and under a Content-Security-Policy that names no
//! other origin.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, header};

/// The pinned Redoc release (also in `assets/fetch-redoc.sh`).
pub const REDOC_VERSION: &str = "2.5.4";
/// Where the script is served: versioned, so it can be cached for good.
pub const SCRIPT_PATH: &str = "/v1/docs/redoc-2.5.4.standalone.js";

const REDOC_SCRIPT: &[u8] = include_bytes!("../../assets/redoc.standalone.js");

/// No other origin, no inline script; Redoc sets inline styles, runs its search index in a
/// worker made from a `blob:` and draws small images as `data:` URLs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

fn page() -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Norikae API</title>\n</head>\n<body>\n\
         <redoc spec-url=\"/v1/openapi.json\"></redoc>\n\
         <script src=\"{SCRIPT_PATH}\"></script>\n</body>\n</html>\n"
    )
}

async fn docs() -> Response {
    let mut response = axum::response::Html(page()).into_response();
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            // Versioned path: a new release is a new URL.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        REDOC_SCRIPT,
    )
        .into_response()
}

/// The docs page and its script (no key needed, like the document).
pub fn router() -> Router {
    Router::new().route("/v1/docs", get(docs)).route(SCRIPT_PATH, get(script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_no_other_origin_and_the_pinned_script() {
        let page = page();
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"));
        assert!(page.contains(SCRIPT_PATH) && SCRIPT_PATH.contains(REDOC_VERSION));
        let head = String::from_utf8_lossy(&REDOC_SCRIPT[..400]);
        assert!(head.contains("redoc.standalone.js.LICENSE.txt"), "{head}");
    }
}
