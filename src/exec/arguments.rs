//! `--args k=v` (a string), `--args k:=json` (raw JSON, HTTPie's convention) and
//! `--args-json '{…}'` / `--args-json @file.json` (the whole object).

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ArgumentError {
    #[error("argument `{0}` has no `=`: write name=value for a string or name:=json for JSON")]
    MissingEquals(String),
    #[error("argument `{0}` has an empty name")]
    EmptyName(String),
    #[error("argument `{name}` is not valid JSON after `:=` ({reason}); quote strings or use name=value")]
    BadJson { name: String, reason: String },
    #[error("--args-json is not a JSON object ({0})")]
    NotAnObject(String),
    #[error("cannot read --args-json file {path}: {reason}")]
    File { path: String, reason: String },
}

/// Parses one `--args` item into a name and value.
pub fn parse_pair(item: &str) -> Result<(String, Value), ArgumentError> {
    let eq = item
        .find('=')
        .ok_or_else(|| ArgumentError::MissingEquals(item.to_string()))?;
    let (name, value) = (&item[..eq], &item[eq + 1..]);
    if let Some(name) = name.strip_suffix(':') {
        if name.is_empty() {
            return Err(ArgumentError::EmptyName(item.to_string()));
        }
        let json = serde_json::from_str(value).map_err(|e| ArgumentError::BadJson {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        return Ok((name.to_string(), json));
    }
    if name.is_empty() {
        return Err(ArgumentError::EmptyName(item.to_string()));
    }
    Ok((name.to_string(), Value::String(value.to_string())))
}

/// Builds the arguments object: `--args-json` first, then each `--args` over it.
/// `None` when neither was given (code without `main` may then run as a plain script).
pub fn build(
    json: Option<&str>,
    pairs: &[String],
) -> Result<Option<Map<String, Value>>, ArgumentError> {
    if json.is_none() && pairs.is_empty() {
        return Ok(None);
    }
    let mut object = match json {
        None => Map::new(),
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path).map_err(|e| ArgumentError::File {
                    path: path.to_string(),
                    reason: e.to_string(),
                })?,
                None => text.to_string(),
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(ArgumentError::NotAnObject(format!("got {}", kind(&other))))
                }
                Err(e) => return Err(ArgumentError::NotAnObject(e.to_string())),
            }
        }
    };
    for item in pairs {
        let (name, value) = parse_pair(item)?;
        object.insert(name, value);
    }
    Ok(Some(object))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_json() {
        assert_eq!(
            parse_pair("name=World").unwrap(),
            ("name".into(), json!("World"))
        );
        assert_eq!(parse_pair("eq=a=b").unwrap(), ("eq".into(), json!("a=b")));
        assert_eq!(parse_pair("count:=3").unwrap(), ("count".into(), json!(3)));
        assert_eq!(
            parse_pair("xs:=[1,2]").unwrap(),
            ("xs".into(), json!([1, 2]))
        );
        assert_eq!(parse_pair("empty=").unwrap(), ("empty".into(), json!("")));
    }

    #[test]
    fn errors_name_the_argument() {
        assert_eq!(
            parse_pair("oops"),
            Err(ArgumentError::MissingEquals("oops".into()))
        );
        assert!(matches!(
            parse_pair("n:={"),
            Err(ArgumentError::BadJson { .. })
        ));
        assert_eq!(parse_pair("=x"), Err(ArgumentError::EmptyName("=x".into())));
    }

    #[test]
    fn pairs_override_the_object() {
        let built = build(Some(r#"{"a":1,"b":2}"#), &["b:=3".into()])
            .unwrap()
            .unwrap();
        assert_eq!(Value::Object(built), json!({"a":1,"b":3}));
        assert_eq!(build(None, &[]).unwrap(), None);
        assert!(matches!(
            build(Some("[1]"), &[]),
            Err(ArgumentError::NotAnObject(_))
        ));
    }
}
