//! What the providers that sandbox the host's own interpreter share (`local` and `gvisor`):
//! the process limits and their config fields, the per-run cgroup and how memory is held,
//! the harness's files and argv, and the reading of an outcome as the common result.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{ConfigField, FieldType, Health, Instance, ProviderContext, ProviderError};
use crate::exec::harness::{self, HarnessMessage, RUN_DIR};
use crate::exec::{
    ExecRequest, ExecutionResult, Language, LimitHit, ResultValue, Status, Truncated,
};
use crate::interpreter::{self, Interpreter};
use crate::sandbox::spec::{ProcessLimits, SandboxFile, SandboxSpec, WORK_DIR};
use crate::sandbox::{Cgroup, SandboxError, SandboxOutcome, Termination};

pub const MIB: u64 = 1024 * 1024;

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

/// The limits every run gets, from the provider's config table.
#[derive(Debug, Clone)]
pub struct Limits {
    pub memory_enforcement: MemoryEnforcement,
    pub max_processes: u64,
    pub max_open_files: u64,
    pub max_file_size: u64,
    pub tmpfs_size: u64,
    /// `None`: the run's timeout, in CPU seconds.
    pub cpu_time: Option<u64>,
    /// A CFS quota, percent of one CPU; `None`: no quota.
    pub cpu_percent: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_enforcement: MemoryEnforcement::Auto,
            max_processes: 64,
            max_open_files: 256,
            max_file_size: 64 * MIB,
            tmpfs_size: crate::sandbox::spec::DEFAULT_TMPFS_BYTES,
            cpu_time: None,
            cpu_percent: None,
        }
    }
}

impl Limits {
    /// The config fields of these limits, as each such provider's schema lists them.
    pub fn fields() -> Vec<ConfigField> {
        vec![
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
        ]
    }

    /// Applies the fields of a validated config table.
    pub fn apply(&mut self, config: &toml::Table) {
        let int = |key: &str| {
            config
                .get(key)
                .and_then(toml::Value::as_integer)
                .map(|n| n as u64)
        };
        if let Some(mode) = config
            .get("memory_enforcement")
            .and_then(toml::Value::as_str)
        {
            self.memory_enforcement = match mode {
                "cgroup" => MemoryEnforcement::Cgroup,
                "rlimit" => MemoryEnforcement::Rlimit,
                _ => MemoryEnforcement::Auto,
            };
        }
        self.max_processes = int("max_processes").unwrap_or(self.max_processes);
        self.max_open_files = int("max_open_files").unwrap_or(self.max_open_files);
        self.max_file_size = int("max_file_size_mb")
            .map(|n| n * MIB)
            .unwrap_or(self.max_file_size);
        self.tmpfs_size = int("tmpfs_size_mb")
            .map(|n| n * MIB)
            .unwrap_or(self.tmpfs_size);
        if let Some(cpu) = int("cpu_time") {
            self.cpu_time = (cpu > 0).then_some(cpu);
        }
        if let Some(percent) = int("cpu_quota_percent") {
            self.cpu_percent = (percent > 0).then_some(percent);
        }
    }

    pub fn process_limits(&self, cpu_seconds: u64, data_bytes: Option<u64>) -> ProcessLimits {
        ProcessLimits {
            cpu_seconds,
            processes: self.max_processes,
            open_files: self.max_open_files,
            file_size_bytes: self.max_file_size,
            tmpfs_bytes: self.tmpfs_size,
            data_bytes,
        }
    }

    /// One clause for a health line: how memory is held, found by making a cgroup; an
    /// error when runs need a cgroup and none can be made.
    pub fn memory_summary(&self) -> Result<String, String> {
        if self.memory_enforcement == MemoryEnforcement::Rlimit {
            return Ok("memory held by rlimits (configured)".to_string());
        }
        match Cgroup::create(&crate::process::random_id(), 64 * MIB, 8, self.cpu_percent) {
            Ok(_) => Ok("memory held by a cgroup".to_string()),
            Err(reason) if self.memory_enforcement == MemoryEnforcement::Cgroup => {
                Err(format!("no cgroup can be made to hold memory: {reason}"))
            }
            Err(reason) => Ok(format!("memory held by rlimits: no cgroup ({reason})")),
        }
    }
}

