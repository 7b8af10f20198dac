//! A bounded ring of flows in compact form, addressed by a sequence number that never repeats
//! (a view can hold on to "the flow I was looking at" while older flows fall off the front).
//!
//! A flow is not kept as a decoded struct. What repeats across a pod pair's flows (endpoints
//! with their labels, node, services, policies: the *context*) is interned once and shared; each
//! flow keeps a small fixed row (time, uuid, verdict, drop reason, L4 facts, context id) plus its
//! remaining protobuf bytes in a chunked arena. The whole `Flow` is decoded on demand, for the
//! rows on screen and the detail view.

use std::{collections::VecDeque, sync::Arc};

use prost::Message;

use super::context::{ContextId, Contexts};
use super::wire::{self, Facts, L4Facts, WireError};
use crate::api::{Timestamp, flow::Flow};

/// Bytes per arena chunk; a flow's rest never spans two chunks.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone)]
struct Row {
    time: Option<(i64, i32)>,
    uuid: Option<[u8; 16]>,
    verdict: i32,
    /// `drop_reason_desc`, or the deprecated `drop_reason` when only that is set.
    drop_reason: i32,
    drop_reason_desc: i32,
    l4: L4Facts,
    context: ContextId,
    chunk: u32,
    offset: u32,
    len: u32,
}

#[derive(Debug)]
struct Chunk {
    id: u32,
    data: Vec<u8>,
    /// Rows whose rest is in this chunk.
    live: u32,
}

#[derive(Debug)]
pub struct Ring {
    rows: VecDeque<Row>,
    chunks: VecDeque<Chunk>,
    contexts: Contexts,
    capacity: usize,
    next_seq: u64,
    scratch_context: Vec<u8>,
    scratch_rest: Vec<u8>,
}

/// The flows a refilter keeps, copied beside the ring as they are decided (a slice at a time,
/// the ring readable in between) and put in its place by [`Ring::apply`] in one swap: holding
/// the store's lock while a million rows move up in place would take tens of milliseconds.
#[derive(Debug)]
pub struct Kept {
    rows: VecDeque<Row>,
    decided: usize,
    /// The id of the ring's first chunk when deciding started.
    first_chunk: u32,
    /// Flows that go, per context id and per chunk (counted from `first_chunk`).
    contexts_gone: Vec<u32>,
    chunks_gone: Vec<u32>,
}

impl Kept {
    /// Flows decided so far: the next to decide is the ring's `first_seq() + decided()`.
    pub fn decided(&self) -> usize {
        self.decided
    }

    /// Flows kept so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Records the decision about the next flow, which is `flow` (the ring's flow number
    /// `first_seq() + decided()`).
    pub fn decide(&mut self, flow: &FlowRef, keep: bool) {
        let row = flow.row;
        if keep {
            self.rows.push_back(row.clone());
        } else {
            let id = row.context as usize;
            if self.contexts_gone.len() <= id {
                self.contexts_gone.resize(id + 1, 0);
            }
            self.contexts_gone[id] += 1;
            let chunk = row.chunk.wrapping_sub(self.first_chunk) as usize;
            if self.chunks_gone.len() <= chunk {
                self.chunks_gone.resize(chunk + 1, 0);
            }
            self.chunks_gone[chunk] += 1;
        }
        self.decided += 1;
    }
}

/// What [`Ring::apply`] took out of the ring: the replaced rows, the freed chunks' memory and
/// the contexts no flow holds any more. Drop it after releasing the store's lock.
#[derive(Debug)]
pub struct Dropped {
    gone: usize,
    _rows: VecDeque<Row>,
    _chunks: Vec<Vec<u8>>,
    _contexts: Vec<Arc<Flow>>,
}

impl Dropped {
    /// Flows that went.
    pub fn gone(&self) -> usize {
        self.gone
    }
}

/// A flow in the ring.
#[derive(Clone, Copy)]
pub struct FlowRef<'a> {
    pub seq: u64,
    row: &'a Row,
    ring: &'a Ring,
}

