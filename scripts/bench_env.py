#!/usr/bin/env python3
"""Benchmark `rock env create` (cold, and with the archive cached and unpacked) against
ROCK's own install path (wget + tar + mv in a shell), for Python and Node, interleaved in
one run, all downloading from one local HTTP mirror, and write the table to
docs/benchmarks.md.

Usage: python3 scripts/bench_env.py [--runs N] [--node-runs M]
Builds rock in release mode and the test fixtures (scripts/fixtures); needs wget, tar, bash.
"""

import argparse
import datetime
import functools
import http.server
import os
import platform
import random
import resource
import shlex
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import benchdoc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROCK = os.path.join(ROOT, "target", "release", "rock")
FIXTURES = os.path.join(ROOT, "target", "test-fixtures")
START, END = "<!-- bench-env:start -->", "<!-- bench-env:end -->"
WARMUP = 1  # rounds run but not counted: page cache, the cached pair's first download

PY_ARCHIVE = "cpython-3.11.14+20251120-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
NODE_ARCHIVE = "node-v22.18.0-linux-x64.tar.gz"

# What each runtime needs: rock's type and mirror variable, where the archive sits under
# the fixtures (served as the mirror's base), ROCK's install command for it, and the file
# that proves an install worked.
RUNTIMES = {
    "python": {
        "mirror_var": "ROCK_PYTHON_MIRROR",
        "mirror_dir": "python-mirror",
        "archive": f"20251120/{PY_ARCHIVE}",
        "version": "3.11.14",
        # ROCK's command, word for word, with {url} filled in.
        "rock_cmd": "[ -f cpython31114.tar.gz ] && rm cpython31114.tar.gz; [ -d python ] && rm -rf python; "
                    "wget -q -O cpython31114.tar.gz {url} && tar -xzf cpython31114.tar.gz && mv python runtime-env",
        "exe": "bin/python3",
    },
    "node": {
        "mirror_var": "ROCK_NODE_MIRROR",
        "mirror_dir": "node-mirror",
        "archive": f"v22.18.0/{NODE_ARCHIVE}",
        "version": "22.18.0",
        "rock_cmd": "wget -q -O node.tar.gz {url} && tar -xzf node.tar.gz && mv node-v22.18.0-linux-x64 runtime-env",
        "exe": "bin/node",
    },
}
KINDS = ["rock cold", "rock cached", "ROCK's path"]

# Deletions. Why the unpacked trees are deleted only at the end, not after each command:
# on ext4 without a journal (this machine's root file system), allocating an inode skips,
# reading the inode table to find them, the inodes freed in the last minute or more
# (`recently_deleted` in the kernel's ext4 ialloc.c). Deleting a tree between commands made
# each following unpack up to five times slower (perf: most of tar's time in that check),
# and by how much depended on what had been deleted just before. Only the two cached envs
# of a round are removed as they go (their files are links: only their dirs are freed).


class Mirror:
    """Serves the fixtures directory on 127.0.0.1 from a daemon thread, counting requests so
    the script can check that a cached create makes none and a cold one does download."""

    def __init__(self, directory):
        mirror = self

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with mirror.lock:
                    mirror.requests += 1
                super().do_GET()

        self.lock = threading.Lock()
        self.requests = 0
        handler = functools.partial(Quiet, directory=directory)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return self.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def remove(path):
    """rmtree that also copes with the read-only files and dirs of rock's store."""
    def retry(func, failed, _exc):
        os.chmod(os.path.dirname(failed), stat.S_IRWXU)
        if os.path.isdir(failed):
            os.chmod(failed, stat.S_IRWXU)
        func(failed)
    shutil.rmtree(path, onerror=retry)


