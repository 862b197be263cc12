//! What a sandboxed program can and cannot do (docs/security.md). Each claim is tried
//! in Python and in Node.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{processes_with, unique_marker, Rock, LANGS};

#[test]
fn loopback_listener_on_the_host_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let rock = Rock::new();
    let python = format!(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('CONNECTED')\nexcept OSError as e:\n    print('blocked', e.errno)\n"
    );
    let node = format!(
        "const s = require('net').connect({port}, '127.0.0.1');\ns.on('connect', () => {{ console.log('CONNECTED'); s.end(); }});\ns.on('error', (e) => console.log('blocked', e.code));\n"
    );
    for (lang, code) in [("python", python), ("nodejs", node)] {
        let (result, exit) = rock.exec_json(lang, &code, &[]);
        assert_eq!(exit, 0, "{lang}: {result}");
        let stdout = result["stdout"].as_str().unwrap();
        assert!(
            stdout.starts_with("blocked"),
            "{lang} reached the host: {stdout}"
        );
        assert!(
            listener.accept().is_err(),
            "{lang}: the host listener saw a connection"
        );
    }
}

#[test]
fn loopback_inside_the_sandbox_works() {
    let rock = Rock::new();
    let code = "import socket\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\nc = socket.create_connection(s.getsockname()); print('ok')\n";
    let (result, exit) = rock.exec_json("python", code, &[]);
    assert_eq!(
        (exit, result["stdout"].as_str()),
        (0, Some("ok\n")),
        "{result}"
    );
}

#[test]
fn a_secret_file_outside_the_sandbox_cannot_be_read() {
    let rock = Rock::new();
    let secret = rock.file("secret.txt", "TOPSECRET-c0ffee");
    let path = secret.display().to_string();
    let python = format!(
        "try:\n    print(open({path:?}).read())\nexcept OSError as e:\n    print('denied', e.errno)\n"
    );
    let node = format!(
        "try {{ console.log(require('fs').readFileSync({path:?}, 'utf8')); }} catch (e) {{ console.log('denied', e.code); }}\n"
    );
    for (lang, code) in [("python", python), ("nodejs", node)] {
        let (result, exit) = rock.exec_json(lang, &code, &[]);
        assert_eq!(exit, 0, "{lang}: {result}");
        let stdout = result["stdout"].as_str().unwrap();
        assert!(!stdout.contains("TOPSECRET"), "{lang} read the secret");
        assert!(stdout.starts_with("denied"), "{lang}: {stdout}");
    }
}

#[test]
fn writes_outside_the_work_dir_fail() {
    let rock = Rock::new();
    // Read-only mounts refuse with EROFS whatever the file modes say: the system dirs,
    // /etc, the root, the harness dir and the interpreter's own directory.
    let read_only = ["/usr/rock-x", "/etc/rock-x", "/rock-x", "/rock/x"];
    let python = format!(
        "import os, sys\nfor p in {read_only:?} + [os.path.dirname(sys.executable) + '/rock-x', '/proc/sys/kernel/hostname']:\n    try:\n        open(p, 'w').write('x'); print('WROTE', p)\n    except OSError as e:\n        print('refused', p, 'EROFS' if e.errno == 30 else e.errno)\nopen('/work/ok', 'w').write('x'); open('/tmp/ok', 'w').write('x'); print('work ok')\n"
    );
    let node = format!(
        "const fs = require('fs');\nfor (const p of [...{read_only:?}, require('path').dirname(process.execPath) + '/rock-x', '/proc/sys/kernel/hostname']) {{ try {{ fs.writeFileSync(p, 'x'); console.log('WROTE', p); }} catch (e) {{ console.log('refused', p, e.code); }} }}\nfs.writeFileSync('/work/ok', 'x'); fs.writeFileSync('/tmp/ok', 'x'); console.log('work ok');\n"
    );
    for (lang, code) in [("python", python), ("nodejs", node)] {
        let (result, exit) = rock.exec_json(lang, &code, &[]);
        assert_eq!(exit, 0, "{lang}: {result}");
        let stdout = result["stdout"].as_str().unwrap();
        assert!(!stdout.contains("WROTE"), "{lang}: {stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), read_only.len() + 3, "{lang}: {stdout}");
        for line in &lines[..read_only.len() + 1] {
            assert!(
                line.starts_with("refused") && line.ends_with(" EROFS"),
                "{lang}: {line}"
            );
        }
        assert!(
            lines[read_only.len() + 1].starts_with("refused /proc/sys"),
            "{lang}: {stdout}"
        );
        assert_eq!(lines[read_only.len() + 2], "work ok", "{lang}");
    }
    assert!(!std::path::Path::new("/rock-x").exists());
    assert!(!std::path::Path::new("/usr/rock-x").exists());
}

#[test]
fn the_program_never_runs_as_root() {
    let rock = Rock::new();
    for (lang, code) in [
        (
            "python",
            "import os\ndef main():\n    return [os.getuid(), os.geteuid(), os.getgid()]\n",
        ),
        (
            "nodejs",
            "function main() { return [process.getuid(), process.geteuid(), process.getgid()]; }\n",
        ),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &["--args-json", "{}"]);
        assert_eq!(exit, 0, "{lang}: {result}");
        let ids = result["result"]["value"].as_array().unwrap();
        assert!(
            ids.iter().all(|id| id.as_u64() != Some(0)),
            "{lang} ran as root: {ids:?}"
        );
    }
    // Capabilities are gone too, whatever uid the test itself has.
    let (result, _) = rock.exec_json(
        "python",
        "print([l for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm', 'NoNewPrivs'))])",
        &[],
    );
    let status = result["stdout"].as_str().unwrap();
    assert!(status.contains("CapEff:\\t0000000000000000"), "{status}");
    assert!(status.contains("CapPrm:\\t0000000000000000"), "{status}");
    assert!(status.contains("NoNewPrivs:\\t1"), "{status}");
}

