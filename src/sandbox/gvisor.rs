//! Runs a sandbox spec under gVisor: `runsc run` on an OCI bundle rock writes itself
//! (`oci.rs`). The program's system calls go to gVisor's user-space kernel, not the
//! host's. runsc and everything it starts live in the run's cgroup, which holds memory
//! and CPU; process, file and CPU-time limits are rlimits gVisor enforces inside.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::oci::Bundle;
pub use super::oci::RESULT_PATH;
use super::spec::SandboxSpec;
use super::{
    set_nonblocking, Cgroup, Channel, OutputSink, Pump, SandboxError, SandboxOutcome, Source,
    Stream, Termination,
};

/// Prefix of bundle directories in the temp dir: `rock-gvisor-<pid>-<id>`.
const BUNDLE_PREFIX: &str = "rock-gvisor-";

/// How often the sandbox's CPU time is looked at, in milliseconds.
const CPU_WATCH_MS: i32 = 100;

/// How long to wait for the output pipes to close once runsc has ended or been killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

pub struct GvisorRun<'a> {
    /// The `runsc` binary.
    pub runsc: PathBuf,
    /// runsc's `--platform`, when not its default.
    pub platform: Option<String>,
    pub spec: SandboxSpec,
    pub timeout: Duration,
    pub output_cap: usize,
    pub stdin: Option<Vec<u8>>,
    pub cgroup: Option<&'a Cgroup>,
    /// The sandbox's id, unique on this machine among live runs.
    pub id: String,
}

