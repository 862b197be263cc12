//! Linux isolation primitives: the parent side of a sandboxed run. It takes a pre-forked
//! helper or starts one (`helper.rs`; the sandbox side is `init.rs`), writes the id maps,
//! moves the program into the run's cgroup behind the gate, then pumps the program's
//! output, enforces the wall-clock timeout and collects the outcome.

pub mod cgroup;
pub mod forkserver;
use forkserver::Forked;
pub mod gvisor;
pub mod helper;
pub mod init;
pub mod landlock;
mod mounts;
mod oci;
pub mod seccomp;
pub mod spec;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use cgroup::Cgroup;
use spec::{InitEvent, SandboxSpec, SANDBOX_GID, SANDBOX_UID};

/// The host uid and gid the sandbox user maps to when rock runs as root.
pub const ROOT_MODE_HOST_ID: u32 = 65534;

/// Largest result accepted from the harness: a value, and up to 10 artifacts of 10 MiB
/// in base64.
const RESULT_CAP: usize = 160 * 1024 * 1024;

/// How long to wait for the pipes to close once the sandbox was killed.
const KILL_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Receives the program's output as it arrives (already cut at the cap).
pub trait OutputSink {
    fn output(&mut self, stream: Stream, bytes: &[u8]);
}

/// Collects nothing live: for `--json` and for callers that only want the outcome.
pub struct NoSink;

impl OutputSink for NoSink {
    fn output(&mut self, _: Stream, _: &[u8]) {}
}

pub struct SandboxRun {
    pub spec: SandboxSpec,
    pub timeout: Duration,
    pub output_cap: usize,
    pub stdin: Option<Vec<u8>>,
    /// The rock binary that acts as the sandbox helper.
    pub helper: PathBuf,
    pub cgroup: Option<Arc<Cgroup>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    Exited(i32),
    Signaled(i32),
    TimedOut,
}

#[derive(Debug)]
pub struct SandboxOutcome {
    pub termination: Termination,
    pub oom_killed: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// What the harness wrote on the result channel, if anything.
    pub result: Option<Vec<u8>>,
    pub wall: Duration,
    /// From the start of the run until the program's process was forked, namespaces and
    /// mounts ready: what the sandbox costs before the interpreter starts.
    pub setup: Option<Duration>,
    pub cpu: Option<Duration>,
    pub peak_memory: Option<u64>,
    /// The system calls the seccomp filter refused, each once, in the order first tried.
    pub denied_syscalls: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{0}")]
    Setup(String),
    #[error("the interpreter could not be started inside the sandbox: {}", std::io::Error::from_raw_os_error(*errno))]
    Exec { errno: i32 },
    #[error("interrupted by signal {signal}; the sandbox was torn down")]
    Interrupted { signal: i32 },
}

impl SandboxError {
    fn io(what: &str, err: impl std::fmt::Display) -> Self {
        SandboxError::Setup(format!("{what}: {err}"))
    }
}

/// Runs the program described by `run.spec` to its end, its timeout or its death.
pub fn run(run: SandboxRun, sink: &mut dyn OutputSink) -> Result<SandboxOutcome, SandboxError> {
    let timeout = run.timeout;
    let mut started = start(run, false)?;
    let deadline = started.start + timeout;
    started.finish(None, deadline, sink)
}

/// A sandbox that is being built or runs its program: the helper, the channels, and
/// what the init reported so far.
pub struct Started {
    start: Instant,
    /// `None` for a sandbox a fork server made: rock did not start it.
    helper_pid: Option<i32>,
    guard: HelperGuard,
    pump: Pump,
    /// stdout, stderr, the result channel and the control socket.
    fds: [Source; 4],
    state: Reports,
    control_buf: Vec<u8>,
    gate: Option<OwnedFd>,
    attacher: Option<std::thread::JoinHandle<Result<(), String>>>,
    /// A warm sandbox: the program waits at the gate for its request, which `finish`
    /// sends; the cgroup move is done by `ready`.
    warm: bool,
    attached: Option<Result<(), String>>,
    failure: Option<SandboxError>,
    cgroup: Option<Arc<Cgroup>>,
    /// What only a sandbox made by a fork server has (see `forkserver.rs`).
    forked: Option<forkserver::Forked>,
}