def filesystem(path):
    """The file system type under `path`, e.g. "ext4 without a journal", from /proc/self/mountinfo."""
    path = os.path.realpath(path)
    best, fstype, source = "", "?", ""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mount = fields[4]
            rest = fields[fields.index("-") + 1:]
            if (path == mount or path.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                best, fstype, source = mount, rest[0], rest[1]
    if fstype == "ext4":
        # ext4 shows its journal thread here; "<none>" when it has no journal.
        try:
            with open(f"/sys/fs/ext4/{os.path.basename(source)}/journal_task") as f:
                if f.read().strip() == "<none>":
                    return "ext4 without a journal"
        except OSError:
            pass
    return fstype


def tree_size(path):
    files, size = 0, 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            files += 1
            size += st.st_size
    return files, size


class Bench:
    def __init__(self, work, mirror):
        self.work = work
        self.mirror = mirror
        self.home = os.path.join(work, "home")  # an empty HOME: no ~/.wgetrc, no rock config
        os.mkdir(self.home)
        self.serial = 0
        # One persistent (data, cache) pair per runtime for the cached creates.
        self.cached = {name: self.dirs(f"cached-{name}") for name in RUNTIMES}

    def scratch(self, label):
        """A new empty dir under the work dir."""
        self.serial += 1
        path = os.path.join(self.work, f"{label}-{self.serial}")
        os.mkdir(path)
        return path

    def dirs(self, label):
        """A new (base, XDG_DATA_HOME, XDG_CACHE_HOME) triple, both XDG dirs empty."""
        base = self.scratch(label)
        data, cache = os.path.join(base, "data"), os.path.join(base, "cache")
        os.mkdir(data)
        os.mkdir(cache)
        return base, data, cache

    def env(self, name, data=None, cache=None):
        """The minimal environment both sides run with (no proxy variables, an empty HOME)."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self.home, "LANG": "C.UTF-8"}
        if data:
            spec = RUNTIMES[name]
            env.update(XDG_DATA_HOME=data, XDG_CACHE_HOME=cache,
                       **{spec["mirror_var"]: f"{self.mirror.url}/{spec['mirror_dir']}"})
        return env

    def timed(self, argv, **kwargs):
        """Runs argv after an os.sync(), so that it starts with no dirty pages and pays for
        no earlier command's writeback. Returns the CompletedProcess and one sample: wall
        time, the CPU time of the command and its descendants, and the mirror's requests."""
        os.sync()
        requests = self.mirror.count()
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run = subprocess.run(argv, timeout=600, **kwargs)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return run, {"wall": wall, "user": after.ru_utime - cpu.ru_utime, "sys": after.ru_stime - cpu.ru_stime,
                     "requests": self.mirror.count() - requests}

    def create(self, name, data, cache):
        """`rock env create -q <name>`; returns (env id, sample). The id is stdout's first word."""
        run, sample = self.timed([ROCK, "env", "create", "-q", name], env=self.env(name, data, cache),
                                 capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"rock env create {name} failed ({run.returncode}):\n{run.stderr}")
        env_id = run.stdout.split()[0]
        exe = os.path.join(data, "rock", "runtime-envs", name, RUNTIMES[name]["version"], env_id,
                           "runtime-env", RUNTIMES[name]["exe"])
        if not os.path.isfile(exe):
            sys.exit(f"rock env create {name} printed {env_id} but made no {exe}")
        return env_id, sample

    def rm(self, name, data, cache, *ids):
        subprocess.run([ROCK, "env", "rm", "-q", *ids], env=self.env(name, data, cache),
                       check=True, stdout=subprocess.DEVNULL, timeout=600)

    def measure(self, name, kind):
        """One timed run of `kind` for runtime `name`; set-up and clean-up are outside the timing.
        The trees it makes stay until the end of the run (see Deletions, at the top)."""
        spec = RUNTIMES[name]
        if kind == "rock cold":
            _, data, cache = self.dirs(f"cold-{name}")
            _, sample = self.create(name, data, cache)
        elif kind == "rock cached":
            _, data, cache = self.cached[name]
            # Prime: the first round downloads and unpacks; later ones find both already there.
            primed, _ = self.create(name, data, cache)
            env_id, sample = self.create(name, data, cache)
            self.rm(name, data, cache, primed, env_id)
        else:
            cwd = self.scratch(f"rock-path-{name}")
            url = f"{self.mirror.url}/{spec['mirror_dir']}/{spec['archive']}"
            command = spec["rock_cmd"].format(url=shlex.quote(url))
            run, sample = self.timed(["bash", "-c", command], cwd=cwd, env=self.env(name),
                                     stdout=subprocess.DEVNULL)
            if run.returncode != 0 or not os.path.isfile(os.path.join(cwd, "runtime-env", spec["exe"])):
                sys.exit(f"ROCK's path for {name} failed ({run.returncode}) or made no runtime-env/{spec['exe']}")
        return sample

    def interleaved(self, name, runs):
        """Times the three kinds `runs` times, alternating between them in a shuffled order
        each round, so that the machine's load drifts over all of them alike."""
        samples = {kind: [] for kind in KINDS}
        order = list(KINDS)
        for round_ in range(WARMUP + runs):
            random.shuffle(order)
            this_round = {kind: self.measure(name, kind) for kind in order}
            if round_ >= WARMUP:
                for kind, sample in this_round.items():
                    samples[kind].append(sample)
            label = f"round {round_ + 1 - WARMUP}/{runs}" if round_ >= WARMUP else "warm-up"
            print(f"{name} {label}: " + ", ".join(
                f"{kind} {1000 * this_round[kind]['wall']:.0f} ms (sys {1000 * this_round[kind]['sys']:.0f})"
                for kind in KINDS), file=sys.stderr)
        return {kind: summary(s) for kind, s in samples.items()}


def summary(samples):
    wall = [s["wall"] for s in samples]
    return {"median": statistics.median(wall), "mean": statistics.mean(wall),
            "stdev": statistics.stdev(wall) if len(wall) > 1 else 0.0,
            "user": statistics.median(s["user"] for s in samples),
            "sys": statistics.median(s["sys"] for s in samples),
            # The distinct request counts seen, e.g. [2] or [0].
            "requests": sorted({s["requests"] for s in samples})}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15, help="rounds for python (default 15)")
    parser.add_argument("--node-runs", type=int, help="rounds for node (default: half of --runs, at least 3)")
    args = parser.parse_args()
    node_runs = args.node_runs or max(3, (args.runs + 1) // 2)
    command_line = f"python3 scripts/bench_env.py --runs {args.runs}"
    if args.node_runs:
        command_line += f" --node-runs {args.node_runs}"

    # ROCK's path needs wget; measuring it with anything else would not be ROCK's path.
    missing = [tool for tool in ("wget", "tar", "bash") if not shutil.which(tool)]
    if missing:
        hint = " (apt-get install wget)" if "wget" in missing else ""
        sys.exit(f"bench_env: {', '.join(missing)} not found{hint}")

    subprocess.run([os.path.join(ROOT, "scripts", "fixtures")], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    # Everything stays on disk until the end (see Deletions): an archive and its unpacked
    # tree (about 3.5 times the archive) twice a round, for rock cold and ROCK's path.
    rounds = {"python": args.runs, "node": node_runs}
    archives = {name: os.path.join(FIXTURES, spec["mirror_dir"], spec["archive"]) for name, spec in RUNTIMES.items()}
    need = sum((rounds[name] + WARMUP) * 10 * os.path.getsize(archives[name]) for name in RUNTIMES)
    work = tempfile.mkdtemp(prefix="rock-bench-env-")
    if shutil.disk_usage(work).free < need:
        os.rmdir(work)
        sys.exit(f"bench_env: about {need / 1e9:.1f} GB free needed in {tempfile.gettempdir()}; use fewer --runs")
    fs = filesystem(work)
    mirror = Mirror(FIXTURES)
    try:
        bench = Bench(work, mirror)
        results = {"python": bench.interleaved("python", args.runs),
                   "node": bench.interleaved("node", node_runs)}
        # Sizes, for the reader: the archive, and the tree one env holds (from the cached
        # pair's store, which the cached creates hard-link from).
        sizes = {}
        for name in RUNTIMES:
            store = os.path.join(bench.cached[name][1], "rock", "runtime-envs", ".store", name)
            sizes[name] = (os.path.getsize(archives[name]), *tree_size(store))
    finally:
        mirror.close()
        remove(work)

    section = render(results, sizes, fs, args.runs, node_runs, command_line)
    benchdoc.write_section(START, END, section)
    print(section)


def render(results, sizes, fs, runs, node_runs, command_line):
    ms = lambda seconds: f"{seconds * 1000:.0f}"
    rows = []
    for name in RUNTIMES:
        res = results[name]
        rock_path = res["ROCK's path"]["median"]
        for kind in KINDS:
            r = res[kind]
            ratio = "1" if kind == "ROCK's path" else f"{rock_path / r['median']:.1f}"
            if kind == "rock cached":
                ratio = f"**{ratio}**"
            rows.append(f"| {name} | {kind} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stdev'])} | "
                        f"{ms(r['user'])} + {ms(r['sys'])} | {ratio} |")

    py = results["python"]
    cached_ratio = py["ROCK's path"]["median"] / py["rock cached"]["median"]
    cold_ratio = py["ROCK's path"]["median"] / py["rock cold"]["median"]
    held = "holds" if cached_ratio >= 5 else "does not hold"
    requests = "; ".join(
        f"{name}: " + ", ".join(f"{kind} {'/'.join(map(str, results[name][kind]['requests']))}" for kind in KINDS)
        for name in RUNTIMES
    )
    return "\n".join(
        [
            START,
            "## `rock env create` against ROCK's wget + tar install",
            "",
            f"Measured {datetime.date.today().isoformat()} on {platform.node()} "
            f"({len(os.sched_getaffinity(0))} cores, Linux {platform.release()}, temp dirs on {fs}):",
            f"python {runs} rounds and node {node_runs} rounds, each after {WARMUP} warm-up round, each round",
            "running the three commands once in a shuffled order, so that all of them share the",
            "machine's load alike:",
            "",
            "```",
            command_line,
            "```",
            "",
            "Both sides download from the same local mirror: an HTTP server in the script, on",
            "127.0.0.1, serving the fixtures made by `scripts/fixtures` (laid out as upstream):",
            "",
            *(f"- {name}: {archive / 1e6:.1f} MB archive; unpacked, {files} files and symlinks, {size / 1e6:.0f} MB."
              for name, (archive, files, size) in sizes.items()),
            "",
            "*rock cold*: the release binary, `rock env create -q <type>` with `ROCK_PYTHON_MIRROR` or",
            "`ROCK_NODE_MIRROR` set and fresh, empty `XDG_DATA_HOME` and `XDG_CACHE_HOME`: it fetches",
            "the mirror's checksum file and the archive, checks the SHA-256, writes the archive to",
            "the download cache (fsync'd), unpacks it into the per-version store, makes the store's",
            "files read-only and hard-links the env from it. *rock cached*: the same command in a",
            "persistent pair of dirs, right after an untimed create there, so the archive is cached",
            "and the store unpacked: no request, only the env's tree of hard links (both envs are",
            "removed with `rock env rm` after the timing). *ROCK's path*: ROCK's install command, run",
            "by `bash -c` in a fresh empty work dir: `wget -q -O <file> <URL> && tar -xzf <file> &&",
            "mv <top dir> runtime-env` (for python with ROCK's leading `rm` of an earlier archive and",
            "`python` dir).",
            "",
            "All three run with a minimal environment (`PATH`, an empty `HOME`, `LANG`, plus rock's",
            "XDG dirs and mirror variable). Each timed command starts after an `os.sync()`, so that",
            "none pays for the writeback of another's files; set-up and clean-up are outside the",
            "timing, and the trees made are deleted only at the end of the run (on ext4 without a",
            "journal, creating files right after many were deleted is several times slower; see the",
            "script). Times are wall-clock milliseconds, as median (mean ± standard deviation); CPU is",
            "the median user and system time of the command and its child processes (not the",
            "mirror's); the last column is ROCK's path's median over that row's median.",
            "",
            "| runtime | what | median (ms) | mean ± stdev (ms) | CPU user + sys (ms) | ROCK's path ÷ this |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "HTTP requests per timed command, as counted by the mirror (every count seen):",
            f"{requests}.",
            "",
            f"**Target: a cached python create at least 5 times faster than ROCK's path: {held}**",
            f"(ROCK's path ÷ rock cached = {cached_ratio:.1f}; ROCK's path ÷ rock cold = {cold_ratio:.1f}).",
            END,
        ]
    )


if __name__ == "__main__":
    main()
