#!/usr/bin/env python3
"""Benchmark `rock exec` of a hello main() against the same harness run directly by the
same interpreter (no sandbox), in one hyperfine run, and write the ratios and rock's own
peak RSS to docs/benchmarks.md.

Usage: python3 scripts/bench_exec.py [--runs N]
Needs hyperfine (apt-get install hyperfine) and builds rock in release mode.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROCK = os.path.join(ROOT, "target", "release", "rock")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
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
    args = parser.parse_args()
    if not shutil.which("hyperfine"):
        sys.exit("hyperfine is needed: apt-get install hyperfine")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    work = tempfile.mkdtemp(prefix="rock-bench-")
    args_file = os.path.join(work, "args.json")
    with open(args_file, "w") as f:
        json.dump({"name": "World"}, f)

    commands, names = [], []
    for lang, spec in LANGS.items():
        interpreter = real_interpreter(spec["probe"])
        harness = os.path.join(ROOT, spec["harness"])
        example = os.path.join(ROOT, spec["example"])
        # The harness writes the result on fd 3, as in the sandbox.
        direct = f"{interpreter} {spec['flags']} {harness} {example} {args_file} 3>/dev/null"
        sandboxed = f"{ROCK} exec -q --args name=World {example}"
        commands += [direct, sandboxed]
        names += [f"{lang} direct", f"{lang} rock exec"]

    export = os.path.join(work, "hyperfine.json")
    cmd = ["hyperfine", "--warmup", "5", "--runs", str(args.runs), "--export-json", export]
    for name, command in zip(names, commands):
        cmd += ["-n", name, command]
    # Both sides get the sandbox's minimal environment: variables such as
    # NODE_EXTRA_CA_CERTS change an interpreter's start-up time by tens of milliseconds.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": work, "TMPDIR": "/tmp"}
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    with open(export) as f:
        results = {r["command"]: r for r in json.load(f)["results"]}

    rss = peak_rss_kib([ROCK, "exec", "-q", "--args", "name=World", os.path.join(ROOT, LANGS["python"]["example"])])
    rows = []
    for lang in LANGS:
        direct, rock = results[f"{lang} direct"], results[f"{lang} rock exec"]
        ratio = rock["mean"] / direct["mean"]
        rows.append(
            f"| {lang} | {direct['mean'] * 1000:.1f} ± {direct['stddev'] * 1000:.1f} | "
            f"{rock['mean'] * 1000:.1f} ± {rock['stddev'] * 1000:.1f} | "
            f"{(rock['mean'] - direct['mean']) * 1000:.1f} | **{ratio:.2f}** |"
        )

    memory = subprocess.run([ROCK, "exec", "--json", "-l", "py", "-c", "1"], capture_output=True, text=True)
    held = json.loads(memory.stdout)["metadata"].get("memory_limit", "?")
    section = "\n".join(
        [
            START,
            "## `rock exec` against the bare interpreter",
            "",
            f"Measured {datetime.date.today().isoformat()} on {platform.node()} "
            f"({os.cpu_count()} cores, Linux {platform.release()}), {args.runs} runs each after 5 warm-ups, "
            "in one hyperfine run:",
            "",
            "```",
            "python3 scripts/bench_exec.py --runs " + str(args.runs),
            "```",
            "",
            "*direct*: the same harness (`src/exec/harness/*`) run by the same interpreter with the same",
            "flags and the same arguments file, outside any sandbox, with the sandbox's minimal",
            "environment (both sides run under it). *rock exec*: the release binary,",
            f"`rock exec -q --args name=World examples/hello.*`, local provider (memory held by: {held}).",
            "",
            "| language | direct (ms) | rock exec (ms) | overhead (ms) | ratio |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"rock's own peak RSS (VmHWM of the rock process, not the sandboxed interpreter): "
            f"{rss / 1024:.1f} MiB.",
            END,
        ]
    )
    text = open(DOC).read() if os.path.exists(DOC) else "# Benchmarks\n\nEvery figure here comes from a script in `scripts/`; the command is given with each table.\n\n"
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    with open(DOC, "w") as f:
        f.write(text)
    print(section)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
