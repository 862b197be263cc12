//! The hostile-code corpus: programs that try to get out, see out, or wear the machine
//! down, each with the outcome it must have, run one after another against every local
//! provider, and through `rock serve` (forked Python sandboxes). At the end the suite checks that the machine is as it was: no sandbox process,
//! mount or cgroup left behind.

mod support;

use serde_json::Value;
use support::serve::Server;
use support::Rock;

/// What a case must end with.
enum Expect {
    /// Exit 0 and exactly this stdout.
    Prints(&'static str),
    /// This exit code, and stdout containing this.
    ExitWith(i32, &'static str),
}

struct Case {
    name: &'static str,
    lang: &'static str,
    code: &'static str,
    extra: &'static [&'static str],
    expect: Expect,
    /// What gVisor gives instead, where its kernel answers differently but as safely.
    gvisor: Option<Expect>,
}

const fn case(name: &'static str, lang: &'static str, code: &'static str, expect: Expect) -> Case {
    Case {
        name,
        lang,
        code,
        extra: &[],
        expect,
        gvisor: None,
    }
}

impl Case {
    const fn on_gvisor(mut self, expect: Expect) -> Case {
        self.gvisor = Some(expect);
        self
    }

    fn expected(&self, provider: &str) -> &Expect {
        match (&self.gvisor, provider) {
            (Some(expect), "gvisor") => expect,
            _ => &self.expect,
        }
    }
}

/// Set in rock's own environment for every case: no sandboxed process may see it.
const SECRET: &str = "hostile-corpus-secret-7d1f";

/// The providers that run code on this machine.
const PROVIDERS: [&str; 2] = ["local", "gvisor"];

fn corpus() -> Vec<Case> {
    use Expect::*;
    vec![
        case(
            "host pids are invisible in /proc",
            "python",
            "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n",
            Prints("[1, 2]\n"),
        )
        // gVisor starts the program as pid 1: there is no init of rock's inside.
        .on_gvisor(Prints("[1]\n")),
        case(
            "/proc/1/root leads to the sandbox's own root",
            "python",
            "import os\nprint(os.path.exists('/proc/1/root/etc/shadow'), os.path.exists('/etc/shadow'))\n",
            Prints("False False\n"),
        ),
        case(
            "the init's environment can't be read",
            "python",
            "import os\nif os.getpid() == 1:\n    print('the program is pid 1')\nelse:\n    try:\n        print(open('/proc/1/environ', 'rb').read())\n    except OSError as e:\n        print(e.strerror)\n",
            Prints("Permission denied\n"),
        )
        // gVisor starts the program as pid 1: there is no init of rock's to read.
        .on_gvisor(Prints("the program is pid 1\n")),
        case(
            "no process of the sandbox sees rock's secrets",
            "python",
            "import os\nseen, found = 0, False\nfor p in os.listdir('/proc'):\n    try:\n        data = open(f'/proc/{p}/environ', 'rb').read()\n    except OSError:\n        continue\n    seen += 1\n    found = found or b'SECRET' in data or b'hostile-corpus' in data\nprint(seen > 0, found)\n",
            Prints("True False\n"),
        ),
        case(
            "/sys is not there",
            "python",
            "import os\nprint(os.path.exists('/sys/kernel'), os.path.exists('/sys/fs/cgroup'))\n",
            Prints("False False\n"),
        ),
        case(
            "device nodes can't be made or give no device",
            "python",
            "import os, stat\ntry:\n    os.mknod('/work/sda', 0o600 | stat.S_IFBLK, os.makedev(8, 0))\n    print('made')\n    open('/work/sda', 'rb').read(512)\n    print('read the disk')\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("Operation not permitted\n"),
        )
        // gVisor lets the node be made, but behind it is gVisor's kernel, which has no disk.
        .on_gvisor(Prints("made\nNo such device or address\n")),
        case(
            "a symlink out of the work dir leads nowhere",
            "python",
            "import os\nos.symlink('/etc/shadow', '/work/s')\ntry:\n    open('/work/s').read()\n    print('read')\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("No such file or directory\n"),
        ),
        case(
            "a hard link to a file outside the work dir can't be made",
            "python",
            "import os\ntry:\n    os.link('/etc/passwd', '/work/p')\n    print('linked')\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("Invalid cross-device link\n"),
        ),
        case(
            "a setuid binary gives no privilege",
            "python",
            "import subprocess\nr = subprocess.run(['/usr/bin/su', '-c', 'id -u'], capture_output=True, text=True, input='')\nprint(r.returncode != 0, r.stdout.strip() != '0')\n",
            Prints("True True\n"),
        ),
        case(
            "a sibling can't be traced",
            "python",
            "import ctypes, os, time\nlibc = ctypes.CDLL(None, use_errno=True)\npid = os.fork()\nif pid == 0:\n    time.sleep(5)\n    os._exit(0)\nr = libc.ptrace(16, pid, 0, 0)\nprint(r, os.strerror(ctypes.get_errno()))\nos.kill(pid, 9)\n",
            Prints("-1 Operation not permitted\n"),
        )
        // gVisor's kernel implements ptrace among the sandbox's own processes; no host
        // process is reachable from there (the pid case above: only the program's own).
        .on_gvisor(Prints("0 Success\n")),
        case(
            "nothing can be mounted",
            "python",
            "import subprocess\nr = subprocess.run(['/usr/bin/mount', '-t', 'tmpfs', 'none', '/work'], capture_output=True, text=True)\nprint(r.returncode != 0)\n",
            Prints("True\n"),
        ),
        case(
            "no new namespace, user namespace included",
            "nodejs",
            "const r = require('child_process').spawnSync('/usr/bin/unshare', ['-Urn', 'true'], {encoding: 'utf8'});\nconsole.log(r.status !== 0, r.stderr.includes('Operation not permitted'));\n",
            Prints("true true\n"),
        )
        // gVisor's kernel makes namespaces of its own inside the sandbox, as it makes
        // processes: the host's kernel is not asked.
        .on_gvisor(Prints("false false\n")),
        case(
            "raw sockets are refused",
            "python",
            "import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n    print('raw')\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("Operation not permitted\n"),
        ),
        case(
            "read-only dirs stay read-only",
            "nodejs",
            "const fs = require('fs');\nfor (const p of ['/usr/x', '/etc/x', '/rock/x', '/x']) {\n  try { fs.writeFileSync(p, 'x'); console.log(p, 'written'); } catch (e) { console.log(p, e.code); }\n}\n",
            Prints("/usr/x EROFS\n/etc/x EROFS\n/rock/x EROFS\n/x EROFS\n"),
        )
        // gVisor checks the directory's owner (root) before the mount's read-only flag.
        .on_gvisor(Prints("/usr/x EACCES\n/etc/x EACCES\n/rock/x EACCES\n/x EACCES\n")),
        case(
            "filling the tmpfs ends at its size",
            "python",
            "n = 0\ntry:\n    while True:\n        with open(f'/work/fill{n}', 'wb') as f:\n            f.write(b'x' * (1 << 20))\n        n += 1\nexcept OSError as e:\n    print(e.strerror, n <= 64)\n",
            Prints("No space left on device True\n"),
        ),
        case(
            "fd exhaustion stops at the limit",
            "python",
            "import os\nfds = []\ntry:\n    while True:\n        fds.append(os.open('/dev/null', os.O_RDONLY))\nexcept OSError as e:\n    print(e.strerror, len(fds) < 300)\n",
            Prints("Too many open files True\n"),
        ),
        case(
            "a thread bomb is contained",
            "python",
            "import threading, time\nn = 0\ntry:\n    while True:\n        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n        n += 1\nexcept RuntimeError:\n    print('stopped', n < 100)\n",
            Prints("stopped True\n"),
        ),
        case(
            "zombies and orphans go with the run",
            "python",
            "import os\nORPHAN = '613.1379'\nfor _ in range(5):\n    if os.fork() == 0:\n        os._exit(0)\nif os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', ORPHAN])\nprint('left them')\n",
            Prints("left them\n"),
        ),
        case(
            "the program can't kill its parent",
            "nodejs",
            "try { process.kill(process.ppid, 'SIGKILL'); console.log('sent'); } catch (e) { console.log(e.code); }\n",
            Prints("EPERM\n"),
        )
        // Under gVisor the parent is outside (ppid 0), and kill(0) reaches the program's
        // own process group: it kills itself, and rock reports that.
        .on_gvisor(ExitWith(137, "")),
        case(
            "rock's environment doesn't leak in",
            "nodejs",
            "console.log(Object.keys(process.env).sort().join(' '));\n",
            Prints("HOME LANG LOGNAME PATH TMPDIR USER\n"),
        ),
        Case {
            name: "a timeout while the stdout pipe is full still ends the run",
            lang: "python",
            code: "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
            extra: &["--timeout", "2", "--output-cap", "64k"],
            expect: ExitWith(124, "xxxx"),
            gvisor: None,
        },
        case(
            "output that is not UTF-8 arrives, repaired",
            "python",
            "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')\n",
            Prints("ok \u{fffd}\u{fffd} end\n"),
        ),
    ]
}

/// The corpus through `rock serve` with the local provider: Python runs in sandboxes the
/// fork server forked, Node in warm sandboxes; the server is stopped at the end, and
/// takes its fork server with it. The failures, if any.
fn corpus_through_rock_serve(rock: &Rock) -> Vec<String> {
    let mut command = rock.std_cmd();
    command.env("ROCK_HOSTILE_SECRET", SECRET);
    let server = Server::start_with(command, &["--max-concurrency", "1"]);
    let mut failures = Vec::new();
    for case in corpus() {
        let mut fields = serde_json::json!({});
        if let Some(at) = case.extra.iter().position(|a| *a == "--timeout") {
            let seconds: u64 = case.extra[at + 1].parse().expect("a timeout in seconds");
            fields["timeout"] = seconds.into();
        }
        let (_, body) = server.run(case.lang, case.code, fields);
        // The executor API's -124 and -137 are the 124 and 137 of `rock exec`.
        let exit = body["exit_code"].as_i64().unwrap_or(-1).abs() as i32;
        if let Err(failure) = check(&case, "serve", &body, exit) {
            failures.push(failure);
        }
    }
    if server.stop() != Some(0) {
        failures.push("rock serve did not stop cleanly".into());
    }
    failures
}

/// The sandbox processes, mounts, cgroups and runsc bundles of this machine.
fn traces() -> (Vec<String>, usize, Vec<String>, Vec<String>) {
    // The orphan case's `sleep` has this duration, to be found if it survived.
    let processes = [
        "__rock-sandbox-init",
        "/rock/harness",
        "/rock/forkserver",
        "613.1379",
        "runsc-sandbox",
        "runsc-gofer",
    ]
    .iter()
    .flat_map(|needle| support::processes_with(needle))
    .collect();
    let bundles = support::runsc_bundles();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| m.lines().count())
        .unwrap_or(0);
    let cgroups = support::rock_cgroups();
    (processes, mounts, cgroups, bundles)
}

