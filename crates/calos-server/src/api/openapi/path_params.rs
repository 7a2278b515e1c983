//! The shape of the path parameters that recur across operations, set by
//! name once here instead of on each handler's `params(...)`.
//!
//! Why it matters beyond documentation: a client generator or a fuzzer
//! reading a bare `type: string` will send `/`, `.` or `{` in a path segment,
//! which routes to a different operation. Schemathesis filters such values
//! out, and with two bare strings in one path (`{install_id}/domains/{domain}`)
//! it filtered so many that its health check failed the run at random.
//! Patterns that name what the server accepts leave nothing to filter.

use calos_core::ids::InstallId;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

/// An install id, as `InstallId::parse` accepts it.
const INSTALL_ID_PATTERN: &str = "^[a-z0-9][a-z0-9_-]*$";

/// A domain as a license lists it: ASCII (international names in their
/// `xn--` form), optionally a `*.` wildcard. The server also takes the
/// Unicode spelling and normalises it, but the listed form is what a client
/// has in hand when it names a domain to remove or check.
const DOMAIN_PATTERN: &str = r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$";
/// The longest DNS name.
const DOMAIN_MAX_LEN: usize = 253;

/// `(pattern, min length, max length)` for a path parameter by name.
fn constraints(name: &str) -> Option<(&'static str, usize, usize)> {
    match name {
        "install_id" => Some((INSTALL_ID_PATTERN, InstallId::MIN_LEN, InstallId::MAX_LEN)),
        // The branding image's scope: `default` or an install id, both of
        // the install id's shape.
        "scope" => Some((INSTALL_ID_PATTERN, "default".len(), InstallId::MAX_LEN)),
        "domain" => Some((DOMAIN_PATTERN, 1, DOMAIN_MAX_LEN)),
        "sha" => Some(("^[0-9a-f]{64}$", 64, 64)),
        _ => None,
    }
}

/// Adds the known constraints to `op`'s string path parameters.
pub fn constrain(op: &mut Operation) {
    let parameters = op.parameters.iter_mut().flatten();
    for parameter in parameters.filter_map(|p| match p {
        RefOr::T(p) => Some(p),
        RefOr::Ref(_) => None,
    }) {
        if parameter.parameter_in != ParameterIn::Path {
            continue;
        }
        let Some((pattern, min, max)) = constraints(&parameter.name) else {
            continue;
        };
        if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
            if schema.schema_type != SchemaType::Type(Type::String) {
                continue;
            }
            schema.pattern = Some(pattern.to_owned());
            schema.min_length = Some(min);
            schema.max_length = Some(max);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every string path parameter of an operation with more than one of
    /// them carries a pattern: that is where unconstrained strings made the
    /// contract fuzzer's generation fail.
    #[test]
    fn multi_parameter_paths_are_fully_constrained() {
        let doc =
            serde_json::to_value(crate::api::openapi::openapi()).expect("the document serialises");
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().expect("paths").iter() {
            for op in item.as_object().expect("path item").values() {
                let params: Vec<&Value> = op["parameters"]
                    .as_array()
                    .map(|all| all.iter().filter(|p| p["in"] == "path").collect())
                    .unwrap_or_default();
                if params.len() < 2 {
                    continue;
                }
                for p in params {
                    let schema = &p["schema"];
                    if schema["type"] == "string" {
                        assert!(
                            schema["pattern"].is_string(),
                            "{path}: {} has no pattern",
                            p["name"]
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked >= 6, "only {checked} parameters were checked");
    }

    #[test]
    fn install_id_and_domain_parameters_say_what_the_server_takes() {
        let doc =
            serde_json::to_value(crate::api::openapi::openapi()).expect("the document serialises");
        let op = &doc["paths"]["/api/enterprise/customers/{install_id}/domains/{domain}"]["delete"];
        let params = op["parameters"].as_array().expect("parameters");
        let by_name = |name: &str| {
            params
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["schema"].clone())
                .expect("the parameter is documented")
        };
        let install_id = by_name("install_id");
        assert_eq!(install_id["pattern"], super::INSTALL_ID_PATTERN);
        assert_eq!(install_id["minLength"], 8);
        assert_eq!(install_id["maxLength"], 64);
        let domain = by_name("domain");
        assert_eq!(domain["pattern"], super::DOMAIN_PATTERN);
        assert_eq!(domain["maxLength"], 253);
    }
}
