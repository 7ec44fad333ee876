//! The software MMU (Intel SDM Vol. 3A §4.3, 32-bit paging; §4.10, TLBs).
//!
//! Linear addresses are translated through a flat shadow TLB indexed by linear page
//! number: each entry is a host page address with permission bits (`jit::abi::tlb`).
//! Entries are filled lazily by walking the guest's page tables, which sets accessed
//! and dirty bits as hardware does; a write permission is granted only once the dirty
//! bit is set, so the first write to a clean page walks again and sets it. The list of
//! filled entries makes flushes cost what was filled, not 8 MiB.

pub mod phys;

use jit::abi::{tlb, TlbEntry};

use crate::cpu::fault::{Fault, Res};
pub use phys::PhysMem;

const PG_P: u32 = 1 << 0;
const PG_RW: u32 = 1 << 1;
const PG_US: u32 = 1 << 2;
const PG_A: u32 = 1 << 5;
const PG_D: u32 = 1 << 6;
const PG_PS: u32 = 1 << 7;
const PG_G: u32 = 1 << 8;

/// #PF error-code bits (SDM Vol. 3A §4.7).
pub const PF_P: u32 = 1 << 0;
pub const PF_W: u32 = 1 << 1;
pub const PF_U: u32 = 1 << 2;
pub const PF_RSVD: u32 = 1 << 3;

/// Bits 21:13 of a 4 MiB PDE are reserved without PSE-36, which this CPU does not
/// report (SDM Vol. 3A Table 4-4).
const PDE4M_RESERVED: u32 = 0x003f_e000;

const PAGES: usize = 1 << 20;

/// The paging controls the MMU follows, copied from CR0/CR3/CR4 on every write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagingMode {
    pub enabled: bool,
    pub wp: bool,
    pub pse: bool,
    pub pge: bool,
    pub cr3: u32,
}

/// TLB statistics, for `--stats` and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct TlbStats {
    pub fills: u64,
    pub flushes: u64,
}

pub struct Mmu {
    pub phys: PhysMem,
    tlb: Vec<TlbEntry>,
    filled: Vec<u32>,
    mode: PagingMode,
    a20_mask: u32,
    pub stats: TlbStats,
}

impl Mmu {
    pub fn new(phys: PhysMem) -> Self {
        Self {
            phys,
            tlb: vec![0; PAGES],
            filled: Vec::new(),
            mode: PagingMode::default(),
            a20_mask: !0,
            stats: TlbStats::default(),
        }
    }

    pub fn mode(&self) -> PagingMode {
        self.mode
    }

    /// Installs new paging controls from CR0/CR4; a change of PG, WP, PSE or PGE drops
    /// every shadow entry (SDM Vol. 3A §4.10.4.1).
    pub fn set_mode(&mut self, mode: PagingMode) {
        let old = self.mode;
        self.mode = mode;
        if old != mode {
            self.flush_all();
        }
    }

    /// MOV to CR3: new page-directory base; global entries survive.
    pub fn write_cr3(&mut self, cr3: u32) {
        self.mode.cr3 = cr3;
        self.flush_non_global();
    }

    pub fn a20_enabled(&self) -> bool {
        self.a20_mask == !0
    }

    pub fn set_a20(&mut self, enabled: bool) {
        let mask = if enabled { !0 } else { !(1 << 20) };
        if mask != self.a20_mask {
            self.a20_mask = mask;
            self.flush_all();
        }
    }

    /// Drops every shadow entry.
    pub fn flush_all(&mut self) {
        self.stats.flushes += 1;
        for &page in &self.filled {
            self.tlb[page as usize] = 0;
        }
        self.filled.clear();
    }

    /// Drops the entries not marked global (a CR3 write).
    pub fn flush_non_global(&mut self) {
        self.stats.flushes += 1;
        let tlb = &mut self.tlb;
        self.filled.retain(|&page| {
            let e = &mut tlb[page as usize];
            if *e & tlb::GLOBAL != 0 {
                true
            } else {
                *e = 0;
                false
            }
        });
    }

