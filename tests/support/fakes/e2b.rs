//! A fake E2B: control plane, code interpreter (port 49999) and envd (port 49983) on one
//! loopback server.
//!
//! Follows DESIGN.md "Remote providers: protocol facts" (E2B) and /tmp/facts/e2b.md (E2B's
//! `spec/openapi.yml`, the Python/JS SDKs, the code-interpreter server, envd's process
//! handler and E2B's edge proxy):
//!
//! * Control plane, `X-API-Key` checked (else 401 `{"code":401,"message":"Invalid API key"}`):
//!   `POST /sandboxes` → 201 `{sandboxID, templateID, clientID, envdVersion, envdAccessToken,
//!   trafficAccessToken, domain}` (unknown templateID → 404 `{code, message}`; the fake knows
//!   `code-interpreter-v1` and `base`); `GET /sandboxes/{id}`; `DELETE /sandboxes/{id}` → 204
//!   (unknown → 404); `GET /v2/sandboxes` (and `/sandboxes`) → list; `POST
//!   /sandboxes/{id}/timeout` → 204. `GET /health` → 204 without a key, as E2B's API has it.
//! * Sandbox traffic is any request with `E2b-Sandbox-Id` (and `E2b-Sandbox-Port`): an
//!   unknown or deleted sandbox → 502 `{"sandboxId","message":"The sandbox was not found",
//!   "code":502}` (E2B's edge proxy); a port nothing listens on → 502; then `X-Access-Token`
//!   must be the sandbox's `envdAccessToken` (else 401).
//!   - port 49999 `POST /execute` `{code, context_id, language, env_vars}` → 200, JSON lines as
//!     the program writes: `number_of_executions`, `stdout`/`stderr` `{text, timestamp}`,
//!     `keepalive` after each second of silence, `error {name:"Error", value:"exit N",
//!     traceback}` when the program fails, last `end_of_execution`. The code (Python) runs by
//!     `rock exec` (run.rs). Both context_id and language → 400; a context_id → 404 (the fake
//!     has no contexts); a language other than python → 400 (the fake runs Python only).
//!   - port 49983 `POST /process.Process/Start`, Connect streaming with the JSON codec
//!     (`application/connect+json`; frames: 1 flag byte + 4-byte big-endian length + JSON):
//!     request `{"process":{"cmd","args","envs","cwd"?},"stdin"?}`, answered with
//!     `{"event":{"start":{"pid"}}}`, `{"event":{"data":{"stdout"|"stderr": base64}}}` as output
//!     comes, `{"event":{"end":{"exitCode"?,"exited"?,"status","error"?}}}` (proto3 JSON: zero
//!     values left out), then the end-of-stream frame (flag 0x02) `{}`. cmd+args run on the
//!     host in the sandbox's directory (or `cwd`), with the sandbox's envVars and the
//!     request's envs added; `Connect-Timeout-Ms` kills the process group when it passes
//!     (end `signal: killed`, then end-of-stream error `deadline_exceeded`); keepalive events
//!     every `Keepalive-Ping-Interval` seconds. `GET /health` → 204.
//!
//! Routes for `fail_next`: "health", "create", "list", "get", "delete", "timeout" (control
//! plane); "execute", "command" (also "process") and "envd_health" (sandbox traffic).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::run::{self, End, Event, Output, Stop, Utf8Pieces};
use super::{
    body_bytes, empty, header, json, lock, query_value, random_hex, random_id, respond, rfc3339,
    sandbox_dir, unix_now, with_retry_after, Book, Server,
};

const INTERPRETER_PORT: u16 = 49999;
const ENVD_PORT: u16 = 49983;
const ENVD_VERSION: &str = "0.5.4";
const CLIENT_ID: &str = "6532622b";
/// Templates the fake knows, and whether they serve the code interpreter.
const TEMPLATES: [(&str, bool); 2] = [("code-interpreter-v1", true), ("base", false)];