/// Finds the interpreter an instance of `language` runs (`[languages]` config or PATH).
pub async fn create_instance(
    language: Language,
    context: &ProviderContext,
) -> Result<Instance, ProviderError> {
    let command = context.interpreter(language);
    let cache_dir = context.cache_dir.clone();
    let interpreter =
        blocking(move || interpreter::discover(language, command.as_deref(), cache_dir.as_deref()))
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

/// The interpreter an instance made by [`create_instance`] holds.
pub fn interpreter_of(instance: &Instance) -> Result<Interpreter, ProviderError> {
    instance
        .state
        .downcast_ref::<Interpreter>()
        .cloned()
        .ok_or_else(|| ProviderError::Unavailable("not an instance of this provider".into()))
}

/// One run made ready: its cgroup (when one holds memory), its sandbox spec and the
/// metadata known before it starts.
pub struct Prepared {
    pub cgroup: Option<Cgroup>,
    pub spec: SandboxSpec,
    pub metadata: Map<String, Value>,
    /// The limit reading `interpret` needs: whether the interpreter's own heap limit held.
    pub heap_limited: bool,
}

/// How a provider's sandbox hands the harness its result channel and its cgroup.
pub struct Wiring {
    /// Where the harness writes its message: a file descriptor number or a path inside
    /// the sandbox.
    pub result: &'static str,
    /// Whether the program is moved into the cgroup after it starts, so the harness must
    /// wait for the go-ahead before user code (see `SandboxSpec::gated`).
    pub attached_late: bool,
    /// The cgroup's process limit (host processes and threads).
    pub cgroup_processes: u64,
    /// Why a run can't go without a cgroup when memory enforcement is `cgroup`.
    pub why_cgroup: &'static str,
    /// A warm sandbox: the harness gets its code and arguments through the gate later,
    /// so the spec holds neither.
    pub warm: bool,
}

/// Makes the cgroup and the spec of one run of `request`.
pub fn prepare(
    provider: &str,
    limits: &Limits,
    interpreter: &Interpreter,
    id: &str,
    request: &ExecRequest,
    wiring: Wiring,
) -> Result<Prepared, ProviderError> {
    let language = request.language;
    let mut metadata = Map::new();
    metadata.insert("provider".into(), json!(provider));
    metadata.insert("sandbox_id".into(), json!(id));
    metadata.insert("interpreter".into(), json!(interpreter.executable));
    metadata.insert("interpreter_version".into(), json!(interpreter.version));

    let cgroup = match limits.memory_enforcement {
        MemoryEnforcement::Rlimit => None,
        mode => match Cgroup::create(
            id,
            request.memory_bytes,
            wiring.cgroup_processes,
            limits.cpu_percent,
        ) {
            Ok(cgroup) => Some(cgroup),
            Err(reason) if mode == MemoryEnforcement::Cgroup => {
                return Err(ProviderError::Unavailable(format!(
                    "no cgroup can be made to hold memory ({reason}); {}",
                    wiring.why_cgroup
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
    if let (Some(percent), Some(_)) = (limits.cpu_percent, &cgroup) {
        metadata.insert("cpu_quota_percent".into(), json!(percent));
    }

    let code_path = format!("{WORK_DIR}/{}", request.sandbox_file_name());
    let args = match &request.arguments {
        Some(map) => Value::Object(map.clone()).to_string(),
        None => String::new(),
    };
    let executable = interpreter.executable.to_string_lossy().into_owned();
    let mut ro_binds: Vec<String> = interpreter
        .prefixes
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    ro_binds.push(executable.clone());
    let cpu_seconds = limits
        .cpu_time
        .unwrap_or_else(|| request.timeout.as_secs_f64().ceil().max(1.0) as u64);
    let spec = SandboxSpec {
        argv: harness::argv(
            language,
            &executable,
            &extra_flags,
            &code_path,
            wiring.result,
            wiring.warm || (wiring.attached_late && cgroup.is_some()),
        ),
        env: base_env(interpreter.executable.parent()),
        ro_binds,
        files: [
            (
                format!("{RUN_DIR}/{}", harness::file_name(language)),
                harness::source(language).to_string(),
            ),
            (format!("{RUN_DIR}/args.json"), args),
            (code_path, request.code.clone()),
        ]
        .into_iter()
        .take(if wiring.warm { 1 } else { 3 })
        .map(|(path, contents)| SandboxFile { path, contents })
        .collect(),
        network: request.network,
        limits: limits.process_limits(
            cpu_seconds,
            cgroup.is_none().then_some(request.memory_bytes),
        ),
        gated: false,
        seccomp: true,
        landlock: true,
    };
    Ok(Prepared {
        cgroup,
        spec,
        metadata,
        heap_limited: memory_limit != "cgroup",
    })
}

/// Turns what the sandbox saw into the common result, with the container exit codes.
pub fn interpret(
    outcome: SandboxOutcome,
    mut metadata: Map<String, Value>,
    heap_limited: bool,
    had_arguments: bool,
) -> Result<ExecutionResult, ProviderError> {
    let messages = outcome
        .result
        .as_deref()
        .map(HarnessMessage::parse_all)
        .unwrap_or_default();
    let mut candidates = Vec::new();
    let mut message = None;
    for each in messages {
        match each {
            HarnessMessage::Artifacts { files } => candidates = files,
            HarnessMessage::Exit {} => {}
            other if message.is_none() => message = Some(other),
            _ => {}
        }
    }
    let (artifacts, refused) = crate::exec::artifacts::select(candidates);
    if !refused.is_empty() {
        metadata.insert("artifacts_refused".into(), json!(refused));
    }
    // The program can write the result channel itself; only believe `no_main` when there
    // were arguments.
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
        artifacts,
    })
}

/// A sandbox that could not run the program, as the provider's error.
pub fn provider_error(err: SandboxError) -> ProviderError {
    match err {
        SandboxError::Exec { errno } => ProviderError::Interpreter {
            message: err.to_string(),
            exit_code: if errno == libc::ENOENT { 127 } else { 126 },
        },
        SandboxError::Setup(message) => ProviderError::Unavailable(message),
        SandboxError::Interrupted { signal } => ProviderError::Interrupted {
            message: err.to_string(),
            signal,
        },
    }
}

/// A spec that runs `true`: what health checks build a sandbox for.
pub fn trivial_spec(limits: &Limits) -> Result<SandboxSpec, String> {
    let true_path = interpreter::which("true").ok_or("`true` is not on PATH")?;
    Ok(SandboxSpec {
        argv: vec![true_path.to_string_lossy().into_owned()],
        env: base_env(None),
        ro_binds: vec![],
        files: vec![],
        network: false,
        limits: limits.process_limits(1, None),
        gated: false,
        seccomp: true,
        landlock: true,
    })
}

/// Runs a health check's blocking work: `Ok` carries the detail of a healthy provider,
/// `Err` the reason it is not.
pub async fn check_health(
    work: impl FnOnce() -> Result<String, String> + Send + 'static,
) -> Health {
    let (healthy, detail) = match blocking(work).await {
        Ok(Ok(detail)) => (true, detail),
        Ok(Err(reason)) => (false, reason),
        Err(e) => (false, e.to_string()),
    };
    Health { healthy, detail }
}

/// Runs blocking work (sandboxes, probes) off the async workers. A current-thread
/// runtime (the command line, which runs one thing at a time) runs it in place, which
/// spares a thread and two hand-offs on every `rock exec`.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::CurrentThread {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await
}

/// The program's whole environment: nothing of rock's own (tokens, keys) leaks in.
pub fn base_env(interpreter_dir: Option<&Path>) -> Vec<(String, String)> {
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
