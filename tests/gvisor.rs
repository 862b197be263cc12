//! Provider `gvisor`: the same requests, results and exit codes as `local`, under runsc.
//! Where runsc can't run here, each test says why and skips; a missing runsc is itself
//! tested (the explanation a user gets).

mod support;

use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{processes_with, unique_marker, Rock, LANGS};

/// One test at a time: the tests look for runsc processes and bundles, which a test
/// running beside would have too (and runsc's start-up is heavy on two cores).
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether runsc runs on this machine: `rock provider test gvisor`, once per test binary.
fn gvisor_runs() -> bool {
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    let answer = ANSWER.get_or_init(|| {
        let output = Rock::new().run(&["provider", "test", "gvisor"]);
        if output.status.success() {
            Ok(())
        } else {
            Err(support::stderr_of(&output))
        }
    });
    if let Err(reason) = answer {
        eprintln!(
            "skipped: gVisor cannot run on this machine: {}",
            reason.trim()
        );
    }
    answer.is_ok()
}

/// `rock exec --json --provider gvisor` of inline code.
fn exec(rock: &Rock, lang: &str, code: &str, extra: &[&str]) -> (serde_json::Value, i32) {
    let mut args = vec!["--provider", "gvisor"];
    args.extend_from_slice(extra);
    rock.exec_json(lang, code, &args)
}

#[test]
fn hello_examples_run_under_gvisor() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    for example in ["examples/hello.py", "examples/hello.js"] {
        let output = rock.run(&[
            "exec",
            "--provider",
            "gvisor",
            "--json",
            "--args",
            "name=World",
            example,
        ]);
        let (result, exit) = support::parse_json(&output);
        assert_eq!(exit, 0, "{example}: {result}");
        assert_eq!(
            result["result"]["value"],
            json!({"message": "Hello World!"}),
            "{example}"
        );
        let metadata = &result["metadata"];
        assert_eq!(metadata["provider"], "gvisor");
        for field in ["cpu_time", "peak_memory_bytes", "interpreter_version"] {
            assert!(
                !metadata[field].is_null(),
                "{example}: no {field}: {result}"
            );
        }
        for field in ["stdout", "stderr", "exit_code", "execution_time", "status"] {
            assert!(!result[field].is_null(), "{example}: no {field}");
        }
    }
}

#[test]
fn the_host_loopback_files_and_root_are_out_of_reach() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let rock = Rock::new();
    let secret = rock.file("secret.txt", "TOPSECRET-c0ffee");
    let path = secret.display().to_string();
    let python = format!(
        "import os, socket\n\
         try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3); print('CONNECTED')\n\
         except OSError:\n    print('no connection')\n\
         try:\n    print(open({path:?}).read())\nexcept OSError:\n    print('no secret')\n\
         for p in ['/usr/x', '/etc/x', '/rock/x', '/x', {path:?} + '.new']:\n\
         \x20   try:\n        open(p, 'w').write('x'); print('WROTE', p)\n    except OSError:\n        pass\n\
         open('/work/ok', 'w').write('x')\nprint('uid', os.getuid(), os.geteuid())\n"
    );
    let node = format!(
        "const fs = require('fs');\n\
         for (const p of ['/usr/x', '/etc/x', '/rock/x', '/x', {path:?} + '.new']) {{ try {{ fs.writeFileSync(p, 'x'); console.log('WROTE', p); }} catch (e) {{}} }}\n\
         try {{ console.log(fs.readFileSync({path:?}, 'utf8')); }} catch (e) {{ console.log('no secret'); }}\n\
         console.log('uid', process.getuid(), process.geteuid());\n\
         const s = require('net').connect({port}, '127.0.0.1');\n\
         s.on('connect', () => {{ console.log('CONNECTED'); s.end(); }});\n\
         s.on('error', () => console.log('no connection'));\n"
    );
    for (lang, code) in [("python", python), ("nodejs", node)] {
        let (result, exit) = exec(&rock, lang, &code, &[]);
        assert_eq!(exit, 0, "{lang}: {result}");
        let stdout = result["stdout"].as_str().unwrap();
        for line in ["no connection", "no secret", "uid 1000 1000"] {
            assert!(stdout.contains(line), "{lang}: {stdout}");
        }
        assert!(!stdout.contains("CONNECTED") && !stdout.contains("TOPSECRET"));
        assert!(!stdout.contains("WROTE"), "{lang}: {stdout}");
        assert!(
            listener.accept().is_err(),
            "{lang}: the host saw a connection"
        );
    }
    assert!(!std::path::Path::new(&format!("{path}.new")).exists());
}

