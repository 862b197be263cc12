# rock's Python fork server. It runs inside a sandbox of its own, with the harness and
# the modules every run needs already loaded, and never runs user code itself. For each
# sandbox rock asks for, it clones a child into a fresh user, mount, pid, network, ipc
# and uts namespace (nested in the fork server's); that child, pid 1 there, mounts fresh
# /work, /tmp, /dev/shm and /proc, then forks the program. The program drops every
# capability, takes its limits, Landlock and the seccomp filter, and waits for its one
# request. No sandbox is used twice; none pays for an interpreter start.
#
# Process tree:  fork server ─ init (pid 1 of the new namespaces: reaps, reports) ─ program
#
# Channels, from rock with each request to fork: report (the init's events, JSON lines),
# control (the program's: "c" so rock sees its pid, then "l" + the seccomp listener, "n"
# without one, or "e" + why it failed; then rock's request), stdout, stderr, result.
import sys

sys.path.insert(0, "/rock")

import ctypes  # noqa: E402
import fcntl  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402

import harness  # noqa: E402,F401

# What the harness imports for every run, loaded once here (not traceback, needed only on
# an error: each module loaded makes every fork cost more).
import atexit  # noqa: E402,F401
import base64  # noqa: E402,F401
import stat  # noqa: E402,F401
import types  # noqa: E402,F401

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
PR_SET_NAME = 15
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 8
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LANDLOCK_RULE_PATH_BENEATH = 1
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFF_RUNNING = 0x40

COMMAND_FD = 4
CHANNELS = 5

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_python = ctypes.pythonapi
with open("/rock/forkserver.json", "rb") as _f:
    _PLAN = json.load(_f)


class _Setup(Exception):
    """A step of building the sandbox failed; the message says which."""


def _check(rc, what):
    if rc < 0:
        errno = ctypes.get_errno()
        raise _Setup(f"{what}: {os.strerror(errno)}")
    return rc


def _syscall(name, *args):
    number = ctypes.c_long(_PLAN["syscalls"][name])
    return _check(_libc.syscall(number, *args), name)


def _long(value):
    return ctypes.c_long(value)


