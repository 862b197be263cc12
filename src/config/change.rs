//! The changes `rock config` makes: each one is checked in full before the file is
//! touched, then written atomically under the directory lock.

use std::path::Path;

use super::file::{ConfigFile, WriteLock};
use super::keys::{self, KeySpec};
use super::{Config, ConfigFileError};
use crate::provider::{self, ConfigError};

/// Sets `key` to the value `text` stands for; returns the key's spec and the stored value.
pub fn set(path: &Path, key: &str, text: &str) -> Result<(KeySpec, toml::Value), ConfigFileError> {
    let spec = keys::lookup(key).map_err(|e| ConfigFileError::Value(e.to_string()))?;
    let value = keys::parse(&spec, text).map_err(ConfigFileError::Value)?;
    let _lock = lock(path)?;
    let mut file = ConfigFile::open(path)?;
    file.set(key, &value);
    check_provider_section(&file, key)?;
    save(&file)?;
    Ok((spec, value))
}

/// Removes a key or a whole section; `false` when it was not in the file (which is then
/// left alone).
pub fn unset(path: &Path, key: &str) -> Result<bool, ConfigFileError> {
    if !keys::is_section(key) {
        keys::lookup(key).map_err(|e| ConfigFileError::Value(e.to_string()))?;
    }
    let _lock = lock(path)?;
    let mut file = ConfigFile::open(path)?;
    if !file.unset(key) {
        return Ok(false);
    }
    save(&file)?;
    Ok(true)
}

/// Checks a whole file's text as `rock config edit` must before it replaces the file:
/// TOML syntax (line and column), then every key and value.
pub fn check_text(path: &Path, text: &str) -> Result<(), Vec<String>> {
    let table = super::parse(path, text).map_err(|e| vec![e.to_string()])?;
    let problems = Config::from_table(Some(path.to_path_buf()), table).problems();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn lock(path: &Path) -> Result<WriteLock, ConfigFileError> {
    WriteLock::acquire(path).map_err(|e| write_error(path, e))
}

fn save(file: &ConfigFile) -> Result<(), ConfigFileError> {
    file.save().map_err(|e| write_error(&file.path, e))
}

fn write_error(path: &Path, err: std::io::Error) -> ConfigFileError {
    ConfigFileError::Write {
        path: path.display().to_string(),
        reason: err.to_string(),
    }
}

/// A provider's own rules (beyond each field's type) over its section as it would be.
/// Required fields may still be missing: they can be set next.
fn check_provider_section(file: &ConfigFile, key: &str) -> Result<(), ConfigFileError> {
    let mut parts = key.split('.');
    let (Some("providers"), Some(name)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let Ok(entry) = provider::lookup(name) else {
        return Ok(());
    };
    let table = file.table();
    let section = table
        .get("providers")
        .and_then(|p| p.get(name))
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    match entry.make().validate_config(&section) {
        Ok(()) | Err(ConfigError::Missing { .. }) => Ok(()),
        Err(err) => Err(ConfigFileError::Value(err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_leaves_the_file_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let original = "# mine\n[default]\ntimeout = 5\n";
        std::fs::write(&path, original).unwrap();
        for (key, value) in [
            ("default.timeout", "soon"),
            ("providers.local.max_processes", "0"),
            ("providers.local.memory_enforcement", "maybe"),
            ("default.timout", "5"),
        ] {
            assert!(set(&path, key, value).is_err(), "{key} = {value}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
        }
        set(&path, "default.timeout", "30").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# mine\n[default]\ntimeout = 30\n"
        );
    }

    #[test]
    fn edited_text_is_checked_in_full() {
        let path = Path::new("c.toml");
        assert!(check_text(path, "[default]\ntimeout = 3\n").is_ok());
        let problems = check_text(path, "[default]\ntimeout = 0\nnetwork = \"yes\"\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        let syntax = check_text(path, "[default\n").unwrap_err();
        assert!(syntax[0].contains("line 1, column"), "{syntax:?}");
    }
}
