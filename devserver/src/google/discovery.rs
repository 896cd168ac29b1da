//! Google's discovery document for the People API, used as the authority on what a request
//! may contain: every accepted request is matched to a method (HTTP method + path template),
//! its query parameters are checked by name, type and enum, and its JSON body is walked
//! against the request schema, rejecting unknown fields the way Google's front end does.

use super::error::{ApiError, ApiResult};
use super::http::percent_decode;
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The discovery document, copied from Google (revision 20251117) into the project.
pub const PEOPLE_V1_JSON: &str = include_str!("../../discovery/people.v1.json");

/// One segment of a path template.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Var(String),
}

/// A method of the API as the discovery document describes it.
#[derive(Debug, Clone)]
pub struct MethodInfo {
    /// e.g. `people.connections.list`.
    pub id: String,
    pub http_method: String,
    /// e.g. `v1/people/{peopleId}/connections`.
    pub flat_path: String,
    segs: Vec<Seg>,
    /// Query-location parameters by name, with their schema.
    pub query_params: BTreeMap<String, Value>,
    pub request_ref: Option<String>,
    pub response_ref: Option<String>,
    pub scopes: Vec<String>,
}

/// Outcome of routing a request.
pub enum Route<'a> {
    Found(&'a MethodInfo, BTreeMap<String, String>),
    WrongMethod,
    NotFound,
}

/// The parsed discovery document.
pub struct Discovery {
    doc: Value,
    methods: Vec<MethodInfo>,
    global_params: BTreeMap<String, Value>,
}

/// The process-wide parsed document.
pub fn discovery() -> &'static Discovery {
    static DOC: OnceLock<Discovery> = OnceLock::new();
    DOC.get_or_init(|| Discovery::parse(PEOPLE_V1_JSON))
}

fn parse_template(t: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        if let Some(start) = rest.find('{') {
            if start > 0 {
                segs.push(Seg::Lit(rest[..start].to_string()));
            }
            let after = &rest[start + 1..];
            let end = after.find('}').unwrap_or(after.len());
            segs.push(Seg::Var(after[..end].to_string()));
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            segs.push(Seg::Lit(rest.to_string()));
            break;
        }
    }
    segs
}

fn match_template(segs: &[Seg], path: &str) -> Option<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    let mut rest = path;
    for seg in segs {
        match seg {
            Seg::Lit(l) => rest = rest.strip_prefix(l.as_str())?,
            Seg::Var(name) => {
                let end = rest.find(['/', ':']).unwrap_or(rest.len());
                if end == 0 {
                    return None;
                }
                vars.insert(name.clone(), percent_decode(&rest[..end], false));
                rest = &rest[end..];
            }
        }
    }
    rest.is_empty().then_some(vars)
}

/// `pageSize` → `page_size`, as Google names fields in its messages.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn collect(resources: &Value, out: &mut Vec<MethodInfo>) {
    let Some(res) = resources.as_object() else { return };
    for r in res.values() {
        if let Some(methods) = r.get("methods").and_then(Value::as_object) {
            for m in methods.values() {
                let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let flat = if m.get("flatPath").is_some() { s("flatPath") } else { s("path") };
                let mut query_params = BTreeMap::new();
                if let Some(ps) = m.get("parameters").and_then(Value::as_object) {
                    for (name, p) in ps {
                        if p.get("location").and_then(Value::as_str) == Some("query") {
                            query_params.insert(name.clone(), p.clone());
                        }
                    }
                }
                let r = |k: &str| m.get(k).and_then(|x| x.get("$ref")).and_then(Value::as_str).map(String::from);
                // Ids are `people.<resource>.<method>`; the API prefix is dropped.
                let full_id = s("id");
                let id = full_id.strip_prefix("people.").unwrap_or(&full_id).to_string();
                out.push(MethodInfo {
                    id,
                    http_method: s("httpMethod"),
                    segs: parse_template(&flat),
                    flat_path: flat,
                    query_params,
                    request_ref: r("request"),
                    response_ref: r("response"),
                    scopes: m
                        .get("scopes")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
                        .unwrap_or_default(),
                });
            }
        }
        if let Some(sub) = r.get("resources") {
            collect(sub, out);
        }
    }
}

fn unknown_query(name: &str) -> ApiError {
    let msg = format!(
        "Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. Field '{name}' could not be found in request message."
    );
    ApiError::invalid(msg.clone()).with_field_violations(&[(String::new(), msg)])
}

