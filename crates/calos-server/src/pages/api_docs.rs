//! `/api/docs`: the API reference, rendered on the server from the same
//! OpenAPI document `/api/openapi.json` serves — operations grouped by tag,
//! each with its method, path, who may call it, parameters, request body and
//! answers, then every named schema. No third-party viewer, no script.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::render::html;
use super::session::PageAdmin;
use crate::api::openapi::openapi;

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    username: String,
    csrf: String,
    title: String,
    version: String,
    description: String,
    tags: Vec<TagView>,
    schemes: Vec<SchemeView>,
    schemas: Vec<SchemaView>,
}

struct TagView {
    name: String,
    description: String,
    operations: Vec<OperationView>,
}

struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    /// Security scheme names; empty: anyone may call it.
    auth: Vec<String>,
    params: Vec<FieldView>,
    body: Option<BodyView>,
    responses: Vec<ResponseView>,
}

struct BodyView {
    content_type: String,
    required: bool,
    shape: TypeView,
    fields: Vec<FieldView>,
}

struct ResponseView {
    status: String,
    description: String,
    content_type: String,
    shape: Option<TypeView>,
}

/// One parameter or object property.
struct FieldView {
    name: String,
    location: String,
    required: bool,
    shape: TypeView,
    description: String,
}

/// A type written out, linking to a named schema when it is one.
struct TypeView {
    text: String,
    link: Option<String>,
}

struct SchemeView {
    name: String,
    kind: String,
    description: String,
}

struct SchemaView {
    name: String,
    description: String,
    fields: Vec<FieldView>,
    shape: TypeView,
}

pub async fn page(user: PageAdmin) -> Response {
    let doc = match serde_json::to_value(openapi()) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialise");
            Value::Null
        }
    };
    let view = build(&doc);
    html(
        StatusCode::OK,
        &DocsPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            ..view
        },
    )
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn build(doc: &Value) -> DocsPage {
    let info = doc.get("info").cloned().unwrap_or_default();
    let mut tags: Vec<TagView> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| TagView {
                    name: text(t, "name"),
                    description: text(t, "description"),
                    operations: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    let empty = Map::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op
                .get("tags")
                .and_then(|t| t.get(0))
                .and_then(Value::as_str)
                .unwrap_or("other")
                .to_owned();
            let view = operation(method, path, op);
            match tags.iter_mut().find(|t| t.name == tag) {
                Some(t) => t.operations.push(view),
                None => tags.push(TagView {
                    name: tag,
                    description: String::new(),
                    operations: vec![view],
                }),
            }
        }
    }
    tags.retain(|t| !t.operations.is_empty());
    let components = doc.get("components").cloned().unwrap_or_default();
    let schemes = components
        .get("securitySchemes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(name, s)| SchemeView {
                    name: name.clone(),
                    kind: scheme_kind(s),
                    description: text(s, "description"),
                })
                .collect()
        })
        .unwrap_or_default();
    let schemas = components
        .get("schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(name, s)| SchemaView {
                    name: name.clone(),
                    description: text(s, "description"),
                    fields: properties(s),
                    shape: type_of(s),
                })
                .collect()
        })
        .unwrap_or_default();
    DocsPage {
        username: String::new(),
        csrf: String::new(),
        title: text(&info, "title"),
        version: text(&info, "version"),
        description: text(&info, "description"),
        tags,
        schemes,
        schemas,
    }
}

