//! The entry cache's table: records by a 64-bit key, within a byte
//! budget, evicting the least recently used of a few.
//!
//! # Why not a cache crate
//!
//! A read that finds its entry in the cache costs little but the memory it
//! touches, and a node's cache is far larger than the processor's. The
//! general-purpose cache this replaced (quick_cache) keeps an index table
//! apart from its entries, so a hit touched the index, then the entry,
//! then the record: three lines from memory. Here a slot holds the key and
//! the record's pointer side by side in one open-addressed array (linear
//! probing, at most half full: a probe for an absent key, which every
//! write of a new path makes, stays as short as quick_cache's), so a hit
//! touches the slot and the record. Key reads of 2 million cached entries
//! in a loop went from 0.61-0.62 to 0.85-0.94 million a second (100
//! thousand entries: 1.30-1.46 to 1.76-1.88 million), builds alternating.
//! The price is memory: a quarter to half of the slots are used. With
//! 24-byte slots (a fat `Arc<[u8]>` beside the key) that was 48 to 96
//! bytes an entry, which showed between sizes in `hbstore-bench --scale`
//! (resident memory 1.36 of LMDB's at 12 million fields, right after
//! tables doubled); the entry cache's records now sit behind a thin
//! pointer (`entries.rs`), so a slot is 16 bytes, 32 to 64 an entry: 2.8
//! million cached entries (300,000 messages) took 755 MB of resident
//! memory instead of 820, and whole-message reads of them went from
//! 174-223 to 246-263 thousand a second, builds alternating.
//!
//! # How it evicts
//!
//! Each slot's key keeps, in its lowest 8 bits, the shard's *epoch* when
//! the entry was last written or read (a hit stores the current epoch, a
//! relaxed store, and only when it changed, so a hot entry does not keep
//! writing its line). The epoch moves on every sixteenth of the shard's
//! entries inserted. An insert into a full shard looks at 16 slots from a
//! random one and evicts the entry there whose epoch is oldest: an
//! approximation of least-recently-used that keeps the table evenly
//! filled. (A CLOCK hand sweeping the slots in order, tried first, left
//! the table dense ahead of the hand, where every insert since its last
//! pass had landed, and probes there long: runs of 16,000 slots in a
//! table 71% full, measured.) An entry unused for 256 epochs (sixteen
//! turnovers of its shard) looks new again; by then it has almost surely
//! been evicted. Keys are therefore compared without their
//! lowest 8 bits: two keys that differ only there are one key to the
//! table, which for the entry cache (whose keys are halves of a 128-bit
//! hash, the other half checked in the record) only means that the two
//! evict each other.
//!
//! A removal shifts the entries after it back (no tombstones), so a probe
//! always ends at the first empty slot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use smallvec::SmallVec;

use crate::metrics::striped::Padded;
use crate::sync;

/// What a value costs against the budget.
pub(crate) trait Weigh {
    fn weight(&self) -> u64;
}

/// A shard's table is grown (doubled) past this fill, in eighths: at
/// three quarters, misses (probes to the end of a run) took three times
/// as long as quick_cache's, measured, and inserts two and a half.
const MAX_FILL_EIGHTHS: usize = 4;
/// The low bits of a stored key: the epoch of the entry's last use.
const EPOCH: u64 = 0xff;
/// Slots an eviction looks at, from a random one.
const WINDOW: usize = 16;
const INITIAL_SLOTS: usize = 16;
/// Shards hold a few MiB of budget each, so a shard's growth, which holds
/// its readers off while it rehashes, stays short.
const SHARD_BUDGET_TARGET: u64 = 4 << 20;
const MIN_SHARDS: usize = 8;
const MAX_SHARDS: usize = 256;

struct Slot<V> {
    /// The key, its lowest bits the epoch of its last use.
    key: AtomicU64,
    /// `None`: the slot is empty.
    value: Option<V>,
}

impl<V> Slot<V> {
    fn empty() -> Self {
        Slot {
            key: AtomicU64::new(0),
            value: None,
        }
    }