impl Ring {
    /// A ring holding at most `capacity` flows (at least one).
    pub fn new(capacity: usize) -> Self {
        Ring {
            // Grow on demand: a 1M ring that only ever sees 10 flows stays small.
            rows: VecDeque::with_capacity(capacity.clamp(1, 4096)),
            chunks: VecDeque::new(),
            contexts: Contexts::default(),
            capacity: capacity.max(1),
            next_seq: 0,
            scratch_context: Vec::with_capacity(2048),
            scratch_rest: Vec::with_capacity(2048),
        }
    }

    /// Adds a decoded flow (tests, files); the wire path is [`Ring::push_encoded`].
    pub fn push(&mut self, flow: &Flow) -> Facts {
        self.push_encoded(&flow.encode_to_vec(), |_| true)
            .expect("prost output is well-formed")
            .expect("accepted")
    }

    /// Adds a flow from its protobuf bytes if `accept` takes its identity key (see
    /// [`FlowRef::key`]); `Ok(None)` when it did not. Malformed bytes are an error and change
    /// nothing.
    pub fn push_encoded(
        &mut self,
        bytes: &[u8],
        accept: impl FnOnce(u64) -> bool,
    ) -> Result<Option<Facts>, WireError> {
        self.scratch_context.clear();
        self.scratch_rest.clear();
        let facts = wire::split(bytes, &mut self.scratch_context, &mut self.scratch_rest)?;
        // Started first so that its memory reads overlap with the duplicate check's.
        let probe = self.contexts.probe(&self.scratch_context);
        let key = identity_key(
            facts.time,
            facts.uuid.as_ref(),
            &self.scratch_context,
            &self.scratch_rest,
        );
        if !accept(key) {
            return Ok(None);
        }
        let context = self.contexts.intern_probed(&self.scratch_context, probe)?;
        if self.rows.len() == self.capacity {
            self.pop_oldest();
        }
        let (chunk, offset) = self.store_rest();
        self.rows.push_back(Row {
            time: facts.time,
            uuid: facts.uuid,
            verdict: facts.verdict,
            drop_reason: if facts.drop_reason_desc != 0 {
                facts.drop_reason_desc
            } else {
                facts.drop_reason as i32
            },
            drop_reason_desc: facts.drop_reason_desc,
            l4: facts.l4,
            context,
            chunk,
            offset,
            len: self.scratch_rest.len() as u32,
        });
        self.next_seq += 1;
        Ok(Some(facts))
    }

