use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;

use super::{block_on, Context, Failure};
use crate::config::process_env;
use crate::exec::render::{self, Summary};
use crate::exec::{arguments, ExecRequest, Language};
use crate::provider;
use crate::runtime_env;
use crate::settings::{RunFlags, RunSettings};

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The code to run: a file, or - to read it from stdin
    #[arg(value_name = "FILE|-")]
    pub file: Option<String>,
    /// Code given inline instead of a file
    #[arg(short = 'c', long, value_name = "CODE", conflicts_with = "file")]
    pub code: Option<String>,
    /// python (python3, py) or nodejs (node, javascript, js); default: from the file's extension
    #[arg(short, long = "lang", value_name = "LANG")]
    pub language: Option<Language>,
    /// An argument for main(): name=value for a string, name:=json for any JSON value
    #[arg(short, long = "args", value_name = "K=V|K:=JSON")]
    pub args: Vec<String>,
    /// All arguments as one JSON object, or @file.json
    #[arg(long, value_name = "JSON|@FILE")]
    pub args_json: Option<String>,
    /// Wall-clock limit in seconds [default: 10] [env: ROCK_TIMEOUT]
    #[arg(short, long, value_name = "SECS", allow_negative_numbers = true)]
    pub timeout: Option<String>,
    /// Memory limit, e.g. 256MiB or 1G; a bare number means MiB [default: 256MiB] [env: ROCK_MEMORY]
    #[arg(short, long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Let the program use the host's network (default: loopback only) [env: ROCK_NETWORK]
    #[arg(long, overrides_with = "no_network")]
    pub network: bool,
    /// Loopback only, whatever the config or environment says
    #[arg(long, overrides_with = "network")]
    pub no_network: bool,
    /// Keep at most this much of stdout and of stderr [default: 1MiB] [env: ROCK_OUTPUT_CAP]
    #[arg(long, value_name = "SIZE")]
    pub output_cap: Option<String>,
    /// Feed this file (or - for rock's own stdin) to the program's stdin
    #[arg(long, value_name = "FILE|-")]
    pub stdin: Option<String>,
    /// Print one JSON object with every field of the result instead of the program's output
    #[arg(long)]
    pub json: bool,
    /// Run with this runtime env's interpreter (and packages): its id or name
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// The sandbox provider [default: local] [env: ROCK_PROVIDER]
    #[arg(short, long, value_name = "NAME")]
    pub provider: Option<String>,
}

impl ExecArgs {
    fn flags(&self) -> RunFlags {
        RunFlags {
            provider: self.provider.clone(),
            timeout: self.timeout.clone(),
            memory: self.memory.clone(),
            network: match (self.network, self.no_network) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            output_cap: self.output_cap.clone(),
        }
    }
}

pub fn run(args: ExecArgs, context: &Context) -> Result<i32, Failure> {
    let settings = RunSettings::resolve(&context.config, &process_env, &args.flags())?;
    let request = build_request(&args, &settings)?;
    let entry = provider::lookup(&settings.provider.value)?;
    let table = context.config.provider_table(entry.name, &process_env)?;
    let mut provider_context = context.provider_context()?;
    if let Some(key) = &args.env {
        let env = host_runtime_env(key, request.language, context)?;
        if !entry.make().takes_host_runtime_envs() {
            return Err(Failure::rock(format!(
                "--env runs a runtime env of this machine, which provider {} can't use: run the code with `rock env run ENV -- …` for an env made with --provider, or use the local, gvisor or docker provider",
                entry.name
            )));
        }
        provider_context.runtime_env = Some(env);
    }
    let provider = provider::build(entry.name, &table, &provider_context)?;

    let json = args.json;
    let sink: provider::Sink = if json {
        Box::new(crate::sandbox::NoSink)
    } else {
        Box::new(render::LiveOutput)
    };
    crate::interrupt::install()
        .map_err(|e| Failure::rock(format!("cannot handle signals: {e}")))?;
    let result = block_on(provider::run_once(provider.as_ref(), &request, sink))??;

    if json {
        render::print_json(&result);
    } else {
        render::print_result_value(&result);
        if !context.global.quiet {
            let summary = Summary {
                result: &result,
                request: &request,
                verbose: context.global.verbose > 0,
                color: context.color(std::io::stderr().is_terminal()),
            };
            eprintln!("{summary}");
        }
    }
    Ok(result.exit_code)
}

