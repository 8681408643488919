//! A small blocking connection pool: at most `max` connections, opened when first needed,
//! so a run with hundreds of streams still uses no more connections than sinks that write at
//! once (`max_parallelism`).

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::{Client, ConnectOptions, Result};

/// Connections shared by the sinks of a run.
#[derive(Debug)]
pub(super) struct Pool {
    connect: ConnectOptions,
    max: usize,
    state: Mutex<State>,
    freed: Condvar,
    /// Whether a connection has opened yet (logged once).
    answered: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    idle: Vec<Client>,
    open: usize,
}

impl Pool {
    pub(super) fn new(connect: ConnectOptions, max: usize) -> Pool {
        Pool {
            connect,
            max: max.max(1),
            state: Mutex::default(),
            freed: Condvar::new(),
            answered: AtomicBool::new(false),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a list and a count, valid after any panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle connection, a new one while fewer than `max` are open, or the next one freed.
    pub(super) fn get(&self) -> Result<Pooled<'_>> {
        let mut state = self.state();
        loop {
            if let Some(client) = state.idle.pop() {
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match Client::connect(&self.connect) {
                    Ok(client) => {
                        if !self.answered.swap(true, Ordering::Relaxed) {
                            tracing::info!(endpoint = %self.connect.endpoint(), database = %self.connect.database, "PostgreSQL answers.");
                        }
                        Ok(Pooled {
                            pool: self,
                            client: Some(client),
                        })
                    }
                    Err(e) => {
                        self.state().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A connection on loan; it goes back to the pool when dropped (or is closed if it broke).
#[derive(Debug)]
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    client: Option<Client>,
}

impl Deref for Pooled<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.state();
        match self.client.take() {
            Some(client) if !client.is_closed() => state.idle.push(client),
            _ => state.open -= 1,
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}
