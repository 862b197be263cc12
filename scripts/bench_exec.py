#!/usr/bin/env python3
"""Benchmark `rock exec` of a hello main() against the same harness run directly by the
same interpreter (no sandbox), interleaved in one run, and write the ratios and rock's own
peak RSS to docs/benchmarks.md. Also times the local provider without seccomp and
Landlock, bubblewrap (a peer) when bwrap is installed, and the gvisor provider when runsc
runs here.

Usage: python3 scripts/bench_exec.py [--runs N]
Builds rock in release mode; needs python3 and node.
"""

import argparse
import datetime
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time

import benchdoc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROCK = os.path.join(ROOT, "target", "release", "rock")
START, END = "<!-- bench-exec:start -->", "<!-- bench-exec:end -->"

LANGS = {
    "python": {
        "example": "examples/hello.py",
        "harness": "src/exec/harness/python.py",
        "probe": ["python3", "-c", "import sys; print(sys.executable)"],
        "flags": "-I -u -B",
    },
    "nodejs": {
        "example": "examples/hello.js",
        "harness": "src/exec/harness/node.js",
        "probe": ["node", "-p", "process.execPath"],
        "flags": "",
    },
}


def real_interpreter(probe):
    out = subprocess.run(probe, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.realpath(out)


def interleaved(commands, runs, env, warmup=5, idle=0.0):
    """Times each command `runs` times, alternating between them in a shuffled order each
    round, so that the machine's load drifts over all of them alike (one shared run).
    `idle`: seconds of sleep before each round."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 3)  # the harness's result fd, for the direct runs
    times = {name: [] for name in commands}
    order = list(commands)
    for round_ in range(warmup + runs):
        random.shuffle(order)
        time.sleep(idle)
        for name in order:
            started = time.perf_counter()
            subprocess.run(
                shlex.split(commands[name]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(3,), env=env, check=True,
            )
            if round_ >= warmup:
                times[name].append(time.perf_counter() - started)
    return {name: {"median": statistics.median(t), "mean": statistics.mean(t), "stdev": statistics.stdev(t)}
            for name, t in times.items()}


def row(*cells):
    """A markdown table row."""
    return "| " + " | ".join(cells) + " |"


def ms(result):
    """A result's median in milliseconds."""
    return f"{result['median'] * 1000:.1f}"


def over(result, base):
    """How many milliseconds `result`'s median lies above `base`'s."""
    return f"{(result['median'] - base['median']) * 1000:.1f}"


def ratio(result, base):
    """The ratio of the medians."""
    return f"{result['median'] / base['median']:.2f}"


def peak_rss_kib(cmd, samples=5):
    """VmHWM of the rock process itself (not its sandbox), polled until it exits."""
    peaks = []
    for _ in range(samples):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = 0
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.0005)
        peaks.append(peak)
    return max(peaks)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--gvisor-runs", type=int, default=60)
    parser.add_argument("--idle-runs", type=int, default=40)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    work = tempfile.mkdtemp(prefix="rock-bench-")
    args_file = os.path.join(work, "args.json")
    with open(args_file, "w") as f:
        json.dump({"name": "World"}, f)

    # Both sides use the very same interpreter binary: rock gets it pinned in a config file.
    interpreters = {lang: real_interpreter(spec["probe"]) for lang, spec in LANGS.items()}
    config = os.path.join(work, "config.toml")
    with open(config, "w") as f:
        for lang, path in interpreters.items():
            f.write(f'[languages.{lang}]\ninterpreter = "{path}"\n')
    # The same with the seccomp filter and Landlock off: what those two cost.
    plain_config = os.path.join(work, "plain.toml")
    with open(config) as f, open(plain_config, "w") as out:
        out.write(f.read() + "[providers.local]\nseccomp = false\nlandlock = false\n")

    probe = subprocess.run([ROCK, "--config", config, "provider", "test", "gvisor"],
                           capture_output=True, text=True)
    gvisor = probe.returncode == 0
    gvisor_version = probe.stdout.split("runsc ", 1)[-1].split(" (", 1)[0] if gvisor else ""
    if not gvisor:
        print("gvisor rows left out: " + probe.stderr.strip())

    # A peer in the same rounds: bubblewrap, the smallest namespace sandbox in common use.
    bwrap = shutil.which("bwrap")
    if not bwrap:
        print("bubblewrap rows left out: no bwrap on PATH (apt-get install bubblewrap)")

    commands, names, gvisor_commands, idle_commands = [], [], {}, {}
    for lang, spec in LANGS.items():
        interpreter = interpreters[lang]
        harness = os.path.join(ROOT, spec["harness"])
        example = os.path.join(ROOT, spec["example"])
        # The harness writes the result on fd 3, as in the sandbox.
        direct = f"{interpreter} {spec['flags']} {harness} {example} {args_file} 3"
        sandboxed = f"{ROCK} --config {config} exec -q --args name=World {example}"
        plain = f"{ROCK} --config {plain_config} exec -q --args name=World {example}"
        commands += [direct, sandboxed, plain]
        names += [f"{lang} direct", f"{lang} rock exec", f"{lang} rock exec, plain"]
        if bwrap:
            # All of bwrap's namespaces (user, pid, net with loopback, ipc, uts, cgroup), the
            # host's / read-only, fresh /dev, /proc and /tmp; the work dir (arguments file)
            # bound back over the new /tmp.
            commands.append(
                f"{bwrap} --unshare-all --die-with-parent --new-session --ro-bind / / --dev /dev "
                f"--proc /proc --tmpfs /tmp --ro-bind {work} {work} {direct}"
            )
            names.append(f"{lang} bwrap")
        if gvisor:
            gvisor_commands[f"{lang} direct"] = direct
            gvisor_commands[f"{lang} rock exec"] = sandboxed
            gvisor_commands[f"{lang} rock exec, gvisor"] = (
                f"{ROCK} --config {config} exec -q --provider gvisor --args name=World {example}"
            )
        idle_commands[f"{lang} direct"] = direct
        idle_commands[f"{lang} rock exec"] = sandboxed

    # Both sides get the sandbox's minimal environment: variables such as
    # NODE_EXTRA_CA_CERTS change an interpreter's start-up time by tens of milliseconds.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": work, "TMPDIR": "/tmp"}
    results = interleaved(dict(zip(names, commands)), args.runs, env)
    # gVisor's runs take a tenth of a second or more, and in the same rounds they would leave
    # every other command a machine in another state (see "Reading the numbers"): their own
    # rounds, with direct and local again.
    gvisor_results = interleaved(gvisor_commands, args.gvisor_runs, env) if gvisor else {}
    # After a second of idleness: what a lone `rock exec` meets.
    idle_results = interleaved(idle_commands, args.idle_runs, env, idle=1.0)

    rss = peak_rss_kib(
        [ROCK, "--config", config, "exec", "-q", "--args", "name=World", os.path.join(ROOT, LANGS["python"]["example"])]
    )
    rows, filter_rows = [], []
    for lang in LANGS:
        rock, plain = results[f"{lang} rock exec"], results[f"{lang} rock exec, plain"]
        filter_rows.append(row(lang, ms(plain), ms(rock), f"{(rock['median'] - plain['median']) * 1000:+.1f}"))
    for lang in LANGS:
        direct, rock = results[f"{lang} direct"], results[f"{lang} rock exec"]
        spread = lambda r: f"{ms(r)} ({r['mean'] * 1000:.1f} ± {r['stdev'] * 1000:.1f})"
        rows.append(
            row(lang, spread(direct), spread(rock), over(rock, direct), f"**{ratio(rock, direct)}**",
                f"{rock['mean'] / direct['mean']:.2f}")
        )

    gvisor_rows = []
    for lang in LANGS if gvisor else []:
        direct, local, gv = (gvisor_results[f"{lang} {k}"] for k in ("direct", "rock exec", "rock exec, gvisor"))
        gvisor_rows.append(row(lang, ms(direct), ms(local), ms(gv), ratio(gv, direct), ratio(gv, local)))
    gvisor_section = [
        "",
        f"The gvisor provider (runsc {gvisor_version}, its default platform): the same request under",
        f"gVisor's user-space kernel, in {args.gvisor_runs} rounds of its own with direct and local again",
        "(medians, ms; ratios of medians):",
        "",
        "| language | direct | local | gvisor | gvisor / direct | gvisor / local |",
        "|---|---|---|---|---|---|",
        *gvisor_rows,
    ] if gvisor else ["", "The gvisor provider was not timed: runsc could not run on this machine."]
    bwrap_rows = []
    for lang in LANGS if bwrap else []:
        direct, peer, rock = (results[f"{lang} {k}"] for k in ("direct", "bwrap", "rock exec"))
        bwrap_rows.append(
            row(lang, ms(direct), ms(peer), ms(rock), over(peer, direct), over(rock, direct),
                ratio(peer, direct), ratio(rock, direct))
        )
    bwrap_version = (
        subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.split()[-1] if bwrap else ""
    )
    bwrap_section = [
        "",
        f"A peer in the same rounds: bubblewrap {bwrap_version} running the direct command with all its",
        "namespaces (`--unshare-all`: user, pid, network with loopback, ipc, uts, cgroup), the host's `/`",
        "bound read-only and fresh `/dev`, `/proc` and `/tmp`. It sets no seccomp filter, no Landlock",
        "ruleset, no cgroup and no rlimits (medians, ms; overheads over direct; ratios to direct):",
        "",
        "| language | direct | bwrap | rock exec | bwrap overhead | rock overhead | bwrap ratio | rock ratio |",
        "|---|---|---|---|---|---|---|---|",
        *bwrap_rows,
    ] if bwrap else ["", "bubblewrap was not timed: no `bwrap` on PATH."]
    idle_rows = []
    for lang in LANGS:
        direct, rock = idle_results[f"{lang} direct"], idle_results[f"{lang} rock exec"]
        idle_rows.append(row(lang, ms(direct), ms(rock), over(rock, direct), ratio(rock, direct)))
    idle_section = [
        "",
        f"After a second of idleness: {args.idle_runs} more rounds of direct and `rock exec`, each round",
        "after one second of sleep, as a lone run meets the machine (medians, ms):",
        "",
        "| language | direct | rock exec | overhead | ratio |",
        "|---|---|---|---|---|",
        *idle_rows,
    ]
    setups, held = [], "?"
    for _ in range(20):
        run = subprocess.run([ROCK, "--config", config, "exec", "--json", "-l", "py", "-c", "1"],
                             capture_output=True, text=True, env=env)
        metadata = json.loads(run.stdout)["metadata"]
        setups.append(metadata["sandbox_setup_time"])
        held = metadata.get("memory_limit", "?")
    setup_ms = statistics.median(setups) * 1000
    section = "\n".join(
        [
            START,
            "## `rock exec` against the bare interpreter",
            "",
            f"Measured {datetime.date.today().isoformat()} on {platform.node()} "
            f"({os.cpu_count()} cores, Linux {platform.release()}): {args.runs} rounds after 5 warm-up rounds,",
            "each round running every command once in a shuffled order, so that all of them share the",
            "machine's load alike:",
            "",
            "```",
            f"python3 scripts/bench_exec.py --runs {args.runs} --gvisor-runs {args.gvisor_runs} "
            f"--idle-runs {args.idle_runs}",
            "```",
            "",
            "Interpreters: " + ", ".join(f"`{p}`" for p in interpreters.values()) + ".",
            "",
            "*direct*: the same harness (`src/exec/harness/*`) run by the same interpreter with the same",
            "flags and the same arguments file, outside any sandbox, with the sandbox's minimal",
            "environment (both sides run under it). *rock exec*: the release binary,",
            f"`rock exec -q --args name=World examples/hello.*`, local provider (memory held by: {held}).",
            "",
            "Times are wall-clock milliseconds per run, as median (mean ± standard deviation); the",
            "ratio is rock's median over the direct median, then the ratio of the means.",
            "",
            "| language | direct (ms) | rock exec (ms) | overhead (ms, medians) | ratio | ratio of means |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "What seccomp and Landlock cost: the same `rock exec` with `providers.local.seccomp = false`",
            "and `landlock = false` (namespaces, mounts, rlimits and cgroup alone), in the same rounds",
            "(medians, ms; the target for the two is under 1 ms; a difference that small is within the",
            "noise of whole-run timings here):",
            "",
            "| language | plain namespaces | seccomp + landlock (default) | difference |",
            "|---|---|---|---|",
            *filter_rows,
            *bwrap_section,
            *idle_section,
            *gvisor_section,
            "",
            f"Of rock's overhead, {setup_ms:.1f} ms (median of 20 runs, `metadata.sandbox_setup_time`) is the",
            "sandbox's set-up from the moment rock has its request until the program's fork: what is left",
            "then of the pid and network namespaces and the mounts (the helper was made at rock's start, in",
            "its other namespaces). The rest is rock's own start, its config, the teardown of the namespaces",
            "and the cgroup, and the result's way back.",
            "",
            f"rock's own peak RSS (VmHWM of the rock process, not the sandboxed interpreter): "
            f"{rss / 1024:.1f} MiB.",
            END,
        ]
    )
    benchdoc.write_section(START, END, section)
    print(section)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
