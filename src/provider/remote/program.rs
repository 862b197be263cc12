//! What a remote provider sends: the launcher (`exec/harness/launcher.py`) with the
//! harness, the code and the arguments inside it, and a per-run nonce; and what it gets
//! back: output with the launcher's marker lines in it, which [`MarkerFilter`] takes out
//! as the output streams by.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::exec::harness;
use crate::exec::{ExecRequest, Language};

const LAUNCHER: &str = include_str!("../../exec/harness/launcher.py");
const LAUNCHER_JS: &str = include_str!("../../exec/harness/launcher.js");

/// One run's program for a remote Python process.
pub struct Program {
    /// Python source that runs the request and ends with the launcher's marker lines.
    pub source: String,
    nonce: String,
}

impl Program {
    /// The program for `request`, in Python. `self_path`: where a command API will find
    /// this source as a file, which the launcher then removes before any user code runs.
    pub fn new(request: &ExecRequest, self_path: Option<&str>) -> Program {
        Program::in_language(request, self_path, Language::Python)
    }

    /// The program for `request`, its launcher written in `launcher` (Node.js where a
    /// sandbox has no Python).
    pub fn in_language(
        request: &ExecRequest,
        self_path: Option<&str>,
        launcher: Language,
    ) -> Program {
        let nonce = format!(
            "{}{}{}{}",
            crate::process::random_id(),
            crate::process::random_id(),
            crate::process::random_id(),
            crate::process::random_id()
        );
        let code_file = request.sandbox_file_name();
        let arguments = match &request.arguments {
            Some(arguments) => Value::Object(arguments.clone()).to_string(),
            None => String::new(),
        };
        let mut files = serde_json::Map::new();
        let harness_file = harness::file_name(request.language);
        files.insert(
            harness_file.into(),
            json!(BASE64.encode(harness::source(request.language))),
        );
        files.insert(code_file.clone(), json!(BASE64.encode(&request.code)));
        files.insert("args.json".into(), json!(BASE64.encode(arguments)));
        let spec = json!({
            "nonce": nonce,
            "self": self_path,
            "language": request.language.name(),
            "interpreter": match request.language {
                Language::Python => "python3",
                Language::Nodejs => "node",
            },
            "flags": harness::interpreter_flags(request.language),
            "harness": harness_file,
            "code": code_file,
            "files": files,
            "stdin": request.stdin.as_ref().map(|bytes| BASE64.encode(bytes)),
            "timeout": request.timeout.as_secs_f64(),
            "output_cap": request.output_cap,
        });
        let encoded = BASE64.encode(spec.to_string());
        let source = match launcher {
            Language::Python => {
                format!("{LAUNCHER}\n_rock_launch(\"{encoded}\")\ndel _rock_launch\n")
            }
            Language::Nodejs => format!("{LAUNCHER_JS}\n_rockLaunch(\"{encoded}\");\n"),
        };
        Program { source, nonce }
    }

    /// A filter that takes this run's marker lines out of its stdout.
    pub fn filter(&self) -> MarkerFilter {
        MarkerFilter::new(&self.nonce)
    }
}

/// How the launcher saw its child end (its last marker line).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ended {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    #[serde(default)]
    pub timed_out: bool,
    #[serde(default)]
    pub elapsed: f64,
    /// The streams the launcher cut at the output cap.
    #[serde(default)]
    pub truncated: Vec<String>,
    /// The sandbox's cgroup counted an OOM kill while the program ran.
    #[serde(default)]
    pub oom_killed: bool,
    /// The interpreter could not be started: why.
    pub spawn_error: Option<String>,
    pub errno: Option<i32>,
}

/// Takes `\x1e__rock_<nonce>__ <json>\n` out of a byte stream that arrives in pieces of
/// any size: what is not a marker goes on at once, except a tail that may be the start of
/// one (it begins with ASCII RS, which output hardly ever holds), kept until the next
/// piece tells.
pub struct MarkerFilter {
    marker: Vec<u8>,
    pending: Vec<u8>,
    /// The harness's messages, one JSON line each, as `HarnessMessage::parse_all` reads them.
    pub messages: Vec<u8>,
    pub ended: Option<Ended>,
}

