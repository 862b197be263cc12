//! The rest of the command line: providers, completions, help.

mod support;

use support::{stderr_of, stdout_of, Rock};

#[test]
fn provider_list_shows_local_as_healthy() {
    let output = Rock::new().run(&["provider", "list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("local"))
        .expect("a local row");
    assert!(line.split_whitespace().nth(1) == Some("ok"), "{stdout}");
}

#[test]
fn provider_test_runs_a_round_trip_per_language() {
    let output = Rock::new().run(&["provider", "test", "local"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(stdout.starts_with("local: healthy"), "{stdout}");
    // The health line says which walls stand.
    assert!(
        stdout
            .lines()
            .next()
            .unwrap_or_default()
            .contains("; seccomp filter on; landlock "),
        "{stdout}"
    );
    for lang in ["python", "nodejs"] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(lang))
            .expect(lang);
        assert!(
            line.contains(" ok ") && line.contains("ms round trip"),
            "{line}"
        );
    }
    // Without a name, the default provider is tested.
    let output = Rock::new().run(&["provider", "test"]);
    assert!(stdout_of(&output).starts_with("local: healthy"));
}

#[test]
fn provider_test_fails_clearly_when_an_interpreter_is_missing() {
    let rock = Rock::new();
    let output = rock.run_with_config(
        "[languages.nodejs]\ninterpreter = \"/nonexistent/node\"\n",
        &["provider", "test", "local"],
    );
    assert_eq!(output.status.code(), Some(125));
    assert!(
        stdout_of(&output).contains("nodejs   FAILED"),
        "{}",
        stdout_of(&output)
    );
    assert!(stderr_of(&output).contains("failed the round trip in 1 language"));
}

#[test]
fn provider_schema_is_json_in_ragflows_field_format() {
    let output = Rock::new().run(&["provider", "schema", "local"]);
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let field = &schema["max_processes"];
    assert_eq!(field["type"], "integer");
    assert_eq!(field["default"], 64);
    assert_eq!(field["required"], false);
    assert_eq!(field["secret"], false);
    assert!(field["label"].is_string() && field["description"].is_string());
    assert_eq!(
        schema["memory_enforcement"]["options"],
        serde_json::json!(["auto", "cgroup", "rlimit"])
    );
}

#[test]
fn invalid_provider_config_is_refused() {
    let rock = Rock::new();
    let output = rock.run_with_config(
        "[providers.local]\nmax_processes = 0\n",
        &["exec", "-l", "py", "-c", "1"],
    );
    assert_eq!(output.status.code(), Some(125));
    assert!(stderr_of(&output)
        .contains("providers.local.max_processes must be between 1 and 4096, got 0"));
}

#[test]
fn checked_in_completions_are_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (shell, file) in [
        ("bash", "rock.bash"),
        ("zsh", "_rock"),
        ("fish", "rock.fish"),
        ("powershell", "_rock.ps1"),
        ("elvish", "rock.elv"),
    ] {
        let output = Rock::new().run(&["completions", shell]);
        let checked_in = std::fs::read_to_string(format!("{root}/completions/{file}")).unwrap();
        assert!(
            stdout_of(&output) == checked_in,
            "completions/{file} is stale: run `cargo run -- completions {shell} > completions/{file}`"
        );
    }
}

#[test]
fn usage_errors_exit_125_and_help_exits_0() {
    let output = Rock::new().run(&["exec", "--no-such-flag"]);
    assert_eq!(output.status.code(), Some(125));
    let output = Rock::new().cmd().arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout_of(&output).contains("Run code in a sandbox"));
}

use std::os::fd::FromRawFd;

/// `rock … | head -1`: a reader that goes away ends rock quietly, as SIGPIPE ends other
/// tools (141), never with a panic.
#[test]
fn a_closed_stdout_ends_rock_quietly() {
    for args in [
        vec!["config", "show"],
        vec!["provider", "schema", "local"],
        vec!["completions", "bash"],
    ] {
        // A pipe whose reading end is closed before rock starts: every write fails.
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe { libc::close(fds[0]) };
        let write_end = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        let output = Rock::new()
            .std_cmd()
            .args(&args)
            .stdout(write_end)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(141), "{args:?}");
        assert_eq!(stderr_of(&output), "", "{args:?}");
    }
}