/// Starts the helper and sends it the spec: the sandbox builds itself from here. A warm
/// sandbox's program waits at its gate for a request (see [`Started::finish`]).
pub fn start(mut run: SandboxRun, warm: bool) -> Result<Started, SandboxError> {
    let start = Instant::now();
    run.spec.gated = warm || run.cgroup.is_some();
    let with_stdin = run.stdin.is_some();
    let (helper, preforked) = match helper::take_preforked(&run.helper, run.spec.network) {
        Some(mut helper) => {
            // A pre-forked helper always has a stdin pipe; closing it gives EOF.
            if !with_stdin {
                helper.stdin = None;
            }
            (helper, true)
        }
        None => (
            helper::spawn(&run.helper, with_stdin, run.spec.network)?,
            false,
        ),
    };
    let helper::Helper {
        pid: helper_pid,
        mut control,
        stdin,
        stdout,
        stderr,
        result: result_read,
        gate: gate_write,
        mapped,
    } = helper;
    // From here on, any early return must not leave the helper behind.
    let guard = HelperGuard {
        pid: Some(helper_pid),
        // A pre-forked helper belongs to a one-shot `rock exec`, which exits right after the
        // run: the helper's zombie goes to the system's init, and no thread is spent on it.
        reap: !preforked,
    };
    // The id maps come before the request: a pre-forked helper's were written as it was
    // made; a spawned helper's are written now.
    let mapped = if mapped {
        Ok(())
    } else {
        control
            .try_clone()
            .map_err(|e| format!("cannot reach the sandbox helper: {e}"))
            .and_then(|control| helper::map_when_unshared(control, helper_pid))
    };
    if let Err(message) = mapped {
        // A helper that failed (say, no namespaces) said why before it ended.
        return Err(reported_failure(&control).unwrap_or(SandboxError::Setup(message)));
    }
    let mut request = Vec::new();
    serde_json::to_writer(&mut request, &run.spec)
        .map_err(|e| SandboxError::io("cannot encode the sandbox", e))?;
    request.push(b'\n');
    if let Err(err) = control.write_all(&request) {
        // A helper that failed (say, no namespaces) stops reading; its report says why.
        return Err(reported_failure(&control)
            .unwrap_or_else(|| SandboxError::io("cannot reach the sandbox helper", err)));
    }
    if let (Some(data), Some(stdin)) = (run.stdin.clone(), stdin) {
        // A program that never reads its stdin must not block the run.
        std::thread::spawn(move || {
            let _ = std::fs::File::from(stdin).write_all(&data);
        });
    }
    let fds = [
        Source::new(Some(stdout), Channel::Stdout),
        Source::new(Some(stderr), Channel::Stderr),
        Source::new(Some(result_read), Channel::Result),
        Source::new(
            control.try_clone().ok().map(OwnedFd::from),
            Channel::Control,
        ),
    ];
    for source in &fds {
        if let Some(fd) = &source.fd {
            set_nonblocking(fd.as_raw_fd());
        }
    }
    Ok(Started {
        start,
        helper_pid: Some(helper_pid),
        guard,
        pump: Pump::new(run.output_cap),
        fds,
        state: Reports::default(),
        control_buf: Vec::new(),
        gate: Some(gate_write),
        attacher: None,
        warm,
        attached: None,
        failure: None,
        cgroup: run.cgroup,
        forked: None,
    })
}

impl Started {
    /// Whether the program's pipes are open or a process of the sandbox is left.
    fn running(&self) -> bool {
        self.fds[..3].iter().any(|s| s.fd.is_some())
            || (self.fds[3].fd.is_some() && !self.state.init_gone())
    }