impl MarkerFilter {
    fn new(nonce: &str) -> MarkerFilter {
        MarkerFilter {
            marker: format!("\x1e__rock_{nonce}__ ").into_bytes(),
            pending: Vec::new(),
            messages: Vec::new(),
            ended: None,
        }
    }

    /// Feeds a piece of stdout; returns the program's own output in it.
    pub fn feed(&mut self, piece: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(piece);
        let mut out = Vec::new();
        loop {
            match find(&self.pending, &self.marker) {
                Some(start) => {
                    let body = start + self.marker.len();
                    let Some(end) = self.pending[body..].iter().position(|b| *b == b'\n') else {
                        out.extend_from_slice(&self.pending[..start]);
                        self.pending.drain(..start);
                        return out;
                    };
                    out.extend_from_slice(&self.pending[..start]);
                    let line = self.pending[body..body + end].to_vec();
                    self.take(&line);
                    self.pending.drain(..body + end + 1);
                }
                None => {
                    let keep = partial_suffix(&self.pending, &self.marker);
                    let cut = self.pending.len() - keep;
                    out.extend(self.pending.drain(..cut));
                    return out;
                }
            }
        }
    }

    /// The end of the stream: what was held back is output after all, unless it is a
    /// whole marker line that lost its last newline.
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.pending);
        if rest.starts_with(&self.marker) {
            let line = rest[self.marker.len()..].to_vec();
            if serde_json::from_slice::<Value>(&line).is_ok() {
                self.take(&line);
                return Vec::new();
            }
        }
        rest
    }

    fn take(&mut self, line: &[u8]) {
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        if value["kind"] == "ended" {
            self.ended = serde_json::from_value(value).ok();
        } else {
            self.messages.extend_from_slice(line);
            self.messages.push(b'\n');
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The length of the longest end of `data` that begins `marker`.
fn partial_suffix(data: &[u8], marker: &[u8]) -> usize {
    (1..marker.len().min(data.len() + 1))
        .rev()
        .find(|&n| data.ends_with(&marker[..n]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> MarkerFilter {
        MarkerFilter::new("n0")
    }

    const STREAM: &[u8] = b"hello\nno newline\x1e__rock_n0__ {\"kind\":\"result\",\"value\":1}\n\x1e__rock_n0__ {\"kind\":\"ended\",\"exit_code\":3}\n";

    #[test]
    fn markers_leave_the_output_in_one_piece_or_byte_by_byte() {
        for size in [1, 2, 3, 7, STREAM.len()] {
            let mut f = filter();
            let mut out = Vec::new();
            for piece in STREAM.chunks(size) {
                out.extend(f.feed(piece));
            }
            out.extend(f.finish());
            assert_eq!(out, b"hello\nno newline", "pieces of {size}");
            assert_eq!(f.messages, b"{\"kind\":\"result\",\"value\":1}\n");
            assert_eq!(f.ended.as_ref().and_then(|e| e.exit_code), Some(3));
        }
    }

    #[test]
    fn a_marker_with_another_nonce_is_output() {
        let mut f = filter();
        let mut out = f.feed(b"a\x1e__rock_xx__ {\"kind\":\"result\",\"value\":2}\n");
        out.extend(f.finish());
        assert_eq!(out, b"a\x1e__rock_xx__ {\"kind\":\"result\",\"value\":2}\n");
        assert!(f.messages.is_empty());
    }

    #[test]
    fn output_is_held_back_only_while_it_may_begin_a_marker() {
        let mut f = filter();
        assert_eq!(f.feed(b"line\n"), b"line\n");
        assert_eq!(f.feed(b"abc\x1e__ro"), b"abc");
        assert_eq!(f.feed(b"ad\n"), b"\x1e__road\n");
        assert_eq!(f.finish(), b"");
    }

    #[test]
    fn a_last_marker_without_its_newline_still_counts() {
        let mut f = filter();
        assert_eq!(
            f.feed(b"x\n\x1e__rock_n0__ {\"kind\":\"ended\",\"signal\":9}"),
            b"x\n"
        );
        assert_eq!(f.finish(), b"");
        assert_eq!(f.ended.unwrap().signal, Some(9));
    }
}
