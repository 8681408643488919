//! Adaptive concurrency: how many requests may be in flight at once, halved on 429.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// A limit on requests in flight, shared by all clones, that adapts to the server: each 429
/// halves it (down to one), and every `grow_after` successes in a row raise it by one (up to
/// the maximum).
///
/// ```
/// use singer_sdk::rest::Concurrency;
/// let limit = Concurrency::new(8).grow_after(20);
/// assert_eq!(limit.limit(), 8);
/// limit.on_throttled();
/// assert_eq!(limit.limit(), 4);
/// ```
#[derive(Debug, Clone)]
pub struct Concurrency {
    state: Arc<Mutex<State>>,
    freed: Arc<Notify>,
}

#[derive(Debug)]
struct State {
    limit: usize,
    max: usize,
    in_flight: usize,
    successes: usize,
    grow_after: usize,
}

/// A slot taken from a [`Concurrency`]; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    owner: Concurrency,
}

impl Concurrency {
    /// Starts at (and never exceeds) `max` requests in flight (at least one).
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Concurrency {
            state: Arc::new(Mutex::new(State {
                limit: max,
                max,
                in_flight: 0,
                successes: 0,
                grow_after: 10,
            })),
            freed: Arc::new(Notify::new()),
        }
    }

    /// Raises the limit by one after `successes` successful responses in a row (default 10).
    #[must_use]
    pub fn grow_after(self, successes: usize) -> Self {
        self.lock().grow_after = successes.max(1);
        self
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Permit {
        loop {
            let freed = self.freed.notified();
            {
                let mut s = self.lock();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    return Permit {
                        owner: self.clone(),
                    };
                }
            }
            freed.await;
        }
    }

    /// The server said "too many requests": halve the limit.
    pub fn on_throttled(&self) {
        let mut s = self.lock();
        s.limit = (s.limit / 2).max(1);
        s.successes = 0;
    }

    /// A request succeeded: count towards growing the limit back.
    pub fn on_success(&self) {
        let grew = {
            let mut s = self.lock();
            s.successes += 1;
            if s.successes >= s.grow_after && s.limit < s.max {
                s.limit += 1;
                s.successes = 0;
                true
            } else {
                false
            }
        };
        if grew {
            self.freed.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.owner.lock().in_flight -= 1;
        self.owner.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_and_grows_back() {
        let c = Concurrency::new(8).grow_after(3);
        c.on_throttled();
        c.on_throttled();
        assert_eq!(c.limit(), 2);
        for _ in 0..3 {
            c.on_success();
        }
        assert_eq!(c.limit(), 3);
        for _ in 0..100 {
            c.on_success();
        }
        assert_eq!(c.limit(), 8);
        for _ in 0..10 {
            c.on_throttled();
        }
        assert_eq!(c.limit(), 1);
    }

    #[tokio::test]
    async fn permits_respect_the_limit_across_clones() {
        let c = Concurrency::new(2);
        let other = c.clone();
        let a = c.acquire().await;
        let _b = other.acquire().await;
        assert_eq!(c.in_flight(), 2);
        let waiter = tokio::spawn({
            let c = c.clone();
            async move {
                let _p = c.acquire().await;
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(a);
        waiter.await.unwrap();
        assert_eq!(c.in_flight(), 1);
    }
}
