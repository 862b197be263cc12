//! docs/configuration.md, generated from the key registry and the providers' schemas
//! (a test fails when the file in the repo differs).

use std::fmt::Write;

use super::keys::{self, Default, KeySpec, Kind};

pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    let all = keys::all();
    let sections: &[(&str, &str, &str)] = &[
        ("default", "`[default]`", "What `rock exec` uses when no flag says otherwise."),
        ("languages", "`[languages.python]`, `[languages.nodejs]`", "The interpreters of the `local` provider."),
        ("runtime_envs", "`[runtime_envs]`", "Runtime envs (`rock env`, see [runtime-envs.md](runtime-envs.md)). A mirror is the base URL of a copy of the upstream release layout; with one, archives are checked against the mirror's own checksum file."),
    ];
    for (prefix, title, intro) in sections {
        let _ = writeln!(out, "## {title}\n\n{intro}\n");
        table(
            &mut out,
            all.iter().filter(|k| {
                k.key.starts_with(&format!("{prefix}.")) && !k.key.starts_with("providers.")
            }),
        );
    }
    out.push_str(CUSTOM_TYPES);
    table(&mut out, keys::custom_type_fields("<name>").iter());
    out.push_str("## `[providers.<name>]`\n\nEach provider's own settings, as its config schema declares them (`rock provider schema NAME` prints the schema as JSON). `rock config set` checks a value against the schema and the provider's own rules before it writes anything.\n\n");
    for entry in crate::provider::PROVIDERS {
        let provider = entry.make();
        let _ = writeln!(
            out,
            "### `[providers.{}]`\n\n{}.\n",
            entry.name,
            capitalize(provider.description())
        );
        table(&mut out, keys::provider_keys(entry.name).iter());
    }
    out
}

fn table<'a>(out: &mut String, keys: impl Iterator<Item = &'a KeySpec>) {
    out.push_str("| key | type | default | environment | description |\n|---|---|---|---|---|\n");
    for spec in keys {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {}.{}{} |",
            spec.key,
            kind(&spec.kind),
            default(spec),
            spec.env.map(|e| format!("`{e}`")).unwrap_or_default(),
            spec.description.replace('|', "\\|"),
            if spec.secret {
                " Secret: masked by `show` and `get`."
            } else {
                ""
            },
            if spec.required { " Required." } else { "" },
        );
    }
    out.push('\n');
}

fn kind(kind: &Kind) -> String {
    match kind {
        Kind::Integer { min, max } => match (min, max) {
            (Some(min), Some(max)) => format!("integer, {min} to {max}"),
            _ => "integer".into(),
        },
        Kind::String {
            options: Some(options),
        } => format!(
            "string: {}",
            options
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::Seconds { max } => format!("seconds, above 0, at most {max}"),
        Kind::Size { min } => format!("size, at least {}", crate::size::format(*min)),
        Kind::Provider => format!(
            "provider name: {}",
            crate::provider::PROVIDERS
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.describe(),
    }
}

fn default(spec: &KeySpec) -> String {
    match &spec.default {
        Default::None => String::new(),
        Default::Value(value) => format!("`{value}`"),
        Default::Computed { doc, .. } => doc.to_string(),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const HEADER: &str = "# Configuration

<!-- Generated from the key registry (src/config/keys.rs) and the providers' schemas.
     Regenerate with: ROCK_UPDATE_DOCS=1 cargo test --test config docs -->

rock reads one TOML file: the path given by `--config`, else `$ROCK_CONFIG`, else
`config.toml` in rock's config dir (`~/.config/rock/config.toml` on Linux; `rock config path`
prints it). A missing file is an empty config.

Every value is resolved once, in this order: a command-line flag, then the key's environment
variable (an empty variable counts as unset), then the config file, then the default.
`rock config show` prints each key's value and where it came from.

```
rock config set default.timeout 30            # a typed value, checked before anything is written
rock config get default.timeout
rock config unset default.timeout             # a key, or a whole section
rock config show [--json] [--reveal]          # secrets masked unless --reveal
rock config edit                              # $VISUAL or $EDITOR, then the whole file is checked
```

Values are typed: an integer or a boolean (`true`/`false`, also `yes`/`no`, `on`/`off`,
`1`/`0`) is written as such; seconds may have a fraction; a size is written like `256MiB`,
`512k` or `1G` (a bare number means MiB); a list is `a,b,c` or a TOML array such as
`'[\"a\", \"b\"]'`; a path must be absolute (`~/` is expanded); a URL starts with `http://`,
`https://` or `file://`. A value of the wrong type, out of range, not among a key's options,
or refused by a provider is refused with the reason, and the file is left as it was. An unknown
key is refused with the nearest known key. Keys of other sections found in the file are
ignored with a warning.

Writes keep comments and formatting, replace the file atomically (a temporary file in the same
directory, then a rename: a crash or a full disk leaves the old file) and leave it with mode
0600. Secrets (schema fields marked secret) and the password in a URL are masked by `show` and
`get` unless `--reveal` is given.

";

const CUSTOM_TYPES: &str = "## `[runtime_envs.types.<name>]`

A custom runtime type for `rock env create <name>`, named by the user (lowercase letters, digits,
`-` and `_`, starting with a letter; not `python` or `node`). Its install command must leave the
executables in `runtime-env/bin/`; `ROCK_RTENV_<NAME>_V<version without dots>_INSTALL_CMD`
overrides it, as for the built-in types.

";