    fn holds(&self, key: u64) -> bool {
        self.value.is_some() && (self.key.load(Ordering::Relaxed) | EPOCH) == key | EPOCH
    }
}

struct Shard<V> {
    slots: Vec<Slot<V>>,
    len: usize,
    weight: u64,
    /// Where eviction looks next: a random sequence's state (never 0).
    hand: u64,
    /// The current epoch, and the inserts made in it.
    epoch: u64,
    inserts_in_epoch: usize,
}

pub(crate) struct EntryTable<V> {
    /// Each on cache lines of its own: readers of one shard do not
    /// disturb the lock word of the next.
    shards: Box<[Padded<RwLock<Shard<V>>>]>,
    shard_budget: u64,
}

/// The bytes of one slot of a table of `V`s.
#[cfg(test)]
pub(crate) const fn slot_bytes<V>() -> usize {
    std::mem::size_of::<Slot<V>>()
}

/// Where `key` starts probing in a table of `mask + 1` slots. The shard
/// was chosen from the low bits; the home slot comes from the high ones.
fn home(key: u64, mask: usize) -> usize {
    (key >> 16) as usize & mask
}

impl<V: Clone + Weigh> Shard<V> {
    fn new() -> Self {
        Shard {
            slots: (0..INITIAL_SLOTS).map(|_| Slot::empty()).collect(),
            len: 0,
            weight: 0,
            hand: 0x9e37_79b9_7f4a_7c15,
            epoch: 0,
            inserts_in_epoch: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn find(&self, key: u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = home(key, mask);
        // Ends: the table is never full, and a probe stops at an empty slot.
        loop {
            let slot = &self.slots[i];
            slot.value.as_ref()?;
            if slot.holds(key) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// `read` of the value at `key`, marked used in this epoch.
    fn with<T>(&self, key: u64, read: impl FnOnce(&V) -> T) -> Option<T> {
        self.with_at(self.find(key)?, read)
    }

    /// `read` of the value in slot `i`, marked used in this epoch.
    fn with_at<T>(&self, i: usize, read: impl FnOnce(&V) -> T) -> Option<T> {
        let slot = &self.slots[i];
        let stored = slot.key.load(Ordering::Relaxed);
        if stored & EPOCH != self.epoch {
            slot.key
                .store(stored & !EPOCH | self.epoch, Ordering::Relaxed);
        }
        slot.value.as_ref().map(read)
    }

    /// Empties slot `i` and shifts back the entries after it that probed
    /// past it.
    fn remove_at(&mut self, mut i: usize) -> Option<V> {
        let removed = self.slots[i].value.take()?;
        self.len -= 1;
        self.weight -= removed.weight();
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let next = &self.slots[j];
            if next.value.is_none() {
                break;
            }
            let key = next.key.load(Ordering::Relaxed);
            // The entry at `j` may move to `i` unless its home lies
            // cyclically in (i, j].
            let from_home = j.wrapping_sub(home(key, mask)) & mask;
            let from_gap = j.wrapping_sub(i) & mask;
            if from_home >= from_gap {
                self.slots.swap(i, j);
                i = j;
            }
        }
        Some(removed)
    }

    /// Evicts the entry least recently used of those in a window of
    /// slots from a random one (see the module's docs); `false` only if
    /// the shard is empty.
    fn evict_one(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        let mask = self.mask();
        loop {
            // xorshift64: the shard's own sequence.
            self.hand ^= self.hand << 13;
            self.hand ^= self.hand >> 7;
            self.hand ^= self.hand << 17;
            let start = (self.hand as usize) & mask;
            let oldest = (0..WINDOW)
                .map(|d| (start + d) & mask)
                .filter(|&at| self.slots[at].value.is_some())
                .max_by_key(|&at| {
                    let used = self.slots[at].key.load(Ordering::Relaxed) & EPOCH;
                    self.epoch.wrapping_sub(used) & EPOCH
                });
            if let Some(at) = oldest {
                return self.remove_at(at).is_some();
            }
        }
    }

    /// Counts an insert, moving the epoch on every sixteenth of the
    /// shard's entries.
    fn tick(&mut self) {
        self.inserts_in_epoch += 1;
        if self.inserts_in_epoch >= (self.len / 16).max(1) {
            self.inserts_in_epoch = 0;
            self.epoch = (self.epoch + 1) & EPOCH;
        }
    }

    /// Puts `value` in the first empty slot from its key's home; `word`
    /// is the key as stored, its epoch included.
    fn place(&mut self, word: u64, value: V) {
        let mask = self.mask();
        let mut i = home(word, mask);
        while self.slots[i].value.is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot {
            key: AtomicU64::new(word),
            value: Some(value),
        };
        self.len += 1;
    }

    fn grow(&mut self) {
        let doubled = (0..self.slots.len() * 2).map(|_| Slot::empty()).collect();
        let old = std::mem::replace(&mut self.slots, doubled);
        self.len = 0;
        for slot in old {
            if let Some(value) = slot.value {
                self.place(slot.key.into_inner(), value);
            }
        }
    }

    fn remove(&mut self, key: u64) {
        if let Some(i) = self.find(key) {
            self.remove_at(i);
        }
    }

    fn insert(&mut self, key: u64, value: V, budget: u64) {
        self.remove(key);
        let weight = value.weight();
        if weight > budget {
            return;
        }
        while self.weight + weight > budget {
            if !self.evict_one() {
                return;
            }
        }
        if (self.len + 1) * 8 > self.slots.len() * MAX_FILL_EIGHTHS {
            self.grow();
        }
        self.weight += weight;
        self.tick();
        self.place(key & !EPOCH | self.epoch, value);
    }
}

impl<V: Clone + Weigh> EntryTable<V> {
    /// A table of about `budget` bytes (as [`Weigh`] counts them).
    pub(crate) fn new(budget: u64) -> Self {
        let shards = usize::try_from(budget / SHARD_BUDGET_TARGET)
            .unwrap_or(MAX_SHARDS)
            .next_power_of_two()
            .clamp(MIN_SHARDS, MAX_SHARDS);
        EntryTable {
            shards: (0..shards)
                .map(|_| Padded(RwLock::new(Shard::new())))
                .collect(),
            shard_budget: budget / shards as u64,
        }
    }

    fn shard(&self, key: u64) -> &RwLock<Shard<V>> {
        &self.shards[self.shard_index(key)].0
    }

    fn shard_index(&self, key: u64) -> usize {
        // The low 8 bits are the epoch; the next ones choose the shard,
        // and the home slot comes from those above (see `home`).
        (key >> 8) as usize & (self.shards.len() - 1)
    }

    pub(crate) fn get(&self, key: u64) -> Option<V> {
        sync::read(self.shard(key)).with(key, V::clone)
    }

    /// [`EntryTable::get`], or `None` at once if a writer holds the shard.
    pub(crate) fn try_get(&self, key: u64) -> Option<V> {
        self.try_with(key, V::clone)
    }

    /// `read` of the value at `key` where it lies, under the shard's read
    /// lock (so `read` should be short: a copy): no reference count taken
    /// and dropped, two atomic writes on the record's line that every
    /// reader of it shares. `None` at once if a writer holds the shard.
    pub(crate) fn try_with<T>(&self, key: u64, read: impl FnOnce(&V) -> T) -> Option<T> {
        sync::try_read(self.shard(key))?.with(key, read)
    }

    /// [`EntryTable::try_get`] of several keys, in their order, in passes
    /// that each touch every key's memory before the next pass needs it:
    /// the shards' locks, then the slots, then (through `touch`) what the
    /// values point to. On a large table each of those is a miss of the
    /// CPU's caches, a wait of a few hundred nanoseconds for memory (and
    /// for the page table); a look-up after another waits for each in
    /// turn, while independent loads in one pass are in flight together.
    /// (Taking a lock is a full barrier on x86, which waits for every load
    /// before it: so the locks come first, all of them.) A key whose shard
    /// a writer holds is `None` with `wait` false, and with it true is
    /// looked up on its own once every other shard is let go: a reader
    /// holding one shard while it waits for another could close a cycle
    /// with another reader, each queued behind a writer waiting for the
    /// shard the other holds.
    pub(crate) fn get_many(
        &self,
        keys: &[u64],
        wait: bool,
        touch: impl Fn(&V),
    ) -> SmallVec<[Option<V>; 8]> {
        let mut shards: SmallVec<[(usize, RwLockReadGuard<'_, Shard<V>>); 8]> = SmallVec::new();
        let held: SmallVec<[Option<usize>; 8]> = keys
            .iter()
            .map(|&key| {
                let index = self.shard_index(key);
                if let Some(at) = shards.iter().position(|(i, _)| *i == index) {
                    return Some(at);
                }
                shards.push((index, sync::try_read(&self.shards[index].0)?));
                Some(shards.len() - 1)
            })
            .collect();
        let found: SmallVec<[Option<usize>; 8]> = keys
            .iter()
            .zip(&held)
            .map(|(&key, at)| shards[(*at)?].1.find(key))
            .collect();
        for (slot, at) in found.iter().zip(&held) {
            if let (Some(slot), Some(at)) = (slot, at) {
                if let Some(value) = &shards[*at].1.slots[*slot].value {
                    touch(value);
                }
            }
        }
        let mut values: SmallVec<[Option<V>; 8]> = found
            .iter()
            .zip(&held)
            .map(|(slot, at)| shards[(*at)?].1.with_at((*slot)?, V::clone))
            .collect();
        drop(shards);
        if wait {
            for ((value, &key), at) in values.iter_mut().zip(keys).zip(&held) {
                if at.is_none() {
                    *value = self.get(key);
                }
            }
        }
        values
    }

    /// Puts `value` at `key` (replacing what was there), evicting as the
    /// budget requires; a value heavier than a shard's budget is not kept.
    pub(crate) fn insert(&self, key: u64, value: V) {
        sync::write(self.shard(key)).insert(key, value, self.shard_budget);
    }

    pub(crate) fn remove(&self, key: u64) {
        sync::write(self.shard(key)).remove(key);
    }

    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            *sync::write(&shard.0) = Shard::new();
        }
    }

    /// The weight held now.
    pub(crate) fn weight(&self) -> u64 {
        self.shards.iter().map(|s| sync::read(&s.0).weight).sum()
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| sync::read(&s.0).len).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Value(u64, u64);

    impl Weigh for Value {
        fn weight(&self) -> u64 {
            self.1
        }
    }

    /// Keys as the entry cache makes them: random 64-bit words.
    fn keys(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x & !EPOCH
            })
            .collect()
    }

    #[test]
    fn what_goes_in_comes_out_until_removed() {
        let table = EntryTable::new(1 << 30);
        let keys = keys(50_000, 7);
        for (i, &k) in keys.iter().enumerate() {
            table.insert(k, Value(i as u64, 10));
        }
        assert_eq!(table.len(), keys.len());
        assert_eq!(table.weight(), 10 * keys.len() as u64);
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(table.get(k), Some(Value(i as u64, 10)));
        }
        for &k in keys.iter().step_by(2) {
            table.remove(k);
        }
        for (i, &k) in keys.iter().enumerate() {
            let expected = (i % 2 == 1).then_some(Value(i as u64, 10));
            assert_eq!(table.get(k), expected, "key {i}");
        }
        table.insert(keys[1], Value(99, 30));
        assert_eq!(table.get(keys[1]), Some(Value(99, 30)));
        assert_eq!(table.weight(), 10 * (keys.len() as u64 / 2 - 1) + 30);
        table.clear();
        assert_eq!(
            (table.len(), table.weight(), table.get(keys[1])),
            (0, 0, None)
        );
    }

