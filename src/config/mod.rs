//! The TOML config file: `--config`, else `$ROCK_CONFIG`, else
//! `<config dir>/rock/config.toml`. A missing file is an empty config.
//!
//! Reading: [`Config`] (a value's effective source is the environment, then the file,
//! then the key's default). Keys and their types: [`keys`]. Editing: [`file`]. The
//! generated reference: [`docs`].

pub mod change;
pub mod docs;
pub mod file;
pub mod keys;

use std::path::{Path, PathBuf};

use crate::exec::Language;
use keys::KeySpec;

/// Reads an environment variable; tests pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment; an empty variable counts as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File,
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => write!(f, "flag"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File => write!(f, "config file"),
            Source::Default => write!(f, "default"),
        }
    }
}

#[derive(Debug, Default)]
pub struct Config {
    /// The file this came from (it may not exist).
    pub path: Option<PathBuf>,
    table: toml::Table,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path} is not valid TOML: line {line}, column {column}: {reason}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("config file {path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("cannot write config file {path}: {reason}")]
    Write { path: String, reason: String },
    /// A key or value (from a flag, the environment or `rock config`) that is refused.
    #[error("{0}")]
    Value(String),
}

impl Config {
    /// Where the config file is looked for.
    pub fn locate(flag: Option<&Path>) -> Option<PathBuf> {
        if let Some(path) = flag {
            return Some(path.to_path_buf());
        }
        if let Some(path) = std::env::var_os("ROCK_CONFIG").filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        crate::dirs::default_config_file()
    }

    pub fn load(flag: Option<&Path>) -> Result<Config, ConfigFileError> {
        let Some(path) = Self::locate(flag) else {
            return Ok(Config::default());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            // An explicit --config must exist; the default location may not.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && flag.is_none() => {
                return Ok(Config {
                    path: Some(path),
                    table: toml::Table::new(),
                })
            }
            Err(e) => {
                return Err(ConfigFileError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let table = parse(&path, &text)?;
        Ok(Config {
            path: Some(path),
            table,
        })
    }

    /// For `rock config`: a missing file, even one named by `--config`, is an empty config
    /// (the command may create it); with `strict` false, so is a file that doesn't parse.
    pub fn load_or_empty(flag: Option<&Path>, strict: bool) -> Result<Config, ConfigFileError> {
        match Self::load(flag) {
            Ok(config) => Ok(config),
            Err(ConfigFileError::Syntax { .. }) if !strict => Ok(Config {
                path: Self::locate(flag),
                table: toml::Table::new(),
            }),
            Err(ConfigFileError::Read { .. }) if flag.is_some_and(|p| !p.exists()) => Ok(Config {
                path: Self::locate(flag),
                table: toml::Table::new(),
            }),
            Err(err) => Err(err),
        }
    }

    /// A config made from a table, for tests and for checking an edited file.
    pub fn from_table(path: Option<PathBuf>, table: toml::Table) -> Config {
        Config { path, table }
    }

    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    /// The raw value in the file by dotted key, e.g. `default.timeout`.
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        let mut parts = key.split('.');
        let mut value = self.table.get(parts.next()?)?;
        for part in parts {
            value = value.as_table()?.get(part)?;
        }
        Some(value)
    }

    /// The value a key has now: its environment variable, else the file, else its default.
    pub fn effective(
        &self,
        spec: &KeySpec,
        env: Env,
    ) -> Result<Option<(toml::Value, Source)>, ConfigFileError> {
        if let Some(name) = spec.env {
            if let Some(text) = env(name) {
                let value = keys::parse_as(spec, &format!("${name}"), &text)
                    .map_err(ConfigFileError::Value)?;
                return Ok(Some((value, Source::Env(name))));
            }
        }
        if let Some(value) = self.get(&spec.key) {
            keys::check(spec, value).map_err(|reason| self.invalid(reason))?;
            return Ok(Some((value.clone(), Source::File)));
        }
        Ok(spec.default.value().map(|v| (v, Source::Default)))
    }

    /// The effective value of a built-in key.
    pub fn value(&self, key: &str, env: Env) -> Result<Option<toml::Value>, ConfigFileError> {
        let spec = keys::lookup(key).map_err(|e| self.invalid(e.to_string()))?;
        Ok(self.effective(&spec, env)?.map(|(value, _)| value))
    }

    pub fn interpreter(&self, language: Language) -> Result<Option<String>, ConfigFileError> {
        let key = format!("languages.{}.interpreter", language.name());
        Ok(self
            .value(&key, &process_env)?
            .and_then(|v| v.as_str().map(str::to_string)))
    }

    /// `[providers.<name>]` as the provider gets it: the file's table, with the values of
    /// the schema's environment variables on top.
    pub fn provider_table(&self, name: &str, env: Env) -> Result<toml::Table, ConfigFileError> {
        let mut table = match self.get(&format!("providers.{name}")) {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => return Err(self.invalid(format!("providers.{name} must be a table"))),
        };
        for spec in keys::provider_keys(name) {
            let Some(var) = spec.env else { continue };
            if let Some(text) = env(var) {
                let value = keys::parse_as(&spec, &format!("${var}"), &text)
                    .map_err(ConfigFileError::Value)?;
                table.insert(spec.field().to_string(), value);
            }
        }
        Ok(table)
    }

    /// What is wrong with the file as a whole: unknown keys (with the nearest known one),
    /// values of the wrong type or out of range, values a provider refuses. Missing
    /// required provider fields are not problems here: they may be set later.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        walk(&self.table, "", &mut problems);
        if let Some(toml::Value::Table(providers)) = self.table.get("providers") {
            for (name, table) in providers {
                let (Ok(entry), Some(table)) = (crate::provider::lookup(name), table.as_table())
                else {
                    continue;
                };
                match entry.make().validate_config(table) {
                    Ok(()) | Err(crate::provider::ConfigError::Missing { .. }) => {}
                    // Key and type problems were found by the walk already.
                    Err(crate::provider::ConfigError::UnknownKey { .. })
                    | Err(crate::provider::ConfigError::WrongType { .. })
                    | Err(crate::provider::ConfigError::OutOfRange { .. })
                    | Err(crate::provider::ConfigError::NotAnOption { .. }) => {}
                    Err(other) => problems.push(other.to_string()),
                }
            }
        }
        problems
    }