    /// INVLPG: drops the entry for one linear page, global or not.
    pub fn invalidate_page(&mut self, lin: u32) {
        let page = lin >> 12;
        if self.tlb[page as usize] != 0 {
            self.tlb[page as usize] = 0;
            self.filled.retain(|&p| p != page);
        }
    }

    /// Puts the RAM page holding physical address `pa` in the has-code set and takes
    /// write permission away from every shadow entry mapping it (any linear alias), so
    /// writes to it take the slow path. Returns false if `pa` is not RAM.
    pub fn mark_code(&mut self, pa: u32) -> bool {
        if !self.phys.mark_code(pa) {
            return false;
        }
        if let Some((host, _)) = self.phys.host_page(pa) {
            let host = host as usize;
            for &page in &self.filled {
                let e = &mut self.tlb[page as usize];
                if *e & tlb::PAGE_MASK == host {
                    *e &= !(tlb::WRITE_SUPER | tlb::WRITE_USER);
                }
            }
        }
        true
    }

    /// Base of the shadow TLB (1 Mi entries), for translated code's inline hit test.
    /// The table is allocated once and never moves.
    pub fn tlb_base(&self) -> *const TlbEntry {
        self.tlb.as_ptr()
    }

    /// The raw shadow entry for a linear address (the JIT inlines this test).
    #[inline]
    pub fn entry(&self, lin: u32) -> TlbEntry {
        self.tlb[(lin >> 12) as usize]
    }

    /// Host pointer for `len` bytes at `lin` when the shadow TLB grants `bit` and the
    /// access stays inside one page.
    #[inline]
    fn fast(&self, lin: u32, len: u32, bit: usize) -> Option<*mut u8> {
        let e = self.tlb[(lin >> 12) as usize];
        if e & bit != 0 && (lin & 0xfff) + len <= 0x1000 {
            Some(((e & tlb::PAGE_MASK) + (lin & 0xfff) as usize) as *mut u8)
        } else {
            None
        }
    }

    fn set_entry(&mut self, page: u32, entry: TlbEntry) {
        let slot = &mut self.tlb[page as usize];
        if *slot == 0 {
            self.filled.push(page);
        }
        *slot = entry;
        self.stats.fills += 1;
    }

    /// Translates a linear address for an access, walking the page tables and filling
    /// the shadow TLB. Returns the physical address (A20 applied).
    pub fn translate(&mut self, lin: u32, write: bool, user: bool) -> Res<u32> {
        if !self.mode.enabled {
            let pa = lin & self.a20_mask;
            self.fill(
                lin,
                pa,
                tlb::READ_SUPER | tlb::WRITE_SUPER | tlb::READ_USER | tlb::WRITE_USER,
            );
            return Ok(pa);
        }
        self.walk(lin, write, user)
    }

    fn fill(&mut self, lin: u32, pa: u32, perms: usize) {
        if let Some((host, writable)) = self.phys.host_page(pa) {
            // Pages holding translated code are never written through the shadow TLB:
            // the slow path sees the write and the JIT invalidates (has-code bit).
            let perms = if writable && !self.phys.is_code(pa) && !self.phys.write_log_active() {
                perms
            } else {
                perms & (tlb::READ_SUPER | tlb::READ_USER | tlb::GLOBAL)
            };
            self.set_entry(lin >> 12, host as usize | perms);
        }
    }

