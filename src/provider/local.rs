//! Provider `local`: the embedded Linux sandbox (namespaces, mounts, rlimits, cgroups)
//! around the host's own interpreter. No daemon, no external binary.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::host::{self, blocking, Limits, Prepared, Wiring};
use super::{
    ConfigError, ConfigField, ConfigSchema, FieldType, Health, Instance, Provider, ProviderContext,
    ProviderError, Sink,
};
use crate::exec::harness;
use crate::exec::{ExecRequest, ExecutionResult, Language};
use crate::interpreter::Interpreter;
use crate::sandbox::{self, OutputSink, SandboxRun, Termination};

#[derive(Debug, Clone)]
struct Settings {
    limits: Limits,
    seccomp: bool,
    landlock: bool,
    context: ProviderContext,
    helper: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: Limits::default(),
            seccomp: true,
            landlock: true,
            context: ProviderContext::default(),
            helper: PathBuf::from("/proc/self/exe"),
        }
    }
}

#[derive(Debug, Default)]
pub struct LocalProvider {
    settings: Settings,
}

pub fn schema() -> ConfigSchema {
    let mut fields = Limits::fields();
    fields.extend([
        ConfigField::new("landlock", FieldType::Boolean, "Landlock", "Let the program write only beneath /work, /tmp and /dev/shm, and signal or reach no process outside the sandbox, whatever the mounts allow (where the kernel has Landlock)")
            .default(true),
        ConfigField::new("seccomp", FieldType::Boolean, "Seccomp filter", "Refuse (EPERM) the system calls a code runner never needs: mount, ptrace, bpf, io_uring, namespaces and more (see docs/security.md)")
            .default(true),
    ]);
    ConfigSchema { fields }
}

#[async_trait]
impl Provider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    fn description(&self) -> &'static str {
        "embedded Linux sandbox: user, pid, mount, network, ipc and uts namespaces, rlimits, cgroups"
    }

    fn supported_languages(&self) -> Vec<Language> {
        Language::ALL.to_vec()
    }

    fn config_schema(&self) -> ConfigSchema {
        schema()
    }

    fn initialize(
        &mut self,
        config: &toml::Table,
        context: &ProviderContext,
    ) -> Result<(), ConfigError> {
        self.validate_config(config)?;
        let s = &mut self.settings;
        s.context = context.clone();
        s.limits.apply(config);
        if let Some(on) = config.get("seccomp").and_then(toml::Value::as_bool) {
            s.seccomp = on;
        }
        if let Some(on) = config.get("landlock").and_then(toml::Value::as_bool) {
            s.landlock = on;
        }
        Ok(())
    }

    /// Builds a real sandbox and runs `true` in it: namespaces, mounts and id maps all work.
    async fn health_check(&self) -> Health {
        let settings = self.settings.clone();
        host::check_health(move || {
            let mut spec = host::trivial_spec(&settings.limits)?;
            spec.seccomp = settings.seccomp;
            spec.landlock = settings.landlock;
            let outcome = sandbox::run(
                SandboxRun {
                    spec,
                    timeout: Duration::from_secs(10),
                    output_cap: 4096,
                    stdin: None,
                    helper: settings.helper.clone(),
                    cgroup: None,
                },
                &mut sandbox::NoSink,
            )
            .map_err(|e| e.to_string())?;
            match outcome.termination {
                Termination::Exited(0) => health_summary(&settings),
                other => Err(format!("a trivial program ended with {other:?}")),
            }
        })
        .await
    }

    async fn create_instance(&self, language: Language) -> Result<Instance, ProviderError> {
        host::create_instance(language, &self.settings.context).await
    }

    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        mut sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let interpreter = host::interpreter_of(instance)?;
        let settings = self.settings.clone();
        let request = request.clone();
        let id = instance.id.clone();
        blocking(move || execute(&settings, &interpreter, &id, &request, sink.as_mut()))
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?
    }

    /// Every run's sandbox is gone when `execute_code` returns: processes, mounts and
    /// cgroup die with it, so an instance holds nothing to release.
    async fn destroy_instance(&self, _instance: Instance) -> Result<(), ProviderError> {
        Ok(())
    }
}

fn execute(
    settings: &Settings,
    interpreter: &Interpreter,
    id: &str,
    request: &ExecRequest,
    sink: &mut (dyn OutputSink + Send),
) -> Result<ExecutionResult, ProviderError> {
    let Prepared {
        cgroup,
        mut spec,
        mut metadata,
        heap_limited,
    } = host::prepare(
        "local",
        &settings.limits,
        interpreter,
        id,
        request,
        Wiring {
            result: harness::RESULT_FD,
            attached_late: true,
            cgroup_processes: settings.limits.max_processes,
            why_cgroup: "memory_enforcement is cgroup (auto would fall back to rlimits)",
        },
    )?;
    spec.seccomp = settings.seccomp;
    spec.landlock = settings.landlock;
    metadata.insert("landlock".into(), json!(landlock_state(settings)));
    let outcome = sandbox::run(
        SandboxRun {
            spec,
            timeout: request.timeout,
            output_cap: request.output_cap,
            stdin: request.stdin.clone(),
            helper: settings.helper.clone(),
            cgroup: cgroup.as_ref(),
        },
        sink,
    )
    .map_err(host::provider_error)?;
    drop(cgroup);
    let had_arguments = request.arguments.as_ref().is_some_and(|a| !a.is_empty());
    host::interpret(outcome, metadata, heap_limited, had_arguments)
}

fn landlock_state(settings: &Settings) -> String {
    if settings.landlock {
        sandbox::landlock::describe()
    } else {
        "off (configured)".to_string()
    }
}

/// The health check's detail: how memory is held, and the state of the walls behind the
/// namespaces.
fn health_summary(settings: &Settings) -> Result<String, String> {
    let seccomp = if settings.seccomp {
        "seccomp filter on"
    } else {
        "seccomp filter off (configured)"
    };
    Ok(format!(
        "sandbox built and ran a program; {}; {seccomp}; landlock {}",
        settings.limits.memory_summary()?,
        landlock_state(settings)
    ))
}