/// Runs the program of `run.spec` under runsc to its end, its timeout or its death.
pub fn run(run: GvisorRun<'_>, sink: &mut dyn OutputSink) -> Result<SandboxOutcome, SandboxError> {
    let start = Instant::now();
    let temp = std::env::temp_dir();
    crate::process::remove_leftovers(&temp, BUNDLE_PREFIX);
    let name = format!("{BUNDLE_PREFIX}{}-{}", std::process::id(), run.id);
    let bundle = Bundle::write(&run.spec, temp.join(&name)).map_err(SandboxError::Setup)?;

    // Sockets, not pipes: this runsc (2022) loses what a program writes to a full host
    // pipe in one large write, but waits on a full socket.
    let (stdout_ours, stdout_theirs) = output_channel()?;
    let (stderr_ours, stderr_theirs) = output_channel()?;
    let mut command = Command::new(&run.runsc);
    command
        .arg("--root")
        .arg(bundle.state_dir())
        .arg("--log")
        .arg(bundle.log_file())
        .arg("--log-format=json")
        .arg(if run.spec.network {
            "--network=host"
        } else {
            "--network=none"
        })
        // The run's own cgroup (below) holds runsc and all it starts.
        .arg("--ignore-cgroups");
    if !nix::unistd::geteuid().is_root() {
        command.arg("--rootless");
    }
    if let Some(platform) = &run.platform {
        command.arg(format!("--platform={platform}"));
    }
    command
        .arg("run")
        .arg("--bundle")
        .arg(bundle.dir())
        .arg(&name)
        .stdin(if run.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::from(stdout_theirs))
        .stderr(Stdio::from(stderr_theirs))
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
    let procs: Vec<CString> = run
        .cgroup
        .map(|c| c.procs_files())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| CString::new(p.as_os_str().as_bytes()).ok())
        .collect();
    // SAFETY: between fork and exec only system calls are made, on memory made before.
    unsafe {
        command.pre_exec(move || {
            // runsc dies with rock, and the sandbox with runsc.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            for file in &procs {
                // "0" moves the writer: runsc is in the cgroup before it starts anything.
                let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| {
        SandboxError::Setup(if e.kind() == std::io::ErrorKind::NotFound {
            format!("{} was not found: {}", run.runsc.display(), install_hint())
        } else {
            format!("cannot start {}: {e}", run.runsc.display())
        })
    })?;
    let pid = child.id() as i32;
    if let (Some(data), Some(mut stdin)) = (run.stdin.clone(), child.stdin.take()) {
        // A program that never reads its stdin must not block the run.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    // Our copies of runsc's ends must go, or the channels never reach end-of-file.
    drop(command);
    let mut fds = [
        Source::new(Some(stdout_ours), Channel::Stdout),
        Source::new(Some(stderr_ours), Channel::Stderr),
    ];
    for source in &fds {
        if let Some(fd) = &source.fd {
            set_nonblocking(fd.as_raw_fd());
        }
    }
    let exit_fd = pidfd(pid);
    let mut pump = Pump::new(run.output_cap);
    let deadline = start + run.timeout;
    let mut timed_out = false;
    let mut out_of_cpu = false;
    let cpu_limit = Duration::from_secs(run.spec.limits.cpu_seconds);
    let mut interrupted = None;
    let mut ended: Option<(i32, libc::rusage, Instant)> = None;

    loop {
        if ended.is_none() {
            ended = try_wait(pid).map(|(status, usage)| (status, usage, Instant::now()));
        }
        let pipes_open = fds.iter().any(|s| s.fd.is_some());
        let now = Instant::now();
        match ended {
            Some((_, _, at)) if !pipes_open || now.duration_since(at) > DRAIN_GRACE => break,
            Some(_) => {}
            None => {
                if let (None, Some(signal)) = (interrupted, crate::interrupt::received()) {
                    interrupted = Some(signal);
                    kill(pid, run.cgroup);
                } else if interrupted.is_none() && !timed_out && now >= deadline {
                    timed_out = true;
                    kill(pid, run.cgroup);
                } else if let (false, Some(cgroup)) = (out_of_cpu || timed_out, run.cgroup) {
                    // This runsc ignores RLIMIT_CPU: the CPU time of the whole sandbox
                    // (gVisor's kernel included) is watched instead.
                    if cgroup.live_cpu_time() > cpu_limit {
                        out_of_cpu = true;
                        kill(pid, run.cgroup);
                    }
                }
            }
        }
        let wait = match ended {
            Some((_, _, at)) => (at + DRAIN_GRACE).saturating_duration_since(now),
            None if timed_out || interrupted.is_some() => Duration::from_millis(10),
            None => deadline.saturating_duration_since(now),
        };
        let mut pollfds: Vec<libc::pollfd> = fds
            .iter()
            .filter_map(|s| s.fd.as_ref())
            .map(|fd| pollfd(fd.as_raw_fd()))
            .collect();
        let watching_exit = ended.is_none();
        if let (Some(fd), true) = (&exit_fd, watching_exit) {
            pollfds.push(pollfd(fd.as_raw_fd()));
        }
        if let Some(fd) = crate::interrupt::fd() {
            pollfds.push(pollfd(fd));
        }
        let mut millis = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
        if run.cgroup.is_some() && ended.is_none() {
            millis = millis.min(CPU_WATCH_MS);
        }
        // Without a pidfd, runsc's exit is found by looking every 10 ms.
        if watching_exit && exit_fd.is_none() {
            millis = millis.min(10);
        }
        let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as _, millis) };
        if ready < 0 {
            if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                continue;
            }
            kill(pid, run.cgroup);
            let _ = child.wait();
            return Err(SandboxError::Setup(format!(
                "poll failed: {}",
                nix::errno::Errno::last()
            )));
        }
        let mut polled = pollfds.iter();
        for source in fds.iter_mut().filter(|s| s.fd.is_some()) {
            let Some(pollfd) = polled.next() else { break };
            if pollfd.revents == 0 {
                continue;
            }
            let chunk = source.read();
            match source.channel {
                Channel::Stdout => pump.take(Stream::Stdout, &chunk, sink),
                _ => pump.take(Stream::Stderr, &chunk, sink),
            }
        }
    }
    let (status, usage, _) = ended.expect("the loop ends only after runsc did");
    if let Some(cgroup) = run.cgroup {
        // Cgroups of rocks killed before they could clean up, like the bundles above.
        super::cgroup::sweep_beside(&cgroup.procs_files());
    }
    if let Some(signal) = interrupted {
        return Err(SandboxError::Interrupted { signal });
    }
    if let Some(message) = bundle.runsc_error() {
        return Err(runsc_failure(message));
    }
    let termination = if timed_out {
        Termination::TimedOut
    } else if out_of_cpu {
        Termination::Signaled(libc::SIGXCPU)
    } else if libc::WIFSIGNALED(status) {
        // runsc itself was killed: by the OOM killer of the run's cgroup, as a rule.
        Termination::Signaled(libc::WTERMSIG(status))
    } else {
        match libc::WEXITSTATUS(status) {
            // runsc reports a program killed by signal N as 128+N, as container runtimes do.
            code @ 129..=159 => Termination::Signaled(code - 128),
            code => Termination::Exited(code),
        }
    };
    let cpu = Duration::from_secs(usage.ru_utime.tv_sec as u64)
        + Duration::from_micros(usage.ru_utime.tv_usec as u64)
        + Duration::from_secs(usage.ru_stime.tv_sec as u64)
        + Duration::from_micros(usage.ru_stime.tv_usec as u64);
    Ok(SandboxOutcome {
        termination,
        oom_killed: run.cgroup.is_some_and(|c| c.oom_killed()),
        stdout: pump.stdout,
        stderr: pump.stderr,
        stdout_truncated: pump.stdout_truncated,
        stderr_truncated: pump.stderr_truncated,
        result: bundle.result(),
        wall: start.elapsed(),
        // When the program started inside runsc is not visible from here.
        setup: None,
        cpu: run.cgroup.and_then(|c| c.cpu_time()).or(Some(cpu)),
        peak_memory: run.cgroup.and_then(|c| c.peak_memory()),
        denied_syscalls: Vec::new(),
    })
}

