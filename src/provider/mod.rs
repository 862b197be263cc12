//! The Provider trait (RAGFlow's sandbox provider interface) and the registry.
//! Nothing outside this module names a concrete provider.

pub mod aliyun;
pub mod docker;
pub mod e2b;
pub mod executor;
pub mod gvisor;
mod host;
pub mod local;
pub mod remote;
pub mod rock;
pub mod schema;

use std::any::Any;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::exec::{ExecRequest, ExecutionResult, Language};
use crate::sandbox::OutputSink;
pub use schema::{ConfigError, ConfigField, ConfigSchema, FieldType};

/// What every provider reports when asked whether it can run code now.
#[derive(Debug, Clone)]
pub struct Health {
    pub healthy: bool,
    /// One line: what was checked, or why it failed.
    pub detail: String,
}

/// What providers that run a local interpreter need from the settings.
#[derive(Debug, Clone, Default)]
pub struct ProviderContext {
    /// `[languages.<lang>] interpreter` commands; unset languages use `python3`/`node`.
    pub interpreters: BTreeMap<Language, String>,
    /// Where probes and downloads may be cached.
    pub cache_dir: Option<PathBuf>,
    /// The runtime env of this machine `rock exec --env` chose.
    pub runtime_env: Option<HostRuntimeEnv>,
}

/// A runtime env of this machine, handed to a provider that takes one.
#[derive(Debug, Clone)]
pub struct HostRuntimeEnv {
    pub language: Language,
    /// Its `runtime-env/` directory: the interpreter's prefix, packages included.
    pub dir: PathBuf,
    /// The interpreter in it, an absolute path.
    pub interpreter: PathBuf,
}

impl ProviderContext {
    /// The interpreter command for `language`: the runtime env's, else the configured one
    /// (`None`: `python3`/`node` from PATH).
    pub fn interpreter(&self, language: Language) -> Option<String> {
        match &self.runtime_env {
            Some(env) if env.language == language => {
                Some(env.interpreter.to_string_lossy().into_owned())
            }
            _ => self.interpreters.get(&language).cloned(),
        }
    }
}

/// A sandbox handle a provider gave out; `state` is the provider's own.
pub struct Instance {
    pub id: String,
    pub language: Language,
    pub state: Arc<dyn Any + Send + Sync>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The request can't be run as given (exit 125).
    #[error("{0}")]
    BadInput(String),
    /// The provider can't run anything now (exit 125).
    #[error("{0}")]
    Unavailable(String),
    /// The interpreter is missing (127) or can't be executed (126).
    #[error("{message}")]
    Interpreter { message: String, exit_code: i32 },
    /// Interrupted by a signal, after the provider released what it held (exit 128+N).
    #[error("{message}")]
    Interrupted { message: String, signal: i32 },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ProviderError {
    /// The `rock exec` exit status for this failure (DESIGN.md "CLI conventions").
    pub fn exit_code(&self) -> i32 {
        match self {
            ProviderError::Interpreter { exit_code, .. } => *exit_code,
            ProviderError::Interrupted { signal, .. } => 128 + signal,
            _ => 125,
        }
    }
}

/// A shell command for a sandbox a provider keeps (runtime envs on remote providers).
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// Run with `bash -c` (E2B: `bash -l -c`).
    pub command: String,
    pub cwd: Option<String>,
    pub env: BTreeMap<String, String>,
    pub timeout: std::time::Duration,
}

/// What a command left: its output and its real exit code.
#[derive(Debug, Clone, Default)]
pub struct CommandOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
    /// The signal that ended it, where the provider tells.
    pub signal: Option<i32>,
}

/// Receives a command's output as it arrives.
pub type CommandSink<'a> = &'a mut (dyn FnMut(crate::sandbox::Stream, &[u8]) + Send);

/// Sandboxes that outlive a run and take shell commands: where runtime envs live on
/// remote providers. A sandbox is named by a handle, JSON the provider made and reads
/// back, which the env's record keeps.
#[async_trait]
pub trait KeptSandboxes: Send + Sync {
    /// Makes a sandbox that lives as long as the provider's `env_lifetime` setting says,
    /// unless destroyed.
    async fn create_kept(&self) -> Result<serde_json::Value, ProviderError>;

    /// Runs `command` with `bash -c` in the sandbox; the output's exit code is the
    /// command's own.
    async fn run_command(
        &self,
        handle: &serde_json::Value,
        command: &CommandRequest,
        sink: CommandSink<'_>,
    ) -> Result<CommandOutput, ProviderError>;

    /// Destroys the sandbox; one that is gone already is no error.
    async fn destroy_kept(&self, handle: &serde_json::Value) -> Result<(), ProviderError>;
}

/// Output sinks cross into blocking tasks, so they must be sendable.
pub type Sink = Box<dyn OutputSink + Send>;

