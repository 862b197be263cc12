//! Local fake servers for rock's remote providers, on 127.0.0.1 only:
//!
//! * [`FakeE2b`] (e2b.rs): E2B's control plane, code interpreter and envd.
//! * [`FakeAgentRun`] (aliyun.rs): Aliyun AgentRun's data plane and template control plane.
//! * [`FakeRock`] (rock_admin.rs): a ROCK admin server's sandbox API.
//!
//! They follow the protocol facts in DESIGN.md ("Remote providers: protocol facts") and
//! the research notes behind them. Each binds 127.0.0.1:0 and serves from a thread with
//! its own tokio runtime; `start` returns once it listens, `stop` (or drop) ends it and
//! everything it runs. Code and commands run for real on the host (see run.rs).
//!
//! What every fake offers: `url()`, `stop()`, `live()` (sandboxes made and not deleted),
//! `created()`, `requests()` ("METHOD /path" of every request, query left out) and
//! `fail_next(route, status, times, retry_after)`: the next `times` requests to `route`
//! answer `status` in the provider's error shape (with `Retry-After` when given) instead
//! of doing the work. Route names are listed in each fake's documentation.
#![allow(dead_code)]
// Handlers answer early with a whole Response as their error.
#![allow(clippy::result_large_err)]

pub mod aliyun;
pub mod e2b;
pub mod rock_admin;
pub mod run;

#[allow(unused_imports)]
pub use aliyun::FakeAgentRun;
#[allow(unused_imports)]
pub use e2b::FakeE2b;
#[allow(unused_imports)]
pub use rock_admin::FakeRock;

/// What every fake offers a test.
pub trait Fake {
    /// `http://127.0.0.1:PORT`.
    fn url(&self) -> String;
    /// Shuts the server down (ending what runs in it); connections are refused after.
    fn stop(&self);
    /// Sandboxes created and not yet deleted.
    fn live(&self) -> usize;
    /// Sandboxes created in all.
    fn created(&self) -> usize;
    /// The next `times` requests to `route` answer `status` in the provider's error shape.
    fn fail_next(&self, route: &str, status: u16, times: usize, retry_after: Option<u64>);
    /// "METHOD /path" of every request so far.
    fn requests(&self) -> Vec<String>;
}

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

/// The largest request body a fake reads.
const BODY_LIMIT: usize = 64 << 20;

/// A server on 127.0.0.1:0, serving from a thread of its own.
pub(crate) struct Server {
    url: String,
    running: Mutex<
        Option<(
            tokio::sync::oneshot::Sender<()>,
            std::thread::JoinHandle<()>,
        )>,
    >,
}

impl Server {
    /// Listens at once; serves `router` until [`Server::stop`].
    pub(crate) fn start(name: &str, router: Router) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-{name}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fake server runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = axum::serve(listener, router).into_future() => {}
                        _ = rx => {}
                    }
                });
                // Ends the connections and the requests in flight (their processes with them).
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("fake server thread");
        Server {
            url,
            running: Mutex::new(Some((tx, thread))),
        }
    }

    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    /// Shuts the server down; afterwards connections to it are refused.
    pub(crate) fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((tx, thread)) = running {
            let _ = tx.send(());
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A failure planned by `fail_next`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected {
    pub status: u16,
    pub retry_after: Option<u64>,
}

#[derive(Debug)]
struct Planned {
    injected: Injected,
    left: usize,
}

/// What every fake keeps: requests seen, failures planned, sandboxes made.
#[derive(Debug, Default)]
pub(crate) struct Book {
    requests: Mutex<Vec<String>>,
    planned: Mutex<HashMap<String, Planned>>,
    created: AtomicUsize,
}

impl Book {
    pub(crate) fn record(&self, request: &Request) {
        let line = format!("{} {}", request.method(), request.uri().path());
        lock(&self.requests).push(line);
    }

    pub(crate) fn requests(&self) -> Vec<String> {
        lock(&self.requests).clone()
    }

    pub(crate) fn fail_next(
        &self,
        route: &str,
        status: u16,
        times: usize,
        retry_after: Option<u64>,
    ) {
        let planned = Planned {
            injected: Injected {
                status,
                retry_after,
            },
            left: times,
        };
        lock(&self.planned).insert(route.to_string(), planned);
    }

    /// The failure planned for a request to a route with one of these names, if any is
    /// left (and counts it).
    pub(crate) fn injected(&self, names: &[&str]) -> Option<Injected> {
        let mut planned = lock(&self.planned);
        for name in names {
            if let Some(plan) = planned.get_mut(*name) {
                if plan.left > 0 {
                    plan.left -= 1;
                    return Some(plan.injected);
                }
            }
        }
        None
    }

    pub(crate) fn count_created(&self) {
        self.created.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }
}

/// Locks a mutex, whatever a panicking holder left in it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A header's value as text.
pub(crate) fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The whole request body.
pub(crate) async fn body_bytes(request: Request) -> Vec<u8> {
    axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// A response with this status, content type and body.
pub(crate) fn respond(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !content_type.is_empty() {
        if let Ok(value) = HeaderValue::from_str(content_type) {
            response.headers_mut().insert("content-type", value);
        }
    }
    response
}

pub(crate) fn json(status: u16, body: &Value) -> Response {
    respond(status, "application/json", body.to_string())
}

pub(crate) fn empty(status: u16) -> Response {
    respond(status, "", Body::empty())
}

/// Adds `Retry-After` when the plan has one.
pub(crate) fn with_retry_after(mut response: Response, injected: Injected) -> Response {
    if let Some(seconds) = injected.retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

/// The reason phrase of a status, for error messages.
pub(crate) fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The decoded `key=value` pairs of a URI's query, in order.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key, true), percent_decode(value, true))
        })
        .collect()
}

pub(crate) fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// `%XX` escapes decoded (and `+` as a space when `plus_is_space`); bad escapes kept.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("0");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes every byte but `A-Z a-z 0-9 - _ . ~` (RFC 3986 unreserved).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).expect("random bytes");
    hex(&bytes)
}

/// `n` random characters of `[a-z0-9]`.
pub(crate) fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).expect("random bytes");
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A random UUID (v4), upper-case as Aliyun's request ids are.
pub(crate) fn request_id() -> String {
    let h = random_hex(16).to_uppercase();
    format!(
        "{}-{}-4{}-A{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Seconds since the epoch of a civil UTC date and time.
pub(crate) fn unix_of(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (mo as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    days * 86400 + h as i64 * 3600 + mi as i64 * 60 + s as i64
}

/// (year, month, day, hour, minute, second) of seconds since the epoch, UTC.
pub(crate) fn civil_of(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// RFC 3339 UTC with microseconds: `2026-03-06T12:00:00.123456Z`.
pub(crate) fn rfc3339(unix: f64) -> String {
    let whole = unix.floor() as i64;
    let micros = ((unix - whole as f64) * 1e6) as u32;
    let (y, mo, d, h, mi, s) = civil_of(whole);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z")
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (what `x-acs-date` holds) to seconds since the epoch.
pub(crate) fn parse_acs_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    Some(unix_of(
        num(0..4)? as i64,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    ))
}

/// A temp dir for a sandbox of a fake.
pub(crate) fn sandbox_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("sandbox temp dir")
}
