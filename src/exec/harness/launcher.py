# rock's launcher for remote sandboxes, which give rock a Python process (a code
# interpreter's kernel, or `python3 FILE` through a command API) and its stdout, but no
# result channel. It writes the run's files into a directory of their own, runs the
# harness there as a child with a time limit, relays the child's output as it comes (cut
# at the output cap), then prints what the harness said on its result file, and how the
# child ended, on marker lines: "\x1e__rock_<nonce>__ <json>\n" (ASCII RS first, so that
# rock can pass every other byte on at once, a trailing newline too). rock removes exactly
# those. The nonce lives in this process only: the child never sees it.


def _rock_launch(encoded):
    import base64
    import json
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile
    import threading
    import time

    spec = json.loads(base64.b64decode(encoded))
    marker = "\x1e__rock_%s__ " % spec.pop("nonce")
    if spec.get("self"):
        # Through a command API this file is the program rock wrote: gone before any user
        # code runs, with the nonce in it.
        try:
            os.unlink(spec["self"])
        except OSError:
            pass

    def say(message):
        sys.stdout.write(marker + json.dumps(message) + "\n")
        sys.stdout.flush()

    def oom_kills():
        # The sandbox's own cgroup, where it can see it (v2, then v1): how many times its
        # memory limit killed a process.
        for path, key in (("/sys/fs/cgroup/memory.events", "oom_kill"),
                          ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")):
            try:
                with open(path) as f:
                    for line in f:
                        name, _, value = line.partition(" ")
                        if name == key:
                            return int(value)
            except (OSError, ValueError):
                pass
        return None

    folder = tempfile.mkdtemp(prefix="rock-run-")
    try:
        for name, content in spec["files"].items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(base64.b64decode(content))
        result_path = os.path.join(folder, ".result")
        open(result_path, "wb").close()
        interpreter = spec["interpreter"]
        if spec["language"] == "python" and sys.executable:
            interpreter = sys.executable
        argv = [interpreter] + spec["flags"] + [
            os.path.join(folder, spec["harness"]),
            os.path.join(folder, spec["code"]),
            os.path.join(folder, "args.json"),
            result_path,
        ]
        stdin = subprocess.DEVNULL
        if spec.get("stdin") is not None:
            stdin_path = os.path.join(folder, ".stdin")
            with open(stdin_path, "wb") as f:
                f.write(base64.b64decode(spec["stdin"]))
            stdin = open(stdin_path, "rb")
        kills_before = oom_kills()
        started = time.monotonic()
        try:
            child = subprocess.Popen(
                argv,
                cwd=folder,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            say({"kind": "ended", "spawn_error": str(err), "errno": err.errno})
            return
        cap = spec["output_cap"]
        cut = {}

        def pump(source, sink, name):
            import codecs

            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            sent = 0
            while True:
                chunk = os.read(source.fileno(), 65536)
                if not chunk:
                    break
                if sent >= cap:
                    cut[name] = True
                    continue
                if sent + len(chunk) > cap:
                    chunk = chunk[: cap - sent]
                    cut[name] = True
                sent += len(chunk)
                sink.write(decoder.decode(chunk))
                sink.flush()
            sink.write(decoder.decode(b"", True))
            sink.flush()

        pumps = [
            threading.Thread(target=pump, args=(child.stdout, sys.stdout, "stdout")),
            threading.Thread(target=pump, args=(child.stderr, sys.stderr, "stderr")),
        ]
        for each in pumps:
            each.daemon = True
            each.start()
        timed_out = False
        try:
            child.wait(timeout=spec["timeout"])
        except subprocess.TimeoutExpired:
            timed_out = True
        elapsed = time.monotonic() - started
        # Whatever the program left running in its session ends with it.
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except OSError:
            pass
        child.wait()
        for each in pumps:
            each.join(2)
        with open(result_path, "rb") as f:
            for line in f.read().splitlines():
                try:
                    say(json.loads(line))
                except ValueError:
                    pass
        code = child.returncode
        kills_after = oom_kills()
        say({
            "kind": "ended",
            "exit_code": code if code >= 0 else None,
            "signal": -code if code < 0 else None,
            "timed_out": timed_out,
            "elapsed": elapsed,
            "truncated": sorted(cut),
            "oom_killed": kills_before is not None and (kills_after or 0) > kills_before,
        })
    finally:
        shutil.rmtree(folder, ignore_errors=True)
