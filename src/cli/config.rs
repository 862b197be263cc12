use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::output::outln;
use super::{Context, Failure};
use crate::config::keys::{self, KeySpec};
use crate::config::{change, process_env, Config, Source};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set a key (e.g. default.timeout) to a value, checked against the key's type first
    Set {
        /// A dotted key: default.timeout, providers.local.max_processes, …
        key: String,
        /// The value, typed by the key: 30, true, 512MiB, a,b,c …
        value: String,
    },
    /// Print a key's value: the environment's, else the file's, else the default
    Get {
        key: String,
        /// Print secrets as they are
        #[arg(long)]
        reveal: bool,
    },
    /// Remove a key, or a whole section, from the file
    Unset { key: String },
    /// Print every key's value and where it comes from
    Show {
        /// One JSON object instead of TOML
        #[arg(long)]
        json: bool,
        /// Print secrets as they are
        #[arg(long)]
        reveal: bool,
    },
    /// Print the path of the config file in use
    Path,
    /// Open the config file in $VISUAL or $EDITOR, and keep the result only if it is valid
    Edit,
}

impl ConfigCommand {
    /// `path` and `edit` work on a file that doesn't parse.
    pub fn needs_valid_file(&self) -> bool {
        !matches!(self, ConfigCommand::Path | ConfigCommand::Edit)
    }
}

pub fn run(command: ConfigCommand, context: &Context) -> Result<i32, Failure> {
    match command {
        ConfigCommand::Set { key, value } => set(&key, &value, context),
        ConfigCommand::Get { key, reveal } => get(&key, reveal, context),
        ConfigCommand::Unset { key } => unset(&key, context),
        ConfigCommand::Show { json, reveal } => show(json, reveal, context),
        ConfigCommand::Path => {
            outln!("{}", path(context)?.display());
            Ok(0)
        }
        ConfigCommand::Edit => edit(context),
    }
}

fn path(context: &Context) -> Result<PathBuf, Failure> {
    context.config.path.clone().ok_or_else(|| {
        Failure::rock("no config file location: set $ROCK_CONFIG, pass --config, or set $HOME")
    })
}

fn set(key: &str, text: &str, context: &Context) -> Result<i32, Failure> {
    let path = path(context)?;
    let (spec, value) = change::set(&path, key, text)?;
    if !context.global.quiet {
        eprintln!(
            "rock: {key} = {} in {}",
            keys::display(&spec, &value, false),
            path.display()
        );
        warn_if_overridden(&spec);
    }
    Ok(0)
}

/// The file's value is not the one in effect while the key's variable is set.
fn warn_if_overridden(spec: &KeySpec) {
    if let Some(var) = spec.env.filter(|var| process_env(var).is_some()) {
        eprintln!("rock: note: ${var} is set and takes precedence over the file");
    }
}

fn get(key: &str, reveal: bool, context: &Context) -> Result<i32, Failure> {
    let spec = keys::lookup(key).map_err(|e| {
        if keys::is_section(key) {
            Failure::rock(format!(
                "`{key}` is a section, not a key: see `rock config show`"
            ))
        } else {
            Failure::rock(e)
        }
    })?;
    match context.config.effective(&spec, &process_env)? {
        Some((value, source)) => {
            outln!("{}", plain(&spec, &value, reveal));
            if context.global.verbose > 0 {
                eprintln!("rock: from the {source}");
            }
            Ok(0)
        }
        None => {
            let hint = spec
                .env
                .map(|var| format!(" or ${var}"))
                .unwrap_or_default();
            eprintln!("rock: {key} is not set (set it with `rock config set {key} VALUE`{hint})");
            Ok(1)
        }
    }
}

/// A value for scripts: strings bare, everything else in TOML syntax.
fn plain(spec: &KeySpec, value: &toml::Value, reveal: bool) -> String {
    match keys::masked(spec, value, reveal) {
        toml::Value::String(text) => text,
        other => other.to_string(),
    }
}

fn unset(key: &str, context: &Context) -> Result<i32, Failure> {
    let path = path(context)?;
    let removed = change::unset(&path, key)?;
    if !context.global.quiet {
        if removed {
            eprintln!("rock: removed {key} from {}", path.display());
        } else {
            eprintln!("rock: {key} was not set in {}", path.display());
        }
    }
    Ok(0)
}

/// Every key worth showing: the built-in ones, each provider's, and the custom runtime
/// types found in the file.
fn shown_keys(config: &Config) -> Vec<KeySpec> {
    let mut specs = keys::all();
    if let Some(types) = config
        .get("runtime_envs.types")
        .and_then(toml::Value::as_table)
    {
        for name in types.keys() {
            if keys::is_section(&format!("runtime_envs.types.{name}")) {
                specs.extend(keys::custom_type_fields(name));
            }
        }
    }
    specs
}