#[async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;

    /// One line for `rock provider list`.
    fn description(&self) -> &'static str;

    /// The languages it runs: every one rock knows, unless a provider says otherwise.
    fn supported_languages(&self) -> Vec<Language> {
        Language::ALL.to_vec()
    }

    fn config_schema(&self) -> ConfigSchema;

    /// Checks a `[providers.<name>]` table; `initialize` applies it.
    fn validate_config(&self, config: &toml::Table) -> Result<(), ConfigError> {
        self.config_schema().validate(self.name(), config)
    }

    /// Applies a validated `[providers.<name>]` table (RAGFlow's `initialize`).
    fn initialize(
        &mut self,
        config: &toml::Table,
        context: &ProviderContext,
    ) -> Result<(), ConfigError>;

    async fn health_check(&self) -> Health;

    /// Makes a sandbox for `request`, which a provider may use to size it (memory,
    /// network, lifetime); the code itself comes with `execute_code`.
    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError>;

    /// Makes an instance ahead of a request: for `local`, a sandbox whose interpreter
    /// already runs and waits for its code, so that `execute_code` pays for neither (a
    /// warm pool's member). `template` bounds the requests it can take: its language,
    /// network and memory, and its timeout as the largest. `Ok(None)` where a provider
    /// has nothing to make ahead, the default.
    async fn prepare_instance(
        &self,
        _template: &ExecRequest,
    ) -> Result<Option<Instance>, ProviderError> {
        Ok(None)
    }

    /// Runs `request` in `instance`, streaming output to `sink` where the provider can.
    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        sink: Sink,
    ) -> Result<ExecutionResult, ProviderError>;

    async fn destroy_instance(&self, instance: Instance) -> Result<(), ProviderError>;

    /// Whether `rock exec --env` can hand it a runtime env of this machine (through
    /// `ProviderContext::runtime_env`); remote providers run their sandboxes' own.
    fn takes_host_runtime_envs(&self) -> bool {
        false
    }

    /// Where the provider keeps sandboxes for runtime envs (`rock env create --provider`);
    /// `None` (the default) where it has none.
    fn kept_sandboxes(&self) -> Option<&dyn KeptSandboxes> {
        None
    }

    /// Ends what the provider keeps running between instances (the local provider's fork
    /// servers), once no instance is in use, and waits until it is gone. The default has
    /// nothing to end.
    async fn shutdown(&self) {}
}

/// A registered provider: its names and how to make one.
pub struct ProviderEntry {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    make: fn() -> Box<dyn Provider>,
}

impl ProviderEntry {
    pub fn make(&self) -> Box<dyn Provider> {
        (self.make)()
    }
}

pub const PROVIDERS: &[ProviderEntry] = &[
    ProviderEntry {
        name: "local",
        aliases: &[],
        make: || Box::new(local::LocalProvider::default()),
    },
    ProviderEntry {
        name: "gvisor",
        aliases: &["runsc"],
        make: || Box::new(gvisor::GvisorProvider::default()),
    },
    ProviderEntry {
        name: "executor",
        aliases: &["self_managed"],
        make: || Box::new(executor::ExecutorProvider::default()),
    },
    ProviderEntry {
        name: "docker",
        aliases: &["podman"],
        make: || Box::new(docker::DockerProvider::default()),
    },
    ProviderEntry {
        name: "e2b",
        aliases: &[],
        make: || Box::new(e2b::E2bProvider::default()),
    },
    ProviderEntry {
        name: "aliyun",
        aliases: &["aliyun_codeinterpreter"],
        make: || Box::new(aliyun::AliyunProvider::default()),
    },
    ProviderEntry {
        name: "rock",
        aliases: &[],
        make: || Box::new(rock::RockProvider::default()),
    },
];

pub const DEFAULT_PROVIDER: &str = "local";

/// Finds a provider by name or alias.
pub fn lookup(name: &str) -> Result<&'static ProviderEntry, ProviderError> {
    PROVIDERS
        .iter()
        .find(|p| p.name == name || p.aliases.contains(&name))
        .ok_or_else(|| {
            let known: Vec<&str> = PROVIDERS.iter().map(|p| p.name).collect();
            let hint = schema::nearest(name, known.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            ProviderError::BadInput(format!(
                "unknown provider `{name}`{hint}: known providers are {}",
                known.join(", ")
            ))
        })
}

/// Makes the named provider and applies its config table.
pub fn build(
    name: &str,
    config: &toml::Table,
    context: &ProviderContext,
) -> Result<Box<dyn Provider>, ProviderError> {
    let mut provider = lookup(name)?.make();
    provider.validate_config(config)?;
    provider.initialize(config, context)?;
    Ok(provider)
}

/// Runs one request start to end: create, execute, destroy (also when execute fails).
pub async fn run_once(
    provider: &dyn Provider,
    request: &ExecRequest,
    sink: Sink,
) -> Result<ExecutionResult, ProviderError> {
    if !provider.supported_languages().contains(&request.language) {
        return Err(ProviderError::BadInput(format!(
            "provider {} does not run {}",
            provider.name(),
            request.language
        )));
    }
    let instance = provider.create_instance(request).await?;
    run_in(provider, instance, request, sink).await
}

/// Runs one request in `instance` (made ahead, or just now), then destroys it, also when
/// execute fails. (`rock serve` answers before it destroys, with `execute_code` and
/// `destroy_instance` of its own.)
pub async fn run_in(
    provider: &dyn Provider,
    instance: Instance,
    request: &ExecRequest,
    sink: Sink,
) -> Result<ExecutionResult, ProviderError> {
    let result = provider.execute_code(&instance, request, sink).await;
    let destroyed = provider.destroy_instance(instance).await;
    let result = result?;
    destroyed?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_provider_suggests_the_nearest() {
        let err = lookup("locl").err().unwrap().to_string();
        assert!(
            err.contains("unknown provider `locl` (did you mean `local`?)"),
            "{err}"
        );
    }
}
