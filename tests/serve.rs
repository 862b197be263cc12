//! `rock serve`, called over HTTP on 127.0.0.1 as RAGFlow calls its executor manager, and
//! `rock exec --provider executor` against it.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::serve::Server;
use support::Rock;

const HELLO: &str =
    "def main(name):\n    print('hi', name)\n    return {'message': 'Hello ' + name}\n";

#[test]
fn health_and_a_run_with_its_result() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    for path in ["/", "/healthz"] {
        assert_eq!(
            server.request("GET", path, "", &[]),
            (200, json!({"status": "ok"}))
        );
    }
    let (status, body) = server.run("python", HELLO, json!({"arguments": {"name": "World"}}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["exit_code"], 0);
    assert_eq!(body["stdout"], "hi World\n");
    assert_eq!(
        body["result"],
        json!({"present": true, "value": {"message": "Hello World"}, "type": "json"})
    );
    // Every field of the API is there, null where it does not apply.
    for field in [
        "status",
        "stdout",
        "stderr",
        "exit_code",
        "detail",
        "time_used_ms",
        "memory_used_kb",
        "resource_limit_type",
        "unauthorized_access_type",
        "runtime_error_type",
        "artifacts",
        "result",
    ] {
        assert!(body.get(field).is_some(), "no {field}: {body}");
    }
    assert!(body["time_used_ms"].as_f64().unwrap() > 0.0);
    let (status, body) = server.run(
        "nodejs",
        "async function main(args) { return args.n * 2; }\n",
        json!({"arguments": {"n": 21}}),
    );
    assert_eq!(
        (status, body["result"]["value"].clone()),
        (200, json!(42)),
        "{body}"
    );
}

#[test]
fn every_status_and_exit_code_of_the_convention() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    // language, code, extra body fields, status, exit code, resource limit type
    type Case<'a> = (&'a str, &'a str, Value, &'a str, i64, Option<&'a str>);
    let cases: [Case; 6] = [
        (
            "python",
            "import time\ntime.sleep(30)\n",
            json!({"timeout": 1}),
            "resource_limit_exceeded",
            -124,
            Some("time"),
        ),
        (
            "python",
            "x = bytearray(600 * 1024 * 1024)\n",
            json!({}),
            "resource_limit_exceeded",
            -137,
            Some("memory"),
        ),
        (
            "python",
            "def broken(:\n",
            json!({}),
            "program_error",
            1,
            None,
        ),
        (
            "nodejs",
            "process.exit(3)\n",
            json!({}),
            "program_error",
            3,
            None,
        ),
        (
            "python",
            "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
            json!({}),
            "runtime_error",
            139,
            None,
        ),
        (
            "python",
            "import ctypes\nctypes.CDLL(None).unshare(0x00020000)\n",
            json!({}),
            "unauthorized_access",
            0,
            None,
        ),
    ];
    for (language, code, extra, status, exit_code, limit) in cases {
        let (http, body) = server.run(language, code, extra);
        assert_eq!(http, 200, "{code}: {body}");
        assert_eq!(body["status"], status, "{code}: {body}");
        assert_eq!(body["exit_code"], exit_code, "{code}: {body}");
        assert_eq!(
            body["resource_limit_type"].as_str(),
            limit,
            "{code}: {body}"
        );
        match status {
            "program_error" => assert_eq!(body["runtime_error_type"], "nonzero_exit"),
            "runtime_error" => assert_eq!(body["runtime_error_type"], "signalled"),
            "unauthorized_access" => {
                assert_eq!(body["unauthorized_access_type"], "disallowed_syscall")
            }
            _ => {}
        }
    }
    let (_, body) = server.run("python", "def broken(:\n", json!({}));
    assert!(
        body["stderr"].as_str().unwrap().contains("SyntaxError"),
        "{body}"
    );
}

