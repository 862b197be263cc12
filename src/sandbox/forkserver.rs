//! The fork server: warm Python sandboxes made by forking an interpreter that has already
//! started, rather than starting one for each.
//!
//! The fork server is a Python process in a sandbox of its own (built like any other,
//! without seccomp and Landlock, which would forbid the namespaces and mounts it makes),
//! with the harness loaded. It never runs user code. For each sandbox rock asks for, it
//! forks; the child makes fresh user, mount, pid, network, ipc and uts namespaces nested
//! in the fork server's, and its child, pid 1 there, mounts a fresh /work, /tmp, /dev/shm
//! and /proc, then forks the program. The program drops every capability, takes its
//! rlimits, Landlock and rock's seccomp filter, tells rock its pid (the kernel vouches for
//! it: SO_PASSCRED), is moved into the run's cgroup, and waits for its one request. The
//! Python side is `exec/harness/python_forkserver.py`.
//!
//! Each sandbox runs one program and is destroyed with it; what siblings share is what
//! the fork server's sandbox already holds read-only, and the fork server's user
//! namespace as the parent of theirs.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
};

use super::spec::ProcessLimits;
use super::{
    cgroup, seccomp, set_nonblocking, Cgroup, Channel, NoSink, Pump, Reports, SandboxError,
    SandboxRun, Source, Started, DENIED_LISTED,
};
use crate::exec::harness::RUN_DIR;

/// Where the fork server's script and its plan are, inside its sandbox.
pub fn script_path() -> String {
    format!("{RUN_DIR}/forkserver.py")
}

pub fn plan_path() -> String {
    format!("{RUN_DIR}/forkserver.json")
}

/// How long the fork server may take to load, and a forked sandbox to be ready.
const STARTUP: Duration = Duration::from_secs(30);

/// How long the fork server may take to answer a request to fork.
const FORK_ANSWER: Duration = Duration::from_secs(10);

/// The channels the fork server takes for each sandbox: report, control, stdout, stderr,
/// result (in this order, as the script expects).
const CHANNELS: usize = 5;

/// What each forked sandbox applies to itself: rock's seccomp filter and the Landlock
/// ruleset for this kernel, and the numbers of the system calls it needs for them.
pub fn plan(seccomp: bool, landlock: bool) -> String {
    use base64::Engine;
    let filter = seccomp.then(|| {
        base64::engine::general_purpose::STANDARD.encode(seccomp::to_bytes(&seccomp::program(true)))
    });
    let landlock = if landlock {
        super::landlock::plan()
    } else {
        None
    };
    serde_json::json!({
        "syscalls": {
            "clone": libc::SYS_clone,
            "capset": libc::SYS_capset,
            "seccomp": libc::SYS_seccomp,
            "landlock_create_ruleset": libc::SYS_landlock_create_ruleset,
            "landlock_add_rule": libc::SYS_landlock_add_rule,
            "landlock_restrict_self": libc::SYS_landlock_restrict_self,
        },
        "seccomp": filter,
        "landlock": landlock,
    })
    .to_string()
}

/// A running fork server.
pub struct ForkServer {
    command: Mutex<UnixStream>,
    alive: Arc<AtomicBool>,
    /// Says when the fork server's sandbox is gone, cgroup included.
    gone: Mutex<Option<mpsc::Receiver<()>>>,
}

impl std::fmt::Debug for ForkServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForkServer")
            .field("alive", &self.is_alive())
            .finish()
    }
}