    fn store_rest(&mut self) -> (u32, u32) {
        let need = self.scratch_rest.len();
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.data.len() + need <= c.data.capacity());
        if !fits {
            let id = self.chunks.back().map_or(0, |c| c.id.wrapping_add(1));
            self.chunks.push_back(Chunk {
                id,
                data: Vec::with_capacity(CHUNK.max(need)),
                live: 0,
            });
        }
        let chunk = self.chunks.back_mut().expect("pushed above");
        let offset = chunk.data.len() as u32;
        chunk.data.extend_from_slice(&self.scratch_rest);
        chunk.live += 1;
        (chunk.id, offset)
    }

    fn pop_oldest(&mut self) {
        let Some(row) = self.rows.pop_front() else {
            return;
        };
        self.contexts.release(row.context);
        let front = self.chunks.front_mut().expect("a row's chunk is held");
        debug_assert_eq!(front.id, row.chunk);
        front.live -= 1;
        // Chunks a retain emptied may follow: they go with it. The last one stays (the next
        // rest goes there if it has room).
        while self.chunks.len() > 1 && self.chunks.front().is_some_and(|c| c.live == 0) {
            self.chunks.pop_front();
        }
    }

    /// Keeps only the flows `keep` accepts, in one go: the path of a sliced refilter
    /// ([`Ring::start_keeping`], [`Kept::decide`], [`Ring::apply`]) without the slices. Nothing
    /// is decoded; sequence numbers are positional, so the kept flows get new ones (the store
    /// bumps its generation). Returns how many flows went.
    pub fn retain(&mut self, mut keep: impl FnMut(&FlowRef) -> bool) -> usize {
        let mut kept = self.start_keeping();
        for f in self.iter() {
            kept.decide(&f, keep(&f));
        }
        self.apply(kept).gone()
    }

    /// Starts a [`Kept`]: the flows held now, to be decided oldest first.
    pub fn start_keeping(&self) -> Kept {
        Kept {
            // As roomy as the rows it replaces: the ring refills without growing again.
            rows: VecDeque::with_capacity(self.rows.capacity()),
            decided: 0,
            first_chunk: self.chunks.front().map_or(0, |c| c.id),
            contexts_gone: Vec::new(),
            chunks_gone: Vec::new(),
        }
    }

    /// Holds only the flows `kept` kept, every flow held being decided: the kept rows replace
    /// the rows (a swap), contexts and chunks lose the references of the flows that went, and a
    /// chunk left without a live row gives its memory up. What is given up comes back in
    /// [`Dropped`], to be dropped once the store's lock is released (freeing a million rows and
    /// hundreds of chunks takes milliseconds). Sequence numbers are positional: the kept flows end
    /// at `next_seq()` as before, so they get new numbers.
    pub fn apply(&mut self, kept: Kept) -> Dropped {
        assert_eq!(kept.decided, self.rows.len(), "every flow held is decided");
        assert_eq!(
            kept.first_chunk,
            self.chunks.front().map_or(0, |c| c.id),
            "decided about these flows"
        );
        let gone = self.rows.len() - kept.rows.len();
        let rows = std::mem::replace(&mut self.rows, kept.rows);
        let mut contexts = Vec::new();
        for (id, &n) in kept.contexts_gone.iter().enumerate() {
            let id = id as ContextId;
            if n > 0 {
                if self.contexts.refs(id) == n {
                    // Its last flows go: the decoded context (dozens of allocations) is freed
                    // with the rest, after the lock.
                    contexts.push(self.contexts.flow(id).clone());
                }
                self.contexts.release_many(id, n);
            }
        }
        let mut chunks = Vec::new();
        for (chunk, &n) in self.chunks.iter_mut().zip(&kept.chunks_gone) {
            chunk.live -= n;
            if n > 0 && chunk.live == 0 {
                chunks.push(std::mem::take(&mut chunk.data));
            }
        }
        while self.chunks.front().is_some_and(|c| c.live == 0) {
            self.chunks.pop_front();
        }
        Dropped {
            gone,
            _rows: rows,
            _chunks: chunks,
            _contexts: contexts,
        }
    }

    /// Bytes held by the arena chunks (their capacity), for tests and memory reports.
    pub fn arena_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.data.capacity()).sum()
    }

    fn rest<'r>(&'r self, row: &Row) -> &'r [u8] {
        let first = self.chunks.front().map_or(0, |c| c.id);
        let chunk = &self.chunks[row.chunk.wrapping_sub(first) as usize];
        &chunk.data[row.offset as usize..(row.offset + row.len) as usize]
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sequence number of the oldest flow still held.
    pub fn first_seq(&self) -> u64 {
        self.next_seq - self.rows.len() as u64
    }

    /// Sequence number the next pushed flow gets; `next_seq() - 1` is the newest.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The flow with this sequence number, if still held.
    pub fn get(&self, seq: u64) -> Option<FlowRef<'_>> {
        let idx = seq.checked_sub(self.first_seq())?;
        let row = self.rows.get(usize::try_from(idx).ok()?)?;
        Some(FlowRef {
            seq,
            row,
            ring: self,
        })
    }

    pub fn newest(&self) -> Option<FlowRef<'_>> {
        self.next_seq.checked_sub(1).and_then(|s| self.get(s))
    }

    /// Flows with `from <= seq < to`, clamped to what is held, oldest first.
    pub fn range(&self, from: u64, to: u64) -> impl DoubleEndedIterator<Item = FlowRef<'_>> {
        let first = self.first_seq();
        let lo = from.clamp(first, self.next_seq);
        let hi = to.clamp(lo, self.next_seq);
        self.rows
            .range((lo - first) as usize..(hi - first) as usize)
            .enumerate()
            .map(move |(i, row)| FlowRef {
                seq: lo + i as u64,
                row,
                ring: self,
            })
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = FlowRef<'_>> {
        self.range(0, u64::MAX)
    }

    /// Distinct contexts held (for benchmarks and memory reports).
    pub fn contexts(&self) -> usize {
        self.contexts.len()
    }
}