#[test]
fn timeout_kills_a_forked_sleep_and_nothing_survives() {
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
        let (result, exit) = rock.exec_json(lang, &code, &["--timeout", "1"]);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{lang}: rock did not stop at the timeout"
        );
        assert_eq!(exit, 124, "{lang}: {result}");
        assert_eq!(result["status"], "resource_limit_exceeded");
        assert_eq!(result["metadata"]["limit_hit"], "time");
        let survivors = processes_with(&format!("sleep {marker}"));
        assert!(survivors.is_empty(), "{lang}: survivors {survivors:?}");
    }
}

#[test]
fn a_program_that_exits_takes_its_background_children_with_it() {
    let rock = Rock::new();
    let marker = unique_marker();
    let code = format!("import subprocess\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\nprint('bye')\n");
    let (result, exit) = rock.exec_json("python", &code, &[]);
    assert_eq!(exit, 0, "{result}");
    assert!(processes_with(&format!("sleep {marker}")).is_empty());
}

#[test]
fn a_600_mib_allocation_is_killed_at_the_memory_limit() {
    let rock = Rock::new();
    for mode in ["auto", "rlimit"] {
        let config = rock.config_with_memory(mode);
        let config = config.to_str().unwrap();
        for (lang, code) in [
            ("python", "x = bytearray(600 * 1024 * 1024)\nprint('allocated')\n"),
            ("nodejs", "const b = Buffer.alloc(600 * 1024 * 1024, 1);\nconsole.log('allocated', b.length);\n"),
            ("nodejs", "const a = []; for (;;) a.push(new Array(1e6).fill(1.5));\n"),
        ] {
            let output = rock.run(&["--config", config, "exec", "--json", "--lang", lang, "--code", code]);
            let (result, exit) = support::parse_json(&output);
            assert_eq!(exit, 137, "{mode}/{lang}: {result}");
            assert_eq!(result["status"], "resource_limit_exceeded", "{mode}/{lang}");
            assert_eq!(result["metadata"]["limit_hit"], "memory", "{mode}/{lang}");
            assert!(!result["stdout"].as_str().unwrap().contains("allocated"));
            let held = result["metadata"]["memory_limit"].as_str().unwrap();
            if mode == "rlimit" {
                assert!(held.starts_with("rlimit_data"), "{held}");
            }
        }
    }
}

#[test]
fn a_fork_bomb_is_contained_and_the_run_ends() {
    let rock = Rock::new();
    for lang in LANGS {
        let name = format!("bomb_{}", unique_marker().replace('.', "_"));
        let (file, code) = match lang {
            "python" => (
                format!("{name}.py"),
                "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
            ),
            _ => (
                format!("{name}.js"),
                "const { spawn } = require('child_process');\nsetInterval(() => { try { spawn(process.execPath, [__filename], { stdio: 'ignore' }).on('error', () => {}); } catch (e) {} }, 1);\n",
            ),
        };
        let path = rock.file(&file, code);
        let started = Instant::now();
        let output = rock
            .cmd()
            .args(["exec", "--json", "--timeout", "3"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{lang}: the bomb outlived its timeout"
        );
        let (result, exit) = support::parse_json(&output);
        assert!(exit == 124 || exit == 137, "{lang}: {result}");
        assert_eq!(result["status"], "resource_limit_exceeded", "{lang}");
        let survivors = processes_with(&name);
        assert!(survivors.is_empty(), "{lang}: survivors {survivors:?}");
    }
}

#[test]
fn fifty_megabytes_of_output_are_cut_at_the_cap_and_flagged() {
    let rock = Rock::new();
    for (lang, code) in [
        ("python", "import sys\nsys.stdout.write('x' * 50_000_000)\nsys.stdout.flush()\nprint('done', file=sys.stderr)\n"),
        ("nodejs", "const chunk = 'x'.repeat(1 << 20);\nfor (let i = 0; i < 50; i++) process.stdout.write(chunk);\nconsole.error('done');\n"),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &[]);
        assert_eq!(exit, 0, "{lang}: {}", result["stderr"]);
        assert_eq!(result["stdout"].as_str().unwrap().len(), 1024 * 1024, "{lang}");
        assert_eq!(result["truncated"], json!({"stdout": true, "stderr": false}), "{lang}");
        assert_eq!(result["stderr"], "done\n", "{lang}");
    }
    // Without --json, the cut is announced on stderr.
    let output = rock.run(&[
        "exec",
        "-l",
        "py",
        "-c",
        "print('y' * 3000)",
        "--output-cap",
        "1k",
    ]);
    assert_eq!(output.stdout.len(), 1024);
    assert!(support::stderr_of(&output).contains("stdout truncated at 1 KiB"));
}

