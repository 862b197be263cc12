//! What a run uses, resolved once: a flag, else the key's environment variable, else the
//! config file, else the default. Commands read the result and nothing else.

use std::time::Duration;

use crate::config::{keys, Config, ConfigFileError, Env, Source};

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// The `[default]` section's flags, as typed on the command line.
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    pub provider: Option<String>,
    pub timeout: Option<String>,
    pub memory: Option<String>,
    pub network: Option<bool>,
    pub output_cap: Option<String>,
}

/// The settings of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub provider: Setting<String>,
    pub timeout: Setting<Duration>,
    pub memory: Setting<u64>,
    pub network: Setting<bool>,
    pub output_cap: Setting<u64>,
}

impl RunSettings {
    pub fn resolve(config: &Config, env: Env, flags: &RunFlags) -> Result<Self, ConfigFileError> {
        let resolve = |key: &str, flag_name: &str, flag: Option<&str>| {
            let spec = keys::lookup(key).map_err(|e| ConfigFileError::Value(e.to_string()))?;
            if let Some(text) = flag {
                let value =
                    keys::parse_as(&spec, flag_name, text).map_err(ConfigFileError::Value)?;
                return Ok((value, Source::Flag));
            }
            config
                .effective(&spec, env)?
                .ok_or_else(|| ConfigFileError::Value(format!("{key} has no value")))
        };
        let (provider, provider_source) =
            resolve("default.provider", "--provider", flags.provider.as_deref())?;
        let (timeout, timeout_source) =
            resolve("default.timeout", "--timeout", flags.timeout.as_deref())?;
        let (memory, memory_source) =
            resolve("default.memory", "--memory", flags.memory.as_deref())?;
        let network_flag = flags.network.map(|on| on.to_string());
        let (network, network_source) =
            resolve("default.network", "--network", network_flag.as_deref())?;
        let (output_cap, output_cap_source) = resolve(
            "default.output_cap",
            "--output-cap",
            flags.output_cap.as_deref(),
        )?;

        let seconds = timeout
            .as_float()
            .or_else(|| timeout.as_integer().map(|n| n as f64))
            .unwrap_or(10.0);
        let size = |value: &toml::Value| keys::size_of(value).map_err(ConfigFileError::Value);
        Ok(RunSettings {
            provider: Setting {
                value: provider.as_str().unwrap_or_default().to_string(),
                source: provider_source,
            },
            timeout: Setting {
                value: Duration::from_secs_f64(seconds),
                source: timeout_source,
            },
            memory: Setting {
                value: size(&memory)?,
                source: memory_source,
            },
            network: Setting {
                value: network.as_bool().unwrap_or(false),
                source: network_source,
            },
            output_cap: Setting {
                value: size(&output_cap)?,
                source: output_cap_source,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_table(Some("c.toml".into()), text.parse().unwrap())
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let file = config("[default]\ntimeout = 5\nmemory = \"64MiB\"\n");
        let env = |name: &str| (name == "ROCK_TIMEOUT").then(|| "7".to_string());
        let none = |_: &str| None;

        let settings = RunSettings::resolve(&file, &none, &RunFlags::default()).unwrap();
        assert_eq!(settings.timeout.value, Duration::from_secs(5));
        assert_eq!(settings.timeout.source, Source::File);
        assert_eq!(settings.memory.value, 64 << 20);
        assert_eq!(settings.output_cap.value, 1 << 20);
        assert_eq!(settings.output_cap.source, Source::Default);
        assert_eq!(settings.provider.value, "local");

        let settings = RunSettings::resolve(&file, &env, &RunFlags::default()).unwrap();
        assert_eq!(settings.timeout.value, Duration::from_secs(7));
        assert_eq!(settings.timeout.source, Source::Env("ROCK_TIMEOUT"));

        let flags = RunFlags {
            timeout: Some("1.5".into()),
            network: Some(true),
            ..RunFlags::default()
        };
        let settings = RunSettings::resolve(&file, &env, &flags).unwrap();
        assert_eq!(settings.timeout.value, Duration::from_millis(1500));
        assert_eq!(settings.timeout.source, Source::Flag);
        assert!(settings.network.value);
    }

    #[test]
    fn a_bad_flag_is_named() {
        let flags = RunFlags {
            memory: Some("1k".into()),
            ..RunFlags::default()
        };
        let err = RunSettings::resolve(&config(""), &|_| None, &flags).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--memory must be at least 16 MiB, got 1 KiB"
        );
    }
}
