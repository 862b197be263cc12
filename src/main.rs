fn main() {
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
