#!/usr/bin/env python3
"""Load benchmark of `rock serve`: a hello main() in Python and in Node, sent by concurrent
clients over keep-alive HTTP connections, then the same runs through `rock exec` (a cold
sandbox each) in the same run, as the baseline. Writes p50/p99 latency, runs per second
and the error count to docs/benchmarks.md.

Usage: python3 scripts/bench_serve.py [--runs N] [--clients N] [--cold-runs N]
Builds rock in release mode; needs node and a python3, and uses wrk (Debian's `wrk`) for the
concurrent clients where it is installed.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import benchdoc
from benchdoc import percentile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROCK = os.path.join(ROOT, "target", "release", "rock")
START, END = "<!-- bench-serve:start -->", "<!-- bench-serve:end -->"

CODE = {
    "python": "def main(name):\n    return {'message': 'Hello ' + name}\n",
    "nodejs": "function main(args) { return { message: 'Hello ' + args.name }; }\n",
}
EXAMPLES = {"python": "examples/hello.py", "nodejs": "examples/hello.js"}
EXPECTED = {"message": "Hello World"}
# A pause the pool refills within: the latency of a warm sandbox, not of making one.
PAUSE = 0.05


def request_body(language):
    """The POST /run body of a hello main() in `language`."""
    return json.dumps({
        "code_b64": base64.b64encode(CODE[language].encode()).decode(),
        "language": language,
        "arguments": {"name": "World"},
    })


def load(address, language, runs, clients, pause=0.0):
    """`runs` POST /run from `clients` threads, each on its own keep-alive connection,
    each waiting `pause` seconds after each answer."""
    host, port = address.rsplit(":", 1)
    body = request_body(language)
    latencies, errors, warm_before = [], [], None
    lock = threading.Lock()
    remaining = [runs]

    def client():
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                connection.request("POST", "/run", body, {"Content-Type": "application/json"})
                answer = json.loads(connection.getresponse().read())
                ok = answer.get("status") == "success" and answer["result"]["value"] == EXPECTED
                failure = None if ok else answer
            except Exception as err:  # noqa: BLE001 - counted as an error
                failure = repr(err)
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=120)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if failure is not None:
                    errors.append(failure)
            time.sleep(pause)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"runs": runs, "wall": wall, "latencies": latencies, "errors": errors}


def load_wrk(address, language, runs, clients, threads=2):
    """`runs` POST /run from wrk's `clients` connections (on `threads` threads), each answer
    checked for the expected result by scripts/bench_serve.lua. wrk costs the machine far
    less than this script's own clients, which share the server's two cores."""
    work = tempfile.mkdtemp(prefix="rock-bench-wrk-")
    body = os.path.join(work, "body.json")
    with open(body, "w") as f:
        f.write(request_body(language))
    done_dir = os.path.join(work, "done")
    os.mkdir(done_dir)
    env = dict(os.environ, ROCK_BODY_FILE=body, ROCK_DONE_DIR=done_dir,
               ROCK_EXPECTED='"value":{"message":"Hello World"}',
               ROCK_RUNS_PER_THREAD=str(-(-runs // threads)))
    wrk = subprocess.Popen(
        ["wrk", f"-t{threads}", f"-c{clients}", "-d3600s", "--timeout", "120s",
         "-s", os.path.join(ROOT, "scripts", "bench_serve.lua"), f"http://{address}/run"],
        stdout=subprocess.PIPE, text=True, env=env)
    # Each thread leaves a file when it has its share of answers; then wrk reports.
    while len(os.listdir(done_dir)) < threads and wrk.poll() is None:
        time.sleep(0.01)
    wrk.send_signal(signal.SIGINT)
    output = wrk.communicate(timeout=120)[0]
    shutil.rmtree(work, ignore_errors=True)
    line = next(line for line in output.splitlines() if line.startswith("ROCK "))
    fields = dict(item.split("=") for item in line.split()[1:])
    return {
        "runs": int(fields["answers"]),
        "wall": int(fields["duration_us"]) / 1e6,
        "p50": int(fields["p50_us"]) / 1e6,
        "p99": int(fields["p99_us"]) / 1e6,
        "errors": ["an answer without the expected result"] * int(fields["errors"]),
    }


def cold(config, language, runs, clients):
    """The same requests as `rock exec` processes, `clients` at a time."""
    latencies, errors = [], []
    lock = threading.Lock()
    remaining = [runs]
    command = [ROCK, "--config", config, "exec", "--json", "--args", "name=World",
               os.path.join(ROOT, EXAMPLES[language])]

    def client():
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            started = time.perf_counter()
            run = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            try:
                ok = json.loads(run.stdout)["result"]["value"] == {"message": "Hello World!"}
            except (ValueError, KeyError, TypeError):
                ok = False
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(run.stderr)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"runs": runs, "wall": time.perf_counter() - started, "latencies": latencies, "errors": errors}


def row(label, language, result):
    if "latencies" in result:
        p50, p99 = percentile(result["latencies"], 50), percentile(result["latencies"], 99)
    else:
        p50, p99 = result["p50"], result["p99"]
    return (f"| {label} | {language} | {result['runs']} | {p50 * 1000:.1f} | "
            f"{p99 * 1000:.1f} | {result['runs'] / result['wall']:.0f} | {len(result['errors'])} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10000, help="runs per language through rock serve")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--cold-runs", type=int, default=1000, help="runs per language through rock exec")
    parser.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    work = tempfile.mkdtemp(prefix="rock-bench-serve-")
    python = os.path.realpath(shutil.which(args.python) or args.python)
    node = os.path.realpath(shutil.which("node"))
    config = os.path.join(work, "config.toml")
    with open(config, "w") as f:
        f.write(f'[languages.python]\ninterpreter = "{python}"\n[languages.nodejs]\ninterpreter = "{node}"\n')
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "XDG_CACHE_HOME": os.path.join(work, "cache")}
    server = subprocess.Popen([ROCK, "--config", config, "serve", "--listen", "127.0.0.1:0"],
                              stderr=subprocess.PIPE, text=True, env=env)
    first = server.stderr.readline()
    address = first.split("listening on http://")[1].split()[0]
    threading.Thread(target=lambda: server.stderr.read(), daemon=True).start()
    time.sleep(2)  # the pool fills

    results = []
    for language in CODE:
        load(address, language, 200, args.clients)  # warm-up, not counted
        time.sleep(1)
        paced = load(address, language, 300, 1, pause=PAUSE)
        results.append((f"rock serve, 1 client, a run every {PAUSE * 1000:.0f} ms or more", language, paced))
        time.sleep(1)
        single = load(address, language, 300, 1)
        results.append(("rock serve, 1 client, back to back", language, single))
        time.sleep(1)
        if shutil.which("wrk"):
            results.append((f"rock serve, {args.clients} clients (wrk)", language,
                            load_wrk(address, language, args.runs, args.clients)))
        else:
            results.append((f"rock serve, {args.clients} clients", language,
                            load(address, language, args.runs, args.clients)))
    connection = http.client.HTTPConnection(*address.rsplit(":", 1), timeout=10)
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    warm = next((line.split()[1] for line in metrics.splitlines() if line.startswith("rock_warm_runs_total ")), "?")
    total = sum(r[2]["runs"] for r in results) + 400
    server.terminate()
    server.wait(timeout=60)
    for language in CODE:
        results.append((f"rock exec (cold), {args.clients} at a time", language,
                        cold(config, language, args.cold_runs, args.clients)))

    lines = [
        START,
        "## `rock serve` under load",
        "",
        f"Measured {datetime.date.today().isoformat()} on {platform.node()} "
        f"({os.cpu_count()} cores, Linux {platform.release()}):",
        "",
        "```",
        f"python3 scripts/bench_serve.py --runs {args.runs} --clients {args.clients} --cold-runs {args.cold_runs}",
        "```",
        "",
        f"A hello `main(name)` per run, checked for its result. `rock serve` with its defaults (local "
        f"sandbox, as many runs at once as cores, warm pools of 4 Python and 2 Node sandboxes). "
        f"Rows marked (wrk) are driven by wrk (2 threads, one keep-alive connection per client, "
        f"`scripts/bench_serve.lua` checks each answer); the other clients are threads of the "
        f"script, each on one keep-alive connection. Interpreters: "
        f"`{python}`, `{node}`. Of about {total} runs sent to the server, {warm} took a warm sandbox. "
        "The baseline, in the same run: `rock exec --json --args name=World examples/hello.*`, "
        "a cold sandbox per process.",
        "",
        "| how | language | runs | p50 (ms) | p99 (ms) | runs/s | errors |",
        "|---|---|---|---|---|---|---|",
        *[row(label, language, result) for label, language, result in results],
        END,
    ]
    section = "\n".join(lines)
    benchdoc.write_section(START, END, section)
    print(section)
    for label, language, result in results:
        for error in result["errors"][:3]:
            print(f"error ({label}, {language}): {str(error)[:300]}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
