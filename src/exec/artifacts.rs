//! Files a program leaves in `./artifacts/` (next to its code in /work): the harness sends
//! what it finds, and rock keeps only what the executor API allows. The harness runs with
//! the program, so everything it sends is checked here again.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// At most this many artifacts are kept.
pub const MAX_FILES: usize = 10;
/// Largest artifact kept, in bytes.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;

/// What the harness reports for one entry of the artifacts dir.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Candidate {
    pub name: String,
    #[serde(default)]
    pub size: u64,
    /// Absent when the harness did not read the file (not regular, too large).
    #[serde(default)]
    pub content_b64: Option<String>,
}

/// A kept artifact, as the executor API and `--json` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub mime_type: String,
    pub size: u64,
    pub content_b64: String,
}

/// The MIME type of an allowed name, or why it is refused.
fn check_name(name: &str) -> Result<&'static str, String> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) || name.contains("..")
    {
        return Err(format!(
            "artifact `{name}` refused: the name must not start with a dot or hold /, \\ or .."
        ));
    }
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("png") => Ok("image/png"),
        Some("jpg") | Some("jpeg") => Ok("image/jpeg"),
        Some("svg") => Ok("image/svg+xml"),
        Some("pdf") => Ok("application/pdf"),
        Some("csv") => Ok("text/csv"),
        Some("json") => Ok("application/json"),
        Some("html") => Ok("text/html"),
        _ => Err(format!(
            "artifact `{name}` refused: only png, jpg, jpeg, svg, pdf, csv, json and html files are kept"
        )),
    }
}

/// Keeps the candidates the rules allow, in order; says why each other one was refused.
pub fn select(candidates: Vec<Candidate>) -> (Vec<Artifact>, Vec<String>) {
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for candidate in candidates {
        let mime_type = match check_name(&candidate.name) {
            Ok(mime) => mime,
            Err(reason) => {
                refused.push(reason);
                continue;
            }
        };
        let Some(content) = candidate.content_b64 else {
            refused.push(format!(
                "artifact `{}` refused: not a regular file of at most 10 MiB",
                candidate.name
            ));
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(content.as_bytes()) else {
            refused.push(format!("artifact `{}` refused: unreadable", candidate.name));
            continue;
        };
        if bytes.len() as u64 > MAX_BYTES {
            refused.push(format!(
                "artifact `{}` refused: larger than 10 MiB",
                candidate.name
            ));
            continue;
        }
        if kept.len() == MAX_FILES {
            refused.push(format!(
                "artifact `{}` refused: at most 10 are kept",
                candidate.name
            ));
            continue;
        }
        kept.push(Artifact {
            name: candidate.name,
            mime_type: mime_type.to_string(),
            size: bytes.len() as u64,
            content_b64: content,
        });
    }
    (kept, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, bytes: &[u8]) -> Candidate {
        Candidate {
            name: name.into(),
            size: bytes.len() as u64,
            content_b64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    #[test]
    fn allowed_names_are_kept_and_the_rest_refused_with_a_reason() {
        let (kept, refused) = select(vec![
            candidate("plot.png", b"\x89PNG"),
            candidate("..x.png", b"x"),
            candidate(".hidden.csv", b"x"),
            candidate("a\\b.csv", b"x"),
            candidate("run.sh", b"x"),
            Candidate {
                name: "big.pdf".into(),
                size: MAX_BYTES + 1,
                content_b64: None,
            },
        ]);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (
                kept[0].name.as_str(),
                kept[0].mime_type.as_str(),
                kept[0].size
            ),
            ("plot.png", "image/png", 4)
        );
        assert_eq!(refused.len(), 5, "{refused:?}");
        assert!(refused[0].contains("`..x.png` refused"));
    }

    #[test]
    fn only_ten_are_kept() {
        let many = (0..12)
            .map(|i| candidate(&format!("{i}.json"), b"{}"))
            .collect();
        let (kept, refused) = select(many);
        assert_eq!((kept.len(), refused.len()), (10, 2));
    }
}
