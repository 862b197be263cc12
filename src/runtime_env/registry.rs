//! The envs on disk: `<root>/<type>/<version>/<id>/` holds `runtime-env/` and `env.json`
//! (type, version, config, created, status). An env is listed once its status is
//! `ready`; one left `installing` by a rock that died is removed by the next look.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store;

/// What the env was created with (ROCK's RuntimeEnvConfig fields, and rock's own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pip: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pip_index_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npm_registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_symlink_dir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_symlink_executables: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    pub install_timeout: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_install_cmd: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Installing,
    Ready,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvRecord {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub type_name: String,
    pub version: String,
    pub config: EnvConfig,
    /// RFC 3339, UTC.
    pub created: String,
    pub status: Status,
    /// How the runtime was installed: an archive's digest, or the command's source.
    #[serde(default)]
    pub installed_from: String,
    /// Symlinks made in `extra_symlink_dir`, removed with the env.
    #[serde(default)]
    pub symlinks: Vec<PathBuf>,
    /// Where it lives when a remote provider's sandbox holds it (`env create --provider`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteEnv>,
    /// The rock that is installing it (while `installing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The work dir; not stored, it is where the file was found.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// An env in a remote sandbox: the provider, the sandbox's handle (the provider's own
/// JSON, which may hold an access token: the record is then private to its owner) and the
/// work dir there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteEnv {
    pub provider: String,
    pub sandbox: serde_json::Value,
    pub work_dir: String,
}

impl EnvRecord {
    /// `runtime-env/` in the work dir: on this machine, or in the remote sandbox.
    pub fn runtime_dir(&self) -> PathBuf {
        match &self.remote {
            Some(remote) => Path::new(&remote.work_dir).join("runtime-env"),
            None => self.dir.join("runtime-env"),
        }
    }

    pub fn bin_dir(&self) -> PathBuf {
        self.runtime_dir().join("bin")
    }

    /// `name (id)` or the id alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RegistryError {
    #[error("no runtime env `{0}`: `rock env list` shows them")]
    NotFound(String),
    #[error("`{key}` matches several runtime envs ({ids}): give more of the id")]
    Ambiguous { key: String, ids: String },
}

pub struct Registry {
    pub root: PathBuf,
}

const RECORD: &str = "env.json";

impl Registry {
    pub fn new(root: PathBuf) -> Self {
        Registry { root }
    }

    pub fn work_dir(&self, type_name: &str, version: &str, id: &str) -> PathBuf {
        self.root.join(type_name).join(version).join(id)
    }

    /// Every env with a readable record, in creation order; sweeps dead installs.
    pub fn all(&self) -> Vec<EnvRecord> {
        let mut records = Vec::new();
        for type_dir in subdirs(&self.root) {
            for version_dir in subdirs(&type_dir) {
                for dir in subdirs(&version_dir) {
                    let Some(mut record) = std::fs::read(dir.join(RECORD))
                        .ok()
                        .and_then(|b| serde_json::from_slice::<EnvRecord>(&b).ok())
                    else {
                        continue;
                    };
                    record.dir = dir;
                    if record.status == Status::Installing {
                        if record.pid.is_some_and(|pid| !alive(pid)) {
                            let _ = self.remove(&record);
                        }
                        continue;
                    }
                    records.push(record);
                }
            }
        }
        records.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        records
    }

    /// An env by name, id, or a prefix of one id.
    pub fn find(&self, key: &str) -> Result<EnvRecord, RegistryError> {
        let all = self.all();
        if let Some(record) = all
            .iter()
            .find(|r| r.id == key || r.name.as_deref() == Some(key))
        {
            return Ok(record.clone());
        }
        let matches: Vec<&EnvRecord> = all.iter().filter(|r| r.id.starts_with(key)).collect();
        match matches.as_slice() {
            [one] if !key.is_empty() => Ok((*one).clone()),
            [] | [_] => Err(RegistryError::NotFound(key.to_string())),
            many => Err(RegistryError::Ambiguous {
                key: key.to_string(),
                ids: many
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// A fresh 8-character id, unused in this registry.
    pub fn new_id(&self) -> String {
        let taken: Vec<String> = self.all().into_iter().map(|r| r.id).collect();
        loop {
            let id = crate::process::random_id();
            if !taken.contains(&id) {
                return id;
            }
        }
    }

    pub fn save(&self, record: &EnvRecord) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        let mode = if record.remote.is_some() {
            0o600
        } else {
            0o644
        };
        crate::atomic_file::write(&record.dir.join(RECORD), &bytes, mode)
    }

    /// Removes the env's symlinks (those still pointing into it) and its work dir.
    pub fn remove(&self, record: &EnvRecord) -> std::io::Result<()> {
        for link in &record.symlinks {
            let points_inside = std::fs::read_link(link).is_ok_and(|t| t.starts_with(&record.dir));
            if points_inside {
                std::fs::remove_file(link)?;
            }
        }
        store::remove_tree(&record.dir)?;
        // Leave no empty <type>/<version> directories behind.
        for dir in record.dir.ancestors().skip(1).take(2) {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
        Ok(())
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

fn alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(crate::process::alive)
}

/// Now, as RFC 3339 in UTC (`2026-11-22T01:02:03Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }

    #[test]
    fn envs_are_found_by_name_id_or_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new(dir.path().to_path_buf());
        for (id, name) in [("abcd1234", Some("web")), ("abff0000", None)] {
            let record = EnvRecord {
                id: id.into(),
                name: name.map(str::to_string),
                type_name: "python".into(),
                version: "3.11.14".into(),
                config: EnvConfig::default(),
                created: now_rfc3339(),
                status: Status::Ready,
                installed_from: String::new(),
                symlinks: vec![],
                remote: None,
                pid: None,
                dir: registry.work_dir("python", "3.11.14", id),
            };
            std::fs::create_dir_all(&record.dir).unwrap();
            registry.save(&record).unwrap();
        }
        assert_eq!(registry.find("web").unwrap().id, "abcd1234");
        assert_eq!(registry.find("abcd").unwrap().id, "abcd1234");
        assert_eq!(registry.find("abff0000").unwrap().name, None);
        assert!(matches!(
            registry.find("ab"),
            Err(RegistryError::Ambiguous { .. })
        ));
        assert_eq!(
            registry.find("zz").unwrap_err().to_string(),
            "no runtime env `zz`: `rock env list` shows them"
        );
        let web = registry.find("web").unwrap();
        registry.remove(&web).unwrap();
        assert!(!web.dir.exists());
        assert_eq!(registry.all().len(), 1);
    }
}
