//! Provider config schemas in RAGFlow's field format (type, required, label, description,
//! default, min, max, options, secret), and the generic validation they allow.

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Integer,
    Boolean,
    String,
    List,
}

impl FieldType {
    fn describe(self) -> &'static str {
        match self {
            FieldType::Integer => "an integer",
            FieldType::Boolean => "a boolean",
            FieldType::String => "a string",
            FieldType::List => "a list",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigField {
    #[serde(skip)]
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub required: bool,
    pub label: &'static str,
    pub description: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<&'static str>>,
    pub secret: bool,
    /// An environment variable that supplies the value when the config doesn't.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<&'static str>,
}

impl ConfigField {
    pub fn new(
        name: &'static str,
        kind: FieldType,
        label: &'static str,
        description: &'static str,
    ) -> Self {
        ConfigField {
            name,
            kind,
            required: false,
            label,
            description,
            default: None,
            min: None,
            max: None,
            options: None,
            secret: false,
            env: None,
        }
    }

    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    /// Masked by `rock config show` and never printed in errors.
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// An environment variable that supplies the value when the config doesn't.
    pub fn env(mut self, variable: &'static str) -> Self {
        self.env = Some(variable);
        self
    }

    pub fn options(mut self, options: &[&'static str]) -> Self {
        self.options = Some(options.to_vec());
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct ConfigSchema {
    pub fields: Vec<ConfigField>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown key `{key}` for provider {provider}{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey {
        provider: String,
        key: String,
        suggestion: Option<String>,
    },
    #[error("{key} must be {expected}")]
    WrongType { key: String, expected: &'static str },
    #[error("{key} must be between {min} and {max}, got {value}")]
    OutOfRange {
        key: String,
        min: i64,
        max: i64,
        value: i64,
    },
    #[error("{key} must be one of {}, got `{value}`", options.join(", "))]
    NotAnOption {
        key: String,
        options: Vec<&'static str>,
        value: String,
    },
    #[error("{key} is required for provider {provider}")]
    Missing { provider: String, key: String },
    #[error("{0}")]
    Invalid(String),
}

impl ConfigSchema {
    pub fn field(&self, name: &str) -> Option<&ConfigField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The schema as RAGFlow returns it: an object keyed by field name.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        for field in &self.fields {
            object.insert(
                field.name.to_string(),
                serde_json::to_value(field).unwrap_or(Value::Null),
            );
        }
        Value::Object(object)
    }

    /// Checks keys, types, ranges and options; providers add their own rules on top.
    pub fn validate(&self, provider: &str, config: &toml::Table) -> Result<(), ConfigError> {
        for (key, value) in config {
            let Some(field) = self.field(key) else {
                return Err(ConfigError::UnknownKey {
                    provider: provider.to_string(),
                    key: key.clone(),
                    suggestion: nearest(key, self.fields.iter().map(|f| f.name)),
                });
            };
            let qualified = format!("providers.{provider}.{key}");
            let wrong = || ConfigError::WrongType {
                key: qualified.clone(),
                expected: field.kind.describe(),
            };
            match (field.kind, value) {
                (FieldType::Integer, toml::Value::Integer(n)) => {
                    let (min, max) = (field.min.unwrap_or(i64::MIN), field.max.unwrap_or(i64::MAX));
                    if *n < min || *n > max {
                        return Err(ConfigError::OutOfRange {
                            key: qualified,
                            min,
                            max,
                            value: *n,
                        });
                    }
                }
                (FieldType::Boolean, toml::Value::Boolean(_)) => {}
                (FieldType::String, toml::Value::String(s)) => {
                    if let Some(options) = &field.options {
                        if !options.contains(&s.as_str()) {
                            return Err(ConfigError::NotAnOption {
                                key: qualified,
                                options: options.clone(),
                                value: s.clone(),
                            });
                        }
                    }
                }
                (FieldType::List, toml::Value::Array(_)) => {}
                _ => return Err(wrong()),
            }
        }
        // The table holds the values of the schema's environment variables too (see
        // `Config::provider_table`).
        for field in self.fields.iter().filter(|f| f.required) {
            if !config.contains_key(field.name) {
                return Err(ConfigError::Missing {
                    provider: provider.to_string(),
                    key: field.name.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A string setting of a `[providers.<name>]` table; an empty string counts as unset.
pub fn text_setting(config: &toml::Table, key: &str) -> Option<String> {
    config
        .get(key)
        .and_then(toml::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An integer setting of a `[providers.<name>]` table.
pub fn integer_setting(config: &toml::Table, key: &str) -> Option<i64> {
    config.get(key).and_then(toml::Value::as_integer)
}

/// The closest candidate by edit distance, if it is close enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> ConfigSchema {
        ConfigSchema {
            fields: vec![
                ConfigField::new("max_processes", FieldType::Integer, "Processes", "").range(1, 10),
                ConfigField::new("mode", FieldType::String, "Mode", "").options(&["a", "b"]),
            ],
        }
    }

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn validation_names_the_problem() {
        let s = schema();
        assert!(s.validate("local", &table("max_processes = 5")).is_ok());
        let err = s
            .validate("local", &table("max_processes = 50"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "providers.local.max_processes must be between 1 and 10, got 50"
        );
        let err = s
            .validate("local", &table("max_processes = \"5\""))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "providers.local.max_processes must be an integer"
        );
        let err = s.validate("local", &table("mode = \"c\"")).unwrap_err();
        assert!(err.to_string().contains("must be one of a, b"));
        let err = s.validate("local", &table("max_proceses = 1")).unwrap_err();
        assert!(
            err.to_string().contains("did you mean `max_processes`"),
            "{err}"
        );
    }
}