impl ForkServer {
    /// Starts the fork server in the sandbox `run` describes (its argv runs the script, its
    /// files hold the harness, the script and the plan) and waits until it has loaded.
    /// It lives until this value is dropped, or dies with its sandbox.
    pub fn start(run: SandboxRun) -> Result<ForkServer, SandboxError> {
        let mut started = super::start(run, true)?;
        let command = started.ready(STARTUP).ok().and_then(|()| {
            let mut command = UnixStream::from(started.gate.take()?);
            command.set_read_timeout(Some(STARTUP)).ok()?;
            let mut byte = [0u8; 1];
            command.read_exact(&mut byte).ok()?;
            (byte[0] == b'k').then_some(command)
        });
        let Some(command) = command else {
            // Whatever stopped it is the last thing it printed, or what the sandbox reported.
            let init = started.state.init_pid;
            started.kill(init);
            let why = match started.finish(None, Instant::now() + STARTUP, &mut NoSink) {
                Ok(outcome) => last_line(&outcome.stderr),
                Err(err) => err.to_string(),
            };
            return Err(SandboxError::Setup(format!(
                "the Python fork server did not start: {why}"
            )));
        };
        command
            .set_read_timeout(Some(FORK_ANSWER))
            .map_err(|e| SandboxError::io("cannot set up the fork server's channel", e))?;
        let alive = Arc::new(AtomicBool::new(true));
        let watched = Arc::clone(&alive);
        let (done, gone) = mpsc::channel();
        std::thread::Builder::new()
            .name("rock-forkserver".into())
            .spawn(move || {
                // Ten years: the fork server ends when rock closes its channel.
                let far = Instant::now() + Duration::from_secs(10 * 365 * 86_400);
                let outcome = started.finish(None, far, &mut NoSink);
                watched.store(false, Ordering::SeqCst);
                let why = match outcome {
                    Ok(outcome) => last_line(&outcome.stderr),
                    Err(err) => err.to_string(),
                };
                if !why.is_empty() {
                    tracing::warn!("the Python fork server ended: {why}");
                }
                drop(started);
                let _ = done.send(());
            })
            .map_err(|e| SandboxError::io("cannot start the fork server's thread", e))?;
        Ok(ForkServer {
            command: Mutex::new(command),
            alive,
            gone: Mutex::new(Some(gone)),
        })
    }

    /// Ends the fork server, and with its sandbox every sandbox it made, and waits (a
    /// while) until its sandbox is gone.
    pub fn stop(&self) {
        if let Ok(command) = self.command.lock() {
            let _ = command.shutdown(std::net::Shutdown::Both);
        }
        if let Some(gone) = self.gone.lock().ok().and_then(|mut gone| gone.take()) {
            let _ = gone.recv_timeout(STARTUP);
        }
    }

    /// Whether the fork server still runs and can make sandboxes: its sandbox has not
    /// ended, and its end of the channel is open (the kernel closes it the moment the
    /// process dies, before rock hears of its sandbox's end).
    pub fn is_alive(&self) -> bool {
        if !self.alive.load(Ordering::SeqCst) {
            return false;
        }
        let Ok(command) = self.command.lock() else {
            return false;
        };
        let mut poll = libc::pollfd {
            fd: command.as_raw_fd(),
            events: libc::POLLRDHUP,
            revents: 0,
        };
        let hung_up = unsafe { libc::poll(&mut poll, 1, 0) } > 0
            && poll.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0;
        if hung_up {
            self.alive.store(false, Ordering::SeqCst);
        }
        !hung_up
    }

    /// Forks a fresh sandbox with `limits`, its program moved into `cgroup` by
    /// [`Started::ready`], which must be called next; [`Started::finish`] sends it its
    /// request.
    pub fn fork(
        &self,
        limits: &ProcessLimits,
        output_cap: usize,
        cgroup: Option<Arc<Cgroup>>,
    ) -> Result<Started, SandboxError> {
        let start = Instant::now();
        let io = |e: std::io::Error| SandboxError::io("cannot make a sandbox's channels", e);
        let (report, report_theirs) = UnixStream::pair().map_err(io)?;
        let (control, control_theirs) = UnixStream::pair().map_err(io)?;
        // Before the program can write: the kernel then attaches its credentials.
        setsockopt(&control, sockopt::PassCred, &true).map_err(|e| io(std::io::Error::from(e)))?;
        let pipe = || {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| io(std::io::Error::from(e)))
        };
        let (stdout, stdout_theirs) = pipe()?;
        let (stderr, stderr_theirs) = pipe()?;
        let (result, result_theirs) = pipe()?;
        let theirs: [RawFd; CHANNELS] = [
            report_theirs.as_raw_fd(),
            control_theirs.as_raw_fd(),
            stdout_theirs.as_raw_fd(),
            stderr_theirs.as_raw_fd(),
            result_theirs.as_raw_fd(),
        ];
        let request = serde_json::json!({ "limits": limits }).to_string();
        self.ask(request.as_bytes(), &theirs)?;
        drop((
            report_theirs,
            control_theirs,
            stdout_theirs,
            stderr_theirs,
            result_theirs,
        ));

