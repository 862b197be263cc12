use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::output::out;
use super::{Cli, Failure};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> Result<i32, Failure> {
    out!("{}", script(args.shell));
    Ok(0)
}

/// The completion script for `shell`, as checked in under completions/.
pub fn script(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rock", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
