//! What a run is, whatever runs it: the language, the request, the harness and the result.

pub mod arguments;
pub mod artifacts;
pub mod harness;
mod language;
pub mod render;
mod request;
mod result;

pub use language::{Language, UnknownLanguage};
pub use request::ExecRequest;
pub use result::{ExecutionResult, LimitHit, ResultValue, Status, Truncated};
