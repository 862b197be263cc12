//! rock's own stdout. A reader that went away (`rock env list | head -1`) ends rock
//! quietly with 141, as SIGPIPE ends other tools: rock ignores SIGPIPE itself, so that a
//! sandbox's closed pipe is an error it reports rather than its death.

use std::io::Write;

pub fn write(text: std::fmt::Arguments) {
    // Formatted first: `write_fmt` can hide the I/O error's kind behind a formatting error.
    let text = std::fmt::format(text);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(128 + libc::SIGPIPE);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(125);
    }
}

/// `println!` for rock's own output.
macro_rules! outln {
    () => {
        $crate::cli::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for rock's own output.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};
