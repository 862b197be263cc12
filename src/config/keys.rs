//! Every key the config file may hold: its type, default, description, whether it is a
//! secret and which environment variable overrides it. The built-in sections are listed
//! here; `[providers.<name>]` keys come from each provider's config schema.

use crate::exec::Language;
use crate::provider::{self, ConfigField, FieldType, PROVIDERS};
use crate::size;

const MIB: u64 = 1 << 20;

/// What a key's value must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    String {
        options: Option<Vec<&'static str>>,
    },
    List,
    /// A number of seconds, integer or not, above 0 and at most `max`.
    Seconds {
        max: f64,
    },
    /// A byte size written like `256MiB` (a bare number means MiB), at least `min` bytes.
    Size {
        min: u64,
    },
    /// The name (or an alias) of a provider.
    Provider,
    /// An absolute path (`~/` is expanded when set).
    Path,
    /// An `http://`, `https://` or `file://` URL; a password in it is a secret.
    Url,
}

impl Kind {
    /// The type as the docs and error messages name it.
    pub fn describe(&self) -> String {
        match self {
            Kind::Integer { .. } => "integer".into(),
            Kind::Boolean => "boolean".into(),
            Kind::String { .. } => "string".into(),
            Kind::List => "list of strings".into(),
            Kind::Seconds { .. } => "seconds".into(),
            Kind::Size { .. } => "size".into(),
            Kind::Provider => "provider name".into(),
            Kind::Path => "path".into(),
            Kind::Url => "URL".into(),
        }
    }
}

/// A key's default: a fixed value, one worked out on this machine, or none.
#[derive(Debug, Clone)]
pub enum Default {
    None,
    Value(toml::Value),
    /// Computed when asked (say, a directory of this user's), with the docs' wording.
    Computed {
        compute: fn() -> Option<toml::Value>,
        doc: &'static str,
    },
}