fn operation(method: &str, path: &str, op: &Value) -> OperationView {
    let auth = op
        .get("security")
        .and_then(Value::as_array)
        .map(|alternatives| {
            alternatives
                .iter()
                .filter_map(Value::as_object)
                .map(|all| all.keys().cloned().collect::<Vec<_>>().join(" + "))
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| FieldView {
                    name: text(p, "name"),
                    location: text(p, "in"),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    shape: p.get("schema").map_or_else(unknown, type_of),
                    description: text(p, "description"),
                })
                .collect()
        })
        .unwrap_or_default();
    let body = op.get("requestBody").and_then(|b| {
        let (content_type, media) = b.get("content")?.as_object()?.iter().next()?;
        let schema = media.get("schema").cloned().unwrap_or_default();
        Some(BodyView {
            content_type: content_type.clone(),
            required: b.get("required").and_then(Value::as_bool).unwrap_or(false),
            shape: type_of(&schema),
            fields: properties(&schema),
        })
    });
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|rs| {
            rs.iter()
                .map(|(status, r)| {
                    let first = r
                        .get("content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.iter().next());
                    ResponseView {
                        status: status.clone(),
                        description: text(r, "description"),
                        content_type: first.map(|(ct, _)| ct.clone()).unwrap_or_default(),
                        shape: first.and_then(|(_, m)| m.get("schema")).map(type_of),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    OperationView {
        anchor: text(op, "operationId"),
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary: text(op, "summary"),
        description: text(op, "description"),
        auth,
        params,
        body,
        responses,
    }
}

fn scheme_kind(s: &Value) -> String {
    match text(s, "type").as_str() {
        "http" => format!("HTTP {}", text(s, "scheme")),
        "apiKey" => format!("{} `{}`", text(s, "in"), text(s, "name")),
        other => other.to_owned(),
    }
}

fn unknown() -> TypeView {
    TypeView {
        text: "any".to_owned(),
        link: None,
    }
}

/// The fields of an object schema (none for a reference or a scalar).
fn properties(schema: &Value) -> Vec<FieldView> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| FieldView {
                    name: name.clone(),
                    location: String::new(),
                    required: required.contains(&name.as_str()),
                    shape: type_of(p),
                    description: text(p, "description"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A schema in a few words: `string (date-time) | null`, `array of Plan`,
/// `one of: VALID, TRIAL`, or the name of a component schema.
fn type_of(schema: &Value) -> TypeView {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r).to_owned();
        return TypeView {
            link: Some(format!("schema-{name}")),
            text: name,
        };
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            let words: Vec<String> = parts.iter().map(|p| type_of(p).text).collect();
            let link = parts.iter().find_map(|p| type_of(p).link);
            return TypeView {
                text: words.join(if key == "allOf" { " & " } else { " | " }),
                link,
            };
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let words: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        return TypeView {
            text: format!("one of: {}", words.join(", ")),
            link: None,
        };
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if types.is_empty() {
        return unknown();
    }
    let mut link = None;
    let words: Vec<String> = types
        .iter()
        .map(|t| match t.as_str() {
            "array" => {
                let item = schema.get("items").map_or_else(unknown, type_of);
                link = item.link.clone();
                format!("array of {}", item.text)
            }
            "string" | "integer" | "number" => match schema.get("format").and_then(Value::as_str) {
                Some(f) => format!("{t} ({f})"),
                None => t.clone(),
            },
            _ => t.clone(),
        })
        .collect();
    TypeView {
        text: words.join(" | "),
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_document_is_on_the_page() {
        let doc = serde_json::to_value(openapi()).unwrap_or_default();
        let page = build(&doc);
        let listed: usize = page.tags.iter().map(|t| t.operations.len()).sum();
        let documented: usize = doc["paths"]
            .as_object()
            .map(|p| {
                p.values()
                    .map(|i| i.as_object().map_or(0, |o| o.len()))
                    .sum()
            })
            .unwrap_or(0);
        assert!(listed > 50, "only {listed} operations rendered");
        assert_eq!(listed, documented);
        assert!(page.schemas.iter().any(|s| s.name == "ErrorBody"));
    }

    #[test]
    fn types_are_written_out() {
        let t = type_of(&serde_json::json!({"type": ["string", "null"], "format": "date-time"}));
        assert_eq!(t.text, "string (date-time) | null");
        let t = type_of(
            &serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/Jwk"}}),
        );
        assert_eq!(
            (t.text.as_str(), t.link.as_deref()),
            ("array of Jwk", Some("schema-Jwk"))
        );
        let t = type_of(&serde_json::json!({"enum": ["VALID", "TRIAL"]}));
        assert_eq!(t.text, "one of: VALID, TRIAL");
    }
}