fn show(json: bool, reveal: bool, context: &Context) -> Result<i32, Failure> {
    let config = &context.config;
    let mut rows = Vec::new();
    for spec in shown_keys(config) {
        let effective = config.effective(&spec, &process_env)?;
        rows.push((spec, effective));
    }
    for problem in config.unknown_keys() {
        eprintln!(
            "rock: warning: {problem} in {}; it is ignored",
            config.display_path()
        );
    }
    if json {
        let keys: Vec<serde_json::Value> = rows
            .iter()
            .map(|(spec, effective)| {
                let (value, source) = match effective {
                    Some((value, source)) => (to_json(spec, value, reveal), source.to_string()),
                    None => (serde_json::Value::Null, "unset".to_string()),
                };
                json!({"key": spec.key, "value": value, "source": source, "secret": spec.secret})
            })
            .collect();
        let document = json!({
            "path": config.path.as_ref().map(|p| p.display().to_string()),
            "exists": config.path.as_deref().is_some_and(Path::exists),
            "keys": keys,
        });
        outln!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
        return Ok(0);
    }
    let location = match &config.path {
        Some(path) if path.exists() => format!("# {}", path.display()),
        Some(path) => format!("# {} (not created yet)", path.display()),
        None => "# (no config file)".to_string(),
    };
    outln!("{location}");
    let mut section = "";
    for (spec, effective) in &rows {
        if spec.section() != section {
            section = spec.section();
            outln!("\n[{section}]");
        }
        match effective {
            Some((value, source)) => {
                let line = format!("{} = {}", spec.field(), keys::display(spec, value, reveal));
                outln!("{line:<40} # {}", describe(*source));
            }
            None => outln!("# {} is not set", spec.field()),
        }
    }
    Ok(0)
}

fn describe(source: Source) -> String {
    match source {
        Source::Env(var) => format!("from ${var}"),
        other => other.to_string(),
    }
}

fn to_json(spec: &KeySpec, value: &toml::Value, reveal: bool) -> serde_json::Value {
    serde_json::to_value(keys::masked(spec, value, reveal)).unwrap_or(serde_json::Value::Null)
}

fn edit(context: &Context) -> Result<i32, Failure> {
    let path = path(context)?;
    let editor = ["VISUAL", "EDITOR"]
        .into_iter()
        .find_map(process_env)
        .unwrap_or_else(|| "vi".to_string());
    let original = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Failure::rock(format!(
                "cannot read config file {}: {e}",
                path.display()
            )))
        }
    };
    // The user edits a copy beside the file; the file itself changes only by a rename.
    let draft = path.with_file_name(format!(
        ".{}.edit-{}.toml",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config".into()),
        std::process::id()
    ));
    let write_draft = |bytes: &[u8]| {
        crate::atomic_file::write(&draft, bytes, crate::config::file::MODE)
            .map_err(|e| Failure::rock(format!("cannot write {}: {e}", draft.display())))
    };
    write_draft(original.as_deref().unwrap_or_default())?;
    let outcome = edit_loop(&editor, &path, &draft, original.as_deref(), context);
    let _ = std::fs::remove_file(&draft);
    outcome
}

fn edit_loop(
    editor: &str,
    path: &Path,
    draft: &Path,
    original: Option<&[u8]>,
    context: &Context,
) -> Result<i32, Failure> {
    loop {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("rock-config-edit")
            .arg(draft)
            .status()
            .map_err(|e| Failure::rock(format!("cannot start the editor `{editor}`: {e}")))?;
        if !status.success() {
            return Err(Failure::rock(format!(
                "the editor `{editor}` failed ({status}); the config file was not changed"
            )));
        }
        let text = std::fs::read_to_string(draft)
            .map_err(|e| Failure::rock(format!("cannot read the edited file: {e}")))?;
        if text.as_bytes() == original.unwrap_or_default() {
            if !context.global.quiet {
                eprintln!("rock: no changes");
            }
            return Ok(0);
        }
        match change::check_text(path, &text) {
            Ok(()) => break,
            Err(problems) => {
                for problem in &problems {
                    eprintln!("error: {problem}");
                }
                if !(std::io::stdin().is_terminal() && ask("Edit again? [Y/n] ")) {
                    return Err(Failure::rock(format!(
                        "the edited config is not valid; {} was not changed",
                        path.display()
                    )));
                }
            }
        }
    }
    let _lock = crate::config::file::WriteLock::acquire(path)
        .map_err(|e| Failure::rock(format!("cannot lock {}: {e}", path.display())))?;
    // Someone else's change made meanwhile must not be lost silently.
    let now = std::fs::read(path).ok();
    if now.as_deref() != original {
        return Err(Failure::rock(format!(
            "{} changed while it was being edited; run `rock config edit` again",
            path.display()
        )));
    }
    let text = std::fs::read(draft)
        .map_err(|e| Failure::rock(format!("cannot read the edited file: {e}")))?;
    crate::atomic_file::write(path, &text, crate::config::file::MODE)
        .map_err(|e| Failure::rock(format!("cannot write config file {}: {e}", path.display())))?;
    if !context.global.quiet {
        eprintln!("rock: saved {}", path.display());
    }
    Ok(0)
}

fn ask(question: &str) -> bool {
    use std::io::Write;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    !answer.trim().to_ascii_lowercase().starts_with('n')
}
