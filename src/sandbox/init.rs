//! The sandbox side: the helper (rock forked before it started any thread, or re-executed
//! as `rock __rock-sandbox-init`: single-threaded either way, so forking and mounting are
//! safe) makes the namespaces, builds the root file system and starts the program as an
//! unprivileged user.
//!
//! Process tree: helper (host pid ns, new user/mount/net/ipc/uts ns)
//!   └─ init (pid 1 of the new pid ns: reaps, reports, and takes every process with it)
//!        └─ program (the interpreter, uid 1000, no capabilities, rlimits)

use std::ffi::CString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::sched::CloneFlags;
use nix::unistd::{ForkResult, Pid};

use super::mounts;
use super::seccomp;
use super::spec::{InitEvent, ProcessLimits, SandboxSpec, MAPPED, SANDBOX_GID, SANDBOX_UID};

/// The argv[1] that makes the rock binary act as the sandbox helper.
pub const INIT_ARG: &str = "__rock-sandbox-init";

/// Reads one line of a stream without reading past it; `None` at the end of the stream.
pub(crate) fn read_line_unbuffered(stream: &mut impl Read) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while byte[0] != b'\n' {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => return None,
        }
    }
    Some(line)
}

/// Fds the parent hands the helper.
pub const CONTROL_FD: i32 = 3;
pub const RESULT_FD: i32 = 4;
pub const GATE_FD: i32 = 5;

/// Entry point of the helper process. Never returns.
pub fn main() -> ! {
    set_cloexec(CONTROL_FD);
    let network = std::env::args().any(|a| a == NETWORK_ARG);
    run_helper(network, false)
}

/// The helper's argument for a run that shares the host's network.
pub const NETWORK_ARG: &str = "--network";

/// The helper's work, with its fds in place (0–2 the program's stdio, 3 control, 4 result,
/// 5 gate): from `main` after an exec, or straight after `sandbox::prefork`'s fork.
/// `made_in_namespaces`: the helper was made in its user, mount, ipc and uts namespaces,
/// with its id maps written (a pre-forked helper); it makes only the pid namespace.
pub(crate) fn run_helper(network: bool, made_in_namespaces: bool) -> ! {
    // SAFETY: fd 3 is the control socket the parent passed; nothing else owns it.
    let control = unsafe { UnixStream::from_raw_fd(CONTROL_FD) };
    let code = helper(control, network, made_in_namespaces).unwrap_or(1);
    unsafe { libc::_exit(code) }
}

fn helper(control: UnixStream, network: bool, made_in_namespaces: bool) -> Result<i32, ()> {
    let mut reporter = Reporter(control.try_clone().map_err(|_| ())?);

    // The namespaces first, before the request is known: a pre-forked helper was made in
    // all but the pid namespace while rock started.
    let flags = if made_in_namespaces {
        CloneFlags::CLONE_NEWPID
    } else {
        CloneFlags::CLONE_NEWUSER
            | CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWUTS
    };
    if let Err(errno) = nix::sched::unshare(flags) {
        reporter.send(&InitEvent::SetupError {
            message: unshare_failure(errno),
        });
        return Ok(1);
    }
    if !made_in_namespaces {
        reporter.send(&InitEvent::Unshared);
    }

    // From here two processes work at once. The init makes the network namespace (the
    // costliest; it needs no id maps, only the capabilities the new user namespace gave)
    // and reads the request, while rock writes the id maps and then the helper builds the
    // request-independent root (the mount namespace, and so the root, is theirs in
    // common). Pipes say when the maps are in and when the root is built.
    let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|_| ());
    let (mapped_read, mapped_write) = pipe()?;
    let (built_read, built_write) = pipe()?;
    // SAFETY: this process is single-threaded (see the module's documentation).
    match unsafe { nix::unistd::fork() } {
        Err(errno) => {
            reporter.send(&InitEvent::SetupError {
                message: format!("could not start the sandbox init: {errno}"),
            });
            Ok(1)
        }
        Ok(ForkResult::Child) => {
            drop((mapped_write, built_write));
            let code = init(network, control, mapped_read, built_read, &mut reporter);
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop((mapped_read, built_read));
            reporter.send(&InitEvent::Init {
                pid: child.as_raw(),
            });
            // The helper keeps none of the program's pipes, so their EOF means the sandbox is gone.
            close_program_fds();
            // Rock answers `Unshared` with the maps and a line that says so, then sends the
            // request: read byte by byte, so that the request stays for the init.
            let mut control = control;
            if read_line_unbuffered(&mut control).as_deref() == Some(MAPPED) {
                let _ = nix::unistd::write(&mapped_write, b"1");
                drop(mapped_write);
                match mounts::prepare() {
                    Ok(()) => {
                        let _ = nix::unistd::write(&built_write, b"1");
                    }
                    // The init sees the pipe close without a byte and gives up.
                    Err(message) => reporter.send(&InitEvent::SetupError { message }),
                }
            }
            // Closing a pipe without writing its byte tells the init to give up.
            drop(built_write);
            let status = wait_raw(child);
            // The init reports the program's end itself; if it died first, say so.
            reporter.send(&InitEvent::InitDied { status });
            Ok(0)
        }
    }
}

