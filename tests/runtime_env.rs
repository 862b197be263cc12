//! `rock env`: runtime envs installed from local mirrors (file:// and a 127.0.0.1 server)
//! holding real, runnable archives laid out like the upstream ones (`scripts/fixtures`
//! builds them: a relocated CPython 3.11 with pip, and the real Node.js 22.18.0).

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use support::http::FileServer;
use support::{file_url, fixtures, stderr_of, stdout_of, Rock};

const PY_ARCHIVE: &str =
    "20251120/cpython-3.11.14+20251120-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz";

fn wheel() -> PathBuf {
    fixtures().join("wheels/hello_rock-1.0-py3-none-any.whl")
}

/// Rock with both mirrors set to the fixtures, through the environment.
fn rock_with_mirrors() -> Rock {
    let _ = fixtures();
    Rock::new()
}

fn env_cmd(rock: &Rock, args: &[&str]) -> Output {
    rock.cmd_with_mirrors().args(args).output().unwrap()
}

fn ok(output: Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout_of(&output),
        stderr_of(&output)
    );
    stdout_of(&output)
}

/// Creates an env and returns its id.
fn create(rock: &Rock, args: &[&str]) -> String {
    let mut full = vec!["env", "create"];
    full.extend_from_slice(args);
    let stdout = ok(env_cmd(rock, &full));
    let id = stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        id.len() == 8 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "an 8-character id: {stdout:?}"
    );
    id
}

fn envs_root(rock: &Rock) -> PathBuf {
    rock.dir().join("data/rock/runtime-envs")
}

/// The envs' work dirs that exist (the store and other dot-dirs aside).
fn work_dirs(rock: &Rock) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for level1 in read_dirs(&envs_root(rock)) {
        for level2 in read_dirs(&level1) {
            dirs.extend(read_dirs(&level2));
        }
    }
    dirs
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_nothing_left(rock: &Rock) {
    assert_eq!(
        work_dirs(rock),
        Vec::<PathBuf>::new(),
        "a half-made env is left"
    );
    let listed = ok(env_cmd(rock, &["env", "list", "--json"]));
    assert_eq!(listed.trim(), "[]");
}

