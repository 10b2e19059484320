//! The `/v1` routes, their access control and the OpenAPI document generated from them.

pub mod alerts;
pub mod docs;
mod document;
mod examples;
pub mod journeys;
mod problems;
pub mod routes;
pub mod stations;
pub mod status;
pub mod trips;

use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::header;
use norikae_runtime::Problem;
use norikae_runtime::problem::PROBLEM_CONTENT_TYPE;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::keys::{SCOPE_ADMIN, SCOPE_READ};
use crate::state::AppState;

/// The key a request carries: `X-Api-Key`, else `Authorization: Bearer`.
fn presented_key(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(key) = headers.get("x-api-key").and_then(|value| value.to_str().ok()) {
        return Some(key.trim().to_owned());
    }
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// Public endpoints: a key with the `read` scope, or none in open access.
async fn require_read(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let key = presented_key(&request);
    let client = state.keys.clients().client_of(&request);
    let (admitted, limits) =
        state.keys.admit(key.as_deref(), SCOPE_READ, state.open_access, client).await;
    answer(admitted, &limits, request, next).await
}

/// The handler's answer to an admitted request, else the refusal's problem; either with the
/// `RateLimit` headers of the limits that applied.
async fn answer(
    admitted: Result<crate::keys::Access, crate::keys::AccessDenied>,
    limits: &crate::ratelimit::RateLimits,
    mut request: Request,
    next: Next,
) -> Response {
    let mut response = match admitted {
        Ok(access) => {
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(denied) => Problem::from(denied).into_response(),
    };
    limits.apply(response.headers_mut());
    response
}

/// Admin endpoints: always a key with the `admin` scope, open access or not.
async fn require_admin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let key = presented_key(&request);
    let client = state.keys.clients().client_of(&request);
    let (admitted, limits) = state.keys.admit(key.as_deref(), SCOPE_ADMIN, false, client).await;
    answer(admitted, &limits, request, next).await
}

fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stations::search))
        .routes(routes!(stations::nearby))
        .routes(routes!(stations::station))
        .routes(routes!(stations::departures))
        .routes(routes!(stations::timetable))
        .routes(routes!(routes::list))
        .routes(routes!(routes::detail))
        .routes(routes!(journeys::journeys))
        .routes(routes!(trips::trip))
        .routes(routes!(alerts::list))
        .routes(routes!(status::status))
}

fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(alerts::create))
        .routes(routes!(alerts::update))
        .routes(routes!(alerts::end))
}

/// The OpenAPI document of every `/v1` route (no state needed: for tests and tooling).
pub fn openapi() -> OpenApi {
    let (_router, document) = OpenApiRouter::<AppState>::new()
        .merge(public_routes())
        .merge(admin_routes())
        .split_for_parts();
    describe(document)
}

fn describe(mut document: OpenApi) -> OpenApi {
    document.info.title = "Norikae API".to_owned();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document.info.description = Some(
        "The public transit API: station search, journeys, departure boards, service alerts. \
         Send a key as `X-Api-Key` or `Authorization: Bearer` (not needed in open-access mode, \
         except for admin endpoints). Errors are `application/problem+json` with a stable `code`; \
         validation problems name the parameter in `field`. Language: `lang=` or `Accept-Language`."
            .to_owned(),
    );
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    // Access control answers every operation can give, documented once here.
    let access_problems = [
        ("401", "No API key, or an unknown one"),
        ("403", "The key is revoked or lacks the scope"),
        (
            "429",
            "Rate limit or daily quota reached, or too many anonymous requests or unknown keys \
             from this client address (see Retry-After)",
        ),
        ("503", "Unavailable (see Retry-After): an engine or, for what needs it, the database"),
    ];
    for path in document.paths.paths.values_mut() {
        let operations = [&mut path.get, &mut path.post, &mut path.patch];
        for operation in operations.into_iter().flatten() {
            // Any operation with parameters or a body can be sent one that does not parse (a
            // garbled `lang`, a path segment that is not UTF-8): the extractors answer 400.
            let takes_input = operation.parameters.as_ref().is_some_and(|list| !list.is_empty())
                || operation.request_body.is_some();
            if takes_input {
                operation
                    .responses
                    .responses
                    .entry("400".to_owned())
                    .or_insert_with(|| problem_response("Invalid parameter"));
            }
            for (status, description) in access_problems {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem_response(description));
            }
        }
    }
    document::declare_headers(&mut document);
    document::list_problem_codes(&mut document);
    document.security = Some(vec![
        utoipa::openapi::security::SecurityRequirement::new("api_key", Vec::<String>::new()),
        utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
    ]);
    document
}

/// A response with an `application/problem+json` body.
fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_CONTENT_TYPE, content)
            .build(),
    )
}

/// Every `/v1` route with its access control, `/v1/openapi.json` and the `/v1/docs` page
/// (the api's own layers around them: [`crate::edge`]).
pub fn router(state: AppState) -> Router {
    let public = public_routes().layer(from_fn_with_state(state.clone(), require_read));
    let admin = admin_routes().layer(from_fn_with_state(state.clone(), require_admin));
    let (router, document) = OpenApiRouter::new().merge(public).merge(admin).split_for_parts();
    let document = describe(document);
    let json = serde_json::to_value(&document).unwrap_or_default();
    router
        .with_state(state)
        .route("/v1/openapi.json", get(move || async move { Json(json) }))
        .merge(docs::router())
}