/// pid 1 of the sandbox.
fn init(
    network: bool,
    control: UnixStream,
    mapped: OwnedFd,
    built: OwnedFd,
    reporter: &mut Reporter,
) -> i32 {
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if let Err(message) = isolate_network(network) {
        reporter.send(&InitEvent::SetupError { message });
        return 1;
    }
    // The request follows the maps' line, which the helper must have taken first.
    if !wait_for_byte(&mapped) {
        return 1;
    }
    let mut line = Vec::new();
    match BufReader::new(control).read_until(b'\n', &mut line) {
        Ok(n) if n > 0 => {}
        _ => return 1,
    }
    let spec: SandboxSpec = match serde_json::from_slice(&line) {
        Ok(spec) => spec,
        Err(err) => {
            reporter.send(&InitEvent::SetupError {
                message: format!("the sandbox helper got a malformed request: {err}"),
            });
            return 1;
        }
    };
    if spec.network != network {
        reporter.send(&InitEvent::SetupError {
            message: "the sandbox helper was started for another network mode".into(),
        });
        return 1;
    }
    if !wait_for_byte(&built) {
        // The helper failed to build the root and said why.
        return 1;
    }
    if let Err(message) = mounts::finish(&spec) {
        reporter.send(&InitEvent::SetupError { message });
        return 1;
    }

    // The program hands its seccomp filter's listener back through this pair.
    let listener_channel = if spec.seccomp {
        match UnixStream::pair() {
            Ok(pair) => Some(pair),
            Err(err) => {
                reporter.send(&InitEvent::SetupError {
                    message: format!("could not make the seccomp channel: {err}"),
                });
                return 1;
            }
        }
    } else {
        None
    };
    // SAFETY: still single-threaded.
    let program = match unsafe { nix::unistd::fork() } {
        Err(errno) => {
            reporter.send(&InitEvent::SetupError {
                message: format!("could not start the program: {errno}"),
            });
            return 1;
        }
        Ok(ForkResult::Child) => {
            let errno = exec_program(&spec, listener_channel.as_ref().map(|(_, child)| child));
            reporter.send(&InitEvent::ExecError { errno });
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => child,
    };
    reporter.send(&InitEvent::Forked);
    close_program_fds();
    if let Some((ours, theirs)) = listener_channel {
        drop(theirs);
        // Nothing arrives if the program failed before its filter was in place.
        if let (Some(listener), Ok(control)) = (receive_fd(&ours), reporter.0.try_clone()) {
            let mut reports = Reporter(control);
            // The init forks nothing more, so a thread is safe from here on.
            std::thread::spawn(move || {
                // Each call once: a program that tries one in a loop can't flood rock.
                let mut seen: Vec<String> = Vec::new();
                seccomp::supervise(listener, |syscall| {
                    if !seen.contains(&syscall) && seen.len() < 64 {
                        seen.push(syscall.clone());
                        reports.send(&InitEvent::Denied { syscall });
                    }
                })
            });
        }
    }

    // Reap everything; the program's own end is the sandbox's end.
    let status = loop {
        let mut status = 0;
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == program.as_raw() {
            break status;
        }
        if pid < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return 1;
        }
    };
    // Whatever the program left behind dies now and is reaped, so that when `Exited`
    // arrives no process of the sandbox is left (pid 1's kill(-1) spares only itself).
    unsafe { libc::kill(-1, libc::SIGKILL) };
    loop {
        let rc = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        if rc < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            break;
        }
    }
    let usage = children_usage();
    reporter.send(&InitEvent::Exited {
        status,
        cpu_micros: usage.0,
        max_rss_kib: usage.1,
    });
    0
}