/// A flow's identity for duplicate detection: its uuid, or its time and content without one.
fn identity_key(
    time: Option<(i64, i32)>,
    uuid: Option<&[u8; 16]>,
    context: &[u8],
    rest: &[u8],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    match uuid {
        Some(u) => u.hash(&mut h),
        None => {
            time.hash(&mut h);
            context.hash(&mut h);
            rest.hash(&mut h);
        }
    }
    h.finish()
}

impl<'a> FlowRef<'a> {
    /// The key [`Ring::push_encoded`] offered for this flow.
    pub fn key(&self) -> u64 {
        identity_key(
            self.row.time,
            self.row.uuid.as_ref(),
            self.ring.contexts.key(self.row.context),
            self.ring.rest(self.row),
        )
    }

    pub fn time(&self) -> Option<Timestamp> {
        self.row
            .time
            .map(|(seconds, nanos)| Timestamp { seconds, nanos })
    }

    pub fn verdict(&self) -> i32 {
        self.row.verdict
    }

    /// `drop_reason_desc`, or the deprecated `drop_reason` when only that is set.
    pub fn drop_reason(&self) -> i32 {
        self.row.drop_reason
    }

    /// The `drop_reason_desc` field alone.
    pub fn drop_reason_desc(&self) -> i32 {
        self.row.drop_reason_desc
    }

    pub fn l4(&self) -> L4Facts {
        self.row.l4
    }

    /// The uuid, when it was stored in binary (otherwise it is in [`FlowRef::rest_bytes`]).
    pub fn uuid(&self) -> Option<String> {
        self.row.uuid.as_ref().map(wire::format_uuid)
    }

    /// The flow's own protobuf bytes: everything but its context, time and binary uuid.
    pub fn rest_bytes(&self) -> &'a [u8] {
        self.ring.rest(self.row)
    }

    /// The context's id and a stamp that differs each time an id is reused.
    pub fn context_id(&self) -> (u32, u64) {
        (self.row.context, self.ring.contexts.stamp(self.row.context))
    }

    /// The flow's context: a `Flow` with only the shared fields set (endpoints, node, names,
    /// services, policies, interface, event type, …). Cheap: nothing is decoded.
    pub fn context(&self) -> &'a Arc<Flow> {
        self.ring.contexts.flow(self.row.context)
    }

    /// The whole flow, decoded.
    pub fn flow(&self) -> Flow {
        assemble(
            self.context(),
            self.ring.rest(self.row),
            self.time(),
            self.row.uuid,
        )
    }

    /// What [`FlowRef::flow`] needs, taken cheaply (the context shared, the rest copied), to be
    /// decoded once the store's lock is released.
    pub fn detach(&self) -> Detached {
        Detached {
            context: self.context().clone(),
            rest: self.ring.rest(self.row).to_vec(),
            time: self.time(),
            uuid: self.row.uuid,
        }
    }
}

/// A flow taken out of the ring undecoded ([`FlowRef::detach`]).
#[derive(Debug, Clone)]
pub struct Detached {
    context: Arc<Flow>,
    rest: Vec<u8>,
    time: Option<Timestamp>,
    uuid: Option<[u8; 16]>,
}

impl Detached {
    /// The whole flow, decoded: what [`FlowRef::flow`] gives.
    pub fn flow(&self) -> Flow {
        assemble(&self.context, &self.rest, self.time, self.uuid)
    }
}

