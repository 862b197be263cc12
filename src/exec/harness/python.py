# rock's harness: runs the user's code, calls main(**arguments) when it defines one,
# and hands the return value back on the result channel (a file descriptor rock holds the
# other end of, or a file rock reads afterwards), apart from anything the program prints.
import sys


def _rock_run():
    import json
    import os

    code_path, args_path, result = sys.argv[1:4]
    if result.isdigit():
        result_fd = int(result)
        os.set_inheritable(result_fd, False)
    else:
        result_fd = os.open(result, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    if len(sys.argv) > 4:
        request = _wait_at_gate(int(sys.argv[4]))
        if request is not None:
            return _run_request(os.path.dirname(code_path), request, result_fd)
    with open(args_path, "rb") as f:
        raw = f.read()
    arguments = json.loads(raw) if raw else None
    return _serve(code_path, arguments, result_fd)


def _wait_at_gate(gate):
    """Waits for the go-ahead: "g" once rock has moved this process into its cgroup (None),
    or "r" and a request (a warm sandbox, started before its code was known)."""
    import json
    import os

    go = os.read(gate, 1)
    request = None
    if go == b"r":
        chunks = []
        while True:
            chunk = os.read(gate, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        request = json.loads(b"".join(chunks))
    elif go != b"g":
        os._exit(125)
    os.close(gate)
    return request


def _run_request(folder, request, result_fd):
    """Runs a warm sandbox's request: its code goes to `folder` under the name it gives."""
    import os

    code_path = os.path.join(folder, request["file"])
    source = request["code"].encode()
    fd = os.open(code_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        while source:
            source = source[os.write(fd, source):]
    finally:
        os.close(fd)
    return _serve(code_path, request.get("arguments"), result_fd)


def _serve(code_path, arguments, result_fd):
    import json
    import os

    def send(message):
        # One message a line: the outcome of main, then the artifacts.
        data = json.dumps(message, ensure_ascii=False, allow_nan=False).encode() + b"\n"
        while data:
            data = data[os.write(result_fd, data):]

    try:
        return _run_code(code_path, arguments, send)
    finally:
        _send_artifacts(os.path.join(os.path.dirname(code_path), "artifacts"), send)


def _run_code(code_path, arguments, send):
    import os

    with open(code_path, "rb") as f:
        source = f.read()

    sys.argv = [code_path]
    sys.path.insert(0, os.path.dirname(code_path))
    try:
        tree = compile(source, code_path, "exec", 0x400)  # PyCF_ONLY_AST, without importing ast
    except (SyntaxError, ValueError) as err:
        _print_exception(err, None)
        return 1

    if not _defines_main(tree):
        if arguments:
            send({"kind": "no_main"})
            return 2
        return _execute(tree, code_path, "__main__", send)

    # Loaded as a module named after its file (as RAGFlow imports main.py), so that an
    # `if __name__ == "__main__":` block doesn't call main() a second time.
    stem = os.path.splitext(os.path.basename(code_path))[0]
    if not stem.isidentifier() or stem in sys.modules:
        stem = "__rock_main__"
    module = _execute_module(tree, code_path, stem, send)
    if isinstance(module, int):
        return module
    try:
        value = module.main(**(arguments or {}))
        if hasattr(value, "__await__"):
            import asyncio

            async def wait(awaitable):
                return await awaitable

            value = asyncio.run(wait(value))
    except BaseException as err:  # noqa: BLE001 - report whatever main raised
        return _failure(err, send)
    try:
        send({"kind": "result", "value": value})
    except (TypeError, ValueError) as err:
        sys.stderr.write(
            f"main() returned a value that is not JSON-serializable: {err}\n"
        )
        send({"kind": "not_serializable"})
        return 1
    return 0


def _send_artifacts(folder, send):
    """Sends what the program left in `folder`; rock decides what to keep."""
    import os

    try:
        names = sorted(os.listdir(folder))[:32]
    except OSError:
        return
    import base64
    import stat

    files = []
    for name in names:
        entry = {"name": name}
        try:
            info = os.lstat(os.path.join(folder, name))
            entry["size"] = info.st_size
            if stat.S_ISREG(info.st_mode) and info.st_size <= 10 * 1024 * 1024:
                with open(os.path.join(folder, name), "rb") as f:
                    entry["content_b64"] = base64.b64encode(f.read()).decode()
        except OSError:
            pass
        files.append(entry)
    try:
        send({"kind": "artifacts", "files": files})
    except OSError:
        pass


def _defines_main(tree):
    for node in tree.body:
        kind = type(node).__name__
        if kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef") and node.name == "main":
            return True
        if kind == "Assign":
            if any(type(t).__name__ == "Name" and t.id == "main" for t in node.targets):
                return True
        if kind in ("AnnAssign", "AugAssign"):
            t = node.target
            if type(t).__name__ == "Name" and t.id == "main":
                return True
        if kind in ("Import", "ImportFrom"):
            if any((a.asname or a.name) == "main" for a in node.names):
                return True
    return False


def _new_module(name, code_path):
    import types

    module = types.ModuleType(name)
    module.__file__ = code_path
    module.__builtins__ = __builtins__
    sys.modules[name] = module
    return module


def _execute_module(tree, code_path, name, send):
    result = _execute(tree, code_path, name, send)
    if result != 0:
        return result
    module = sys.modules[name]
    if not callable(getattr(module, "main", None)):
        sys.stderr.write("`main` is defined but is not callable\n")
        return 1
    return module


def _execute(tree, code_path, name, send):
    module = _new_module(name, code_path)
    try:
        exec(compile(tree, code_path, "exec"), module.__dict__)
    except BaseException as err:  # noqa: BLE001
        return _failure(err, send)
    return 0


def _failure(err, send):
    if isinstance(err, SystemExit):
        raise err
    _print_exception(err, err.__traceback__)
    if isinstance(err, MemoryError):
        if send is not None:
            send({"kind": "limit", "limit": "memory"})
        return 137
    return 1


def _print_exception(err, tb):
    import traceback

    # Drop the harness's own frames: the user sees their code only.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    sys.stderr.write("".join(traceback.format_exception(type(err), err, tb)))


def _finish(code):
    """Ends as a normal exit would, in what a program can see: waits for its non-daemon
    threads, runs its atexit functions, prints a SystemExit message and flushes. Then it
    skips the interpreter's own teardown (modules, garbage), which shows nothing and costs
    about 10 ms."""
    import os

    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    import atexit

    atexit._run_exitfuncs()
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code & 0xFF
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or broken stream has nothing to flush
            pass
    if _EXIT_CHANNEL is not None:
        _say_exit(status)
    os._exit(status)


# Where the harness says how the program ended, or None (see `_say_exit`).
_EXIT_CHANNEL = None


def _say_exit(status):
    """Tells rock how the program ended, then lets go of every fd: rock can answer without
    waiting for this process to be torn down (a forked sandbox's fast path; whatever still
    holds an output open makes rock wait for the end as usual)."""
    import json
    import os
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    line = json.dumps({
        "kind": "exit",
        "status": status,
        "cpu_micros": int(cpu * 1e6),
        "max_rss_kib": max(own.ru_maxrss, children.ru_maxrss),
    })
    try:
        os.write(_EXIT_CHANNEL, line.encode() + b"\n")
    except OSError:
        pass
    os.closerange(0, 1 << 16)


def _main(run):
    """Runs `run` as the whole program: its return value or SystemExit is the exit status."""
    try:
        _finish(run())
    except SystemExit as exit_:
        _finish(exit_.code)


if __name__ == "__main__":
    _main(_rock_run)