/// Runs in the program's process: drop every privilege, apply limits, exec.
/// Returns the errno of whatever failed.
fn exec_program(spec: &SandboxSpec, listener_channel: Option<&UnixStream>) -> i32 {
    unsafe {
        libc::setsid();
        // Children inherit ignored signals across exec; Rust ignores SIGPIPE.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    // Make the program, not the init, the OOM killer's choice inside the cgroup.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");

    if let Err(errno) = apply_rlimits(&spec.limits) {
        return errno;
    }
    if let Err(errno) = drop_privileges() {
        return errno;
    }
    if unsafe { libc::chdir(c"/work".as_ptr()) } != 0 {
        return nix::errno::Errno::last_raw();
    }
    // The result pipe becomes fd 3 and the gate fd 4; everything else above stderr is closed.
    if unsafe { libc::dup2(RESULT_FD, 3) } < 0 {
        return nix::errno::Errno::last_raw();
    }
    let mut first_closed = 4u32;
    if spec.gated {
        if unsafe { libc::dup2(GATE_FD, 4) } < 0 {
            return nix::errno::Errno::last_raw();
        }
        first_closed = 5;
    }
    // Fails closed: a ruleset the kernel refused runs nothing.
    if spec.landlock && super::landlock::restrict().is_err() {
        return libc::EPERM;
    }
    // Late, so that only the program's own calls meet it; its listener goes to the init.
    if spec.seccomp {
        let notify = listener_channel.is_some();
        match seccomp::install(&seccomp::program(notify), notify) {
            Err(errno) => return errno,
            Ok(Some(listener)) => {
                if let Some(channel) = listener_channel {
                    if let Err(errno) = send_fd(channel, &listener) {
                        return errno;
                    }
                }
                // The program must not keep it: it could answer its own calls.
                drop(listener);
            }
            Ok(None) => {}
        }
    }
    unsafe { libc::syscall(libc::SYS_close_range, first_closed, u32::MAX, 0u32) };

    let argv: Vec<CString> = spec
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).unwrap_or_default())
        .collect();
    let env: Vec<CString> = spec
        .env
        .iter()
        .map(|(k, v)| CString::new(format!("{k}={v}")).unwrap_or_default())
        .collect();
    match nix::unistd::execve(&argv[0], &argv, &env) {
        Err(errno) => errno as i32,
        Ok(_) => unreachable!(),
    }
}

fn apply_rlimits(limits: &ProcessLimits) -> Result<(), i32> {
    use nix::sys::resource::{setrlimit, Resource};
    let set = |resource, soft: u64, hard: u64| {
        setrlimit(resource, soft, hard).map_err(|errno| errno as i32)
    };
    // SIGXCPU at the limit, SIGKILL a second later if it is ignored.
    set(
        Resource::RLIMIT_CPU,
        limits.cpu_seconds,
        limits.cpu_seconds.saturating_add(1),
    )?;
    set(Resource::RLIMIT_NPROC, limits.processes, limits.processes)?;
    set(
        Resource::RLIMIT_NOFILE,
        limits.open_files,
        limits.open_files,
    )?;
    set(
        Resource::RLIMIT_FSIZE,
        limits.file_size_bytes,
        limits.file_size_bytes,
    )?;
    set(Resource::RLIMIT_CORE, 0, 0)?;
    if let Some(bytes) = limits.data_bytes {
        set(Resource::RLIMIT_DATA, bytes, bytes)?;
    }
    Ok(())
}

fn drop_privileges() -> Result<(), i32> {
    // The bounding set needs CAP_SETPCAP, which we hold in the namespace until setuid.
    for cap in 0..64 {
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
    }
    // Fails where setgroups is denied (unprivileged rock); the groups are unmapped there anyway.
    let _ = nix::unistd::setgroups(&[nix::unistd::Gid::from_raw(SANDBOX_GID)]);
    let gid = nix::unistd::Gid::from_raw(SANDBOX_GID);
    let uid = nix::unistd::Uid::from_raw(SANDBOX_UID);
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| e as i32)?;
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| e as i32)?;
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    clear_capabilities()?;
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(())
}

