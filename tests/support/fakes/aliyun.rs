//! A fake Aliyun AgentRun: the code interpreter's data plane and the template control
//! plane (`/2025-09-10/…`) on one loopback server.
//!
//! Follows DESIGN.md "Remote providers: protocol facts" (Aliyun AgentRun) and
//! /tmp/facts/agentrun.md (agentrun-sdk-python's `ram_signature` signer and data API,
//! `alibabacloud_tea_openapi`'s ACS3 signing, RAGFlow's AgentRun provider):
//!
//! * Data plane: `X-Acs-Parent-Id` must be the account id (else 403), and
//!   `Agentrun-Authorization: AGENTRUN4-HMAC-SHA256 Credential={AK}/{yyyymmdd}/{region}/agentrun/
//!   aliyun_v4_request,SignedHeaders=…,Signature=…` must verify (else 401/403): canonical
//!   request `METHOD\nPATH\nQUERY\nHEADERS\nSIGNED\nUNSIGNED-PAYLOAD`, string to sign
//!   `AGENTRUN4-HMAC-SHA256\n{hex sha256}`, key `HMAC("aliyun_v4"+secret, day)` → region →
//!   "agentrun" → "aliyun_v4_request", hex signature; `x-acs-date` within 15 minutes. The
//!   verification is written here from the facts, not taken from rock's signer.
//!   - `POST /sandboxes {templateName, sandboxIdleTimeoutSeconds}` → `{code:"SUCCESS",
//!     requestId, data:{sandboxId, status:"RUNNING", templateName, …}}`; `GET
//!     /sandboxes/{id}` likewise; `DELETE /sandboxes/{id}` → the envelope (unknown → 404
//!     `{code:"SandboxNotFound", message:"sandbox not found: …", requestId}`).
//!   - `GET /sandboxes/{id}/health` → `{"status":"ok"}` (not enveloped, as the SDK reads it).
//!   - `POST /sandboxes/{id}/contexts/execute {code, language?, timeout, contextId?}` →
//!     `{contextId, results:[{type:"stdout"|"stderr",text}…, {type:"error",text}?,
//!     {type:"endOfExecution",status:"ok"|"error"}]}` at the top level (the facts' shape),
//!     answered once the code has ended; at `timeout` seconds (default 30) it is cut, with an
//!     error result `TimeoutError: …timed out…`. The code (Python) runs by `rock exec`.
//!   - `POST /sandboxes/{id}/processes/cmd {command, cwd, timeout}` → `{status:"completed",
//!     result:{exitCode, stdout, stderr}}` (the facts prefer `result.*`); `bash -c` on the
//!     host in the sandbox's directory (or `cwd`); at `timeout` (default 30 s) the group is
//!     killed and the answer is `status:"timeout"`, exitCode -1.
//!   - Errors: `{code, message, requestId}` (also in header `x-acs-request-id`).
//! * Control plane (`/2025-09-10/…`): `Authorization: ACS3-HMAC-SHA256 Credential={AK},
//!   SignedHeaders=…,Signature=…` must verify (host, content-type and every `x-acs-*` header
//!   signed; `x-acs-content-sha256` the body's hash; a fresh `x-acs-signature-nonce`;
//!   `x-acs-version: 2025-09-10`). `GET /2025-09-10/templates/{name}` → `{code:"SUCCESS",
//!   requestId, data: Template}`; the fake knows template "rock-test" only (else 404).
//!
//! Routes for `fail_next`: "create", "get", "delete", "health", "execute", "command" (also
//! "cmd"), "template". A 502 is answered as a gateway would, with text "502 Bad Gateway".

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::run::{self, End, Event, Output, Stop, Utf8Pieces};
use super::{
    body_bytes, header, hex, json, lock, parse_acs_date, percent_decode, percent_encode, random_id,
    request_id, respond, rfc3339, sandbox_dir, unix_now, with_retry_after, Book, Server,
};

/// The only template the fake knows.
pub const TEMPLATE: &str = "rock-test";
const API_VERSION: &str = "2025-09-10";
/// How far `x-acs-date` may be from the fake's clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// A fake AgentRun on 127.0.0.1; see the module documentation.
pub struct FakeAgentRun {
    server: Server,
    state: Arc<Shared>,
}

