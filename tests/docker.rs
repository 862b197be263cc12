//! The docker provider through a real Docker Engine API: Podman's compatible service, under
//! runc and under runsc (gVisor), with an image of this machine's python3.11 and node
//! (tests/support/podman.rs). Every test ends with no container of rock's left.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::podman::{self, Engine};
use support::serve::Server;
use support::{stderr_of, stdout_of, Rock};

const RUNTIMES: [&str; 2] = ["runc", "runsc"];

fn exec(rock: &Rock, engine: &Engine, args: &[&str]) -> std::process::Output {
    let mut all = vec!["exec", "--provider", "docker"];
    all.extend_from_slice(args);
    rock.run_with_config(&engine.config(), &all)
}

fn exec_json(rock: &Rock, engine: &Engine, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = exec(rock, engine, &all);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}: no JSON result: {}", engine.runtime, stderr_of(&out)))
}

fn assert_none_left(engine: &Engine) {
    assert_eq!(
        engine.rock_containers(),
        Vec::<String>::new(),
        "{}: containers left",
        engine.runtime
    );
}

#[test]
fn hello_main_with_arguments_in_both_languages_under_each_runtime() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let root = env!("CARGO_MANIFEST_DIR");
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        for example in ["hello.py", "hello.js"] {
            let out = exec(
                &rock,
                engine,
                &[
                    "-q",
                    "--args",
                    "name=World",
                    &format!("{root}/examples/{example}"),
                ],
            );
            assert_eq!(
                stdout_of(&out),
                "{\"message\":\"Hello World!\"}\n",
                "{runtime} {example}: {}",
                stderr_of(&out)
            );
            assert_eq!(out.status.code(), Some(0));
        }
        assert_none_left(engine);
    }
}

#[test]
fn runsc_runs_the_code_under_gvisors_kernel() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let code = "import platform\nprint(platform.release())\n";
    let gvisor = exec(
        &rock,
        podman::engine("runsc"),
        &["-q", "--lang", "python", "-c", code],
    );
    // gVisor reports its own kernel version, not the host's.
    assert_eq!(stdout_of(&gvisor), "4.4.0\n", "{}", stderr_of(&gvisor));
    let runc = exec(
        &rock,
        podman::engine("runc"),
        &["-q", "--lang", "python", "-c", code],
    );
    assert_ne!(stdout_of(&runc), "4.4.0\n");
    assert_none_left(podman::engine("runsc"));
}

#[test]
fn the_walls_of_a_container() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let code = r#"
import os, socket
print("uid", os.getuid())
try:
    open("/scratch/x", "w")
    print("root writable")
except OSError as e:
    print("root read-only", e.errno == 30)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    print("network open")
except OSError:
    print("network blocked")
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
# gVisor's /proc has no NoNewPrivs line.
print(status["CapEff"].strip(), status.get("NoNewPrivs", "1").strip())
open("scratch", "w").write("ok")
open("/tmp/scratch", "w").write("ok")
print("cwd and /tmp writable")
try:
    with open("/tmp/big", "wb") as f:
        for i in range(80):
            f.write(b"x" * (1 << 20))
    print("tmpfs unbounded")
except OSError as e:
    print("tmpfs full", e.errno == 28)
"#;
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        let out = exec(&rock, engine, &["-q", "--lang", "python", "-c", code]);
        assert_eq!(
            stdout_of(&out),
            "uid 1000\nroot read-only True\nnetwork blocked\n0000000000000000 1\ncwd and /tmp writable\n\
             tmpfs full True\n",
            "{runtime}: {}",
            stderr_of(&out)
        );
        assert_none_left(engine);
    }
}

#[test]
fn timeout_memory_and_the_output_cap_end_runs_as_locally() {
    let _serial = podman::serial();
    let rock = Rock::new();
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        let result = exec_json(
            &rock,
            engine,
            &[
                "--timeout",
                "1",
                "--lang",
                "python",
                "-c",
                "import time\nprint('up', flush=True)\ntime.sleep(30)\n",
            ],
        );
        assert_eq!(result["exit_code"], 124, "{runtime}: {result}");
        assert_eq!(result["metadata"]["limit_hit"], "time");
        assert_eq!(result["stdout"], "up\n");
        assert_none_left(engine);

        let result = exec_json(
            &rock,
            engine,
            &[
                "--memory",
                "128MiB",
                "--lang",
                "python",
                "-c",
                "x = bytearray(600 * 1024 * 1024)\nprint(len(x))\n",
            ],
        );
        assert_eq!(result["exit_code"], 137, "{runtime}: {result}");
        assert_eq!(result["status"], "resource_limit_exceeded");
        assert_eq!(result["metadata"]["limit_hit"], "memory");

        let result = exec_json(
            &rock,
            engine,
            &[
                "--output-cap",
                "64KiB",
                "--lang",
                "js",
                "-c",
                "process.stdout.write('y'.repeat(2000000))",
            ],
        );
        assert_eq!(
            result["stdout"].as_str().unwrap().len(),
            64 * 1024,
            "{runtime}"
        );
        assert_eq!(result["truncated"]["stdout"], true);
        assert_eq!(result["status"], "success");
        assert_none_left(engine);
    }
}