fn clear_capabilities() -> Result<(), i32> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    if rc != 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    Ok(())
}

/// Reads the one byte a step's pipe carries when the step succeeded.
fn wait_for_byte(pipe: &OwnedFd) -> bool {
    let mut byte = [0u8; 1];
    nix::unistd::read(pipe.as_raw_fd(), &mut byte) == Ok(1)
}

/// A network namespace of its own with loopback up, unless the run shares the host's.
fn isolate_network(network: bool) -> Result<(), String> {
    if !network {
        nix::sched::unshare(CloneFlags::CLONE_NEWNET).map_err(unshare_failure)?;
        loopback_up()?;
    }
    let _ = nix::unistd::sethostname("rock");
    Ok(())
}

/// A private network namespace starts with `lo` down; programs expect 127.0.0.1 to work.
fn loopback_up() -> Result<(), String> {
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if sock < 0 {
            return Err(format!(
                "could not bring up loopback: {}",
                nix::errno::Errno::last()
            ));
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let mut rc = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req);
        if rc == 0 {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            rc = libc::ioctl(sock, libc::SIOCSIFFLAGS, &req);
        }
        let errno = nix::errno::Errno::last();
        libc::close(sock);
        if rc != 0 {
            return Err(format!("could not bring up loopback: {errno}"));
        }
    }
    Ok(())
}

fn unshare_failure(errno: nix::errno::Errno) -> String {
    use nix::errno::Errno;
    let why = match errno {
        Errno::EPERM => "the kernel refused to create namespaces for this user",
        Errno::ENOSPC => "the user namespace limit (user.max_user_namespaces) is reached or zero",
        Errno::EINVAL => "this kernel lacks user, pid or network namespaces",
        Errno::EUSERS => "user namespaces are nested too deeply",
        _ => "namespace creation failed",
    };
    format!(
        "cannot build the local sandbox: {why} ({errno}). Enable unprivileged user namespaces \
         (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces>0; on Ubuntu also \
         kernel.apparmor_restrict_unprivileged_userns=0), or use another provider; rock never runs \
         code unsandboxed"
    )
}

/// The helper and the init keep none of the program's stdio or result pipe, so that the
/// pipes reach EOF the moment the program is gone. (Closed outright: after the pivot into
/// the staging root the helper has no /dev/null to put in their place.)
fn close_program_fds() {
    for fd in [0, 1, 2, RESULT_FD, GATE_FD] {
        unsafe { libc::close(fd) };
    }
}

fn set_cloexec(fd: i32) {
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

fn wait_raw(pid: Pid) -> i32 {
    loop {
        let mut status = 0;
        let rc = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if rc == pid.as_raw() {
            return status;
        }
        if rc < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return 0;
        }
    }
}

/// CPU time (µs) and peak RSS (KiB) of all reaped children.
fn children_usage() -> (u64, u64) {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let micros = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    (
        micros(usage.ru_utime) + micros(usage.ru_stime),
        usage.ru_maxrss as u64,
    )
}

/// Sends one fd over a Unix socket (SCM_RIGHTS).
fn send_fd(socket: &UnixStream, fd: &OwnedFd) -> Result<(), i32> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd.as_raw_fd()];
    let byte = [0u8; 1];
    let iov = [std::io::IoSlice::new(&byte)];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map(|_| ())
    .map_err(|e| e as i32)
}

/// Receives the fd `send_fd` sent; `None` when the other end closed without sending.
fn receive_fd(socket: &UnixStream) -> Option<OwnedFd> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let message = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    let fd = message.cmsgs().ok()?.find_map(|cmsg| match cmsg {
        ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
        _ => None,
    })?;
    // SAFETY: the kernel installed this fd for us.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

struct Reporter(UnixStream);

impl Reporter {
    fn send(&mut self, event: &InitEvent) {
        if let Ok(mut line) = serde_json::to_vec(event) {
            line.push(b'\n');
            // A parent that went away can't be told anything; the pipes closing tells the rest.
            let _ = self.0.write_all(&line);
        }
    }
}
