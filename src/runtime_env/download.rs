//! Downloads of runtime archives, verified by SHA-256 and kept in a content-addressed
//! cache (`<cache>/downloads/sha256/<hex>`), so that a version is downloaded once.
//! An index maps each URL to the digest it gave, so that a cached archive needs no
//! request at all, not even for a mirror's checksum file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::catalog::Archive;
use super::progress::Progress;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot download {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("the archive from {url} is corrupted: its SHA-256 is {actual}, {source_of_digest} says {expected}; nothing was installed")]
    Corrupt {
        url: String,
        actual: String,
        expected: String,
        source_of_digest: String,
    },
    #[error("the mirror's checksum file {url} lists no {file}")]
    NotListed { url: String, file: String },
    #[error("cannot write the download cache {path}: {reason}")]
    Cache { path: String, reason: String },
    #[error("interrupted by signal {0}")]
    Interrupted(i32),
}

/// A verified archive in the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub path: PathBuf,
    pub sha256: String,
    /// Whether it came from the cache, with no request made.
    pub cached: bool,
}

pub struct Downloads {
    dir: PathBuf,
    client: reqwest::Client,
}

impl Downloads {
    pub fn new(cache_dir: &Path) -> Result<Self, DownloadError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("rock/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| DownloadError::Fetch {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Downloads {
            dir: cache_dir.join("downloads"),
            client,
        })
    }

    fn blob(&self, sha256: &str) -> PathBuf {
        self.dir.join("sha256").join(sha256)
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("index.json")
    }

    fn index(&self) -> BTreeMap<String, String> {
        std::fs::read(self.index_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn remember(&self, url: &str, sha256: &str) {
        let mut index = self.index();
        index.insert(url.to_string(), sha256.to_string());
        // Losing an entry to a concurrent writer only costs a request next time.
        let _ = crate::atomic_file::write(
            &self.index_path(),
            &serde_json::to_vec_pretty(&index).unwrap_or_default(),
            0o644,
        );
    }

    /// The archive, from the cache or downloaded from `mirror` (base URL) or upstream.
    pub async fn fetch(
        &self,
        archive: &Archive,
        mirror: Option<&str>,
        progress: &Progress,
    ) -> Result<Fetched, DownloadError> {
        let url = match mirror {
            Some(base) => join(base, &archive.mirror_path),
            None => archive.upstream.clone(),
        };
        if let Some(sha256) = self.index().get(&url) {
            let path = self.blob(sha256);
            if path.is_file() {
                return Ok(Fetched {
                    path,
                    sha256: sha256.clone(),
                    cached: true,
                });
            }
        }
        let (expected, source_of_digest) = match mirror {
            Some(base) => {
                let sums_url = join(base, &archive.mirror_checksums);
                let text = self.text(&sums_url).await?;
                let digest = checksum_for(&text, &archive.file_name).ok_or_else(|| {
                    DownloadError::NotListed {
                        url: sums_url.clone(),
                        file: archive.file_name.clone(),
                    }
                })?;
                (digest, sums_url)
            }
            None => (
                archive.sha256.to_string(),
                "rock's pinned digest".to_string(),
            ),
        };
        let path = self.blob(&expected);
        if !path.is_file() {
            self.download(&url, &expected, &source_of_digest, progress)
                .await?;
        }
        self.remember(&url, &expected);
        Ok(Fetched {
            path,
            sha256: expected,
            cached: false,
        })
    }

    /// A small text file (a checksum list).
    async fn text(&self, url: &str) -> Result<String, DownloadError> {
        let fail = |reason: String| DownloadError::Fetch {
            url: url.to_string(),
            reason,
        };
        if let Some(path) = url.strip_prefix("file://") {
            return std::fs::read_to_string(path).map_err(|e| fail(e.to_string()));
        }
        let response = self.get(url).await?;
        response.text().await.map_err(|e| fail(describe(&e)))
    }

    /// A GET that succeeded (2xx).
    async fn get(&self, url: &str) -> Result<reqwest::Response, DownloadError> {
        let fail = |reason: String| DownloadError::Fetch {
            url: url.to_string(),
            reason,
        };
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| fail(describe(&e)))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        Ok(response)
    }

    /// Streams `url` into the cache, hashing as it goes; keeps it only if the digest matches.
    async fn download(
        &self,
        url: &str,
        expected: &str,
        source_of_digest: &str,
        progress: &Progress,
    ) -> Result<(), DownloadError> {
        let cache_error = |path: &Path, e: std::io::Error| DownloadError::Cache {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let blobs = self.dir.join("sha256");
        std::fs::create_dir_all(&blobs).map_err(|e| cache_error(&blobs, e))?;
        crate::process::remove_leftovers(&self.dir, ".partial-");
        let partial = self.dir.join(format!(
            ".partial-{}-{}",
            std::process::id(),
            &expected[..12]
        ));
        let result = self.stream_into(url, &partial, progress).await;
        let actual = match result {
            Ok(actual) => actual,
            Err(err) => {
                let _ = std::fs::remove_file(&partial);
                return Err(err);
            }
        };
        if actual != expected {
            let _ = std::fs::remove_file(&partial);
            return Err(DownloadError::Corrupt {
                url: url.to_string(),
                actual,
                expected: expected.to_string(),
                source_of_digest: source_of_digest.to_string(),
            });
        }
        let blob = self.blob(expected);
        std::fs::rename(&partial, &blob).map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            cache_error(&blob, e)
        })
    }

    async fn stream_into(
        &self,
        url: &str,
        partial: &Path,
        progress: &Progress,
    ) -> Result<String, DownloadError> {
        let fail = |reason: String| DownloadError::Fetch {
            url: url.to_string(),
            reason,
        };
        let mut file = std::fs::File::create(partial).map_err(|e| DownloadError::Cache {
            path: partial.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut hasher = Sha256::new();
        let name = url.rsplit('/').next().unwrap_or(url);
        let mut write = |bytes: &[u8]| -> Result<(), DownloadError> {
            hasher.update(bytes);
            file.write_all(bytes).map_err(|e| DownloadError::Cache {
                path: partial.display().to_string(),
                reason: e.to_string(),
            })
        };
        if let Some(path) = url.strip_prefix("file://") {
            use std::io::Read;
            let mut source = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
            let total = source.metadata().map(|m| m.len()).ok();
            let bar = progress.bytes(&format!("Copying {name}"), total);
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                interrupted()?;
                let n = source.read(&mut buffer).map_err(|e| fail(e.to_string()))?;
                if n == 0 {
                    break;
                }
                write(&buffer[..n])?;
                bar.inc(n as u64);
            }
            bar.finish_and_clear();
        } else {
            let mut response = self.get(url).await?;
            let bar = progress.bytes(&format!("Downloading {name}"), response.content_length());
            while let Some(chunk) = response.chunk().await.map_err(|e| fail(describe(&e)))? {
                interrupted()?;
                write(&chunk)?;
                bar.inc(chunk.len() as u64);
            }
            bar.finish_and_clear();
        }
        file.sync_all().map_err(|e| DownloadError::Cache {
            path: partial.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(hex(&hasher.finalize()))
    }
}

fn interrupted() -> Result<(), DownloadError> {
    match crate::interrupt::received() {
        Some(signal) => Err(DownloadError::Interrupted(signal)),
        None => Ok(()),
    }
}

/// reqwest's error with its causes, which say what actually went wrong.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest `sha256sum`-style text gives for `file` (`<hex>  <name>` or `<hex> *<name>`).
pub fn checksum_for(text: &str, file: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let digest = parts.next()?;
        let name = parts.next()?.trim_start_matches('*');
        (name == file && digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| digest.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_files_are_read_like_sha256sum() {
        let text = "0000000000000000000000000000000000000000000000000000000000000000  other.tar.gz\nABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789 *node.tar.gz\n";
        assert_eq!(
            checksum_for(text, "node.tar.gz").as_deref(),
            Some("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")
        );
        assert_eq!(checksum_for(text, "missing.tar.gz"), None);
    }
}
