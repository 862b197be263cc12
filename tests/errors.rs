//! Bad input: one clear sentence on stderr and the documented exit status, nothing else.

mod support;

use support::{stderr_of, Rock};

fn assert_one_sentence(stderr: &str, needle: &str) {
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let output = Rock::new().run(&["exec", "no/such/file.py"]);
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(&stderr_of(&output), "file not found: no/such/file.py");
}

#[test]
fn an_unknown_language_lists_the_known_ones() {
    let output = Rock::new().run(&["exec", "--lang", "cobol", "-c", "x"]);
    assert_eq!(output.status.code(), Some(125));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("unknown language `cobol`"), "{stderr}");
    assert!(
        stderr.contains("python (python3, py) and nodejs"),
        "{stderr}"
    );
}

#[test]
fn a_language_rock_cannot_guess_is_asked_for() {
    let rock = Rock::new();
    let file = rock.file("script.rb", "puts 1");
    let output = rock.cmd().arg("exec").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(&stderr_of(&output), "pass --lang python or --lang nodejs");
}

#[test]
fn arguments_without_main_are_refused() {
    let rock = Rock::new();
    for lang in ["python", "nodejs"] {
        let output = rock.run(&["exec", "--lang", lang, "--args", "a=1", "-c", "x = 1"]);
        assert_eq!(output.status.code(), Some(125), "{lang}");
        assert_one_sentence(
            &stderr_of(&output),
            "--args was given but the code defines no main() function",
        );
    }
}

#[test]
fn malformed_json_arguments_are_refused() {
    let output = Rock::new().run(&[
        "exec",
        "-l",
        "py",
        "--args",
        "n:={bad",
        "-c",
        "def main(n): pass",
    ]);
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(
        &stderr_of(&output),
        "argument `n` is not valid JSON after `:=`",
    );
    let output = Rock::new().run(&[
        "exec",
        "-l",
        "py",
        "--args",
        "novalue",
        "-c",
        "def main(n): pass",
    ]);
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(&stderr_of(&output), "argument `novalue` has no `=`");
}

#[test]
fn a_syntax_error_is_the_programs_error_not_rocks() {
    let rock = Rock::new();
    let (result, exit) = rock.exec_json("python", "def (:\n", &[]);
    assert_eq!(exit, 1);
    assert_eq!(result["status"], "program_error");
    let stderr = result["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("SyntaxError") && stderr.contains("/work/main.py"),
        "{stderr}"
    );
    let (result, exit) = rock.exec_json("nodejs", "function (", &[]);
    assert_eq!(exit, 1);
    assert_eq!(result["status"], "program_error");
    let stderr = result["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("SyntaxError") && stderr.contains("/work/main.js:1"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_provider_is_refused_with_a_suggestion() {
    let output = Rock::new().run(&["exec", "--provider", "locla", "-l", "py", "-c", "1"]);
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(
        &stderr_of(&output),
        "unknown provider `locla` (did you mean `local`?)",
    );
}

#[test]
fn a_missing_interpreter_exits_127() {
    let rock = Rock::new();
    let output = rock.run_with_config(
        "[languages.python]\ninterpreter = \"no-such-python3\"\n",
        &["exec", "-l", "py", "-c", "1"],
    );
    assert_eq!(output.status.code(), Some(127));
    assert_one_sentence(
        &stderr_of(&output),
        "`no-such-python3` was not found on PATH",
    );
}

#[test]
fn bad_limits_are_refused() {
    let rock = Rock::new();
    for (flag, value, needle) in [
        ("--memory", "lots", "--memory: `lots` is not a size"),
        (
            "--memory",
            "1k",
            "--memory must be at least 16 MiB, got 1 KiB",
        ),
        (
            "--timeout",
            "0",
            "--timeout must be more than 0 and at most 86400 seconds, got 0",
        ),
        (
            "--timeout",
            "-3",
            "--timeout must be more than 0 and at most 86400 seconds, got -3",
        ),
        (
            "--timeout",
            "soon",
            "--timeout must be a number of seconds, got `soon`",
        ),
    ] {
        let output = rock.run(&["exec", "-l", "py", "-c", "1", flag, value]);
        assert_eq!(output.status.code(), Some(125), "{flag} {value}");
        assert_one_sentence(&stderr_of(&output), needle);
    }
}

#[test]
fn a_malformed_config_names_its_line() {
    let rock = Rock::new();
    let output = rock.run_with_config(
        "[default]\ntimeout = = 3\n",
        &["exec", "-l", "py", "-c", "1"],
    );
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(&stderr_of(&output), "is not valid TOML: line 2, column");
}

#[test]
fn serve_names_the_providers_it_can_use() {
    let rock = Rock::new();
    let output = rock.run(&["serve", "--sandbox", "aliyun_codeinterpreter"]);
    assert_eq!(output.status.code(), Some(125));
    assert_one_sentence(
        &stderr_of(&output),
        "--sandbox must be local, gvisor or docker, whose sandboxes run on this machine or its container engine, not aliyun",
    );
}