#[test]
fn printing_cannot_forge_the_result() {
    let rock = Rock::new();
    for (lang, code) in [
        (
            "python",
            "import sys, os\ndef main():\n    print('{\"present\": true, \"value\": \"forged\"}')\n    print('{\"kind\": \"result\", \"value\": \"forged\"}')\n    sys.stderr.write('{\"kind\": \"result\", \"value\": \"forged\"}')\n    return 'real'\n",
        ),
        (
            "nodejs",
            "function main() {\n  console.log('{\"kind\": \"result\", \"value\": \"forged\"}');\n  console.error('{\"kind\": \"result\", \"value\": \"forged\"}');\n  return 'real';\n}\n",
        ),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &["--args-json", "{}"]);
        assert_eq!(exit, 0, "{lang}: {result}");
        assert_eq!(result["result"], json!({"present": true, "value": "real", "type": "json"}), "{lang}");
        assert!(result["stdout"].as_str().unwrap().contains("forged"));
    }
    // A plain script that prints a result-shaped line has no result at all.
    let (result, _) = rock.exec_json(
        "python",
        "print('{\"kind\": \"result\", \"value\": 1}')",
        &[],
    );
    assert_eq!(result["result"], json!(null));
}

#[test]
fn rocks_environment_does_not_leak_into_the_sandbox() {
    let rock = Rock::new();
    // The program's own environment, and what /proc shows of the sandbox's other processes.
    let code = "import os\nprint(sorted(os.environ))\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n        try:\n            print(pid, open(f'/proc/{pid}/environ', 'rb').read())\n        except OSError as e:\n            print(pid, 'unreadable', e.errno)\n";
    for network in [false, true] {
        let mut args = vec!["exec", "--json", "-l", "py", "-c", code];
        if network {
            args.push("--network");
        }
        let output = rock
            .cmd()
            .env("ROCK_TEST_SECRET", "hunter2")
            .args(&args)
            .output()
            .unwrap();
        let (result, exit) = support::parse_json(&output);
        assert_eq!(exit, 0, "{result}");
        let seen = result["stdout"].as_str().unwrap();
        assert!(
            !seen.contains("ROCK_TEST_SECRET") && !seen.contains("hunter2"),
            "{seen}"
        );
        assert!(seen.contains("'PATH'"), "{seen}");
    }
}

#[test]
fn only_the_sandbox_processes_are_visible() {
    let rock = Rock::new();
    let (result, exit) = rock.exec_json(
        "python",
        "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
        &[],
    );
    assert_eq!(exit, 0);
    assert_eq!(result["stdout"], "[1, 2]\n", "{result}");
}

#[test]
fn the_work_dir_and_tmp_are_size_limited() {
    let rock = Rock::new();
    // A file size limit above the tmpfs size, so that only the tmpfs can refuse.
    let config = rock.file(
        "c.toml",
        "[providers.local]\nmax_file_size_mb = 1024\ntmpfs_size_mb = 32\n",
    );
    for dir in ["/work", "/tmp", "/dev/shm"] {
        let code = format!(
            "try:\n    open('{dir}/big', 'wb').write(b'x' * (100 << 20))\n    print('wrote')\nexcept OSError as e:\n    print('refused', e.errno)\n"
        );
        let output = rock.run(&[
            "--config",
            config.to_str().unwrap(),
            "exec",
            "--json",
            "--memory",
            "512MiB",
            "-l",
            "py",
            "-c",
            &code,
        ]);
        let (result, exit) = support::parse_json(&output);
        assert_eq!(exit, 0, "{dir}: {result}");
        assert_eq!(
            result["stdout"], "refused 28\n",
            "{dir}: ENOSPC expected: {result}"
        );
    }
}

#[test]
fn dev_holds_only_the_harmless_devices_and_is_read_only() {
    let rock = Rock::new();
    let code = "import os\nprint(sorted(os.listdir('/dev')))\ntry:\n    open('/dev/new', 'w')\n    print('created')\nexcept OSError as e:\n    print('refused', e.errno)\nprint(len(open('/dev/urandom', 'rb').read(8)))\n";
    let (result, exit) = rock.exec_json("python", code, &[]);
    assert_eq!(exit, 0, "{result}");
    assert_eq!(
        result["stdout"],
        "['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'urandom', 'zero']\nrefused 30\n8\n"
    );
}

/// rock started with its stdin closed: `--stdin -` reads nothing instead of whatever file
/// rock opened first (it took fd 0 and the run hung before rock reopened /dev/null there).
#[test]
fn a_closed_stdin_reads_as_empty() {
    use std::os::unix::process::CommandExt;
    let rock = Rock::new();
    let mut cmd = rock.std_cmd();
    cmd.args([
        "exec",
        "-q",
        "--stdin",
        "-",
        "-l",
        "py",
        "-c",
        "import sys; print(repr(sys.stdin.read()))",
    ]);
    // SAFETY: close is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::close(0);
            Ok(())
        })
    };
    let output = assert_cmd::Command::from_std(cmd)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::stderr_of(&output)
    );
    assert_eq!(support::stdout_of(&output), "''\n");
}

