//! `rock config` and how the settings it writes reach `rock exec`: a user's session.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use support::{parse_json, stderr_of, stdout_of, Rock};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Writes the default config file by hand, as a user's editor would.
fn write_config(rock: &Rock, text: &str) -> std::path::PathBuf {
    let path = rock.config_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn ok(rock: &Rock, args: &[&str]) -> String {
    let output = rock.run(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "rock {args:?}: {}",
        stderr_of(&output)
    );
    stdout_of(&output)
}

#[test]
fn set_get_unset_round_trip_every_type() {
    let rock = Rock::new();
    for (key, value, shown) in [
        ("providers.local.max_processes", "32", "32"),
        ("default.network", "true", "true"),
        (
            "languages.python.interpreter",
            "/usr/bin/python3",
            "/usr/bin/python3",
        ),
        ("default.provider", "local", "local"),
        ("runtime_envs.root", "/srv/rock-envs", "/srv/rock-envs"),
        ("default.timeout", "2.5", "2.5"),
        ("default.memory", "512m", "512MiB"),
        (
            "runtime_envs.types.ruby.executables",
            "ruby, gem",
            "[\"ruby\", \"gem\"]",
        ),
        (
            "runtime_envs.node_mirror",
            "file:///srv/node",
            "file:///srv/node",
        ),
    ] {
        let field = key.rsplit('.').next().unwrap();
        ok(&rock, &["config", "set", key, value]);
        assert_eq!(ok(&rock, &["config", "get", key]).trim(), shown, "{key}");
        assert!(read(&rock.config_path()).contains(field), "{key}");
        ok(&rock, &["config", "unset", key]);
        assert!(!read(&rock.config_path()).contains(field), "{key}");
    }
    // Every section emptied by the unsets went too.
    assert_eq!(read(&rock.config_path()), "");
}

#[test]
fn a_key_never_set_and_without_default_says_so() {
    let rock = Rock::new();
    let output = rock.run(&["config", "get", "runtime_envs.python_mirror"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout_of(&output).is_empty());
    assert!(
        stderr_of(&output).contains("runtime_envs.python_mirror is not set"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn comments_survive_three_sets() {
    let rock = Rock::new();
    let path = write_config(
        &rock,
        "# my rock settings\n[default]\n# slow machine\ntimeout = 5 # seconds\n",
    );
    ok(&rock, &["config", "set", "default.timeout", "20"]);
    ok(&rock, &["config", "set", "default.memory", "1G"]);
    ok(&rock, &["config", "set", "providers.local.cpu_time", "3"]);
    assert_eq!(
        read(&path),
        "# my rock settings\n[default]\n# slow machine\ntimeout = 20 # seconds\nmemory = \"1GiB\"\n\n[providers.local]\ncpu_time = 3\n"
    );
}

#[test]
fn the_file_is_private() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "20"]);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&rock.config_path()), 0o600);
    assert_eq!(mode(rock.config_path().parent().unwrap()), 0o700);
    // A file the user made readable by others is private again after a write.
    std::fs::set_permissions(rock.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&rock, &["config", "set", "default.timeout", "21"]);
    assert_eq!(mode(&rock.config_path()), 0o600);
}

#[test]
fn secrets_are_masked_unless_revealed() {
    let rock = Rock::new();
    let url = "https://__token__:pypi-AgEIcHlwaS5vcmc@pypi.example/simple";
    let output = rock.run(&["config", "set", "runtime_envs.pip_index_url", url]);
    assert!(
        !stderr_of(&output).contains("pypi-AgEI"),
        "{}",
        stderr_of(&output)
    );
    for args in [
        vec!["config", "show"],
        vec!["config", "show", "--json"],
        vec!["config", "get", "runtime_envs.pip_index_url"],
    ] {
        let shown = ok(&rock, &args);
        assert!(!shown.contains("pypi-AgEI"), "{args:?} leaked: {shown}");
        assert!(
            shown.contains("https://__token__:********@pypi.example/simple"),
            "{args:?}: {shown}"
        );
    }
    for args in [
        vec!["config", "show", "--reveal"],
        vec!["config", "get", "runtime_envs.pip_index_url", "--reveal"],
    ] {
        assert!(ok(&rock, &args).contains(url), "{args:?}");
    }
}

#[test]
fn refused_values_leave_the_file_byte_for_byte() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "5"]);
    let path = rock.config_path();
    let before = std::fs::read(&path).unwrap();
    for (key, value, says) in [
        ("default.timeout", "soon", "default.timeout must be a number of seconds, got `soon`"),
        ("default.network", "maybe", "default.network must be true or false, got `maybe`"),
        (
            "providers.local.max_processes",
            "100000",
            "providers.local.max_processes must be between 1 and 4096, got 100000",
        ),
        (
            "default.timout",
            "5",
            "unknown config key `default.timout` (did you mean `default.timeout`?)",
        ),
        (
            "providers.local.memory_enforcement",
            "cgrup",
            "providers.local.memory_enforcement must be one of auto, cgroup, rlimit, got `cgrup` (did you mean `cgroup`?)",
        ),
        ("default.provider", "e3b", "unknown provider `e3b`"),
        ("default.memory", "1k", "default.memory must be at least 16 MiB, got 1 KiB"),
    ] {
        let output = rock.run(&["config", "set", key, value]);
        assert_eq!(output.status.code(), Some(125), "{key} = {value}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(says), "{key} = {value}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{key} = {value}");
    }
}