fn assemble(context: &Flow, rest: &[u8], time: Option<Timestamp>, uuid: Option<[u8; 16]>) -> Flow {
    let mut flow = Flow::clone(context);
    // The rest was checked when it was split; a failure here would only lose detail.
    let _ = flow.merge(rest);
    flow.time = time;
    if let Some(u) = &uuid {
        flow.uuid = wire::format_uuid(u);
    }
    flow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(deprecated)] // `summary` gives the flows different sizes
    fn flow(n: u32) -> Flow {
        Flow {
            uuid: format!("00000000-0000-4000-8000-{n:012}"),
            node_name: format!("node-{}", n % 2),
            verdict: 1 + (n % 2) as i32,
            summary: "x".repeat(n as usize % 7),
            ..Default::default()
        }
    }

    fn uuids(r: &Ring) -> Vec<String> {
        r.iter().map(|e| e.flow().uuid).collect()
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let mut r = Ring::new(3);
        for n in 0..10 {
            r.push(&flow(n));
            assert!(r.len() <= 3);
        }
        assert_eq!(uuids(&r), (7..10).map(|n| flow(n).uuid).collect::<Vec<_>>());
    }

    #[test]
    fn sequence_numbers_survive_eviction() {
        let mut r = Ring::new(2);
        for n in 0..5 {
            r.push(&flow(n));
        }
        assert_eq!(r.first_seq(), 3);
        assert_eq!(r.next_seq(), 5);
        assert!(r.get(2).is_none());
        assert_eq!(r.get(4).unwrap().flow().uuid, flow(4).uuid);
        assert!(r.get(5).is_none());
        let got: Vec<u64> = r.range(0, 100).map(|e| e.seq).collect();
        assert_eq!(got, [3, 4]);
        assert_eq!(r.range(4, 3).count(), 0);
    }

    #[test]
    fn a_zero_capacity_is_treated_as_one() {
        let mut r = Ring::new(0);
        r.push(&flow(1));
        r.push(&flow(2));
        assert_eq!(r.len(), 1);
    }

    #[allow(deprecated)]
    #[test]
    fn flows_come_back_whole_and_contexts_are_shared_and_freed() {
        let mut r = Ring::new(1000);
        let all: Vec<Flow> = (0..3000).map(flow).collect();
        for f in &all {
            r.push(f);
        }
        for (e, f) in r.iter().zip(&all[2000..]) {
            assert_eq!(&e.flow(), f);
        }
        assert_eq!(
            r.contexts(),
            2,
            "two nodes: two contexts, however many flows"
        );
        // Arena chunks are freed as their flows leave.
        assert!(r.chunks.len() <= 2, "{} chunks", r.chunks.len());
    }

    #[test]
    fn malformed_bytes_are_refused_and_change_nothing() {
        let mut r = Ring::new(10);
        r.push(&flow(1));
        assert!(r.push_encoded(&[0x0a, 0xff, 0x01], |_| true).is_err());
        let again = flow(1).encode_to_vec();
        let first_key = r.get(0).unwrap().key();
        assert!(
            r.push_encoded(&again, |k| k != first_key)
                .unwrap()
                .is_none(),
            "a refused key adds nothing"
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r.next_seq(), 1);
    }

    /// Flows of ~2 kB (about 128 to a chunk), on `node-{n % 2}`.
    #[allow(deprecated)]
    fn big(n: u32) -> Flow {
        Flow {
            summary: "y".repeat(2000),
            ..flow(n)
        }
    }

    #[test]
    fn retain_keeps_the_marked_flows_whole_with_positional_sequence_numbers() {
        let mut r = Ring::new(100);
        let all: Vec<Flow> = (0..150).map(flow).collect();
        for f in &all {
            r.push(f);
        }
        let held = &all[50..];
        let gone = r.retain(|f| f.verdict() == 2);
        let want: Vec<&Flow> = held.iter().filter(|f| f.verdict == 2).collect();
        assert_eq!(gone, 100 - want.len());
        assert_eq!(r.len(), want.len());
        assert_eq!(r.next_seq(), 150, "the newest keeps its number");
        assert_eq!(r.first_seq(), 150 - want.len() as u64);
        let got: Vec<Flow> = r.iter().map(|e| e.flow()).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want);
        assert_eq!(r.contexts(), 1, "node-0's context went with its flows");
        // Pushing and evicting carry on as before.
        for f in &all[..100] {
            r.push(f);
        }
        assert_eq!(r.len(), 100);
        assert_eq!(
            uuids(&r),
            all[..100]
                .iter()
                .map(|f| f.uuid.clone())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn retaining_nothing_frees_every_chunk_and_context() {
        let mut r = Ring::new(10_000);
        for n in 0..2_000 {
            r.push(&big(n));
        }
        assert!(r.arena_bytes() >= 2_000 * 2_000);
        assert_eq!(r.retain(|_| false), 2_000);
        assert!(r.is_empty());
        assert_eq!(r.arena_bytes(), 0);
        assert_eq!(r.contexts(), 0);
        assert_eq!(r.chunks.len(), 0);
        assert_eq!(r.first_seq(), 2_000);
        r.push(&big(7));
        assert_eq!(r.get(2_000).unwrap().flow(), big(7));
    }

    #[test]
    fn a_chunk_left_without_flows_gives_its_memory_back_and_later_ids_still_resolve() {
        let mut r = Ring::new(1_000);
        let all: Vec<Flow> = (0..1_000).map(big).collect();
        for f in &all {
            r.push(f);
        }
        let chunks = r.chunks.len();
        assert!(chunks >= 6, "{chunks} chunks");
        let before = r.arena_bytes();
        // Flows 200..800 go: the chunks wholly inside that span are emptied.
        r.retain(|f| !(200..800).contains(&f.seq));
        assert!(
            r.arena_bytes() <= before - 3 * CHUNK,
            "{} of {before} bytes held",
            r.arena_bytes()
        );
        assert_eq!(r.chunks.len(), chunks, "emptied slots stay in the middle");
        let want: Vec<&Flow> = all[..200].iter().chain(&all[800..]).collect();
        let got: Vec<Flow> = r.iter().map(|e| e.flow()).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want);
        // Evicting the first 200 walks past the emptied slots.
        let more: Vec<Flow> = (1_000..1_800).map(big).collect();
        for f in &more {
            r.push(f);
        }
        assert_eq!(r.len(), 1_000);
        let want: Vec<&Flow> = all[800..].iter().chain(&more).collect();
        let got: Vec<Flow> = r.iter().map(|e| e.flow()).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want);
        assert!(r.chunks.len() <= chunks + 1, "{} chunks", r.chunks.len());
    }

    #[test]
    fn kept_rows_decided_one_by_one_are_swapped_in_and_the_rest_given_up() {
        let all: Vec<Flow> = (0..1_000).map(big).collect();
        let keep = |f: &FlowRef| !(200..800).contains(&f.seq) && f.verdict() == 1;
        let mut r = Ring::new(1_000);
        for f in &all {
            r.push(f);
        }
        let before = r.arena_bytes();
        let want: Vec<(u64, Flow)> = r
            .iter()
            .filter(|f| keep(f))
            .map(|f| f.flow())
            .zip(800..)
            .map(|(f, seq)| (seq, f))
            .collect();
        let mut kept = r.start_keeping();
        for f in r.iter() {
            kept.decide(&f, keep(&f));
        }
        assert_eq!(kept.decided(), 1_000);
        assert_eq!(kept.len(), 200);
        let dropped = r.apply(kept);
        assert_eq!(dropped.gone(), 800);
        drop(dropped);
        let got: Vec<(u64, Flow)> = r.iter().map(|e| (e.seq, e.flow())).collect();
        assert_eq!(got, want, "the kept flows, in order, ending at next_seq");
        assert_eq!(r.contexts(), 1);
        assert!(r.arena_bytes() <= before - 3 * CHUNK);
        // Nothing kept: every chunk and context goes.
        let kept = r.start_keeping();
        let kept = r.iter().fold(kept, |mut k, f| {
            k.decide(&f, false);
            k
        });
        r.apply(kept);
        assert!(r.is_empty());
        assert_eq!((r.arena_bytes(), r.chunks.len()), (0, 0));
        assert_eq!(r.contexts(), 0);
        r.push(&big(5));
        assert_eq!(r.newest().unwrap().flow(), big(5));
    }
}
