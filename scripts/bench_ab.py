#!/usr/bin/env python3
"""Compare rock binaries on `rock exec` of the hello example, interleaved in one run with the
same harness run directly (no sandbox): an A/B of two builds, say before and after a change.
Prints each command's median and mean, and its overhead over direct; writes nothing.

Usage: python3 scripts/bench_ab.py [--runs N] [--lang python|nodejs] [--idle SECS] ROCK...
Each ROCK is the path of a rock binary (copy a build aside before rebuilding).
"""

import argparse
import json
import os
import shutil
import statistics
import tempfile

import bench_exec


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--lang", choices=sorted(bench_exec.LANGS), default="python")
    parser.add_argument("--idle", type=float, default=0.0, help="seconds of sleep before each round")
    parser.add_argument("rocks", nargs="+")
    args = parser.parse_args()

    spec = bench_exec.LANGS[args.lang]
    work = tempfile.mkdtemp(prefix="rock-ab-")
    args_file = os.path.join(work, "args.json")
    with open(args_file, "w") as f:
        json.dump({"name": "World"}, f)
    interpreter = bench_exec.real_interpreter(spec["probe"])
    config = os.path.join(work, "config.toml")
    with open(config, "w") as f:
        f.write(f'[languages.{args.lang}]\ninterpreter = "{interpreter}"\n')
    example = os.path.join(bench_exec.ROOT, spec["example"])
    harness = os.path.join(bench_exec.ROOT, spec["harness"])
    commands = {"direct": f"{interpreter} {spec['flags']} {harness} {example} {args_file} 3"}
    for rock in args.rocks:
        commands[rock] = f"{os.path.abspath(rock)} --config {config} exec -q --args name=World {example}"
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": work, "TMPDIR": "/tmp"}
    results = bench_exec.interleaved(commands, args.runs, env, idle=args.idle)
    direct = results["direct"]
    for name, result in results.items():
        print(f"{name:40s} median {bench_exec.ms(result)} ms, mean {result['mean'] * 1000:.1f} ms, "
              f"over direct {bench_exec.over(result, direct)} ms, ratio {bench_exec.ratio(result, direct)}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
