//! Runtime envs (ROCK's RuntimeEnv on the command line): standalone Python and Node.js
//! runtimes, or custom ones, installed into work dirs of their own, with packages.
//!
//! `catalog` knows the types and versions; `download` fetches and verifies archives into
//! a content-addressed cache; `store` unpacks each once and links envs to it; `install`
//! runs the create steps; `registry` finds, lists and removes envs; `shell` quotes.

pub mod catalog;
pub mod download;
pub mod install;
pub mod progress;
pub mod registry;
pub mod remote;
pub mod shell;
pub mod store;

use std::path::PathBuf;

use crate::config::{Config, ConfigFileError, Env};

pub use install::{create, CreateOptions, EnvError};
pub use registry::{EnvRecord, Registry, RegistryError};

/// Where envs live: `runtime_envs.root`, else `runtime-envs` in rock's data dir.
pub fn root(config: &Config, env: Env) -> Result<PathBuf, ConfigFileError> {
    config
        .value("runtime_envs.root", env)?
        .and_then(|v| v.as_str().map(PathBuf::from))
        .ok_or_else(|| {
            ConfigFileError::Value(
                "no place for runtime envs: set runtime_envs.root, or $HOME".into(),
            )
        })
}

/// What `bash -c` runs for `rock env run ENV -- words`: the words with the env's bin
/// first on PATH.
pub fn command_line(record: &EnvRecord, words: &[String]) -> String {
    shell::with_path(&record.bin_dir(), &shell::join(words))
}

/// ROCK's `wrapped_cmd` of `words`: `bash -c '<command_line>'`.
pub fn wrapped(record: &EnvRecord, words: &[String]) -> String {
    shell::wrapped_cmd(&record.bin_dir(), &shell::join(words))
}
