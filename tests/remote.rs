//! The remote providers (e2b, aliyun, rock) end to end: the real rock binary against a
//! fake of each service on 127.0.0.1 (tests/support/fakes), which runs the code it is
//! sent for real. Every test ends with the fake holding no sandbox.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fakes::{Fake, FakeAgentRun, FakeE2b, FakeRock};
use support::{stderr_of, stdout_of, Rock};

const KEY: &str = "e2b_0123456789abcdef";
const ACCOUNT: &str = "1431999136518149";
const ACCESS_KEY_ID: &str = "LTAI-test-id";
const ACCESS_KEY_SECRET: &str = "test-secret";
const ROCK_KEY: &str = "rock-admin-key";

/// Which service a fake stands for.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    E2b,
    Aliyun,
    Rock,
}

/// One fake service and the config that points rock at it.
struct Service {
    kind: Kind,
    fake: Box<dyn Fake>,
}

impl std::ops::Deref for Service {
    type Target = dyn Fake;

    fn deref(&self) -> &Self::Target {
        self.fake.as_ref()
    }
}

impl Service {
    fn all() -> Vec<Service> {
        vec![Service::e2b(), Service::aliyun(), Service::rock()]
    }

    fn e2b() -> Service {
        Service {
            kind: Kind::E2b,
            fake: Box::new(FakeE2b::start(&rock_bin(), KEY)),
        }
    }

    fn aliyun() -> Service {
        let fake = FakeAgentRun::start(&rock_bin(), ACCOUNT, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
        Service {
            kind: Kind::Aliyun,
            fake: Box::new(fake),
        }
    }

    fn rock() -> Service {
        Service {
            kind: Kind::Rock,
            fake: Box::new(FakeRock::start(&rock_bin(), Some(ROCK_KEY))),
        }
    }

    fn name(&self) -> &'static str {
        match self.kind {
            Kind::E2b => "e2b",
            Kind::Aliyun => "aliyun",
            Kind::Rock => "rock",
        }
    }

    /// The config file for this provider, with `secret` as its credential.
    fn config_with(&self, secret: &str) -> String {
        let url = self.url();
        let table = match self.kind {
            Kind::E2b => format!(
                "[providers.e2b]\napi_key = \"{secret}\"\napi_url = \"{url}\"\nsandbox_url = \"{url}\"\n"
            ),
            Kind::Aliyun => format!(
                "[providers.aliyun]\naccess_key_id = \"{ACCESS_KEY_ID}\"\naccess_key_secret = \"{secret}\"\n\
                 account_id = \"{ACCOUNT}\"\ntemplate_name = \"rock-test\"\n\
                 data_endpoint = \"{url}\"\ncontrol_endpoint = \"{url}\"\n"
            ),
            Kind::Rock => {
                format!("[providers.rock]\nbase_url = \"{url}\"\napi_key = \"{secret}\"\n")
            }
        };
        format!("[default]\nprovider = \"{}\"\n\n{table}", self.name())
    }

    fn config(&self) -> String {
        self.config_with(match self.kind {
            Kind::E2b => KEY,
            Kind::Aliyun => ACCESS_KEY_SECRET,
            Kind::Rock => ROCK_KEY,
        })
    }

    /// The request that creates a sandbox, as `requests()` lists it.
    fn create_request(&self) -> &'static str {
        match self.kind {
            Kind::E2b | Kind::Aliyun => "POST /sandboxes",
            Kind::Rock => "POST /apis/envs/sandbox/v1/start_async",
        }
    }

    /// Every sandbox it made is gone again.
    fn assert_none_left(&self) {
        assert!(self.created() > 0, "{}: no sandbox was made", self.name());
        assert_eq!(self.live(), 0, "{}: sandboxes were left", self.name());
    }
}

fn rock_bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("rock")
}

fn exec(rock: &Rock, service: &Service, args: &[&str]) -> std::process::Output {
    let mut all = vec!["exec"];
    all.extend_from_slice(args);
    rock.run_with_config(&service.config(), &all)
}

/// `rock exec --json ARGS…` on `service`: the result object.
fn exec_json(rock: &Rock, service: &Service, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = exec(rock, service, &all);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}: no JSON result: {}", service.name(), stderr_of(&out)))
}

