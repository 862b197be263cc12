//! Provider `local`: the embedded Linux sandbox (namespaces, mounts, rlimits, cgroups)
//! around the host's own interpreter. No daemon, no external binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{
    ConfigError, ConfigField, ConfigSchema, FieldType, Health, Instance, Provider, ProviderContext,
    ProviderError, Sink,
};
use crate::exec::harness::{self, HarnessMessage, RUN_DIR};
use crate::exec::{
    ExecRequest, ExecutionResult, Language, LimitHit, ResultValue, Status, Truncated,
};
use crate::interpreter::{self, Interpreter};
use crate::sandbox::spec::{ProcessLimits, SandboxFile, SandboxSpec, WORK_DIR};
use crate::sandbox::{
    self, Cgroup, OutputSink, SandboxError, SandboxOutcome, SandboxRun, Termination,
};

const MIB: u64 = 1024 * 1024;

/// How memory is held when no flag or config says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryEnforcement {
    /// A cgroup where one can be made, else rlimits and the interpreter's own limit.
    #[default]
    Auto,
    /// A cgroup or nothing: runs fail when none can be made.
    Cgroup,
    /// Never a cgroup (RLIMIT_DATA, and V8's heap limit for Node).
    Rlimit,
}

#[derive(Debug, Clone)]
struct Settings {
    memory_enforcement: MemoryEnforcement,
    max_processes: u64,
    max_open_files: u64,
    max_file_size: u64,
    tmpfs_size: u64,
    /// `None`: the run's timeout, in CPU seconds.
    cpu_time: Option<u64>,
    seccomp: bool,
    landlock: bool,
    /// A CFS quota, percent of one CPU; `None`: no quota.
    cpu_percent: Option<u64>,
    interpreters: BTreeMap<Language, String>,
    cache_dir: Option<PathBuf>,
    helper: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            memory_enforcement: MemoryEnforcement::Auto,
            max_processes: 64,
            max_open_files: 256,
            max_file_size: 64 * MIB,
            tmpfs_size: crate::sandbox::spec::DEFAULT_TMPFS_BYTES,
            cpu_time: None,
            seccomp: true,
            landlock: true,
            cpu_percent: None,
            interpreters: BTreeMap::new(),
            cache_dir: None,
            helper: PathBuf::from("/proc/self/exe"),
        }
    }
}

#[derive(Debug, Default)]
pub struct LocalProvider {
    settings: Settings,
}