struct Shared {
    book: Book,
    rock: PathBuf,
    home: tempfile::TempDir,
    account_id: String,
    access_key_id: String,
    access_key_secret: String,
    sandboxes: Mutex<HashMap<String, Sandbox>>,
    nonces: Mutex<HashSet<String>>,
}

struct Sandbox {
    template: String,
    dir: tempfile::TempDir,
    created_at: f64,
    idle_timeout: u64,
    /// The default context executions without a contextId run in.
    context: String,
    groups: Vec<i32>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for group in &self.groups {
            run::signal_group(*group, Stop::Kill);
        }
    }
}

impl FakeAgentRun {
    /// Starts the fake for this account and AccessKey; code runs with the rock at `rock_bin`.
    pub fn start(
        rock_bin: &Path,
        account_id: &str,
        access_key_id: &str,
        access_key_secret: &str,
    ) -> FakeAgentRun {
        let state = Arc::new(Shared {
            book: Book::default(),
            rock: rock_bin.to_path_buf(),
            home: sandbox_dir("fake-agentrun-home-"),
            account_id: account_id.to_string(),
            access_key_id: access_key_id.to_string(),
            access_key_secret: access_key_secret.to_string(),
            sandboxes: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashSet::new()),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        FakeAgentRun {
            server: Server::start("agentrun", router),
            state,
        }
    }
}

impl super::Fake for FakeAgentRun {
    /// `http://127.0.0.1:PORT`: both data_endpoint and control_endpoint.
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

    /// The next `times` requests to `route` answer `status` with AgentRun's error body.
    fn fail_next(&self, route: &str, status: u16, times: usize, retry_after: Option<u64>) {
        self.state.book.fail_next(route, status, times, retry_after);
    }

    /// "METHOD /path" of every request so far (query left out).
    fn requests(&self) -> Vec<String> {
        self.state.book.requests()
    }
}

/// AgentRun's error body, with its request id in the header too.
fn fail(status: u16, code: &str, message: &str) -> Response {
    let id = request_id();
    let mut response = json(
        status,
        &json!({"code": code, "message": message, "requestId": id}),
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-acs-request-id", value);
    }
    response
}

/// `{code:"SUCCESS", requestId, data}`.
fn ok(data: Value) -> Response {
    let id = request_id();
    let mut response = json(
        200,
        &json!({"code": "SUCCESS", "requestId": id, "data": data}),
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-acs-request-id", value);
    }
    response
}

/// The error code AgentRun would give a status.
fn code_of(status: u16) -> &'static str {
    match status {
        400 => "InvalidParameter",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        429 => "Throttling",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InternalError",
    }
}

async fn handle(State(state): State<Arc<Shared>>, request: Request) -> Response {
    state.book.record(&request);
    if request
        .uri()
        .path()
        .starts_with(&format!("/{API_VERSION}/"))
    {
        control(&state, request).await
    } else {
        data(&state, request).await
    }
}

fn injected(state: &Shared, names: &[&str]) -> Option<Response> {
    let injected = state.book.injected(names)?;
    let response = if injected.status == 502 {
        respond(
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        )
    } else {
        let message = format!("{} (injected by the fake)", super::reason(injected.status));
        fail(injected.status, code_of(injected.status), &message)
    };
    Some(with_retry_after(response, injected))
}

// ---------------------------------------------------------------------------------------
// Data plane