fn bad_value(path: &str, kind: &str, raw: &str) -> ApiError {
    let msg = format!("Invalid value at '{path}' ({kind}), {raw}");
    ApiError::invalid(msg.clone()).with_field_violations(&[(path.to_string(), msg)])
}

fn unknown_field(name: &str, at: &str) -> ApiError {
    let msg = if at.is_empty() {
        format!("Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    } else {
        format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")
    };
    ApiError::invalid(msg.clone()).with_field_violations(&[(at.to_string(), msg)])
}

fn join(at: &str, field: &str) -> String {
    if at.is_empty() {
        snake(field)
    } else {
        format!("{at}.{}", snake(field))
    }
}

impl Discovery {
    fn parse(text: &str) -> Discovery {
        let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let mut methods = Vec::new();
        if let Some(r) = doc.get("resources") {
            collect(r, &mut methods);
        }
        // Longer literal templates first, so `people:batchGet` wins over `people/{id}`.
        methods.sort_by_key(|m| std::cmp::Reverse(m.flat_path.len()));
        let global_params = doc
            .get("parameters")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Discovery { doc, methods, global_params }
    }

    /// Every method in the document.
    pub fn methods(&self) -> &[MethodInfo] {
        &self.methods
    }

    /// The method with this id.
    pub fn method(&self, id: &str) -> Option<&MethodInfo> {
        self.methods.iter().find(|m| m.id == id)
    }

    /// The schema named `name`.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc.get("schemas").and_then(|s| s.get(name))
    }

    /// Names of the properties of a schema.
    pub fn schema_fields(&self, name: &str) -> Vec<String> {
        self.schema(name)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Matches `path` (starting with `/v1/`) and the HTTP method to a method of the document.
    pub fn route(&self, http_method: &str, path: &str) -> Route<'_> {
        let rel = path.trim_start_matches('/');
        let mut wrong_method = false;
        for m in &self.methods {
            if let Some(vars) = match_template(&m.segs, rel) {
                if m.http_method.eq_ignore_ascii_case(http_method) {
                    return Route::Found(m, vars);
                }
                wrong_method = true;
            }
        }
        if wrong_method {
            Route::WrongMethod
        } else {
            Route::NotFound
        }
    }

    /// Checks query parameter names, types and enum values against the method and the
    /// document's global parameters.
    pub fn check_query(&self, m: &MethodInfo, query: &[(String, String)]) -> ApiResult<()> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (name, value) in query {
            let spec = m.query_params.get(name).or_else(|| self.global_params.get(name));
            let Some(spec) = spec else { return Err(unknown_query(name)) };
            let count = seen.entry(name.as_str()).or_insert(0);
            *count += 1;
            let repeated = spec.get("repeated").and_then(Value::as_bool).unwrap_or(false);
            if *count > 1 && !repeated {
                return Err(ApiError::invalid(format!(
                    "Invalid JSON payload received. Field '{}' is not repeated but got multiple values.",
                    snake(name)
                )));
            }
            check_scalar(spec, value, &snake(name))?;
        }
        Ok(())
    }

    /// Parses and checks a request body against the method's request schema. Methods without
    /// a request schema accept only an empty body.
    pub fn check_body(&self, m: &MethodInfo, body: &[u8]) -> ApiResult<Option<Value>> {
        let trimmed = body.iter().all(|b| b.is_ascii_whitespace());
        let Some(schema) = &m.request_ref else {
            if trimmed {
                return Ok(None);
            }
            return Err(ApiError::invalid("Invalid JSON payload received. This method does not take a request body."));
        };
        if trimmed {
            return Ok(Some(Value::Object(Map::new())));
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid(format!("Invalid JSON payload received. Unexpected token.\n{e}"))
        })?;
        let root = if schema == "Person" { "person" } else { "" };
        self.check_value(&Value::String(schema.clone()), &value, root).map_err(|e| *e)?;
        Ok(Some(value))
    }

    /// Validates a value (request or response) against a schema by name; the error says where.
    pub fn validate(&self, schema: &str, value: &Value) -> Result<(), String> {
        self.check_value(&Value::String(schema.to_string()), value, "").map_err(|e| e.message)
    }

    /// `spec` is either a `$ref` name (as a JSON string) or an inline schema object.
    fn check_value(&self, spec: &Value, value: &Value, at: &str) -> Result<(), Box<ApiError>> {
        let resolved;
        let spec = if let Some(name) = spec.as_str() {
            resolved = self.schema(name).cloned().unwrap_or(Value::Null);
            &resolved
        } else if let Some(r) = spec.get("$ref").and_then(Value::as_str) {
            resolved = self.schema(r).cloned().unwrap_or(Value::Null);
            &resolved
        } else {
            spec
        };
        if value.is_null() {
            return Ok(());
        }
        let ty = spec.get("type").and_then(Value::as_str).unwrap_or("any");
        match ty {
            "object" => {
                let Some(obj) = value.as_object() else {
                    return Err(Box::new(bad_value(at, "TYPE_MESSAGE", &value.to_string())));
                };
                if let Some(props) = spec.get("properties").and_then(Value::as_object) {
                    for (k, v) in obj {
                        let Some(p) = props.get(k) else { return Err(Box::new(unknown_field(k, at))) };
                        self.check_value(p, v, &join(at, k))?;
                    }
                } else if let Some(ap) = spec.get("additionalProperties") {
                    for (k, v) in obj {
                        self.check_value(ap, v, &format!("{at}[{k}]"))?;
                    }
                } else if !obj.is_empty() && spec.get("properties").is_none() {
                    // An object schema with no properties (Empty) accepts no fields.
                    if let Some((k, _)) = obj.iter().next() {
                        return Err(Box::new(unknown_field(k, at)));
                    }
                }
                Ok(())
            }
            "array" => {
                let Some(arr) = value.as_array() else {
                    return Err(Box::new(bad_value(at, "TYPE_REPEATED", &value.to_string())));
                };
                let items = spec.get("items").cloned().unwrap_or(Value::Null);
                for (i, v) in arr.iter().enumerate() {
                    self.check_value(&items, v, &format!("{at}[{i}]"))?;
                }
                Ok(())
            }
            "any" => Ok(()),
            _ => match value {
                Value::String(s) => check_scalar(spec, s, at).map_err(Box::new),
                Value::Number(_) | Value::Bool(_) => check_json_scalar(spec, value, at).map_err(Box::new),
                _ => Err(Box::new(bad_value(at, &kind_name(spec), &value.to_string()))),
            },
        }
    }
}