fn check(case: &Case, provider: &str, result: &Value, exit: i32) -> Result<(), String> {
    let stdout = result["stdout"].as_str().unwrap_or_default();
    let ok = match *case.expected(provider) {
        Expect::Prints(text) => exit == 0 && stdout == text,
        Expect::ExitWith(code, text) => exit == code && stdout.contains(text),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{provider}: {} ({}): exit {exit}, {result}",
            case.name, case.lang
        ))
    }
}

#[test]
fn every_hostile_case_has_its_outcome_and_the_machine_is_unchanged() {
    let before = traces();
    let rock = Rock::new();
    let mut failures = Vec::new();
    for provider in PROVIDERS {
        let health = rock.run(&["provider", "test", provider]);
        if provider == "gvisor" && !health.status.success() {
            eprintln!(
                "skipped the corpus on gvisor: runsc cannot run on this machine: {}",
                support::stderr_of(&health).trim()
            );
            continue;
        }
        for case in corpus() {
            let output = rock
                .std_cmd()
                .env("ROCK_HOSTILE_SECRET", SECRET)
                .args([
                    "exec",
                    "--json",
                    "--provider",
                    provider,
                    "--lang",
                    case.lang,
                ])
                .args(["--code", case.code])
                .args(case.extra)
                .output()
                .expect("run rock");
            let (result, exit) = support::parse_json(&output);
            if let Err(failure) = check(&case, provider, &result, exit) {
                failures.push(failure);
            }
        }
    }
    failures.extend(corpus_through_rock_serve(&rock));
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The runs' processes, mounts, cgroups and bundles went with them. Leftovers of
    // earlier tests may be swept meanwhile: only what is new counts.
    let after = traces();
    let new = |after: &[String], before: &[String]| -> Vec<String> {
        after
            .iter()
            .filter(|t| !before.contains(t))
            .cloned()
            .collect()
    };
    assert_eq!(
        new(&after.0, &before.0),
        Vec::<String>::new(),
        "sandbox processes left behind"
    );
    assert!(
        after.1 <= before.1,
        "mounts left behind in rock's own mount namespace: {} before, {} after",
        before.1,
        after.1
    );
    assert_eq!(
        new(&after.2, &before.2),
        Vec::<String>::new(),
        "cgroups left behind"
    );
    assert_eq!(
        new(&after.3, &before.3),
        Vec::<String>::new(),
        "runsc bundles left in the temp dir"
    );
}