async fn data(state: &Arc<Shared>, request: Request) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (names, id): (&[&str], String) = match (method.as_str(), segments.as_slice()) {
        ("POST", ["sandboxes"]) => (&["create"], String::new()),
        ("GET", ["sandboxes", id]) => (&["get"], id.to_string()),
        ("DELETE", ["sandboxes", id]) => (&["delete"], id.to_string()),
        ("GET", ["sandboxes", id, "health"]) => (&["health"], id.to_string()),
        ("POST", ["sandboxes", id, "contexts", "execute"]) => (&["execute"], id.to_string()),
        ("POST", ["sandboxes", id, "processes", "cmd"]) => (&["command", "cmd"], id.to_string()),
        _ => return fail(404, "NotFound", &format!("no API at {method} {path}")),
    };
    if let Some(response) = injected(state, names) {
        return response;
    }
    if header(&request, "x-acs-parent-id") != Some(state.account_id.as_str()) {
        return fail(
            403,
            "Forbidden",
            "X-Acs-Parent-Id is missing or is not the account that owns this endpoint",
        );
    }
    if let Err(response) = verify_agentrun4(state, &request) {
        return response;
    }
    let body: Value = if method == "POST" {
        match serde_json::from_slice(&body_bytes(request).await) {
            Ok(Value::Object(body)) => Value::Object(body),
            _ => return fail(400, "InvalidParameter", "the body must be a JSON object"),
        }
    } else {
        Value::Null
    };
    match names[0] {
        "create" => create(state, &body),
        "get" => match lock(&state.sandboxes).get(&id) {
            Some(sandbox) => ok(describe(&id, sandbox, "RUNNING")),
            None => sandbox_not_found(&id),
        },
        "delete" => match lock(&state.sandboxes).remove(&id) {
            Some(sandbox) => ok(describe(&id, &sandbox, "TERMINATED")),
            None => sandbox_not_found(&id),
        },
        "health" => match lock(&state.sandboxes).contains_key(&id) {
            true => json(200, &json!({"status": "ok"})),
            false => sandbox_not_found(&id),
        },
        "execute" => execute(state, &id, &body).await,
        _ => command(state, &id, &body).await,
    }
}

fn sandbox_not_found(id: &str) -> Response {
    fail(404, "SandboxNotFound", &format!("sandbox not found: {id}"))
}

fn describe(id: &str, sandbox: &Sandbox, status: &str) -> Value {
    let created = rfc3339(sandbox.created_at);
    json!({
        "sandboxId": id,
        "status": status,
        "templateId": format!("tpl-{}", sandbox.template),
        "templateName": sandbox.template,
        "createdAt": created,
        "lastUpdatedAt": created,
        "endedAt": if status == "TERMINATED" { json!(rfc3339(unix_now())) } else { Value::Null },
        "metadata": {},
        "sandboxIdleTimeoutSeconds": sandbox.idle_timeout,
    })
}

fn create(state: &Shared, body: &Value) -> Response {
    let Some(template) = body["templateName"].as_str().filter(|t| !t.is_empty()) else {
        return fail(400, "InvalidParameter", "templateName is required");
    };
    if template != TEMPLATE {
        return fail(
            404,
            "TemplateNotFound",
            &format!("template not found: {template}"),
        );
    }
    let idle_timeout = body["sandboxIdleTimeoutSeconds"].as_u64().unwrap_or(600);
    let id = match body["sandboxId"].as_str() {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => format!("sbx-{}", random_id(20)),
    };
    let mut sandboxes = lock(&state.sandboxes);
    if sandboxes.contains_key(&id) {
        return fail(
            409,
            "SandboxAlreadyExists",
            &format!("sandbox already exists: {id}"),
        );
    }
    let sandbox = Sandbox {
        template: template.to_string(),
        dir: sandbox_dir("fake-agentrun-sandbox-"),
        created_at: unix_now(),
        idle_timeout,
        context: format!("ctx-{}", random_id(16)),
        groups: Vec::new(),
    };
    let answer = ok(describe(&id, &sandbox, "RUNNING"));
    sandboxes.insert(id, sandbox);
    state.book.count_created();
    answer
}

/// The sandbox's directory and default context, or the answer for an unknown one.
fn sandbox_of(state: &Shared, id: &str) -> Result<(PathBuf, String), Response> {
    lock(&state.sandboxes)
        .get(id)
        .map(|s| (s.dir.path().to_path_buf(), s.context.clone()))
        .ok_or_else(|| sandbox_not_found(id))
}

fn timeout_of(body: &Value, name: &str) -> Result<u64, Response> {
    match &body[name] {
        Value::Null => Ok(30),
        value => value
            .as_u64()
            .or_else(|| value.as_f64().map(|f| f.ceil() as u64))
            .filter(|t| *t > 0)
            .ok_or_else(|| {
                fail(
                    400,
                    "InvalidParameter",
                    "timeout must be a positive number of seconds",
                )
            }),
    }
}