#[test]
fn artifacts_come_back_and_bad_names_are_refused() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    let code = "import os\nos.makedirs('artifacts')\nopen('artifacts/plot.png', 'wb').write(b'\\x89PNG\\r\\n')\nopen('artifacts/..x.png', 'wb').write(b'x')\nopen('artifacts/notes.txt', 'w').write('x')\n";
    let (status, body) = server.run("python", code, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["artifacts"],
        json!([{"name": "plot.png", "mime_type": "image/png", "size": 6, "content_b64": "iVBORw0K"}])
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("`..x.png` refused"), "{detail}");
    assert!(detail.contains("`notes.txt` refused"), "{detail}");
}

#[test]
fn malformed_bodies_are_422() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    for body in [
        "not json",
        r#"{"language": "python"}"#,
        r#"{"code_b64": "%%%", "language": "python"}"#,
        r#"{"code_b64": "cHJpbnQoMSk=", "language": "cobol"}"#,
        r#"{"code_b64": "cHJpbnQoMSk=", "language": "python", "timeout": 100000}"#,
        r#"{"code_b64": "cHJpbnQoMSk=", "language": "python", "memory": "64t"}"#,
        r#"{"code_b64": "cHJpbnQoMSk=", "language": "python", "surprise": 1}"#,
    ] {
        let (status, answer) = server.request("POST", "/run", body, &[]);
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
    // Bodies are read whole up to 2 MB; a larger one is refused before it is parsed.
    let code = "x".repeat(3 * 1024 * 1024);
    let big = format!(r#"{{"code_b64": "{code}", "language": "python"}}"#);
    assert_eq!(server.raw("POST", "/run", &big, &[]).0, 413);
}

#[test]
fn a_token_is_required_once_set_and_without_one_only_loopback_is_allowed() {
    let rock = Rock::new();
    let token = rock.file("token", "s3cret-token\n");
    let server = Server::start(&rock, &["--token-file", token.to_str().unwrap()]);
    let body = json!({"code_b64": "cHJpbnQoMSk=", "language": "python"}).to_string();
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("X-Sandbox-Token", "s3cret-tokeN")],
    ] {
        let (status, _) = server.request("POST", "/run", &body, &headers);
        assert_eq!(status, 401, "{headers:?}");
    }
    for headers in [
        vec![("Authorization", "Bearer s3cret-token")],
        vec![("X-Sandbox-Token", "s3cret-token")],
    ] {
        let (status, answer) = server.request("POST", "/run", &body, &headers);
        assert_eq!(
            (status, answer["stdout"].as_str()),
            (200, Some("1\n")),
            "{answer}"
        );
    }
    // The health check stays open; metrics do not.
    assert_eq!(server.request("GET", "/healthz", "", &[]).0, 200);
    assert_eq!(server.request("GET", "/metrics", "", &[]).0, 401);

    let output = rock.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(125));
    let stderr = support::stderr_of(&output);
    assert!(
        stderr.contains("without a token rock serve listens on loopback only"),
        "{stderr}"
    );
}

#[test]
fn busy_only_after_the_queue_deadline_and_the_rate_limit_is_429() {
    let rock = Rock::new();
    let server = Server::start(
        &rock,
        &[
            "--max-concurrency",
            "1",
            "--queue",
            "1",
            "--queue-timeout",
            "1",
        ],
    );
    std::thread::scope(|scope| {
        let long = scope.spawn(|| {
            server.run(
                "python",
                "import time\ntime.sleep(4)\nprint('done')\n",
                json!({}),
            )
        });
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let (status, body) = server.run("python", "print(1)\n", json!({}));
        let waited = started.elapsed();
        assert_eq!(status, 200);
        assert_eq!(body["exit_code"], -10, "{body}");
        assert_eq!(body["status"], "program_runner_error");
        assert_eq!(body["stderr"], "Container pool is busy");
        assert!(
            waited >= Duration::from_millis(900),
            "refused after {waited:?}, before the deadline"
        );
        let (_, body) = long.join().unwrap();
        assert_eq!(body["stdout"], "done\n", "{body}");
    });
    let (_, metrics) = server.raw("GET", "/metrics", "", &[]);
    assert!(metrics.contains("rock_busy_total 1"), "{metrics}");
    assert!(
        metrics.contains("rock_runs_total{status=\"success\"} 1"),
        "{metrics}"
    );

    let limited = Server::start(&rock, &["--rate-limit", "2/min"]);
    let answers: Vec<(u16, Value)> = (0..3)
        .map(|_| limited.run("python", "print(1)\n", json!({})))
        .collect();
    assert_eq!(answers[0].0, 200);
    assert_eq!(answers[1].0, 200);
    assert_eq!(answers[2].0, 429, "{:?}", answers[2]);
    assert_eq!(answers[2].1["exit_code"], -429);
}

