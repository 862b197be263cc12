//! Provider `gvisor`: the host's interpreter under gVisor's `runsc` (RAGFlow's
//! self-managed executor uses gVisor too). rock writes the OCI bundle itself: the same
//! harness, files, limits and results as `local`, with a user-space kernel between the
//! program and the host's.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::host::{self, blocking, Limits, MemoryEnforcement, Prepared, Wiring};
use super::{
    ConfigError, ConfigField, ConfigSchema, FieldType, Health, Instance, Provider, ProviderContext,
    ProviderError, Sink,
};
use crate::exec::{ExecRequest, ExecutionResult};
use crate::interpreter::Interpreter;
use crate::sandbox::gvisor::{self, GvisorRun, RESULT_PATH};
use crate::sandbox::{OutputSink, Termination};

#[derive(Debug, Clone)]
struct Settings {
    limits: Limits,
    runsc: String,
    /// `None`: runsc's own default platform.
    platform: Option<String>,
    context: ProviderContext,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: Limits {
                memory_enforcement: MemoryEnforcement::Cgroup,
                ..Limits::default()
            },
            runsc: "runsc".to_string(),
            platform: None,
            context: ProviderContext::default(),
        }
    }
}

#[derive(Debug, Default)]
pub struct GvisorProvider {
    settings: Settings,
}

pub fn schema() -> ConfigSchema {
    // Memory is always held by a cgroup (see `execute`): no memory_enforcement field.
    let mut fields = vec![
        ConfigField::new(
            "runsc",
            FieldType::String,
            "runsc binary",
            "gVisor's runsc: a command on PATH or an absolute path",
        )
        .default("runsc"),
        ConfigField::new(
            "platform",
            FieldType::String,
            "Platform",
            "How gVisor intercepts the program's system calls: runsc's default, ptrace (works everywhere), kvm (needs /dev/kvm) or systrap (runsc 2023 and later)",
        )
        .default("default")
        .options(&["default", "ptrace", "kvm", "systrap"]),
    ];
    fields.extend(
        Limits::fields()
            .into_iter()
            .filter(|f| f.name != "memory_enforcement"),
    );
    ConfigSchema { fields }
}

#[async_trait]
impl Provider for GvisorProvider {
    fn name(&self) -> &'static str {
        "gvisor"
    }

    fn description(&self) -> &'static str {
        "gVisor (runsc): the program's system calls served by a user-space kernel; rock writes the OCI bundle"
    }

    fn config_schema(&self) -> ConfigSchema {
        schema()
    }

    fn initialize(
        &mut self,
        config: &toml::Table,
        context: &ProviderContext,
    ) -> Result<(), ConfigError> {
        let s = &mut self.settings;
        s.context = context.clone();
        s.limits.apply(config);
        if let Some(runsc) = config.get("runsc").and_then(toml::Value::as_str) {
            s.runsc = runsc.to_string();
        }
        if let Some(platform) = config.get("platform").and_then(toml::Value::as_str) {
            s.platform = (platform != "default").then(|| platform.to_string());
        }
        Ok(())
    }

    /// Finds runsc, then has it run `true`: the bundle, the mounts and the platform work.
    async fn health_check(&self) -> Health {
        let settings = self.settings.clone();
        host::check_health(move || {
            let runsc = locate(&settings.runsc).map_err(|e| e.to_string())?;
            let version = runsc_version(&runsc);
            let outcome = gvisor::run(
                GvisorRun {
                    runsc,
                    platform: settings.platform.clone(),
                    spec: host::trivial_spec(&settings.limits)?,
                    timeout: Duration::from_secs(30),
                    output_cap: 4096,
                    stdin: None,
                    cgroup: None,
                    id: crate::process::random_id(),
                },
                &mut crate::sandbox::NoSink,
            )
            .map_err(|e| e.to_string())?;
            match outcome.termination {
                Termination::Exited(0) => Ok(format!(
                    "runsc {version} (platform {}) built a sandbox and ran a program; {}",
                    settings.platform.as_deref().unwrap_or("default"),
                    settings.limits.memory_summary().map_err(|e| format!(
                        "{e}; gVisor needs one, as it does not enforce RLIMIT_DATA: run rock \
                         as root or inside a delegated cgroup v2 subtree"
                    ))?
                )),
                other => Err(format!(
                    "a trivial program ended with {other:?} under runsc: {}",
                    String::from_utf8_lossy(&outcome.stderr).trim()
                )),
            }
        })
        .await
    }

    fn takes_host_runtime_envs(&self) -> bool {
        true
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        locate(&self.settings.runsc)?;
        host::create_instance(request.language, &self.settings.context).await
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

    /// Each run's sandbox, bundle and cgroup are gone when `execute_code` returns.
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
    let runsc = locate(&settings.runsc)?;
    let Prepared {
        cgroup,
        spec,
        mut metadata,
        heap_limited,
    } = host::prepare(
        "gvisor",
        &settings.limits,
        interpreter,
        id,
        request,
        Wiring {
            result: RESULT_PATH,
            // runsc is moved into the cgroup before it starts anything.
            attached_late: false,
            cgroup_processes: host_processes(settings.limits.max_processes),
            why_cgroup: "gVisor needs one, as it does not enforce RLIMIT_DATA: run rock as \
                         root or inside a delegated cgroup v2 subtree",
            warm: false,
        },
    )?;
    metadata.insert(
        "platform".into(),
        json!(settings.platform.as_deref().unwrap_or("default")),
    );
    let outcome = gvisor::run(
        GvisorRun {
            runsc,
            platform: settings.platform.clone(),
            spec,
            timeout: request.timeout,
            output_cap: request.output_cap,
            stdin: request.stdin.clone(),
            cgroup: cgroup.as_ref(),
            id: id.to_string(),
        },
        sink,
    )
    .map_err(host::provider_error)?;
    drop(cgroup);
    let had_arguments = request.arguments.as_ref().is_some_and(|a| !a.is_empty());
    host::interpret(outcome, metadata, heap_limited, had_arguments)
}

/// The cgroup's process limit for a run whose program may have `processes`: the cgroup
/// holds runsc, the gofer and gVisor's kernel, whose threads serve the program's. gVisor
/// itself holds the program to `processes` (RLIMIT_NPROC); this only backs it up, and
/// must not starve gVisor's kernel, which would end the run with exit 2. On the ptrace
/// platform a guest process costs about 7 host tasks (stub process, Sentry threads): 64
/// processes peaked at 471 to 507, which the earlier `4 × processes + 256` = 512 starved
/// now and then.
fn host_processes(processes: u64) -> u64 {
    processes * 12 + 256
}

/// The runsc binary, or the sentence that says how to get one.
fn locate(runsc: &str) -> Result<PathBuf, ProviderError> {
    gvisor::find_runsc(runsc).ok_or_else(|| {
        ProviderError::Unavailable(format!(
            "gVisor's runsc was not found (`{runsc}`): {}",
            gvisor::install_hint()
        ))
    })
}

/// `runsc --version`'s first line, without its prefix.
fn runsc_version(runsc: &PathBuf) -> String {
    std::process::Command::new(runsc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(|l| l.trim_start_matches("runsc version ").trim().to_string())
        })
        .unwrap_or_else(|| "(version unknown)".to_string())
}