pub fn schema() -> ConfigSchema {
    ConfigSchema {
        fields: vec![
            ConfigField::new(
                "memory_enforcement",
                FieldType::String,
                "Memory enforcement",
                "auto: a cgroup where rock can make one, else RLIMIT_DATA plus the interpreter's own heap limit; cgroup: refuse to run without one; rlimit: never use a cgroup",
            )
            .default("auto")
            .options(&["auto", "cgroup", "rlimit"]),
            ConfigField::new("max_processes", FieldType::Integer, "Max processes", "Processes and threads the program may have at once")
                .default(64)
                .range(1, 4096),
            ConfigField::new("max_open_files", FieldType::Integer, "Max open files", "Open file descriptors per process")
                .default(256)
                .range(16, 65536),
            ConfigField::new("max_file_size_mb", FieldType::Integer, "Max file size (MiB)", "Largest file the program may write")
                .default(64)
                .range(1, 1 << 20),
            ConfigField::new("tmpfs_size_mb", FieldType::Integer, "Work dir size (MiB)", "Size of each writable tmpfs: /work, /tmp and /dev/shm")
                .default(64)
                .range(1, 1 << 20),
            ConfigField::new("cpu_time", FieldType::Integer, "CPU time (s)", "CPU seconds the program may use; 0 means the run's timeout")
                .default(0)
                .range(0, 86400),
            ConfigField::new("cpu_quota_percent", FieldType::Integer, "CPU quota (%)", "CPU the program's processes may use together, in percent of one CPU (150: one and a half); 0 means no quota. Needs a cgroup: with rlimits alone it is not applied")
                .default(0)
                .range(0, 102_400),
            ConfigField::new("landlock", FieldType::Boolean, "Landlock", "Let the program write only beneath /work, /tmp and /dev/shm, and signal or reach no process outside the sandbox, whatever the mounts allow (where the kernel has Landlock)")
                .default(true),
            ConfigField::new("seccomp", FieldType::Boolean, "Seccomp filter", "Refuse (EPERM) the system calls a code runner never needs: mount, ptrace, bpf, io_uring, namespaces and more (see docs/security.md)")
                .default(true),
        ],
    }
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
        self.settings.interpreters = context.interpreters.clone();
        self.settings.cache_dir = context.cache_dir.clone();
        let int = |key: &str| {
            config
                .get(key)
                .and_then(toml::Value::as_integer)
                .map(|n| n as u64)
        };
        let s = &mut self.settings;
        if let Some(mode) = config
            .get("memory_enforcement")
            .and_then(toml::Value::as_str)
        {
            s.memory_enforcement = match mode {
                "cgroup" => MemoryEnforcement::Cgroup,
                "rlimit" => MemoryEnforcement::Rlimit,
                _ => MemoryEnforcement::Auto,
            };
        }
        s.max_processes = int("max_processes").unwrap_or(s.max_processes);
        s.max_open_files = int("max_open_files").unwrap_or(s.max_open_files);
        s.max_file_size = int("max_file_size_mb")
            .map(|n| n * MIB)
            .unwrap_or(s.max_file_size);
        s.tmpfs_size = int("tmpfs_size_mb")
            .map(|n| n * MIB)
            .unwrap_or(s.tmpfs_size);
        if let Some(cpu) = int("cpu_time") {
            s.cpu_time = (cpu > 0).then_some(cpu);
        }
        if let Some(on) = config.get("seccomp").and_then(toml::Value::as_bool) {
            s.seccomp = on;
        }
        if let Some(on) = config.get("landlock").and_then(toml::Value::as_bool) {
            s.landlock = on;
        }
        if let Some(percent) = int("cpu_quota_percent") {
            s.cpu_percent = (percent > 0).then_some(percent);
        }
        Ok(())
    }

    /// Builds a real sandbox and runs `true` in it: namespaces, mounts and id maps all work.
    async fn health_check(&self) -> Health {
        let settings = self.settings.clone();
        let check = blocking(move || {
            let Some(true_path) = interpreter::which("true") else {
                return Err("`true` is not on PATH".to_string());
            };
            let spec = SandboxSpec {
                argv: vec![true_path.to_string_lossy().into_owned()],
                env: base_env(None),
                ro_binds: vec![],
                files: vec![],
                network: false,
                limits: process_limits(&settings, 1, None),
                gated: false,
                seccomp: settings.seccomp,
                landlock: settings.landlock,
            };
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
                Termination::Exited(0) => Ok(memory_summary(&settings)),
                other => Err(format!("a trivial program ended with {other:?}")),
            }
        })
        .await;
        match check {
            Ok(Ok(detail)) => Health {
                healthy: true,
                detail,
            },
            Ok(Err(reason)) => Health {
                healthy: false,
                detail: reason,
            },
            Err(e) => Health {
                healthy: false,
                detail: e.to_string(),
            },
        }
    }

    async fn create_instance(&self, language: Language) -> Result<Instance, ProviderError> {
        let command = self.settings.interpreters.get(&language).cloned();
        let cache_dir = self.settings.cache_dir.clone();
        let interpreter = blocking(move || {
            interpreter::discover(language, command.as_deref(), cache_dir.as_deref())
        })
        .await
        .map_err(|e| ProviderError::Unavailable(e.to_string()))?
        .map_err(|e| ProviderError::Interpreter {
            exit_code: e.exit_code(),
            message: e.to_string(),
        })?;
        Ok(Instance {
            id: crate::process::random_id(),
            language,
            state: Arc::new(interpreter),
        })
    }

    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        mut sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let interpreter = instance
            .state
            .downcast_ref::<Interpreter>()
            .ok_or_else(|| ProviderError::Unavailable("not a local sandbox instance".into()))?
            .clone();
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
    let language = request.language;
    let mut metadata = Map::new();
    metadata.insert("provider".into(), json!("local"));
    metadata.insert("sandbox_id".into(), json!(id));
    metadata.insert("interpreter".into(), json!(interpreter.executable));
    metadata.insert("interpreter_version".into(), json!(interpreter.version));

    let cgroup = match settings.memory_enforcement {
        MemoryEnforcement::Rlimit => None,
        mode => match Cgroup::create(
            id,
            request.memory_bytes,
            settings.max_processes,
            settings.cpu_percent,
        ) {
            Ok(cgroup) => Some(cgroup),
            Err(reason) if mode == MemoryEnforcement::Cgroup => {
                return Err(ProviderError::Unavailable(format!(
                    "memory_enforcement is cgroup but no cgroup can be made: {reason}"
                )))
            }
            Err(reason) => {
                metadata.insert("memory_limit_note".into(), json!(reason));
                None
            }
        },
    };
    let mut extra_flags = Vec::new();
    let memory_limit = match (&cgroup, language) {
        (Some(_), _) => "cgroup",
        (None, Language::Python) => "rlimit_data",
        (None, Language::Nodejs) => {
            // V8 reserves far more address space than it uses, so its own heap limit
            // (below the data limit) is what ends a runaway allocation cleanly.
            let heap_mib = (request.memory_bytes * 3 / 4 / MIB).max(16);
            extra_flags.push(format!("--max-old-space-size={heap_mib}"));
            "rlimit_data+v8_heap"
        }
    };
    metadata.insert("memory_limit".into(), json!(memory_limit));
    if let (Some(percent), Some(_)) = (settings.cpu_percent, &cgroup) {
        metadata.insert("cpu_quota_percent".into(), json!(percent));
    }
    metadata.insert(
        "landlock".into(),
        json!(if settings.landlock {
            sandbox::landlock::describe()
        } else {
            "off (configured)".to_string()
        }),
    );

    let code_path = format!("{WORK_DIR}/{}", request.sandbox_file_name());
    let args = match &request.arguments {
        Some(map) => serde_json::Value::Object(map.clone()).to_string(),
        None => String::new(),
    };
    let executable = interpreter.executable.to_string_lossy().into_owned();
    let mut ro_binds: Vec<String> = interpreter
        .prefixes
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    ro_binds.push(executable.clone());
    let cpu_seconds = settings
        .cpu_time
        .unwrap_or_else(|| request.timeout.as_secs_f64().ceil().max(1.0) as u64);
    let spec = SandboxSpec {
        argv: harness::argv(
            language,
            &executable,
            &extra_flags,
            &code_path,
            cgroup.is_some(),
        ),
        env: base_env(interpreter.executable.parent()),
        ro_binds,
        files: vec![
            SandboxFile {
                path: format!("{RUN_DIR}/{}", harness::file_name(language)),
                contents: harness::source(language).to_string(),
            },
            SandboxFile {
                path: format!("{RUN_DIR}/args.json"),
                contents: args,
            },
            SandboxFile {
                path: code_path,
                contents: request.code.clone(),
            },
        ],
        network: request.network,
        limits: process_limits(
            settings,
            cpu_seconds,
            cgroup.is_none().then_some(request.memory_bytes),
        ),
        gated: false,
        seccomp: settings.seccomp,
        landlock: settings.landlock,
    };
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
    .map_err(|err| match err {
        SandboxError::Exec { errno } => ProviderError::Interpreter {
            message: err.to_string(),
            exit_code: if errno == libc::ENOENT { 127 } else { 126 },
        },
        SandboxError::Setup(message) => ProviderError::Unavailable(message),
        SandboxError::Interrupted { signal } => ProviderError::Interrupted {
            message: err.to_string(),
            signal,
        },
    })?;
    drop(cgroup);
    let had_arguments = request.arguments.as_ref().is_some_and(|a| !a.is_empty());
    interpret(outcome, metadata, memory_limit != "cgroup", had_arguments)
}