#[test]
fn a_malformed_file_names_its_line_for_every_command() {
    let rock = Rock::new();
    let text = "[default]\ntimeout = 5\nmemory = \n";
    let path = write_config(&rock, text);
    for args in [
        vec!["config", "set", "default.timeout", "6"],
        vec!["config", "show"],
        vec!["config", "get", "default.timeout"],
        vec!["exec", "-l", "py", "-c", "1"],
        vec!["provider", "list"],
    ] {
        let output = rock.run(&args);
        assert_eq!(output.status.code(), Some(125), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&format!(
                "{} is not valid TOML: line 3, column",
                path.display()
            )),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(read(&path), text);
}

#[test]
fn a_crash_between_the_temporary_file_and_the_rename_keeps_the_old_file() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "5"]);
    let path = rock.config_path();
    let before = std::fs::read(&path).unwrap();
    // rock dies of SIGXFSZ while it writes the new contents to its temporary file.
    let limit = before.len() as u64 + 8;
    let mut command = rock.std_cmd();
    command.args([
        "config",
        "set",
        "languages.python.interpreter",
        "/a/long/path/to/some/python3",
    ]);
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit);
            Ok(())
        });
    }
    let status = command.status().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGXFSZ), "{status:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let temporaries = || {
        std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count()
    };
    assert_eq!(temporaries(), 1, "the dead writer's temporary file");
    // The next write works and clears what the dead one left.
    ok(&rock, &["config", "set", "default.timeout", "6"]);
    assert_eq!(temporaries(), 0);
    assert_eq!(read(&path), "[default]\ntimeout = 6\n");
}

#[test]
fn edit_keeps_a_valid_result_and_refuses_an_invalid_one() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "5"]);
    let path = rock.config_path();
    let editor = |line: &str| {
        let script = rock.file(
            "editor.sh",
            &format!("#!/bin/sh\nprintf '%s\\n' '{line}' >> \"$1\"\n"),
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    };

    let script = editor("memory = \"1G\"");
    let output = rock
        .cmd()
        .args(["config", "edit"])
        .env("EDITOR", &script)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(read(&path), "[default]\ntimeout = 5\nmemory = \"1G\"\n");

    let before = read(&path);
    let script = editor("network = \"sometimes\"");
    let output = rock
        .cmd()
        .args(["config", "edit"])
        .env("EDITOR", &script)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert!(
        stderr_of(&output).contains("default.network must be a boolean"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(read(&path), before);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn exec_with_no_flags_uses_the_configured_timeout_memory_and_provider() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "1"]);
    ok(&rock, &["config", "set", "default.memory", "64MiB"]);
    ok(&rock, &["config", "set", "default.provider", "local"]);
    let (result, code) = rock.exec_json("python", "import time\ntime.sleep(5)\n", &[]);
    assert_eq!(code, 124, "{result}");
    assert_eq!(result["metadata"]["provider"], "local");
    let (result, code) = rock.exec_json("python", "b = b'x' * (150 << 20)\n", &[]);
    assert_eq!(code, 137, "{result}");
    assert_eq!(result["status"], "resource_limit_exceeded");
    // Without the config the same allocation fits in the default 256 MiB.
    ok(&rock, &["config", "unset", "default"]);
    let (result, code) = rock.exec_json("python", "b = b'x' * (150 << 20)\n", &[]);
    assert_eq!(code, 0, "{result}");
}

#[test]
fn timeout_comes_from_the_flag_then_the_environment_then_the_file() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "1"]);
    let sleep = "import time\ntime.sleep(3)\n";
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut command = rock.cmd();
        command.args(["exec", "--json", "-l", "py", "-c", sleep]);
        if let Some(value) = flag {
            command.args(["--timeout", value]);
        }
        if let Some(value) = env {
            command.env("ROCK_TIMEOUT", value);
        }
        parse_json(&command.output().unwrap()).1
    };
    assert_eq!(run(None, None), 124, "the file's 1 s");
    assert_eq!(
        run(Some("20"), None),
        0,
        "the environment's 20 s over the file"
    );
    assert_eq!(
        run(Some("20"), Some("1")),
        124,
        "the flag's 1 s over the environment"
    );
    assert_eq!(
        run(Some(""), None),
        124,
        "an empty variable counts as unset"
    );
}

