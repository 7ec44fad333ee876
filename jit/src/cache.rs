//! The code cache (DESIGN.md, "Data flow", step 3): translated blocks in one memmap2
//! region that is never writable and executable at once (mapped RW to copy a block in,
//! then RX again), keyed by (physical address of the first byte, EIP, mode key), with a
//! per-physical-page list of blocks for invalidation when guest code is written, and a
//! flush of everything when the region is full (nothing leaks: the region is reused).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use memmap2::{Mmap, MmapMut};

use crate::abi::CpuState;

/// What a block is translated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockKey {
    /// Physical address of the block's first byte (ROM pages by their address below
    /// 4 GiB).
    pub phys: u32,
    pub eip: u32,
    /// `frontend::Mode::key`.
    pub mode: u16,
}

/// A multiply-rotate hash for block keys (the std SipHash costs more than the lookup it
/// serves; keys come from the guest but only decide bucket spread, never memory safety).
#[derive(Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl KeyHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.mix(b as u64);
        }
    }
    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.mix(n as u64);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.mix(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap<V> = HashMap<BlockKey, V, BuildHasherDefault<KeyHasher>>;

/// A cached block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Offset of its host code in the region; `None` for an empty block (the first
    /// instruction must run in the interpreter).
    pub code: Option<usize>,
    /// Guest instructions it retires when it runs to its end.
    pub insns: u32,
    /// Guest code bytes it covers.
    pub bytes: u32,
    /// Of `insns`, how many the interpreter runs.
    pub fallbacks: u32,
    /// Region offset of the chain entry (linked exits jump there).
    pub chain: Option<usize>,
}

/// A translated block's entry point.
pub type BlockFn = unsafe extern "sysv64" fn(*mut CpuState) -> u32;

/// Counters for `--stats` and the benches.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    pub lookups: u64,
    pub hits: u64,
    pub translated: u64,
    /// Blocks dropped because their guest code was written.
    pub invalidated: u64,
    /// Whole-cache flushes (region full, or asked for).
    pub flushes: u64,
    /// Exits linked straight to their next block.
    pub links: u64,
    /// Host code bytes emitted.
    pub code_bytes: u64,
}

#[derive(Debug)]
pub enum CacheError {
    Map(std::io::Error),
    TooBig(usize),
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Map(e) => write!(f, "code cache: cannot map or protect memory: {e}"),
            CacheError::TooBig(n) => write!(f, "code cache: a {n}-byte block does not fit"),
        }
    }
}

impl std::error::Error for CacheError {}

/// Slots of the direct-mapped lookup cache in front of the hash map.
const FAST_SLOTS: usize = 4096;

#[inline]
fn fast_slot(k: &BlockKey) -> usize {
    ((k.eip ^ (k.phys >> 5) ^ ((k.mode as u32) << 7)) as usize) & (FAST_SLOTS - 1)
}

pub struct CodeCache {
    /// The most recent block per slot, checked before the hash map.
    fast: Box<[Option<(BlockKey, Block)>]>,
    /// The region, executable; `None` only while a copy is in progress.
    region: Option<Mmap>,
    size: usize,
    used: usize,
    blocks: KeyMap<Block>,
    by_page: HashMap<u32, Vec<BlockKey>, BuildHasherDefault<KeyHasher>>,
    pub stats: CacheStats,
}

impl CodeCache {
    /// A cache with `size` bytes of host code space.
    pub fn new(size: usize) -> Result<Self, CacheError> {
        let map = MmapMut::map_anon(size).map_err(CacheError::Map)?;
        let exec = map.make_exec().map_err(CacheError::Map)?;
        Ok(Self {
            fast: vec![None; FAST_SLOTS].into_boxed_slice(),
            region: Some(exec),
            size,
            used: 0,
            blocks: KeyMap::default(),
            by_page: HashMap::default(),
            stats: CacheStats::default(),
        })
    }

    /// The block for `key`, if translated (counted as a lookup).
    #[inline]
    pub fn lookup(&mut self, key: &BlockKey) -> Option<Block> {
        self.stats.lookups += 1;
        let slot = fast_slot(key);
        if let Some((k, b)) = &self.fast[slot] {
            if k == key {
                self.stats.hits += 1;
                return Some(*b);
            }
        }
        let b = self.blocks.get(key).copied();
        if let Some(b) = b {
            self.stats.hits += 1;
            self.fast[slot] = Some((*key, b));
        }
        b
    }

    /// Number of blocks held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Host code bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Adds a block with its host code (`None` for an empty block). Flushes everything
    /// first when the region is full.
    pub fn insert(
        &mut self,
        key: BlockKey,
        code: Option<(&[u8], usize)>,
        insns: u32,
        bytes: u32,
        fallbacks: u32,
    ) -> Result<Block, CacheError> {
        let chain_entry = code.map(|(_, c)| c);
        let code = code.map(|(c, _)| c);
        let offset = match code {
            None => None,
            Some(c) => {
                if c.len() > self.size {
                    return Err(CacheError::TooBig(c.len()));
                }
                // 16-byte aligned starts.
                let start = self.used.div_ceil(16) * 16;
                let start = if start + c.len() > self.size {
                    self.flush();
                    0
                } else {
                    start
                };
                self.write(start, c)?;
                self.used = start + c.len();
                self.stats.code_bytes += c.len() as u64;
                Some(start)
            }
        };
        let b = Block {
            code: offset,
            insns,
            bytes,
            fallbacks,
            chain: offset.zip(chain_entry).map(|(o, c)| o + c),
        };
        self.stats.translated += 1;
        self.blocks.insert(key, b);
        self.by_page.entry(key.phys >> 12).or_default().push(key);
        Ok(b)
    }