impl Default {
    pub fn value(&self) -> Option<toml::Value> {
        match self {
            Default::None => None,
            Default::Value(value) => Some(value.clone()),
            Default::Computed { compute, .. } => compute(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeySpec {
    /// The dotted key, e.g. `default.timeout`.
    pub key: String,
    pub kind: Kind,
    pub default: Default,
    pub description: String,
    pub secret: bool,
    /// The environment variable that overrides the file.
    pub env: Option<&'static str>,
    /// Needed before the provider can be used (provider keys only).
    pub required: bool,
}

impl KeySpec {
    fn new(key: &str, kind: Kind, description: &str) -> Self {
        KeySpec {
            key: key.to_string(),
            kind,
            default: Default::None,
            description: description.to_string(),
            secret: false,
            env: None,
            required: false,
        }
    }

    fn default(mut self, value: impl Into<toml::Value>) -> Self {
        self.default = Default::Value(value.into());
        self
    }

    fn env(mut self, name: &'static str) -> Self {
        self.env = Some(name);
        self
    }

    /// A provider schema's field as a key of `[providers.<provider>]`.
    pub fn from_field(provider: &str, field: &ConfigField) -> Self {
        let kind = match field.kind {
            FieldType::Integer => Kind::Integer {
                min: field.min,
                max: field.max,
            },
            FieldType::Boolean => Kind::Boolean,
            FieldType::String => Kind::String {
                options: field.options.clone(),
            },
            FieldType::List => Kind::List,
        };
        KeySpec {
            key: format!("providers.{provider}.{}", field.name),
            kind,
            default: field
                .default
                .as_ref()
                .and_then(json_to_toml)
                .map_or(Default::None, Default::Value),
            description: field.description.to_string(),
            secret: field.secret,
            env: field.env,
            required: field.required,
        }
    }

    /// The field's name within its section.
    pub fn field(&self) -> &str {
        self.key.rsplit('.').next().unwrap_or(&self.key)
    }

    /// The section (table) the key lives in, e.g. `providers.local`.
    pub fn section(&self) -> &str {
        self.key
            .rsplit_once('.')
            .map(|(section, _)| section)
            .unwrap_or("")
    }
}

fn json_to_toml(value: &serde_json::Value) -> Option<toml::Value> {
    toml::Value::try_from(value).ok()
}

/// The keys of the built-in sections: `[default]`, `[languages.*]`, `[runtime_envs]`, `[serve]`.
pub fn builtin() -> Vec<KeySpec> {
    vec![
        KeySpec::new(
            "default.provider",
            Kind::Provider,
            "The provider `rock exec` and `rock provider test` use when none is named",
        )
        .default(provider::DEFAULT_PROVIDER)
        .env("ROCK_PROVIDER"),
        KeySpec::new(
            "default.timeout",
            Kind::Seconds { max: 86_400.0 },
            "Wall-clock limit of a run, in seconds",
        )
        .default(10)
        .env("ROCK_TIMEOUT"),
        KeySpec::new(
            "default.memory",
            Kind::Size { min: 16 * MIB },
            "Memory limit of a run",
        )
        .default("256MiB")
        .env("ROCK_MEMORY"),
        KeySpec::new(
            "default.network",
            Kind::Boolean,
            "Let programs use the host's network (otherwise loopback only)",
        )
        .default(false)
        .env("ROCK_NETWORK"),
        KeySpec::new(
            "default.output_cap",
            Kind::Size { min: 1024 },
            "How much of stdout and of stderr a run keeps; the rest is cut and flagged",
        )
        .default("1MiB")
        .env("ROCK_OUTPUT_CAP"),
        KeySpec::new(
            "languages.python.interpreter",
            Kind::String { options: None },
            "The Python interpreter the local sandbox runs: a command looked up on PATH, or a path",
        )
        .default(Language::Python.default_interpreter()),
        KeySpec::new(
            "languages.nodejs.interpreter",
            Kind::String { options: None },
            "The Node.js interpreter the local sandbox runs: a command looked up on PATH, or a path",
        )
        .default(Language::Nodejs.default_interpreter()),
        KeySpec {
            default: Default::Computed {
                compute: || {
                    crate::dirs::data_dir()
                        .map(|d| toml::Value::String(d.join("runtime-envs").display().to_string()))
                },
                doc: "`runtime-envs` in rock's data dir (`~/.local/share/rock/runtime-envs` on Linux)",
            },
            ..KeySpec::new(
                "runtime_envs.root",
                Kind::Path,
                "Where runtime envs are installed",
            )
        },
        KeySpec::new(
            "runtime_envs.python_mirror",
            Kind::Url,
            "A mirror of python-build-standalone releases, for runtime envs",
        )
        .env("ROCK_PYTHON_MIRROR"),
        KeySpec::new(
            "runtime_envs.node_mirror",
            Kind::Url,
            "A mirror of nodejs.org/dist, for runtime envs",
        )
        .env("ROCK_NODE_MIRROR"),
        KeySpec::new(
            "runtime_envs.remote_root",
            Kind::String { options: None },
            "Where runtime envs made with `env create --provider` live inside the remote sandbox (ROCK's layout)",
        )
        .default(crate::runtime_env::remote::REMOTE_ROOT),
        KeySpec::new(
            "runtime_envs.pip_index_url",
            Kind::Url,
            "The package index pip uses inside runtime envs",
        ),
        KeySpec::new(
            "runtime_envs.npm_registry",
            Kind::Url,
            "The npm registry used inside runtime envs",
        ),
        KeySpec::new(
            "serve.pool.python",
            Kind::Integer {
                min: Some(0),
                max: Some(256),
            },
            "Warm Python sandboxes `rock serve` keeps ready (local sandbox); `--pool` overrides",
        )
        .default(4),
        KeySpec::new(
            "serve.pool.nodejs",
            Kind::Integer {
                min: Some(0),
                max: Some(256),
            },
            "Warm Node.js sandboxes `rock serve` keeps ready (local sandbox); `--pool` overrides",
        )
        .default(2),
    ]
}

/// The fields of a custom runtime type, `[runtime_envs.types.<name>]`.
pub fn custom_type_fields(name: &str) -> Vec<KeySpec> {
    let key = |field: &str| format!("runtime_envs.types.{name}.{field}");
    vec![
        KeySpec {
            required: true,
            ..KeySpec::new(
                &key("install_cmd"),
                Kind::String { options: None },
                "The command (run by `bash -c` in the env's work dir) that installs the runtime into `runtime-env/bin/`",
            )
        },
        KeySpec {
            required: true,
            ..KeySpec::new(
                &key("executables"),
                Kind::List,
                "The executables the install leaves in `runtime-env/bin/`",
            )
        },
        KeySpec::new(
            &key("versions"),
            Kind::List,
            "The versions that may be asked for",
        ),
        KeySpec::new(
            &key("default_version"),
            Kind::String { options: None },
            "The version used when none is asked for",
        ),
    ]
}

/// The keys of each provider's `[providers.<name>]` section.
pub fn provider_keys(name: &str) -> Vec<KeySpec> {
    match provider::lookup(name) {
        Ok(entry) => entry
            .make()
            .config_schema()
            .fields
            .iter()
            .map(|f| KeySpec::from_field(entry.name, f))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every fixed key: the built-in sections and every provider's fields (custom runtime
/// types, whose names are the user's, are not listed).
pub fn all() -> Vec<KeySpec> {
    fixed().to_vec()
}

/// [`all`], built once: every command looks keys up several times.
fn fixed() -> &'static [KeySpec] {
    static FIXED: std::sync::OnceLock<Vec<KeySpec>> = std::sync::OnceLock::new();
    FIXED.get_or_init(|| {
        let mut keys = builtin();
        for entry in PROVIDERS {
            keys.extend(provider_keys(entry.name));
        }
        keys
    })
}

/// The known sections a key may name as a whole (for `unset`).
pub fn is_section(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["default"] | ["languages"] | ["providers"] | ["runtime_envs"] => true,
        ["runtime_envs", "types"] => true,
        ["languages", lang] => ["python", "nodejs"].contains(lang),
        ["providers", name] => PROVIDERS.iter().any(|p| p.name == *name),
        ["runtime_envs", "types", name] => valid_type_name(name),
        _ => false,
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeyError {
    #[error("unknown config key `{key}`{}", hint(suggestion))]
    Unknown {
        key: String,
        suggestion: Option<String>,
    },
    #[error("`{key}` names a provider by its alias: use `{canonical}`")]
    Alias { key: String, canonical: String },
    #[error("`{name}` can't name a runtime type: use lowercase letters, digits, - and _, starting with a letter; python and node are built in")]
    TypeName { name: String },
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// A custom runtime type's name: lowercase, not a built-in type.
fn valid_type_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !["python", "node"].contains(&name)
}

/// The spec of a leaf key.
pub fn lookup(key: &str) -> Result<KeySpec, KeyError> {
    let parts: Vec<&str> = key.split('.').collect();
    if let ["providers", name, field] = parts.as_slice() {
        if let Some(entry) = PROVIDERS.iter().find(|p| p.aliases.contains(name)) {
            return Err(KeyError::Alias {
                key: key.to_string(),
                canonical: format!("providers.{}.{field}", entry.name),
            });
        }
    }
    if let ["runtime_envs", "types", name, _] = parts.as_slice() {
        if !valid_type_name(name) {
            return Err(KeyError::TypeName {
                name: name.to_string(),
            });
        }
        let fields = custom_type_fields(name);
        return find(key, &fields);
    }
    find(key, fixed())
}

fn find(key: &str, candidates: &[KeySpec]) -> Result<KeySpec, KeyError> {
    if let Some(spec) = candidates.iter().find(|s| s.key == key) {
        return Ok(spec.clone());
    }
    Err(KeyError::Unknown {
        key: key.to_string(),
        suggestion: provider::schema::nearest(key, candidates.iter().map(|s| s.key.as_str())),
    })
}

/// Turns what the user typed into the value to store, or says why it can't be.
pub fn parse(spec: &KeySpec, text: &str) -> Result<toml::Value, String> {
    parse_as(spec, &spec.key, text)
}

/// [`parse`], naming the value `label` in errors (a flag, an environment variable).
pub fn parse_as(spec: &KeySpec, label: &str, text: &str) -> Result<toml::Value, String> {
    let key = label;
    let value = match &spec.kind {
        Kind::Integer { .. } => text
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("{key} must be an integer, got `{text}`"))?,
        Kind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => toml::Value::Boolean(true),
            "false" | "no" | "off" | "0" => toml::Value::Boolean(false),
            _ => return Err(format!("{key} must be true or false, got `{text}`")),
        },
        Kind::String { .. } | Kind::Provider => toml::Value::String(text.trim().to_string()),
        Kind::List => parse_list(text).map_err(|reason| format!("{key}: {reason}"))?,
        Kind::Seconds { .. } => {
            let secs: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("{key} must be a number of seconds, got `{text}`"))?;
            if secs.fract() == 0.0 && secs.abs() < 1e15 {
                toml::Value::Integer(secs as i64)
            } else {
                toml::Value::Float(secs)
            }
        }
        Kind::Size { .. } => {
            let bytes = size::parse(text).map_err(|e| format!("{key}: {e}"))?;
            toml::Value::String(size::format(bytes).replace(' ', ""))
        }
        Kind::Path => toml::Value::String(expand_home(text.trim())),
        Kind::Url => toml::Value::String(text.trim().to_string()),
    };
    check_as(spec, label, &value)?;
    Ok(value)
}

/// A list as `a,b,c` or as a TOML array, `["a", "b"]`.
fn parse_list(text: &str) -> Result<toml::Value, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        let table: toml::Table = format!("list = {trimmed}")
            .parse()
            .map_err(|_| format!("`{text}` is not a TOML array"))?;
        return table
            .get("list")
            .cloned()
            .ok_or_else(|| format!("`{text}` is not a TOML array"));
    }
    Ok(toml::Value::Array(
        trimmed
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| toml::Value::String(s.to_string()))
            .collect(),
    ))
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest).display().to_string(),
        _ => path.to_string(),
    }
}