/// Turns what the sandbox saw into the common result, with the container exit codes.
fn interpret(
    outcome: SandboxOutcome,
    mut metadata: Map<String, Value>,
    heap_limited: bool,
    had_arguments: bool,
) -> Result<ExecutionResult, ProviderError> {
    let message = outcome.result.as_deref().and_then(HarnessMessage::parse);
    // The program can write fd 3 itself; only believe `no_main` when there were arguments.
    if message == Some(HarnessMessage::NoMain) && had_arguments {
        return Err(ProviderError::BadInput(
            "--args was given but the code defines no main() function: define main or drop --args"
                .into(),
        ));
    }
    let stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
    let v8_out_of_memory = heap_limited && stderr.contains("JavaScript heap out of memory");
    let (exit_code, limit) = match outcome.termination {
        Termination::TimedOut => (124, Some(LimitHit::Time)),
        Termination::Signaled(libc::SIGKILL) if outcome.oom_killed => (137, Some(LimitHit::Memory)),
        Termination::Exited(137) if matches!(&message, Some(HarnessMessage::Limit { limit }) if limit == "memory") => {
            (137, Some(LimitHit::Memory))
        }
        Termination::Signaled(_) | Termination::Exited(_) if v8_out_of_memory => {
            (137, Some(LimitHit::Memory))
        }
        Termination::Signaled(libc::SIGXCPU) => (128 + libc::SIGXCPU, Some(LimitHit::Cpu)),
        Termination::Signaled(libc::SIGXFSZ) => (128 + libc::SIGXFSZ, Some(LimitHit::FileSize)),
        Termination::Signaled(signal) => (128 + signal, None),
        Termination::Exited(code) => (code, None),
    };
    let status = match (limit, outcome.termination) {
        (Some(_), _) => Status::ResourceLimitExceeded,
        // The program went on after EPERM, but it tried what a sandbox refuses.
        (None, _) if !outcome.denied_syscalls.is_empty() => Status::UnauthorizedAccess,
        (None, Termination::Signaled(_)) => Status::RuntimeError,
        (None, _) if exit_code == 0 => Status::Success,
        (None, _) => Status::ProgramError,
    };
    if let Some(limit) = limit {
        metadata.insert("limit_hit".into(), json!(limit));
    }
    if !outcome.denied_syscalls.is_empty() {
        metadata.insert(
            "unauthorized_access_type".into(),
            json!("disallowed_syscall"),
        );
        metadata.insert("denied_syscalls".into(), json!(outcome.denied_syscalls));
    }
    if let Termination::Signaled(signal) = outcome.termination {
        metadata.insert("signal".into(), json!(signal));
    }
    if let Some(setup) = outcome.setup {
        metadata.insert("sandbox_setup_time".into(), json!(setup.as_secs_f64()));
    }
    if let Some(cpu) = outcome.cpu {
        metadata.insert("cpu_time".into(), json!(cpu.as_secs_f64()));
    }
    if let Some(peak) = outcome.peak_memory {
        metadata.insert("peak_memory_bytes".into(), json!(peak));
    }
    let result = match message {
        Some(HarnessMessage::Result { value }) if status == Status::Success => {
            Some(ResultValue::json(value))
        }
        _ => None,
    };
    Ok(ExecutionResult {
        stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
        stderr,
        exit_code,
        execution_time: outcome.wall.as_secs_f64(),
        status,
        result,
        truncated: Truncated {
            stdout: outcome.stdout_truncated,
            stderr: outcome.stderr_truncated,
        },
        metadata,
    })
}

