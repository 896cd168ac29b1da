//! A small JSON Schema validator for the subset the manifest's settings schema uses.
//!
//! A full implementation (the `jsonschema` crate) would weigh more than the rest of the
//! wasm; the settings schema only needs the keywords below. [`unsupported_keywords`]
//! lets a test prove the manifest never relies on a keyword this module ignores, so the
//! subset cannot silently accept what the schema forbids.
//!
//! Supported: `type` (string or list), `properties`, `required`,
//! `additionalProperties` (boolean or schema), `items`, `enum`, `const`, `minimum`,
//! `maximum`, `minLength`, `maxLength` (in characters), `minItems`, `maxItems`,
//! `uniqueItems`; annotations `title`, `description`, `default`, `examples` are ignored.

use serde_json::{Map, Value};

/// Keywords that constrain values and are implemented here.
const CHECKED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
];
/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["title", "description", "default", "examples", "$comment"];

/// Every problem of `value` against `schema`, one sentence each, prefixed by the path
/// of the offending value (`spokes[0].kind`). Empty when the value is valid.
pub fn check(schema: &Value, value: &Value) -> Vec<String> {
    let mut reasons = Vec::new();
    check_at(schema, value, "", &mut reasons);
    reasons
}

/// Keywords used anywhere in `schema` that [`check`] does not implement, with their
/// paths. Must be empty for a schema the plugin relies on.
pub fn unsupported_keywords(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_unsupported(schema, "#", &mut found);
    found.sort();
    found
}

fn collect_unsupported(schema: &Value, path: &str, found: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        if !schema.is_boolean() {
            found.push(format!("{path}: a schema must be an object or a boolean"));
        }
        return;
    };
    for (key, sub) in obj {
        match key.as_str() {
            "properties" => {
                if let Some(props) = sub.as_object() {
                    for (name, s) in props {
                        collect_unsupported(s, &format!("{path}/properties/{name}"), found);
                    }
                }
            }
            "items" | "additionalProperties" => {
                collect_unsupported(sub, &format!("{path}/{key}"), found)
            }
            k if CHECKED.contains(&k) || ANNOTATIONS.contains(&k) => {}
            other => found.push(format!("{path}/{other}")),
        }
    }
}

