//! The runtime types rock knows: `python` and `node`, built in (what ROCK's RuntimeEnv
//! installs), and the custom types of the config file's `[runtime_envs.types.<name>]`.

use crate::config::Config;

/// A built-in archive: where it lives upstream and under a mirror, and its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    /// The asset's file name, the same upstream and on a mirror.
    pub file_name: String,
    /// The upstream download URL.
    pub upstream: String,
    /// The archive's path under a mirror's base URL.
    pub mirror_path: String,
    /// The checksum file's path under a mirror's base URL (`<hex>  <file name>` lines).
    pub mirror_checksums: String,
    /// The upstream archive's SHA-256, checked when no mirror is used.
    pub sha256: &'static str,
    /// The single directory the archive holds.
    pub top_dir: String,
    /// The config key and environment variable that name a mirror for it.
    pub mirror_key: &'static str,
}

/// How a runtime gets into `runtime-env/`.
#[derive(Debug, Clone, PartialEq)]
pub enum Installer {
    /// rock downloads, verifies and unpacks an archive itself.
    Archive(Archive),
    /// A custom type's install command, run by `bash -c` in the env's work dir.
    Command(String),
}

/// A type at one version, ready to install.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub type_name: String,
    pub version: String,
    /// What must be in `runtime-env/bin/` once installed (the first is checked).
    pub executables: Vec<String>,
    pub installer: Installer,
}

impl Resolved {
    /// `ROCK_RTENV_<TYPE>_V<version without dots>_INSTALL_CMD`, ROCK's override.
    pub fn override_var(&self) -> String {
        // Uppercase, anything but letters and digits as `_`.
        let word = |text: &str| -> String {
            text.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        format!(
            "ROCK_RTENV_{}_V{}_INSTALL_CMD",
            word(&self.type_name),
            word(&self.version.replace('.', ""))
        )
    }

    pub fn is_python(&self) -> bool {
        self.type_name == "python"
    }

    pub fn is_node(&self) -> bool {
        self.type_name == "node"
    }
}

const PBS_BASE: &str = "https://github.com/astral-sh/python-build-standalone/releases/download";
const NODE_BASE: &str = "https://nodejs.org/dist";

/// python-build-standalone's `install_only_stripped` archives (the `install_only` layout
/// without debug symbols). Digests as published in uv's download metadata and
/// pbs-installer's version table, which agree.
const PYTHONS: &[(&str, &str, &str)] = &[
    (
        "3.11.14",
        "20251120",
        "d4dc28e38517cb2e14023af4f9bb7dc0a04a700e5dd5327428b33469e52615d4",
    ),
    (
        "3.12.12",
        "20251217",
        "9f5474351378aeca746ee8a2ff3b187edec71d791ef92827eca14ab5b0e15441",
    ),
];

/// The Node.js `linux-x64` tarball, digest from nodejs.org's SHASUMS256.txt.
const NODE: (&str, &str) = (
    "22.18.0",
    "a2e703725d8683be86bb5da967bf8272f4518bdaf10f21389e2b2c9eaeae8c8a",
);

pub const BUILTIN_TYPES: [&str; 2] = ["python", "node"];

/// The default symlink set of each built-in type (ROCK's `extra_symlink_executables`).
pub fn default_symlinks(type_name: &str) -> Vec<String> {
    let names: &[&str] = match type_name {
        "python" => &["python", "python3", "pip", "pip3"],
        "node" => &["node", "npm", "npx"],
        _ => &[],
    };
    names.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("{0}")]
    Unsupported(String),
    #[error("unknown runtime type `{name}`{hint}: the types are {known}")]
    UnknownType {
        name: String,
        hint: String,
        known: String,
    },
    #[error("{0}")]
    Config(String),
}

/// Finds `type_name` at `version` (`None` or `default`: the type's default version).
pub fn resolve(
    type_name: &str,
    version: Option<&str>,
    config: &Config,
) -> Result<Resolved, CatalogError> {
    let asked = version.unwrap_or("default");
    match type_name {
        "python" => {
            let full = match asked {
                "default" | "3.11" | "3.11.14" => "3.11.14",
                "3.12" | "3.12.12" => "3.12.12",
                // ROCK's own sentence.
                other => {
                    return Err(CatalogError::Unsupported(format!(
                    "Unsupported Python version: {other}. Supported versions: 3.11, 3.12, default"
                )))
                }
            };
            let (version, release, sha256) = PYTHONS
                .iter()
                .find(|(v, _, _)| *v == full)
                .copied()
                .unwrap_or(PYTHONS[0]);
            let file_name = format!(
                "cpython-{version}+{release}-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
            );
            Ok(Resolved {
                type_name: "python".into(),
                version: version.into(),
                executables: vec!["python3".into()],
                installer: Installer::Archive(Archive {
                    upstream: format!("{PBS_BASE}/{release}/{}", file_name.replace('+', "%2B")),
                    mirror_path: format!("{release}/{file_name}"),
                    mirror_checksums: format!("{release}/SHA256SUMS"),
                    file_name,
                    sha256,
                    top_dir: "python".into(),
                    mirror_key: "python_mirror",
                }),
            })
        }
        "node" => {
            let (version, sha256) = NODE;
            if !["default", version].contains(&asked) {
                return Err(CatalogError::Unsupported(format!(
                    "Unsupported Node version: {asked}. Only {version} is supported right now."
                )));
            }
            let top_dir = format!("node-v{version}-linux-x64");
            let file_name = format!("{top_dir}.tar.gz");
            Ok(Resolved {
                type_name: "node".into(),
                version: version.into(),
                executables: vec!["node".into()],
                installer: Installer::Archive(Archive {
                    upstream: format!("{NODE_BASE}/v{version}/{file_name}"),
                    mirror_path: format!("v{version}/{file_name}"),
                    mirror_checksums: format!("v{version}/SHASUMS256.txt"),
                    file_name,
                    sha256,
                    top_dir,
                    mirror_key: "node_mirror",
                }),
            })
        }
        custom => resolve_custom(custom, asked, config),
    }
}

