//! Work waiting its turn, shared fairly between the parties it is for.
//!
//! One slow party must not hold everybody up. A single first-in, first-out
//! queue with one pool of places does exactly that: a webhook endpoint that
//! takes nine seconds to answer keeps its attempts in the pool for nine
//! seconds each, and soon every place is one of its attempts while a fast
//! endpoint's work waits behind them. [`FairQueue`] keeps one queue per
//! party (per *key*), lets each key have at most `cap` items in progress at
//! once, and always starts next the waiting item of the key with the
//! fewest in progress (the one that started least recently, on a tie). A
//! slow key then fills its own places and no more; the others keep moving.
//!
//! A key the owner trusts to answer fast may be given a larger cap of its
//! own ([`FairQueue::set_cap`]) — for a webhook, the inventory's own
//! receiver, whose answers decide orders — without raising every key's.
//!
//! It only decides *what* starts; the caller says when an item has
//! [`finished`](FairQueue::finished) (for a webhook: when its answer came
//! back). It is not thread-safe by itself: its owner keeps it behind a
//! mutex.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// Per-key queues with a cap on each key's items in progress.
#[derive(Debug)]
pub struct FairQueue<K, T> {
    keys: HashMap<K, KeyState<T>>,
    cap: usize,
    /// Keys with a cap of their own (kept while their queue comes and goes).
    caps: HashMap<K, usize>,
    queued: usize,
    /// Counts starts, to break ties in favour of the least recent.
    starts: u64,
}

#[derive(Debug)]
struct KeyState<T> {
    waiting: VecDeque<T>,
    in_progress: usize,
    last_started: u64,
}

impl<T> KeyState<T> {
    /// Items waiting plus in progress.
    fn load(&self) -> usize {
        self.waiting.len() + self.in_progress
    }
}

impl<K: Hash + Eq + Clone, T> FairQueue<K, T> {
    /// A queue that lets each key have at most `cap` (at least one) items
    /// in progress.
    pub fn new(cap: usize) -> FairQueue<K, T> {
        FairQueue {
            keys: HashMap::new(),
            cap: cap.max(1),
            caps: HashMap::new(),
            queued: 0,
            starts: 0,
        }
    }

    /// Gives `key` a cap of its own (at least one) in place of the
    /// queue's.
    pub fn set_cap(&mut self, key: K, cap: usize) {
        self.caps.insert(key, cap.max(1));
    }

    /// How many of `key`'s items may be in progress at once.
    fn cap_of(&self, key: &K) -> usize {
        self.caps.get(key).copied().unwrap_or(self.cap)
    }