fn label(path: &str) -> &str {
    if path.is_empty() {
        "the settings"
    } else {
        path
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(value: &Value, wanted: &str) -> bool {
    match wanted {
        "integer" => match value {
            Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
            _ => false,
        },
        "number" => value.is_number(),
        other => type_name(value) == other,
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn check_at(schema: &Value, value: &Value, path: &str, reasons: &mut Vec<String>) {
    let obj: &Map<String, Value> = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            reasons.push(format!("{}: is not allowed", label(path)));
            return;
        }
        Value::Object(obj) => obj,
        _ => return,
    };

    if let Some(t) = obj.get("type") {
        let wanted: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !wanted.is_empty() && !wanted.iter().any(|w| has_type(value, w)) {
            reasons.push(format!(
                "{}: expected {}, got {}",
                label(path),
                wanted.join(" or "),
                type_name(value)
            ));
            // Further keywords would only repeat the same problem.
            return;
        }
    }

    if let Some(Value::Array(options)) = obj.get("enum") {
        if !options.contains(value) {
            let listed: Vec<String> = options.iter().map(Value::to_string).collect();
            reasons.push(format!(
                "{}: {} is not one of {}",
                label(path),
                short(value),
                listed.join(", ")
            ));
        }
    }
    if let Some(expected) = obj.get("const") {
        if expected != value {
            reasons.push(format!("{}: must be {}", label(path), expected));
        }
    }

    if let Some(n) = value.as_f64() {
        if let Some(min) = obj.get("minimum").and_then(Value::as_f64) {
            if n < min {
                reasons.push(format!("{}: {} is below the minimum {}", label(path), n, min));
            }
        }
        if let Some(max) = obj.get("maximum").and_then(Value::as_f64) {
            if n > max {
                reasons.push(format!("{}: {} is above the maximum {}", label(path), n, max));
            }
        }
    }

    if let Value::String(s) = value {
        let len = s.chars().count() as u64;
        if let Some(min) = obj.get("minLength").and_then(Value::as_u64) {
            if len < min {
                reasons.push(if min == 1 {
                    format!("{}: must not be empty", label(path))
                } else {
                    format!("{}: must have at least {} characters", label(path), min)
                });
            }
        }
        if let Some(max) = obj.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                reasons.push(format!("{}: must have at most {} characters", label(path), max));
            }
        }
    }

    if let Value::Array(items) = value {
        let len = items.len() as u64;
        if let Some(min) = obj.get("minItems").and_then(Value::as_u64) {
            if len < min {
                reasons.push(format!("{}: must list at least {} items", label(path), min));
            }
        }
        if let Some(max) = obj.get("maxItems").and_then(Value::as_u64) {
            if len > max {
                // Its items are not checked one by one: an oversized list from outside
                // would cost a quadratic uniqueness check and one reason per item.
                reasons.push(format!("{}: must list at most {} items", label(path), max));
                return;
            }
        }
        if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, item) in items.iter().enumerate() {
                if items.iter().take(i).any(|earlier| earlier == item) {
                    reasons.push(format!("{}[{}]: {} is listed twice", path, i, short(item)));
                }
            }
        }
        if let Some(item_schema) = obj.get("items") {
            for (i, item) in items.iter().enumerate() {
                check_at(item_schema, item, &format!("{path}[{i}]"), reasons);
            }
        }
    }

    if let Value::Object(map) = value {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = obj.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    reasons.push(format!("{}: is missing", join(path, name)));
                }
            }
        }
        for (key, item) in map {
            let sub_path = join(path, key);
            match props.and_then(|p| p.get(key)) {
                Some(prop_schema) => check_at(prop_schema, item, &sub_path, reasons),
                None => match obj.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        reasons.push(format!("{sub_path}: is not a known setting"))
                    }
                    Some(extra) => check_at(extra, item, &sub_path, reasons),
                    None => {}
                },
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["a", "list"],
            "properties": {
                "a": {"type": "boolean"},
                "mode": {"enum": ["x", "y"]},
                "share": {"type": "number", "minimum": 0, "maximum": 1},
                "name": {"type": "string", "minLength": 1, "maxLength": 3},
                "list": {"type": "array", "uniqueItems": true, "items": {"type": "string"}},
                "rows": {"type": "array", "items": {
                    "type": "object", "additionalProperties": false, "required": ["id"],
                    "properties": {"id": {"type": "integer"}}
                }}
            }
        })
    }

    #[test]
    fn a_valid_value_has_no_reasons() {
        let v = json!({"a": true, "mode": "x", "share": 0.5, "name": "abc", "list": ["p"], "rows": [{"id": 3}]});
        assert_eq!(check(&schema(), &v), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let v = json!({
            "mode": "z", "share": 2, "name": "", "list": ["p", "p", 3],
            "rows": [{"id": "one", "extra": 1}], "unknown": 1
        });
        let reasons = check(&schema(), &v);
        let expect = [
            "a: is missing",
            "mode: \"z\" is not one of \"x\", \"y\"",
            "share: 2 is above the maximum 1",
            "name: must not be empty",
            "list[1]: \"p\" is listed twice",
            "list[2]: expected string, got integer",
            "rows[0].id: expected integer, got string",
            "rows[0].extra: is not a known setting",
            "unknown: is not a known setting",
        ];
        for e in expect {
            assert!(reasons.iter().any(|r| r == e), "missing {e:?} in {reasons:#?}");
        }
        assert_eq!(reasons.len(), expect.len(), "{reasons:#?}");
    }

    #[test]
    fn a_wrong_top_level_type_is_one_reason() {
        assert_eq!(check(&schema(), &json!([1])), vec!["the settings: expected object, got array"]);
    }

    #[test]
    fn unknown_keywords_are_reported() {
        let s = json!({"type": "object", "properties": {"x": {"type": "string", "pattern": "^a"}}, "oneOf": []});
        assert_eq!(unsupported_keywords(&s), vec!["#/oneOf", "#/properties/x/pattern"]);
        assert!(unsupported_keywords(&schema()).is_empty());
    }
}
