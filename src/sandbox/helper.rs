//! Starting the sandbox helper: by re-executing rock (`spawn`), or, for a one-shot
//! `rock exec`, by forking rock at the very start of `main`, while it is still
//! single-threaded (`prefork`). A forked helper skips an exec, is made in its namespaces
//! with its id maps written at once, and builds the root while rock reads its config.

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::init::{self, CONTROL_FD, GATE_FD, RESULT_FD};
use super::spec::InitEvent;
use super::SandboxError;

/// The path that names "this very binary" as the helper.
pub const SELF_EXE: &str = "/proc/self/exe";

/// A started helper and the parent's ends of its channels.
pub(crate) struct Helper {
    pub pid: i32,
    pub control: UnixStream,
    /// The program's stdin; `None` gives it `/dev/null`.
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub result: OwnedFd,
    pub gate: OwnedFd,
    /// A pre-forked helper was made in its user namespace, whose id maps rock wrote
    /// already; a spawned one makes its namespaces and waits for them.
    pub mapped: bool,
}

/// Both ends of every channel; the child's ends go to fds 0–5 of the helper.
struct Channels {
    parent: [OwnedFd; 5],
    control: UnixStream,
    child: [OwnedFd; 6],
}

impl Channels {
    fn new() -> std::io::Result<Channels> {
        let (control, control_child) = UnixStream::pair()?;
        let pipe = || -> std::io::Result<(OwnedFd, OwnedFd)> {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from)
        };
        let (stdin_r, stdin_w) = pipe()?;
        let (stdout_r, stdout_w) = pipe()?;
        let (stderr_r, stderr_w) = pipe()?;
        let (result_r, result_w) = pipe()?;
        // A socket, not a pipe: a fork server takes the fds of each sandbox it makes on it.
        let (gate_w, gate_r) = UnixStream::pair()?;
        let (gate_w, gate_r): (OwnedFd, OwnedFd) = (gate_w.into(), gate_r.into());
        Ok(Channels {
            parent: [stdin_w, stdout_r, stderr_r, result_r, gate_w],
            control,
            child: [
                stdin_r,
                stdout_w,
                stderr_w,
                control_child.into(),
                result_w,
                gate_r,
            ],
        })
    }

    fn into_helper(self, pid: i32, with_stdin: bool) -> Helper {
        let [stdin, stdout, stderr, result, gate] = self.parent;
        Helper {
            pid,
            control: self.control,
            stdin: with_stdin.then_some(stdin),
            stdout,
            stderr,
            result,
            gate,
            mapped: false,
        }
    }
}