/// Runs blocking work (sandboxes, probes) off the async workers. A current-thread
/// runtime (the command line, which runs one thing at a time) runs it in place, which
/// spares a thread and two hand-offs on every `rock exec`.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::CurrentThread {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await
}

fn process_limits(settings: &Settings, cpu_seconds: u64, data_bytes: Option<u64>) -> ProcessLimits {
    ProcessLimits {
        cpu_seconds,
        processes: settings.max_processes,
        open_files: settings.max_open_files,
        file_size_bytes: settings.max_file_size,
        tmpfs_bytes: settings.tmpfs_size,
        data_bytes,
    }
}

/// The program's whole environment: nothing of rock's own (tokens, keys) leaks in.
fn base_env(interpreter_dir: Option<&Path>) -> Vec<(String, String)> {
    const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
    let mut path = String::new();
    if let Some(dir) = interpreter_dir.map(|d| d.to_string_lossy()) {
        if !SYSTEM_PATH.split(':').any(|p| p == dir) {
            path.push_str(&dir);
            path.push(':');
        }
    }
    path.push_str(SYSTEM_PATH);
    [
        ("PATH", path.as_str()),
        ("HOME", WORK_DIR),
        ("TMPDIR", "/tmp"),
        ("LANG", "C.UTF-8"),
        ("USER", "sandbox"),
        ("LOGNAME", "sandbox"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The health check's detail: how memory is held, and the state of the walls behind the
/// namespaces.
fn memory_summary(settings: &Settings) -> String {
    let how = match settings.memory_enforcement {
        MemoryEnforcement::Rlimit => "memory held by rlimits (configured)".to_string(),
        _ => match Cgroup::create(
            &crate::process::random_id(),
            64 * MIB,
            8,
            settings.cpu_percent,
        ) {
            Ok(_) => "memory held by a cgroup".to_string(),
            Err(reason) => format!("memory held by rlimits: no cgroup ({reason})"),
        },
    };
    let seccomp = if settings.seccomp {
        "seccomp filter on"
    } else {
        "seccomp filter off (configured)"
    };
    let landlock = if settings.landlock {
        sandbox::landlock::describe()
    } else {
        "off (configured)".to_string()
    };
    format!("sandbox built and ran a program; {how}; {seccomp}; landlock {landlock}")
}