#[test]
fn stdin_is_fed_to_the_program() {
    let rock = Rock::new();
    let input = rock.file("input.txt", "line one\nline two\n");
    let output = rock
        .cmd()
        .args([
            "exec",
            "-q",
            "-l",
            "py",
            "-c",
            "import sys; print(len(sys.stdin.readlines()))",
            "--stdin",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(support::stdout_of(&output), "2\n");
    // Without --stdin the program reads nothing and does not hang.
    let output = rock
        .cmd()
        .args([
            "exec",
            "-q",
            "-l",
            "py",
            "-c",
            "import sys; print(repr(sys.stdin.read()))",
        ])
        .output()
        .unwrap();
    assert_eq!(support::stdout_of(&output), "''\n");
}

/// rock works for an unprivileged user too (no cgroup there: rlimits hold the memory).
/// Runs only where the test itself is root and can switch to uid 65534 with setpriv.
#[test]
fn an_unprivileged_user_gets_the_same_sandbox() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipped: needs /usr/bin/python3");
        return;
    }
    let Some(user) = support::Unprivileged::new() else {
        return;
    };
    let run = |lang: &str, code: &str| {
        support::parse_json(&user.run(&["exec", "--json", "--lang", lang, "--code", code]))
    };
    let (result, exit) = run(
        "python",
        "import os\nprint(os.getuid(), sorted(os.listdir('/proc'))[:2])\n",
    );
    assert_eq!(exit, 0, "{result}");
    assert_eq!(result["stdout"], "1000 ['1', '2']\n", "{result}");
    let (result, exit) = run("nodejs", "console.log(process.getuid())");
    assert_eq!(
        (exit, result["stdout"].as_str()),
        (0, Some("1000\n")),
        "{result}"
    );
    let (result, exit) = run("python", "x = bytearray(600 * 1024 * 1024)\n");
    assert_eq!(exit, 137, "{result}");
    assert_eq!(result["metadata"]["memory_limit"], "rlimit_data");
    let (result, exit) = run("python", "open('/usr/x', 'w')\n");
    assert_eq!(exit, 1);
    assert!(
        result["stderr"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "{result}"
    );
}

/// Starts `rock exec` of a program that forks `sleep <marker>` and sleeps; returns once it
/// runs, with the run's cgroup directories (from the program's /proc/self/cgroup).
fn start_sleeping_run(rock: &Rock, marker: &str) -> (std::process::Child, Vec<String>) {
    use std::io::BufRead;
    let code = format!(
        "import subprocess, sys, time\nsubprocess.Popen(['sleep', '{marker}'])\nprint(open('/proc/self/cgroup').read())\nprint('READY', flush=True)\ntime.sleep(60)\n"
    );
    let mut child = rock
        .std_cmd()
        .args(["exec", "-q", "-l", "py", "-c", &code])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut cgroup_dirs = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "READY" {
            break;
        }
        // "N:memory:/path/rock-<id>-<pid>" (v1) or "0::/path/rock-<id>-<pid>" (v2)
        let mut parts = line.splitn(3, ':');
        if let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        {
            if path.contains("/rock-") {
                cgroup_dirs.push(format!("/sys/fs/cgroup/{controllers}{path}").replace("//", "/"));
            }
        }
    }
    // The program started `sleep` before it printed READY; allow /proc a moment all the same.
    let started = Instant::now();
    while processes_with(&format!("sleep {marker}")).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the program is not running: {:?} {:?}",
            processes_with("sleep"),
            child.try_wait()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    if support::is_root() {
        assert_eq!(
            cgroup_dirs.len(),
            2,
            "the run's memory and pids cgroups: {cgroup_dirs:?}"
        );
        assert!(
            cgroup_dirs.iter().all(|d| std::path::Path::new(d).exists()),
            "{cgroup_dirs:?}"
        );
    }
    (child, cgroup_dirs)
}

/// Waits (bounded) for a process to end.
fn wait_bounded(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_tears_the_sandbox_down_and_leaves_nothing() {
    let rock = Rock::new();
    let marker = unique_marker();
    let (mut child, cgroup_dirs) = start_sleeping_run(&rock, &marker);
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_bounded(&mut child, "rock did not stop on SIGINT");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted by signal 2"), "{stderr}");
    assert!(
        processes_with(&format!("sleep {marker}")).is_empty(),
        "survivors after Ctrl-C"
    );
    for dir in cgroup_dirs {
        assert!(
            !std::path::Path::new(&dir).exists(),
            "cgroup {dir} was left behind"
        );
    }
}

#[test]
fn with_network_the_hosts_loopback_is_reachable() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let rock = Rock::new();
    let code = format!(
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'hi')\nprint('sent')\n"
    );
    let (result, exit) = rock.exec_json("python", &code, &["--network"]);
    assert_eq!(exit, 0, "{result}");
    let (mut stream, _) = listener.accept().unwrap();
    let mut got = String::new();
    std::io::Read::read_to_string(&mut stream, &mut got).unwrap();
    assert_eq!(got, "hi");
}

