#!/usr/bin/env python3
"""Benchmark of the docker provider: a hello main() run in a fresh container through
`rock exec --provider docker` (cold) and through `rock serve --sandbox docker` (pooled:
a container created ahead, started by the run), under runc and under runsc (gVisor),
beside the local sandbox measured in the same run as the baseline. Writes p50/p90
latency and the ratio to the local cold run to docs/benchmarks.md.

Usage: python3 scripts/bench_docker.py [--runs N]
Needs podman, runc and runsc (Debian packages). Starts its own Podman services (one per
runtime, as tests/support/podman.rs does) and imports the image scripts/container-image
makes of this machine's python3.11 and node; the local provider runs those same binaries.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time

import benchdoc
from benchdoc import percentile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROCK = os.path.join(ROOT, "target", "release", "rock")
IMAGE = "localhost/rock-runtime:test"
START, END = "<!-- bench-docker:start -->", "<!-- bench-docker:end -->"
EXAMPLES = {"python": "examples/hello.py", "nodejs": "examples/hello.js"}
CODE = {
    "python": "def main(name):\n    return {'message': 'Hello ' + name + '!'}\n",
    "nodejs": "function main(args) { return { message: 'Hello ' + args.name + '!' }; }\n",
}
EXPECTED = {"message": "Hello World!"}


def start_engine(work, runtime):
    """A Podman service whose default runtime is `runtime`; returns (process, socket, env)."""
    directory = os.path.join(work, runtime)
    os.makedirs(directory)
    wrapper = os.path.join(directory, "runsc-none")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec runsc --network=none "$@"\n')
    os.chmod(wrapper, 0o755)
    conf = os.path.join(directory, "containers.conf")
    with open(conf, "w") as f:
        f.write(f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "{runtime}"\n\n'
                f'[engine.runtimes]\nrunsc = ["{wrapper}"]\n\n'
                '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n')
    env = dict(os.environ, CONTAINERS_CONF=conf)
    if subprocess.run(["podman", "image", "exists", IMAGE], env=env).returncode != 0:
        subprocess.run([os.path.join(ROOT, "scripts", "container-image"), IMAGE], env=env,
                       check=True, stdout=subprocess.DEVNULL)
    socket = os.path.join(directory, "podman.sock")
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not os.path.exists(socket):
        if time.time() > deadline:
            raise SystemExit("podman's service did not start")
        time.sleep(0.05)
    return service, socket, env


def write_config(work, name, socket, runtime, python, node):
    path = os.path.join(work, f"{name}.toml")
    with open(path, "w") as f:
        f.write(f'[languages.python]\ninterpreter = "{python}"\n'
                f'[languages.nodejs]\ninterpreter = "{node}"\n')
        if socket:
            f.write(f'[providers.docker]\nhost = "unix://{socket}"\nruntime = "{runtime}"\n'
                    f'python_image = "{IMAGE}"\nnodejs_image = "{IMAGE}"\n')
    return path


def cold(config, provider, language, runs):
    """`runs` `rock exec` processes one after the other: wall time of each."""
    command = [ROCK, "--config", config, "exec", "--json", "--provider", provider,
               "--args", "name=World", os.path.join(ROOT, EXAMPLES[language])]
    latencies, errors = [], []
    for _ in range(runs + 1):
        started = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        try:
            ok = json.loads(run.stdout)["result"]["value"] == EXPECTED
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            errors.append(run.stderr.strip()[:300])
        latencies.append(elapsed)
    return {"latencies": latencies[1:], "errors": errors}  # the first warms the caches


def pool_ready(connection, language):
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    line = f'rock_pool_ready{{language="{language}"}} '
    return next((int(l[len(line):]) for l in metrics.splitlines() if l.startswith(line)), 0)


def pooled(config, provider, language, runs):
    """`runs` POST /run to `rock serve --sandbox PROVIDER --pool 2`, each sent once a warm
    sandbox is ready (not timed): the latency of a run that takes one."""
    server = subprocess.Popen([ROCK, "--config", config, "serve", "--sandbox", provider,
                               "--listen", "127.0.0.1:0", "--pool", "2"],
                              stderr=subprocess.PIPE, text=True)
    first = server.stderr.readline()
    threading.Thread(target=server.stderr.read, daemon=True).start()
    host, port = first.split("listening on http://")[1].split()[0].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    body = json.dumps({"code_b64": base64.b64encode(CODE[language].encode()).decode(),
                       "language": language, "arguments": {"name": "World"}})
    latencies, errors = [], []
    for _ in range(runs + 1):
        deadline = time.time() + 30
        while pool_ready(connection, language) < 1 and time.time() < deadline:
            time.sleep(0.02)
        started = time.perf_counter()
        connection.request("POST", "/run", body, {"Content-Type": "application/json"})
        answer = json.loads(connection.getresponse().read())
        latencies.append(time.perf_counter() - started)
        if answer.get("status") != "success" or answer["result"]["value"] != EXPECTED:
            errors.append(json.dumps(answer)[:300])
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    warm = next(int(l.split()[1]) for l in metrics.splitlines() if l.startswith("rock_warm_runs_total "))
    server.terminate()
    server.wait(timeout=60)
    return {"latencies": latencies[1:], "errors": errors, "not_warm": runs + 1 - warm}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30, help="runs per row")
    args = parser.parse_args()
    for tool in ("podman", "runc", "runsc"):
        if not shutil.which(tool):
            raise SystemExit(f"bench_docker needs {tool}: apt-get install podman runc runsc")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    python = "/usr/bin/python3.11"
    node = os.path.realpath(shutil.which("node"))
    work = tempfile.mkdtemp(prefix="rock-bench-docker-")
    engines = {runtime: start_engine(work, runtime) for runtime in ("runc", "runsc")}
    configs = {"local": write_config(work, "local", None, None, python, node)}
    for runtime, (_, socket, _) in engines.items():
        configs[runtime] = write_config(work, runtime, socket, runtime, python, node)

    rows = []
    try:
        for language in EXAMPLES:
            baseline = cold(configs["local"], "local", language, args.runs)
            measured = [
                ("local, `rock exec` (baseline)", baseline),
                ("local, `rock serve` (warm sandbox)",
                 pooled(configs["local"], "local", language, args.runs)),
            ]
            for runtime in ("runc", "runsc"):
                measured.append((f"docker ({runtime}), `rock exec` (cold container)",
                                 cold(configs[runtime], "docker", language, args.runs)))
                measured.append((f"docker ({runtime}), `rock serve` (pooled container)",
                                 pooled(configs[runtime], "docker", language, args.runs)))
            base = percentile(baseline["latencies"], 50)
            for label, result in measured:
                p50, p90 = percentile(result["latencies"], 50), percentile(result["latencies"], 90)
                rows.append(f"| {label} | {language} | {len(result['latencies'])} | {p50 * 1000:.0f} | "
                            f"{p90 * 1000:.0f} | {p50 / base:.2f} | {len(result['errors'])} |")
                for error in result["errors"][:2]:
                    print(f"error ({label}, {language}): {error}")
                if result.get("not_warm"):
                    print(f"note ({label}, {language}): {result['not_warm']} runs found no warm sandbox")
    finally:
        for service, _, _ in engines.values():
            service.terminate()
            service.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    version = subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout.strip()
    runsc = subprocess.run(["runsc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    lines = [
        START,
        "## The docker provider: cold and pooled containers",
        "",
        f"Measured {datetime.date.today().isoformat()} on {platform.node()} "
        f"({os.cpu_count()} cores, Linux {platform.release()}), {version}, {runsc}:",
        "",
        "```",
        f"python3 scripts/bench_docker.py --runs {args.runs}",
        "```",
        "",
        "A hello `main(name)` per run, its result checked, one run at a time. Wall time of a "
        "whole `rock exec` process, or of a `POST /run` to `rock serve --pool 2` sent once a "
        "warm sandbox was ready. Every row runs the same binaries: Debian's "
        f"`{python}` and `{node}`, on the host for `local`, in the image "
        "`scripts/container-image` makes of them for `docker`. The ratio is each row's p50 "
        "over the local `rock exec` p50 of the same language, measured in the same run.",
        "",
        "| how | language | runs | p50 (ms) | p90 (ms) | p50 / local exec | errors |",
        "|---|---|---|---|---|---|---|",
        *rows,
        END,
    ]
    section = "\n".join(lines)
    benchdoc.write_section(START, END, section)
    print(section)


if __name__ == "__main__":
    main()
