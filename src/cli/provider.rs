use std::time::Instant;

use clap::Subcommand;

use super::output::outln;
use super::{runtime, Context, Failure};
use crate::config::process_env;
use crate::exec::{ExecRequest, Language};
use crate::provider::{self, DEFAULT_PROVIDER, PROVIDERS};
use crate::sandbox::NoSink;

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Show every provider and whether it can run code now
    List,
    /// Check a provider's health and run a tiny program in each of its languages
    Test {
        /// The provider [default: the configured one, else local]
        name: Option<String>,
    },
    /// Print a provider's config schema as JSON
    Schema {
        /// The provider
        name: String,
    },
}

pub fn run(command: ProviderCommand, context: &Context) -> Result<i32, Failure> {
    match command {
        ProviderCommand::List => list(context),
        ProviderCommand::Test { name } => test(name, context),
        ProviderCommand::Schema { name } => {
            let provider = provider::lookup(&name)?.make();
            let schema = serde_json::to_string_pretty(&provider.config_schema().to_json())
                .unwrap_or_default();
            outln!("{schema}");
            Ok(0)
        }
    }
}

fn list(context: &Context) -> Result<i32, Failure> {
    let runtime = runtime()?;
    outln!("{:<10} {:<10} DESCRIPTION", "NAME", "STATUS");
    for entry in PROVIDERS {
        let (status, detail, description) = match context.provider(entry.name) {
            Ok(provider) => {
                let health = runtime.block_on(provider.health_check());
                let status = if health.healthy { "ok" } else { "unhealthy" };
                (status, health.detail, provider.description())
            }
            Err(failure) => ("misconfigured", failure.message, entry.make().description()),
        };
        outln!("{:<10} {:<10} {description}", entry.name, status);
        if context.global.verbose > 0 || status != "ok" {
            outln!("{:<10} {:<10} {detail}", "", "");
        }
    }
    Ok(0)
}

/// A main() that echoes its argument back, per language.
fn probe_code(language: Language) -> &'static str {
    match language {
        Language::Python => "def main(word):\n    return {'echo': word}\n",
        Language::Nodejs => "function main(args) { return { echo: args.word }; }\n",
    }
}

fn test(name: Option<String>, context: &Context) -> Result<i32, Failure> {
    let name = match name {
        Some(name) => name,
        None => context
            .config
            .value("default.provider", &process_env)?
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_PROVIDER.to_string()),
    };
    let provider = context.provider(&name)?;
    let runtime = runtime()?;
    let health = runtime.block_on(provider.health_check());
    if !health.healthy {
        return Err(Failure::rock(format!(
            "provider {} is not healthy: {}",
            provider.name(),
            health.detail
        )));
    }
    outln!("{}: healthy ({})", provider.name(), health.detail);
    let mut failed = 0;
    for language in provider.supported_languages() {
        let mut request = ExecRequest::new(language, probe_code(language));
        let mut arguments = serde_json::Map::new();
        arguments.insert("word".into(), "rock".into());
        request.arguments = Some(arguments);
        let started = Instant::now();
        let outcome = runtime.block_on(provider::run_once(
            provider.as_ref(),
            &request,
            Box::new(NoSink),
        ));
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok(result)
                if result.result.as_ref().map(|r| &r.value)
                    == Some(&serde_json::json!({"echo": "rock"})) =>
            {
                let version = result
                    .metadata
                    .get("interpreter_version")
                    .and_then(|v| v.as_str())
                    .map(|v| format!(" ({language} {v})"))
                    .unwrap_or_default();
                outln!("  {language:<8} ok  {millis:.1} ms round trip{version}");
            }
            Ok(result) => {
                failed += 1;
                outln!(
                    "  {language:<8} FAILED  {} (exit {}): {}",
                    result.status.as_str(),
                    result.exit_code,
                    result.stderr.trim()
                );
            }
            Err(err) => {
                failed += 1;
                outln!("  {language:<8} FAILED  {err}");
            }
        }
    }
    if failed > 0 {
        return Err(Failure::rock(format!(
            "provider {} failed the round trip in {failed} language(s)",
            provider.name()
        )));
    }
    Ok(0)
}