/// Where the kernel refuses user namespaces, rock explains and never runs the code.
/// Simulated inside a user namespace of the test's own whose namespace limit is 0.
#[test]
fn a_kernel_that_refuses_namespaces_gets_an_explanation_not_an_unsandboxed_run() {
    let unshare = std::path::Path::new("/usr/bin/unshare");
    if !unshare.exists() {
        eprintln!("skipped: needs /usr/bin/unshare (util-linux)");
        return;
    }
    let rock = Rock::new();
    let marker = rock.dir().join("ran");
    let rock_bin = assert_cmd::cargo::cargo_bin("rock");
    for network in [false, true] {
        let script = format!(
            "echo 0 > /proc/sys/user/max_user_namespaces && exec {} exec {} -l py -c \"open('{}', 'w')\"",
            rock_bin.display(),
            if network { "--network" } else { "" },
            marker.display()
        );
        let output = std::process::Command::new(unshare)
            .args(["--user", "--map-root-user", "sh", "-c", &script])
            .env("XDG_CACHE_HOME", rock.dir().join("cache"))
            .output()
            .unwrap();
        let stderr = support::stderr_of(&output);
        assert_eq!(
            output.status.code(),
            Some(125),
            "network={network}: {stderr}"
        );
        assert!(
            stderr.starts_with("error: cannot build the local sandbox"),
            "{stderr}"
        );
        assert!(
            stderr.contains("rock never runs code unsandboxed"),
            "{stderr}"
        );
        assert!(!marker.exists(), "the code ran without a sandbox");
    }
}

#[test]
fn the_program_gets_only_its_stdio_and_the_result_fd() {
    let rock = Rock::new();
    // The listing's own directory fd is gone by the time it is looked at, so it is skipped.
    let code = "import os\nopen_fds = []\nfor f in sorted(int(f) for f in os.listdir('/proc/self/fd')):\n    try:\n        open_fds.append((f, os.readlink(f'/proc/self/fd/{f}').split(':')[0]))\n    except FileNotFoundError:\n        pass\nprint(open_fds)\n";
    let (result, exit) = rock.exec_json("python", code, &[]);
    assert_eq!(exit, 0, "{result}");
    // 0: an empty pipe (no --stdin), 1-2: output pipes, 3: the result pipe. No control socket.
    assert_eq!(
        result["stdout"], "[(0, 'pipe'), (1, 'pipe'), (2, 'pipe'), (3, 'pipe')]\n",
        "{result}"
    );
}

#[test]
fn every_namespace_is_the_sandboxs_own_and_no_capability_set_remains() {
    let rock = Rock::new();
    let names = ["user", "mnt", "pid", "net", "ipc", "uts"];
    let code = format!(
        "import os\nfor n in {names:?}:\n    print(n, os.readlink('/proc/self/ns/' + n))\nprint('hostname', os.uname().nodename)\nprint('sys', os.path.exists('/sys'))\nfor l in open('/proc/self/status'):\n    if l.startswith(('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')):\n        print(l.split()[0], l.split()[1])\n"
    );
    let (result, exit) = rock.exec_json("python", &code, &[]);
    assert_eq!(exit, 0, "{result}");
    let stdout = result["stdout"].as_str().unwrap();
    for name in names {
        let host = std::fs::read_link(format!("/proc/self/ns/{name}")).unwrap();
        let inside = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap();
        assert_ne!(
            inside,
            host.to_str().unwrap(),
            "the {name} namespace is the host's"
        );
    }
    assert!(stdout.contains("hostname rock\n"), "{stdout}");
    assert!(stdout.contains("sys False\n"), "/sys is visible: {stdout}");
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert!(
            stdout.contains(&format!("{set}: 0000000000000000")),
            "{set}: {stdout}"
        );
    }
}

#[test]
fn cpu_time_open_files_and_file_size_are_limited() {
    let rock = Rock::new();
    let config = "[providers.local]\ncpu_time = 1\nmax_open_files = 64\nmax_file_size_mb = 1\n";
    // CPU: a busy loop is stopped by SIGXCPU after one CPU second, well before the wall timeout.
    let output = rock.run_with_config(
        config,
        &[
            "exec",
            "--json",
            "-t",
            "30",
            "-l",
            "py",
            "-c",
            "while True: pass",
        ],
    );
    let (result, exit) = support::parse_json(&output);
    assert_eq!(exit, 128 + 24, "{result}");
    assert_eq!(result["status"], "resource_limit_exceeded");
    assert_eq!(result["metadata"]["limit_hit"], "cpu");
    // What a program printed under this config, when it ended by itself with 0.
    let printed = |lang: &str, code: &str| {
        let output = rock.run_with_config(config, &["exec", "--json", "-l", lang, "-c", code]);
        let (result, exit) = support::parse_json(&output);
        assert_eq!(exit, 0, "{result}");
        result["stdout"].as_str().unwrap().to_string()
    };
    // Open files: the 65th descriptor is refused with EMFILE.
    let code = "import os\nfds = []\ntry:\n    while True:\n        fds.append(os.open('/dev/null', os.O_RDONLY))\nexcept OSError as e:\n    print(e.errno, max(fds) < 64)\n";
    assert_eq!(printed("py", code), "24 True\n");
    // File size: Python and Node both ignore SIGXFSZ and see EFBIG.
    let code = "try:\n    open('/work/big', 'wb').write(b'x' * (2 << 20))\nexcept OSError as e:\n    print('refused', e.errno)\n";
    assert_eq!(printed("py", code), "refused 27\n");
    let code = "try { require('fs').writeFileSync('/work/big', Buffer.alloc(2 << 20)); console.log('wrote'); } catch (e) { console.log('refused', e.code); }\n";
    assert_eq!(printed("js", code), "refused EFBIG\n");
}

