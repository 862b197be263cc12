//! Editing the config file in place: `toml_edit` keeps the user's comments, order and
//! formatting; every write is atomic (see `atomic_file`) and leaves the file with mode
//! 0600, since it may hold secrets. Writers hold an advisory lock on the file's
//! directory, so that two `rock config set` at once can't lose one another's change.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use toml_edit::{DocumentMut, Item, Table};

use super::ConfigFileError;

/// The mode of a config file rock writes.
pub const MODE: u32 = 0o600;

pub struct ConfigFile {
    pub path: PathBuf,
    document: DocumentMut,
}

impl ConfigFile {
    /// The file as it is now; a missing file is an empty one.
    pub fn open(path: &Path) -> Result<ConfigFile, ConfigFileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(ConfigFileError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        Self::parse(path, &text)
    }

    /// `text` as the contents of `path`, checked as TOML.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigFileError> {
        // The plain parser gives the error positions; the editable document keeps the layout.
        super::parse(path, text)?;
        let document = DocumentMut::from_str(text).map_err(|e| ConfigFileError::Syntax {
            path: path.display().to_string(),
            line: 1,
            column: 1,
            reason: e.to_string(),
        })?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            document,
        })
    }

    /// The contents as a plain table, for validation.
    pub fn table(&self) -> toml::Table {
        self.document
            .to_string()
            .parse()
            .unwrap_or_else(|_| toml::Table::new())
    }

    /// Sets a dotted key, making the tables on the way (as `[a.b]` headers).
    pub fn set(&mut self, key: &str, value: &toml::Value) {
        let mut parts: Vec<&str> = key.split('.').collect();
        let Some(leaf) = parts.pop() else { return };
        let mut table = self.document.as_table_mut() as &mut dyn toml_edit::TableLike;
        for part in parts {
            let item = table.entry(part).or_insert_with(|| {
                let mut new = Table::new();
                new.set_implicit(true);
                Item::Table(new)
            });
            if item.as_table_like().is_none() {
                // A scalar where a table must go: the new value replaces it.
                let mut new = Table::new();
                new.set_implicit(true);
                *item = Item::Table(new);
            }
            let Some(next) = item.as_table_like_mut() else {
                return;
            };
            table = next;
        }
        let mut new = toml_value(value);
        match table.get_mut(leaf) {
            // In place: the key keeps the comment lines above it, the value the one after it.
            Some(item) if item.is_value() => {
                if let Some(old) = item.as_value() {
                    *new.decor_mut() = old.decor().clone();
                }
                *item = Item::Value(new);
            }
            _ => {
                table.insert(leaf, Item::Value(new));
            }
        }
    }

    /// Removes a key or a whole section; `false` when it wasn't there. Sections left
    /// empty (and without comments) go too.
    pub fn unset(&mut self, key: &str) -> bool {
        let parts: Vec<&str> = key.split('.').collect();
        let removed = remove(self.document.as_table_mut(), &parts);
        if removed {
            prune(self.document.as_table_mut());
        }
        removed
    }

    pub fn to_text(&self) -> String {
        self.document.to_string()
    }

    /// Writes the file atomically with mode 0600.
    pub fn save(&self) -> std::io::Result<()> {
        crate::atomic_file::write(&self.path, self.to_text().as_bytes(), MODE)
    }
}

fn toml_value(value: &toml::Value) -> toml_edit::Value {
    let text = value.to_string();
    toml_edit::Value::from_str(&text).unwrap_or_else(|_| toml_edit::Value::from(text))
}

fn remove(table: &mut dyn toml_edit::TableLike, parts: &[&str]) -> bool {
    match parts {
        [] => false,
        [leaf] => table.remove(leaf).is_some(),
        [first, rest @ ..] => match table.get_mut(first).and_then(Item::as_table_like_mut) {
            Some(next) => remove(next, rest),
            None => false,
        },
    }
}

/// Drops tables that are empty and carry no comment of the user's.
fn prune(table: &mut dyn toml_edit::TableLike) {
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        let Some(item) = table.get_mut(&key) else {
            continue;
        };
        let empty = match item.as_table_like_mut() {
            Some(child) => {
                prune(child);
                child.is_empty()
            }
            None => false,
        };
        let commented = item
            .as_table()
            .map(|t| {
                let decor = t.decor();
                [decor.prefix(), decor.suffix()]
                    .iter()
                    .flatten()
                    .any(|raw| raw.as_str().is_some_and(|s| s.contains('#')))
            })
            .unwrap_or(false);
        if empty && !commented {
            table.remove(&key);
        }
    }
}

/// An advisory lock on the config file's directory, held while a change is read,
/// made and written. Released when dropped (the lock lives as long as the open handle).
pub struct WriteLock {
    _handle: std::fs::File,
}

impl WriteLock {
    pub fn acquire(config_path: &Path) -> std::io::Result<WriteLock> {
        let dir = config_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.exists() {
            // Only rock reads this directory: keep it private like the file.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let handle = std::fs::File::open(dir)?;
        if unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(WriteLock { _handle: handle })
    }
}

use std::os::unix::fs::DirBuilderExt;

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ConfigFile {
        ConfigFile::parse(Path::new("c.toml"), text).unwrap()
    }

    #[test]
    fn set_keeps_comments_and_makes_sections() {
        let mut config = file("# mine\n[default]\n# slow\ntimeout = 5 # short\n");
        config.set("default.timeout", &toml::Value::Integer(30));
        config.set("providers.local.max_processes", &toml::Value::Integer(8));
        assert_eq!(
            config.to_text(),
            "# mine\n[default]\n# slow\ntimeout = 30 # short\n\n[providers.local]\nmax_processes = 8\n"
        );
    }

    #[test]
    fn unset_removes_the_key_and_empty_sections() {
        let mut config = file("[default]\ntimeout = 5\n\n[providers.local]\nmax_processes = 8\n");
        assert!(config.unset("providers.local.max_processes"));
        assert!(!config.unset("providers.local.max_processes"));
        assert_eq!(config.to_text(), "[default]\ntimeout = 5\n");
        assert!(config.unset("default"));
        assert_eq!(config.to_text(), "");
    }

    #[test]
    fn dotted_and_inline_tables_are_edited_where_they_are() {
        let mut config =
            file("default.timeout = 5\nproviders = { local = { max_processes = 2 } }\n");
        config.set("default.timeout", &toml::Value::Integer(7));
        config.set("providers.local.max_processes", &toml::Value::Integer(3));
        assert_eq!(
            config.to_text(),
            "default.timeout = 7\nproviders = { local = { max_processes = 3 } }\n"
        );
    }
}
