//! The program's seccomp filter: the system calls a code runner never needs fail with
//! EPERM, so that the kernel code behind them is out of reach even where namespaces,
//! dropped capabilities and no_new_privs would not stop a call (a kernel bug in an
//! otherwise unprivileged path, for instance io_uring or userfaultfd).
//!
//! The filter is classic BPF, built here and installed by the program's process just
//! before its `execve` (after no_new_privs, which lets an unprivileged process install
//! it). x86_64 only: any other architecture's calls, and x32 calls, are refused outright.
//!
//! A denied call goes to a supervisor (seccomp user notification): a thread of the
//! sandbox's init answers it with EPERM and reports its name, so that the run's result can
//! say a disallowed system call was tried. The io_uring calls, which libuv tries at every
//! Node start and falls back from, are refused silently.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A system call denied for every argument.
const DENIED: &[(i64, &str)] = &[
    // Mounts and the file system tree.
    (libc::SYS_mount, "mount"),
    (libc::SYS_umount2, "umount2"),
    (libc::SYS_pivot_root, "pivot_root"),
    (libc::SYS_chroot, "chroot"),
    (libc::SYS_open_tree, "open_tree"),
    (libc::SYS_move_mount, "move_mount"),
    (libc::SYS_fsopen, "fsopen"),
    (libc::SYS_fsconfig, "fsconfig"),
    (libc::SYS_fsmount, "fsmount"),
    (libc::SYS_fspick, "fspick"),
    (libc::SYS_mount_setattr, "mount_setattr"),
    (libc::SYS_open_by_handle_at, "open_by_handle_at"),
    (libc::SYS_name_to_handle_at, "name_to_handle_at"),
    // Namespaces (clone's namespace flags are checked below).
    (libc::SYS_unshare, "unshare"),
    (libc::SYS_setns, "setns"),
    // Other processes' memory and state.
    (libc::SYS_ptrace, "ptrace"),
    (libc::SYS_process_vm_readv, "process_vm_readv"),
    (libc::SYS_process_vm_writev, "process_vm_writev"),
    (libc::SYS_kcmp, "kcmp"),
    (libc::SYS_pidfd_getfd, "pidfd_getfd"),
    // Kernel facilities with a history of local privilege escalations.
    (libc::SYS_bpf, "bpf"),
    (libc::SYS_perf_event_open, "perf_event_open"),
    (libc::SYS_userfaultfd, "userfaultfd"),
    (libc::SYS_io_uring_setup, "io_uring_setup"),
    (libc::SYS_io_uring_enter, "io_uring_enter"),
    (libc::SYS_io_uring_register, "io_uring_register"),
    (libc::SYS_keyctl, "keyctl"),
    (libc::SYS_add_key, "add_key"),
    (libc::SYS_request_key, "request_key"),
    (libc::SYS_fanotify_init, "fanotify_init"),
    // The machine itself.
    (libc::SYS_kexec_load, "kexec_load"),
    (libc::SYS_kexec_file_load, "kexec_file_load"),
    (libc::SYS_init_module, "init_module"),
    (libc::SYS_finit_module, "finit_module"),
    (libc::SYS_delete_module, "delete_module"),
    (libc::SYS_reboot, "reboot"),
    (libc::SYS_swapon, "swapon"),
    (libc::SYS_swapoff, "swapoff"),
    (libc::SYS_acct, "acct"),
    (libc::SYS_quotactl, "quotactl"),
    (libc::SYS_syslog, "syslog"),
    (libc::SYS_settimeofday, "settimeofday"),
    (libc::SYS_clock_settime, "clock_settime"),
    (libc::SYS_clock_adjtime, "clock_adjtime"),
    (libc::SYS_adjtimex, "adjtimex"),
    (libc::SYS_iopl, "iopl"),
    (libc::SYS_ioperm, "ioperm"),
    (libc::SYS_vhangup, "vhangup"),
    (libc::SYS_uselib, "uselib"),
    (libc::SYS_lookup_dcookie, "lookup_dcookie"),
];

/// Every namespace flag `clone` takes.
const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32;

/// `personality` values that only ask, or set what the C library sets (as Docker allows).
const PERSONALITY_ALLOWED: [u32; 5] = [0, 0x0008, 0x20000, 0x20008, 0xffff_ffff];

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16;
const ARG0_HIGH: u32 = 20;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Calls that runtimes try as a matter of course and cope without: refused, not reported.
const SILENT: [i64; 3] = [
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
];