#[test]
fn timeout_kills_a_forked_sleep_and_nothing_survives() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    for lang in LANGS {
        let marker = unique_marker();
        let code = match lang {
            "python" => format!(
                "import subprocess, time\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\ntime.sleep(60)\n"
            ),
            _ => format!(
                "require('child_process').spawn('sleep', ['{marker}'], {{ detached: true, stdio: 'ignore' }});\nsetTimeout(() => {{}}, 60000);\n"
            ),
        };
        let started = Instant::now();
        let (result, exit) = exec(&rock, lang, &code, &["--timeout", "2"]);
        assert!(started.elapsed() < Duration::from_secs(30), "{lang}");
        assert_eq!(exit, 124, "{lang}: {result}");
        assert_eq!(result["status"], "resource_limit_exceeded");
        assert_eq!(result["metadata"]["limit_hit"], "time");
        // gVisor's processes live in its kernel; its host processes are runsc's.
        assert!(processes_with(&marker).is_empty(), "{lang}");
        assert!(processes_with("runsc-sandbox").is_empty(), "{lang}");
    }
    assert!(
        support::runsc_bundles().is_empty(),
        "bundles left: {:?}",
        support::runsc_bundles()
    );
}

#[test]
fn a_600_mib_allocation_is_killed_at_the_memory_limit() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    for (lang, code) in [
        (
            "python",
            "x = bytearray(600 * 1024 * 1024)\nprint('allocated')\n",
        ),
        (
            "nodejs",
            "const b = Buffer.alloc(600 * 1024 * 1024, 1);\nconsole.log('allocated', b.length);\n",
        ),
    ] {
        let (result, exit) = exec(&rock, lang, code, &[]);
        assert_eq!(exit, 137, "{lang}: {result}");
        assert_eq!(result["status"], "resource_limit_exceeded", "{lang}");
        assert_eq!(result["metadata"]["limit_hit"], "memory", "{lang}");
        assert!(!result["stdout"].as_str().unwrap().contains("allocated"));
    }
}

#[test]
fn a_fork_bomb_is_held_to_the_process_limit() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    // The program ends its children itself, so that the run ends when it does. (Exit 2
    // here was once gVisor's kernel starved of host tasks by the cgroup's pids.max.)
    let code = "import os, signal, time\nchildren = []\ntry:\n    while True:\n        pid = os.fork()\n        if pid == 0:\n            time.sleep(30)\n            os._exit(0)\n        children.append(pid)\nexcept OSError as e:\n    print('stopped', len(children), e.strerror)\nfor pid in children:\n    os.kill(pid, signal.SIGKILL)\n    os.waitpid(pid, 0)\n";
    let started = Instant::now();
    // Each forked interpreter copies pages as it runs: room for 64 of them, so that the
    // process limit, not memory, is what stops the bomb.
    let (result, exit) = exec(
        &rock,
        "python",
        code,
        &["--timeout", "10", "--memory", "1g"],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(exit, 0, "{result}");
    // 64 processes: the program and 63 children.
    assert_eq!(
        result["stdout"],
        "stopped 63 Resource temporarily unavailable\n"
    );
}

#[test]
fn fifty_megabytes_of_output_are_cut_at_the_cap_and_flagged() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    for (lang, code) in [
        ("python", "import sys\nsys.stdout.write('x' * 50_000_000)\nsys.stdout.flush()\nprint('done', file=sys.stderr)\n"),
        ("nodejs", "process.stdout.write('x'.repeat(50_000_000));\nconsole.error('done');\n"),
    ] {
        let (result, exit) = exec(&rock, lang, code, &[]);
        assert_eq!(exit, 0, "{lang}: {}", result["stderr"]);
        assert_eq!(result["stdout"].as_str().unwrap().len(), 1024 * 1024, "{lang}");
        assert_eq!(result["truncated"], json!({"stdout": true, "stderr": false}), "{lang}");
        assert_eq!(result["stderr"], "done\n", "{lang}");
    }
}

#[test]
fn printing_cannot_forge_the_result_and_exit_codes_are_the_programs() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    let code = "def main():\n    print('{\"kind\": \"result\", \"value\": \"forged\"}')\n    return 'real'\n";
    let (result, exit) = exec(&rock, "python", code, &["--args-json", "{}"]);
    assert_eq!(exit, 0, "{result}");
    assert_eq!(result["result"]["value"], "real");

    for (code, exit_code, status) in [
        ("import sys\nsys.exit(3)\n", 3, "program_error"),
        (
            "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
            139,
            "runtime_error",
        ),
        ("def broken(:\n", 1, "program_error"),
    ] {
        let (result, exit) = exec(&rock, "python", code, &[]);
        assert_eq!(
            (exit, result["status"].as_str()),
            (exit_code, Some(status)),
            "{code}: {result}"
        );
    }
    let (result, _) = exec(&rock, "python", "def broken(:\n", &[]);
    assert!(
        result["stderr"].as_str().unwrap().contains("SyntaxError"),
        "{result}"
    );
}