    /// The keys with as many items waiting or in progress as their cap:
    /// more of theirs would only wait.
    pub fn keys_at_their_cap(&self) -> HashSet<K> {
        self.keys
            .iter()
            .filter(|(key, k)| k.load() >= self.cap_of(key))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Puts `item` at the back of `key`'s queue.
    pub fn push(&mut self, key: K, item: T) {
        self.keys
            .entry(key)
            .or_insert_with(|| KeyState {
                waiting: VecDeque::new(),
                in_progress: 0,
                last_started: 0,
            })
            .waiting
            .push_back(item);
        self.queued += 1;
    }

    /// Items waiting, all keys together.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// The keys with at least `n` items waiting or in progress.
    pub fn keys_loaded_at_least(&self, n: usize) -> HashSet<K> {
        self.keys
            .iter()
            .filter(|(_, k)| k.load() >= n)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Whether some waiting item could start now.
    pub fn has_startable(&self) -> bool {
        self.keys
            .iter()
            .any(|(key, k)| !k.waiting.is_empty() && k.in_progress < self.cap_of(key))
    }

    /// The next item to start — the front of the queue of the key with the
    /// fewest in progress among those below the cap — counted as in
    /// progress from now on.
    pub fn start_next(&mut self) -> Option<(K, T)> {
        let key = self
            .keys
            .iter()
            .filter(|(key, k)| !k.waiting.is_empty() && k.in_progress < self.cap_of(key))
            .min_by_key(|(_, k)| (k.in_progress, k.last_started))
            .map(|(key, _)| key.clone())?;
        self.starts += 1;
        let state = self.keys.get_mut(&key).expect("just found");
        let item = state.waiting.pop_front().expect("not empty");
        state.in_progress += 1;
        state.last_started = self.starts;
        self.queued -= 1;
        Some((key, item))
    }

    /// One of `key`'s items in progress has finished.
    pub fn finished(&mut self, key: &K) {
        if let Some(state) = self.keys.get_mut(key) {
            state.in_progress = state.in_progress.saturating_sub(1);
            if state.in_progress == 0 && state.waiting.is_empty() {
                self.keys.remove(key);
            }
        }
    }

    /// Takes every waiting item out (in progress ones stay counted).
    pub fn drain_waiting(&mut self) -> Vec<T> {
        self.queued = 0;
        let mut all = Vec::new();
        for state in self.keys.values_mut() {
            all.extend(state.waiting.drain(..));
        }
        self.keys.retain(|_, k| k.in_progress > 0);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items of `key` waiting plus in progress.
    fn load<K: Hash + Eq, T>(q: &FairQueue<K, T>, key: &K) -> usize {
        q.keys.get(key).map_or(0, KeyState::load)
    }

    #[test]
    fn a_key_with_a_cap_of_its_own_runs_that_many_and_the_others_keep_theirs() {
        let mut q: FairQueue<&str, u32> = FairQueue::new(2);
        q.set_cap("resolver", 5);
        for n in 0..10 {
            q.push("resolver", n);
            q.push("observer", n);
        }
        let mut started: HashMap<&str, usize> = HashMap::new();
        while let Some((key, _)) = q.start_next() {
            *started.entry(key).or_default() += 1;
        }
        assert_eq!(started["resolver"], 5);
        assert_eq!(started["observer"], 2);
        assert!(!q.has_startable());
        let full = q.keys_at_their_cap();
        assert!(full.contains("resolver") && full.contains("observer"));
        // The cap outlives the key's queue.
        for _ in 0..5 {
            q.finished(&"resolver");
        }
        q.drain_waiting();
        for n in 0..4 {
            q.push("resolver", n);
        }
        assert!(!q.keys_at_their_cap().contains("resolver"));
    }

    #[test]
    fn a_key_at_its_cap_does_not_hold_up_the_others() {
        let mut q = FairQueue::new(2);
        for n in 0..10 {
            q.push("slow", n);
        }
        q.push("fast", 100);
        q.push("fast", 101);
        let mut started = Vec::new();
        while let Some(s) = q.start_next() {
            started.push(s);
        }
        // Two of the slow key's (its cap), and both of the fast key's.
        assert_eq!(started.len(), 4, "{started:?}");
        assert_eq!(started.iter().filter(|(k, _)| *k == "fast").count(), 2);
        assert_eq!(q.queued(), 8);
        assert!(!q.has_startable());
        // The fast key's finish; the slow key's are still at the cap.
        q.finished(&"fast");
        q.finished(&"fast");
        assert!(q.start_next().is_none());
        q.finished(&"slow");
        assert_eq!(q.start_next(), Some(("slow", 2)));
    }

    #[test]
    fn the_key_with_the_fewest_in_progress_goes_first_in_turn() {
        let mut q = FairQueue::new(10);
        for n in 0..3 {
            q.push('a', n);
            q.push('b', n);
            q.push('c', n);
        }
        let order: Vec<char> = std::iter::from_fn(|| q.start_next().map(|(k, _)| k)).collect();
        // Every key once before any key twice.
        let firsts: std::collections::HashSet<char> = order[..3].iter().copied().collect();
        assert_eq!(firsts.len(), 3, "{order:?}");
        let seconds: std::collections::HashSet<char> = order[3..6].iter().copied().collect();
        assert_eq!(seconds.len(), 3, "{order:?}");
    }

    #[test]
    fn items_of_one_key_keep_their_order_and_the_counts_add_up() {
        let mut q = FairQueue::new(1);
        q.push("k", 1);
        q.push("k", 2);
        assert_eq!(load(&q, &"k"), 2);
        assert_eq!(q.start_next(), Some(("k", 1)));
        assert_eq!(load(&q, &"k"), 2);
        assert_eq!(q.drain_waiting(), vec![2]);
        assert_eq!(load(&q, &"k"), 1);
        q.finished(&"k");
        assert_eq!(load(&q, &"k"), 0);
        assert_eq!(q.queued(), 0);
    }
}