    /// For a forked sandbox: whether its harness said how the program ended and nothing
    /// holds its outputs open any more. Then the outcome is known, and the teardown (the
    /// program's exit, its init's reaping, its namespaces) needn't be waited for: the
    /// sandbox is killed when it is dropped. A program could say so itself, and then be
    /// cut short: that changes only its own result.
    fn said_exit(&mut self) -> bool {
        if self.forked.is_none()
            || self.state.exited.is_some()
            || self.fds[..3].iter().any(|s| s.fd.is_some())
        {
            return false;
        }
        #[derive(serde::Deserialize)]
        struct Exit {
            kind: String,
            status: i32,
            cpu_micros: u64,
            max_rss_kib: u64,
        }
        let last = self
            .pump
            .result
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty());
        match last.and_then(|line| serde_json::from_slice::<Exit>(line).ok()) {
            Some(exit) if exit.kind == "exit" && (0..=255).contains(&exit.status) => {
                // As a wait status: exited with this code.
                self.state.exited = Some((exit.status << 8, exit.cpu_micros, exit.max_rss_kib));
                true
            }
            _ => false,
        }
    }

    /// One wait for events (at most `wait`), then what they say: output to the pump and
    /// the sink, reports from the init. Err when polling failed.
    fn step(&mut self, wait: Duration, sink: &mut dyn OutputSink) -> Result<(), SandboxError> {
        let mut pollfds: Vec<libc::pollfd> = self
            .fds
            .iter()
            .filter_map(|s| s.fd.as_ref())
            .map(|fd| libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if let Some(fd) = crate::interrupt::fd() {
            pollfds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let millis = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
        let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as _, millis) };
        if ready < 0 {
            if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                return Ok(());
            }
            return Err(SandboxError::io("poll failed", nix::errno::Errno::last()));
        }
        let mut polled = pollfds.iter();
        for source in self.fds.iter_mut().filter(|s| s.fd.is_some()) {
            let pollfd = polled.next().expect("one pollfd per open source");
            if pollfd.revents == 0 {
                continue;
            }
            let chunk = source.read();
            match source.channel {
                Channel::Stdout => self.pump.take(Stream::Stdout, &chunk, sink),
                Channel::Stderr => self.pump.take(Stream::Stderr, &chunk, sink),
                Channel::Result => self.pump.take_result(&chunk),
                Channel::Control => self.control_buf.extend_from_slice(&chunk),
            }
        }
        while let Some(end) = self.control_buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.control_buf.drain(..=end).collect();
            let Ok(event) = serde_json::from_slice::<InitEvent>(&line) else {
                continue;
            };
            match event {
                InitEvent::SetupError { message } => {
                    self.failure.get_or_insert(SandboxError::Setup(message));
                }
                InitEvent::ExecError { errno } => {
                    self.failure.get_or_insert(SandboxError::Exec { errno });
                }
                InitEvent::Forked => self.state.forked = Some(self.start.elapsed()),
                other => self.state.record(other),
            }
        }
        if let (false, None, Some(_), Some(init), Some(cgroup)) = (
            self.warm,
            &self.attacher,
            self.state.forked,
            self.state.init_pid,
            &self.cgroup,
        ) {
            // The program starts its interpreter while it is moved into the cgroup; the
            // harness runs no user code before the gate byte says the move is done.
            self.attacher = Some(spawn_attacher(cgroup.procs_files(), init, self.gate.take()));
        }
        Ok(())
    }

    /// Whether the sandbox may still take its request: false once a forked sandbox is
    /// gone (its fork server died, say). Other sandboxes are assumed to live.
    pub fn is_alive(&self) -> bool {
        self.forked.as_ref().map_or(true, Forked::alive)
    }

    /// For a warm sandbox: waits until its program runs (inside its cgroup, if it has one)
    /// and waits at the gate. Err if the sandbox failed on the way.
    pub fn ready(&mut self, within: Duration) -> Result<(), SandboxError> {
        if self.forked.is_some() {
            return self.ready_forked(within);
        }
        let deadline = Instant::now() + within;
        while self.state.forked.is_none() || self.state.init_pid.is_none() {
            if let Some(err) = self.failure.take() {
                return Err(err);
            }
            if !self.running() {
                return Err(SandboxError::Setup(
                    "the sandbox ended before its program started".into(),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(SandboxError::Setup(
                    "the sandbox was not ready in time".into(),
                ));
            }
            self.step(deadline - now, &mut NoSink)?;
        }
        if let (Some(cgroup), Some(init)) = (&self.cgroup, self.state.init_pid) {
            let moved = program_pid(init).and_then(|pid| {
                cgroup::attach(&cgroup.procs_files(), pid).inspect_err(|_| unsafe {
                    libc::kill(pid, libc::SIGKILL);
                })
            });
            self.attached = Some(moved.clone());
            moved.map_err(SandboxError::Setup)?;
        }
        Ok(())
    }

    /// Opens the gate (a warm sandbox's with `request`, the harness's next input), then
    /// pumps output and events until the program and its sandbox are gone, the deadline
    /// passes, or a signal interrupts rock.
    pub fn finish(
        &mut self,
        request: Option<&[u8]>,
        deadline: Instant,
        sink: &mut dyn OutputSink,
    ) -> Result<SandboxOutcome, SandboxError> {
        let opened = Instant::now();
        if let Some(gate) = self.gate.take_if(|_| self.warm) {
            let mut message = b"r".to_vec();
            message.extend_from_slice(request.unwrap_or_default());
            // The harness reads to the end: closing the gate ends the request.
            let _ = std::fs::File::from(gate).write_all(&message);
        }
        let mut killed_at: Option<Instant> = None;
        let mut timed_out = false;
        let mut interrupted: Option<i32> = None;

        // Done when the program's pipes are closed and no sandboxed process is left: the
        // init reports `Exited` only after killing and reaping the rest, and the helper
        // reports `InitDied` when the init ended without that.
        let mut said_exit = false;
        while self.running() {
            if self.said_exit() {
                said_exit = true;
                break;
            }
            let init_pid = self.state.init_pid;
            let now = Instant::now();
            if let (None, Some(signal)) = (interrupted, crate::interrupt::received()) {
                interrupted = Some(signal);
                self.kill(init_pid);
                killed_at.get_or_insert(now);
            }
            if killed_at.is_none() && now >= deadline {
                timed_out = self.state.exited.is_none();
                self.kill(init_pid);
                killed_at = Some(now);
            }
            if let Some(at) = killed_at {
                if now.duration_since(at) > KILL_GRACE {
                    break;
                }
            }
            let wait = match killed_at {
                Some(at) => (at + KILL_GRACE).saturating_duration_since(now),
                None => deadline.saturating_duration_since(now),
            };
            if let Err(err) = self.step(wait, sink) {
                self.failure.get_or_insert(err);
                self.kill(init_pid);
                break;
            }
        }
        // The init's pid may be reused once it is gone; only the helper (our child) is safe to kill.
        self.guard.reap();
        drop(self.gate.take());
        if let Some(attacher) = self.attacher.take() {
            self.attached = Some(
                attacher
                    .join()
                    .unwrap_or_else(|_| Err("the cgroup thread failed".into())),
            );
        }
        if let Some(forked) = &mut self.forked {
            forked.collect_denied(&mut self.state.denied, said_exit);
        }
        if let Some(signal) = interrupted {
            return Err(SandboxError::Interrupted { signal });
        }
        // A program that ended before it could be moved needs no cgroup; otherwise it was killed.
        if let (Some(Err(message)), None) = (&self.attached, self.state.exited) {
            self.failure
                .get_or_insert(SandboxError::Setup(message.clone()));
        }
        // A warm sandbox's time counts from its request.
        let wall = if self.warm {
            opened.elapsed()
        } else {
            self.start.elapsed()
        };
        if let Some(err) = self.failure.take() {
            return Err(err);
        }

        let cgroup = self.cgroup.as_deref();
        let oom_killed = cgroup.is_some_and(|c| c.oom_killed());
        let peak_memory = cgroup.and_then(|c| c.peak_memory());
        let cgroup_cpu = cgroup.and_then(|c| c.cpu_time());
        let (termination, cpu, rss) = match (timed_out, self.state.exited, self.state.init_died) {
            (true, _, _) => (Termination::TimedOut, None, None),
            (false, Some((status, cpu, rss)), _) => (
                decode_status(status),
                Some(Duration::from_micros(cpu)),
                Some(rss * 1024),
            ),
            (false, None, Some(status)) => (decode_status(status), None, None),
            (false, None, None) => {
                return Err(SandboxError::Setup(
                    "the sandbox ended without reporting the program's exit".into(),
                ))
            }
        };
        let pump = std::mem::replace(&mut self.pump, Pump::new(0));
        Ok(SandboxOutcome {
            termination,
            oom_killed,
            stdout: pump.stdout,
            stderr: pump.stderr,
            stdout_truncated: pump.stdout_truncated,
            stderr_truncated: pump.stderr_truncated,
            result: pump.result_seen.then_some(pump.result),
            wall,
            setup: if self.warm { None } else { self.state.forked },
            cpu: cgroup_cpu.or(cpu),
            peak_memory: peak_memory.or(rss),
            denied_syscalls: std::mem::take(&mut self.state.denied),
        })
    }
}

/// What the helper and the init reported about the run.
#[derive(Default)]
struct Reports {
    init_pid: Option<i32>,
    /// When the program was forked, from the start of the run.
    forked: Option<Duration>,
    /// The program's raw wait status, CPU time (µs) and peak RSS (KiB).
    exited: Option<(i32, u64, u64)>,
    init_died: Option<i32>,
    denied: Vec<String>,
}

/// How many different denied calls a result lists.
const DENIED_LISTED: usize = 64;

impl Reports {
    fn record(&mut self, event: InitEvent) {
        match event {
            InitEvent::Init { pid } => self.init_pid = Some(pid),
            InitEvent::Exited {
                status,
                cpu_micros,
                max_rss_kib,
            } => self.exited = Some((status, cpu_micros, max_rss_kib)),
            InitEvent::InitDied { status } => self.init_died = Some(status),
            InitEvent::Denied { syscall }
                if !self.denied.contains(&syscall) && self.denied.len() < DENIED_LISTED =>
            {
                self.denied.push(syscall)
            }
            _ => {}
        }
    }

    /// No process of the sandbox is left once either report came.
    fn init_gone(&self) -> bool {
        self.exited.is_some() || self.init_died.is_some()
    }
}

/// Moves the program (the init's only child) into the cgroup, then opens the gate; a
/// program that can't be moved is killed. Then, with time to spare, it removes cgroups that
/// killed rocks left behind.
fn spawn_attacher(
    procs_files: Vec<PathBuf>,
    init: i32,
    gate: Option<OwnedFd>,
) -> std::thread::JoinHandle<Result<(), String>> {
    std::thread::spawn(move || {
        let pid = program_pid(init)?;
        cgroup::attach(&procs_files, pid).inspect_err(|_| unsafe {
            libc::kill(pid, libc::SIGKILL);
        })?;
        if let Some(gate) = gate {
            let _ = std::fs::File::from(gate).write_all(b"g");
        }
        cgroup::sweep_beside(&procs_files);
        Ok(())
    })
}

/// The `SetupError` a helper sent before it ended, if it sent one.
fn reported_failure(control: &UnixStream) -> Option<SandboxError> {
    let mut text = Vec::new();
    let mut reader = control.try_clone().ok()?;
    reader.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    let _ = reader.read_to_end(&mut text);
    text.split(|b| *b == b'\n')
        .find_map(|line| match serde_json::from_slice(line) {
            Ok(InitEvent::SetupError { message }) => Some(SandboxError::Setup(message)),
            _ => None,
        })
}

/// The host pid of the program: the init's only child.
fn program_pid(init: i32) -> Result<i32, String> {
    let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
        .map_err(|e| format!("cannot find the sandboxed program: {e}"))?;
    children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| "cannot find the sandboxed program: it is already gone".to_string())
}