/// In the child, between fork and exec (or the helper's code): put the six fds in place,
/// join a process group of its own (a Ctrl-C reaches rock, which tears the sandbox down)
/// and die with the parent. Async-signal-safe only.
unsafe fn arrange(child: &[i32; 6]) -> std::io::Result<()> {
    // Move every fd above the targets first, so that no dup2 clobbers a source.
    let mut high = [0; 6];
    for (slot, fd) in high.iter_mut().zip(child) {
        *slot = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 10);
        if *slot < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    for (target, fd) in [0, 1, 2, CONTROL_FD, RESULT_FD, GATE_FD]
        .into_iter()
        .zip(high)
    {
        if libc::dup2(fd, target) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    libc::setpgid(0, 0);
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    Ok(())
}

/// Starts `rock __rock-sandbox-init` from `path` with an empty environment.
pub(crate) fn spawn(path: &Path, with_stdin: bool, network: bool) -> Result<Helper, SandboxError> {
    let channels =
        Channels::new().map_err(|e| SandboxError::io("cannot create the sandbox's pipes", e))?;
    let child: [i32; 6] = std::array::from_fn(|i| channels.child[i].as_raw_fd());
    let mut command = Command::new(path);
    command
        .arg(init::INIT_ARG)
        .args(network.then_some(init::NETWORK_ARG))
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: `arrange` makes only async-signal-safe calls.
    unsafe { command.pre_exec(move || arrange(&child)) };
    let spawned = command.spawn().map_err(|e| {
        SandboxError::io(
            &format!("cannot start the sandbox helper {}", path.display()),
            e,
        )
    })?;
    // The child's ends close here; dropping `Child` neither waits nor kills.
    Ok(channels.into_helper(spawned.id() as i32, with_stdin))
}

static PREFORKED: Mutex<Option<Helper>> = Mutex::new(None);

/// The namespaces a pre-forked helper is made in. Its pid namespace comes later: the helper
/// itself stays outside it, and the init it forks is its pid 1.
const PREFORK_NAMESPACES: libc::c_int =
    libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;

/// Forks the helper now, for the next `sandbox::run` in this process to use.
///
/// The child is made in its own user, mount, ipc and uts namespaces (clone), and rock writes
/// its id maps at once, from here: the helper can build the root as soon as it runs, with
/// no round trip through a thread of rock that would have to wait for a CPU of its own.
/// Anything that fails here leaves no helper, and the run starts one the usual way, which
/// says what went wrong.
///
/// # Safety
/// The process must be single-threaded: the child goes on running Rust code.
pub unsafe fn prefork() {
    let Ok(channels) = Channels::new() else {
        return;
    };
    let child: [i32; 6] = std::array::from_fn(|i| channels.child[i].as_raw_fd());
    // A fork with namespace flags: no stack or callback, the child returns here with 0.
    // glibc's own fork can't take the flags; what it would reset (atfork handlers, the
    // locks of other threads) doesn't exist in a single-threaded process, and glibc's raise
    // and abort ask the kernel for the caller's tid rather than trust the copied one (glibc
    // 2.34 and later; checked with a C program on this machine's 2.36).
    let flags = (PREFORK_NAMESPACES | libc::SIGCHLD) as libc::c_ulong;
    let pid = libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) as i32;
    match pid {
        -1 => {}
        0 => {
            let parent = libc::getppid();
            if arrange(&child).is_err() || libc::getppid() != parent {
                libc::_exit(1);
            }
            // Everything of the parent's above the helper's fds goes.
            libc::syscall(libc::SYS_close_range, 6u32, u32::MAX, 0u32);
            forget_environment();
            // Most runs have no network; one that has gets a spawned helper instead.
            init::run_helper(false, true);
        }
        pid => {
            let mut helper = channels.into_helper(pid, true);
            let mapped = super::write_id_maps(pid).is_ok()
                && helper.control.write_all(super::spec::MAPPED).is_ok();
            if !mapped {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
                return;
            }
            helper.mapped = true;
            if let Ok(mut slot) = PREFORKED.lock() {
                *slot = Some(helper);
            }
        }
    }
}

/// Waits for a spawned helper's first event and answers `Unshared` with the id maps and
/// the line that says they are in: the helper builds the request-independent root from there.
pub(crate) fn map_when_unshared(mut control: UnixStream, pid: i32) -> Result<(), String> {
    // Unbuffered: nothing after this line may be taken from the run's event loop.
    let line = init::read_line_unbuffered(&mut control)
        .ok_or("the sandbox helper ended before making its namespaces")?;
    match serde_json::from_slice::<InitEvent>(&line) {
        Ok(InitEvent::Unshared) => {
            super::write_id_maps(pid)?;
            control
                .write_all(super::spec::MAPPED)
                .map_err(|e| format!("cannot reach the sandbox helper: {e}"))
        }
        Ok(InitEvent::SetupError { message }) => Err(message),
        _ => Err("the sandbox helper answered out of turn".into()),
    }
}

/// A forked helper carries rock's environment (tokens, keys), which the spawned one never
/// gets. The program gets only its own, but the helper's and the init's stay readable in
/// `/proc/<pid>/environ`, which shows the original strings: so they are wiped in place.
unsafe fn forget_environment() {
    extern "C" {
        static mut environ: *mut *mut libc::c_char;
    }
    let mut entry = environ;
    while !entry.is_null() && !(*entry).is_null() {
        let text = *entry;
        libc::memset(text.cast(), 0, libc::strlen(text));
        entry = entry.add(1);
    }
    libc::clearenv();
}

/// The pre-forked helper, if there is one, `path` names this binary and the run has no
/// network (the pre-forked helper made a private network namespace).
pub(crate) fn take_preforked(path: &Path, network: bool) -> Option<Helper> {
    if path != Path::new(SELF_EXE) {
        return None;
    }
    if network {
        discard_prefork();
        return None;
    }
    PREFORKED.lock().ok()?.take()
}

/// Ends a pre-forked helper nobody used (the command failed before running code).
pub fn discard_prefork() {
    let helper = PREFORKED.lock().ok().and_then(|mut slot| slot.take());
    if let Some(helper) = helper {
        unsafe {
            libc::kill(helper.pid, libc::SIGKILL);
            libc::waitpid(helper.pid, std::ptr::null_mut(), 0);
        }
    }
}