/// Checks a stored value against its key's type and bounds.
pub fn check(spec: &KeySpec, value: &toml::Value) -> Result<(), String> {
    check_as(spec, &spec.key, value)
}

fn check_as(spec: &KeySpec, label: &str, value: &toml::Value) -> Result<(), String> {
    let key = label;
    let wrong = || format!("{key} must be {}", article(&spec.kind));
    match (&spec.kind, value) {
        (Kind::Integer { min, max }, toml::Value::Integer(n)) => {
            let (lo, hi) = (min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX));
            if *n < lo || *n > hi {
                return Err(format!("{key} must be between {lo} and {hi}, got {n}"));
            }
        }
        (Kind::Boolean, toml::Value::Boolean(_)) => {}
        (Kind::String { options }, toml::Value::String(s)) => {
            if let Some(options) = options {
                if !options.contains(&s.as_str()) {
                    let hint = provider::schema::nearest(s, options.iter().copied())
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                    return Err(format!(
                        "{key} must be one of {}, got `{s}`{hint}",
                        options.join(", ")
                    ));
                }
            }
        }
        (Kind::List, toml::Value::Array(items)) => {
            if !items.iter().all(toml::Value::is_str) {
                return Err(format!("{key} must be a list of strings"));
            }
        }
        (Kind::Seconds { max }, toml::Value::Integer(_) | toml::Value::Float(_)) => {
            let secs = value
                .as_float()
                .or_else(|| value.as_integer().map(|n| n as f64))
                .unwrap_or(0.0);
            if !(secs > 0.0 && secs <= *max) {
                return Err(format!(
                    "{key} must be more than 0 and at most {max} seconds, got {secs}"
                ));
            }
        }
        (Kind::Size { min }, toml::Value::String(_) | toml::Value::Integer(_)) => {
            let bytes = size_of(value).map_err(|e| format!("{key}: {e}"))?;
            if bytes < *min {
                return Err(format!(
                    "{key} must be at least {}, got {}",
                    size::format(*min),
                    size::format(bytes)
                ));
            }
        }
        (Kind::Provider, toml::Value::String(s)) => {
            provider::lookup(s).map_err(|e| format!("{key}: {e}"))?;
        }
        (Kind::Path, toml::Value::String(s)) => {
            if !std::path::Path::new(s).is_absolute() {
                return Err(format!("{key} must be an absolute path, got `{s}`"));
            }
        }
        (Kind::Url, toml::Value::String(s)) => {
            if !["http://", "https://", "file://"]
                .iter()
                .any(|scheme| s.starts_with(scheme) && s.len() > scheme.len())
            {
                return Err(format!(
                    "{key} must be an http://, https:// or file:// URL, got `{s}`"
                ));
            }
        }
        _ => return Err(wrong()),
    }
    Ok(())
}