    fn walk(&mut self, lin: u32, write: bool, user: bool) -> Res<u32> {
        let a20 = self.a20_mask;
        let pde_addr = ((self.mode.cr3 & !0xfff) | ((lin >> 22) << 2)) & a20;
        let pde = self.phys.read_u32(pde_addr);
        let fault = |present: bool| Fault::Pf {
            addr: lin,
            code: ((present as u32) * PF_P) | ((write as u32) * PF_W) | ((user as u32) * PF_U),
        };
        if pde & PG_P == 0 {
            return Err(fault(false));
        }
        let large = pde & PG_PS != 0 && self.mode.pse;
        if large && pde & PDE4M_RESERVED != 0 {
            return Err(Fault::Pf {
                addr: lin,
                code: PF_RSVD | PF_P | ((write as u32) * PF_W) | ((user as u32) * PF_U),
            });
        }
        let (pte_addr, pte) = if large {
            (pde_addr, pde)
        } else {
            let addr = ((pde & !0xfff) | ((lin >> 10) & 0xffc)) & a20;
            let pte = self.phys.read_u32(addr);
            if pte & PG_P == 0 {
                return Err(fault(false));
            }
            (addr, pte)
        };
        let user_ok = pde & pte & PG_US != 0;
        let rw_ok = pde & pte & PG_RW != 0;
        if user && !user_ok {
            return Err(fault(true));
        }
        if write && !rw_ok && (user || self.mode.wp) {
            return Err(fault(true));
        }
        // Accessed bits on both levels, dirty on the leaf for writes.
        if !large && pde & PG_A == 0 {
            self.phys.write_u32(pde_addr, pde | PG_A);
        }
        let mut leaf = pte | PG_A;
        if write {
            leaf |= PG_D;
        }
        if leaf != pte {
            self.phys.write_u32(pte_addr, leaf);
        }
        let pa = if large {
            (pte & 0xffc0_0000) | (lin & 0x003f_ffff)
        } else {
            (pte & !0xfff) | (lin & 0xfff)
        } & a20;

        let dirty = leaf & PG_D != 0;
        let mut perms = tlb::READ_SUPER;
        if dirty && (rw_ok || !self.mode.wp) {
            perms |= tlb::WRITE_SUPER;
        }
        if user_ok {
            perms |= tlb::READ_USER;
            if dirty && rw_ok {
                perms |= tlb::WRITE_USER;
            }
        }
        if self.mode.pge && pte & PG_G != 0 {
            perms |= tlb::GLOBAL;
        }
        self.fill(lin, pa, perms);
        Ok(pa)
    }

    // ---- linear-address accesses: the interpreter's view of memory ----

    #[inline]
    pub fn read_u8(&mut self, lin: u32, user: bool) -> Res<u8> {
        if let Some(p) = self.fast(lin, 1, perm_bit(false, user)) {
            // SAFETY: `fast` returned a pointer into a live RAM/ROM map with 1 byte in the page.
            return Ok(unsafe { *p });
        }
        let pa = self.translate(lin, false, user)?;
        Ok(self.phys.read_u8(pa))
    }

    #[inline]
    pub fn read_u16(&mut self, lin: u32, user: bool) -> Res<u16> {
        if let Some(p) = self.fast(lin, 2, perm_bit(false, user)) {
            // SAFETY: `fast` checked that both bytes lie in one mapped host page.
            return Ok(unsafe { (p as *const u16).read_unaligned() });
        }
        Ok(self.read_slow(lin, 2, user)? as u16)
    }

    #[inline]
    pub fn read_u32(&mut self, lin: u32, user: bool) -> Res<u32> {
        if let Some(p) = self.fast(lin, 4, perm_bit(false, user)) {
            // SAFETY: `fast` checked that all four bytes lie in one mapped host page.
            return Ok(unsafe { (p as *const u32).read_unaligned() });
        }
        self.read_slow(lin, 4, user)
    }

