//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' and types' annotations.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::services::events;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kasse merchant API",
        description = "Create catalog entries, customers and quotes. Authenticate with `Authorization: Bearer <API key>`. \
Every POST accepts an `Idempotency-Key` header. Errors are `{\"error\": {\"type\", \"code\", \"message\", \"param\"}}`. \
Amounts are integer minor units of their currency."
    ),
    components(schemas(
        events::CheckoutCompleted, events::CheckoutExpired, events::InvoiceEvent, events::PaymentFailed,
        events::PaymentRefunded, events::PaymentRequiresRefund, events::Signatory, events::ContractSent,
        events::ContractViewed, events::ContractSigned, events::ContractDeclined, events::ContractCompleted,
        events::ContractClosed,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "catalog", description = "Products, product pricings (plans) and coupons"),
        (name = "customers", description = "The people and organisations you bill"),
        (name = "pricing", description = "Quotes computed by the pricing engine"),
        (name = "checkout", description = "Checkout sessions, reusable links and preview links"),
        (name = "contracts", description = "Contract templates and contracts to sign before paying"),
        (name = "invoices", description = "One-time charges and invoices: create, read, void, mark paid"),
        (name = "webhooks", description = "Signed event notifications to your endpoints"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers every operation can give besides its own, documented once here so that every
/// status the server returns is in the document: 401 without a valid key on every operation;
/// on every POST 400 (a malformed `Idempotency-Key`), 409 (its first request still running) and
/// 422 (the key reused with another request); with a JSON body also 413 (too large) and 415
/// (not JSON); and 422 wherever query parameters are checked.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{HttpMethod, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            ResponseBuilder::new().description(description).content("application/json", content).build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(op) = operation else { continue };
                let mut add = |status: &str, description: &str| {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| error(description).into());
                };
                add("401", "The API key is missing, unknown or revoked.");
                if method == HttpMethod::Post {
                    add("400", "The `Idempotency-Key` header is not 1 to 255 visible ASCII characters.");
                    add(
                        "409",
                        "A request with this `Idempotency-Key` is still being processed, or the change conflicts.",
                    );
                    add(
                        "422",
                        "A field is invalid (`param` names it), or the `Idempotency-Key` was used for another request.",
                    );
                }
                if op.request_body.is_some() {
                    add("413", "The body is larger than the server accepts (1 MiB by default).");
                    add("415", "The body is not JSON (`Content-Type: application/json`).");
                    add("400", "The body is not valid JSON.");
                }
                let has_query = op.parameters.iter().flatten().any(|p| matches!(p.parameter_in, ParameterIn::Query));
                if has_query {
                    add("422", "A query parameter is invalid (`param` names it).");
                }
            }
        }
    }
}

/// OpenAPI 3.1's top-level `webhooks`: the POST Kasse sends for each event type, its body the
/// envelope with that type's payload as `data`. utoipa 5 has no field for it; its extensions
/// map is flattened into the document's top level, so the section is added there.
struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut hooks = serde_json::Map::new();
        for (kind, schema) in events::PAYLOADS {
            let body = serde_json::json!({
                "type": "object",
                "required": ["id", "type", "created", "company_id", "data"],
                "properties": {
                    "id": {"type": "string", "description": "The event id (`evt_…`), also in `Kasse-Event-Id`; the same on every retry."},
                    "type": {"type": "string", "const": kind},
                    "created": {"type": "integer", "description": "When it happened, Unix seconds (UTC)."},
                    "company_id": {"type": "string"},
                    "data": {"$ref": format!("#/components/schemas/{schema}")},
                },
            });
            let operation = serde_json::json!({
                "post": {
                    "operationId": format!("webhook_{}", kind.replace('.', "_")),
                    "tags": ["webhooks"],
                    "summary": format!("`{kind}`, sent to endpoints subscribed to it"),
                    "description": "Signed with `Kasse-Signature` (see docs/webhooks.md); any answer but a 2xx is retried.",
                    "parameters": [
                        {"name": "Kasse-Signature", "in": "header", "required": true, "schema": {"type": "string"}},
                        {"name": "Kasse-Event-Id", "in": "header", "required": true, "schema": {"type": "string"}},
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
                    "responses": {"2XX": {"description": "Received; Kasse will not send this event again."}},
                }
            });
            hooks.insert((*kind).to_string(), operation);
        }
        let extensions = openapi.extensions.get_or_insert_with(Default::default);
        extensions.insert("webhooks".to_string(), serde_json::Value::Object(hooks));
    }
}

/// The document: the routes' operations (`api::routes`, the same list the router is made
/// from), then what every operation shares and the webhooks.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, routed) = super::routes::routes().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(routed);
    CommonErrors.modify(&mut doc);
    Webhooks.modify(&mut doc);
    doc
}

/// The document as JSON, built once per process.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| document().to_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")))
}