const HELLO_PY: &str = "def main(name):\n    return {'message': f'Hello {name}!'}\n";
const HELLO_JS: &str = "function main(args) { return { message: `Hello ${args.name}!` }; }\n";

#[test]
fn hello_main_with_arguments_in_both_languages() {
    let rock = Rock::new();
    for service in Service::all() {
        for (lang, code) in [("python", HELLO_PY), ("nodejs", HELLO_JS)] {
            let out = exec(
                &rock,
                &service,
                &["-q", "--lang", lang, "--args", "name=World", "-c", code],
            );
            assert_eq!(
                stdout_of(&out),
                "{\"message\":\"Hello World!\"}\n",
                "{} {lang}: {}",
                service.name(),
                stderr_of(&out)
            );
            assert_eq!(out.status.code(), Some(0));
        }
        service.assert_none_left();
    }
}

#[test]
fn json_carries_every_field_and_the_provider() {
    let rock = Rock::new();
    for service in Service::all() {
        let result = exec_json(
            &rock,
            &service,
            &["--lang", "py", "--args", "name=W", "-c", HELLO_PY],
        );
        assert_eq!(result["status"], "success", "{}", service.name());
        assert_eq!(result["exit_code"], 0);
        assert_eq!(
            result["result"]["value"],
            serde_json::json!({"message": "Hello W!"})
        );
        assert_eq!(result["metadata"]["provider"], service.name());
        assert!(result["metadata"]["sandbox_id"].is_string());
        assert!(result["execution_time"].as_f64().unwrap() > 0.0);
        service.assert_none_left();
    }
}

#[test]
fn stderr_and_a_non_zero_exit_come_back_apart() {
    let rock = Rock::new();
    let code = "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\nsys.exit(3)\n";
    for service in Service::all() {
        let out = exec(&rock, &service, &["-q", "--lang", "python", "-c", code]);
        assert_eq!(stdout_of(&out), "to out\n", "{}", service.name());
        assert_eq!(stderr_of(&out), "to err\n", "{}", service.name());
        assert_eq!(out.status.code(), Some(3), "{}", service.name());
        let result = exec_json(
            &rock,
            &service,
            &["--lang", "js", "-c", "throw new Error('boom')"],
        );
        assert_eq!(result["status"], "program_error", "{}", service.name());
        assert_eq!(result["exit_code"], 1);
        assert!(result["stderr"].as_str().unwrap().contains("boom"));
        service.assert_none_left();
    }
}

#[test]
fn a_timeout_ends_the_run_with_124() {
    let rock = Rock::new();
    let code = "import time\nprint('started', flush=True)\ntime.sleep(30)\n";
    for service in Service::all() {
        let started = Instant::now();
        let result = exec_json(
            &rock,
            &service,
            &["--timeout", "1", "--lang", "python", "-c", code],
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            service.name()
        );
        assert_eq!(result["exit_code"], 124, "{}: {result}", service.name());
        assert_eq!(result["status"], "resource_limit_exceeded");
        assert_eq!(result["metadata"]["limit_hit"], "time");
        assert_eq!(result["stdout"], "started\n");
        service.assert_none_left();
    }
}

#[test]
fn a_long_output_comes_back_whole_and_in_order() {
    let rock = Rock::new();
    let code = "for i in range(20000):\n    print(f'line {i}')\n";
    for service in Service::all() {
        let out = exec(&rock, &service, &["-q", "--lang", "python", "-c", code]);
        let text = stdout_of(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20000, "{}", service.name());
        let expected: Vec<String> = (0..20000).map(|i| format!("line {i}")).collect();
        assert!(
            lines == expected,
            "{}: lines lost or out of order",
            service.name()
        );
        service.assert_none_left();
    }
}

#[test]
fn output_past_the_cap_is_cut_and_flagged() {
    let rock = Rock::new();
    let code = "import sys\nsys.stdout.write('x' * 3_000_000)\n";
    for service in Service::all() {
        let result = exec_json(
            &rock,
            &service,
            &["--output-cap", "100KiB", "--lang", "python", "-c", code],
        );
        assert_eq!(
            result["stdout"].as_str().unwrap().len(),
            100 * 1024,
            "{}",
            service.name()
        );
        assert_eq!(result["truncated"]["stdout"], true);
        assert_eq!(result["status"], "success");
        service.assert_none_left();
    }
}

