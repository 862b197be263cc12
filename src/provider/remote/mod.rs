//! What the remote providers (`e2b`, `aliyun`, `rock`) share: the program they send
//! ([`Program`]), the output they get back with its marker lines taken out
//! ([`RunOutput`]), and HTTP with retries and clear errors ([`Service`]).

pub mod http;
pub mod program;
pub mod stream;

use std::time::Duration;

use serde_json::{Map, Value};

pub use http::{Repeat, Service};
pub use program::{Ended, MarkerFilter, Program};

use super::{host, ConfigError, ProviderError, Sink};
use crate::exec::{ExecRequest, ExecutionResult};
use crate::sandbox::{SandboxOutcome, Stream, Termination};

/// A remote run's output as it arrives: stdout goes through the marker filter, both
/// streams are cut at the request's cap and passed on live.
pub struct RunOutput {
    filter: MarkerFilter,
    sink: Sink,
    cap: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_cut: bool,
    stderr_cut: bool,
    /// The sandbox's memory limit killed something in it.
    oom_killed: bool,
}

impl RunOutput {
    pub fn new(program: &Program, request: &ExecRequest, sink: Sink) -> RunOutput {
        RunOutput {
            filter: program.filter(),
            sink,
            cap: request.output_cap,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_cut: false,
            stderr_cut: false,
            oom_killed: false,
        }
    }

    pub fn stdout(&mut self, piece: &[u8]) {
        let clean = self.filter.feed(piece);
        self.keep(Stream::Stdout, &clean);
    }

    pub fn stderr(&mut self, piece: &[u8]) {
        self.keep(Stream::Stderr, piece);
    }

    fn keep(&mut self, stream: Stream, bytes: &[u8]) {
        let (kept, cut) = match stream {
            Stream::Stdout => (&mut self.stdout, &mut self.stdout_cut),
            Stream::Stderr => (&mut self.stderr, &mut self.stderr_cut),
        };
        let room = self.cap.saturating_sub(kept.len());
        let take = &bytes[..bytes.len().min(room)];
        if take.len() < bytes.len() {
            *cut = true;
        }
        if !take.is_empty() {
            kept.extend_from_slice(take);
            self.sink.output(stream, take);
        }
    }

    /// The provider ended the run at its own limit before the launcher could say how it
    /// ended: a timeout all the same (124).
    pub fn cut_by_provider(&mut self, seconds: f64) {
        if self.filter.ended.is_none() {
            self.filter.ended = Some(Ended {
                timed_out: true,
                elapsed: seconds,
                ..Ended::default()
            });
        }
    }

    /// The sandbox's memory limit killed a process in it (the engine says so): the program
    /// killed by SIGKILL, or the launcher itself, was out of memory.
    pub fn killed_for_memory(&mut self, elapsed: f64) {
        self.oom_killed = true;
        if self.filter.ended.is_none() {
            self.filter.ended = Some(Ended {
                signal: Some(libc::SIGKILL),
                elapsed,
                ..Ended::default()
            });
        }
    }

    /// How the launcher said the run ended, once its last line has arrived.
    pub fn ended(&self) -> Option<&Ended> {
        self.filter.ended.as_ref()
    }

    /// The common result. `service` names the provider in errors; `metadata` already
    /// holds what the provider knows (its name, the sandbox id, …).
    pub fn finish(
        mut self,
        service: &str,
        request: &ExecRequest,
        metadata: Map<String, Value>,
    ) -> Result<ExecutionResult, ProviderError> {
        let rest = self.filter.finish();
        self.keep(Stream::Stdout, &rest);
        let Some(ended) = self.filter.ended.take() else {
            let said = String::from_utf8_lossy(&self.stderr);
            let tail: String = said.trim().lines().last().unwrap_or("").to_string();
            return Err(ProviderError::Unavailable(format!(
                "the {service} sandbox stopped before the run ended (no end report from rock's launcher){}",
                if tail.is_empty() { String::new() } else { format!(": {tail}") }
            )));
        };
        if let Some(error) = &ended.spawn_error {
            let missing = ended.errno == Some(libc::ENOENT);
            return Err(ProviderError::Interpreter {
                message: format!(
                    "the {service} sandbox cannot start the {} interpreter: {error}",
                    request.language
                ),
                exit_code: if missing { 127 } else { 126 },
            });
        }
        let termination = match (ended.timed_out, ended.signal, ended.exit_code) {
            (true, _, _) => Termination::TimedOut,
            (false, Some(signal), _) => Termination::Signaled(signal),
            (false, None, Some(code)) => Termination::Exited(code),
            (false, None, None) => Termination::Exited(1),
        };
        let cut = |name: &str| ended.truncated.iter().any(|s| s == name);
        let outcome = SandboxOutcome {
            termination,
            oom_killed: self.oom_killed || ended.oom_killed,
            stdout_truncated: self.stdout_cut || cut("stdout"),
            stderr_truncated: self.stderr_cut || cut("stderr"),
            stdout: self.stdout,
            stderr: self.stderr,
            result: Some(self.filter.messages),
            wall: Duration::from_secs_f64(ended.elapsed.max(0.0)),
            setup: None,
            cpu: None,
            peak_memory: None,
            denied_syscalls: Vec::new(),
        };
        host::interpret(outcome, metadata, false, request.arguments.is_some())
    }
}

/// Runs `work` unless a signal arrives first (Ctrl-C): then the caller destroys what it
/// made and rock exits 128+N.
pub async fn unless_interrupted<T>(
    work: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    tokio::select! {
        outcome = work => outcome,
        signal = crate::interrupt::wait() => Err(ProviderError::Interrupted {
            message: format!("interrupted by signal {signal}"),
            signal,
        }),
    }
}

/// A random token for ids the client makes up (file names in a sandbox).
pub fn token() -> String {
    format!(
        "{}{}",
        crate::process::random_id(),
        crate::process::random_id()
    )
}

/// A configured base URL, without its trailing slash.
pub fn checked_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(ConfigError::Invalid(format!(
            "{key} must be an http:// or https:// URL, got `{url}`"
        )))
    }
}