/// A size as stored: a string with a unit, or an integer number of MiB.
pub fn size_of(value: &toml::Value) -> Result<u64, String> {
    match value {
        toml::Value::Integer(n) if *n > 0 => Ok(*n as u64 * MIB),
        toml::Value::String(s) => size::parse(s).map_err(|e| e.to_string()),
        other => Err(format!("`{other}` is not a size")),
    }
}

fn article(kind: &Kind) -> String {
    match kind {
        Kind::Integer { .. } => "an integer".into(),
        Kind::Boolean => "a boolean (true or false)".into(),
        Kind::String { .. } => "a string".into(),
        Kind::List => "a list of strings".into(),
        Kind::Seconds { .. } => "a number of seconds".into(),
        Kind::Size { .. } => "a size such as \"256MiB\"".into(),
        Kind::Provider => "a provider's name".into(),
        Kind::Path => "a path".into(),
        Kind::Url => "a URL".into(),
    }
}

/// A value as `show` and `get` print it: secrets masked unless `reveal`.
pub fn masked(spec: &KeySpec, value: &toml::Value, reveal: bool) -> toml::Value {
    match value {
        toml::Value::String(s) if !reveal && spec.secret => toml::Value::String(mask(s)),
        toml::Value::String(s) if !reveal && spec.kind == Kind::Url => {
            toml::Value::String(mask_url(s))
        }
        other => other.clone(),
    }
}