    /// Copies `code` to `start`: RX -> RW, copy, RW -> RX.
    fn write(&mut self, start: usize, code: &[u8]) -> Result<(), CacheError> {
        let Some(x) = self.region.take() else {
            return Err(CacheError::Map(std::io::Error::other("region lost")));
        };
        let mut map: MmapMut = x.make_mut().map_err(CacheError::Map)?;
        map[start..start + code.len()].copy_from_slice(code);
        self.region = Some(map.make_exec().map_err(CacheError::Map)?);
        Ok(())
    }

    /// The entry point of a block's host code.
    pub fn entry(&self, b: &Block) -> Option<BlockFn> {
        let off = b.code?;
        match &self.region {
            Some(x) if off < x.len() => {
                // SAFETY: `off` is the start of a complete function copied in by
                // `insert`; callers take `Block`s fresh from `lookup`/`insert`, so no
                // flush has reused its bytes since; the region is mapped executable.
                Some(unsafe { std::mem::transmute::<*const u8, BlockFn>(x.as_ptr().add(off)) })
            }
            _ => None,
        }
    }

    /// Links an exit: the rel32 field at host address `field` (from `JitLink::last_exit`)
    /// becomes a jump to `target`'s chain entry. Refused (false) unless the field lies
    /// in the code written so far and the target has code.
    pub fn link(&mut self, field: usize, target: &Block) -> Result<bool, CacheError> {
        let Some(to) = target.chain else {
            return Ok(false);
        };
        let Some(base) = self.region.as_ref().map(|x| x.as_ptr() as usize) else {
            return Ok(false);
        };
        let Some(at) = field.checked_sub(base) else {
            return Ok(false);
        };
        if at < 1 || at + 4 > self.used || to >= self.used {
            return Ok(false);
        }
        let rel = (to as i64 - (at as i64 + 4)) as i32;
        let now = self
            .region
            .as_ref()
            .map(|x| i32::from_le_bytes([x[at], x[at + 1], x[at + 2], x[at + 3]]));
        if now == Some(rel) {
            return Ok(true);
        }
        self.write(at, &rel.to_le_bytes())?;
        self.stats.links += 1;
        Ok(true)
    }

    /// Drops the blocks whose code starts in physical page `page` (a page number).
    /// Returns how many were dropped.
    pub fn invalidate_page(&mut self, page: u32) -> usize {
        let Some(keys) = self.by_page.remove(&page) else {
            return 0;
        };
        let mut n = 0;
        for k in keys {
            let slot = &mut self.fast[fast_slot(&k)];
            if slot.is_some_and(|(f, _)| f == k) {
                *slot = None;
            }
            if self.blocks.remove(&k).is_some() {
                n += 1;
            }
        }
        self.stats.invalidated += n as u64;
        n
    }

    /// True if some block starts in physical page `page`.
    pub fn has_page(&self, page: u32) -> bool {
        self.by_page.contains_key(&page)
    }

    /// Drops every block and reuses the whole region.
    pub fn flush(&mut self) {
        self.fast.iter_mut().for_each(|e| *e = None);
        self.blocks.clear();
        self.by_page.clear();
        self.used = 0;
        self.stats.flushes += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(phys: u32) -> BlockKey {
        BlockKey {
            phys,
            eip: phys,
            mode: 0,
        }
    }

    #[test]
    fn insert_lookup_invalidate_and_flush_when_full() {
        let mut c = CodeCache::new(4096).unwrap();
        let b = c
            .insert(key(0x1000), Some((&[0xc3; 100], 0)), 3, 10, 0)
            .unwrap();
        assert_eq!(b.code, Some(0));
        assert!(c.entry(&b).is_some());
        assert_eq!(c.lookup(&key(0x1000)), Some(b));
        assert_eq!(c.lookup(&key(0x2000)), None);
        assert_eq!((c.stats.lookups, c.stats.hits), (2, 1));
        let b2 = c
            .insert(key(0x1010), Some((&[0xc3; 100], 0)), 1, 1, 0)
            .unwrap();
        assert_eq!(b2.code, Some(112), "16-byte aligned after the first");
        assert_eq!(c.invalidate_page(1), 2);
        assert!(c.lookup(&key(0x1000)).is_none());
        // Filling the region flushes it and starts again at 0.
        for n in 0..40 {
            c.insert(key(0x10_0000 + n * 16), Some((&[0xc3; 200], 0)), 1, 1, 0)
                .unwrap();
        }
        assert!(c.stats.flushes >= 1);
        assert!(c.used() <= 4096);
    }

    #[test]
    fn emitted_code_runs() {
        // mov eax, 7 ; ret
        let mut c = CodeCache::new(4096).unwrap();
        let b = c
            .insert(key(0), Some((&[0xb8, 7, 0, 0, 0, 0xc3], 0)), 1, 1, 0)
            .unwrap();
        let f = c.entry(&b).unwrap();
        let mut s = CpuState::default();
        // SAFETY: the block is a complete function that touches nothing.
        assert_eq!(unsafe { f(&mut s) }, 7);
    }
}