    fn read_slow(&mut self, lin: u32, len: u32, user: bool) -> Res<u32> {
        let first = self.translate(lin, false, user)?;
        let end = lin.wrapping_add(len - 1);
        let second = if (end ^ lin) & !0xfff != 0 {
            Some(self.translate(end & !0xfff, false, user)?)
        } else {
            None
        };
        let Some(p2) = second else {
            // One page: a single access, so a device register sees its real width.
            return Ok(self.phys.read(first, len));
        };
        let mut v = 0;
        for i in 0..len {
            let a = lin.wrapping_add(i);
            let pa = if (a ^ lin) & !0xfff != 0 {
                p2 | (a & 0xfff)
            } else {
                first.wrapping_add(i)
            };
            v |= (self.phys.read_u8(pa) as u32) << (8 * i);
        }
        Ok(v)
    }

    #[inline]
    pub fn write_u8(&mut self, lin: u32, v: u8, user: bool) -> Res<()> {
        if let Some(p) = self.fast(lin, 1, perm_bit(true, user)) {
            // SAFETY: `fast` granted write access to a RAM page holding this byte.
            unsafe { *p = v };
            return Ok(());
        }
        self.write_slow(lin, 1, v as u32, user)
    }

    #[inline]
    pub fn write_u16(&mut self, lin: u32, v: u16, user: bool) -> Res<()> {
        if let Some(p) = self.fast(lin, 2, perm_bit(true, user)) {
            // SAFETY: `fast` granted write access to a RAM page holding both bytes.
            unsafe { (p as *mut u16).write_unaligned(v) };
            return Ok(());
        }
        self.write_slow(lin, 2, v as u32, user)
    }

    #[inline]
    pub fn write_u32(&mut self, lin: u32, v: u32, user: bool) -> Res<()> {
        if let Some(p) = self.fast(lin, 4, perm_bit(true, user)) {
            // SAFETY: `fast` granted write access to a RAM page holding all four bytes.
            unsafe { (p as *mut u32).write_unaligned(v) };
            return Ok(());
        }
        self.write_slow(lin, 4, v, user)
    }

    /// Writes that miss, cross a page or hit ROM/unassigned space. Both pages are
    /// translated before any byte is written, so a fault leaves memory untouched.
    fn write_slow(&mut self, lin: u32, len: u32, v: u32, user: bool) -> Res<()> {
        let first = self.translate(lin, true, user)?;
        let end = lin.wrapping_add(len - 1);
        let second = if (end ^ lin) & !0xfff != 0 {
            Some(self.translate(end & !0xfff, true, user)?)
        } else {
            None
        };
        let Some(p2) = second else {
            self.phys.write(first, len, v);
            return Ok(());
        };
        for i in 0..len {
            let a = lin.wrapping_add(i);
            let pa = if (a ^ lin) & !0xfff != 0 {
                p2 | (a & 0xfff)
            } else {
                first.wrapping_add(i)
            };
            self.phys.write_u8(pa, (v >> (8 * i)) as u8);
        }
        Ok(())
    }

    /// Checks that `len` bytes at `lin` can be written, without writing (used before
    /// multi-part stores that must not be torn by a fault).
    pub fn probe_write(&mut self, lin: u32, len: u32, user: bool) -> Res<()> {
        if self.fast(lin, len, perm_bit(true, user)).is_some() {
            return Ok(());
        }
        self.translate(lin, true, user)?;
        let end = lin.wrapping_add(len - 1);
        if (end ^ lin) & !0xfff != 0 {
            self.translate(end & !0xfff, true, user)?;
        }
        Ok(())
    }

    /// Host pointer to `lin` and the bytes left in its page, when the shadow TLB grants a
    /// read at this privilege (the decoded-instruction cache checks code through this).
    #[inline]
    pub fn code_ptr(&self, lin: u32, user: bool) -> Option<(*const u8, usize)> {
        let e = self.tlb[(lin >> 12) as usize];
        if e & perm_bit(false, user) != 0 {
            let off = (lin & 0xfff) as usize;
            Some((((e & tlb::PAGE_MASK) + off) as *const u8, 0x1000 - off))
        } else {
            None
        }
    }