/// A fake E2B on 127.0.0.1; see the module documentation.
pub struct FakeE2b {
    server: Server,
    state: Arc<Shared>,
}

struct Shared {
    book: Book,
    api_key: String,
    rock: PathBuf,
    /// XDG home of the rock that runs submitted code.
    home: tempfile::TempDir,
    executions: AtomicUsize,
    sandboxes: Mutex<HashMap<String, Sandbox>>,
}

struct Sandbox {
    template: String,
    interpreter: bool,
    token: Option<String>,
    dir: tempfile::TempDir,
    started_at: f64,
    end_at: f64,
    metadata: Value,
    env_vars: Vec<(String, String)>,
    /// `allow_internet_access`: code it runs shares the host's network (else loopback only).
    internet: bool,
    /// Process groups started in it, ended when it is deleted.
    groups: Vec<i32>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for group in &self.groups {
            run::signal_group(*group, Stop::Kill);
        }
    }
}

impl FakeE2b {
    /// Starts the fake; it accepts `api_key` and runs code with the rock at `rock_bin`.
    pub fn start(rock_bin: &Path, api_key: &str) -> FakeE2b {
        let state = Arc::new(Shared {
            book: Book::default(),
            api_key: api_key.to_string(),
            rock: rock_bin.to_path_buf(),
            home: sandbox_dir("fake-e2b-home-"),
            executions: AtomicUsize::new(0),
            sandboxes: Mutex::new(HashMap::new()),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        FakeE2b {
            server: Server::start("e2b", router),
            state,
        }
    }
}

impl super::Fake for FakeE2b {
    /// `http://127.0.0.1:PORT`: both api_url and sandbox_url.
    fn url(&self) -> String {
        self.server.url()
    }

    fn stop(&self) {
        self.server.stop();
    }

    fn live(&self) -> usize {
        lock(&self.state.sandboxes).len()
    }

    fn created(&self) -> usize {
        self.state.book.created()
    }

    /// The next `times` requests to `route` answer `status` with E2B's error body.
    fn fail_next(&self, route: &str, status: u16, times: usize, retry_after: Option<u64>) {
        self.state.book.fail_next(route, status, times, retry_after);
    }

    fn requests(&self) -> Vec<String> {
        self.state.book.requests()
    }
}

/// E2B's error body.
fn error(status: u16, message: &str) -> Response {
    json(status, &json!({"code": status, "message": message}))
}

async fn handle(State(state): State<Arc<Shared>>, request: Request) -> Response {
    state.book.record(&request);
    match header(&request, "e2b-sandbox-id").map(str::to_string) {
        Some(id) => sandbox_traffic(&state, id, request).await,
        None => control(&state, request).await,
    }
}

// ---------------------------------------------------------------------------------------
// Control plane

async fn control(state: &Arc<Shared>, request: Request) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (route, id) = match (method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => ("health", None),
        ("POST", ["sandboxes"]) => ("create", None),
        ("GET", ["sandboxes"]) | ("GET", ["v2", "sandboxes"]) => ("list", None),
        ("GET", ["sandboxes", id]) => ("get", Some(id.to_string())),
        ("DELETE", ["sandboxes", id]) => ("delete", Some(id.to_string())),
        ("POST", ["sandboxes", id, "timeout"]) => ("timeout", Some(id.to_string())),
        _ => return respond(404, "text/plain", "404 page not found"),
    };
    if let Some(injected) = state.book.injected(&[route]) {
        let message = super::reason(injected.status);
        return with_retry_after(error(injected.status, message), injected);
    }
    if route == "health" {
        return empty(204);
    }
    if header(&request, "x-api-key") != Some(state.api_key.as_str()) {
        return error(401, "Invalid API key");
    }
    let id = id.unwrap_or_default();
    match route {
        "create" => create(state, &body_bytes(request).await),
        "list" => list(state, request.uri().query()),
        "get" => match lock(&state.sandboxes).get(&id) {
            Some(sandbox) => json(200, &detail(&id, sandbox)),
            None => not_found(&id),
        },
        "delete" => match lock(&state.sandboxes).remove(&id) {
            Some(_) => empty(204),
            None => not_found(&id),
        },
        _ => set_timeout(state, &id, &body_bytes(request).await),
    }
}

fn not_found(id: &str) -> Response {
    error(
        404,
        &format!("sandbox \"{id}\" doesn't exist or you don't have access to it"),
    )
}

fn create(state: &Shared, body: &[u8]) -> Response {
    let body: Value = match serde_json::from_slice(body) {
        Ok(Value::Object(body)) => Value::Object(body),
        Ok(_) => {
            return error(
                400,
                "Error when parsing request: body must be a JSON object",
            )
        }
        Err(e) => return error(400, &format!("Error when parsing request: {e}")),
    };
    let Some(template) = body["templateID"].as_str() else {
        return error(400, "Error when parsing request: templateID is required");
    };
    let Some(&(_, interpreter)) = TEMPLATES.iter().find(|(name, _)| *name == template) else {
        return error(404, &format!("template '{template}' not found"));
    };
    let timeout = match &body["timeout"] {
        Value::Null => 15,
        value => match value.as_u64() {
            Some(t) => t,
            None => {
                return error(
                    400,
                    "Error when parsing request: timeout must be an integer ≥ 0",
                )
            }
        },
    };
    let env_vars = body["envVars"]
        .as_object()
        .map(|vars| {
            vars.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let secure = body["secure"].as_bool().unwrap_or(false);
    let id = format!("i{}", random_id(19));
    let token = secure.then(|| random_hex(24));
    let now = unix_now();
    let sandbox = Sandbox {
        template: template.to_string(),
        interpreter,
        token: token.clone(),
        dir: sandbox_dir("fake-e2b-sandbox-"),
        started_at: now,
        end_at: now + timeout as f64,
        metadata: match &body["metadata"] {
            Value::Object(m) => Value::Object(m.clone()),
            _ => json!({}),
        },
        env_vars,
        // E2B's default is true.
        internet: body["allow_internet_access"].as_bool().unwrap_or(true),
        groups: Vec::new(),
    };
    lock(&state.sandboxes).insert(id.clone(), sandbox);
    state.book.count_created();
    let mut answer = json!({
        "sandboxID": id,
        "templateID": template,
        "clientID": CLIENT_ID,
        "envdVersion": ENVD_VERSION,
        "trafficAccessToken": null,
        "domain": null,
    });
    if let Some(token) = token {
        answer["envdAccessToken"] = json!(token);
    }
    json(201, &answer)
}

fn listed(id: &str, sandbox: &Sandbox) -> Value {
    json!({
        "templateID": sandbox.template,
        "alias": sandbox.template,
        "sandboxID": id,
        "clientID": CLIENT_ID,
        "startedAt": rfc3339(sandbox.started_at),
        "endAt": rfc3339(sandbox.end_at),
        "cpuCount": 2,
        "memoryMB": 512,
        "diskSizeMB": 512,
        "metadata": sandbox.metadata,
        "state": "running",
        "envdVersion": ENVD_VERSION,
    })
}

fn detail(id: &str, sandbox: &Sandbox) -> Value {
    let mut detail = listed(id, sandbox);
    if let Some(token) = &sandbox.token {
        detail["envdAccessToken"] = json!(token);
    }
    detail["domain"] = Value::Null;
    detail
}

fn list(state: &Shared, query: Option<&str>) -> Response {
    let limit = query_value(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let sandboxes = lock(&state.sandboxes);
    let mut items: Vec<(&String, &Sandbox)> = sandboxes.iter().collect();
    // Newest first, as the API orders them by default.
    items.sort_by(|a, b| b.1.started_at.total_cmp(&a.1.started_at));
    let list: Vec<Value> = items
        .into_iter()
        .take(limit)
        .map(|(id, s)| listed(id, s))
        .collect();
    json(200, &Value::Array(list))
}

fn set_timeout(state: &Shared, id: &str, body: &[u8]) -> Response {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(timeout) = body["timeout"].as_u64() else {
        return error(400, "Error when parsing request: timeout is required");
    };
    match lock(&state.sandboxes).get_mut(id) {
        Some(sandbox) => {
            sandbox.end_at = unix_now() + timeout as f64;
            empty(204)
        }
        None => not_found(id),
    }
}

// ---------------------------------------------------------------------------------------
// Sandbox traffic

/// What a request to a sandbox needs of it.
struct Target {
    dir: PathBuf,
    env_vars: Vec<(String, String)>,
    internet: bool,
}

async fn sandbox_traffic(state: &Arc<Shared>, id: String, request: Request) -> Response {
    let port: u16 = header(&request, "e2b-sandbox-port")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    let route = match (port, request.method().as_str(), request.uri().path()) {
        (INTERPRETER_PORT, "POST", "/execute") => Some("execute"),
        (INTERPRETER_PORT, "GET", "/health") => Some("interpreter_health"),
        (ENVD_PORT, "POST", "/process.Process/Start") => Some("command"),
        (ENVD_PORT, "GET", "/health") => Some("envd_health"),
        _ => None,
    };
    if let Some(route) = route {
        let aliases: &[&str] = if route == "command" {
            &["command", "process"]
        } else {
            &[route]
        };
        if let Some(injected) = state.book.injected(aliases) {
            let message = super::reason(injected.status);
            return with_retry_after(error(injected.status, message), injected);
        }
    }
    let target = {
        let sandboxes = lock(&state.sandboxes);
        let Some(sandbox) = sandboxes.get(&id) else {
            return json(
                502,
                &json!({"sandboxId": id, "message": "The sandbox was not found", "code": 502}),
            );
        };
        let open = port == ENVD_PORT || (port == INTERPRETER_PORT && sandbox.interpreter);
        if !open {
            return json(
                502,
                &json!({
                    "sandboxId": id,
                    "message": "The sandbox is running but port is not open",
                    "port": port,
                    "code": 502,
                }),
            );
        }
        if let Some(token) = &sandbox.token {
            if header(&request, "x-access-token") != Some(token.as_str()) {
                return error(
                    401,
                    "unauthorized access, please provide a valid access token or method signing if supported",
                );
            }
        }
        Target {
            dir: sandbox.dir.path().to_path_buf(),
            env_vars: sandbox.env_vars.clone(),
            internet: sandbox.internet,
        }
    };
    match route {
        Some("execute") => execute(state, target, request).await,
        Some("interpreter_health") => respond(200, "application/json", "\"OK\""),
        Some("command") => start_process(state, &id, target, request).await,
        Some("envd_health") => empty(204),
        _ if port == ENVD_PORT => respond(404, "text/plain", "404 page not found"),
        _ => json(404, &json!({"detail": "Not Found"})),
    }
}

/// A streamed response fed by a channel.
fn streamed(content_type: &str, rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|piece| (Ok::<_, Infallible>(piece), rx))
    });
    respond(200, content_type, Body::from_stream(stream))
}

fn line(value: Value) -> Bytes {
    Bytes::from(format!("{value}\n"))
}

/// The code interpreter's `POST /execute`.
async fn execute(state: &Arc<Shared>, target: Target, request: Request) -> Response {
    let body: Value = match serde_json::from_slice(&body_bytes(request).await) {
        Ok(Value::Object(body)) => Value::Object(body),
        _ => {
            return json(
                422,
                &json!({"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]}),
            )
        }
    };
    let Some(code) = body["code"].as_str() else {
        return json(
            422,
            &json!({"detail": [{"type": "missing", "loc": ["body", "code"], "msg": "Field required"}]}),
        );
    };
    let context_id = body["context_id"].as_str();
    let language = body["language"].as_str();
    if context_id.is_some() && language.is_some() {
        return respond(
            400,
            "text/plain",
            "Only one of context_id or language can be provided",
        );
    }
    if let Some(context) = context_id {
        return respond(404, "text/plain", format!("Context {context} not found"));
    }
    let language = language
        .map(|l| l.trim().to_lowercase())
        .unwrap_or_default();
    if !(language.is_empty() || language == "python") {
        return respond(
            400,
            "text/plain",
            format!("the fake code interpreter runs python only, not {language}"),
        );
    }
    let command = run::rock_python(&state.rock, state.home.path(), target.internet);
    let mut running = match run::spawn(
        command,
        &target.dir,
        Some(code.as_bytes().to_vec()),
        None,
        Stop::Term,
    ) {
        Ok(running) => running,
        Err(e) => return respond(500, "text/plain", format!("cannot start rock: {e}")),
    };
    let count = state.executions.fetch_add(1, Ordering::SeqCst) + 1;
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    tokio::spawn(async move {
        let stamp = || rfc3339(unix_now());
        let first = json!({"type": "number_of_executions", "execution_count": count});
        if tx.send(line(first)).await.is_err() {
            return;
        }
        let mut stdout = Utf8Pieces::default();
        let mut stderr = Utf8Pieces::default();
        loop {
            let event = match tokio::time::timeout(Duration::from_secs(1), running.next()).await {
                Ok(event) => event,
                Err(_) => {
                    if tx.send(line(json!({"type": "keepalive"}))).await.is_err() {
                        return; // The client went away: dropping `running` ends rock.
                    }
                    continue;
                }
            };
            let (kind, text) = match event {
                Event::Out(Output::Stdout(bytes)) => ("stdout", stdout.feed(&bytes)),
                Event::Out(Output::Stderr(bytes)) => ("stderr", stderr.feed(&bytes)),
                Event::TimedOut => continue,
                Event::Ended(end) => {
                    let mut lines = Vec::new();
                    for (kind, rest) in [("stdout", stdout.finish()), ("stderr", stderr.finish())] {
                        if !rest.is_empty() {
                            lines.push(json!({"type": kind, "text": rest, "timestamp": stamp()}));
                        }
                    }
                    if !end.success() {
                        let value = match end {
                            End::Exited(code) => format!("exit {code}"),
                            End::Signaled(signal) => format!("signal {signal}"),
                        };
                        lines.push(json!({"type": "error", "name": "Error", "value": value, "traceback": ""}));
                    }
                    lines.push(json!({"type": "end_of_execution"}));
                    for message in lines {
                        if tx.send(line(message)).await.is_err() {
                            return;
                        }
                    }
                    return;
                }
            };
            if !text.is_empty() {
                let message = json!({"type": kind, "text": text, "timestamp": stamp()});
                if tx.send(line(message)).await.is_err() {
                    return;
                }
            }
        }
    });
    streamed("application/json", rx)
}

/// A Connect envelope: flag byte, 4-byte big-endian length, JSON.
fn frame(flags: u8, message: &Value) -> Bytes {
    let payload = message.to_string().into_bytes();
    let mut framed = Vec::with_capacity(payload.len() + 5);
    framed.push(flags);
    framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    framed.extend_from_slice(&payload);
    Bytes::from(framed)
}

const END_STREAM: u8 = 0x02;

/// A Connect stream that is only its end, carrying an error.
fn connect_error(code: &str, message: &str) -> Response {
    let end = frame(
        END_STREAM,
        &json!({"error": {"code": code, "message": message}}),
    );
    respond(200, "application/connect+json", end)
}

/// The one enveloped message of a server-streaming request.
fn unframe(body: &[u8]) -> Result<Value, String> {
    if body.len() < 5 {
        return Err("request is not a Connect envelope".into());
    }
    if body[0] & 0x01 != 0 {
        return Err("compressed messages are not supported".into());
    }
    let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let payload = body
        .get(5..5 + length)
        .ok_or("envelope shorter than its length")?;
    if body.len() != 5 + length {
        return Err("more than one message in a server-streaming request".into());
    }
    serde_json::from_slice(payload).map_err(|e| format!("unmarshal message: {e}"))
}

/// envd's `process.Process/Start`.
async fn start_process(
    state: &Arc<Shared>,
    id: &str,
    target: Target,
    request: Request,
) -> Response {
    let content_type = header(&request, "content-type").unwrap_or("");
    if !content_type.starts_with("application/connect+json") {
        let mut response = respond(415, "", Body::empty());
        response.headers_mut().insert(
            "accept-post",
            axum::http::HeaderValue::from_static(
                "application/connect+json, application/connect+proto",
            ),
        );
        return response;
    }
    let timeout = header(&request, "connect-timeout-ms")
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    let keepalive = header(&request, "keepalive-ping-interval")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    let message = match unframe(&body_bytes(request).await) {
        Ok(message) => message,
        Err(e) => return connect_error("invalid_argument", &e),
    };
    let process = &message["process"];
    let Some(cmd) = process["cmd"].as_str() else {
        return connect_error("invalid_argument", "process.cmd is required");
    };
    let args: Vec<String> = process["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let cwd = match process["cwd"].as_str().filter(|c| !c.is_empty()) {
        None => target.dir.clone(),
        Some(cwd) => {
            let path = target.dir.join(cwd); // An absolute cwd replaces the sandbox's.
            if !path.is_dir() {
                return connect_error("invalid_argument", &format!("cwd '{cwd}' does not exist"));
            }
            path
        }
    };
    let mut command = run::argv(cmd, &args);
    command.envs(target.env_vars.iter().map(|(k, v)| (k, v)));
    if let Some(envs) = process["envs"].as_object() {
        command.envs(envs.iter().filter_map(|(k, v)| Some((k, v.as_str()?))));
    }
    let mut running = match run::spawn(command, &cwd, None, timeout, Stop::Kill) {
        Ok(running) => running,
        Err(e) => return connect_error("internal", &format!("error starting process: {e}")),
    };
    if let Some(sandbox) = lock(&state.sandboxes).get_mut(id) {
        sandbox.groups.push(running.pid as i32);
    }
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    let pid = running.pid;
    tokio::spawn(async move {
        let event = |event: Value| frame(0, &json!({ "event": event }));
        if tx
            .send(event(json!({"start": {"pid": pid}})))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let next = match keepalive {
                Some(every) => match tokio::time::timeout(every, running.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        if tx.send(event(json!({"keepalive": {}}))).await.is_err() {
                            return;
                        }
                        continue;
                    }
                },
                None => running.next().await,
            };
            let data = match next {
                Event::Out(Output::Stdout(bytes)) => {
                    json!({"data": {"stdout": BASE64.encode(bytes)}})
                }
                Event::Out(Output::Stderr(bytes)) => {
                    json!({"data": {"stderr": BASE64.encode(bytes)}})
                }
                Event::TimedOut => continue,
                Event::Ended(end) => {
                    let mut fields = Map::new();
                    let code = end.go_exit_code();
                    if code != 0 {
                        fields.insert("exitCode".into(), json!(code));
                    }
                    if matches!(end, End::Exited(_)) {
                        fields.insert("exited".into(), json!(true));
                    }
                    fields.insert("status".into(), json!(end.go_status()));
                    if !end.success() {
                        fields.insert("error".into(), json!(end.go_status()));
                    }
                    let _ = tx.send(event(json!({ "end": fields }))).await;
                    let last = if running.timed_out() {
                        json!({"error": {"code": "deadline_exceeded", "message": "context deadline exceeded"}})
                    } else {
                        json!({})
                    };
                    let _ = tx.send(frame(END_STREAM, &last)).await;
                    return;
                }
            };
            if tx.send(event(data)).await.is_err() {
                return;
            }
        }
    });
    streamed("application/connect+json", rx)
}
