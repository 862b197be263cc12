//! Shell quoting as Python's `shlex.quote` does it, and ROCK's `wrapped_cmd`.

use std::path::Path;

/// `s` as one shell word: unchanged when it is made of safe characters only.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Words joined into one command line that the shell splits back into the same words.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `export PATH=<bin>:$PATH && <cmd>`: `cmd` with `bin_dir` first on PATH.
pub fn with_path(bin_dir: &Path, cmd: &str) -> String {
    format!(
        "export PATH={}:$PATH && {cmd}",
        quote(&bin_dir.to_string_lossy())
    )
}

/// ROCK's `wrapped_cmd`: `bash -c 'export PATH=<bin>:$PATH && <cmd>'`.
pub fn wrapped_cmd(bin_dir: &Path, cmd: &str) -> String {
    format!("bash -c {}", quote(&with_path(bin_dir, cmd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_shlex() {
        assert_eq!(quote("node"), "node");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\"'\"'s'");
        assert_eq!(
            join(&["python", "-c", "print('hi')"]),
            "python -c 'print('\"'\"'hi'\"'\"')'"
        );
    }

    #[test]
    fn wrapped_cmd_is_rocks_format() {
        assert_eq!(
            wrapped_cmd(
                Path::new("/tmp/rock-runtime-envs/node/22.18.0/ab12cd34/runtime-env/bin"),
                "node script.js"
            ),
            "bash -c 'export PATH=/tmp/rock-runtime-envs/node/22.18.0/ab12cd34/runtime-env/bin:$PATH && node script.js'"
        );
        assert_eq!(
            wrapped_cmd(Path::new("/my envs/bin"), "echo 'x'"),
            "bash -c 'export PATH='\"'\"'/my envs/bin'\"'\"':$PATH && echo '\"'\"'x'\"'\"''"
        );
    }
}
