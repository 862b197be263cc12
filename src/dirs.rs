//! rock's own directories, from the platform's conventions (the `directories` crate):
//! on Linux `~/.config/rock`, `~/.cache/rock` and `~/.local/share/rock`, or the XDG
//! variables that move them.

use std::path::PathBuf;

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "rock")
}

/// Where the config file lives when neither `--config` nor `$ROCK_CONFIG` names one.
pub fn default_config_file() -> Option<PathBuf> {
    project().map(|d| d.config_dir().join("config.toml"))
}

/// Caches that can be rebuilt at any time (interpreter probes, downloads).
pub fn cache_dir() -> Option<PathBuf> {
    project().map(|d| d.cache_dir().to_path_buf())
}

/// Data rock keeps (runtime envs).
pub fn data_dir() -> Option<PathBuf> {
    project().map(|d| d.data_dir().to_path_buf())
}
