//! The template environment (templates embedded in the binary, HTML auto-escaped) and the
//! page renderer: every page gets the language, its UI strings (`t.key`), the language
//! switch links and the request id, besides its own data.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use minijinja::Environment;
use serde::Serialize;

use crate::i18n::Lang;

/// `(name, source)` of every template, embedded at build time.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("results.html", include_str!("../templates/results.html")),
    ("choose.html", include_str!("../templates/choose.html")),
    ("station.html", include_str!("../templates/station.html")),
    ("trip.html", include_str!("../templates/trip.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("timetable.html", include_str!("../templates/timetable.html")),
];

/// The compiled templates.
#[derive(Debug)]
pub struct Templates {
    environment: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut environment = Environment::new();
        for (name, source) in TEMPLATES {
            environment.add_template(name, source)?;
        }
        Ok(Self { environment })
    }

    /// Renders `template` with `data` and the page basics. A template error is logged and
    /// becomes a plain error page rather than a blank one.
    pub fn render<T: Serialize>(&self, template: &str, basics: &PageBasics, data: &T) -> String {
        let context = PageContext { basics, data };
        match self
            .environment
            .get_template(template)
            .and_then(|page| page.render(minijinja::Value::from(minijinja::value::Serde(&context))))
        {
            Ok(html) => html,
            Err(error) => {
                tracing::error!(template, error = %error_chain(&error), "template rendering failed");
                fallback_page(basics.lang)
            }
        }
    }
}

/// What every page knows about its request.
#[derive(Clone, Debug, Serialize)]
pub struct PageBasics {
    pub lang: Lang,
    /// `ja` / `en`.
    pub lang_code: &'static str,
    /// The UI strings in `lang`.
    pub t: std::collections::BTreeMap<&'static str, &'static str>,
    /// The language switch: this page in each language.
    pub languages: Vec<LanguageLink>,
    pub request_id: Option<String>,
    /// Cache-busting suffix for the static files.
    pub asset_version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct LanguageLink {
    pub code: &'static str,
    pub name: &'static str,
    pub url: String,
    pub current: bool,
}

#[derive(Serialize)]
struct PageContext<'a, T: Serialize> {
    #[serde(flatten)]
    basics: &'a PageBasics,
    #[serde(flatten)]
    data: &'a T,
}

/// A rendered page with its status; sets the language cookie when the page was asked for in
/// a language explicitly (`lang=`).
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub html: String,
    pub remember_lang: Option<Lang>,
    /// The page was served over HTTPS (behind the balancer): the cookie is `Secure`.
    pub secure_cookie: bool,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, Html(self.html)).into_response();
        let headers = response.headers_mut();
        // Pages depend on the language cookie and header: caches must key on them.
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        if let Some(lang) = self.remember_lang {
            let secure = if self.secure_cookie { "; Secure" } else { "" };
            let cookie = format!(
                "lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}",
                lang.code()
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.insert(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// The page of last resort, when a template itself fails: still a page, in the language.
fn fallback_page(lang: Lang) -> String {
    format!(
        "<!doctype html><html lang=\"{code}\"><meta charset=\"utf-8\"><title>{title}</title><h1>{title}</h1><p>{message}</p><p><a href=\"/\">{home}</a></p></html>",
        code = lang.code(),
        title = lang.text("error_title"),
        message = lang.text("err_generic"),
        home = lang.text("back_home"),
    )
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