/// The filter program. With `notify`, a denied call (but the silent ones) waits for the
/// supervisor's answer instead of failing on the spot.
pub fn program(notify: bool) -> Vec<libc::sock_filter> {
    let errno = |e: i32| stmt(RET_K, RET_ERRNO | (e as u32 & 0xffff));
    let deny = || {
        if notify {
            stmt(RET_K, libc::SECCOMP_RET_USER_NOTIF)
        } else {
            errno(libc::EPERM)
        }
    };
    let mut p = vec![
        // Another architecture's system call numbers mean other calls: refuse them all.
        stmt(LD_W_ABS, ARCH),
        jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(RET_K, RET_KILL_PROCESS),
        stmt(LD_W_ABS, NR),
        jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
        errno(libc::ENOSYS),
    ];
    for (nr, _) in DENIED {
        p.push(jump(JEQ_K, *nr as u32, 0, 1));
        p.push(if SILENT.contains(nr) {
            errno(libc::EPERM)
        } else {
            deny()
        });
    }
    // clone3 passes its flags in memory the filter can't read: ENOSYS makes the C
    // libraries fall back to clone, whose flags it can.
    p.push(jump(JEQ_K, libc::SYS_clone3 as u32, 0, 1));
    p.push(errno(libc::ENOSYS));
    // clone: no namespace flags.
    p.push(jump(JEQ_K, libc::SYS_clone as u32, 0, 3));
    p.push(stmt(LD_W_ABS, ARG0_LOW));
    p.push(jump(JSET_K, NAMESPACE_FLAGS, 0, 1));
    p.push(deny());
    // personality: the allowed values only (the high half of the argument must be 0).
    p.push(stmt(LD_W_ABS, NR));
    let allowed = PERSONALITY_ALLOWED.len() as u8;
    p.push(jump(JEQ_K, libc::SYS_personality as u32, 0, 4 + allowed));
    p.push(stmt(LD_W_ABS, ARG0_HIGH));
    p.push(jump(JEQ_K, 0, 0, 1 + allowed));
    p.push(stmt(LD_W_ABS, ARG0_LOW));
    for (i, value) in PERSONALITY_ALLOWED.iter().enumerate() {
        // A match jumps past the remaining comparisons and the EPERM, to ALLOW.
        p.push(jump(JEQ_K, *value, allowed - i as u8, 0));
    }
    p.push(deny());
    p.push(stmt(RET_K, RET_ALLOW));
    p
}

/// The program as the kernel reads it (`struct sock_filter`, 8 bytes each, native byte
/// order): for a process that installs it itself (the fork server's sandboxes).
pub fn to_bytes(program: &[libc::sock_filter]) -> Vec<u8> {
    program
        .iter()
        .flat_map(|insn| {
            let mut bytes = [0u8; 8];
            bytes[..2].copy_from_slice(&insn.code.to_ne_bytes());
            bytes[2] = insn.jt;
            bytes[3] = insn.jf;
            bytes[4..].copy_from_slice(&insn.k.to_ne_bytes());
            bytes
        })
        .collect()
}

/// Installs `program` on the calling thread (and what it execs). no_new_privs must be set.
/// With `listener`, returns the fd on which the filter's notifications arrive.
pub fn install(program: &[libc::sock_filter], listener: bool) -> Result<Option<OwnedFd>, i32> {
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    let flags = if listener {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    // SAFETY: with NEW_LISTENER the kernel returned a new fd that nothing else owns.
    Ok(listener.then(|| unsafe { OwnedFd::from_raw_fd(rc as i32) }))
}

/// The name a denied call is reported by.
pub fn name_of(nr: i64) -> String {
    match nr {
        libc::SYS_clone => "clone (namespace flags)".to_string(),
        libc::SYS_personality => "personality".to_string(),
        _ => DENIED
            .iter()
            .find(|(n, _)| *n == nr)
            .map(|(_, name)| name.to_string())
            .unwrap_or_else(|| format!("syscall {nr}")),
    }
}

/// How many denied calls are answered with EPERM. Each answer costs the supervisor a
/// wake-up, outside the program's cgroup; past this many, the listener closes and the
/// kernel fails further denied calls with ENOSYS at once.
pub const ANSWERED: usize = 256;

/// Answers notifications on `listener` with EPERM, after `report` has the call's name;
/// returns once no process uses the filter any more, or after `ANSWERED` answers.
pub fn supervise(listener: OwnedFd, mut report: impl FnMut(String)) {
    let fd = listener.as_raw_fd();
    for _ in 0..ANSWERED {
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        if unsafe { libc::poll(&mut poll, 1, -1) } < 0 {
            if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                continue;
            }
            return;
        }
        if poll.revents & libc::POLLIN == 0 {
            // POLLHUP: the last process under the filter is gone.
            return;
        }
        if let Answer::Closed = answer(fd, &mut report) {
            return;
        }
    }
}

/// What one notification on a listener came to.
pub enum Answer {
    /// A call was refused (EPERM), reported before the answer went out.
    Denied,
    /// Nothing to answer: the caller died meanwhile, or a signal came.
    Nothing,
    /// The listener can't be used any more.
    Closed,
}

/// Takes one notification from a ready `listener`, hands the call's name to `report`, then
/// refuses the call with EPERM: the report precedes anything the program does next.
pub fn answer(listener: i32, report: &mut impl FnMut(String)) -> Answer {
    // SAFETY: plain data; the kernel wants it zeroed.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) } < 0 {
        return match nix::errno::Errno::last() {
            nix::errno::Errno::ENOENT | nix::errno::Errno::EINTR => Answer::Nothing,
            _ => Answer::Closed,
        };
    }
    report(name_of(i64::from(notif.data.nr)));
    let mut response = libc::seccomp_notif_resp {
        id: notif.id,
        val: 0,
        error: -libc::EPERM,
        flags: 0,
    };
    unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut response) };
    Answer::Denied
}

/// The calls denied for every argument (number, name), for the docs and tests.
pub fn denied_calls() -> &'static [(i64, &'static str)] {
    DENIED
}

/// Whether a denied call is refused without a report.
pub fn is_silent(nr: i64) -> bool {
    SILENT.contains(&nr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_fits_and_every_jump_lands_inside_it() {
        let p = program(true);
        assert!(
            p.len() < 4096,
            "BPF programs are limited to 4096 instructions"
        );
        for (i, insn) in p.iter().enumerate() {
            if insn.code & 0x07 == libc::BPF_JMP as u16 {
                let furthest = i + 1 + insn.jt.max(insn.jf) as usize;
                assert!(
                    furthest < p.len(),
                    "instruction {i} jumps out of the program"
                );
            }
        }
        assert_eq!(p.last().map(|i| i.k), Some(RET_ALLOW));
    }
}