/// A rock killed with SIGKILL can't remove its cgroup; the next run removes such
/// leftovers (empty, owner gone) and leaves a live rock's alone.
#[test]
fn cgroups_left_by_a_killed_rock_are_removed_by_the_next_run() {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let parents: Vec<std::path::PathBuf> = ["memory", "pids"]
        .iter()
        .filter_map(|controller| {
            let path = own.lines().find_map(|l| {
                let mut parts = l.splitn(3, ':');
                let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
                names.split(',').any(|n| n == *controller).then_some(path)
            })?;
            let dir = std::path::Path::new("/sys/fs/cgroup")
                .join(controller)
                .join(path.trim_start_matches('/'));
            dir.exists().then_some(dir)
        })
        .collect();
    if !support::is_root() || parents.len() != 2 {
        eprintln!("skipped: needs root and cgroup v1 memory and pids hierarchies");
        return;
    }
    // A pid that is certainly gone: a child that already exited and was reaped.
    let dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    let mut dead = dead;
    dead.wait().unwrap();
    let abandoned = format!("rock-deadbeef-{dead_pid}");
    let alive = format!("rock-cafecafe-{}", std::process::id());
    for parent in &parents {
        std::fs::create_dir(parent.join(&abandoned)).unwrap();
        std::fs::create_dir(parent.join(&alive)).unwrap();
    }
    let (result, exit) = Rock::new().exec_json("python", "print(1)", &[]);
    assert_eq!(exit, 0, "{result}");
    for parent in &parents {
        assert!(
            !parent.join(&abandoned).exists(),
            "{abandoned} is still in {}",
            parent.display()
        );
        assert!(
            parent.join(&alive).exists(),
            "a live rock's cgroup was removed"
        );
        std::fs::remove_dir(parent.join(&alive)).unwrap();
    }
}

#[test]
fn a_killed_rock_takes_its_sandbox_along_and_the_next_run_removes_its_cgroup() {
    let rock = Rock::new();
    let marker = unique_marker();
    let (mut child, cgroup_dirs) = start_sleeping_run(&rock, &marker);
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    wait_bounded(&mut child, "rock did not die");
    // The helper and the init die through their parent-death signals, and the pid
    // namespace with them; that takes a moment after rock itself is gone.
    let started = Instant::now();
    while !processes_with(&format!("sleep {marker}")).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "survivors after SIGKILL"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (result, exit) = rock.exec_json("python", "print(1)", &[]);
    assert_eq!(exit, 0, "{result}");
    for dir in cgroup_dirs {
        assert!(
            !std::path::Path::new(&dir).exists(),
            "cgroup {dir} was left behind"
        );
    }
}

