//! rock: run untrusted Python and Node.js code in sandboxes.
//!
//! A request flows `cli::exec` → `provider::run_once` → a [`provider::Provider`]
//! (`local` builds a [`sandbox`] around the host's interpreter) → an
//! [`exec::ExecutionResult`], the same shape from every provider.

pub mod atomic_file;
pub mod cli;
pub mod config;
pub mod dirs;
pub mod exec;
pub mod interpreter;
pub mod interrupt;
pub mod process;
pub mod provider;
pub mod runtime_env;
pub mod sandbox;
pub mod server;
pub mod settings;
pub mod size;
