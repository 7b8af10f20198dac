//! Interned flow contexts: the fields that repeat across many flows (see `ring.rs`), stored once
//! with a reference count and freed when the last flow using them leaves the ring.

use std::{collections::HashMap, hash::BuildHasherDefault, sync::Arc};

use prost::Message;

use super::wire::WireError;
use crate::api::flow::Flow;

pub type ContextId = u32;

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<rustc_hash::FxHasher>>;

#[derive(Debug)]
struct Entry {
    key: Arc<[u8]>,
    /// Unique per intern, so a cache keyed by id notices when the id is reused.
    stamp: u64,
    flow: Arc<Flow>,
    refs: u32,
}

#[derive(Debug, Default)]
pub struct Contexts {
    ids: FastMap<Arc<[u8]>, ContextId>,
    entries: Vec<Option<Entry>>,
    free: Vec<ContextId>,
    next_stamp: u64,
}

impl Contexts {
    /// The id of this context (its protobuf bytes), adding it if new; one more reference.
    pub fn intern(&mut self, bytes: &[u8]) -> Result<ContextId, WireError> {
        if let Some(&id) = self.ids.get(bytes) {
            if let Some(e) = self.entries[id as usize].as_mut() {
                e.refs += 1;
            }
            return Ok(id);
        }
        let flow = Flow::decode(bytes).map_err(|_| WireError("undecodable flow context"))?;
        let key: Arc<[u8]> = Arc::from(bytes);
        self.next_stamp += 1;
        let entry = Entry {
            key: key.clone(),
            stamp: self.next_stamp,
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
        self.ids.insert(key, id);
        Ok(id)
    }

    /// One reference less; the context goes when none is left.
    pub fn release(&mut self, id: ContextId) {
        let slot = &mut self.entries[id as usize];
        if let Some(e) = slot {
            e.refs -= 1;
            if e.refs == 0 {
                self.ids.remove(&e.key);
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
        self.ids.len()
    }
}