def main():
    _name(b"rock-forkserver")
    # Nothing of the fork server's own changes from here: what it holds stays shared
    # with the sandboxes, and no collection walks it.
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    command = socket.socket(fileno=COMMAND_FD)
    command.sendall(b"k")
    requests = {}
    space = socket.CMSG_SPACE(CHANNELS * 4)
    while True:
        message, ancillary, _, _ = command.recvmsg(1 << 16, space, socket.MSG_CMSG_CLOEXEC)
        if not message:
            return 0
        fds = []
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(struct.unpack(f"{len(data) // 4}i", data[: len(data) // 4 * 4]))
        answer = b"f"
        if len(fds) == CHANNELS:
            try:
                request = requests.get(message)
                if request is None:
                    # The same few requests come again and again: parsed once each.
                    request = json.loads(message)
                    if len(requests) < 64:
                        requests[message] = request
                _clone_init(request, fds, command)
                answer = b"k"
            except (OSError, ValueError):
                pass
        for fd in fds:
            os.close(fd)
        command.sendall(answer)


def _clone_init(request, fds, command):
    """Clones the sandbox's init straight into new namespaces: the raw system call, since
    os.fork can't take namespace flags, with what os.fork does around it. Returns the
    init's pid in the fork server; the init itself never returns."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _python.PyOS_BeforeFork()
    pid = _libc.syscall(_long(_PLAN["syscalls"]["clone"]), _long(flags | signal.SIGCHLD), _long(0), _long(0), _long(0), _long(0))
    if pid != 0:
        _python.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(ctypes.get_errno(), "clone")
        return pid
    _python.PyOS_AfterFork_Child()
    report = fds[0]
    try:
        # The fork server lets the kernel reap its children; the init reaps its own.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _name(b"rock-init")
        command.detach()
        os.close(COMMAND_FD)
        # The one mapping a process may write for itself: its own ids.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except BaseException as err:  # noqa: BLE001 - reported, whatever it was
        _event(report, {"event": "setup_error", "message": f"fork server: {err}"})
        os._exit(1)
    _init(request, fds)


def _init(request, fds):
    """pid 1 of the new sandbox: builds its scratch mounts, forks the program, reaps
    everything, and reports the program's end once no other process is left."""
    report, control, stdout, stderr, result = fds
    try:
        size = int(request["limits"]["tmpfs_bytes"])
        uid, gid = os.geteuid(), os.getegid()
        _mount(b"tmpfs", b"/work", b"tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,uid={uid},gid={gid},size={size}")
        _mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
        _mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
        _mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        _loopback_up()
        socket.sethostname("rock")
        # Nothing of the fork server's own channels stays: its stdio and result (0-3);
        # this sandbox's channels came later, above them.
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.close(3)
        program = os.fork()
    except BaseException as err:  # noqa: BLE001
        _event(report, {"event": "setup_error", "message": f"fork server: {err}"})
        os._exit(1)
    if program == 0:
        _program(request, fds)
    # Signals from inside the sandbox reach pid 1 only through handlers it installed.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for fd in (control, stdout, stderr, result):
        os.close(fd)
    status = 0
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == program:
            status = wait_status
            break
    # pid 1's kill(-1) reaches every other process of the namespace (if one is left).
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    _event(
        report,
        {
            "event": "exited",
            "status": status,
            "cpu_micros": int((usage.ru_utime + usage.ru_stime) * 1e6),
            "max_rss_kib": usage.ru_maxrss,
        },
    )
    os._exit(0)


def _program(request, fds):
    """The program's process: its channels, its limits, no privilege, then the harness."""
    _, control, stdout, stderr, result = fds
    try:
        _name(_COMM)
        os.setsid()
        _write("/proc/self/oom_score_adj", "1000")
        null = os.open("/dev/null", os.O_RDONLY)
        # Above every target first, so that no dup2 clobbers a source.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (null, stdout, stderr, result, control)]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(COMMAND_FD + 1, 1 << 20)
        _limits(request["limits"])
        os.chdir("/work")
        _drop_privileges()
        # The kernel attaches this process's credentials: rock learns its pid from them
        # and moves it into the run's cgroup before it sends a request.
        os.write(COMMAND_FD, b"c")
        if _PLAN["landlock"] is not None:
            _landlock(_PLAN["landlock"])
        if _PLAN["seccomp"] is not None:
            listener = _seccomp(_PLAN["seccomp"])
            channel = socket.socket(fileno=COMMAND_FD)
            channel.sendmsg([b"l"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", listener))])
            channel.detach()
            os.close(listener)
        else:
            os.write(COMMAND_FD, b"n")
    except BaseException as err:  # noqa: BLE001
        try:
            os.write(COMMAND_FD, b"e" + f"the sandbox could not be made ready: {err}".encode())
        finally:
            os._exit(1)
    harness._main(_run)


def _run():
    harness._EXIT_CHANNEL = 3
    request = harness._wait_at_gate(COMMAND_FD)
    if request is None:
        return 125
    return harness._run_request("/work", request, 3)


def _limits(limits):
    def limit(kind, soft, hard=None):
        resource.setrlimit(kind, (soft, soft if hard is None else hard))

    # SIGXCPU at the limit, SIGKILL a second later if it is ignored.
    limit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    # The sandbox's init runs as the same user in the same namespace: one more process.
    limit(resource.RLIMIT_NPROC, limits["processes"] + 1)
    limit(resource.RLIMIT_NOFILE, limits["open_files"])
    limit(resource.RLIMIT_FSIZE, limits["file_size_bytes"])
    limit(resource.RLIMIT_CORE, 0)
    if limits.get("data_bytes") is not None:
        limit(resource.RLIMIT_DATA, limits["data_bytes"])


def _drop_privileges():
    prctl = _libc.prctl
    for cap in _CAPABILITIES:
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    _syscall("capset", _CAPSET_HEADER, _CAPSET_DATA)
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _last_capability():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63


_CAPABILITIES = range(_last_capability() + 1)
_CAPSET_HEADER = ctypes.create_string_buffer(struct.pack("Ii", LINUX_CAPABILITY_VERSION_3, 0), 8)
# Effective, permitted and inheritable all empty, for both 32-bit halves.
_CAPSET_DATA = ctypes.create_string_buffer(24)


def _landlock(plan):
    """Write only beneath the scratch dirs, read everywhere, no signals or abstract
    sockets outside: the ruleset rock computed for this kernel's Landlock version."""
    attr = struct.pack("<QQQ", plan["handled_fs"], 0, plan["scoped"])[: plan["attr_size"]]
    ruleset = _syscall("landlock_create_ruleset", ctypes.create_string_buffer(attr, len(attr)), _long(len(attr)), _long(0))
    for path, access in plan["rules"]:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = ctypes.create_string_buffer(struct.pack("<Qi", access, fd), 12)
        _syscall("landlock_add_rule", _long(ruleset), _long(LANDLOCK_RULE_PATH_BENEATH), rule, _long(0))
        os.close(fd)
    _syscall("landlock_restrict_self", _long(ruleset), _long(0))
    os.close(ruleset)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp(program_b64):
    """Installs rock's filter; returns the fd on which its notifications arrive."""
    import base64 as b64

    program = b64.b64decode(program_b64)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    return _syscall(
        "seccomp",
        _long(SECCOMP_SET_MODE_FILTER),
        _long(SECCOMP_FILTER_FLAG_NEW_LISTENER),
        ctypes.byref(fprog),
    )


def _mount(source, target, fstype, flags, options):
    data = options.encode() if options is not None else None
    _check(_libc.mount(source, target, fstype, _long(flags), data), f"mount {target.decode()}")


def _loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP | IFF_RUNNING))


def _name(name):
    """Names this process in `ps`."""
    buffer = ctypes.create_string_buffer(name[:15])
    _libc.prctl(PR_SET_NAME, ctypes.addressof(buffer), 0, 0, 0)


# The program keeps the interpreter's own name.
with open("/proc/self/comm", "rb") as _f:
    _COMM = _f.read().strip()


def _write(path, text):
    # Plain system calls: in a forked process every object touched costs a page copy.
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _event(fd, event):
    try:
        os.write(fd, json.dumps(event).encode() + b"\n")
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
