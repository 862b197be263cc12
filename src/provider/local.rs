//! Provider `local`: the embedded Linux sandbox (namespaces, mounts, rlimits, cgroups)
//! around the host's own interpreter. No daemon, no external binary.

use std::path::PathBuf;
use std::sync::Arc;
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
use crate::sandbox::forkserver::{self, ForkServer};
use crate::sandbox::spec::SandboxFile;
use crate::sandbox::{self, OutputSink, SandboxRun, Termination};

#[derive(Debug, Clone)]
struct Settings {
    limits: Limits,
    seccomp: bool,
    landlock: bool,
    /// Warm Python sandboxes come from a fork server (see `sandbox::forkserver`).
    fork_server: bool,
    context: ProviderContext,
    helper: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: Limits::default(),
            seccomp: true,
            landlock: true,
            fork_server: true,
            context: ProviderContext::default(),
            helper: PathBuf::from("/proc/self/exe"),
        }
    }
}

#[derive(Debug, Default)]
pub struct LocalProvider {
    settings: Settings,
    fork_servers: Arc<ForkServers>,
}

pub fn schema() -> ConfigSchema {
    let mut fields = Limits::fields();
    fields.extend([
        ConfigField::new("landlock", FieldType::Boolean, "Landlock", "Let the program write only beneath /work, /tmp and /dev/shm, and signal or reach no process outside the sandbox, whatever the mounts allow (where the kernel has Landlock)")
            .default(true),
        ConfigField::new("seccomp", FieldType::Boolean, "Seccomp filter", "Refuse (EPERM) the system calls a code runner never needs: mount, ptrace, bpf, io_uring, namespaces and more (see docs/security.md)")
            .default(true),
        ConfigField::new("fork_server", FieldType::Boolean, "Python fork server", "Make warm Python sandboxes (rock serve) by forking an interpreter that has already started, each into fresh namespaces; off: each starts its own interpreter")
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
        if let Some(on) = config.get("seccomp").and_then(toml::Value::as_bool) {
            s.seccomp = on;
        }
        if let Some(on) = config.get("landlock").and_then(toml::Value::as_bool) {
            s.landlock = on;
        }
        if let Some(on) = config.get("fork_server").and_then(toml::Value::as_bool) {
            s.fork_server = on;
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

    fn takes_host_runtime_envs(&self) -> bool {
        true
    }

    async fn create_instance(&self, request: &ExecRequest) -> Result<Instance, ProviderError> {
        host::create_instance(request.language, &self.settings.context).await
    }

    /// A warm sandbox: built, its interpreter started and the harness loaded, waiting at
    /// the gate for a request that `template` bounds.
    async fn prepare_instance(
        &self,
        template: &ExecRequest,
    ) -> Result<Option<Instance>, ProviderError> {
        let instance = self.create_instance(template).await?;
        let interpreter = host::interpreter_of(&instance)?;
        let settings = self.settings.clone();
        let template = template.clone();
        let id = instance.id.clone();
        let servers = Arc::clone(&self.fork_servers);
        let warm = on_spawner_thread(move || {
            if settings.fork_server && servers.usable_for(&template) {
                match warm_fork(&settings, &servers, &interpreter, &id, &template) {
                    Ok(warm) => {
                        servers.succeeded();
                        return Ok(warm);
                    }
                    Err(reason) => servers.failed(reason),
                }
            }
            warm_up(&settings, interpreter, &id, &template)
        })
        .await??;
        Ok(Some(Instance {
            state: Arc::new(warm),
            ..instance
        }))
    }

    async fn execute_code(
        &self,
        instance: &Instance,
        request: &ExecRequest,
        mut sink: Sink,
    ) -> Result<ExecutionResult, ProviderError> {
        let settings = self.settings.clone();
        let request = request.clone();
        let id = instance.id.clone();
        if let Some(warm) = instance.state.downcast_ref::<Warm>() {
            if let Some(run) = warm.take_for(&request) {
                return blocking(move || run.execute(&request, sink.as_mut()))
                    .await
                    .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
            }
            // A request the warm sandbox can't take runs in a fresh one.
            let interpreter = warm.interpreter.clone();
            return blocking(move || {
                execute(&settings, &interpreter, &id, &request, sink.as_mut())
            })
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        }
        let interpreter = host::interpreter_of(instance)?;
        blocking(move || execute(&settings, &interpreter, &id, &request, sink.as_mut()))
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?
    }

    /// Stops the fork servers, and with their sandboxes their cgroups go.
    async fn shutdown(&self) {
        let servers = Arc::clone(&self.fork_servers);
        let _ = blocking(move || servers.stop_all()).await;
    }

    /// A cold run's sandbox is gone when `execute_code` returns: processes, mounts and
    /// cgroup die with it. A warm instance's sandbox (used or not) and cgroup go now.
    async fn destroy_instance(&self, instance: Instance) -> Result<(), ProviderError> {
        // Removing a cgroup may wait for its last process to be gone.
        blocking(move || drop(instance))
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))
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
        spec,
        metadata,
        heap_limited,
    } = prepare(settings, interpreter, id, request, false)?;
    let cgroup = cgroup.map(std::sync::Arc::new);
    let outcome = sandbox::run(
        SandboxRun {
            spec,
            timeout: request.timeout,
            output_cap: request.output_cap,
            stdin: request.stdin.clone(),
            helper: settings.helper.clone(),
            cgroup: cgroup.clone(),
        },
        sink,
    )
    .map_err(host::provider_error)?;
    // The last reference: the cgroup is removed now.
    drop(cgroup);
    let had_arguments = request.arguments.as_ref().is_some_and(|a| !a.is_empty());
    host::interpret(outcome, metadata, heap_limited, had_arguments)
}

/// Threads that start warm sandboxes.
const SPAWNER_THREADS: usize = 4;

/// Runs `work` on one of a few threads that live as long as rock. A sandbox's helper dies with the
/// thread that started it (its parent-death signal), and the async runtime's blocking
/// threads end when idle: a warm sandbox started on one would die while it waits.
async fn on_spawner_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ProviderError> {
    type Job = Box<dyn FnOnce() + Send>;
    static SPAWNER: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        // A few, so that one warm-up's waits (a cgroup move waits for the kernel) overlap
        // with another's work.
        for n in 0..SPAWNER_THREADS {
            let queue = Arc::clone(&queue);
            let _ = std::thread::Builder::new()
                .name(format!("rock-warm-{n}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => break,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                });
        }
        std::sync::Mutex::new(jobs)
    });
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    let gone = || ProviderError::Unavailable("the warm sandbox thread is gone".into());
    spawner
        .lock()
        .map_err(|_| gone())?
        .send(job)
        .map_err(|_| gone())?;
    answered.await.map_err(|_| gone())
}

/// A sandbox made before its request: the interpreter runs and waits at the gate.
struct Warm {
    started: std::sync::Mutex<Option<sandbox::Started>>,
    cgroup: Option<Arc<sandbox::Cgroup>>,
    interpreter: Interpreter,
    metadata: serde_json::Map<String, serde_json::Value>,
    heap_limited: bool,
    memory_bytes: u64,
    network: bool,
}

/// A warm sandbox taken for one request.
struct WarmRun {
    started: sandbox::Started,
    cgroup: Option<Arc<sandbox::Cgroup>>,
    /// The cgroup's memory limit as made; a request may ask for another.
    memory_bytes: u64,
    metadata: serde_json::Map<String, serde_json::Value>,
    heap_limited: bool,
}

impl Warm {
    /// The sandbox, for a request it can take: the same network, and the same memory
    /// unless a cgroup can be given another limit, and still alive. Each sandbox is taken
    /// once.
    fn take_for(&self, request: &ExecRequest) -> Option<WarmRun> {
        if request.network != self.network
            || (self.cgroup.is_none() && request.memory_bytes != self.memory_bytes)
        {
            return None;
        }
        let started = self.started.lock().ok()?.take()?;
        if !started.is_alive() {
            return None;
        }
        Some(WarmRun {
            started,
            cgroup: self.cgroup.clone(),
            memory_bytes: self.memory_bytes,
            metadata: self.metadata.clone(),
            heap_limited: self.heap_limited,
        })
    }
}

/// Builds a warm sandbox for requests like `template`: its own helper, init and interpreter.
fn warm_up(
    settings: &Settings,
    interpreter: Interpreter,
    id: &str,
    template: &ExecRequest,
) -> Result<Warm, ProviderError> {
    warm(settings, &interpreter, id, template, |spec, cgroup| {
        let mut started = sandbox::start(
            SandboxRun {
                spec,
                timeout: template.timeout,
                output_cap: template.output_cap,
                stdin: None,
                helper: settings.helper.clone(),
                cgroup,
            },
            true,
        )?;
        started.ready(Duration::from_secs(30))?;
        Ok(started)
    })
}

/// A warm sandbox for requests like `template`: the common preparation, then `make` builds
/// the sandbox from its spec and cgroup, ready for its request.
fn warm(
    settings: &Settings,
    interpreter: &Interpreter,
    id: &str,
    template: &ExecRequest,
    make: impl FnOnce(
        sandbox::spec::SandboxSpec,
        Option<Arc<sandbox::Cgroup>>,
    ) -> Result<sandbox::Started, sandbox::SandboxError>,
) -> Result<Warm, ProviderError> {
    let Prepared {
        cgroup,
        spec,
        mut metadata,
        heap_limited,
    } = prepare(settings, interpreter, id, template, true)?;
    metadata.insert("warm".into(), json!(true));
    let cgroup = cgroup.map(Arc::new);
    let started = make(spec, cgroup.clone()).map_err(host::provider_error)?;
    Ok(Warm {
        started: std::sync::Mutex::new(Some(started)),
        cgroup,
        interpreter: interpreter.clone(),
        metadata,
        heap_limited,
        memory_bytes: template.memory_bytes,
        network: template.network,
    })
}

/// The fork servers of one provider, one for each interpreter, started on first use. When
/// forked sandboxes fail several times in a row (the fork server can't start, say), the
/// fork servers are not tried again: warm sandboxes then start their own interpreter, as
/// without one.
#[derive(Debug, Default)]
struct ForkServers {
    running: std::sync::Mutex<std::collections::HashMap<PathBuf, Arc<ForkServer>>>,
    disabled: std::sync::atomic::AtomicBool,
    /// Forked sandboxes that could not be made, in a row.
    failures: std::sync::atomic::AtomicUsize,
}

/// After this many failures in a row, the fork server is turned off.
const FAILURES_TO_GIVE_UP: usize = 3;

/// The fork server's own sandbox holds it, the processes that make each sandbox, and
/// each sandbox's init (the programs go to cgroups of their own).
const FORK_SERVER_MEMORY: u64 = 1024 * host::MIB;
const FORK_SERVER_PROCESSES: u64 = 4096;

impl ForkServers {
    /// Python without the host's network: forked sandboxes have a private one.
    fn usable_for(&self, template: &ExecRequest) -> bool {
        template.language == Language::Python
            && !template.network
            && !self.disabled.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn succeeded(&self) {
        self.failures.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// A forked sandbox could not be made (this one starts its own interpreter instead).
    /// Once, it may be chance (the fork server died meanwhile); `FAILURES_TO_GIVE_UP` times
    /// in a row, it is not: the fork server is turned off.
    fn failed(&self, reason: ProviderError) {
        let failures = self
            .failures
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if failures < FAILURES_TO_GIVE_UP {
            tracing::warn!("a forked sandbox could not be made: {reason}");
            return;
        }
        if !self
            .disabled
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            tracing::warn!(
                "the Python fork server is off, warm sandboxes start their own interpreter: {reason}"
            );
        }
        if let Ok(mut running) = self.running.lock() {
            running.clear();
        }
    }

    fn stop_all(&self) {
        let running: Vec<Arc<ForkServer>> = match self.running.lock() {
            Ok(mut running) => running.drain().map(|(_, server)| server).collect(),
            Err(_) => return,
        };
        for server in running {
            server.stop();
        }
    }

    /// The running fork server for `interpreter`, started if there is none (or it died).
    fn for_interpreter(
        &self,
        settings: &Settings,
        interpreter: &Interpreter,
        template: &ExecRequest,
    ) -> Result<Arc<ForkServer>, ProviderError> {
        let mut running = self
            .running
            .lock()
            .map_err(|_| ProviderError::Unavailable("the fork servers' lock is poisoned".into()))?;
        if let Some(server) = running.get(&interpreter.executable) {
            if server.is_alive() {
                return Ok(Arc::clone(server));
            }
        }
        let server = Arc::new(start_fork_server(settings, interpreter, template)?);
        running.insert(interpreter.executable.clone(), Arc::clone(&server));
        Ok(server)
    }
}

/// Starts a fork server for `interpreter` in a sandbox of its own.
fn start_fork_server(
    settings: &Settings,
    interpreter: &Interpreter,
    template: &ExecRequest,
) -> Result<ForkServer, ProviderError> {
    let mut request = template.clone();
    request.memory_bytes = FORK_SERVER_MEMORY;
    let wiring = wiring(FORK_SERVER_PROCESSES, true);
    let id = format!("forkserver-{}", crate::process::random_id());
    let Prepared {
        cgroup, mut spec, ..
    } = host::prepare(
        "local",
        &settings.limits,
        interpreter,
        &id,
        &request,
        wiring,
    )?;
    spec.argv = vec![interpreter.executable.to_string_lossy().into_owned()];
    spec.argv.extend(
        harness::interpreter_flags(Language::Python)
            .iter()
            .map(|f| f.to_string()),
    );
    spec.argv.push(forkserver::script_path());
    spec.files.extend([
        SandboxFile {
            path: forkserver::script_path(),
            contents: harness::PYTHON_FORK_SERVER.to_string(),
        },
        SandboxFile {
            path: forkserver::plan_path(),
            contents: forkserver::plan(settings.seccomp, settings.landlock),
        },
    ]);
    // It runs for as long as rock serves, and its descendants' processes count against its
    // user's limit: the sandboxes it makes have their own.
    // (No higher than rock's own hard limits: raising one takes a privilege outside.)
    let hard = |resource| {
        nix::sys::resource::getrlimit(resource)
            .map(|(_, hard)| hard)
            .unwrap_or(libc::RLIM_INFINITY)
    };
    spec.limits.cpu_seconds = hard(nix::sys::resource::Resource::RLIMIT_CPU);
    spec.limits.processes = hard(nix::sys::resource::Resource::RLIMIT_NPROC);
    // Both would forbid the namespaces and mounts it makes; each sandbox applies them.
    spec.seccomp = false;
    spec.landlock = false;
    ForkServer::start(SandboxRun {
        spec,
        timeout: Duration::from_secs(30),
        output_cap: 64 * 1024,
        stdin: None,
        helper: settings.helper.clone(),
        cgroup: cgroup.map(Arc::new),
    })
    .map_err(host::provider_error)
}

/// A warm Python sandbox forked by the fork server.
fn warm_fork(
    settings: &Settings,
    servers: &ForkServers,
    interpreter: &Interpreter,
    id: &str,
    template: &ExecRequest,
) -> Result<Warm, ProviderError> {
    let server = servers.for_interpreter(settings, interpreter, template)?;
    let mut warm = warm(settings, interpreter, id, template, |spec, cgroup| {
        let fork = |server: &ForkServer| {
            let mut started = server.fork(&spec.limits, template.output_cap, cgroup.clone())?;
            started.ready(Duration::from_secs(30))?;
            Ok(started)
        };
        match fork(&server) {
            // A fork server that died (killed, say) is started again, once.
            Err(_) if !server.is_alive() => {
                let server = servers
                    .for_interpreter(settings, interpreter, template)
                    .map_err(|e| sandbox::SandboxError::Setup(e.to_string()))?;
                fork(&server)
            }
            made => made,
        }
    })?;
    warm.metadata.insert("fork_server".into(), json!(true));
    Ok(warm)
}

impl WarmRun {
    /// Hands the request to the waiting harness and runs it to its end.
    fn execute(
        mut self,
        request: &ExecRequest,
        sink: &mut (dyn OutputSink + Send),
    ) -> Result<ExecutionResult, ProviderError> {
        if let (Some(cgroup), true) = (&self.cgroup, request.memory_bytes != self.memory_bytes) {
            cgroup
                .set_memory_limit(request.memory_bytes)
                .map_err(ProviderError::Unavailable)?;
        }
        let message = json!({
            "file": request.sandbox_file_name(),
            "code": request.code,
            "arguments": request.arguments,
        })
        .to_string();
        let deadline = std::time::Instant::now() + request.timeout;
        let outcome = self
            .started
            .finish(Some(message.as_bytes()), deadline, sink)
            .map_err(host::provider_error)?;
        let had_arguments = request.arguments.as_ref().is_some_and(|a| !a.is_empty());
        host::interpret(outcome, self.metadata, self.heap_limited, had_arguments)
    }
}

/// A local run made ready, warm or cold: the common preparation, then the walls behind
/// the namespaces (seccomp, Landlock) as configured.
fn prepare(
    settings: &Settings,
    interpreter: &Interpreter,
    id: &str,
    request: &ExecRequest,
    warm: bool,
) -> Result<Prepared, ProviderError> {
    let wiring = wiring(settings.limits.max_processes, warm);
    let mut prepared = host::prepare("local", &settings.limits, interpreter, id, request, wiring)?;
    prepared.spec.seccomp = settings.seccomp;
    prepared.spec.landlock = settings.landlock;
    prepared
        .metadata
        .insert("landlock".into(), json!(landlock_state(settings)));
    Ok(prepared)
}

/// How a local sandbox (the fork server's own too) gets its result channel and cgroup.
fn wiring(cgroup_processes: u64, warm: bool) -> Wiring {
    Wiring {
        result: harness::RESULT_FD,
        attached_late: true,
        cgroup_processes,
        why_cgroup: "memory_enforcement is cgroup (auto would fall back to rlimits)",
        warm,
    }
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