pub async fn serve() -> Response {
    let mut response = json().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(super::json()).unwrap()
    }

    /// Follows `$ref`s, properties, items and combinators from `node`, calling `visit` on every
    /// schema reached once; `path` says where it sits for the failure message.
    fn walk<'a>(
        doc: &'a Value,
        node: &'a Value,
        path: String,
        seen: &mut Vec<String>,
        visit: &mut dyn FnMut(&str, &'a Value),
    ) {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if seen.iter().any(|s| s == r) {
                return;
            }
            seen.push(r.to_string());
            let name = r.trim_start_matches("#/components/schemas/");
            walk(doc, &doc["components"]["schemas"][name], name.to_string(), seen, visit);
            return;
        }
        visit(&path, node);
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                walk(doc, v, format!("{path}.{k}"), seen, visit);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(v) = node.get(key).filter(|v| v.is_object()) {
                walk(doc, v, format!("{path}[]"), seen, visit);
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for v in node.get(key).and_then(Value::as_array).into_iter().flatten() {
                walk(doc, v, path.clone(), seen, visit);
            }
        }
    }

    fn is_string(node: &Value) -> bool {
        match &node["type"] {
            Value::String(t) => t == "string",
            Value::Array(ts) => ts.iter().any(|t| t == "string"),
            _ => false,
        }
    }

    #[test]
    fn every_free_text_string_a_request_takes_has_a_length() {
        let doc = doc();
        let mut missing = Vec::new();
        let mut seen = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else { continue };
                walk(&doc, schema, format!("{method} {path}"), &mut seen, &mut |at, node| {
                    let bounded = node.get("enum").is_some()
                        || node.get("format").is_some()
                        || node.get("pattern").is_some()
                        || node.get("maxLength").is_some();
                    if is_string(node) && !bounded {
                        missing.push(at.to_string());
                    }
                });
            }
        }
        assert!(missing.is_empty(), "strings without maxLength, enum, format or pattern:\n{}", missing.join("\n"));
    }

    #[test]
    fn list_filters_carry_their_types() {
        let doc = doc();
        let mut untyped = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(params) = item.pointer("/get/parameters").and_then(Value::as_array) else { continue };
            for p in params.iter().filter(|p| p["in"] == "query") {
                let s = &p["schema"];
                let typed = s.get("enum").is_some()
                    || s.get("pattern").is_some()
                    || s.get("maxLength").is_some()
                    || !is_string(s);
                if !typed {
                    untyped.push(format!("{path} ?{}", p["name"]));
                }
            }
        }
        assert!(untyped.is_empty(), "query parameters typed only as string:\n{}", untyped.join("\n"));
        let contracts = &doc["paths"]["/api/v1/companies/{company_id}/contracts"]["get"]["parameters"];
        let status = contracts.as_array().unwrap().iter().find(|p| p["name"] == "status").unwrap();
        assert!(status["schema"]["enum"].as_array().unwrap().iter().any(|v| v == "PENDING_SIGNATURES"), "{status}");
    }

    #[test]
    fn every_event_type_is_a_webhook_with_its_payload_schema() {
        let doc = doc();
        let hooks = doc["webhooks"].as_object().expect("a top-level webhooks section");
        let kinds: Vec<&str> = hooks.keys().map(String::as_str).collect();
        let mut expected = crate::services::outbox::EVENT_TYPES.to_vec();
        let mut got = kinds.clone();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected, "one webhook per event type");
        for (kind, hook) in hooks {
            let body = &hook["post"]["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(body["properties"]["type"]["const"], kind.as_str());
            let data = body["properties"]["data"]["$ref"].as_str().unwrap();
            let name = data.trim_start_matches("#/components/schemas/");
            let schema = &doc["components"]["schemas"][name];
            assert!(schema["properties"].as_object().is_some_and(|p| !p.is_empty()), "{kind}: {name} is not a schema");
        }
    }

    /// docs/webhooks.md has a section per event type naming every field of its payload.
    #[test]
    fn the_webhook_guide_describes_every_payload_field() {
        let guide = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/webhooks.md"));
        let doc = doc();
        let mut missing = Vec::new();
        for (kind, schema) in crate::services::events::PAYLOADS {
            let heading = guide
                .lines()
                .position(|l| l.starts_with("### ") && l.contains(&format!("`{kind}`")))
                .unwrap_or_else(|| panic!("docs/webhooks.md has no ### heading naming `{kind}`"));
            let section: Vec<&str> = guide.lines().skip(heading + 1).take_while(|l| !l.starts_with('#')).collect();
            for field in doc["components"]["schemas"][schema]["properties"].as_object().unwrap().keys() {
                if !section.iter().any(|l| l.starts_with(&format!("| `{field}` |"))) {
                    missing.push(format!("{kind}: {field}"));
                }
            }
        }
        assert!(missing.is_empty(), "payload fields not in docs/webhooks.md:\n{}", missing.join("\n"));
    }
}