        let fds = [
            Source::new(Some(stdout), Channel::Stdout),
            Source::new(Some(stderr), Channel::Stderr),
            Source::new(Some(result), Channel::Result),
            Source::new(Some(OwnedFd::from(report)), Channel::Control),
        ];
        for source in &fds {
            if let Some(fd) = &source.fd {
                set_nonblocking(fd.as_raw_fd());
            }
        }
        Ok(Started {
            start,
            helper_pid: None,
            guard: super::HelperGuard {
                pid: None,
                reap: false,
            },
            pump: Pump::new(output_cap),
            fds,
            state: Reports::default(),
            control_buf: Vec::new(),
            gate: Some(OwnedFd::from(control)),
            attacher: None,
            warm: true,
            attached: None,
            failure: None,
            cgroup,
            forked: Some(Forked::default()),
        })
    }

    /// Sends one request to fork, with the sandbox's channels, and waits for the answer.
    fn ask(&self, request: &[u8], channels: &[RawFd; CHANNELS]) -> Result<(), SandboxError> {
        let gone = || {
            self.alive.store(false, Ordering::SeqCst);
            SandboxError::Setup("the Python fork server is gone".into())
        };
        let mut command = self.command.lock().map_err(|_| gone())?;
        let iov = [std::io::IoSlice::new(request)];
        sendmsg::<()>(
            command.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(channels)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
        .map_err(|_| gone())?;
        let mut answer = [0u8; 1];
        command.read_exact(&mut answer).map_err(|_| gone())?;
        match answer[0] {
            b'k' => Ok(()),
            _ => Err(SandboxError::Setup(
                "the Python fork server could not fork a sandbox".into(),
            )),
        }
    }
}

impl Drop for ForkServer {
    /// A closed channel ends the fork server, and with its sandbox every sandbox it made.
    fn drop(&mut self) {
        if let Ok(command) = self.command.lock() {
            let _ = command.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// What a forked sandbox's [`Started`] holds besides the common parts.
#[derive(Default)]
pub(crate) struct Forked {
    /// A pidfd of the sandbox's init (pid 1 of its pid namespace): killing it kills every
    /// process of the sandbox, and it can't name another process once the init is gone.
    init: Option<OwnedFd>,
    denied: Arc<Mutex<Vec<String>>>,
    /// Says when the seccomp supervisor is done.
    supervised: Option<mpsc::Receiver<()>>,
}

impl Forked {
    pub(crate) fn kill(&self) {
        if let Some(pidfd) = &self.init {
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0u32,
                )
            };
        }
    }

    /// Whether the sandbox's init still runs (its pidfd is not yet readable).
    pub(crate) fn alive(&self) -> bool {
        let Some(pidfd) = &self.init else {
            return true;
        };
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        unsafe { libc::poll(&mut poll, 1, 0) == 0 }
    }

    /// Adds the calls the filter refused to `into`, once the supervisor has seen the last:
    /// when no process under the filter is left, or, if the harness `said_exit`, at once
    /// (each call was reported before the program went on, and it went on to say so).
    pub(crate) fn collect_denied(&mut self, into: &mut Vec<String>, said_exit: bool) {
        if let Some(done) = self.supervised.take() {
            if !said_exit {
                let _ = done.recv_timeout(Duration::from_secs(1));
            }
        }
        if let Ok(denied) = self.denied.lock() {
            for name in denied.iter() {
                if !into.contains(name) && into.len() < DENIED_LISTED {
                    into.push(name.clone());
                }
            }
        }
    }
}

impl Drop for Forked {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Started {
    /// The handshake of a forked sandbox's program: its pid (from the kernel), the move
    /// into the cgroup, then the seccomp listener, or the reason it failed.
    pub(super) fn ready_forked(&mut self, within: Duration) -> Result<(), SandboxError> {
        let control = self
            .gate
            .as_ref()
            .ok_or_else(|| SandboxError::Setup("the sandbox has no control channel".into()))?;
        let control = control.as_raw_fd();
        let timeout = nix::sys::time::TimeVal::new(within.as_secs() as i64, 0);
        let _ = setsockopt(
            &unsafe { std::os::fd::BorrowedFd::borrow_raw(control) },
            sockopt::ReceiveTimeout,
            &timeout,
        );

        let message = receive(control);
        let program = match message {
            Message::Ready { pid } => pid,
            other => return Err(self.handshake_failure(other)),
        };
        let init = parent_of(program).map_err(SandboxError::Setup)?;
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, init, 0u32) };
        if pidfd < 0 {
            return Err(SandboxError::io(
                "cannot hold the forked sandbox",
                std::io::Error::last_os_error(),
            ));
        }
        let forked = self.forked.get_or_insert_with(Forked::default);
        // SAFETY: pidfd_open returned a new fd that nothing else owns.
        forked.init = Some(unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) });
        self.state.init_pid = Some(init);
        self.state.forked = Some(self.start.elapsed());
        if let Some(cgroup) = &self.cgroup {
            let moved = cgroup::attach(&cgroup.procs_files(), program);
            self.attached = Some(moved.clone());
            if let Err(message) = moved {
                self.kill(Some(init));
                return Err(SandboxError::Setup(message));
            }
        }

        match receive(control) {
            Message::Listener(listener) => {
                let forked = self.forked.get_or_insert_with(Forked::default);
                let (done, supervised) = mpsc::channel();
                let watched = Supervisor::get().and_then(|supervisor| {
                    supervisor.watch(listener, Arc::clone(&forked.denied), done)
                });
                if let Err(message) = watched {
                    self.kill(Some(init));
                    return Err(SandboxError::Setup(message));
                }
                forked.supervised = Some(supervised);
            }
            Message::NoFilter => {}
            other => {
                self.kill(Some(init));
                return Err(self.handshake_failure(other));
            }
        }
        let _ = setsockopt(
            &unsafe { std::os::fd::BorrowedFd::borrow_raw(control) },
            sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(0, 0),
        );
        Ok(())
    }

    /// Why a forked sandbox did not get ready: its program's own words, or the report of
    /// the steps before it.
    fn handshake_failure(&mut self, message: Message) -> SandboxError {
        match message {
            Message::Failed(why) => SandboxError::Setup(why),
            Message::Ended(why) => {
                // The entry process or the init said why on the report channel before it ended.
                let report = self.fds[3].read();
                let reported = report.split(|b| *b == b'\n').find_map(|line| {
                    match serde_json::from_slice(line) {
                        Ok(super::spec::InitEvent::SetupError { message }) => Some(message),
                        Ok(super::spec::InitEvent::Exited { status, .. }) => Some(format!(
                            "the forked sandbox's program ended before it was ready ({:?})",
                            super::decode_status(status)
                        )),
                        _ => None,
                    }
                });
                SandboxError::Setup(reported.unwrap_or_else(|| {
                    let why = why.unwrap_or_else(|| "its channel closed".into());
                    format!("the forked sandbox ended before its program was ready ({why})")
                }))
            }
            _ => SandboxError::Setup("the forked sandbox answered out of turn".into()),
        }
    }
}

