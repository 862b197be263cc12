//! A fake ROCK admin server: the sandbox API under `/apis/envs/sandbox/v1`.
//!
//! Follows DESIGN.md "Remote providers: protocol facts" (ROCK) and /tmp/facts/rock.md
//! (ROCK's Python SDK, `rock/admin/entrypoints/sandbox_api.py`, the rocklet):
//!
//! * Every answer is the envelope `{"status":"Success"|"Failed","message","error","result"}`.
//!   Business errors (an unknown sandbox, a bad parameter, a file that can't be read) are
//!   HTTP 200 with `status:"Failed"`; a missing field is `message:"invalid parameter"`,
//!   `error:"<field>: Field required"`. When the fake has an API key, `X-API-Key` must be it
//!   (else HTTP 401 with a Failed envelope).
//! * `POST /start_async {image, memory, cpus, sandbox_id?, …}` → `{sandbox_id, host_name,
//!   host_ip, cpus, memory, disk, code, exit_code, failure_reason}`; makes the sandbox's
//!   host directory.
//! * `GET /get_status?sandbox_id=` → `{sandbox_id, status:{image_pull, docker_run}, is_alive,
//!   state, host_name, …}`: `is_alive` is false (state "pending") at a sandbox's first poll,
//!   true (state "running") after. `GET /is_alive?sandbox_id=` → `{is_alive, message}` (a poll too).
//! * `POST /execute {command: str|[str], sandbox_id, timeout, cwd, env, shell?, check?}` →
//!   `{stdout, stderr, exit_code}`, run as Python's `subprocess.run(command, shell=shell)`
//!   would: an argv list as given, a string with `shell:true` by `/bin/sh -c`, a string
//!   without it as one program name. In the sandbox's directory unless `cwd`; `env` on top of
//!   the host's. At `timeout` (default 1200 s) the process group is killed and the answer is
//!   `{stdout:"", stderr:"", exit_code:-1}`, as when it could not be run at all; a signal
//!   gives Python's negative return code. `check:true` with a non-zero exit → Failed.
//! * `POST /write_file {content, path, sandbox_id}` → `{success, message}` (parent dirs made;
//!   a relative path is in the sandbox's directory, an absolute one on the host, removed
//!   again at stop). `POST /read_file {path, sandbox_id}` → `{content}`.
//! * `POST /stop {sandbox_id}` → result `"<id> stopped"`; ends the sandbox's processes and
//!   removes its directory.
//! * An unknown sandbox → Failed with `error: "sandbox <id> not found"`.
//!
//! Routes for `fail_next`: "start_async" (also "create"), "get_status" (also "status"),
//! "is_alive", "execute", "write_file", "read_file", "stop" (also "delete").

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use super::run::{self, End, Stop};
use super::{
    body_bytes, header, json, lock, query_value, random_hex, rfc3339, sandbox_dir, unix_now,
    with_retry_after, Book, Server,
};

const API: &str = "/apis/envs/sandbox/v1";
const HOST_NAME: &str = "fake-rock-host";

/// A fake ROCK admin server on 127.0.0.1; see the module documentation.
pub struct FakeRock {
    server: Server,
    state: Arc<Shared>,
}

struct Shared {
    book: Book,
    api_key: Option<String>,
    /// Kept for symmetry with the other fakes: ROCK sandboxes run commands, not code.
    rock: PathBuf,
    sandboxes: Mutex<HashMap<String, Sandbox>>,
}

