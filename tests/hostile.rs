//! The hostile-code corpus: programs that try to get out, see out, or wear the machine
//! down, each with the outcome it must have, run one after another against every local
//! provider. At the end the suite checks that the machine is as it was: no sandbox process,
//! mount or cgroup left behind.

mod support;

use serde_json::Value;
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
}

const fn case(name: &'static str, lang: &'static str, code: &'static str, expect: Expect) -> Case {
    Case {
        name,
        lang,
        code,
        extra: &[],
        expect,
    }
}

/// The providers that run code on this machine; the gVisor provider joins when it exists.
const PROVIDERS: [&str; 1] = ["local"];

fn corpus() -> Vec<Case> {
    use Expect::*;
    vec![
        case(
            "host pids are invisible in /proc",
            "python",
            "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n",
            Prints("[1, 2]\n"),
        ),
        case(
            "/proc/1/root leads to the sandbox's own root",
            "python",
            "import os\nprint(os.path.exists('/proc/1/root/etc/shadow'), os.path.exists('/etc/shadow'))\n",
            Prints("False False\n"),
        ),
        case(
            "the init's environment can't be read",
            "python",
            "try:\n    print(open('/proc/1/environ','rb').read())\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("Permission denied\n"),
        ),
        case(
            "/sys is not there",
            "python",
            "import os\nprint(os.path.exists('/sys/kernel'), os.path.exists('/sys/fs/cgroup'))\n",
            Prints("False False\n"),
        ),
        case(
            "device nodes can't be made",
            "python",
            "import os, stat\ntry:\n    os.mknod('/work/sda', 0o600 | stat.S_IFBLK, os.makedev(8, 0))\n    print('made')\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("Operation not permitted\n"),
        ),
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
        ),
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
        ),
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
        ),
        case(
            "filling the tmpfs ends at its size",
            "python",
            "try:\n    with open('/work/fill', 'wb') as f:\n        while True:\n            f.write(b'x' * (1 << 20))\nexcept OSError as e:\n    print(e.strerror)\n",
            Prints("No space left on device\n"),
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
            "the init can't be killed",
            "nodejs",
            "try { process.kill(1, 'SIGKILL'); console.log('sent'); } catch (e) { console.log(e.code); }\n",
            Prints("EPERM\n"),
        ),
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
        },
        case(
            "output that is not UTF-8 arrives, repaired",
            "python",
            "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')\n",
            Prints("ok \u{fffd}\u{fffd} end\n"),
        ),
    ]
}

/// The sandbox processes, mounts and cgroups of this machine.
fn traces() -> (Vec<String>, usize, Vec<String>) {
    // The orphan case's `sleep` has this duration, to be found if it survived.
    let processes = ["__rock-sandbox-init", "/rock/harness", "613.1379"]
        .iter()
        .flat_map(|needle| support::processes_with(needle))
        .collect();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| m.lines().count())
        .unwrap_or(0);
    let mut cgroups = Vec::new();
    for hierarchy in ["memory", "pids", "cpu", "unified", ""] {
        let root = std::path::Path::new("/sys/fs/cgroup").join(hierarchy);
        collect_rock_cgroups(&root, 0, &mut cgroups);
    }
    (processes, mounts, cgroups)
}

fn collect_rock_cgroups(dir: &std::path::Path, depth: usize, out: &mut Vec<String>) {
    if depth > 4 {
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with("rock-") {
            out.push(path.display().to_string());
        } else {
            collect_rock_cgroups(&path, depth + 1, out);
        }
    }
}

fn check(case: &Case, provider: &str, result: &Value, exit: i32) -> Result<(), String> {
    let stdout = result["stdout"].as_str().unwrap_or_default();
    let ok = match case.expect {
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
        for case in corpus() {
            let mut args = vec!["--provider", provider];
            args.extend_from_slice(case.extra);
            let (result, exit) = rock.exec_json(case.lang, case.code, &args);
            if let Err(failure) = check(&case, provider, &result, exit) {
                failures.push(failure);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The run's processes, mounts and cgroups went with it.
    let after = traces();
    assert_eq!(after.0, before.0, "sandbox processes left behind");
    assert_eq!(
        after.1, before.1,
        "mounts left behind in rock's own mount namespace"
    );
    assert_eq!(after.2, before.2, "cgroups left behind");
}