/// One step of a forked program's handshake.
enum Message {
    /// "c": the program runs, with this host pid.
    Ready {
        pid: i32,
    },
    /// "l": its seccomp filter's listener.
    Listener(OwnedFd),
    /// "n": it runs without a filter.
    NoFilter,
    /// "e": it failed, and says why.
    Failed(String),
    /// The channel closed without a word, or reading it failed (why, then).
    Ended(Option<String>),
    Unexpected,
}

/// Reads one handshake message: one byte (never past it, so that fds and credentials stay
/// with their own message), and for "e" the rest of the stream.
fn receive(control: RawFd) -> Message {
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!(libc::ucred, [RawFd; 1]);
    let message = match recvmsg::<()>(
        control,
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    ) {
        Ok(message) => message,
        Err(errno) => return Message::Ended(Some(errno.desc().to_string())),
    };
    if message.bytes == 0 {
        return Message::Ended(None);
    }
    let mut pid = None;
    let mut fd = None;
    if let Ok(cmsgs) = message.cmsgs() {
        for cmsg in cmsgs {
            match cmsg {
                ControlMessageOwned::ScmCredentials(creds) => pid = Some(creds.pid()),
                ControlMessageOwned::ScmRights(fds) => {
                    for (i, raw) in fds.into_iter().enumerate() {
                        // SAFETY: the kernel installed these fds for us.
                        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                        if i == 0 {
                            fd = Some(owned);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    match (byte[0], pid, fd) {
        (b'c', Some(pid), _) if pid > 0 => Message::Ready { pid },
        (b'l', _, Some(fd)) => Message::Listener(fd),
        (b'n', _, _) => Message::NoFilter,
        (b'e', _, _) => {
            let mut rest = Vec::new();
            // SAFETY: borrowed for the read only; the caller keeps the fd.
            let mut stream =
                std::mem::ManuallyDrop::new(unsafe { UnixStream::from_raw_fd(control) });
            let _ = stream.read_to_end(&mut rest);
            Message::Failed(String::from_utf8_lossy(&rest).into_owned())
        }
        _ => Message::Unexpected,
    }
}

/// The parent pid of `pid`, as rock sees it.
fn parent_of(pid: i32) -> Result<i32, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot find the forked sandbox's program: {e}"))?;
    // "pid (comm) state ppid …": the name may hold spaces and parentheses.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .and_then(|ppid| ppid.parse().ok())
        .ok_or_else(|| "cannot read the forked sandbox's process table entry".to_string())
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// One thread answers the seccomp listeners of every forked sandbox (a thread each would
/// cost every run a thread's start and stack).
struct Supervisor {
    epoll: OwnedFd,
    watched: Mutex<Watched>,
}

#[derive(Default)]
struct Watched {
    /// By token, not fd number: an event of a listener already gone can't reach another.
    listeners: std::collections::HashMap<u64, Listener>,
    next: u64,
}

struct Listener {
    fd: OwnedFd,
    denied: Arc<Mutex<Vec<String>>>,
    answered: usize,
    /// Told (by being dropped) when the listener is done: no process under the filter left.
    _done: mpsc::Sender<()>,
}

impl Supervisor {
    fn get() -> Result<&'static Supervisor, String> {
        static SUPERVISOR: std::sync::OnceLock<Result<&'static Supervisor, String>> =
            std::sync::OnceLock::new();
        SUPERVISOR
            .get_or_init(|| {
                let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
                if epoll < 0 {
                    return Err(format!(
                        "cannot watch the sandboxes' seccomp listeners: {}",
                        std::io::Error::last_os_error()
                    ));
                }
                let supervisor: &'static Supervisor = Box::leak(Box::new(Supervisor {
                    // SAFETY: epoll_create1 returned a new fd that nothing else owns.
                    epoll: unsafe { OwnedFd::from_raw_fd(epoll) },
                    watched: Mutex::new(Watched::default()),
                }));
                std::thread::Builder::new()
                    .name("rock-seccomp".into())
                    .spawn(move || supervisor.run())
                    .map_err(|e| format!("cannot start the seccomp supervisor: {e}"))?;
                Ok(supervisor)
            })
            .clone()
    }

    fn watch(
        &self,
        listener: OwnedFd,
        denied: Arc<Mutex<Vec<String>>>,
        done: mpsc::Sender<()>,
    ) -> Result<(), String> {
        let mut watched = self
            .watched
            .lock()
            .map_err(|_| "the supervisor's lock is poisoned")?;
        let token = watched.next;
        watched.next += 1;
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32,
            u64: token,
        };
        let fd = listener.as_raw_fd();
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) }
            < 0
        {
            return Err(format!(
                "cannot watch a sandbox's seccomp listener: {}",
                std::io::Error::last_os_error()
            ));
        }
        watched.listeners.insert(
            token,
            Listener {
                fd: listener,
                denied,
                answered: 0,
                _done: done,
            },
        );
        Ok(())
    }

    fn run(&self) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            let ready =
                unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), events.as_mut_ptr(), 64, -1) };
            if ready < 0 {
                if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                    continue;
                }
                return;
            }
            for event in &events[..ready as usize] {
                let Ok(mut watched) = self.watched.lock() else {
                    return;
                };
                let token = event.u64;
                let Some(listener) = watched.listeners.get_mut(&token) else {
                    continue;
                };
                let mut ended = event.events & libc::EPOLLIN as u32 == 0;
                if !ended {
                    let denied = Arc::clone(&listener.denied);
                    let answer = seccomp::answer(listener.fd.as_raw_fd(), &mut |syscall| {
                        if let Ok(mut denied) = denied.lock() {
                            if !denied.contains(&syscall) && denied.len() < DENIED_LISTED {
                                denied.push(syscall);
                            }
                        }
                    });
                    listener.answered += 1;
                    ended = matches!(answer, seccomp::Answer::Closed)
                        || listener.answered >= seccomp::ANSWERED;
                }
                if ended {
                    if let Some(listener) = watched.listeners.remove(&token) {
                        unsafe {
                            libc::epoll_ctl(
                                self.epoll.as_raw_fd(),
                                libc::EPOLL_CTL_DEL,
                                listener.fd.as_raw_fd(),
                                std::ptr::null_mut(),
                            )
                        };
                    }
                }
            }
        }
    }
}