#[test]
fn sigterm_lets_a_running_program_finish_then_exits_0() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    std::thread::scope(|scope| {
        let running = scope.spawn(|| {
            server.run(
                "python",
                "import time\ntime.sleep(2)\nprint('finished')\n",
                json!({}),
            )
        });
        std::thread::sleep(Duration::from_millis(700));
        unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
        let (status, body) = running.join().unwrap();
        assert_eq!(
            (status, body["stdout"].as_str()),
            (200, Some("finished\n")),
            "{body}"
        );
    });
    let log = server.log();
    assert_eq!(server.stop(), Some(0));
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn no_sandbox_is_reused() {
    let rock = Rock::new();
    let server = Server::start(&rock, &["--max-concurrency", "1"]);
    let code = "import os\nseen = os.listdir('/tmp') + os.listdir('/work')\nopen('/tmp/left-behind', 'w').write('x')\nopen('/work/left-behind', 'w').write('x')\nprint(sorted(n for n in seen if n.startswith('left')))\n";
    for _ in 0..3 {
        let (_, body) = server.run("python", code, json!({}));
        assert_eq!(body["stdout"], "[]\n", "{body}");
    }
}

#[test]
fn a_thousand_runs_from_sixteen_clients_all_succeed() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    let code = "def main(i):\n    return {'i': i, 'square': i * i}\n";
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..16 {
            let (server, failures) = (&server, &failures);
            scope.spawn(move || {
                for n in 0..1000 / 16 + usize::from(client < 1000 % 16) {
                    let i = client * 1000 + n;
                    let (status, body) = server.run("python", code, json!({"arguments": {"i": i}}));
                    let expected = json!({"i": i, "square": i * i});
                    if status != 200
                        || body["status"] != "success"
                        || body["result"]["value"] != expected
                    {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{i}: {status} {body}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of 1000 failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    let (_, metrics) = server.raw("GET", "/metrics", "", &[]);
    assert!(
        metrics.contains("rock_runs_total{status=\"success\"} 1000"),
        "{metrics}"
    );
}

#[test]
fn rock_exec_through_the_executor_matches_local() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    let config = rock.file(
        "executor.toml",
        &format!(
            "[providers.executor]\nendpoint = \"http://{}\"\n",
            server.address
        ),
    );
    let config = config.to_str().unwrap();
    let cases: [(&str, &str, &[&str]); 6] = [
        ("python", HELLO, &["--args", "name=World"]),
        (
            "nodejs",
            "console.log('out'); console.error('err'); process.exit(3);\n",
            &[],
        ),
        (
            "python",
            "import time\ntime.sleep(30)\n",
            &["--timeout", "1"],
        ),
        ("python", "x = bytearray(600 * 1024 * 1024)\n", &[]),
        ("python", "def broken(:\n", &[]),
        ("python", "print('no main')\n", &["--args", "x=1"]),
    ];
    for (language, code, extra) in cases {
        let run = |provider: &str| {
            let mut args = vec![
                "--config",
                config,
                "exec",
                "--provider",
                provider,
                "--lang",
                language,
                "--code",
                code,
            ];
            args.extend_from_slice(extra);
            let output = rock.run(&args);
            (
                output.status.code(),
                support::stdout_of(&output),
                support::stderr_of(&output),
            )
        };
        let (local, executor) = (run("local"), run("executor"));
        assert_eq!(
            executor.0, local.0,
            "{code}: exit codes differ: {executor:?} {local:?}"
        );
        assert_eq!(executor.1, local.1, "{code}: stdout differs");
        if local.0 == Some(125) {
            // rock's own refusal: the same sentence.
            assert_eq!(executor.2.lines().next(), local.2.lines().next(), "{code}");
        }
    }
    let output = rock.run(&["--config", config, "provider", "test", "self_managed"]);
    assert!(output.status.success(), "{}", support::stderr_of(&output));
}

#[test]
fn warm_sandboxes_take_requests_with_their_own_timeout_and_memory() {
    let rock = Rock::new();
    let server = Server::start(&rock, &["--pool", "2", "--max-concurrency", "1"]);
    // Let the pool fill, and outlive the timeout the next request asks for: a warm
    // sandbox's clock starts with its request.
    std::thread::sleep(Duration::from_millis(2500));
    let (_, body) = server.run("python", "print('quick')\n", json!({"timeout": 1}));
    assert_eq!(
        (body["status"].as_str(), body["stdout"].as_str()),
        (Some("success"), Some("quick\n")),
        "{body}"
    );
    let grow = "x = bytearray(100 * 1024 * 1024)\nprint('allocated')\n";
    let (_, body) = server.run("python", grow, json!({"memory": "64m"}));
    assert_eq!(
        (
            body["exit_code"].clone(),
            body["resource_limit_type"].clone()
        ),
        (json!(-137), json!("memory")),
        "{body}"
    );
    let (_, body) = server.run("python", grow, json!({}));
    assert_eq!(body["stdout"], "allocated\n", "{body}");
    let (_, body) = server.run("nodejs", "console.log(process.argv.length)\n", json!({}));
    assert_eq!(body["status"], "success", "{body}");
    let (_, metrics) = server.raw("GET", "/metrics", "", &[]);
    let warm = metrics
        .lines()
        .find_map(|l| l.strip_prefix("rock_warm_runs_total "))
        .and_then(|n| n.parse::<u64>().ok());
    assert_eq!(warm, Some(4), "{metrics}");
    // Shutting down takes the idle warm sandboxes with it: their cgroups, which can only
    // be removed once no process is left in them, are gone.
    let pid = server.child.id();
    assert!(!support::cgroups_of_rock(pid).is_empty() || !support::is_root());
    assert_eq!(server.stop(), Some(0));
    assert_eq!(support::cgroups_of_rock(pid), Vec::<String>::new());
}

#[test]
fn an_interpreter_that_cannot_run_is_the_servers_error_minus_3() {
    let rock = Rock::new();
    let config = rock.file(
        "broken-node.toml",
        "[languages.nodejs]\ninterpreter = \"/nonexistent/node\"\n",
    );
    let mut command = rock.std_cmd();
    command.args(["--config", config.to_str().unwrap()]);
    let server = Server::start_with(command, &[]);
    let (status, body) = server.run("nodejs", "console.log(1)\n", json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["exit_code"], -3, "{body}");
    assert_eq!(body["status"], "program_runner_error");
    assert_eq!(body["detail"], "internal_error");
    assert!(
        body["stderr"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/node"),
        "{body}"
    );
    // Python is unaffected.
    let (_, body) = server.run("python", "print(2)\n", json!({}));
    assert_eq!(body["stdout"], "2\n", "{body}");
}

#[test]
fn an_executor_that_is_not_there_is_one_sentence_and_125() {
    let rock = Rock::new();
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = rock.file(
        "gone.toml",
        &format!("[providers.executor]\nendpoint = \"http://127.0.0.1:{port}\"\n"),
    );
    let config = config.to_str().unwrap();
    let output = rock.run(&[
        "--config",
        config,
        "exec",
        "--provider",
        "executor",
        "-l",
        "py",
        "-c",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(125));
    let stderr = support::stderr_of(&output);
    assert!(
        stderr.starts_with("error: cannot reach the executor at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let output = rock.run(&["--config", config, "provider", "test", "executor"]);
    assert_eq!(output.status.code(), Some(125));
}

/// What a Python program sees of its sandbox, as `main`'s result.
const WALLS: &str = r#"
import json, os, random, socket

def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as err:
        return type(err).__name__

def main(port, secret):
    status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
    def connect():
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    def write_outside():
        open("/rock/planted", "w").write("x")
    return {
        "uid": os.getuid(),
        "capabilities": sorted({status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh")}),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "seccomp": status["Seccomp"].strip(),
        "init": open("/proc/1/comm").read().strip(),
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "hostname": socket.gethostname(),
        "work": len(os.listdir("/work")),
        "tmp": os.listdir("/tmp") + os.listdir("/dev/shm"),
        "host_listener": attempt(connect),
        "secret": attempt(lambda: open(secret).read()),
        "write_outside": attempt(write_outside),
        "random": random.random(),
    }
"#;

#[test]
fn a_forked_python_sandbox_has_every_wall_of_a_fresh_one() {
    let rock = Rock::new();
    let secret = rock.file("secret.txt", "the host's secret");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Server::start(&rock, &[]);
    let arguments = json!({"arguments": {"port": port, "secret": secret}});
    let mut seen_random = Vec::new();
    for _ in 0..3 {
        let (_, body) = server.run("python", WALLS, arguments.clone());
        assert_eq!(body["status"], "success", "{body}");
        let mut walls = body["result"]["value"].clone();
        seen_random.push(walls["random"].take().to_string());
        assert_eq!(
            walls,
            json!({
                "uid": 1000,
                "capabilities": ["0000000000000000"],
                "no_new_privs": "1",
                "seccomp": "2",
                // pid 1 is the fork server's init for this sandbox: the sandbox was forked.
                "init": "rock-init",
                "processes": [1, 2],
                "hostname": "rock",
                "work": 1,
                "tmp": [],
                "host_listener": "ConnectionRefusedError",
                "secret": "FileNotFoundError",
                "write_outside": "OSError",
                "random": null,
            }),
            "{body}"
        );
    }
    seen_random.dedup();
    assert_eq!(
        seen_random.len(),
        3,
        "forked sandboxes share a random state"
    );
    assert!(
        !server.log().contains("fork server is off"),
        "{}",
        server.log()
    );
    drop(listener);
}

#[test]
fn a_forked_sandbox_reports_a_denied_system_call() {
    let rock = Rock::new();
    let server = Server::start(&rock, &[]);
    let code = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.unshare(0x00020000), os.strerror(ctypes.get_errno()))\n";
    let (_, body) = server.run("python", code, json!({}));
    assert_eq!(
        (
            body["stdout"].as_str(),
            body["status"].as_str(),
            body["unauthorized_access_type"].as_str()
        ),
        (
            Some("-1 Operation not permitted\n"),
            Some("unauthorized_access"),
            Some("disallowed_syscall")
        ),
        "{body}"
    );
}

/// Runs Python `first`, and `second` `after` that while the first still runs: their
/// answers.
fn two_at_once(server: &Server, first: &str, second: &str, after: Duration) -> (Value, Value) {
    std::thread::scope(|scope| {
        let first = scope.spawn(|| server.run("python", first, json!({"arguments": {}})));
        std::thread::sleep(after);
        let second = server.run("python", second, json!({"arguments": {}}));
        (first.join().unwrap().1, second.1)
    })
}

#[test]
fn forked_sandboxes_running_at_once_cannot_reach_each_other() {
    let rock = Rock::new();
    let server = Server::start(&rock, &["--max-concurrency", "2"]);
    let first = r#"
import socket
def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 7777))
    listener.listen()
    open("/tmp/first", "w").write("x")
    open("/dev/shm/first", "w").write("x")
    listener.settimeout(3)
    try:
        listener.accept()
        return "reached"
    except socket.timeout:
        return "alone"
"#;
    let second = r#"
import os, socket, time
def main():
    time.sleep(0.5)
    try:
        socket.create_connection(("127.0.0.1", 7777), timeout=1).close()
        reached = True
    except OSError:
        reached = False
    return {
        "reached": reached,
        "files": os.listdir("/tmp") + os.listdir("/dev/shm"),
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    }
"#;
    let (first, second) = two_at_once(&server, first, second, Duration::from_millis(300));
    assert_eq!(first["result"]["value"], "alone", "{first}");
    assert_eq!(
        second["result"]["value"],
        json!({"reached": false, "files": [], "processes": [1, 2]}),
        "{second}"
    );
}

#[test]
fn a_fork_bomb_in_one_forked_sandbox_leaves_another_its_own_processes() {
    let rock = Rock::new();
    let server = Server::start(&rock, &["--max-concurrency", "2"]);
    let bomb = r#"
import os, time
def main():
    children = 0
    while True:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        children += 1
    time.sleep(1.5)
    return children
"#;
    let forks = r#"
import os
def main():
    pids = [os.fork() or os._exit(0) for _ in range(20)]
    return sum(os.waitpid(pid, 0)[1] == 0 for pid in pids)
"#;
    let (bomb, forks) = two_at_once(&server, bomb, forks, Duration::from_millis(700));
    // The process limit (64) held the bomb: the program and its children.
    assert_eq!(bomb["result"]["value"], 63, "{bomb}");
    assert_eq!(forks["result"]["value"], 20, "{forks}");
}

#[test]
fn without_the_fork_server_warm_python_sandboxes_start_their_own_interpreter() {
    let rock = Rock::new();
    let config = rock.file("config.toml", "[providers.local]\nfork_server = false\n");
    let mut command = rock.std_cmd();
    command.arg("--config").arg(config);
    let server = Server::start_with(command, &[]);
    let code = "print(open('/proc/1/comm').read().strip())\n";
    let (_, body) = server.run("python", code, json!({}));
    assert_eq!(body["status"], "success", "{body}");
    assert_ne!(body["stdout"], "rock-init\n", "{body}");
}

/// The pids of the processes below `pid` whose name is `comm`.
fn descendants_named(pid: u32, comm: &str) -> Vec<i32> {
    let parent_of = |p: &str| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(candidate) = name.parse::<u32>() else {
            continue;
        };
        let own = std::fs::read_to_string(format!("/proc/{name}/comm")).unwrap_or_default();
        if own.trim() != comm {
            continue;
        }
        // Not a sandbox it is making (which has its name for a moment): its parent is
        // another process.
        let parent = parent_of(&name).unwrap_or(0);
        let parent_comm =
            std::fs::read_to_string(format!("/proc/{parent}/comm")).unwrap_or_default();
        if parent_comm.trim() == comm {
            continue;
        }
        let mut ancestor = Some(parent);
        while let Some(up) = ancestor.filter(|p| *p > 1) {
            if up == pid {
                found.push(candidate as i32);
                break;
            }
            ancestor = parent_of(&up.to_string());
        }
    }
    found
}

#[test]
fn a_fork_server_that_dies_is_started_again() {
    let rock = Rock::new();
    let server = Server::start(&rock, &["--max-concurrency", "1"]);
    let code = "print(open('/proc/1/comm').read().strip())\n";
    let (_, body) = server.run("python", code, json!({}));
    assert_eq!(body["stdout"], "rock-init\n", "{body}");
    let fork_servers = descendants_named(server.child.id(), "rock-forkserver");
    assert_eq!(fork_servers.len(), 1, "{fork_servers:?}");
    unsafe { libc::kill(fork_servers[0], libc::SIGKILL) };
    // The warm sandboxes it had made die with it (a run caught in the middle would fail);
    // once they are gone, none is taken, and the next runs get a new fork server.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !descendants_named(server.child.id(), "rock-init").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the dead fork server's sandboxes stayed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..8 {
        let (_, body) = server.run("python", code, json!({}));
        assert_eq!(body["status"], "success", "{body}");
    }
    let (_, body) = server.run("python", code, json!({}));
    assert_eq!(body["stdout"], "rock-init\n", "{body}\n{}", server.log());
    let restarted = descendants_named(server.child.id(), "rock-forkserver");
    assert_eq!(restarted.len(), 1, "{restarted:?}");
    assert_ne!(restarted, fork_servers);
}