    /// Random inserts, replacements, removals and reads against a map,
    /// in a table small enough that shards wrap around and shift entries
    /// back across their end; nothing evicted (the budget is large).
    #[test]
    fn removals_keep_every_other_entry_findable() {
        let mut model = HashMap::new();
        let mut shard = Shard::new();
        let pool = keys(300, 11);
        let mut x = 12345u64;
        for step in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = pool[(x % pool.len() as u64) as usize];
            match (x >> 32) % 3 {
                0 => {
                    shard.insert(key, Value(step, 1), u64::MAX);
                    model.insert(key, Value(step, 1));
                }
                1 => {
                    shard.remove(key);
                    model.remove(&key);
                }
                _ => assert_eq!(
                    shard.with(key, Value::clone),
                    model.get(&key).cloned(),
                    "step {step}"
                ),
            }
            assert_eq!(shard.len, model.len());
        }
        for (key, value) in &model {
            assert_eq!(shard.with(*key, Value::clone).as_ref(), Some(value));
        }
    }

    #[test]
    fn the_budget_holds_and_read_entries_outlive_unread_ones() {
        let budget = 8 * (MIN_SHARDS as u64) * 100;
        let table = EntryTable::new(budget);
        let keys = keys(10_000, 3);
        let hot: Vec<u64> = keys[..MIN_SHARDS].to_vec();
        for (i, &k) in keys.iter().enumerate() {
            table.insert(k, Value(i as u64, 100));
            assert!(table.weight() <= budget, "{} after {i}", table.weight());
            // The first few are read after every insert.
            for &h in hot.iter().take(i + 1) {
                table.get(h);
            }
        }
        assert!(
            table.len() >= MIN_SHARDS * 4,
            "it does cache: {}",
            table.len()
        );
        let kept = hot.iter().filter(|&&h| table.get(h).is_some()).count();
        assert!(
            kept >= hot.len() - 1,
            "{kept} of {} hot entries kept",
            hot.len()
        );
        let cold = keys[MIN_SHARDS..keys.len() / 2]
            .iter()
            .filter(|&&k| table.get(k).is_some())
            .count();
        assert!(cold < 20, "{cold} old unread entries still held");
        // Heavier than a shard's whole budget: not kept, nothing evicted.
        let before = table.len();
        table.insert(1 << 40, Value(0, budget));
        assert_eq!((table.get(1 << 40), table.len()), (None, before));
    }

    #[test]
    fn try_get_misses_while_a_writer_holds_the_shard() {
        let table = EntryTable::new(1 << 20);
        table.insert(8, Value(1, 1));
        let held = sync::write(table.shard(8));
        assert_eq!(table.try_get(8), None);
        drop(held);
        assert_eq!(table.try_get(8), Some(Value(1, 1)));
    }

    /// Several keys at once answer what a look-up of each does, in their
    /// order: held and absent keys, keys sharing a shard, a key twice;
    /// every value found was touched once, and a key of a shard a writer
    /// holds is `None` unless the look-up may wait.
    #[test]
    fn get_many_answers_what_get_answers_key_by_key() {
        let table = EntryTable::new(1 << 20);
        let pool = keys(2_000, 5);
        for (i, &k) in pool.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
            table.insert(k, Value(i as u64, 1));
        }
        let mut x = 99u64;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let asked: Vec<u64> = (0..(x % 12) as usize)
                .map(|j| pool[((x >> (j * 5)) % pool.len() as u64) as usize])
                .collect();
            let touched = std::cell::Cell::new(0);
            let many = table.get_many(&asked, false, |_| touched.set(touched.get() + 1));
            let one_by_one: Vec<Option<Value>> = asked.iter().map(|&k| table.get(k)).collect();
            assert_eq!(many.to_vec(), one_by_one);
            assert_eq!(touched.get(), one_by_one.iter().flatten().count());
        }
        let (held_key, other) = (pool[1], pool[2]);
        let busy = sync::write(table.shard(held_key));
        let answered = if table.shard_index(other) == table.shard_index(held_key) {
            None
        } else {
            table.get(other)
        };
        assert_eq!(
            table.get_many(&[held_key, other], false, |_| {}).to_vec(),
            vec![None, answered]
        );
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| table.get_many(&[other, held_key], true, |_| {}));
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(busy);
            assert_eq!(
                waiting.join().expect("no panic").to_vec(),
                vec![table.get(other), table.get(held_key)]
            );
        });
    }
}
