//! How a run looks on the terminal: the program's output streamed live, the result
//! value as one JSON line, a one-line summary on stderr, or everything as one JSON object.

use std::fmt;
use std::io::Write;

use super::{ExecRequest, ExecutionResult, Status};
use crate::sandbox::{OutputSink, Stream};

/// Writes the program's output to rock's own stdout and stderr as it arrives.
#[derive(Default)]
pub struct LiveOutput;

impl OutputSink for LiveOutput {
    fn output(&mut self, stream: Stream, bytes: &[u8]) {
        // A closed pipe (`rock exec … | head`) is the reader's choice, not an error.
        let _ = match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Stream::Stderr => std::io::stderr().lock().write_all(bytes),
        };
    }
}

/// The value main() returned, as one JSON line after the program's output.
/// A `null` (main returned nothing) prints nothing.
pub fn print_result_value(result: &ExecutionResult) {
    let Some(value) = result.result.as_ref().map(|r| &r.value) else {
        return;
    };
    if value.is_null() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}").and_then(|()| out.flush());
}

pub fn print_json(result: &ExecutionResult) {
    let mut out = std::io::stdout().lock();
    let text = serde_json::to_string(result).unwrap_or_default();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// `rock: exit 0 in 41 ms [local]`, or what went wrong.
pub struct Summary<'a> {
    pub result: &'a ExecutionResult,
    pub request: &'a ExecRequest,
    pub verbose: bool,
    pub color: bool,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let result = self.result;
        let (paint, reset) = match (self.color, result.status) {
            (false, _) => ("", ""),
            (true, Status::Success) => ("\x1b[32m", "\x1b[0m"),
            (true, Status::ResourceLimitExceeded) => ("\x1b[33m", "\x1b[0m"),
            (true, _) => ("\x1b[31m", "\x1b[0m"),
        };
        let provider = result
            .metadata
            .get("provider")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        let took = format_seconds(result.execution_time);
        write!(f, "{paint}rock: ")?;
        match result.limit_hit() {
            Some("time") => write!(
                f,
                "killed at the time limit of {}",
                format_seconds(self.request.timeout.as_secs_f64())
            )?,
            Some("memory") => write!(
                f,
                "stopped at the memory limit of {}",
                crate::size::format(self.request.memory_bytes)
            )?,
            Some("cpu") => write!(f, "killed at the CPU time limit")?,
            Some("file_size") => write!(f, "killed at the file size limit")?,
            _ => match result.metadata.get("signal").and_then(|v| v.as_i64()) {
                Some(signal) => write!(f, "killed by signal {signal}")?,
                None => write!(f, "{}", result.status.as_str().replace('_', " "))?,
            },
        }
        write!(
            f,
            ", exit {} in {took} [{provider}]{reset}",
            result.exit_code
        )?;
        for (stream, truncated) in [
            ("stdout", result.truncated.stdout),
            ("stderr", result.truncated.stderr),
        ] {
            if truncated {
                write!(
                    f,
                    "\nrock: {stream} truncated at {}",
                    crate::size::format(self.request.output_cap as u64)
                )?;
            }
        }
        if self.verbose {
            for (key, value) in &result.metadata {
                write!(f, "\nrock:   {key}: {value}")?;
            }
        }
        Ok(())
    }
}

fn format_seconds(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}