fn build_request(args: &ExecArgs, settings: &RunSettings) -> Result<ExecRequest, Failure> {
    let (code, file_name) = read_code(args)?;
    let language = match args.language {
        Some(language) => language,
        None => file_name
            .as_deref()
            .and_then(|name| std::path::Path::new(name).extension())
            .and_then(|ext| ext.to_str())
            .and_then(Language::from_extension)
            .ok_or_else(|| {
                let what = file_name
                    .as_deref()
                    .map(|n| format!("`{n}`"))
                    .unwrap_or("code from stdin or --code".into());
                Failure::rock(format!(
                    "cannot tell the language of {what}: pass --lang python or --lang nodejs"
                ))
            })?,
    };
    let mut request = ExecRequest::new(language, code);
    request.file_name = file_name;
    request.arguments =
        arguments::build(args.args_json.as_deref(), &args.args).map_err(Failure::rock)?;
    request.timeout = settings.timeout.value;
    request.memory_bytes = settings.memory.value;
    request.output_cap = usize::try_from(settings.output_cap.value).unwrap_or(usize::MAX);
    request.network = settings.network.value;
    request.stdin = match args.stdin.as_deref() {
        None => None,
        Some("-") if args.file.as_deref() == Some("-") => {
            return Err(Failure::rock(
                "--stdin - can't be used when the code itself comes from stdin",
            ))
        }
        Some("-") => Some(read_all_stdin()?),
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| Failure::rock(format!("cannot read --stdin file {path}: {e}")))?,
        ),
    };
    Ok(request)
}

/// Runtime env `key` of this machine, which must be of the code's language.
fn host_runtime_env(
    key: &str,
    language: Language,
    context: &Context,
) -> Result<provider::HostRuntimeEnv, Failure> {
    let registry = runtime_env::Registry::new(runtime_env::root(&context.config, &process_env)?);
    let record = registry.find(key).map_err(Failure::rock)?;
    if let Some(remote) = &record.remote {
        return Err(Failure::rock(format!(
            "env {} lives in a {} sandbox: run code there with `rock env run {} -- python FILE`",
            record.label(),
            remote.provider,
            record.id
        )));
    }
    let executable = match (language, record.type_name.as_str()) {
        (Language::Python, "python") => "python3",
        (Language::Nodejs, "node") => "node",
        _ => {
            return Err(Failure::rock(format!(
                "env {} is a {} env: it can't run {language} code",
                record.label(),
                record.type_name
            )))
        }
    };
    Ok(provider::HostRuntimeEnv {
        language,
        dir: record.runtime_dir(),
        interpreter: record.bin_dir().join(executable),
    })
}

/// The code and the file name it had.
fn read_code(args: &ExecArgs) -> Result<(String, Option<String>), Failure> {
    if let Some(code) = &args.code {
        return Ok((code.clone(), None));
    }
    match args.file.as_deref() {
        None => Err(Failure::rock(
            "no code given: pass a file, - to read the code from stdin, or --code",
        )),
        Some("-") => {
            let bytes = read_all_stdin()?;
            let code = String::from_utf8(bytes)
                .map_err(|_| Failure::rock("the code on stdin is not UTF-8 text"))?;
            Ok((code, None))
        }
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Failure::rock(format!("file not found: {path}")),
                _ => Failure::rock(format!("cannot read {path}: {e}")),
            })?;
            let code = String::from_utf8(bytes)
                .map_err(|_| Failure::rock(format!("{path} is not UTF-8 text")))?;
            let name = PathBuf::from(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            Ok((code, name))
        }
    }
}

fn read_all_stdin() -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::rock(format!("cannot read stdin: {e}")))?;
    Ok(bytes)
}