    /// The unknown keys alone, which commands warn about and otherwise ignore.
    pub fn unknown_keys(&self) -> Vec<String> {
        let mut problems = Vec::new();
        walk(&self.table, "", &mut problems);
        problems.retain(|p| p.starts_with("unknown config key"));
        problems
    }

    pub fn invalid(&self, reason: impl Into<String>) -> ConfigFileError {
        ConfigFileError::Invalid {
            path: self.display_path(),
            reason: reason.into(),
        }
    }

    pub fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

/// Checks every value in `table`; tables that are not keys themselves are walked into.
fn walk(table: &toml::Table, prefix: &str, problems: &mut Vec<String>) {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        // A section is walked into before any lookup, which would look for the nearest key.
        if let Some(section) = value.as_table().filter(|_| keys::is_section(&key)) {
            walk(section, &key, problems);
            continue;
        }
        match keys::lookup(&key) {
            Ok(spec) => {
                if let Err(reason) = keys::check(&spec, value) {
                    problems.push(reason);
                }
            }
            Err(err) => problems.push(err.to_string()),
        }
    }
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<toml::Table, ConfigFileError> {
    text.parse::<toml::Table>().map_err(|err| {
        let offset = err.span().map(|s| s.start).unwrap_or(0).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        ConfigFileError::Syntax {
            path: path.display().to_string(),
            line,
            column,
            reason: err.message().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_table(
            Some("c.toml".into()),
            parse(Path::new("c.toml"), text).unwrap(),
        )
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse(Path::new("c.toml"), "[default]\ntimeout = = 3\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("config file c.toml is not valid TOML: line 2, column"),
            "{text}"
        );
    }

    #[test]
    fn the_environment_beats_the_file_which_beats_the_default() {
        let spec = keys::lookup("default.timeout").unwrap();
        let empty = config("");
        assert_eq!(
            empty.effective(&spec, &no_env).unwrap(),
            Some((toml::Value::Integer(10), Source::Default))
        );
        let file = config("[default]\ntimeout = 5\n");
        assert_eq!(
            file.effective(&spec, &no_env).unwrap(),
            Some((toml::Value::Integer(5), Source::File))
        );
        let env = |name: &str| (name == "ROCK_TIMEOUT").then(|| "7.5".to_string());
        assert_eq!(
            file.effective(&spec, &env).unwrap(),
            Some((toml::Value::Float(7.5), Source::Env("ROCK_TIMEOUT")))
        );
        let bad = |_: &str| Some("soon".to_string());
        assert_eq!(
            file.effective(&spec, &bad).unwrap_err().to_string(),
            "$ROCK_TIMEOUT must be a number of seconds, got `soon`"
        );
    }

    #[test]
    fn problems_name_unknown_keys_and_bad_values() {
        let c = config(
            "[default]\ntimout = 5\nmemory = \"1k\"\n[providers.local]\nmax_processes = 0\n[languages.ruby]\ninterpreter = \"ruby\"\n",
        );
        let problems = c.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems
            .iter()
            .any(|p| p.contains("`default.timout` (did you mean `default.timeout`?)")));
        assert!(problems
            .iter()
            .any(|p| p.contains("default.memory must be at least 16 MiB")));
        assert!(problems.iter().any(|p| p.contains("languages.ruby")));
        assert!(problems
            .iter()
            .any(|p| p.contains("providers.local.max_processes must be between 1 and 4096")));
        assert_eq!(c.unknown_keys().len(), 2);
    }
}