struct Sandbox {
    image: String,
    memory: Value,
    cpus: Value,
    dir: tempfile::TempDir,
    created_at: f64,
    polls: usize,
    /// Host files written outside its directory, removed at stop.
    written: Vec<PathBuf>,
    groups: Vec<i32>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for group in &self.groups {
            run::signal_group(*group, Stop::Kill);
        }
        for path in &self.written {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl FakeRock {
    /// Starts the fake; with `api_key`, requests must carry it in `X-API-Key`.
    pub fn start(rock_bin: &Path, api_key: Option<&str>) -> FakeRock {
        let state = Arc::new(Shared {
            book: Book::default(),
            api_key: api_key.map(str::to_string),
            rock: rock_bin.to_path_buf(),
            sandboxes: Mutex::new(HashMap::new()),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        FakeRock {
            server: Server::start("rock", router),
            state,
        }
    }
}

impl super::Fake for FakeRock {
    /// `http://127.0.0.1:PORT`: rock's base_url (the API is under /apis/envs/sandbox/v1).
    fn url(&self) -> String {
        self.server.url()
    }

    fn stop(&self) {
        self.server.stop();
    }

    /// Sandboxes started and not yet stopped.
    fn live(&self) -> usize {
        lock(&self.state.sandboxes).len()
    }

    /// Sandboxes started in all.
    fn created(&self) -> usize {
        self.state.book.created()
    }

    /// The next `times` requests to `route` answer `status` with a Failed envelope.
    fn fail_next(&self, route: &str, status: u16, times: usize, retry_after: Option<u64>) {
        self.state.book.fail_next(route, status, times, retry_after);
    }

    /// "METHOD /path" of every request so far (query left out).
    fn requests(&self) -> Vec<String> {
        self.state.book.requests()
    }
}

fn success(result: Value) -> Response {
    json(
        200,
        &json!({"status": "Success", "message": null, "error": null, "result": result}),
    )
}

fn failed(status: u16, message: &str, error: &str, result: Value) -> Response {
    json(
        status,
        &json!({"status": "Failed", "message": message, "error": error, "result": result}),
    )
}

fn invalid(field: &str, said: &str) -> Response {
    failed(
        200,
        "invalid parameter",
        &format!("{field}: {said}"),
        Value::Null,
    )
}

fn unknown(message: &str, id: &str) -> Response {
    failed(
        200,
        message,
        &format!("sandbox {id} not found"),
        Value::Null,
    )
}

async fn handle(State(state): State<Arc<Shared>>, request: Request) -> Response {
    state.book.record(&request);
    let path = request.uri().path().to_string();
    let method = request.method().as_str().to_string();
    let Some(endpoint) = path.strip_prefix(API) else {
        return json(404, &json!({"detail": "Not Found"}));
    };
    let names: &[&str] = match (method.as_str(), endpoint) {
        ("POST", "/start_async") => &["start_async", "create"],
        ("GET", "/get_status") => &["get_status", "status"],
        ("GET", "/is_alive") => &["is_alive"],
        ("POST", "/execute") => &["execute"],
        ("POST", "/write_file") => &["write_file"],
        ("POST", "/read_file") => &["read_file"],
        ("POST", "/stop") => &["stop", "delete"],
        _ => return json(404, &json!({"detail": "Not Found"})),
    };
    if let Some(injected) = state.book.injected(names) {
        let response = if injected.status == 500 {
            json(
                500,
                &json!({"detail": "Internal Server Error", "traceback": []}),
            )
        } else {
            let reason = super::reason(injected.status);
            failed(
                injected.status,
                reason,
                &format!("HTTP {}", injected.status),
                Value::Null,
            )
        };
        return with_retry_after(response, injected);
    }
    if let Some(key) = &state.api_key {
        if header(&request, "x-api-key") != Some(key.as_str()) {
            return failed(
                401,
                "unauthorized",
                "invalid or missing X-API-Key",
                Value::Null,
            );
        }
    }
    if method == "GET" {
        let Some(id) = query_value(request.uri().query(), "sandbox_id") else {
            return invalid("sandbox_id", "Field required");
        };
        return status(&state, &id, names[0] == "is_alive");
    }
    let body: Value = match serde_json::from_slice(&body_bytes(request).await) {
        Ok(Value::Object(body)) => Value::Object(body),
        _ => return invalid("body", "Input should be a valid dictionary"),
    };
    match names[0] {
        "start_async" => start(&state, &body),
        "execute" => execute(&state, &body).await,
        "write_file" => write_file(&state, &body),
        "read_file" => read_file(&state, &body),
        _ => stop(&state, &body),
    }
}

fn start(state: &Shared, body: &Value) -> Response {
    let image = body["image"].as_str().unwrap_or("");
    if image.trim().is_empty() {
        return invalid("image", "image must not be blank");
    }
    let id = match body["sandbox_id"].as_str() {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => random_hex(16),
    };
    let mut sandboxes = lock(&state.sandboxes);
    if sandboxes.contains_key(&id) {
        return failed(
            200,
            "start sandbox failed",
            &format!("sandbox {id} already exists"),
            Value::Null,
        );
    }
    let memory = match &body["memory"] {
        Value::Null => json!("8g"),
        other => other.clone(),
    };
    let cpus = match &body["cpus"] {
        Value::Null => json!(2.0),
        other => other.clone(),
    };
    sandboxes.insert(
        id.clone(),
        Sandbox {
            image: image.to_string(),
            memory: memory.clone(),
            cpus: cpus.clone(),
            dir: sandbox_dir("fake-rock-sandbox-"),
            created_at: unix_now(),
            polls: 0,
            written: Vec::new(),
            groups: Vec::new(),
        },
    );
    state.book.count_created();
    success(json!({
        "sandbox_id": id,
        "host_name": HOST_NAME,
        "host_ip": "127.0.0.1",
        "cpus": cpus,
        "memory": memory,
        "disk": "50G",
        "code": 2000,
        "exit_code": null,
        "failure_reason": null,
    }))
}

fn status(state: &Shared, id: &str, is_alive_only: bool) -> Response {
    let mut sandboxes = lock(&state.sandboxes);
    let Some(sandbox) = sandboxes.get_mut(id) else {
        return unknown("get status failed", id);
    };
    sandbox.polls += 1;
    let alive = sandbox.polls > 1;
    if is_alive_only {
        return success(json!({"is_alive": alive, "message": HOST_NAME}));
    }
    let created = rfc3339(sandbox.created_at);
    let phases = if alive {
        json!({
            "image_pull": {"status": "success", "message": "image pulled", "started_at": created, "completed_at": created},
            "docker_run": {"status": "success", "message": "container running", "started_at": created, "completed_at": created},
        })
    } else {
        json!({
            "image_pull": {"status": "running", "message": "pulling image", "started_at": created},
            "docker_run": {"status": "waiting", "message": "waiting for image"},
        })
    };
    success(json!({
        "sandbox_id": id,
        "status": phases,
        "port_mapping": {},
        "host_name": HOST_NAME,
        "host_ip": "127.0.0.1",
        "is_alive": alive,
        "image": sandbox.image,
        "metadata": {},
        "gateway_version": "fake",
        "swe_rex_version": "fake",
        "user_id": "default",
        "experiment_id": "default",
        "namespace": "default",
        "cpus": sandbox.cpus,
        "memory": sandbox.memory,
        "num_gpus": null,
        "accelerator_type": null,
        "disk": "50G",
        "state": if alive { "running" } else { "pending" },
        "create_time": created,
        "start_time": if alive { json!(created) } else { Value::Null },
        "stop_time": null,
    }))
}

/// The sandbox's directory, or the Failed answer for an unknown one.
fn sandbox_of(state: &Shared, body: &Value, message: &str) -> Result<PathBuf, Response> {
    let Some(id) = body["sandbox_id"].as_str() else {
        return Err(invalid("sandbox_id", "Field required"));
    };
    lock(&state.sandboxes)
        .get(id)
        .map(|s| s.dir.path().to_path_buf())
        .ok_or_else(|| unknown(message, id))
}

async fn execute(state: &Shared, body: &Value) -> Response {
    const MESSAGE: &str = "execute command failed";
    let dir = match sandbox_of(state, body, MESSAGE) {
        Ok(dir) => dir,
        Err(answer) => return answer,
    };
    let id = body["sandbox_id"].as_str().unwrap_or("").to_string();
    let shell = body["shell"].as_bool().unwrap_or(false);
    let mut command = match &body["command"] {
        Value::String(line) if shell => run::argv("/bin/sh", &["-c".to_string(), line.clone()]),
        Value::String(program) => run::argv(program, &[]),
        Value::Array(argv) => {
            let argv: Vec<String> = argv
                .iter()
                .map(|a| {
                    a.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| a.to_string())
                })
                .collect();
            let Some((program, args)) = argv.split_first() else {
                return invalid("command", "List should have at least 1 item");
            };
            run::argv(program, args)
        }
        Value::Null => return invalid("command", "Field required"),
        _ => return invalid("command", "Input should be a valid string or list"),
    };
    let timeout = match &body["timeout"] {
        Value::Null if body.get("timeout").is_some() => None,
        Value::Null => Some(1200.0),
        value => value.as_f64(),
    }
    .filter(|t| *t > 0.0)
    .map(Duration::from_secs_f64);
    let cwd = match body["cwd"].as_str().filter(|c| !c.is_empty()) {
        Some(cwd) => dir.join(cwd),
        None => dir,
    };
    if let Some(env) = body["env"].as_object() {
        command.envs(env.iter().filter_map(|(k, v)| Some((k, v.as_str()?))));
    }
    // What the server answers when the rocklet could not run or finish the command.
    let lost = || success(json!({"stdout": "", "stderr": "", "exit_code": -1}));
    if !cwd.is_dir() {
        return lost();
    }
    let running = match run::spawn(command, &cwd, None, timeout, Stop::Kill) {
        Ok(running) => running,
        Err(_) => return lost(),
    };
    if let Some(sandbox) = lock(&state.sandboxes).get_mut(&id) {
        sandbox.groups.push(running.pid as i32);
    }
    let collected = running.collect().await;
    if collected.timed_out {
        return lost();
    }
    // Python's returncode: the negative signal number for a process a signal ended.
    let exit_code = match collected.end {
        Some(End::Exited(code)) => code,
        Some(End::Signaled(signal)) => -signal,
        None => -1,
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let result = json!({
        "stdout": text(&collected.stdout),
        "stderr": text(&collected.stderr),
        "exit_code": exit_code,
    });
    if body["check"].as_bool().unwrap_or(false) && exit_code != 0 {
        let reason = format!("command exited with {exit_code}");
        return failed(
            200,
            MESSAGE,
            &reason,
            json!({"code": 6000, "exit_code": exit_code, "failure_reason": reason}),
        );
    }
    success(result)
}

/// Where a path of a request lands on the host: relative ones in the sandbox's directory.
fn host_path(dir: &Path, path: &str) -> PathBuf {
    dir.join(path)
}

fn write_file(state: &Shared, body: &Value) -> Response {
    const MESSAGE: &str = "write file failed";
    let dir = match sandbox_of(state, body, MESSAGE) {
        Ok(dir) => dir,
        Err(answer) => return answer,
    };
    let (Some(path), Some(content)) = (body["path"].as_str(), body["content"].as_str()) else {
        let field = if body["path"].is_string() {
            "content"
        } else {
            "path"
        };
        return invalid(field, "Field required");
    };
    let target = host_path(&dir, path);
    let written = target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| std::fs::write(&target, content));
    match written {
        Ok(()) => {
            if !target.starts_with(&dir) {
                let id = body["sandbox_id"].as_str().unwrap_or("");
                if let Some(sandbox) = lock(&state.sandboxes).get_mut(id) {
                    sandbox.written.push(target);
                }
            }
            success(
                json!({"success": true, "message": format!("Successfully write content to file {path}")}),
            )
        }
        Err(e) => failed(
            200,
            MESSAGE,
            &e.to_string(),
            json!({"success": false, "message": e.to_string()}),
        ),
    }
}

fn read_file(state: &Shared, body: &Value) -> Response {
    const MESSAGE: &str = "read file failed";
    let dir = match sandbox_of(state, body, MESSAGE) {
        Ok(dir) => dir,
        Err(answer) => return answer,
    };
    let Some(path) = body["path"].as_str() else {
        return invalid("path", "Field required");
    };
    match std::fs::read(host_path(&dir, path)) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(content) => success(json!({"content": content})),
            Err(e) if body["errors"].as_str().is_some_and(|e| e != "strict") => {
                success(json!({"content": String::from_utf8_lossy(e.as_bytes())}))
            }
            Err(_) => failed(
                200,
                MESSAGE,
                &format!("'utf-8' codec can't decode the contents of {path}"),
                Value::Null,
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => failed(
            200,
            MESSAGE,
            &format!("[Errno 2] No such file or directory: '{path}'"),
            Value::Null,
        ),
        Err(e) => failed(200, MESSAGE, &e.to_string(), Value::Null),
    }
}

fn stop(state: &Shared, body: &Value) -> Response {
    let Some(id) = body["sandbox_id"].as_str() else {
        return invalid("sandbox_id", "Field required");
    };
    let removed = lock(&state.sandboxes).remove(id);
    match removed {
        // Dropping it ends its processes and removes its directory and files.
        Some(_) => success(json!(format!("{id} stopped"))),
        None => unknown("stop sandbox failed", id),
    }
}
