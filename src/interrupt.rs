//! Ctrl-C and friends. The command line installs handlers for SIGINT, SIGTERM and SIGHUP
//! that only note the signal and wake a self-pipe; long waits (the sandbox's event loop)
//! poll that pipe, tear down what they started and return, so that an interrupted run
//! leaves nothing behind (processes, cgroups, half-made files).

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

static READ_FD: AtomicI32 = AtomicI32::new(-1);
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static RECEIVED: AtomicI32 = AtomicI32::new(0);

const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn note(signal: i32) {
    RECEIVED.store(signal, Ordering::SeqCst);
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // Async-signal-safe; a full pipe already says the same thing.
        unsafe { libc::write(fd, [signal as u8].as_ptr().cast(), 1) };
    }
}

/// Installs the handlers once. Without this call, signals keep their default actions.
pub fn install() -> std::io::Result<()> {
    if READ_FD.load(Ordering::SeqCst) >= 0 {
        return Ok(());
    }
    let mut fds = [0; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    READ_FD.store(fds[0], Ordering::SeqCst);
    WRITE_FD.store(fds[1], Ordering::SeqCst);
    for signal in SIGNALS {
        // SAFETY: the handler only stores an integer and writes one byte to a pipe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The fd that becomes readable when a signal arrives, if the handlers are installed.
pub fn fd() -> Option<RawFd> {
    let fd = READ_FD.load(Ordering::SeqCst);
    (fd >= 0).then_some(fd)
}

/// The last signal received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Resolves with the signal once one has arrived (for async waits, which the self-pipe's
/// pollers don't cover); never resolves when the handlers aren't installed.
pub async fn wait() -> i32 {
    loop {
        if let Some(signal) = received() {
            return signal;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