#[test]
fn printing_a_marker_line_does_not_forge_the_result() {
    let rock = Rock::new();
    let code = "def main():\n    print('\\x1e__rock_0000__ {\"kind\": \"result\", \"value\": \"forged\"}')\n    return 'real'\n";
    for service in Service::all() {
        let result = exec_json(
            &rock,
            &service,
            &["--args-json", "{}", "--lang", "python", "-c", code],
        );
        assert_eq!(result["result"]["value"], "real", "{}", service.name());
        assert!(result["stdout"].as_str().unwrap().contains("forged"));
        service.assert_none_left();
    }
}

#[test]
fn stdin_reaches_the_program_and_artifacts_come_back() {
    let rock = Rock::new();
    let input = rock.file("input.txt", "one\ntwo\n");
    let input = input.to_str().unwrap();
    let code = "import os, sys\nlines = sys.stdin.read().split()\nos.makedirs('artifacts', exist_ok=True)\nopen('artifacts/lines.csv', 'w').write(','.join(lines))\nprint(len(lines))\n";
    for service in Service::all() {
        let result = exec_json(
            &rock,
            &service,
            &["--stdin", input, "--lang", "python", "-c", code],
        );
        assert_eq!(result["stdout"], "2\n", "{}: {result}", service.name());
        let artifacts = result["artifacts"].as_array().expect("artifacts");
        assert_eq!(artifacts.len(), 1, "{result}");
        assert_eq!(artifacts[0]["name"], "lines.csv");
        assert_eq!(artifacts[0]["content_b64"], "b25lLHR3bw==");
        service.assert_none_left();
    }
}

#[test]
fn e2b_output_streams_as_it_is_printed() {
    let service = Service::e2b();
    let rock = Rock::new();
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), service.config()).unwrap();
    let code = "import time\nprint('first', flush=True)\ntime.sleep(3)\nprint('second')\n";
    let mut child = rock
        .std_cmd()
        .args(["--config"])
        .arg(config.path())
        .args(["exec", "-q", "--lang", "python", "-c", code])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    assert_eq!(lines.next().unwrap().unwrap(), "first");
    let first_at = started.elapsed();
    assert!(
        child.try_wait().unwrap().is_none(),
        "rock ended before `second`"
    );
    assert_eq!(lines.next().unwrap().unwrap(), "second");
    let second_at = started.elapsed();
    // The second line waited for the program's sleep; the first did not.
    assert!(
        second_at - first_at > Duration::from_secs(2),
        "{first_at:?} {second_at:?}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    service.assert_none_left();
}

#[test]
fn wrong_credentials_are_one_clear_sentence_and_exit_125() {
    let rock = Rock::new();
    for service in Service::all() {
        let out = rock.run_with_config(
            &service.config_with("wrong"),
            &["exec", "--lang", "python", "-c", "print(1)"],
        );
        assert_eq!(out.status.code(), Some(125), "{}", service.name());
        let err = stderr_of(&out);
        assert!(
            err.contains("refused rock's credentials"),
            "{}: {err}",
            service.name()
        );
        assert!(err.contains("check providers."), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!err.contains("wrong"), "the secret was printed: {err}");
        assert_eq!(service.live(), 0);
    }
}

#[test]
fn a_refused_create_is_tried_again() {
    let rock = Rock::new();
    for service in Service::all() {
        service.fail_next("create", 503, 1, None);
        let out = exec(
            &rock,
            &service,
            &["-q", "--lang", "python", "-c", "print('ok')"],
        );
        assert_eq!(
            stdout_of(&out),
            "ok\n",
            "{}: {}",
            service.name(),
            stderr_of(&out)
        );
        let creates = service
            .requests()
            .iter()
            .filter(|r| r.as_str() == service.create_request())
            .count();
        assert_eq!(creates, 2, "{}", service.name());
        service.assert_none_left();
    }
}

