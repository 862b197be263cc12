//! `rock serve`: the executor HTTP API of RAGFlow's sandbox executor manager (DESIGN.md
//! "Executor API") over rock's own sandboxes. Each request runs in a fresh sandbox of the
//! chosen provider, which is destroyed with the run.

pub mod admission;
pub mod api;
pub mod metrics;
pub mod pool;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::exec::{ExecRequest, Language};
use crate::provider::{self, Provider, ProviderError};
use crate::sandbox::NoSink;
use admission::{Admission, Busy, RateLimit};
use api::{RunRequest, RunResponse};
use metrics::{Gauges, Metrics};
use pool::Pool;

/// The environment variable RAGFlow's executor manager reads its token from.
pub const TOKEN_ENV: &str = "SANDBOX_EXECUTOR_MANAGER_API_TOKEN";

/// How a server runs requests: its provider, its limits and who may call it.
pub struct ServeOptions {
    pub provider: Arc<dyn Provider>,
    /// Warm instances to keep ready, per language.
    pub pool: Vec<(Language, usize)>,
    pub max_concurrency: usize,
    pub queue_size: usize,
    pub queue_timeout: Duration,
    /// Required in `Authorization: Bearer` or `X-Sandbox-Token` when set.
    pub token: Option<String>,
    /// Runs per minute, for all callers together.
    pub rate_limit: Option<u32>,
    pub default_timeout: Duration,
    pub max_timeout: Duration,
    pub default_memory: u64,
    pub max_memory: u64,
    pub output_cap: usize,
}

struct AppState {
    options: ServeOptions,
    pool: Arc<Pool>,
    admission: Admission,
    rate: Option<RateLimit>,
    metrics: Metrics,
}

/// Refuses an address a server without a token may not listen on.
pub fn check_exposure(listen: &SocketAddr, token: Option<&str>) -> Result<(), String> {
    if token.is_none() && !listen.ip().is_loopback() {
        return Err(format!(
            "without a token rock serve listens on loopback only, not {listen}: pass --token-file \
             or set {TOKEN_ENV}, or listen on 127.0.0.1"
        ));
    }
    Ok(())
}

/// The router of the executor API, and its pool.
fn router(options: ServeOptions) -> (Router, Arc<Pool>) {
    let mut template = ExecRequest::new(Language::Python, "");
    template.timeout = options.max_timeout;
    template.memory_bytes = options.default_memory;
    template.output_cap = options.output_cap;
    let pool = Pool::start(Arc::clone(&options.provider), &options.pool, template);
    let state = Arc::new(AppState {
        pool: Arc::clone(&pool),
        admission: Admission::new(
            options.max_concurrency,
            options.queue_size,
            options.queue_timeout,
        ),
        rate: options.rate_limit.map(RateLimit::new),
        metrics: Metrics::default(),
        options,
    });
    let router = Router::new()
        .route("/", get(health))
        .route("/healthz", get(health))
        .route("/run", post(run))
        .route("/metrics", get(metrics))
        .with_state(state);
    (router, pool)
}

/// Serves until `shutdown` resolves, lets running requests finish, then destroys the
/// warm sandboxes nobody took.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, pool) = router(options);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    pool.close().await;
    served
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

impl AppState {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.options.token else {
            return true;
        };
        let given = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| headers.get("x-sandbox-token").and_then(|v| v.to_str().ok()));
        given.is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
    }

    fn unauthorized(&self) -> Response {
        self.metrics.unauthorized();
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "missing or wrong token: send Authorization: Bearer <token> or X-Sandbox-Token"})),
        )
            .into_response()
    }

    /// The sandbox request for a valid body, or the sentence of a 422.
    fn request(&self, body: &RunRequest) -> Result<ExecRequest, String> {
        let language = body.language()?;
        let mut request = ExecRequest::new(language, body.code()?);
        request.arguments = body.arguments.clone();
        let limits = &self.options;
        request.timeout = match body.timeout {
            None => limits.default_timeout,
            Some(seconds) if seconds > 0.0 && seconds.is_finite() => {
                let asked = Duration::from_secs_f64(seconds);
                if asked > limits.max_timeout {
                    return Err(format!(
                        "timeout {seconds} s is above this server's maximum of {} s",
                        limits.max_timeout.as_secs_f64()
                    ));
                }
                asked
            }
            Some(_) => return Err("timeout must be a positive number of seconds".into()),
        };
        request.memory_bytes = match body.memory_bytes()? {
            None => limits.default_memory,
            Some(bytes) if bytes > limits.max_memory => {
                return Err(format!(
                    "memory {} is above this server's maximum of {}",
                    crate::size::format(bytes),
                    crate::size::format(limits.max_memory)
                ))
            }
            Some(bytes) if bytes < 16 * 1024 * 1024 => {
                return Err("memory must be at least 16 MiB".into())
            }
            Some(bytes) => bytes,
        };
        request.output_cap = limits.output_cap;
        Ok(request)
    }
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unprocessable(detail: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"detail": detail})),
    )
        .into_response()
}

