fn main() {
    // The sandbox helper is rock itself, re-executed: handled before any parsing.
    if std::env::args_os().nth(1).as_deref()
        == Some(std::ffi::OsStr::new(rock::sandbox::init::INIT_ARG))
    {
        rock::sandbox::init::main();
    }
    std::process::exit(rock::cli::run());
}