#[test]
fn provider_comes_from_the_flag_then_the_environment_then_the_file() {
    let rock = Rock::new();
    let path = write_config(&rock, "[default]\nprovider = \"nosuch\"\n");
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut command = rock.cmd();
        command.args(["exec", "-q", "-l", "py", "-c", "print('ran')"]);
        if let Some(value) = flag {
            command.args(["--provider", value]);
        }
        if let Some(value) = env {
            command.env("ROCK_PROVIDER", value);
        }
        command.output().unwrap()
    };
    let output = run(None, None);
    assert_eq!(output.status.code(), Some(125));
    assert!(
        stderr_of(&output).contains("default.provider: unknown provider `nosuch`"),
        "{}",
        stderr_of(&output)
    );
    let output = run(Some("local"), None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), "ran\n");
    let output = run(Some("local"), Some("nosuch"));
    assert_eq!(output.status.code(), Some(125));
    assert!(stderr_of(&output).contains("--provider: unknown provider `nosuch`"));
    let output = run(Some("nosuch"), Some("local"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    // With nothing set at all, the default is local.
    std::fs::remove_file(&path).unwrap();
    let (result, _) = rock.exec_json("python", "1", &[]);
    assert_eq!(result["metadata"]["provider"], "local");
}

#[test]
fn provider_test_uses_the_configured_default() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.provider", "local"]);
    let stdout = ok(&rock, &["provider", "test"]);
    assert!(stdout.starts_with("local: healthy"), "{stdout}");
}

#[test]
fn unknown_keys_in_the_file_are_named_and_ignored() {
    let rock = Rock::new();
    let output = rock.run_with_config(
        "[default]\ntimout = 1\n",
        &["exec", "-q", "-l", "py", "-c", "print('ran')"],
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_of(&output), "ran\n");
    assert!(
        stderr_of(&output).contains(
            "warning: unknown config key `default.timout` (did you mean `default.timeout`?)"
        ),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn show_says_where_each_value_comes_from() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.timeout", "30"]);
    let output = rock
        .cmd()
        .args(["config", "show", "--json"])
        .env("ROCK_MEMORY", "1G")
        .output()
        .unwrap();
    let (shown, code) = parse_json(&output);
    assert_eq!(code, 0);
    let find = |key: &str| {
        shown["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["key"] == key)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("default.timeout")["value"], 30);
    assert_eq!(find("default.timeout")["source"], "config file");
    assert_eq!(find("default.memory")["value"], "1GiB");
    assert_eq!(find("default.memory")["source"], "env ROCK_MEMORY");
    assert_eq!(find("default.output_cap")["source"], "default");
    assert_eq!(shown["path"], rock.config_path().display().to_string());
    let text = ok(&rock, &["config", "show"]);
    assert!(text.contains("timeout = 30"), "{text}");
    assert_eq!(
        ok(&rock, &["config", "path"]).trim(),
        rock.config_path().display().to_string()
    );
}

#[test]
fn docs_configuration_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md");
    let generated = rock::config::docs::markdown();
    if std::env::var_os("ROCK_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert!(
        read(&path) == generated,
        "docs/configuration.md is stale: run `ROCK_UPDATE_DOCS=1 cargo test --test config docs`"
    );
}

#[test]
fn a_malformed_file_can_be_fixed_with_edit() {
    let rock = Rock::new();
    let path = write_config(&rock, "[default]\ntimeout = = 5\n");
    assert_eq!(
        ok(&rock, &["config", "path"]).trim(),
        path.display().to_string()
    );
    let script = rock.file(
        "fix.sh",
        "#!/bin/sh\nprintf '[default]\\ntimeout = 5\\n' > \"$1\"\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = rock
        .cmd()
        .args(["config", "edit"])
        .env("VISUAL", &script)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(ok(&rock, &["config", "get", "default.timeout"]).trim(), "5");
}

#[test]
fn set_creates_the_file_a_config_flag_names() {
    let rock = Rock::new();
    let path = rock.dir().join("elsewhere").join("rock.toml");
    let flag = path.to_str().unwrap();
    ok(
        &rock,
        &["--config", flag, "config", "set", "default.timeout", "7"],
    );
    assert_eq!(read(&path), "[default]\ntimeout = 7\n");
    // Other commands still insist that a file named by --config exists.
    let output = rock.run(&[
        "--config",
        "/nonexistent/rock.toml",
        "exec",
        "-l",
        "py",
        "-c",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(125));
    assert!(stderr_of(&output).contains("cannot read config file /nonexistent/rock.toml"));
}

#[test]
fn network_comes_from_the_flag_then_the_environment_then_the_file() {
    let rock = Rock::new();
    ok(&rock, &["config", "set", "default.network", "true"]);
    let code = "import socket\nprint(sorted(name for _, name in socket.if_nameindex()))\n";
    let host = std::process::Command::new("python3")
        .args(["-c", code])
        .output()
        .unwrap();
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut command = rock.cmd();
        command.args(["exec", "-q", "-l", "py", "-c", code]);
        command.args(flag);
        if let Some(value) = env {
            command.env("ROCK_NETWORK", value);
        }
        stdout_of(&command.output().unwrap())
    };
    // The file's `true` shares the host's interfaces; the variable and the flag take them away.
    assert_eq!(run(None, None), stdout_of(&host));
    assert_eq!(run(Some("false"), None), "['lo']\n");
    assert_eq!(run(Some("true"), Some("--no-network")), "['lo']\n");
    assert_eq!(run(Some("false"), Some("--network")), stdout_of(&host));
}