/// The seccomp filter: each denied call fails with EPERM from Python (through ctypes),
/// allowed ones still work, and a command-line tool is refused from Node as well.
#[test]
fn the_seccomp_filter_refuses_what_a_code_runner_never_needs() {
    let rock = Rock::new();
    // Every call the filter denies for every argument, tried with zero arguments.
    let calls: Vec<String> = rock::sandbox::seccomp::denied_calls()
        .iter()
        .map(|(nr, name)| format!("{name:?}: {nr}"))
        .collect();
    let code = format!(
        "CALLS = {{{}}}\n{}",
        calls.join(", "),
        r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
u = ctypes.c_ulong
def call(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(u(nr), *[u(a) for a in args])
    return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
denied = {name: call(nr) for name, nr in CALLS.items()}
denied["ptrace(sibling)"] = call(101, 16, os.getppid(), 0, 0)
denied["clone(CLONE_NEWUSER)"] = call(56, 0x10000000 | 17, 0, 0, 0, 0)
denied["personality(ADDR_NO_RANDOMIZE)"] = call(135, 0x0040000)
print(sorted(k for k, v in denied.items() if v != "EPERM") or "all EPERM")
print(call(435, 0, 0))  # clone3: ENOSYS, so that the C library falls back to clone
print(call(0x40000000 | 39))  # getpid by its x32 number: ENOSYS
print(call(135, 0xffffffff), call(39))  # personality query and getpid still work
pid = os.fork()
if pid == 0:
    os._exit(7)
print(os.waitpid(pid, 0)[1] >> 8)
"#
    );
    let (result, exit) = rock.exec_json("python", &code, &[]);
    assert_eq!(exit, 0, "{result}");
    assert_eq!(
        result["stdout"], "all EPERM\nENOSYS\nENOSYS\nok ok\n7\n",
        "{result}"
    );
    // The program went on, but the result says what it tried.
    assert_eq!(result["status"], "unauthorized_access", "{result}");
    assert_eq!(
        result["metadata"]["unauthorized_access_type"],
        "disallowed_syscall"
    );
    let denied: Vec<&str> = result["metadata"]["denied_syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    // Reported by the supervisor, so refused by the filter rather than for lack of a
    // capability; io_uring is refused without a report (libuv tries it at every Node start).
    for (nr, name) in rock::sandbox::seccomp::denied_calls() {
        let silent = rock::sandbox::seccomp::is_silent(*nr);
        assert_eq!(denied.contains(name), !silent, "{name}: {denied:?}");
    }
    for name in ["clone (namespace flags)", "personality"] {
        assert!(denied.contains(&name), "{name} not reported: {denied:?}");
    }

    for lang in support::LANGS {
        let code = match lang {
            "python" => "import subprocess\nr = subprocess.run(['/usr/bin/unshare', '-U', 'true'], capture_output=True, text=True)\nprint(r.returncode != 0, 'Operation not permitted' in r.stderr)\n",
            _ => "const r = require('child_process').spawnSync('/usr/bin/unshare', ['-U', 'true'], {encoding: 'utf8'});\nconsole.log(r.status !== 0 ? 'True' : 'False', r.stderr.includes('Operation not permitted') ? 'True' : 'False');\n",
        };
        let (result, exit) = rock.exec_json(lang, code, &[]);
        assert_eq!(
            (exit, result["stdout"].as_str()),
            (0, Some("True True\n")),
            "{lang}: {result}"
        );
        assert_eq!(result["status"], "unauthorized_access", "{lang}: {result}");
        assert_eq!(
            result["metadata"]["denied_syscalls"],
            json!(["unshare"]),
            "{lang}"
        );
    }
}

/// An ordinary run reports nothing, although Node tries io_uring at start.
#[test]
fn ordinary_programs_meet_no_denied_call() {
    let rock = Rock::new();
    for (lang, code) in [
        ("python", "import subprocess, threading\nsubprocess.run(['true'])\nt = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"),
        ("nodejs", "require('child_process').execFileSync('true');\nrequire('fs').readFileSync('/etc/os-release');\nconsole.log('thread');\n"),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &[]);
        assert_eq!((exit, result["stdout"].as_str()), (0, Some("thread\n")), "{lang}: {result}");
        assert_eq!(result["status"], "success", "{lang}: {result}");
        assert!(result["metadata"].get("denied_syscalls").is_none(), "{lang}: {result}");
    }
}

/// The filter can be turned off (`providers.local.seccomp = false`), for comparison: then a
/// call it refuses, `personality(ADDR_NO_RANDOMIZE)`, which any process may make, works.
#[test]
fn without_the_filter_a_refused_call_works_again() {
    let rock = Rock::new();
    let code = "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nr = libc.syscall(ctypes.c_ulong(135), ctypes.c_ulong(0x0040000))\nprint('ok' if r >= 0 else errno.errorcode[ctypes.get_errno()])\n";
    let (unfiltered, exit) =
        rock.exec_json_with_config("[providers.local]\nseccomp = false\n", "py", code);
    assert_eq!(exit, 0, "{unfiltered}");
    assert_eq!(unfiltered["stdout"], "ok\n", "{unfiltered}");
    let (filtered, _) = rock.exec_json("python", code, &[]);
    assert_eq!(filtered["stdout"], "EPERM\n", "{filtered}");
}

/// A system call through the 32-bit table (`int 0x80`), which a filter for x86_64 numbers
/// would misread, kills the program (SIGSYS) instead of running.
#[test]
fn a_system_call_through_the_32_bit_table_kills_the_program() {
    let code = "import ctypes, mmap\n# mov eax, 20 (getpid in the i386 table); int 0x80; ret\ncode = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])\nbuf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\nbuf.write(code)\naddr = ctypes.addressof(ctypes.c_char.from_buffer(buf))\nprint('returned', ctypes.CFUNCTYPE(ctypes.c_int)(addr)())\n";
    // Outside the sandbox the same code works where the kernel runs 32-bit calls at all.
    let host = std::process::Command::new("python3")
        .args(["-c", code])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&host.stdout).starts_with("returned") {
        eprintln!("skipped: this kernel doesn't run 32-bit system calls (no IA32 emulation)");
        return;
    }
    let (result, exit) = Rock::new().exec_json("python", code, &[]);
    assert_eq!(exit, 128 + libc::SIGSYS, "{result}");
    assert_eq!(result["metadata"]["signal"], libc::SIGSYS, "{result}");
    assert_eq!(result["stdout"], "", "{result}");
}

