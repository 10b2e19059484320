//! What the OpenAPI document says once for every operation rather than in each handler's
//! annotation: the response headers the api's layers add (`X-Request-Id` on every answer,
//! `RateLimit` / `RateLimit-Policy` where the key check counted the request, `Retry-After` on
//! 429 and 503) and the `enum` of every problem `code`.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, RefOr};

/// `(name, description, integer)` of a header.
type HeaderSpec = (&'static str, &'static str, bool);

const REQUEST_ID: HeaderSpec = (
    "X-Request-Id",
    "The request's id: the caller's `X-Request-Id`, else the balancer's trace id, else a new \
     UUID. Quote it when reporting a problem.",
    false,
);
const RATELIMIT_POLICY: HeaderSpec = (
    "RateLimit-Policy",
    "The limits that apply (draft-ietf-httpapi-ratelimit-headers-11): `\"key\";q=<burst>;w=<secs>` \
     (a key's token bucket), `\"daily\";q=<requests>;w=86400` (its daily quota, UTC days), \
     `\"anonymous\"` (requests without a key, per client address), `\"unknown_keys\"`.",
    false,
);
const RATELIMIT: HeaderSpec = (
    "RateLimit",
    "Where this request left each policy: `\"key\";r=<left>;t=<secs until whole again>`, …",
    false,
);
const RETRY_AFTER: HeaderSpec = ("Retry-After", "Seconds to wait before trying again.", true);

fn header(spec: HeaderSpec) -> utoipa::openapi::header::Header {
    let (_, description, integer) = spec;
    let schema = if integer {
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).build()
    } else {
        ObjectBuilder::new().schema_type(Type::String).build()
    };
    HeaderBuilder::new().schema(Some(schema)).description(Some(description)).build()
}

/// Declares the layers' headers on every response of every operation.
pub fn declare_headers(document: &mut OpenApi) {
    for path in document.paths.paths.values_mut() {
        let operations = [&mut path.get, &mut path.post, &mut path.patch, &mut path.delete];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(response) = response else { continue };
                let mut specs = vec![REQUEST_ID];
                // Every `/v1` operation passes the key check, which reports the limits it
                // counted the request in on whatever the handler answers, and on its 429.
                // (401 and 403 are refusals before any limit was looked at.)
                let counted = status != "401" && status != "403";
                if counted {
                    specs.extend([RATELIMIT_POLICY, RATELIMIT]);
                }
                if status == "429" || status == "503" {
                    specs.push(RETRY_AFTER);
                }
                for spec in specs {
                    response
                        .headers
                        .entry(spec.0.to_owned())
                        .or_insert_with(|| RefOr::T(header(spec)));
                }
            }
        }
    }
}

/// Lists [`norikae_wire::PROBLEM_CODES`] as the `enum` of the `Problem` schema's `code`.
pub fn list_problem_codes(document: &mut OpenApi) {
    let Some(components) = document.components.as_mut() else { return };
    let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
        return;
    };
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Stable machine-readable code; clients branch on it (every value is listed).",
        ))
        .enum_values(Some(norikae_wire::PROBLEM_CODES.iter().copied()))
        .examples([serde_json::json!("invalid_parameter")])
        .build();
    problem.properties.insert("code".to_owned(), RefOr::T(Schema::Object(code)));
}