#[test]
fn ctrl_c_removes_the_container() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let engine = podman::engine("runc");
    let config = rock.file("docker.toml", &engine.config());
    let mut child = rock
        .std_cmd()
        .arg("--config")
        .arg(&config)
        .args([
            "exec",
            "-q",
            "--provider",
            "docker",
            "--timeout",
            "30",
            "--lang",
            "python",
            "-c",
            "import time\ntime.sleep(30)\n",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while engine.rock_containers().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_none_left(engine);
}

#[test]
fn engine_problems_are_one_sentence_each() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let engine = podman::engine("runc");
    let config = |extra: &str| {
        format!(
            "{}{extra}",
            engine.config().replace("runtime = \"runc\"\n", "")
        )
    };
    let cases: [(String, &str); 4] = [
        (
            "[providers.docker]\nhost = \"unix:///nonexistent/docker.sock\"\n".to_string(),
            "cannot reach the container engine at unix:///nonexistent/docker.sock",
        ),
        (
            config("").replace(podman::IMAGE, "localhost/no-such-image:1"),
            "image localhost/no-such-image:1 is not on the engine",
        ),
        (config("runtime = \"kata-nope\"\n"), "has no runtime `kata-nope`: register it"),
        (
            config("runtime = \"runsc\"\n"),
            "runs every container of its Docker-compatible API under its default runtime (runc), not runsc",
        ),
    ];
    for (config, sentence) in cases {
        let out = rock.run_with_config(
            &config,
            &[
                "exec",
                "--provider",
                "docker",
                "--lang",
                "python",
                "-c",
                "print(1)",
            ],
        );
        assert_eq!(out.status.code(), Some(125), "{sentence}");
        let err = stderr_of(&out);
        assert!(err.contains(sentence), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_none_left(engine);
}

#[test]
fn a_socket_rock_may_not_use_says_permission_denied() {
    let _serial = podman::serial();
    let engine = podman::engine("runc");
    // As nobody, the root-owned socket refuses the connection.
    let rock = Rock::new();
    let config = rock.file("docker.toml", &engine.config());
    std::fs::set_permissions(
        config.parent().unwrap(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("rock"))
        .arg("--config")
        .arg(&config)
        .args(["provider", "test", "docker"])
        .env("HOME", "/tmp")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(
        text.contains("permission denied on the engine's socket"),
        "{text}"
    );
}

#[test]
fn provider_test_reports_the_engine_and_the_runtime() {
    let _serial = podman::serial();
    let rock = Rock::new();
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        let out = rock.run_with_config(&engine.config(), &["provider", "test", "docker"]);
        let text = stdout_of(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr_of(&out));
        assert!(text.contains("Podman Engine 4"), "{text}");
        assert!(text.contains("(API 1.41)"), "{text}");
        assert!(text.contains(&format!("runtime {runtime}")), "{text}");
        assert_eq!(text.matches("ms round trip").count(), 2, "{text}");
        assert_none_left(engine);
    }
}

#[test]
fn a_fork_bomb_is_contained_under_each_runtime() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let code = "import os, time\nn = 0\ntry:\n    for i in range(400):\n        if os.fork() == 0:\n            time.sleep(3)\n            os._exit(0)\n        n += 1\nexcept OSError:\n    print('stopped at', n)\n";
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        let result = exec_json(
            &rock,
            engine,
            &["--timeout", "10", "--lang", "python", "-c", code],
        );
        match runtime {
            // The pids limit (64) stops it.
            "runc" => {
                let said = result["stdout"].as_str().unwrap_or("");
                let n: u32 = said
                    .trim()
                    .trim_start_matches("stopped at ")
                    .parse()
                    .unwrap_or(999);
                assert!(n < 64, "{runtime}: {result}");
            }
            // gVisor's processes are not the host's: its memory and time limits end it.
            _ => assert!(
                result["exit_code"] != 0
                    || result["stdout"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("stopped at"),
                "{result}"
            ),
        }
        assert_none_left(engine);
    }
}

#[test]
fn the_cpu_quota_is_the_containers() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let engine = podman::engine("runc");
    // cgroup v1 as runc shows it inside the container: 50 % of a core.
    let code = "import glob\nfor path in glob.glob('/sys/fs/cgroup/cpu*/cpu.cfs_quota_us'):\n    print(open(path).read().strip(), open(path.replace('quota', 'period')).read().strip())\n    break\n";
    let config = format!("{}cpu_percent = 50\n", engine.config());
    let out = rock.run_with_config(
        &config,
        &[
            "exec",
            "-q",
            "--provider",
            "docker",
            "--lang",
            "python",
            "-c",
            code,
        ],
    );
    assert_eq!(stdout_of(&out), "50000 100000\n", "{}", stderr_of(&out));
    assert_none_left(engine);
}

