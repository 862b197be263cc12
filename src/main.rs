// std's start-up (`lang_start`) reads /proc/self/maps to place the main thread's stack
// guard before `main`; for `rock exec` that read sits before the sandbox helper is
// forked, so rock starts from a C `main` instead. What `lang_start` would set up and rock
// relies on, it sets up itself: SIGPIPE ignored (see `cli::output`) and fds 0-2 open. (A
// test build keeps libtest's own `main`.)
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    // SAFETY: single-threaded; a write to a closed pipe then fails with EPIPE instead of
    // killing rock.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    // A closed stdin, stdout or stderr becomes /dev/null, or the first file rock opens would
    // take its number and receive what rock prints.
    for fd in 0..3 {
        // SAFETY: F_GETFD reads flags only; open takes the lowest free number, this one.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
    }
    // glibc hands std the arguments before `main` (an init_array hook): args_os works.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The sandbox helper is rock itself, re-executed: handled before any parsing.
    if args.get(1).map(|a| a.as_os_str())
        == Some(std::ffi::OsStr::new(rock::sandbox::init::INIT_ARG))
    {
        rock::sandbox::init::main();
    }
    if subcommand(&args) == Some("exec") {
        // SAFETY: nothing has started a thread yet.
        unsafe { rock::sandbox::helper::prefork() };
    }
    let code = rock::cli::run();
    rock::sandbox::helper::discard_prefork();
    std::process::exit(code);
}

/// The first argument that is neither a flag nor a global flag's value.
#[cfg_attr(test, allow(dead_code))]
fn subcommand(args: &[std::ffi::OsString]) -> Option<&str> {
    let mut rest = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = rest.next() {
        match arg {
            "--config" | "--color" => {
                rest.next();
            }
            flag if flag.starts_with('-') => {}
            command => return Some(command),
        }
    }
    None
}
