//! The warm pool: per language, instances the provider made ahead of requests (for
//! `local`, sandboxes whose interpreter already runs and waits for its code). Each is
//! taken by one request and destroyed after it; a task per language makes the next.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::exec::{ExecRequest, Language};
use crate::provider::{Instance, Provider};

/// How long a failed warm-up makes the refill wait before the next try.
const RETRY: Duration = Duration::from_secs(1);

/// Warm-ups of one language that may be under way at once.
const MAKERS: usize = 2;

struct Shelf {
    size: usize,
    ready: Mutex<VecDeque<Instance>>,
    /// Warm-ups under way.
    making: AtomicUsize,
    /// Wakes the refill task: an instance was taken, or the pool is closing.
    wake: Notify,
}

pub struct Pool {
    provider: Arc<dyn Provider>,
    shelves: BTreeMap<Language, Shelf>,
    closed: AtomicBool,
}

impl Pool {
    /// Starts filling a shelf of `size` instances per language, each made for requests
    /// like `template` (its language replaced).
    pub fn start(
        provider: Arc<dyn Provider>,
        sizes: &[(Language, usize)],
        template: ExecRequest,
    ) -> Arc<Pool> {
        let shelves = sizes
            .iter()
            .filter(|(language, _)| provider.supported_languages().contains(language))
            .map(|&(language, size)| {
                let shelf = Shelf {
                    size,
                    ready: Mutex::new(VecDeque::new()),
                    making: AtomicUsize::new(0),
                    wake: Notify::new(),
                };
                (language, shelf)
            })
            .collect();
        let pool = Arc::new(Pool {
            provider,
            shelves,
            closed: AtomicBool::new(false),
        });
        for (&language, shelf) in &pool.shelves {
            let mut template = template.clone();
            template.language = language;
            for _ in 0..MAKERS.min(shelf.size) {
                tokio::spawn(Arc::clone(&pool).refill(language, template.clone()));
            }
        }
        pool
    }

    async fn refill(self: Arc<Self>, language: Language, template: ExecRequest) {
        let shelf = &self.shelves[&language];
        while !self.closed.load(Ordering::SeqCst) {
            if self.ready(language) + shelf.making.load(Ordering::SeqCst) >= shelf.size {
                shelf.wake.notified().await;
                continue;
            }
            shelf.making.fetch_add(1, Ordering::SeqCst);
            let made = self.provider.prepare_instance(&template).await;
            shelf.making.fetch_sub(1, Ordering::SeqCst);
            match made {
                Ok(Some(instance)) => {
                    if self.closed.load(Ordering::SeqCst) {
                        let _ = self.provider.destroy_instance(instance).await;
                        break;
                    }
                    lock(&shelf.ready).push_back(instance);
                }
                Ok(None) => {
                    tracing::info!(
                        provider = self.provider.name(),
                        %language,
                        "this provider has no warm sandboxes: every run starts a fresh one"
                    );
                    break;
                }
                Err(err) => {
                    tracing::warn!(%language, "a warm sandbox could not be made: {err}");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// A ready instance for `language`, if there is one; the shelf starts refilling.
    pub fn take(&self, language: Language) -> Option<Instance> {
        let shelf = self.shelves.get(&language)?;
        let instance = lock(&shelf.ready).pop_front();
        shelf.wake.notify_one();
        instance
    }

    /// Instances ready for `language`.
    pub fn ready(&self, language: Language) -> usize {
        self.shelves
            .get(&language)
            .map_or(0, |shelf| lock(&shelf.ready).len())
    }

    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        self.shelves.keys().copied()
    }

    /// Stops refilling and destroys what is ready (their sandboxes never run anything),
    /// then what the provider keeps running for them.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for shelf in self.shelves.values() {
            shelf.wake.notify_waiters();
            let instances: Vec<Instance> = lock(&shelf.ready).drain(..).collect();
            for instance in instances {
                let _ = self.provider.destroy_instance(instance).await;
            }
        }
        self.provider.shutdown().await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
