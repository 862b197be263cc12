//! Running what a fake sandbox is asked to run, on the host, for real.
//!
//! Every process gets its own process group (so a timeout or a dropped request ends it
//! and everything it started), and its output comes back piece by piece as it is
//! written, never buffered whole:
//!
//! * [`shell`] / [`argv`]: shell commands (ROCK `/execute`, E2B envd `process.Process/Start`,
//!   AgentRun `processes/cmd`), run in the sandbox's own directory unless told otherwise.
//! * [`rock_python`]: Python source sent to a code interpreter (E2B `/execute`, AgentRun
//!   `contexts/execute`), run by rock's local provider:
//!   `<rock> exec -q --lang python --timeout 300 -` with the code on stdin, the XDG
//!   directories in the fake's own temp dir and no `ROCK_*` variable.

use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Once the process has ended, its pipes are read for this much longer at most: a child
/// it left running in the background may hold them open.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// How long a process ended with SIGTERM has before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// A piece of output, as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signaled(i32),
}

impl End {
    fn of(status: ExitStatus) -> End {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => End::Exited(code),
            (None, Some(signal)) => End::Signaled(signal),
            (None, None) => End::Exited(-1),
        }
    }

    pub fn success(self) -> bool {
        self == End::Exited(0)
    }

    /// Go's `ProcessState.ExitCode()`: -1 for a process ended by a signal.
    pub fn go_exit_code(self) -> i32 {
        match self {
            End::Exited(code) => code,
            End::Signaled(_) => -1,
        }
    }

    /// Go's `ProcessState.String()`: "exit status 1", "signal: killed".
    pub fn go_status(self) -> String {
        match self {
            End::Exited(code) => format!("exit status {code}"),
            End::Signaled(signal) => format!("signal: {}", go_signal_name(signal)),
        }
    }
}

/// Go's name of a signal (`syscall.Signal.String()`).
fn go_signal_name(signal: i32) -> String {
    match signal {
        libc::SIGHUP => "hangup".into(),
        libc::SIGINT => "interrupt".into(),
        libc::SIGQUIT => "quit".into(),
        libc::SIGILL => "illegal instruction".into(),
        libc::SIGTRAP => "trace/breakpoint trap".into(),
        libc::SIGABRT => "aborted".into(),
        libc::SIGBUS => "bus error".into(),
        libc::SIGFPE => "floating point exception".into(),
        libc::SIGKILL => "killed".into(),
        libc::SIGUSR1 => "user defined signal 1".into(),
        libc::SIGSEGV => "segmentation fault".into(),
        libc::SIGUSR2 => "user defined signal 2".into(),
        libc::SIGPIPE => "broken pipe".into(),
        libc::SIGALRM => "alarm clock".into(),
        libc::SIGTERM => "terminated".into(),
        other => format!("signal {other}"),
    }
}

/// How a process group is ended early (at its deadline, or when its request goes away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGKILL to the group at once (what envd and subprocess timeouts do).
    Kill,
    /// SIGTERM to the group, SIGKILL two seconds later: lets rock clean up its sandbox.
    Term,
}

/// What [`Running::next`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Out(Output),
    /// The deadline passed and the group was told to stop; output and the end follow.
    TimedOut,
    /// The process ended and its output is all read (or abandoned to a background child).
    Ended(End),
}

/// `bash -c CMD`.
pub fn shell(cmd: &str) -> Command {
    let mut command = Command::new("bash");
    command.arg("-c").arg(cmd);
    command
}

/// A program and its arguments, as given.
pub fn argv(program: &str, args: &[String]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// `<rock> exec -q --lang python --timeout 300 -` (with `--network` when `network`),
/// isolated from the caller's rock settings: XDG directories under `home`, no `ROCK_*`
/// variable.
pub fn rock_python(rock: &Path, home: &Path, network: bool) -> Command {
    let mut command = Command::new(rock);
    command.args(["exec", "-q", "--lang", "python", "--timeout", "300"]);
    if network {
        command.arg("--network");
    }
    command.arg("-");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROCK_") {
            command.env_remove(name);
        }
    }
    command
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1");
    command
}

/// A process group of the fake's; SIGKILLed (or SIGTERMed) when dropped while armed.
struct Group {
    pgid: i32,
    stop: Stop,
    armed: bool,
}

impl Group {
    fn signal(&self) {
        signal_group(self.pgid, self.stop);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed {
            self.signal();
        }
    }
}