/// Creates a runtime env from the fixtures' mirrors and returns its `runtime-env/` dir.
fn create_env(rock: &Rock, args: &[&str]) -> std::path::PathBuf {
    let mut full = vec!["env", "create"];
    full.extend_from_slice(args);
    let out = rock.cmd_with_mirrors().args(&full).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let name = args[args.iter().position(|a| *a == "--name").unwrap() + 1];
    let shown = rock.run(&["env", "show", name, "--json"]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    std::path::Path::new(shown["work_dir"].as_str().expect("env show's work_dir"))
        .join("runtime-env")
}

#[test]
fn a_runtime_env_is_all_a_bare_image_needs() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let wheel = support::fixtures().join("wheels/hello_rock-1.0-py3-none-any.whl");
    let python_env = create_env(
        &rock,
        &["python", "--name", "py", "--pip", wheel.to_str().unwrap()],
    );
    create_env(&rock, &["node", "--name", "nd"]);
    let python = r#"
import hello_rock, os, shutil, sys
print(hello_rock.GREETING)
print(sys.prefix)
print(shutil.which("pip") == os.path.join(sys.prefix, "bin", "pip"))
try:
    open(os.path.join(sys.prefix, "planted"), "w")
    print("env writable")
except OSError as e:
    # runc checks the read-only mount first (EROFS), gVisor the permissions (EACCES).
    print("env read-only", e.errno in (13, 30))
"#;
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        let config = engine.config_with_image(podman::BARE_IMAGE);
        let run = |args: &[&str]| {
            let mut all = vec!["exec", "-q", "--provider", "docker"];
            all.extend_from_slice(args);
            rock.run_with_config(&config, &all)
        };
        // The image has no interpreter of its own.
        let out = run(&["--lang", "python", "-c", "print(1)"]);
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(127), "{runtime}: {stderr}");
        assert!(
            stderr.contains(&format!("image {} has no `python3`", podman::BARE_IMAGE))
                && stderr.trim().lines().count() == 1,
            "{runtime}: {stderr}"
        );

        let out = run(&["--env", "py", "--lang", "python", "-c", python]);
        assert_eq!(
            stdout_of(&out),
            format!(
                "hello from a wheel\n{}\nTrue\nenv read-only True\n",
                python_env.display()
            ),
            "{runtime}: {}",
            stderr_of(&out)
        );
        let out = run(&[
            "--env",
            "nd",
            "--lang",
            "js",
            "-c",
            "console.log(process.version)",
        ]);
        assert_eq!(
            stdout_of(&out),
            "v22.18.0\n",
            "{runtime}: {}",
            stderr_of(&out)
        );
        assert_none_left(engine);
    }
}