    /// Bytes at `lin` for instruction fetch, up to the end of its page: a slice of host
    /// memory when the page is RAM/ROM, or a copy for unassigned space.
    pub fn fetch_page(&mut self, lin: u32, user: bool, buf: &mut [u8; 16]) -> Res<usize> {
        let n = (0x1000 - (lin & 0xfff)).min(16) as usize;
        if let Some(p) = self.fast(lin, n as u32, perm_bit(false, user)) {
            // SAFETY: `fast` checked that `n` bytes from `p` lie in one mapped host page.
            let src = unsafe { std::slice::from_raw_parts(p, n) };
            buf[..n].copy_from_slice(src);
            return Ok(n);
        }
        let pa = self.translate(lin, false, user)?;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = self.phys.read_u8(pa + i as u32);
        }
        Ok(n)
    }
}

#[inline]
fn perm_bit(write: bool, user: bool) -> usize {
    match (write, user) {
        (false, false) => tlb::READ_SUPER,
        (true, false) => tlb::WRITE_SUPER,
        (false, true) => tlb::READ_USER,
        (true, true) => tlb::WRITE_USER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmu() -> Mmu {
        Mmu::new(PhysMem::new(8 << 20, &[]).unwrap())
    }

    /// Page directory at 0x1000, one page table at 0x2000.
    fn paged(pde_flags: u32, pte_flags: u32, wp: bool) -> Mmu {
        let mut m = mmu();
        m.phys.write_u32(0x1000, 0x2000 | pde_flags);
        m.phys.write_u32(0x2000 + 4 * 5, 0x7000 | pte_flags); // lin 0x5000 -> 0x7000
        m.set_mode(PagingMode {
            enabled: true,
            wp,
            cr3: 0x1000,
            ..Default::default()
        });
        m
    }

    #[test]
    fn unpaged_access_is_identity() {
        let mut m = mmu();
        m.write_u32(0x1234, 0xcafe_babe, false).unwrap();
        assert_eq!(m.read_u32(0x1234, true).unwrap(), 0xcafe_babe);
        assert_eq!(m.phys.read_u32(0x1234), 0xcafe_babe);
    }

    #[test]
    fn walk_sets_accessed_then_dirty() {
        let mut m = paged(PG_P | PG_RW | PG_US, PG_P | PG_RW | PG_US, false);
        m.read_u8(0x5010, false).unwrap();
        assert_eq!(m.phys.read_u32(0x2014) & (PG_A | PG_D), PG_A);
        assert_eq!(m.phys.read_u32(0x1000) & PG_A, PG_A);
        m.write_u8(0x5010, 9, false).unwrap();
        assert_eq!(m.phys.read_u32(0x2014) & (PG_A | PG_D), PG_A | PG_D);
        assert_eq!(m.phys.read_u8(0x7010), 9);
    }

    #[test]
    fn page_fault_codes() {
        let mut m = paged(PG_P | PG_RW | PG_US, PG_P | PG_US, true);
        assert_eq!(
            m.read_u8(0x6000, false),
            Err(Fault::Pf {
                addr: 0x6000,
                code: 0
            })
        );
        assert_eq!(
            m.write_u8(0x6004, 0, true),
            Err(Fault::Pf {
                addr: 0x6004,
                code: PF_W | PF_U
            })
        );
        assert_eq!(
            m.write_u8(0x5004, 0, false),
            Err(Fault::Pf {
                addr: 0x5004,
                code: PF_P | PF_W
            })
        );
        let mut m = paged(PG_P | PG_RW, PG_P | PG_RW, true);
        assert_eq!(
            m.read_u8(0x5000, true),
            Err(Fault::Pf {
                addr: 0x5000,
                code: PF_P | PF_U
            })
        );
    }

    #[test]
    fn four_megabyte_pages_and_their_reserved_bits() {
        let mut m = mmu();
        m.phys
            .write_u32(0x1000 + 4, 0x0040_0000 | PG_P | PG_RW | PG_PS); // 4M..8M identity
        m.phys
            .write_u32(0x1000 + 8, 0x0040_0000 | (1 << 13) | PG_P | PG_PS);
        m.set_mode(PagingMode {
            enabled: true,
            pse: true,
            cr3: 0x1000,
            ..Default::default()
        });
        m.write_u8(0x0040_1234, 7, false).unwrap();
        assert_eq!(m.phys.read_u8(0x0040_1234), 7);
        assert_eq!(m.phys.read_u32(0x1004) & (PG_A | PG_D), PG_A | PG_D);
        assert_eq!(
            m.read_u8(0x0080_0000, true),
            Err(Fault::Pf {
                addr: 0x0080_0000,
                code: PF_RSVD | PF_P | PF_U
            })
        );
    }

    #[test]
    fn mmio_is_never_cached_and_sees_whole_accesses() {
        use std::cell::RefCell;
        use std::rc::Rc;
        struct Regs(Vec<(u32, u8, u32)>);
        impl devices::BusDevice for Regs {
            fn read(&mut self, offset: u32, size: u8) -> u32 {
                self.0.push((offset, size, 0));
                0x1234_5678
            }
            fn write(&mut self, offset: u32, size: u8, value: u32) {
                self.0.push((offset, size, value));
            }
            fn name(&self) -> &str {
                "regs"
            }
        }
        let dev = Rc::new(RefCell::new(Regs(Vec::new())));
        let mut m = mmu();
        m.phys.mmio.register(0x0010_0000, 0x100, dev.clone());
        assert_eq!(m.read_u32(0x0010_0010, false).unwrap(), 0x1234_5678);
        m.write_u16(0x0010_0020, 0xbeef, false).unwrap();
        assert_eq!(m.read_u32(0x0010_0010, false).unwrap(), 0x1234_5678);
        assert_eq!(
            m.entry(0x0010_0000),
            0,
            "device pages stay out of the shadow TLB"
        );
        assert_eq!(
            dev.borrow().0,
            vec![(0x10, 4, 0), (0x20, 2, 0xbeef), (0x10, 4, 0)]
        );
        // RAM next to the device is still RAM.
        m.write_u32(0x0010_1000, 5, false).unwrap();
        assert_eq!(m.read_u32(0x0010_1000, false).unwrap(), 5);
    }

    #[test]
    fn wp_clear_lets_supervisor_write_read_only() {
        let mut m = paged(PG_P | PG_US, PG_P | PG_US, false);
        m.write_u8(0x5000, 1, false).unwrap();
        assert_eq!(
            m.write_u8(0x5000, 1, true),
            Err(Fault::Pf {
                addr: 0x5000,
                code: PF_P | PF_W | PF_U
            })
        );
    }

    #[test]
    fn cr3_write_keeps_global_entries() {
        let mut m = paged(PG_P | PG_RW, PG_P | PG_RW | PG_G, false);
        let mut mode = m.mode();
        mode.pge = true;
        m.set_mode(mode);
        m.read_u8(0x5000, false).unwrap();
        assert_ne!(m.entry(0x5000), 0);
        m.write_cr3(0x1000); // same CR3 written again
        assert_ne!(m.entry(0x5000), 0);
        m.invalidate_page(0x5000);
        assert_eq!(m.entry(0x5000), 0);
    }

    #[test]
    fn page_crossing_write_faults_before_writing() {
        let mut m = paged(PG_P | PG_RW, PG_P | PG_RW, false);
        // 0x5ffe..0x6001 crosses into the unmapped page 0x6000.
        assert!(m.write_u32(0x5ffe, 0xffff_ffff, false).is_err());
        assert_eq!(m.phys.read_u32(0x7ffc), 0);
    }

    #[test]
    fn a20_wraps_at_one_megabyte() {
        let mut m = mmu();
        m.set_a20(false);
        m.write_u8(0x10_0005, 0x5a, false).unwrap();
        assert_eq!(m.phys.read_u8(5), 0x5a);
    }
}