/// Ends process group `pgid` the way `stop` says. No error if it is gone.
pub fn signal_group(pgid: i32, stop: Stop) {
    if pgid <= 1 {
        return;
    }
    match stop {
        Stop::Kill => unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        },
        Stop::Term => {
            unsafe {
                libc::kill(-pgid, libc::SIGTERM);
            }
            std::thread::spawn(move || {
                std::thread::sleep(TERM_GRACE);
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
            });
        }
    }
}

/// A process the fake started.
pub struct Running {
    /// Its pid, which is also its process group's id.
    pub pid: u32,
    child: Child,
    output: mpsc::Receiver<Output>,
    group: Group,
    deadline: Option<Instant>,
    pipes_open: bool,
    timed_out: bool,
    ended: Option<(End, Instant)>,
}

/// Starts `command` in a process group of its own, in `cwd`, with `stdin` fed to it (or
/// /dev/null), ended with `stop` at `timeout` or when the [`Running`] is dropped first.
pub fn spawn(
    mut command: Command,
    cwd: &Path,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
    stop: Stop,
) -> io::Result<Running> {
    command
        .current_dir(cwd)
        .process_group(0)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    let mut child = command.spawn()?;
    let pid = child.id().unwrap_or(0);
    let group = Group {
        pgid: pid as i32,
        stop,
        armed: true,
    };
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        tokio::spawn(async move {
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        });
    }
    let (tx, rx) = mpsc::channel(64);
    if let Some(pipe) = child.stdout.take() {
        tokio::spawn(pump(pipe, tx.clone(), Output::Stdout));
    }
    if let Some(pipe) = child.stderr.take() {
        tokio::spawn(pump(pipe, tx, Output::Stderr));
    }
    Ok(Running {
        pid,
        child,
        output: rx,
        group,
        deadline: timeout.map(|t| Instant::now() + t),
        pipes_open: true,
        timed_out: false,
        ended: None,
    })
}

async fn pump<R: AsyncRead + Unpin>(
    mut pipe: R,
    tx: mpsc::Sender<Output>,
    wrap: fn(Vec<u8>) -> Output,
) {
    let mut buf = vec![0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(wrap(buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl Running {
    /// The next piece of output, [`Event::TimedOut`] once when the deadline passes, and
    /// at last [`Event::Ended`] (again on every later call). Cancel-safe.
    pub async fn next(&mut self) -> Event {
        loop {
            if let Some((end, at)) = self.ended {
                if !self.pipes_open || at.elapsed() >= PIPE_GRACE {
                    self.pipes_open = false;
                    return Event::Ended(end);
                }
            }
            let deadline = self
                .deadline
                .filter(|_| !self.timed_out && self.ended.is_none());
            let grace = self.ended.map(|(_, at)| at + PIPE_GRACE);
            tokio::select! {
                biased;
                piece = self.output.recv(), if self.pipes_open => match piece {
                    Some(piece) => return Event::Out(piece),
                    None => self.pipes_open = false,
                },
                status = self.child.wait(), if self.ended.is_none() => {
                    let end = status.map(End::of).unwrap_or(End::Exited(-1));
                    if !self.timed_out {
                        // It ended by itself: what it left in the background lives on
                        // until its sandbox is deleted.
                        self.group.armed = false;
                    }
                    self.ended = Some((end, Instant::now()));
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    self.timed_out = true;
                    self.group.signal();
                    return Event::TimedOut;
                }
                _ = sleep_until(grace), if grace.is_some() => {}
            }
        }
    }

    /// Whether the deadline passed.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Reads to the end: (stdout, stderr, end).
    pub async fn collect(mut self) -> Collected {
        let mut collected = Collected::default();
        loop {
            match self.next().await {
                Event::Out(Output::Stdout(bytes)) => collected.stdout.extend_from_slice(&bytes),
                Event::Out(Output::Stderr(bytes)) => collected.stderr.extend_from_slice(&bytes),
                Event::TimedOut => collected.timed_out = true,
                Event::Ended(end) => {
                    collected.end = Some(end);
                    return collected;
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A process's whole output, for protocols that answer once it has ended.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    pub end: Option<End>,
}

/// Turns byte pieces into text without splitting a UTF-8 sequence across pieces
/// (invalid bytes become U+FFFD).
#[derive(Debug, Default)]
pub struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(valid) => {
                    text.push_str(valid);
                    self.pending.clear();
                    return text;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    text.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or(""));
                    match e.error_len() {
                        Some(bad) => {
                            text.push('\u{FFFD}');
                            self.pending.drain(..valid + bad);
                        }
                        None => {
                            // An incomplete sequence at the end: wait for the rest.
                            self.pending.drain(..valid);
                            return text;
                        }
                    }
                }
            }
        }
    }

    /// What is left at the end of the stream.
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}