/// The containers of `purpose` (`pool` or `run`) the engine has in `state`.
fn containers(engine: &Engine, purpose: &str, state: &str) -> usize {
    let out = podman::podman(engine)
        .args(["ps", "--all", "--filter"])
        .arg(format!("label=rock={purpose}"))
        .args([
            "--filter",
            &format!("status={state}"),
            "--format",
            "{{.ID}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn serve_runs_each_request_in_a_pooled_container_under_each_runtime() {
    let _serial = podman::serial();
    let rock = Rock::new();
    for runtime in RUNTIMES {
        let engine = podman::engine(runtime);
        let config = rock.file("docker.toml", &engine.config());
        let mut command = rock.std_cmd();
        command.arg("--config").arg(&config);
        let server = Server::start_with(command, &["--sandbox", "docker", "--pool", "1"]);
        // One created, not started, container per language.
        let ready = || {
            let (_, metrics) = server.raw("GET", "/metrics", "", &[]);
            ["python", "nodejs"].iter().all(|language| {
                metrics.contains(&format!("rock_pool_ready{{language=\"{language}\"}} 1"))
            })
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(containers(engine, "pool", "created"), 2, "{runtime}");

        let hello = "def main(name):\n    return {'message': 'Hello ' + name}\n";
        let (status, body) = server.run("python", hello, json!({"arguments": {"name": "World"}}));
        assert_eq!(status, 200);
        assert_eq!(
            body["result"]["value"],
            json!({"message": "Hello World"}),
            "{runtime}: {body}"
        );
        let hello = "function main(args) { return { message: 'Hello ' + args.name }; }\n";
        let (_, body) = server.run("nodejs", hello, json!({"arguments": {"name": "World"}}));
        assert_eq!(
            body["result"]["value"],
            json!({"message": "Hello World"}),
            "{runtime}: {body}"
        );
        let (_, metrics) = server.raw("GET", "/metrics", "", &[]);
        assert!(
            metrics.lines().any(|l| l == "rock_warm_runs_total 2"),
            "{runtime}: {metrics}\n{}",
            server.log()
        );

        // Memory is a container's from its creation: another size gets a container of
        // its own, which holds it.
        let grow = "x = bytearray(200 * 1024 * 1024)\nprint('allocated')\n";
        let (_, body) = server.run("python", grow, json!({"memory": "64m"}));
        assert_eq!(
            (
                body["exit_code"].clone(),
                body["resource_limit_type"].clone()
            ),
            (json!(-137), json!("memory")),
            "{runtime}: {body}"
        );
        let (_, body) = server.run(
            "python",
            "import time\ntime.sleep(30)\n",
            json!({"timeout": 1}),
        );
        assert_eq!(body["exit_code"], -124, "{runtime}: {body}");

        // Stopping the server removes the pool's containers, used or not.
        assert_eq!(server.stop(), Some(0), "{runtime}");
        assert_none_left(engine);
    }
}

#[test]
fn an_engine_whose_default_is_gvisor_needs_no_runtime_setting() {
    let _serial = podman::serial();
    let rock = Rock::new();
    let engine = podman::engine("runsc");
    let config = format!(
        "[providers.docker]\nhost = \"{}\"\npython_image = \"{}\"\nnodejs_image = \"{}\"\n",
        engine.host(),
        podman::IMAGE,
        podman::IMAGE
    );
    // Node needs the pids limit made for gVisor's own threads: rock learns the runtime
    // from the engine.
    let out = rock.run_with_config(
        &config,
        &[
            "exec",
            "--json",
            "--provider",
            "docker",
            "--lang",
            "js",
            "-c",
            "function main() { return require('os').release(); }",
        ],
    );
    let result: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON result: {}", stderr_of(&out)));
    assert_eq!(result["result"]["value"], "4.4.0", "{result}");
    assert_eq!(result["metadata"]["runtime"], "runsc", "{result}");
    assert_none_left(engine);
}

#[test]
fn host_processes_of_uid_1000_do_not_stop_the_container() {
    let _serial = podman::serial();
    if !support::is_root() {
        eprintln!("skipped: starting processes as uid 1000 needs root");
        return;
    }
    let rock = Rock::new();
    let engine = podman::engine("runc");
    // More processes of uid 1000 on the host than the container's process limit: a
    // per-user RLIMIT_NPROC in the container would count them and refuse its interpreter.
    let mut sleepers: Vec<std::process::Child> = (0..80)
        .map(|_| {
            std::process::Command::new("setpriv")
                .args([
                    "--reuid=1000",
                    "--regid=1000",
                    "--clear-groups",
                    "sleep",
                    "60",
                ])
                .spawn()
                .expect("setpriv")
        })
        .collect();
    let python = exec(
        &rock,
        engine,
        &[
            "-q",
            "--lang",
            "python",
            "-c",
            "import subprocess\nprint(subprocess.run(['sleep', '0']).returncode)",
        ],
    );
    let node = exec(
        &rock,
        engine,
        &[
            "-q",
            "--lang",
            "js",
            "-c",
            "console.log(require('child_process').execSync('echo forked').toString().trim())",
        ],
    );
    for sleeper in &mut sleepers {
        let _ = sleeper.kill();
        let _ = sleeper.wait();
    }
    assert_eq!(stdout_of(&python), "0\n", "{}", stderr_of(&python));
    assert_eq!(stdout_of(&node), "forked\n", "{}", stderr_of(&node));
    assert_none_left(engine);
}
