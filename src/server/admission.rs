//! Who may run now: at most `max_concurrency` programs at once, a bounded queue of
//! requests waiting for a slot up to a deadline (then "busy"), and an optional rate limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A request that found no slot in time, or no room in the queue.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

pub struct Admission {
    slots: Arc<Semaphore>,
    max_concurrency: usize,
    waiting: AtomicUsize,
    queue_size: usize,
    queue_timeout: Duration,
}

impl Admission {
    pub fn new(max_concurrency: usize, queue_size: usize, queue_timeout: Duration) -> Self {
        Admission {
            slots: Arc::new(Semaphore::new(max_concurrency)),
            max_concurrency,
            waiting: AtomicUsize::new(0),
            queue_size,
            queue_timeout,
        }
    }

    /// A slot, at once or after waiting in the queue; `Busy` when the queue is full or the
    /// deadline passes first. The slot is given back when the permit is dropped.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue_size {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let waited =
            tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// Requests waiting for a slot.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Programs running now.
    pub fn running(&self) -> usize {
        self.max_concurrency - self.slots.available_permits()
    }
}

/// A token bucket: `per_minute` runs a minute on average, bursts up to that many.
pub struct RateLimit {
    per_minute: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub fn new(per_minute: u32) -> Self {
        RateLimit {
            per_minute: per_minute as f64,
            state: Mutex::new((per_minute as f64, Instant::now())),
        }
    }

    /// Takes one token if there is one.
    pub fn allow(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_minute / 60.0)
            .min(self.per_minute);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Parses `N/min`, `N/s` or `N` (per minute).
pub fn parse_rate(text: &str) -> Result<u32, String> {
    let (count, unit) = text.split_once('/').unwrap_or((text, "min"));
    let count: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid rate limit `{text}`: expected N/min, such as 600/min"))?;
    match unit.trim() {
        "min" | "m" | "minute" => Ok(count),
        "s" | "sec" | "second" => count
            .checked_mul(60)
            .ok_or_else(|| format!("rate limit `{text}` is too large")),
        other => Err(format!(
            "invalid rate limit unit `{other}` in `{text}`: use /min or /s"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_and_a_passed_deadline_are_busy() {
        let admission = Admission::new(1, 1, Duration::from_millis(50));
        let first = admission.enter().await.unwrap();
        assert_eq!(admission.running(), 1);
        // The second waits its 50 ms in the queue, then gives up.
        let started = Instant::now();
        assert_eq!(admission.enter().await.err(), Some(Busy));
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(first);
        assert!(admission.enter().await.is_ok());
    }

    #[test]
    fn rates_parse_and_bursts_are_capped() {
        assert_eq!(parse_rate("600/min"), Ok(600));
        assert_eq!(parse_rate("5/s"), Ok(300));
        assert_eq!(parse_rate("42"), Ok(42));
        assert!(parse_rate("0/min").is_err() && parse_rate("3/hour").is_err());
        let limit = RateLimit::new(2);
        assert!(limit.allow() && limit.allow());
        assert!(!limit.allow());
    }
}