#[test]
fn a_rate_limit_is_waited_out_as_retry_after_says() {
    let rock = Rock::new();
    for service in Service::all() {
        service.fail_next("create", 429, 1, Some(1));
        let started = Instant::now();
        let out = exec(
            &rock,
            &service,
            &["-q", "--lang", "python", "-c", "print('ok')"],
        );
        assert_eq!(
            stdout_of(&out),
            "ok\n",
            "{}: {}",
            service.name(),
            stderr_of(&out)
        );
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{}",
            service.name()
        );
        service.assert_none_left();
    }
}

#[test]
fn a_failed_execute_is_not_repeated_and_the_sandbox_still_goes() {
    let rock = Rock::new();
    for service in Service::all() {
        service.fail_next("execute", 500, 1, None);
        let out = exec(&rock, &service, &["--lang", "python", "-c", "print('ok')"]);
        assert_eq!(out.status.code(), Some(125), "{}", service.name());
        assert!(
            stderr_of(&out).contains("unavailable"),
            "{}",
            stderr_of(&out)
        );
        let executes = service
            .requests()
            .iter()
            .filter(|r| r.contains("execute"))
            .count();
        assert_eq!(executes, 1, "{}: {:?}", service.name(), service.requests());
        service.assert_none_left();
    }
}

#[test]
fn ctrl_c_destroys_the_remote_sandbox() {
    let rock = Rock::new();
    for service in Service::all() {
        let config = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(config.path(), service.config()).unwrap();
        let mut child = rock
            .std_cmd()
            .arg("--config")
            .arg(config.path())
            .args(["exec", "-q", "--timeout", "20", "--lang", "python", "-c"])
            .arg("import time\nprint('up', flush=True)\ntime.sleep(20)\n")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while service.live() == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Once the run is under way (a sandbox exists and the code was sent).
        std::thread::sleep(Duration::from_millis(1500));
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(130), "{}: {err}", service.name());
        assert!(err.contains("interrupted"), "{err}");
        service.assert_none_left();
    }
}

#[test]
fn provider_test_prints_the_round_trip_and_names_a_dead_endpoint() {
    let rock = Rock::new();
    for service in Service::all() {
        let out = rock.run_with_config(&service.config(), &["provider", "test", service.name()]);
        let text = stdout_of(&out);
        // Shown with --nocapture: the round trips against the fakes (docs/providers.md).
        println!("{text}");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {text}{}",
            service.name(),
            stderr_of(&out)
        );
        assert!(
            text.contains(&format!("{}: healthy", service.name())),
            "{text}"
        );
        for language in ["python", "nodejs"] {
            assert!(
                text.lines()
                    .any(|l| l.contains(language) && l.contains("ms round trip")),
                "{text}"
            );
        }
        service.assert_none_left();
        service.stop();
        let out = rock.run_with_config(&service.config(), &["provider", "test", service.name()]);
        assert_ne!(out.status.code(), Some(0), "{}", service.name());
        let err = stderr_of(&out);
        let port = service.url().rsplit(':').next().unwrap().to_string();
        assert!(
            err.contains(&format!("127.0.0.1:{port}")),
            "{}: {err}",
            service.name()
        );
    }
}