/// A type declared in `[runtime_envs.types.<name>]`.
fn resolve_custom(name: &str, asked: &str, config: &Config) -> Result<Resolved, CatalogError> {
    let types = config
        .get("runtime_envs.types")
        .and_then(toml::Value::as_table);
    let Some(table) = types
        .and_then(|t| t.get(name))
        .and_then(toml::Value::as_table)
    else {
        let mut known: Vec<String> = BUILTIN_TYPES.iter().map(|s| s.to_string()).collect();
        known.extend(
            types
                .map(|t| t.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let hint = crate::provider::schema::nearest(name, known.iter().map(String::as_str))
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(CatalogError::UnknownType {
            name: name.to_string(),
            hint,
            known: format!(
                "{} and those in [runtime_envs.types] of the config file",
                known.join(", ")
            ),
        });
    };
    let key = |field: &str| format!("runtime_envs.types.{name}.{field}");
    let strings = |field: &str| -> Result<Vec<String>, CatalogError> {
        match table.get(field) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        CatalogError::Config(format!("{} must be a list of strings", key(field)))
                    })
                })
                .collect(),
            Some(_) => Err(CatalogError::Config(format!(
                "{} must be a list of strings",
                key(field)
            ))),
        }
    };
    let install_cmd = table
        .get("install_cmd")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| {
            CatalogError::Config(format!(
                "{} is required to install runtime type {name}",
                key("install_cmd")
            ))
        })?;
    let executables = strings("executables")?;
    if executables.is_empty() {
        return Err(CatalogError::Config(format!(
            "{} is required to install runtime type {name}",
            key("executables")
        )));
    }
    let versions = strings("versions")?;
    let default_version = table
        .get("default_version")
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .or_else(|| versions.first().cloned())
        .unwrap_or_else(|| "default".to_string());
    let version = if asked == "default" {
        default_version
    } else {
        asked.to_string()
    };
    if !versions.is_empty() && !versions.contains(&version) {
        return Err(CatalogError::Unsupported(format!(
            "Unsupported {name} version: {asked}. Supported versions: {}, default",
            versions.join(", ")
        )));
    }
    Ok(Resolved {
        type_name: name.to_string(),
        version,
        executables,
        installer: Installer::Command(install_cmd.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_table(None, text.parse().unwrap())
    }

    #[test]
    fn versions_resolve_as_rock_does() {
        let empty = config("");
        let python = resolve("python", None, &empty).unwrap();
        assert_eq!(python.version, "3.11.14");
        assert_eq!(
            python.override_var(),
            "ROCK_RTENV_PYTHON_V31114_INSTALL_CMD"
        );
        assert_eq!(
            resolve("python", Some("3.12"), &empty).unwrap().version,
            "3.12.12"
        );
        assert_eq!(
            resolve("python", Some("3.10"), &empty)
                .unwrap_err()
                .to_string(),
            "Unsupported Python version: 3.10. Supported versions: 3.11, 3.12, default"
        );
        let node = resolve("node", Some("default"), &empty).unwrap();
        assert_eq!(node.override_var(), "ROCK_RTENV_NODE_V22180_INSTALL_CMD");
        let Installer::Archive(archive) = node.installer else {
            panic!("node is an archive")
        };
        assert_eq!(
            archive.upstream,
            "https://nodejs.org/dist/v22.18.0/node-v22.18.0-linux-x64.tar.gz"
        );
        assert_eq!(
            resolve("node", Some("20.10.0"), &empty)
                .unwrap_err()
                .to_string(),
            "Unsupported Node version: 20.10.0. Only 22.18.0 is supported right now."
        );
    }

    #[test]
    fn custom_types_come_from_the_config() {
        let c = config(
            "[runtime_envs.types.deno]\ninstall_cmd = \"true\"\nexecutables = [\"deno\"]\nversions = [\"2.1\", \"2.2\"]\n",
        );
        let deno = resolve("deno", None, &c).unwrap();
        assert_eq!(deno.version, "2.1");
        assert_eq!(deno.override_var(), "ROCK_RTENV_DENO_V21_INSTALL_CMD");
        assert!(resolve("deno", Some("3.0"), &c)
            .unwrap_err()
            .to_string()
            .starts_with("Unsupported deno version: 3.0."));
        let err = resolve("dneo", None, &c).unwrap_err().to_string();
        assert!(
            err.contains("unknown runtime type `dneo` (did you mean `deno`?)"),
            "{err}"
        );
    }
}