fn kind_name(spec: &Value) -> String {
    match (
        spec.get("type").and_then(Value::as_str).unwrap_or(""),
        spec.get("format").and_then(Value::as_str).unwrap_or(""),
    ) {
        (_, _) if spec.get("enum").is_some() => "TYPE_ENUM".into(),
        ("integer", "int32") => "TYPE_INT32".into(),
        ("integer", _) | ("string", "int64") => "TYPE_INT64".into(),
        ("boolean", _) => "TYPE_BOOL".into(),
        ("number", _) => "TYPE_DOUBLE".into(),
        ("string", "byte") => "TYPE_BYTES".into(),
        _ => "TYPE_STRING".into(),
    }
}

/// Checks a textual value (query parameter, or JSON string) against a scalar schema.
fn check_scalar(spec: &Value, raw: &str, at: &str) -> ApiResult<()> {
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("string");
    let quoted = format!("\"{raw}\"");
    match ty {
        "integer" => {
            if raw.trim().parse::<i64>().is_err() {
                return Err(bad_value(at, &kind_name(spec), &quoted));
            }
        }
        "boolean" => {
            if raw != "true" && raw != "false" {
                return Err(bad_value(at, "TYPE_BOOL", &quoted));
            }
        }
        "number" => {
            if raw.parse::<f64>().is_err() {
                return Err(bad_value(at, "TYPE_DOUBLE", &quoted));
            }
        }
        _ => {
            if let Some(values) = spec.get("enum").and_then(Value::as_array) {
                if !values.iter().any(|v| v.as_str() == Some(raw)) {
                    return Err(bad_value(at, "TYPE_ENUM", &quoted));
                }
            }
            if spec.get("format").and_then(Value::as_str) == Some("byte") {
                let std_ok = base64::engine::general_purpose::STANDARD.decode(raw).is_ok();
                let url_ok = base64::engine::general_purpose::URL_SAFE.decode(raw).is_ok();
                if !std_ok && !url_ok {
                    return Err(bad_value(at, "TYPE_BYTES", "Base64 decoding failed"));
                }
            }
        }
    }
    Ok(())
}

/// Checks a JSON number/boolean against a scalar schema (strings are `check_scalar`).
fn check_json_scalar(spec: &Value, value: &Value, at: &str) -> ApiResult<()> {
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("string");
    let ok = match ty {
        "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(bad_value(at, &kind_name(spec), &value.to_string()))
    }
}