/// The sandbox user is uid/gid 1000 inside. As root, it maps to the unprivileged host
/// id 65534 and the namespace's root (the init, which builds the mounts and never runs
/// user code) to host root; unprivileged, it maps to the caller's own ids.
pub(crate) fn write_id_maps(pid: i32) -> Result<(), String> {
    let proc = format!("/proc/{pid}");
    let write = |file: &str, contents: String| {
        std::fs::write(format!("{proc}/{file}"), contents)
            .map_err(|e| format!("cannot write the sandbox's {file}: {e}"))
    };
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    if uid == 0 {
        let host = ROOT_MODE_HOST_ID;
        write("uid_map", format!("0 0 1\n{SANDBOX_UID} {host} 1\n")).map_err(|e| {
            format!(
                "{e} (rock runs as root but cannot map the sandbox user to an unprivileged uid)"
            )
        })?;
        write("gid_map", format!("0 0 1\n{SANDBOX_GID} {host} 1\n"))
    } else {
        write("setgroups", "deny".into())?;
        write("uid_map", format!("{SANDBOX_UID} {uid} 1\n"))?;
        write("gid_map", format!("{SANDBOX_GID} {gid} 1\n"))
    }
}

impl Started {
    /// SIGKILL to the sandbox's pid 1 takes every process of its pid namespace with it;
    /// the helper dies too, and the init follows it through its parent-death signal.
    fn kill(&self, init_pid: Option<i32>) {
        if let Some(forked) = &self.forked {
            forked.kill();
            return;
        }
        if let Some(pid) = init_pid {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if let Some(pid) = self.helper_pid {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

fn decode_status(status: i32) -> Termination {
    if libc::WIFSIGNALED(status) {
        Termination::Signaled(libc::WTERMSIG(status))
    } else {
        Termination::Exited(libc::WEXITSTATUS(status))
    }
}

fn set_nonblocking(fd: i32) {
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

#[derive(Clone, Copy)]
enum Channel {
    Stdout,
    Stderr,
    Result,
    Control,
}

struct Source {
    fd: Option<OwnedFd>,
    channel: Channel,
}

impl Source {
    fn new(fd: Option<OwnedFd>, channel: Channel) -> Self {
        Source { fd, channel }
    }

    /// Reads what is there; closes the source at EOF or on error.
    fn read(&mut self) -> Vec<u8> {
        let Some(fd) = &self.fd else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        let mut file = std::mem::ManuallyDrop::new(unsafe {
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd.as_raw_fd())
        });
        loop {
            match file.read(&mut buf) {
                Ok(0) => {
                    self.fd = None;
                    break;
                }
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if out.len() >= 1024 * 1024 {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.fd = None;
                    break;
                }
            }
        }
        out
    }
}

/// Keeps the first `cap` bytes of each stream, hands them to the sink, drops the rest
/// (still read, so the program never blocks on a full pipe).
struct Pump {
    cap: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_truncated: bool,
    stderr_truncated: bool,
    result: Vec<u8>,
    result_seen: bool,
}

impl Pump {
    fn new(cap: usize) -> Self {
        Pump {
            cap,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            result: Vec::new(),
            result_seen: false,
        }
    }

    fn take(&mut self, stream: Stream, chunk: &[u8], sink: &mut dyn OutputSink) {
        let (kept, truncated) = match stream {
            Stream::Stdout => (&mut self.stdout, &mut self.stdout_truncated),
            Stream::Stderr => (&mut self.stderr, &mut self.stderr_truncated),
        };
        let room = self.cap.saturating_sub(kept.len());
        let take = chunk.len().min(room);
        if take < chunk.len() {
            *truncated = true;
        }
        if take > 0 {
            kept.extend_from_slice(&chunk[..take]);
            sink.output(stream, &chunk[..take]);
        }
    }

    fn take_result(&mut self, chunk: &[u8]) {
        if !chunk.is_empty() {
            self.result_seen = true;
        }
        let room = RESULT_CAP.saturating_sub(self.result.len());
        self.result
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// Kills and reaps the helper, also when the run ends early.
struct HelperGuard {
    pid: Option<i32>,
    reap: bool,
}

impl HelperGuard {
    /// Once the init is gone no sandboxed process is left; the helper's own exit only tears
    /// down the namespaces, which nobody needs to wait for.
    fn reap(&mut self) {
        if let Some(pid) = self.pid.take() {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            if self.reap {
                std::thread::spawn(move || unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) });
            }
        }
    }
}

impl Drop for HelperGuard {
    fn drop(&mut self) {
        self.reap();
    }
}
