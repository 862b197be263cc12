//! The `main(**arguments)` harness: the script each interpreter runs instead of the
//! user's file, and the messages it sends back on the result channel.

use serde::Deserialize;
use serde_json::Value;

use super::Language;

/// Where the harness, the arguments and other read-only run files live in a sandbox.
pub const RUN_DIR: &str = "/rock";

const PYTHON: &str = include_str!("harness/python.py");
const NODE: &str = include_str!("harness/node.js");

/// The Python fork server (see `sandbox::forkserver`), which imports the harness.
pub const PYTHON_FORK_SERVER: &str = include_str!("harness/python_forkserver.py");

pub fn source(language: Language) -> &'static str {
    match language {
        Language::Python => PYTHON,
        Language::Nodejs => NODE,
    }
}

pub fn file_name(language: Language) -> &'static str {
    match language {
        Language::Python => "harness.py",
        Language::Nodejs => "harness.js",
    }
}

/// Interpreter flags placed before the harness. Python: isolated mode (no user site,
/// no PYTHON* variables), unbuffered so output streams live, no bytecode writes.
pub fn interpreter_flags(language: Language) -> &'static [&'static str] {
    match language {
        Language::Python => &["-I", "-u", "-B"],
        Language::Nodejs => &[],
    }
}

/// The result channel where the sandbox hands the harness a pipe: fd 3.
pub const RESULT_FD: &str = "3";

/// The fd on which a gated harness waits for its go-ahead (see `SandboxSpec::gated`).
pub const GATE_FD: &str = "4";

/// The argv that runs `code_path` under the harness: the arguments file after it, then
/// the result channel (a file descriptor number, or the path of a file inside the
/// sandbox), then the gate fd when the harness must wait before running user code.
pub fn argv(
    language: Language,
    interpreter: &str,
    extra_flags: &[String],
    code_path: &str,
    result: &str,
    gated: bool,
) -> Vec<String> {
    let mut argv = vec![interpreter.to_string()];
    argv.extend(interpreter_flags(language).iter().map(|s| s.to_string()));
    argv.extend(extra_flags.iter().cloned());
    argv.push(format!("{RUN_DIR}/{}", file_name(language)));
    argv.push(code_path.to_string());
    argv.push(format!("{RUN_DIR}/args.json"));
    argv.push(result.to_string());
    if gated {
        argv.push(GATE_FD.to_string());
    }
    argv
}

/// What the harness says on the result channel.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HarnessMessage {
    /// `main` returned this value.
    Result { value: Value },
    /// Arguments were given but the code defines no `main`.
    NoMain,
    /// `main` returned something JSON can't carry.
    NotSerializable,
    /// The program ran out of a resource the harness could see (MemoryError).
    Limit { limit: String },
    /// What the program left in `./artifacts/`, sent last, on a line of its own.
    Artifacts {
        files: Vec<super::artifacts::Candidate>,
    },
    /// How the program ended, said by a forked sandbox's harness as it exits (read by
    /// `sandbox::Started::finish`).
    Exit {},
}

impl HarnessMessage {
    /// The messages on the channel, one JSON object per line; lines the harness didn't
    /// write are skipped.
    pub fn parse_all(bytes: &[u8]) -> Vec<HarnessMessage> {
        bytes
            .split(|b| *b == b'\n')
            // Not even tried: serde_json's error for an empty line (the last one) costs a
            // CPU feature probe, which traps to the hypervisor in a virtual machine.
            .filter(|line| line.first() == Some(&b'{'))
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_parse() {
        assert_eq!(
            HarnessMessage::parse_all(
                b"{\"kind\":\"result\",\"value\":{\"a\":[1]}}\ngarbage\n{\"kind\":\"artifacts\",\"files\":[]}\n"
            ),
            [
                HarnessMessage::Result {
                    value: json!({"a":[1]})
                },
                HarnessMessage::Artifacts { files: vec![] }
            ]
        );
        assert_eq!(
            HarnessMessage::parse_all(br#"{"kind":"no_main"}"#),
            [HarnessMessage::NoMain]
        );
        assert_eq!(HarnessMessage::parse_all(b"garbage"), []);
    }

    #[test]
    fn argv_puts_the_harness_before_the_code() {
        let argv = argv(
            Language::Python,
            "/usr/bin/python3",
            &[],
            "/work/a.py",
            RESULT_FD,
            false,
        );
        assert_eq!(
            argv,
            [
                "/usr/bin/python3",
                "-I",
                "-u",
                "-B",
                "/rock/harness.py",
                "/work/a.py",
                "/rock/args.json",
                "3"
            ]
        );
    }
}