#[test]
fn aliyun_refuses_a_timeout_over_its_hard_limit() {
    let rock = Rock::new();
    let service = Service::aliyun();
    let out = exec(
        &rock,
        &service,
        &["--timeout", "45", "--lang", "python", "-c", "print(1)"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr_of(&out).contains("at most 30 s"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(service.live(), 0);
    let bad = format!("{}timeout = 60\n", service.config());
    let out = rock.run_with_config(&bad, &["exec", "--lang", "python", "-c", "print(1)"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr_of(&out).contains("providers.aliyun.timeout must be between 1 and 30"),
        "{}",
        stderr_of(&out)
    );
    let bad = service.config().replace(
        "[providers.aliyun]\n",
        "[providers.aliyun]\nregion = \"mars-1\"\n",
    );
    let out = rock.run_with_config(&bad, &["exec", "--lang", "python", "-c", "print(1)"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr_of(&out).contains("cn-hangzhou"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(service.created(), 0);
}

/// The services that keep sandboxes for runtime envs.
fn env_services() -> Vec<Service> {
    vec![Service::e2b(), Service::rock()]
}

/// The config of `service` with remote envs under `remote_root` and the python mirror at
/// `mirror`.
fn env_config(service: &Service, remote_root: &std::path::Path, mirror: &str) -> String {
    format!(
        "{}\n[runtime_envs]\nremote_root = \"{}\"\npython_mirror = \"{mirror}\"\n",
        service.config(),
        remote_root.display()
    )
}

fn python_mirror() -> support::http::FileServer {
    let mirror = support::fixtures().join("python-mirror");
    support::http::FileServer::start(mirror)
}

#[test]
fn an_env_is_installed_in_the_remote_sandbox_and_run_there_until_removed() {
    let mirror = python_mirror();
    for service in env_services() {
        let rock = Rock::new();
        let remote_root = tempfile::tempdir().unwrap();
        let config = env_config(&service, remote_root.path(), &mirror.base);
        let out = rock.run_with_config(
            &config,
            &[
                "env",
                "create",
                "python",
                "--provider",
                service.name(),
                "--name",
                "far",
                "--custom-install-cmd",
                "python --version > version.txt",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            service.name(),
            stderr_of(&out)
        );
        assert!(stdout_of(&out).ends_with(" far\n"), "{}", stdout_of(&out));
        assert_eq!(
            service.live(),
            1,
            "{}: one sandbox holds the env",
            service.name()
        );
        // The archive came from the mirror, fetched by the sandbox itself.
        assert!(mirror.requests().iter().any(|r| r.ends_with(".tar.gz")));

        let out = rock.run_with_config(
            &config,
            &[
                "env",
                "run",
                "far",
                "--",
                "python",
                "-c",
                "import sys; print(open('version.txt').read().strip(), sys.prefix); sys.exit(4)",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(4),
            "{}: {}",
            service.name(),
            stderr_of(&out)
        );
        let said = stdout_of(&out);
        // The fixture archive holds a relocated CPython 3.11 (scripts/fixtures).
        assert!(said.starts_with("Python 3.11."), "{said}");
        assert!(
            said.contains(&remote_root.path().display().to_string()),
            "{said}"
        );
        assert_eq!(service.created(), 1, "env run reuses the env's sandbox");

        let shown = stdout_of(&rock.run_with_config(&config, &["env", "show", "far"]));
        assert!(
            shown.contains(&format!("provider:  {}", service.name())),
            "{shown}"
        );
        let listed = stdout_of(&rock.run_with_config(&config, &["env", "show", "far", "--json"]));
        let listed: Value = serde_json::from_str(&listed).unwrap();
        assert!(listed["remote"]["sandbox"]["id"].is_string());
        assert!(
            listed["remote"]["sandbox"].get("access_token").is_none(),
            "{listed}"
        );
        // The record holds the sandbox's handle (E2B's envd token): its owner's only.
        let record = std::path::Path::new(listed["work_dir"].as_str().unwrap()).join("env.json");
        let mode = std::fs::metadata(&record).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", record.display());

        let out = rock.run_with_config(
            &config,
            &["exec", "--env", "far", "-c", "print(1)", "--lang", "py"],
        );
        assert_eq!(out.status.code(), Some(125));
        assert!(
            stderr_of(&out).contains(&format!("lives in a {} sandbox", service.name())),
            "{}",
            stderr_of(&out)
        );

        let out = rock.run_with_config(&config, &["env", "rm", "far"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        assert_eq!(
            service.live(),
            0,
            "{}: env rm destroys the sandbox",
            service.name()
        );
        assert!(
            stderr_of(&rock.run_with_config(&config, &["env", "list"])).contains("no runtime envs")
        );
    }
}

#[test]
fn a_failing_remote_step_reports_its_exit_code_and_leaves_nothing() {
    let mirror = python_mirror();
    for service in env_services() {
        let rock = Rock::new();
        let remote_root = tempfile::tempdir().unwrap();
        let config = env_config(&service, remote_root.path(), &mirror.base);
        let out = rock.run_with_config(
            &config,
            &[
                "env",
                "create",
                "python",
                "--provider",
                service.name(),
                "--custom-install-cmd",
                "echo broken >&2; exit 7",
            ],
        );
        assert_eq!(out.status.code(), Some(125), "{}", service.name());
        let err = stderr_of(&out);
        assert!(
            err.contains("custom_install_cmd failed with exit code 7"),
            "{err}"
        );
        assert!(err.contains("broken"), "{err}");
        assert_eq!(
            service.live(),
            0,
            "{}: the sandbox was destroyed",
            service.name()
        );
        assert!(
            stderr_of(&rock.run_with_config(&config, &["env", "list"])).contains("no runtime envs")
        );
    }
}

#[test]
fn providers_without_kept_sandboxes_refuse_remote_envs() {
    let rock = Rock::new();
    let service = Service::aliyun();
    let out = rock.run_with_config(
        &service.config(),
        &["env", "create", "python", "--provider", "aliyun"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr_of(&out).contains("can't hold runtime envs: use e2b or rock"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(service.created(), 0);
}

#[test]
fn e2b_env_run_streams_envd_output_as_it_comes() {
    let service = Service::e2b();
    let rock = Rock::new();
    let remote_root = tempfile::tempdir().unwrap();
    let config = rock.file(
        "e2b-env.toml",
        &format!(
            "{}\n[runtime_envs]\nremote_root = \"{}\"\n",
            service.config(),
            remote_root.path().display()
        ),
    );
    // A runtime from ROCK's override variable: a link to this machine's python3.
    let out = rock
        .cmd()
        .arg("--config")
        .arg(&config)
        .env(
            "ROCK_RTENV_PYTHON_V31114_INSTALL_CMD",
            "mkdir -p runtime-env/bin && ln -s \"$(command -v python3)\" runtime-env/bin/python3",
        )
        .args([
            "env",
            "create",
            "python",
            "--provider",
            "e2b",
            "--name",
            "live",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mut child = rock
        .std_cmd()
        .arg("--config")
        .arg(&config)
        .args([
            "env",
            "run",
            "live",
            "--",
            "bash",
            "-c",
            "echo first; sleep 3; echo second; exit 6",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    assert_eq!(lines.next().unwrap().unwrap(), "first");
    let first_at = started.elapsed();
    assert_eq!(lines.next().unwrap().unwrap(), "second");
    assert!(
        started.elapsed() - first_at > Duration::from_secs(2),
        "{first_at:?}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(6));
    let out = rock
        .cmd()
        .arg("--config")
        .arg(&config)
        .args(["env", "rm", "live"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    service.assert_none_left();
}

#[test]
fn a_service_that_never_answers_is_rocks_own_timeout_not_the_programs() {
    // Connections are taken by the kernel's backlog and never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let rock = Rock::new();
    let config = format!("[providers.rock]\nbase_url = \"{url}\"\nrequest_timeout = 1\n");
    let started = Instant::now();
    let out = rock.run_with_config(
        &config,
        &[
            "exec",
            "--provider",
            "rock",
            "--lang",
            "python",
            "-c",
            "print(1)",
        ],
    );
    assert_eq!(out.status.code(), Some(125));
    let err = stderr_of(&out);
    assert!(err.contains("did not answer starting a sandbox"), "{err}");
    assert!(
        err.contains("raise providers.rock.request_timeout"),
        "{err}"
    );
    // Starting a sandbox is not repeated after a lost answer: one timeout, not four.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn e2b_sandboxes_reach_the_network_only_with_the_network_flag() {
    let service = Service::e2b();
    let rock = Rock::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('reached')\nexcept OSError:\n    print('blocked')\n"
    );
    // The fake gives a sandbox the host's network only when asked for internet access.
    let out = exec(&rock, &service, &["-q", "--lang", "python", "-c", &code]);
    assert_eq!(stdout_of(&out), "blocked\n", "{}", stderr_of(&out));
    let out = exec(
        &rock,
        &service,
        &["-q", "--network", "--lang", "python", "-c", &code],
    );
    assert_eq!(stdout_of(&out), "reached\n", "{}", stderr_of(&out));
    service.assert_none_left();
}