#[test]
fn stdin_reaches_the_program() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    let input = rock.file("input.txt", "from the host\n");
    let (result, exit) = exec(
        &rock,
        "nodejs",
        "process.stdout.write(require('fs').readFileSync(0, 'utf8').toUpperCase());\n",
        &["--stdin", input.to_str().unwrap()],
    );
    assert_eq!(
        (exit, result["stdout"].as_str()),
        (0, Some("FROM THE HOST\n"))
    );
}

#[test]
fn ctrl_c_and_a_killed_rock_leave_no_sandbox_behind() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    use std::io::BufRead;
    let rock = Rock::new();
    let mut killed = Vec::new();
    for signal in [libc::SIGINT, libc::SIGKILL] {
        let mut child = rock
            .std_cmd()
            .args(["exec", "-q", "--provider", "gvisor", "-l", "py", "-c"])
            .arg("import time\nprint('READY', flush=True)\ntime.sleep(60)\n")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "READY");
        unsafe { libc::kill(child.id() as i32, signal) };
        killed.push(child.id());
        let status = child.wait().unwrap();
        if signal == libc::SIGINT {
            assert_eq!(status.code(), Some(130));
        }
        let started = Instant::now();
        while !processes_with("runsc-sandbox").is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the sandbox outlived rock"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // The killed rock's bundle and cgroups go with the next run.
    let (result, exit) = exec(&rock, "python", "print('next')", &[]);
    assert_eq!(exit, 0, "{result}");
    assert!(
        support::runsc_bundles().is_empty(),
        "bundles left: {:?}",
        support::runsc_bundles()
    );
    for pid in killed {
        let leftovers = support::cgroups_of_rock(pid);
        assert!(leftovers.is_empty(), "cgroups left: {leftovers:?}");
    }
}

#[test]
fn a_missing_runsc_is_explained_with_how_to_install_it() {
    let _serial = serial();
    let rock = Rock::new();
    let config = rock.file(
        "missing-runsc.toml",
        "[providers.gvisor]\nrunsc = \"/nonexistent/runsc\"\n",
    );
    let config = config.to_str().unwrap();
    let test = rock.run(&["--config", config, "provider", "test", "gvisor"]);
    assert_eq!(test.status.code(), Some(125));
    let exec = rock.run(&[
        "--config",
        config,
        "exec",
        "--provider",
        "gvisor",
        "-l",
        "py",
        "-c",
        "print(1)",
    ]);
    assert_eq!(exec.status.code(), Some(125));
    for output in [&test, &exec] {
        let stderr = support::stderr_of(output);
        assert!(
            stderr.contains("runsc was not found") && stderr.contains("apt-get install runsc"),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn unprivileged_without_a_cgroup_gvisor_refuses_rather_than_run_unlimited() {
    let _serial = serial();
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if v2 || !gvisor_runs() {
        eprintln!("skipped: needs cgroup v1 and runsc");
        return;
    }
    let Some(user) = support::Unprivileged::new() else {
        return;
    };
    // On cgroup v1 only root makes cgroups; gVisor ignores RLIMIT_DATA, so no run.
    let output = user.run(&["exec", "--provider", "gvisor", "-l", "py", "-c", "print(1)"]);
    let stderr = support::stderr_of(&output);
    assert_eq!(output.status.code(), Some(125), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.contains("no cgroup can be made to hold memory")
            && stderr.contains("does not enforce RLIMIT_DATA"),
        "{stderr}"
    );
}

#[test]
fn cpu_time_is_limited_although_runsc_ignores_rlimit_cpu() {
    let _serial = serial();
    if !gvisor_runs() {
        return;
    }
    let rock = Rock::new();
    let config = rock.file("cpu.toml", "[providers.gvisor]\ncpu_time = 1\n");
    let started = Instant::now();
    let output = rock.run(&[
        "--config",
        config.to_str().unwrap(),
        "exec",
        "--json",
        "--provider",
        "gvisor",
        "--timeout",
        "30",
        "-l",
        "py",
        "-c",
        "while True:\n    pass\n",
    ]);
    let (result, exit) = support::parse_json(&output);
    assert!(started.elapsed() < Duration::from_secs(20), "{result}");
    assert_eq!(exit, 152, "{result}");
    assert_eq!(result["status"], "resource_limit_exceeded");
    assert_eq!(result["metadata"]["limit_hit"], "cpu");
}
