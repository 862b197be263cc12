//! Facts about other processes.

/// Whether a process with this pid exists (one of another user's counts too).
pub fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