/// A connected pair of stream sockets: rock reads the first, runsc's program writes the second.
fn output_channel() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()
        .map_err(|e| SandboxError::io("cannot make the output channels", e))?;
    // Only the program writes: rock's end is shut for writing, runsc's for reading.
    let _ = ours.shutdown(std::net::Shutdown::Write);
    let _ = theirs.shutdown(std::net::Shutdown::Read);
    Ok((OwnedFd::from(ours), OwnedFd::from(theirs)))
}

/// How to get runsc, for messages about a missing one.
pub fn install_hint() -> &'static str {
    "install gVisor's runsc (Debian and Ubuntu: `apt-get install runsc`; elsewhere see \
     https://gvisor.dev/docs/user_guide/install/) or set providers.gvisor.runsc to its path"
}

/// A failure runsc logged: a program it could not start is the interpreter's failure (127),
/// anything else the sandbox's.
fn runsc_failure(message: String) -> SandboxError {
    if message.contains("failed to load") && message.contains("no such file or directory") {
        SandboxError::Exec {
            errno: libc::ENOENT,
        }
    } else {
        SandboxError::Setup(format!("runsc could not run the sandbox: {message}"))
    }
}

/// Kills runsc (the sandbox follows it: its processes have runsc's death as their signal)
/// and whatever of the run is left in its cgroup.
fn kill(pid: i32, cgroup: Option<&Cgroup>) {
    unsafe { libc::kill(pid, libc::SIGKILL) };
    if let Some(cgroup) = cgroup {
        cgroup.kill_all();
    }
}

/// The exit status and resource use of runsc once it has ended; `None` while it runs.
fn try_wait(pid: i32) -> Option<(i32, libc::rusage)> {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
    (reaped == pid).then_some((status, usage))
}

/// A descriptor that becomes readable when `pid` ends (Linux 5.3 and later).
fn pidfd(pid: i32) -> Option<OwnedFd> {
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Whether `runsc` names an executable, on PATH or as a path.
pub fn find_runsc(runsc: &str) -> Option<PathBuf> {
    if runsc.contains('/') {
        let path = Path::new(runsc);
        return path.is_file().then(|| path.to_path_buf());
    }
    crate::interpreter::which(runsc)
}