#[test]
fn a_python_env_runs_its_own_interpreter() {
    let rock = rock_with_mirrors();
    let id = create(&rock, &["python", "--name", "web"]);
    let expected_prefix = envs_root(&rock).join(format!("python/3.11.14/{id}/runtime-env"));
    for env in [id.as_str(), "web", &id[..4]] {
        let prefix = ok(env_cmd(
            &rock,
            &[
                "env",
                "run",
                env,
                "--",
                "python",
                "-c",
                "import sys; print(sys.prefix)",
            ],
        ));
        assert_eq!(prefix.trim(), expected_prefix.display().to_string());
    }
    let version = ok(env_cmd(
        &rock,
        &["env", "run", "web", "--", "python", "--version"],
    ));
    assert!(version.starts_with("Python 3.11."), "{version}");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(env_cmd(&rock, &["env", "show", "web", "--json"]))).unwrap();
    assert_eq!(shown["type"], "python");
    assert_eq!(shown["version"], "3.11.14");
    assert_eq!(shown["status"], "ready");
    assert_eq!(shown["config"]["install_timeout"], 600.0);
    assert!(shown["created"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn the_real_node_22_18_0_is_installed_and_runs() {
    let rock = rock_with_mirrors();
    let id = create(&rock, &["node"]);
    assert_eq!(
        ok(env_cmd(
            &rock,
            &["env", "run", &id, "--", "node", "--version"]
        ))
        .trim(),
        "v22.18.0"
    );
    let npm = ok(env_cmd(
        &rock,
        &["env", "run", &id, "--", "npm", "--version"],
    ));
    assert!(npm.trim().starts_with("10."), "{npm}");
}

#[test]
fn a_second_create_downloads_nothing_and_shares_the_store() {
    let rock = rock_with_mirrors();
    let server = FileServer::start(fixtures().join("python-mirror"));
    let create_via_server = |extra: &[&str]| {
        let mut args = vec!["env", "create", "python"];
        args.extend_from_slice(extra);
        let output = rock
            .cmd()
            .env("ROCK_PYTHON_MIRROR", &server.base)
            .args(&args)
            .output()
            .unwrap();
        ok(output).split_whitespace().next().unwrap().to_string()
    };
    let first = create_via_server(&[]);
    let asked = server.requests();
    assert_eq!(
        asked,
        vec!["/20251120/SHA256SUMS".to_string(), format!("/{PY_ARCHIVE}")]
    );
    let wheel = wheel();
    let second = create_via_server(&["--pip", wheel.to_str().unwrap()]);
    assert_eq!(
        server.requests(),
        asked,
        "the second create asked the mirror again"
    );

    // Both envs' interpreters are one file in the store.
    let python = |id: &str| {
        std::fs::metadata(
            envs_root(&rock).join(format!("python/3.11.14/{id}/runtime-env/bin/python3.11")),
        )
        .unwrap()
    };
    assert_eq!(python(&first).ino(), python(&second).ino());
    assert_eq!(
        python(&first).mode() & 0o222,
        0,
        "store files are read-only"
    );
    // One env's pip install is not the other's.
    let import = |id: &str| {
        rock.cmd()
            .args(["env", "run", id, "--", "python", "-c", "import hello_rock"])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(import(&second), Some(0));
    assert_eq!(import(&first), Some(1));
}

#[test]
fn a_corrupted_archive_is_refused_and_leaves_nothing() {
    let rock = rock_with_mirrors();
    let mirror = rock.dir().join("bad-mirror");
    std::fs::create_dir_all(mirror.join("20251120")).unwrap();
    std::fs::copy(
        fixtures().join("python-mirror/20251120/SHA256SUMS"),
        mirror.join("20251120/SHA256SUMS"),
    )
    .unwrap();
    let mut archive = std::fs::read(fixtures().join("python-mirror").join(PY_ARCHIVE)).unwrap();
    let middle = archive.len() / 2;
    archive[middle] ^= 0xff;
    std::fs::write(mirror.join(PY_ARCHIVE), archive).unwrap();

    let output = rock
        .cmd()
        .env("ROCK_PYTHON_MIRROR", file_url(&mirror))
        .args(["env", "create", "python"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("is corrupted: its SHA-256 is"), "{stderr}");
    assert!(stderr.contains("SHA256SUMS says"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_nothing_left(&rock);
    let blobs = read_dirs(&rock.dir().join("cache/rock/downloads"));
    for dir in blobs {
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            0,
            "a corrupted download was cached"
        );
    }
}

#[test]
fn the_install_command_variable_is_honoured_and_its_failure_reported() {
    let rock = rock_with_mirrors();
    let install = "mkdir -p runtime-env/bin && printf '#!/bin/sh\\necho overridden \"$@\"\\n' > runtime-env/bin/python3 && chmod +x runtime-env/bin/python3";
    let output = rock
        .cmd()
        .env("ROCK_RTENV_PYTHON_V31114_INSTALL_CMD", install)
        .args(["env", "create", "python", "--name", "over"])
        .output()
        .unwrap();
    ok(output);
    assert_eq!(
        ok(env_cmd(
            &rock,
            &["env", "run", "over", "--", "python3", "x"]
        ))
        .trim(),
        "overridden x"
    );
    let shown = ok(env_cmd(&rock, &["env", "show", "over"]));
    assert!(
        shown.contains("$ROCK_RTENV_PYTHON_V31114_INSTALL_CMD"),
        "{shown}"
    );
    ok(env_cmd(&rock, &["env", "rm", "over"]));

    let output = rock
        .cmd()
        .env(
            "ROCK_RTENV_PYTHON_V31114_INSTALL_CMD",
            "echo fetching the runtime; echo 'tar: broken archive' >&2; exit 7",
        )
        .args(["env", "create", "python"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(
            "the install command in $ROCK_RTENV_PYTHON_V31114_INSTALL_CMD failed with exit code 7"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("fetching the runtime") && stderr.contains("tar: broken archive"));
    assert_nothing_left(&rock);
}

#[test]
fn pip_packages_are_visible_inside_rock_exec() {
    let rock = rock_with_mirrors();
    let wheel = wheel();
    // A local wheel by path, and a requirements file that finds it through --find-links.
    let requirements = rock.file(
        "requirements.txt",
        &format!(
            "--no-index\n--find-links {}\nhello-rock==1.0\n",
            wheel.parent().unwrap().display()
        ),
    );
    for (name, args) in [
        ("by-path", vec!["--pip", wheel.to_str().unwrap()]),
        (
            "by-requirements",
            vec!["--requirements", requirements.to_str().unwrap()],
        ),
    ] {
        let mut full = vec!["python", "--name", name];
        full.extend(args);
        create(&rock, &full);
        let output = rock
            .cmd()
            .args(["exec", "-q", "--env", name, "-l", "py", "-c"])
            .arg("import hello_rock, sys\nprint(hello_rock.GREETING, sys.prefix.endswith('runtime-env'))")
            .output()
            .unwrap();
        assert_eq!(ok(output), "hello from a wheel True\n", "{name}");
    }
    // A path relative to where rock runs, as pip would take it there.
    let output = rock
        .cmd_with_mirrors()
        .current_dir(fixtures())
        .args(["env", "create", "python", "--name", "relative", "--pip"])
        .arg("wheels/hello_rock-1.0-py3-none-any.whl")
        .output()
        .unwrap();
    ok(output);
    let output = rock
        .cmd()
        .args(["exec", "-q", "--env", "relative", "-l", "py", "-c"])
        .arg("import hello_rock\nprint(hello_rock.GREETING)")
        .output()
        .unwrap();
    assert_eq!(ok(output), "hello from a wheel\n");
    // A provider that runs its sandboxes' own interpreters can't take it.
    let output = rock
        .cmd()
        .args([
            "exec",
            "--provider",
            "e2b",
            "--env",
            "relative",
            "-l",
            "py",
            "-c",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert!(
        stderr_of(&output).starts_with(
            "error: --env runs a runtime env of this machine, which provider e2b can't use"
        ),
        "{}",
        stderr_of(&output)
    );
    // The host's interpreter doesn't have it: the sandbox really used the env's.
    let output = rock
        .cmd()
        .args(["exec", "-q", "-l", "py", "-c", "import hello_rock"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_failing_pip_install_fails_the_create_with_pips_output() {
    let rock = rock_with_mirrors();
    let output = env_cmd(
        &rock,
        &[
            "env",
            "create",
            "python",
            "--pip",
            "no-such-package-rock",
            "--env",
            "PIP_NO_INDEX=1",
        ],
    );
    assert_eq!(output.status.code(), Some(125));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("pip install failed with exit code 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("No matching distribution found"),
        "{stderr}"
    );
    assert_nothing_left(&rock);
}

#[test]
fn symlinks_point_at_the_envs_executables_and_go_with_it() {
    let rock = rock_with_mirrors();
    let links = rock.dir().join("bin");
    std::fs::create_dir_all(&links).unwrap();
    let id = create(&rock, &["python", "--symlink-dir", links.to_str().unwrap()]);
    let bin = envs_root(&rock).join(format!("python/3.11.14/{id}/runtime-env/bin"));
    for exe in ["python", "python3", "pip", "pip3"] {
        assert_eq!(
            std::fs::read_link(links.join(exe)).unwrap(),
            bin.join(exe),
            "{exe}"
        );
    }
    let version = std::process::Command::new(links.join("python3"))
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&version).trim(),
        bin.parent().unwrap().display().to_string()
    );

    ok(env_cmd(&rock, &["env", "rm", &id]));
    assert_eq!(
        std::fs::read_dir(&links).unwrap().count(),
        0,
        "links left behind"
    );
    assert_nothing_left(&rock);
    assert!(
        !envs_root(&rock).join("python").exists(),
        "empty type and version dirs left behind"
    );
}

#[test]
fn run_passes_output_and_exit_code_through_and_wrap_prints_rocks_format() {
    let rock = rock_with_mirrors();
    let id = create(&rock, &["python", "--env", "GREETING=hi there"]);
    let output = env_cmd(
        &rock,
        &[
            "env",
            "run",
            &id,
            "--",
            "sh",
            "-c",
            "echo \"$GREETING\"; echo err >&2; exit 3",
        ],
    );
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(stdout_of(&output), "hi there\n");
    assert_eq!(stderr_of(&output), "err\n");
    let bin = envs_root(&rock).join(format!("python/3.11.14/{id}/runtime-env/bin"));
    let wrapped = ok(env_cmd(
        &rock,
        &[
            "env",
            "wrap",
            &id,
            "--",
            "python",
            "-c",
            "import sys; print(sys.prefix, 'x')",
        ],
    ));
    assert!(
        wrapped.starts_with(&format!(
            "bash -c 'export PATH={}:$PATH && python -c ",
            bin.display()
        )),
        "{wrapped}"
    );
    // The printed command, given to a shell, runs the env's python with the words intact.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(wrapped.trim_end())
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&output),
        format!("{} x\n", bin.parent().unwrap().display())
    );
}

#[test]
fn a_custom_type_from_the_config_works_like_a_built_in_one() {
    let rock = rock_with_mirrors();
    let config = "[runtime_envs.types.greeter]\ninstall_cmd = \"mkdir -p runtime-env/bin && printf '#!/bin/sh\\\\necho hello from greeter\\\\n' > runtime-env/bin/greet && chmod +x runtime-env/bin/greet\"\nexecutables = [\"greet\"]\nversions = [\"1.0\"]\n";
    let path = rock.config_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, config).unwrap();
    let links = rock.dir().join("links");
    std::fs::create_dir_all(&links).unwrap();
    let id = create(
        &rock,
        &["greeter", "--symlink-dir", links.to_str().unwrap()],
    );
    assert_eq!(
        ok(env_cmd(&rock, &["env", "run", &id, "--", "greet"])),
        "hello from greeter\n"
    );
    assert!(links.join("greet").exists());
    let output = env_cmd(&rock, &["env", "create", "greeter", "--version", "2.0"]);
    assert_eq!(output.status.code(), Some(125));
    assert!(stderr_of(&output)
        .contains("Unsupported greeter version: 2.0. Supported versions: 1.0, default"));
    // ROCK's override variable applies to custom types too.
    let output = rock
        .cmd()
        .env("ROCK_RTENV_GREETER_V10_INSTALL_CMD", "exit 4")
        .args(["env", "create", "greeter"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&output).contains("$ROCK_RTENV_GREETER_V10_INSTALL_CMD failed with exit code 4")
    );
}

#[test]
fn package_indexes_are_set_for_the_env_alone() {
    let rock = rock_with_mirrors();
    let py = create(
        &rock,
        &["python", "--pip-index-url", "http://127.0.0.1:9/simple"],
    );
    // HOME is the test's own, so that the user config pip and npm would write is visible.
    let run = |args: &[&str]| {
        ok(rock
            .cmd()
            .env("HOME", rock.dir())
            .args(args)
            .output()
            .unwrap())
    };
    let config = run(&[
        "env", "run", &py, "--", "python", "-m", "pip", "config", "list",
    ]);
    assert!(
        config.contains("global.index-url='http://127.0.0.1:9/simple'"),
        "{config}"
    );
    let node = create(
        &rock,
        &["node", "--npm-registry", "http://127.0.0.1:9/npm/"],
    );
    let registry = run(&[
        "env", "run", &node, "--", "npm", "config", "get", "registry",
    ]);
    assert_eq!(registry.trim(), "http://127.0.0.1:9/npm/");
    // Nothing was written to the user's own pip or npm config.
    for user_file in [".config/pip/pip.conf", ".pip/pip.conf", ".npmrc"] {
        assert!(!rock.dir().join(user_file).exists(), "{user_file}");
    }
}

#[test]
fn bad_inputs_fail_with_one_sentence_and_leave_nothing() {
    let rock = rock_with_mirrors();
    for (args, says) in [
        (vec!["ruby"], "unknown runtime type `ruby`"),
        (
            vec!["python", "--version", "3.9"],
            "Unsupported Python version: 3.9. Supported versions: 3.11, 3.12, default",
        ),
        (
            vec!["node", "--version", "20.10.0"],
            "Unsupported Node version: 20.10.0. Only 22.18.0 is supported right now.",
        ),
        (
            vec!["python", "--requirements", "/nonexistent/requirements.txt"],
            "Requirements file not found: /nonexistent/requirements.txt",
        ),
        (
            vec!["python", "--symlink-dir", "/nonexistent/bin"],
            "cannot make symlinks in /nonexistent/bin: it is not a directory",
        ),
        (
            vec!["node", "--pip", "numpy"],
            "are for python envs, not node",
        ),
        (
            vec!["python", "--env", "NOEQUALS"],
            "--env `NOEQUALS` must be KEY=VALUE",
        ),
    ] {
        let mut full = vec!["env", "create"];
        full.extend(args.iter().copied());
        let output = env_cmd(&rock, &full);
        assert_eq!(output.status.code(), Some(125), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
    }
    assert_nothing_left(&rock);
    let output = env_cmd(&rock, &["env", "run", "nope", "--", "true"]);
    assert_eq!(output.status.code(), Some(125));
    assert!(stderr_of(&output).contains("no runtime env `nope`"));
}

/// A create whose install step sleeps until it is stopped, once that step runs; the
/// marker is in the step's command line.
fn start_endless_create(rock: &Rock) -> (std::process::Child, String) {
    let marker = support::unique_marker();
    let child = rock
        .std_cmd()
        .env(
            "ROCK_RTENV_PYTHON_V31114_INSTALL_CMD",
            format!("mkdir -p runtime-env; sleep {marker}"),
        )
        .args(["env", "create", "python"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while support::processes_with(&marker).is_empty() {
        assert!(
            started.elapsed().as_secs() < 20,
            "the install never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, marker)
}

/// A symlink dir the user can't write to: as root, a root-owned dir seen by uid 65534.
#[test]
fn an_unwritable_symlink_dir_is_refused_before_anything_is_made() {
    let rock = rock_with_mirrors();
    let links = rock.dir().join("locked");
    std::fs::create_dir_all(&links).unwrap();
    std::fs::set_permissions(&links, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let output = if root {
        // uid 65534 needs its own home; the locked dir stays root's.
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(rock.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let rock_bin = home.path().join("rock");
        std::fs::copy(assert_cmd::cargo::cargo_bin("rock"), &rock_bin).unwrap();
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&rock_bin)
            .args(["env", "create", "python", "--symlink-dir"])
            .arg(&links)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env(
                "ROCK_PYTHON_MIRROR",
                file_url(&fixtures().join("python-mirror")),
            )
            .output()
            .unwrap()
    } else {
        env_cmd(
            &rock,
            &[
                "env",
                "create",
                "python",
                "--symlink-dir",
                links.to_str().unwrap(),
            ],
        )
    };
    assert_eq!(output.status.code(), Some(125), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!(
            "cannot make symlinks in {}: permission denied",
            links.display()
        )),
        "{}",
        stderr_of(&output)
    );
    assert_nothing_left(&rock);
}

#[test]
fn an_install_past_its_timeout_or_interrupted_leaves_nothing() {
    let rock = rock_with_mirrors();
    let output = rock
        .cmd()
        .env(
            "ROCK_RTENV_PYTHON_V31114_INSTALL_CMD",
            "mkdir -p runtime-env; sleep 30",
        )
        .args(["env", "create", "python", "--install-timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert!(
        stderr_of(&output).contains("did not finish within its install_timeout of 1 s"),
        "{}",
        stderr_of(&output)
    );
    assert_nothing_left(&rock);

    let (mut child, marker) = start_endless_create(&rock);
    assert_eq!(work_dirs(&rock).len(), 1, "the env is being made");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_nothing_left(&rock);
    assert!(
        support::processes_with(&marker).is_empty(),
        "the install step survived"
    );
}

/// A rock killed outright can't clean up: its env stays marked `installing`, out of every
/// listing, and the next `rock env` command removes it.
#[test]
fn an_install_whose_rock_was_killed_is_swept_by_the_next_command() {
    let rock = rock_with_mirrors();
    let (mut child, marker) = start_endless_create(&rock);
    child.kill().unwrap();
    child.wait().unwrap();
    // The step's own process group outlived rock; end it as a user would.
    let _ = std::process::Command::new("pkill")
        .args(["-f", &marker])
        .status();
    assert_eq!(
        work_dirs(&rock).len(),
        1,
        "the killed create's work dir is there"
    );
    let listed = ok(env_cmd(&rock, &["env", "list", "--json"]));
    assert_eq!(listed.trim(), "[]", "a half-made env is listed");
    assert_eq!(
        work_dirs(&rock),
        Vec::<PathBuf>::new(),
        "the listing swept it"
    );
}
