//! HTTP for remote providers: one client per provider, retries only where a call is safe
//! to repeat, and every failure as one sentence that names the service and what to do.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;

use crate::provider::ProviderError;

/// Whether a call may be sent again when the first try's fate is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, deletes, keep-alives: the same effect however often they arrive.
    Idempotent,
    /// Creating a sandbox, running code: sent again only when the service said it did
    /// not do it (429, 503, or no connection at all).
    Once,
}

/// Retry-After beyond this is not waited for: the error says when to come back.
const LONGEST_WAIT: Duration = Duration::from_secs(20);
const ATTEMPTS: u32 = 4;

/// A remote service as rock talks to it.
#[derive(Clone)]
pub struct Service {
    /// How errors name it: "E2B", "AgentRun", "the ROCK admin server".
    pub name: &'static str,
    /// Where its credentials are set, for the error that says they were refused.
    pub credentials_hint: String,
    /// The setting that bounds each HTTP call, for the error that says one took too long.
    pub timeout_key: String,
    pub client: reqwest::Client,
    /// The bound on a call that does not wait for a run (set per call with `.timeout`).
    pub request_timeout: Duration,
    /// The first delay between tries; doubled each time.
    pub backoff: Duration,
}

impl Service {
    pub fn new(
        name: &'static str,
        credentials_hint: String,
        timeout_key: String,
        request_timeout: Duration,
    ) -> Result<Service, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Service {
            name,
            credentials_hint,
            timeout_key,
            client,
            request_timeout,
            backoff: Duration::from_millis(200),
        })
    }

    /// Sends what `build` makes, again when the answer allows it, and returns the last
    /// answer whatever its status. `what` names the call in errors ("creating a sandbox").
    pub async fn send(
        &self,
        what: &str,
        repeat: Repeat,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, ProviderError> {
        let mut delay = self.backoff;
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            let request = build();
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let retry = match status.as_u16() {
                        429 | 503 => true,
                        502 | 504 => repeat == Repeat::Idempotent,
                        _ => false,
                    };
                    if !retry || last {
                        return Ok(response);
                    }
                    let wait = retry_after(&response).unwrap_or(delay);
                    if wait > LONGEST_WAIT {
                        return Ok(response);
                    }
                    tracing::debug!("{what}: HTTP {status}, trying again in {wait:?}");
                    tokio::time::sleep(wait).await;
                }
                Err(err) => {
                    // No connection means the call never arrived: any call may try again.
                    let retry = err.is_connect() || repeat == Repeat::Idempotent;
                    if !retry || last {
                        let url = err.url().map(|u| u.to_string()).unwrap_or_default();
                        return Err(self.unreachable(what, &url, &err));
                    }
                    tracing::debug!("{what}: {err}, trying again in {delay:?}");
                    tokio::time::sleep(delay).await;
                }
            }
            delay *= 2;
        }
        unreachable!("the last attempt returns")
    }

    /// A failed call as one sentence.
    pub fn unreachable(&self, what: &str, url: &str, err: &reqwest::Error) -> ProviderError {
        let name = self.name;
        if err.is_timeout() {
            return ProviderError::Unavailable(format!(
                "{name} did not answer {what} in time ({url}): rock's own HTTP timeout passed; raise {} if the service is slow",
                self.timeout_key
            ));
        }
        // The innermost cause says what happened ("Connection refused"); reqwest's own
        // text only repeats the URL.
        let mut cause: &dyn std::error::Error = err;
        while let Some(source) = cause.source() {
            cause = source;
        }
        ProviderError::Unavailable(format!(
            "cannot reach {name} at {url} while {what} ({cause})"
        ))
    }

    /// An answer that is not a success, as one sentence.
    pub fn refusal(&self, what: &str, status: StatusCode, body: &Value) -> ProviderError {
        let name = self.name;
        let code = status.as_u16();
        let said = message_of(body);
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        };
        ProviderError::Unavailable(match code {
            401 | 403 => format!(
                "{name} refused rock's credentials while {what} (HTTP {code}{said}); check {}",
                self.credentials_hint
            ),
            404 => format!("{name} found no such thing while {what} (HTTP 404{said})"),
            429 => format!(
                "{name} is over its rate limit or quota while {what} (HTTP 429{said}); try again later"
            ),
            500..=599 => format!("{name} is unavailable while {what} (HTTP {code}{said})"),
            _ => format!("{name} answered HTTP {code} while {what}{said}"),
        })
    }

    /// Reads a JSON answer; a non-success status becomes [`Service::refusal`].
    pub async fn json(&self, what: &str, response: Response) -> Result<Value, ProviderError> {
        let status = response.status();
        let body = read_json(response).await;
        if !status.is_success() {
            return Err(self.refusal(what, status, &body.unwrap_or(Value::Null)));
        }
        body.map_err(|e| {
            ProviderError::Unavailable(format!(
                "{} sent an unreadable answer while {what}: {e}",
                self.name
            ))
        })
    }
}

/// A JSON body (reqwest's own `json` needs a feature rock does without).
pub trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

/// The body as JSON, or the reason it isn't (an empty body is `null`).
pub async fn read_json(response: Response) -> Result<Value, String> {
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|_| {
        let text = String::from_utf8_lossy(&bytes);
        format!("not JSON: {}", text.chars().take(200).collect::<String>())
    })
}

/// What an error body says, whatever the service's envelope: `message`, `error`, `detail`.
pub fn message_of(body: &Value) -> String {
    for key in ["message", "error", "detail", "msg"] {
        match &body[key] {
            Value::String(s) if !s.is_empty() => return s.clone(),
            Value::Object(inner) => {
                if let Some(Value::String(s)) = inner.get("message") {
                    return s.clone();
                }
            }
            _ => {}
        }
    }
    match body {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string().chars().take(200).collect(),
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_come_from_any_envelope() {
        assert_eq!(
            message_of(&json!({"code": 401, "message": "bad key"})),
            "bad key"
        );
        assert_eq!(
            message_of(&json!({"status": "Failed", "message": "", "error": "no such sandbox"})),
            "no such sandbox"
        );
        assert_eq!(message_of(&json!({"error": {"message": "quota"}})), "quota");
        assert_eq!(message_of(&Value::Null), "");
    }
}