/// [`masked`], in TOML syntax.
pub fn display(spec: &KeySpec, value: &toml::Value, reveal: bool) -> String {
    masked(spec, value, reveal).to_string()
}

/// All of a secret but its last four characters, and those only when it is long.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 16 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("********{tail}")
    } else {
        "********".to_string()
    }
}

/// A URL with the credentials in it masked: `https://user:********@host/`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let masked = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:********"),
        // A lone user part is often a token.
        None => "********".to_string(),
    };
    format!("{scheme}://{masked}{}", &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_get_the_nearest_known_one() {
        let err = lookup("default.timout").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown config key `default.timout` (did you mean `default.timeout`?)"
        );
        let err = lookup("providers.local.max_process").unwrap_err();
        assert!(err
            .to_string()
            .contains("did you mean `providers.local.max_processes`"));
        assert!(matches!(
            lookup("runtime_envs.types.Py!.install_cmd"),
            Err(KeyError::TypeName { .. })
        ));
        assert_eq!(
            lookup("runtime_envs.types.ruby.executables").unwrap().kind,
            Kind::List
        );
    }

    #[test]
    fn values_are_typed_by_the_key() {
        let timeout = lookup("default.timeout").unwrap();
        assert_eq!(parse(&timeout, "30"), Ok(toml::Value::Integer(30)));
        assert_eq!(parse(&timeout, "2.5"), Ok(toml::Value::Float(2.5)));
        assert!(parse(&timeout, "0").is_err());
        assert!(parse(&timeout, "soon").is_err());
        let memory = lookup("default.memory").unwrap();
        assert_eq!(parse(&memory, "1g"), Ok(toml::Value::String("1GiB".into())));
        assert!(parse(&memory, "1MiB")
            .unwrap_err()
            .contains("at least 16 MiB"));
        let list = lookup("runtime_envs.types.ruby.executables").unwrap();
        assert_eq!(
            parse(&list, "ruby, gem").unwrap(),
            parse(&list, r#"["ruby", "gem"]"#).unwrap()
        );
        let network = lookup("default.network").unwrap();
        assert_eq!(parse(&network, "yes"), Ok(toml::Value::Boolean(true)));
        assert!(parse(&network, "maybe").is_err());
    }

    #[test]
    fn secrets_and_url_credentials_are_masked() {
        assert_eq!(mask("short"), "********");
        assert_eq!(mask("e2b_0123456789abcdef"), "********cdef");
        assert_eq!(
            mask_url("https://__token__:pypi-s3cret@pypi.example/simple"),
            "https://__token__:********@pypi.example/simple"
        );
        assert_eq!(
            mask_url("https://ghp_token@host/x@y"),
            "https://********@host/x@y"
        );
        assert_eq!(mask_url("file:///srv/mirror"), "file:///srv/mirror");
    }
}