async fn execute(state: &Shared, id: &str, body: &Value) -> Response {
    let (dir, context) = match sandbox_of(state, id) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(code) = body["code"].as_str() else {
        return fail(400, "InvalidParameter", "code is required");
    };
    match body["language"].as_str() {
        None | Some("python") => {}
        Some(other) => {
            return fail(
                400,
                "InvalidParameter",
                &format!("the fake runs python only, not {other}"),
            )
        }
    }
    if let Some(asked) = body["contextId"].as_str() {
        if asked != context {
            return fail(
                404,
                "ContextNotFound",
                &format!("context not found: {asked}"),
            );
        }
    }
    let timeout = match timeout_of(body, "timeout") {
        Ok(timeout) => timeout,
        Err(response) => return response,
    };
    // AgentRun's network is the template's; the fake's template has none.
    let command = run::rock_python(&state.rock, state.home.path(), false);
    let mut running = match run::spawn(
        command,
        &dir,
        Some(code.as_bytes().to_vec()),
        Some(Duration::from_secs(timeout)),
        Stop::Term,
    ) {
        Ok(running) => running,
        Err(e) => return fail(500, "InternalError", &format!("cannot start rock: {e}")),
    };
    let mut results = Vec::new();
    let mut stdout = Utf8Pieces::default();
    let mut stderr = Utf8Pieces::default();
    let end = loop {
        match running.next().await {
            Event::Out(Output::Stdout(bytes)) => {
                push_text(&mut results, "stdout", stdout.feed(&bytes))
            }
            Event::Out(Output::Stderr(bytes)) => {
                push_text(&mut results, "stderr", stderr.feed(&bytes))
            }
            // Cut at the timeout: what came after is not the run's. Dropping `running`
            // lets rock end its sandbox.
            Event::TimedOut => break None,
            Event::Ended(end) => break Some(end),
        }
    };
    push_text(&mut results, "stdout", stdout.finish());
    push_text(&mut results, "stderr", stderr.finish());
    let status = match end {
        None => {
            results.push(json!({
                "type": "error",
                "text": format!("TimeoutError: execution timed out after {timeout} seconds"),
            }));
            "error"
        }
        Some(end) if !end.success() => {
            let said = match end {
                End::Exited(code) => format!("Error: exit {code}"),
                End::Signaled(signal) => format!("Error: signal {signal}"),
            };
            results.push(json!({"type": "error", "text": said}));
            "error"
        }
        Some(_) => "ok",
    };
    results.push(json!({"type": "endOfExecution", "status": status}));
    json(200, &json!({"contextId": context, "results": results}))
}

fn push_text(results: &mut Vec<Value>, kind: &str, text: String) {
    if !text.is_empty() {
        results.push(json!({"type": kind, "text": text}));
    }
}

