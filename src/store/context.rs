//! Interned flow contexts: the fields that repeat across many flows (see `ring.rs`), stored once
//! with a reference count and freed when the last flow using them leaves the ring.

use std::{
    collections::HashMap,
    hash::BuildHasher,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use prost::Message;
use rustc_hash::FxBuildHasher;

use super::wire::WireError;
use crate::api::flow::Flow;

pub type ContextId = u32;

#[derive(Debug)]
struct Entry {
    key: Arc<[u8]>,
    /// `hash(key)`, kept so that a release finds the map entry without hashing the key again.
    hash: u64,
    /// Unique per intern across the process (see [`NEXT_STAMP`]), so a cache keyed by id notices
    /// when the id is reused, in this table or in another one (a ring built after a new filter).
    stamp: u64,
    flow: Arc<Flow>,
    refs: u32,
}

/// Interned contexts, found by the hash of their bytes and then compared byte for byte.
///
/// `ids` maps a hash to the context holding it; a context whose hash another context holds
/// already (a collision: rare, but the bytes decide, not the hash) goes to `collided`, keyed by
/// its bytes. Every context is in exactly one of the two.
#[derive(Debug, Default)]
pub struct Contexts {
    ids: HashMap<u64, ContextId, FxBuildHasher>,
    collided: HashMap<Arc<[u8]>, ContextId, FxBuildHasher>,
    entries: Vec<Option<Entry>>,
    free: Vec<ContextId>,
}

/// Stamps come from one counter for the whole process: a matcher's cache keyed by
/// `(id, stamp)` must never take a context of one table for the same id of another.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

/// A context looked up by [`Contexts::probe`], for [`Contexts::intern_probed`].
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    hash: u64,
    /// The context holding this hash, if any (its bytes may still differ).
    candidate: Option<ContextId>,
}

fn hash(bytes: &[u8]) -> u64 {
    #[cfg(test)]
    if tests::COLLIDE.get() {
        return bytes.len() as u64;
    }
    FxBuildHasher.hash_one(bytes)
}

impl Contexts {
    /// The id of this context (its protobuf bytes), adding it if new; one more reference.
    #[cfg(test)]
    pub fn intern(&mut self, bytes: &[u8]) -> Result<ContextId, WireError> {
        let probe = self.probe(bytes);
        self.intern_probed(bytes, probe)
    }

    /// The first half of [`Contexts::intern`]: hashes the bytes, finds the context that may
    /// match, and starts reading its bytes. The caller can do other work before
    /// [`Contexts::intern_probed`] compares them: a context stored a while ago is out of the
    /// cache, and comparing it is then most of what a flow costs, unless its reads overlap with
    /// other work.
    pub fn probe(&self, bytes: &[u8]) -> Probe {
        let hash = hash(bytes);
        let candidate = self.ids.get(&hash).copied();
        if let Some(e) = candidate.and_then(|id| self.entries.get(id as usize)?.as_ref()) {
            // One read per cache line, independent of each other: their misses overlap.
            let touched = e.key.iter().step_by(64).fold(0u8, |a, b| a ^ b);
            std::hint::black_box(touched);
        }
        Probe { hash, candidate }
    }

    /// [`Contexts::intern`] after [`Contexts::probe`] of the same bytes (with no change between).
    pub fn intern_probed(&mut self, bytes: &[u8], probe: Probe) -> Result<ContextId, WireError> {
        let hit = match probe.candidate {
            Some(id) if self.key(id) == bytes => Some(id),
            // Absent from `ids` means absent from `collided` too, unless a collider outlived
            // the context that held its hash: look there whenever it holds anything.
            _ if !self.collided.is_empty() => self.collided.get(bytes).copied(),
            _ => None,
        };
        if let Some(id) = hit {
            if let Some(e) = self.entries[id as usize].as_mut() {
                e.refs += 1;
            }
            return Ok(id);
        }
        let flow = Flow::decode(bytes).map_err(|_| WireError("undecodable flow context"))?;
        let key: Arc<[u8]> = Arc::from(bytes);
        let entry = Entry {
            key: key.clone(),
            hash: probe.hash,
            stamp: NEXT_STAMP.fetch_add(1, Ordering::Relaxed),
            flow: Arc::new(flow),
            refs: 1,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(entry);
                id
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as ContextId
            }
        };
        if probe.candidate.is_some() {
            self.collided.insert(key, id);
        } else {
            self.ids.insert(probe.hash, id);
        }
        Ok(id)
    }

    /// One reference less; the context goes when none is left.
    pub fn release(&mut self, id: ContextId) {
        self.release_many(id, 1);
    }

    /// `n` references less (at most as many as it has); the context goes when none is left.
    pub fn release_many(&mut self, id: ContextId, n: u32) {
        let slot = &mut self.entries[id as usize];
        if let Some(e) = slot {
            e.refs -= n;
            if e.refs == 0 {
                if self.ids.get(&e.hash) == Some(&id) {
                    self.ids.remove(&e.hash);
                } else {
                    self.collided.remove(&e.key);
                }
                *slot = None;
                self.free.push(id);
            }
        }
    }

    pub fn flow(&self, id: ContextId) -> &Arc<Flow> {
        &self.entries[id as usize]
            .as_ref()
            .expect("a held flow's context is alive")
            .flow
    }

    /// Flows holding this context.
    pub fn refs(&self, id: ContextId) -> u32 {
        self.entries[id as usize].as_ref().map_or(0, |e| e.refs)
    }

    pub fn stamp(&self, id: ContextId) -> u64 {
        self.entries[id as usize].as_ref().map_or(0, |e| e.stamp)
    }

    /// The context's protobuf bytes.
    pub fn key(&self, id: ContextId) -> &[u8] {
        &self.entries[id as usize]
            .as_ref()
            .expect("a held flow's context is alive")
            .key
    }

    pub fn len(&self) -> usize {
        self.ids.len() + self.collided.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Makes every context of a length hash alike.
        pub static COLLIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn context(node: &str) -> Vec<u8> {
        Flow {
            node_name: node.into(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    fn check(colliding: bool) {
        COLLIDE.set(colliding);
        let mut c = Contexts::default();
        let (a, b, d) = (context("node-a"), context("node-b"), context("node-d"));
        let ia = c.intern(&a).unwrap();
        let ib = c.intern(&b).unwrap();
        assert_ne!(ia, ib);
        assert_eq!(c.intern(&a).unwrap(), ia);
        assert_eq!(c.intern(&b).unwrap(), ib);
        assert_eq!((c.key(ia), c.key(ib)), (&a[..], &b[..]));
        assert_eq!(c.len(), 2);
        // `a` goes (two references), `b` stays and is still found; `d` takes a's place.
        c.release(ia);
        c.release(ia);
        assert_eq!(c.len(), 1);
        assert_eq!(c.intern(&b).unwrap(), ib);
        let id = c.intern(&d).unwrap();
        assert_eq!(c.key(id), &d[..]);
        assert_eq!(c.intern(&b).unwrap(), ib);
        assert_eq!(c.intern(&a).unwrap(), c.intern(&a).unwrap());
        assert_eq!(c.len(), 3);
        for _ in 0..4 {
            c.release(ib);
        }
        assert_eq!(c.len(), 2);
        assert_eq!(c.flow(id).node_name, "node-d");
        COLLIDE.set(false);
    }

    #[test]
    fn contexts_are_told_apart_by_their_bytes_even_when_their_hashes_collide() {
        check(false);
        check(true);
    }
}