async fn run(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    if !state.authorized(&headers) {
        return state.unauthorized();
    }
    let body: RunRequest = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(err) => return unprocessable(format!("malformed body: {err}")),
    };
    let request = match state.request(&body) {
        Ok(request) => request,
        Err(detail) => return unprocessable(detail),
    };
    if let Some(rate) = &state.rate {
        if !rate.allow() {
            state.metrics.rate_limited();
            let response = RunResponse::runner_error(
                api::EXIT_RATE_LIMITED,
                "Rate limit exceeded",
                "rate_limited",
            );
            return (StatusCode::TOO_MANY_REQUESTS, Json(response)).into_response();
        }
    }
    let slot = match state.admission.enter().await {
        Ok(slot) => slot,
        Err(Busy) => {
            state.metrics.busy();
            tracing::warn!(
                language = %request.language,
                waited_ms = started.elapsed().as_millis() as u64,
                "busy: no free sandbox before the queue deadline"
            );
            return Json(RunResponse::runner_error(
                api::EXIT_BUSY,
                "Container pool is busy",
                "no_available_container",
            ))
            .into_response();
        }
    };
    let provider = state.options.provider.as_ref();
    let warm = state.pool.take(request.language);
    let was_warm = warm.is_some();
    // With the shelf empty, a sandbox made for this request: where the provider makes
    // them cheaply (a fork server) that beats a cold run by far, and costs no more elsewhere.
    let instance = match warm {
        Some(instance) => Some(instance),
        None => provider.prepare_instance(&request).await.unwrap_or_else(|err| {
            tracing::warn!(language = %request.language, "a sandbox could not be made ahead of its code, so it runs cold: {err}");
            None
        }),
    };
    let outcome = match instance {
        Some(instance) => {
            let outcome = provider
                .execute_code(&instance, &request, Box::new(NoSink))
                .await;
            // The answer doesn't wait for the sandbox's cgroup to go.
            let provider = Arc::clone(&state.options.provider);
            tokio::spawn(async move {
                if let Err(err) = provider.destroy_instance(instance).await {
                    tracing::warn!("a used sandbox could not be destroyed: {err}");
                }
            });
            outcome
        }
        None => provider::run_once(provider, &request, Box::new(NoSink)).await,
    };
    drop(slot);
    let response = match outcome {
        Ok(result) => RunResponse::from_result(result),
        // The request asked for what its code can't do (arguments without a main).
        Err(ProviderError::BadInput(message)) => RunResponse {
            status: "program_error".into(),
            stderr: format!("{message}\n"),
            exit_code: 1,
            runtime_error_type: Some("nonzero_exit".into()),
            detail: Some("bad_input".into()),
            ..RunResponse::runner_error(1, "", "")
        },
        Err(err) => {
            RunResponse::runner_error(api::EXIT_INTERNAL, &err.to_string(), "internal_error")
        }
    };
    let latency = started.elapsed();
    state.metrics.run(&response.status, latency, was_warm);
    tracing::info!(
        language = %request.language,
        warm = was_warm,
        status = %response.status,
        exit_code = response.exit_code,
        run_ms = response.time_used_ms as u64,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "run"
    );
    Json(response).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !state.authorized(&headers) {
        return state.unauthorized();
    }
    let gauges = Gauges {
        running: state.admission.running(),
        queue_depth: state.admission.queue_depth(),
        max_concurrency: state.options.max_concurrency,
        pool: state
            .pool
            .languages()
            .map(|l| (l.name(), state.pool.ready(l)))
            .collect(),
    };
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(&gauges),
    )
        .into_response()
}