/// A program that tries a denied call in a loop is answered EPERM a bounded number of
/// times, then ENOSYS at once: it can't keep the supervisor busy until its timeout.
#[test]
fn a_denied_call_in_a_loop_does_not_keep_the_supervisor_busy() {
    let code = "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nseen = set()\nfor i in range(200000):\n    libc.syscall(165, 0, 0, 0, 0, 0)\n    seen.add(errno.errorcode[ctypes.get_errno()])\nprint(sorted(seen))\n";
    let (result, exit) = Rock::new().exec_json("python", code, &["--timeout", "8"]);
    assert_eq!(exit, 0, "{result}");
    assert_eq!(result["stdout"], "['ENOSYS', 'EPERM']\n", "{result}");
    assert_eq!(result["status"], "unauthorized_access");
    assert_eq!(result["metadata"]["denied_syscalls"], json!(["mount"]));
}

/// Runs `code` with Landlock on (the default) and off; `None` where the kernel lacks it.
fn with_and_without_landlock(
    lang: &str,
    code: &str,
) -> Option<(serde_json::Value, serde_json::Value)> {
    let rock = Rock::new();
    let (on, _) = rock.exec_json(lang, code, &[]);
    if on["metadata"]["landlock"] != "enforced" {
        eprintln!("skipped: Landlock is {} here", on["metadata"]["landlock"]);
        return None;
    }
    let (off, _) = rock.exec_json_with_config("[providers.local]\nlandlock = false\n", lang, code);
    assert_eq!(off["metadata"]["landlock"], "off (configured)", "{off}");
    Some((on, off))
}

/// Landlock lets the program write beneath /work, /tmp and /dev/shm and to the harmless
/// devices only: a file the mounts leave writable (its own /proc/self/comm) is refused.
#[test]
fn landlock_keeps_writes_to_the_scratch_dirs() {
    let code = "for path in ['/work/a', '/tmp/a', '/dev/shm/a', '/dev/null', '/proc/self/comm']:\n    try:\n        open(path, 'w').write('x')\n        print(path, 'written')\n    except OSError as e:\n        print(path, e.strerror)\n";
    let Some((on, off)) = with_and_without_landlock("python", code) else {
        return;
    };
    assert_eq!(
        on["stdout"],
        "/work/a written\n/tmp/a written\n/dev/shm/a written\n/dev/null written\n/proc/self/comm Permission denied\n",
        "{on}"
    );
    assert!(
        off["stdout"]
            .as_str()
            .unwrap()
            .ends_with("/proc/self/comm written\n"),
        "{off}"
    );
}

/// The program can signal its own processes but not its parent, the sandbox's init: it runs
/// as another uid without CAP_KILL (with Landlock, its signal scope refuses it too).
#[test]
fn the_program_can_signal_its_own_processes_but_not_the_init() {
    let rock = Rock::new();
    for (lang, code) in [
        ("python", "import os, signal, time\npid = os.fork()\nif pid == 0:\n    time.sleep(30)\n    os._exit(0)\nos.kill(pid, signal.SIGKILL)\nprint('child', os.waitpid(pid, 0)[1] & 0x7f)\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n    print('parent signalled')\nexcept OSError as e:\n    print('parent', e.strerror)\n"),
        ("nodejs", "const { spawn } = require('child_process');\nconst child = spawn('sleep', ['30']);\nchild.on('exit', (code, signal) => {\n  console.log('child', signal);\n  try { process.kill(process.ppid, 'SIGKILL'); console.log('parent signalled'); }\n  catch (e) { console.log('parent', e.code); }\n});\nchild.kill('SIGKILL');\n"),
    ] {
        let (result, exit) = rock.exec_json(lang, code, &[]);
        let expected = match lang {
            "python" => "child 9\nparent Operation not permitted\n",
            _ => "child SIGKILL\nparent EPERM\n",
        };
        assert_eq!((exit, result["stdout"].as_str()), (0, Some(expected)), "{lang}: {result}");
    }
}

/// A CPU quota (`cpu_quota_percent`) holds a busy program to its share: at 20% of one CPU,
/// a second of spinning gets at most a third of a second of CPU (unlimited, it gets the
/// whole second). Needs a cgroup.
#[test]
fn a_cpu_quota_holds_a_busy_program_to_its_share() {
    let rock = Rock::new();
    // The loop's own CPU time: the interpreter's start-up comes before the gate that waits
    // for the cgroup, and on a loaded machine it alone can take a tenth of a second.
    let code = "import time\nstart, cpu = time.monotonic(), time.process_time()\nwhile time.monotonic() - start < 1.0:\n    pass\nprint(round(time.process_time() - cpu, 2))\n";
    let (result, exit) =
        rock.exec_json_with_config("[providers.local]\ncpu_quota_percent = 20\n", "py", code);
    if result["metadata"]["memory_limit"] != "cgroup" {
        eprintln!(
            "skipped: no cgroup here ({})",
            result["metadata"]["memory_limit_note"]
        );
        return;
    }
    assert_eq!(exit, 0, "{result}");
    assert_eq!(result["metadata"]["cpu_quota_percent"], 20, "{result}");
    let cpu: f64 = result["stdout"].as_str().unwrap().trim().parse().unwrap();
    assert!(
        cpu < 0.34,
        "a 20% quota gave {cpu} s of CPU in 1 s: {result}"
    );
}
