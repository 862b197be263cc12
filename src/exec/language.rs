use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language rock can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Nodejs,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Python, Language::Nodejs];

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Nodejs => "nodejs",
        }
    }

    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Language::Python => &["python3", "py"],
            Language::Nodejs => &["node", "javascript", "js"],
        }
    }

    /// The language a file's extension tells, if any.
    pub fn from_extension(ext: &str) -> Option<Language> {
        match ext {
            "py" => Some(Language::Python),
            "js" | "mjs" | "cjs" => Some(Language::Nodejs),
            _ => None,
        }
    }

    /// The command looked up on PATH when none is configured.
    pub fn default_interpreter(self) -> &'static str {
        match self {
            Language::Python => "python3",
            Language::Nodejs => "node",
        }
    }

    /// The file name the code gets inside the sandbox when it came from stdin.
    pub fn default_file_name(self) -> &'static str {
        match self {
            Language::Python => "main.py",
            Language::Nodejs => "main.js",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown language `{0}`: known languages are python (python3, py) and nodejs (node, javascript, js)")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Language::ALL
            .into_iter()
            .find(|l| l.name() == lower || l.aliases().contains(&lower.as_str()))
            .ok_or_else(|| UnknownLanguage(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve() {
        assert_eq!("py".parse::<Language>().unwrap(), Language::Python);
        assert_eq!("JavaScript".parse::<Language>().unwrap(), Language::Nodejs);
        let err = "ruby".parse::<Language>().unwrap_err().to_string();
        assert!(err.contains("unknown language `ruby`"), "{err}");
    }
}
