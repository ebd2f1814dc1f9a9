//! Pending sign-in flows: `state` -> what the callback needs (PKCE verifier, nonce, scopes)
//! and the browser that started it. Each state is taken once (RFC 9700 section 4.7), only by
//! that browser (RFC 9700 section 4.7.1: state bound to the user agent's session, against
//! login CSRF), expires, and the store is bounded so a flood of `/login` requests cannot grow
//! memory without limit.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oauth2::{CsrfToken, PkceCodeVerifier, Scope};
use uuid::Uuid;

/// How long a flow may wait for its callback.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// How many flows may wait at once; the oldest is dropped to make room.
pub const DEFAULT_CAPACITY: usize = 1000;

/// What a callback needs to finish one flow. Not `Clone`: the verifier is used once.
#[derive(Debug)]
pub struct PendingFlow {
    /// Safe to log: it identifies the flow without revealing its state or verifier.
    pub id: Uuid,
    pub verifier: PkceCodeVerifier,
    pub nonce: Option<String>,
    pub scopes: Vec<Scope>,
    /// The browser binding: the value of the cookie `/login` set in the browser that started
    /// this flow.
    browser: String,
    created: Instant,
}

impl PendingFlow {
    pub fn new(
        verifier: PkceCodeVerifier,
        nonce: Option<String>,
        scopes: Vec<Scope>,
        browser: String,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            verifier,
            nonce,
            scopes,
            browser,
            created: Instant::now(),
        }
    }
}

/// Why a callback's state does not lead to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the callback has no state parameter")]
    Missing,
    #[error("this state was already used: each sign-in can be completed once")]
    Replayed,
    #[error("this state belongs to no sign-in started here (or the app restarted since)")]
    Unknown,
    #[error("this sign-in expired before the provider redirected back")]
    Expired,
    #[error(
        "the sign-in was started in another browser (or by another program): start it from the \
         sign-in URL printed by oauth-test-client, in this browser"
    )]
    OtherBrowser,
}

#[derive(Default)]
struct Inner {
    pending: HashMap<String, PendingFlow>,
    order: VecDeque<String>,
    used: HashSet<String>,
    used_order: VecDeque<String>,
}

/// The store of pending flows, shared by every worker.
pub struct FlowStore {
    inner: Mutex<Inner>,
    ttl: Duration,
    capacity: usize,
}

impl Default for FlowStore {
    fn default() -> Self {
        Self::new(DEFAULT_TTL, DEFAULT_CAPACITY)
    }
}

impl FlowStore {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// Remembers a flow under its state. Returns the id of a flow evicted to make room.
    pub fn insert(&self, state: &CsrfToken, flow: PendingFlow) -> Option<Uuid> {
        let mut inner = self.lock();
        self.purge_expired(&mut inner);
        let mut evicted = None;
        while inner.pending.len() >= self.capacity {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(old) = inner.pending.remove(&oldest) {
                evicted = Some(old.id);
            }
        }
        let key = state.secret().clone();
        inner.order.push_back(key.clone());
        inner.pending.insert(key, flow);
        evicted
    }

    /// Takes the flow for this state, once, for the browser that started it. A callback
    /// from another browser leaves the flow waiting for its own.
    pub fn take(
        &self,
        state: Option<&str>,
        browser: Option<&str>,
    ) -> Result<PendingFlow, StateError> {
        let state = state.filter(|s| !s.is_empty()).ok_or(StateError::Missing)?;
        let mut inner = self.lock();
        match inner.pending.get(state) {
            None if inner.used.contains(state) => return Err(StateError::Replayed),
            None => return Err(StateError::Unknown),
            Some(flow) if browser != Some(flow.browser.as_str()) => {
                return Err(StateError::OtherBrowser);
            }
            Some(_) => {}
        }
        let Some(flow) = inner.pending.remove(state) else {
            return Err(StateError::Unknown);
        };
        inner.order.retain(|s| s != state);
        self.remember_used(&mut inner, state);
        if flow.created.elapsed() > self.ttl {
            return Err(StateError::Expired);
        }
        Ok(flow)
    }

    /// How many flows are waiting.
    pub fn len(&self) -> usize {
        self.lock().pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the maps consistent: keep serving.
        crate::sync::lock(&self.inner)
    }

