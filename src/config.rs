//! The TOML config file, read once: `--config`, else `$ROCK_CONFIG`, else
//! `<config dir>/rock/config.toml`. A missing file is an empty config.

use std::path::{Path, PathBuf};

use crate::exec::Language;

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
    #[error("config file {path}: {key} must be {expected}")]
    WrongType {
        path: String,
        key: String,
        expected: &'static str,
    },
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
        directories::ProjectDirs::from("", "", "rock").map(|d| d.config_dir().join("config.toml"))
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

    /// A value by dotted key, e.g. `default.timeout`.
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        let mut parts = key.split('.');
        let mut value = self.table.get(parts.next()?)?;
        for part in parts {
            value = value.as_table()?.get(part)?;
        }
        Some(value)
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigFileError> {
        self.typed(key, "a string", |v| v.as_str().map(str::to_string))
    }

    pub fn integer(&self, key: &str) -> Result<Option<i64>, ConfigFileError> {
        self.typed(key, "an integer", toml::Value::as_integer)
    }

    /// Seconds, written as an integer or a float.
    pub fn seconds(&self, key: &str) -> Result<Option<f64>, ConfigFileError> {
        self.typed(key, "a number of seconds", |v| {
            v.as_float().or_else(|| v.as_integer().map(|n| n as f64))
        })
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigFileError> {
        self.typed(key, "a boolean", toml::Value::as_bool)
    }

    /// A size written as a string (`"256MiB"`) or an integer (MiB).
    pub fn size(&self, key: &str) -> Result<Option<u64>, ConfigFileError> {
        let wrong = || self.wrong_type(key, "a size such as \"256MiB\"");
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if *n > 0 => Ok(Some(*n as u64 * 1024 * 1024)),
            Some(toml::Value::String(s)) => crate::size::parse(s).map(Some).map_err(|_| wrong()),
            Some(_) => Err(wrong()),
        }
    }

    pub fn interpreter(&self, language: Language) -> Result<Option<String>, ConfigFileError> {
        self.string(&format!("languages.{}.interpreter", language.name()))
    }

    /// `[providers.<name>]`, empty when absent.
    pub fn provider_table(&self, name: &str) -> Result<toml::Table, ConfigFileError> {
        match self.get(&format!("providers.{name}")) {
            None => Ok(toml::Table::new()),
            Some(toml::Value::Table(t)) => Ok(t.clone()),
            Some(_) => Err(self.wrong_type(&format!("providers.{name}"), "a table")),
        }
    }

    fn typed<T>(
        &self,
        key: &str,
        expected: &'static str,
        extract: impl Fn(&toml::Value) -> Option<T>,
    ) -> Result<Option<T>, ConfigFileError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => extract(value)
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, expected)),
        }
    }

    fn wrong_type(&self, key: &str, expected: &'static str) -> ConfigFileError {
        ConfigFileError::WrongType {
            path: self.display_path(),
            key: key.to_string(),
            expected,
        }
    }

    fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

fn parse(path: &Path, text: &str) -> Result<toml::Table, ConfigFileError> {
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
    fn dotted_lookup_and_types() {
        let config = Config {
            path: Some("c.toml".into()),
            table: parse(
                Path::new("c.toml"),
                "[default]\ntimeout = 5\nmemory = \"1G\"\n",
            )
            .unwrap(),
        };
        assert_eq!(config.integer("default.timeout").unwrap(), Some(5));
        assert_eq!(config.size("default.memory").unwrap(), Some(1 << 30));
        assert!(config.string("default.timeout").is_err());
        assert_eq!(config.integer("default.missing").unwrap(), None);
    }
}