async fn command(state: &Shared, id: &str, body: &Value) -> Response {
    let (dir, _) = match sandbox_of(state, id) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(line) = body["command"].as_str() else {
        return fail(400, "InvalidParameter", "command is required");
    };
    let timeout = match timeout_of(body, "timeout") {
        Ok(timeout) => timeout,
        Err(response) => return response,
    };
    let cwd = match body["cwd"].as_str().filter(|c| !c.is_empty()) {
        Some(cwd) => dir.join(cwd),
        None => dir,
    };
    if !cwd.is_dir() {
        return fail(
            400,
            "InvalidParameter",
            &format!("cwd does not exist: {}", cwd.display()),
        );
    }
    let mut running = match run::spawn(
        run::shell(line),
        &cwd,
        None,
        Some(Duration::from_secs(timeout)),
        Stop::Kill,
    ) {
        Ok(running) => running,
        Err(e) => return fail(500, "InternalError", &format!("cannot run bash: {e}")),
    };
    if let Some(sandbox) = lock(&state.sandboxes).get_mut(id) {
        sandbox.groups.push(running.pid as i32);
    }
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let end = loop {
        match running.next().await {
            Event::Out(Output::Stdout(bytes)) => stdout.extend_from_slice(&bytes),
            Event::Out(Output::Stderr(bytes)) => stderr.extend_from_slice(&bytes),
            Event::TimedOut => break None,
            Event::Ended(end) => break Some(end),
        }
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match end {
        Some(end) => {
            let exit_code = match end {
                End::Exited(code) => code,
                End::Signaled(signal) => 128 + signal,
            };
            json(
                200,
                &json!({
                    "status": "completed",
                    "result": {"exitCode": exit_code, "stdout": text(&stdout), "stderr": text(&stderr)},
                }),
            )
        }
        None => {
            let mut stderr = text(&stderr);
            stderr.push_str(&format!("command timed out after {timeout} seconds\n"));
            json(
                200,
                &json!({
                    "status": "timeout",
                    "result": {"exitCode": -1, "stdout": text(&stdout), "stderr": stderr},
                }),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Control plane

async fn control(state: &Arc<Shared>, request: Request) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = match (method.as_str(), segments.as_slice()) {
        ("GET", [_, "templates", name]) => percent_decode(name, false),
        _ => {
            return fail(
                404,
                "InvalidAction.NotFound",
                &format!("the fake has no API at {method} {path}"),
            )
        }
    };
    if let Some(response) = injected(state, &["template", "get_template"]) {
        return response;
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let request = Request::from_parts(parts, axum::body::Body::empty());
    if let Err(response) = verify_acs3(state, &request, &body) {
        return response;
    }
    if name != TEMPLATE {
        return fail(
            404,
            "TemplateNotFound",
            &format!("template not found: {name}"),
        );
    }
    let now = rfc3339(unix_now());
    ok(json!({
        "templateName": TEMPLATE,
        "templateId": format!("tpl-{TEMPLATE}"),
        "templateType": "CodeInterpreter",
        "status": "READY",
        "statusReason": "",
        "cpu": 2.0,
        "memory": 4096,
        "diskSize": 512,
        "sandboxIdleTimeoutInSeconds": 1800,
        "sandboxTTLInSeconds": 21600,
        "shareConcurrencyLimitPerSandbox": 200,
        "networkConfiguration": {"networkMode": "PUBLIC"},
        "createdAt": now,
        "lastUpdatedAt": now,
    }))
}

// ---------------------------------------------------------------------------------------
// Signatures

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `Credential=…,SignedHeaders=…,Signature=…` of an authorization header.
fn auth_fields(rest: &str) -> BTreeMap<String, String> {
    rest.split(',')
        .filter_map(|field| {
            let (key, value) = field.trim().split_once('=')?;
            Some((key.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

fn invalid_auth(message: &str) -> Response {
    fail(401, "InvalidAuthorization", message)
}

/// `x-acs-date`, checked against the clock.
fn checked_date(request: &Request) -> Result<&str, Response> {
    let date = header(request, "x-acs-date")
        .ok_or_else(|| invalid_auth("the x-acs-date header is missing"))?;
    let at = parse_acs_date(date)
        .ok_or_else(|| invalid_auth(&format!("x-acs-date `{date}` is not YYYY-MM-DDTHH:MM:SSZ")))?;
    if (unix_now() as i64 - at).abs() > MAX_SKEW_SECONDS {
        return Err(fail(
            403,
            "RequestTimeTooSkewed",
            &format!("x-acs-date {date} is more than 15 minutes from the server's time"),
        ));
    }
    Ok(date)
}

/// The signed headers' (name, value) from the request itself; the list must be distinct
/// lower-case names in sorted order, all in the request.
fn signed_values(request: &Request, signed: &str) -> Result<Vec<(String, String)>, Response> {
    let names: Vec<&str> = signed.split(';').collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if names != sorted
        || names
            .iter()
            .any(|n| n.is_empty() || *n != n.to_ascii_lowercase())
    {
        return Err(invalid_auth(&format!(
            "SignedHeaders `{signed}` must be distinct lower-case names in sorted order"
        )));
    }
    names
        .iter()
        .map(|name| {
            let value = header(request, name).ok_or_else(|| {
                invalid_auth(&format!("signed header `{name}` is not in the request"))
            })?;
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

/// A signature and what it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical: String,
    pub string_to_sign: String,
    pub signature: String,
}

/// `METHOD\nPATH\nQUERY\nname:value\n…\nSIGNED\nPAYLOAD` (so a blank line before SIGNED).
fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload: &str,
) -> String {
    let block: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    [method, path, query, &block, &names.join(";"), payload].join("\n")
}

/// AGENTRUN4-HMAC-SHA256 of a data-plane request. `headers`: the signed ones, lower-case
/// names in sorted order; `query` raw as in the URL; `day` yyyymmdd.
pub fn agentrun4_signature(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
    secret: &str,
    day: &str,
    region: &str,
) -> Signed {
    let path = if path.is_empty() { "/" } else { path };
    let canonical = canonical_request(
        method,
        path,
        &agentrun4_query(query),
        headers,
        "UNSIGNED-PAYLOAD",
    );
    let string_to_sign = format!(
        "AGENTRUN4-HMAC-SHA256\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut key = hmac(format!("aliyun_v4{secret}").as_bytes(), day.as_bytes());
    for part in [region, "agentrun", "aliyun_v4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    Signed {
        canonical,
        string_to_sign,
        signature,
    }
}

/// ACS3-HMAC-SHA256 of a control-plane request. `headers`: the signed ones, lower-case
/// names in sorted order; `query` raw as in the URL; `payload_hash` hex SHA-256 of the body.
pub fn acs3_signature(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
    payload_hash: &str,
    secret: &str,
) -> Signed {
    let canonical = canonical_request(method, path, &acs3_query(query), headers, payload_hash);
    let string_to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes()));
    let signature = hex(&hmac(secret.as_bytes(), string_to_sign.as_bytes()));
    Signed {
        canonical,
        string_to_sign,
        signature,
    }
}

fn signature_mismatch(string_to_sign: &str, canonical: &str) -> Response {
    fail(
        403,
        "SignatureDoesNotMatch",
        &format!(
            "The request signature does not conform to Aliyun standards. server string to sign is: {string_to_sign:?}; canonical request: {canonical:?}"
        ),
    )
}

/// AGENTRUN4's canonical query: pairs with `=` only, decoded (`+` as space), re-encoded
/// with nothing but unreserved characters left, sorted by key, the last of a key winning.
fn agentrun4_query(query: Option<&str>) -> String {
    let mut pairs = BTreeMap::new();
    for part in query.unwrap_or("").split('&') {
        if let Some((key, value)) = part.split_once('=') {
            pairs.insert(percent_decode(key, true), percent_decode(value, true));
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Verifies `Agentrun-Authorization` (AGENTRUN4-HMAC-SHA256) of a data-plane request.
fn verify_agentrun4(state: &Shared, request: &Request) -> Result<(), Response> {
    const ALGORITHM: &str = "AGENTRUN4-HMAC-SHA256";
    let authorization = header(request, "agentrun-authorization").ok_or_else(|| {
        fail(
            401,
            "MissingAuthorization",
            "the Agentrun-Authorization header is missing",
        )
    })?;
    let rest = authorization
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| {
            invalid_auth(&format!(
                "Agentrun-Authorization must start with `{ALGORITHM} `"
            ))
        })?;
    let fields = auth_fields(rest);
    let (Some(credential), Some(signed), Some(signature)) = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    ) else {
        return Err(invalid_auth(
            "Agentrun-Authorization needs Credential, SignedHeaders and Signature",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, day, region, service, terminator] = scope[..] else {
        return Err(invalid_auth(
            "Credential must be AK/yyyymmdd/region/agentrun/aliyun_v4_request",
        ));
    };
    if key_id != state.access_key_id {
        return Err(fail(
            401,
            "InvalidAccessKeyId.NotFound",
            &format!("AccessKeyId {key_id} is not found"),
        ));
    }
    if service != "agentrun" || terminator != "aliyun_v4_request" || region.is_empty() {
        return Err(invalid_auth(&format!(
            "credential scope `{credential}` is not …/<region>/agentrun/aliyun_v4_request"
        )));
    }
    let date = checked_date(request)?;
    if day != date[..10].replace('-', "") {
        return Err(invalid_auth(&format!(
            "the credential's date {day} is not x-acs-date's {date}"
        )));
    }
    if header(request, "x-acs-content-sha256") != Some("UNSIGNED-PAYLOAD") {
        return Err(invalid_auth(
            "x-acs-content-sha256 must be UNSIGNED-PAYLOAD",
        ));
    }
    if header(request, "x-acs-security-token").is_some() {
        return Err(fail(
            401,
            "InvalidSecurityToken",
            "the fake issues no STS tokens",
        ));
    }
    let names: Vec<&str> = signed.split(';').collect();
    for required in ["host", "x-acs-content-sha256", "x-acs-date"] {
        if !names.contains(&required) {
            return Err(invalid_auth(&format!(
                "SignedHeaders must include {required}"
            )));
        }
    }
    if let Some(name) = names
        .iter()
        .find(|n| !(**n == "host" || **n == "content-type" || n.starts_with("x-acs-")))
    {
        return Err(invalid_auth(&format!("header `{name}` can't be signed")));
    }
    let headers = signed_values(request, signed)?;
    let signed = agentrun4_signature(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query(),
        &headers,
        &state.access_key_secret,
        day,
        region,
    );
    if signed.signature != *signature {
        return Err(signature_mismatch(
            &signed.string_to_sign,
            &signed.canonical,
        ));
    }
    Ok(())
}

/// ACS3's canonical query: every pair, names and values RFC 3986-encoded, sorted by name.
fn acs3_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (
                percent_encode(&percent_decode(key, false)),
                percent_encode(&percent_decode(value, false)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Verifies `Authorization` (ACS3-HMAC-SHA256) of a control-plane request.
fn verify_acs3(state: &Shared, request: &Request, body: &[u8]) -> Result<(), Response> {
    const ALGORITHM: &str = "ACS3-HMAC-SHA256";
    let authorization = header(request, "authorization").ok_or_else(|| {
        fail(
            401,
            "MissingAuthorization",
            "the Authorization header is missing",
        )
    })?;
    let rest = authorization
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| invalid_auth(&format!("Authorization must start with `{ALGORITHM} `")))?;
    let fields = auth_fields(rest);
    let (Some(credential), Some(signed), Some(signature)) = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    ) else {
        return Err(invalid_auth(
            "Authorization needs Credential, SignedHeaders and Signature",
        ));
    };
    if *credential != state.access_key_id {
        return Err(fail(
            401,
            "InvalidAccessKeyId.NotFound",
            &format!("AccessKeyId {credential} is not found"),
        ));
    }
    checked_date(request)?;
    let nonce = header(request, "x-acs-signature-nonce")
        .ok_or_else(|| invalid_auth("the x-acs-signature-nonce header is missing"))?;
    if header(request, "x-acs-version") != Some(API_VERSION) {
        return Err(fail(
            400,
            "InvalidVersion",
            &format!("x-acs-version must be {API_VERSION}"),
        ));
    }
    if header(request, "x-acs-action").is_none() {
        return Err(fail(
            400,
            "MissingParameter",
            "the x-acs-action header is missing",
        ));
    }
    let hashed = sha256_hex(body);
    if let Some(claimed) = header(request, "x-acs-content-sha256") {
        if claimed != hashed {
            return Err(fail(
                403,
                "ContentSHA256Mismatch",
                "x-acs-content-sha256 is not the body's SHA-256",
            ));
        }
    }
    let names: Vec<&str> = signed.split(';').collect();
    let must_sign = request
        .headers()
        .keys()
        .map(|n| n.as_str())
        .filter(|n| *n == "host" || *n == "content-type" || n.starts_with("x-acs-"));
    for name in must_sign {
        if !names.contains(&name) {
            return Err(invalid_auth(&format!("header `{name}` must be signed")));
        }
    }
    let headers = signed_values(request, signed)?;
    let signed = acs3_signature(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query(),
        &headers,
        &hashed,
        &state.access_key_secret,
    );
    if signed.signature != *signature {
        return Err(signature_mismatch(
            &signed.string_to_sign,
            &signed.canonical,
        ));
    }
    if !lock(&state.nonces).insert(nonce.to_string()) {
        return Err(fail(
            403,
            "SignatureNonceUsed",
            &format!("the nonce {nonce} was used already"),
        ));
    }
    Ok(())
}