    fn purge_expired(&self, inner: &mut Inner) {
        while let Some(front) = inner.order.front() {
            match inner.pending.get(front) {
                Some(flow) if flow.created.elapsed() <= self.ttl => break,
                _ => {
                    let key = inner.order.pop_front().expect("front exists");
                    inner.pending.remove(&key);
                }
            }
        }
    }

    fn remember_used(&self, inner: &mut Inner, state: &str) {
        // Bounded like the pending set: enough to name a replay, never a leak.
        if inner.used_order.len() >= self.capacity
            && let Some(old) = inner.used_order.pop_front()
        {
            inner.used.remove(&old);
        }
        inner.used.insert(state.to_owned());
        inner.used_order.push_back(state.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::PkceCodeChallenge;

    const B: &str = "browser-1";

    fn flow() -> PendingFlow {
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        PendingFlow::new(
            verifier,
            Some("n".into()),
            vec![Scope::new("openid".into())],
            B.into(),
        )
    }

    #[test]
    fn a_state_is_taken_once_then_named_a_replay() {
        let store = FlowStore::default();
        let state = CsrfToken::new_random();
        let f = flow();
        let id = f.id;
        store.insert(&state, f);
        assert_eq!(store.take(Some(state.secret()), Some(B)).unwrap().id, id);
        assert_eq!(
            store.take(Some(state.secret()), Some(B)).unwrap_err(),
            StateError::Replayed
        );
        assert!(store.is_empty());
    }

    #[test]
    fn a_flow_is_taken_only_by_the_browser_that_started_it() {
        let store = FlowStore::default();
        let state = CsrfToken::new_random();
        store.insert(&state, flow());
        for other in [None, Some("browser-2")] {
            assert_eq!(
                store.take(Some(state.secret()), other).unwrap_err(),
                StateError::OtherBrowser
            );
        }
        assert_eq!(store.len(), 1, "the flow still waits for its own browser");
        assert!(store.take(Some(state.secret()), Some(B)).is_ok());
    }

    #[test]
    fn missing_and_unknown_states_are_refused() {
        let store = FlowStore::default();
        store.insert(&CsrfToken::new_random(), flow());
        assert_eq!(store.take(None, Some(B)).unwrap_err(), StateError::Missing);
        assert_eq!(
            store.take(Some(""), Some(B)).unwrap_err(),
            StateError::Missing
        );
        assert_eq!(
            store.take(Some("forged"), Some(B)).unwrap_err(),
            StateError::Unknown
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn expired_flows_are_refused_and_purged() {
        let store = FlowStore::new(Duration::from_millis(0), 10);
        let state = CsrfToken::new_random();
        store.insert(&state, flow());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            store.take(Some(state.secret()), Some(B)).unwrap_err(),
            StateError::Expired
        );
        store.insert(&CsrfToken::new_random(), flow());
        std::thread::sleep(Duration::from_millis(5));
        store.insert(&CsrfToken::new_random(), flow());
        assert_eq!(store.len(), 1, "the expired flow was purged on insert");
    }

    #[test]
    fn the_store_is_bounded_and_evicts_the_oldest() {
        let store = FlowStore::new(DEFAULT_TTL, 3);
        let states: Vec<CsrfToken> = (0..5).map(|_| CsrfToken::new_random()).collect();
        let mut ids = Vec::new();
        let mut evicted = Vec::new();
        for s in &states {
            let f = flow();
            ids.push(f.id);
            evicted.extend(store.insert(s, f));
        }
        assert_eq!(store.len(), 3);
        assert_eq!(evicted, vec![ids[0], ids[1]]);
        assert_eq!(
            store.take(Some(states[0].secret()), Some(B)).unwrap_err(),
            StateError::Unknown
        );
        assert!(store.take(Some(states[4].secret()), Some(B)).is_ok());
    }

    #[test]
    fn the_used_set_is_bounded_too() {
        let store = FlowStore::new(DEFAULT_TTL, 2);
        let states: Vec<CsrfToken> = (0..4).map(|_| CsrfToken::new_random()).collect();
        for s in &states {
            store.insert(s, flow());
            store.take(Some(s.secret()), Some(B)).unwrap();
        }
        assert_eq!(
            store.take(Some(states[0].secret()), Some(B)).unwrap_err(),
            StateError::Unknown
        );
        assert_eq!(
            store.take(Some(states[3].secret()), Some(B)).unwrap_err(),
            StateError::Replayed
        );
    }
}
