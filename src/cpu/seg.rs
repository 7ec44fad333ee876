//! Segmentation (Intel SDM Vol. 3A ch. 3 and §5.1–5.8): descriptors, segment-register
//! loads with their privilege checks, and the real/virtual-8086 forms.

use jit::abi::{Segment, SS};

use super::fault::{Fault, Res};
use super::Cpu;

/// Bits of `Segment::attr` (the descriptor's access byte, and its flags nibble << 8).
pub mod attr {
    pub const ACCESSED: u16 = 1 << 0;
    /// Data: writable. Code: readable.
    pub const RW: u16 = 1 << 1;
    /// Data: expand-down. Code: conforming.
    pub const EXPAND_DOWN: u16 = 1 << 2;
    pub const CONFORMING: u16 = 1 << 2;
    pub const CODE: u16 = 1 << 3;
    /// Code/data (1) versus system (0) descriptor.
    pub const S: u16 = 1 << 4;
    pub const DPL_SHIFT: u16 = 5;
    pub const P: u16 = 1 << 7;
    pub const AVL: u16 = 1 << 12;
    pub const DB: u16 = 1 << 14;
    pub const G: u16 = 1 << 15;
}

/// System-descriptor types (SDM Vol. 3A Table 3-2).
pub mod systype {
    pub const TSS16_AVAIL: u8 = 1;
    pub const LDT: u8 = 2;
    pub const TSS16_BUSY: u8 = 3;
    pub const CALL_GATE16: u8 = 4;
    pub const TASK_GATE: u8 = 5;
    pub const INT_GATE16: u8 = 6;
    pub const TRAP_GATE16: u8 = 7;
    pub const TSS32_AVAIL: u8 = 9;
    pub const TSS32_BUSY: u8 = 11;
    pub const CALL_GATE32: u8 = 12;
    pub const INT_GATE32: u8 = 14;
    pub const TRAP_GATE32: u8 = 15;
}

/// A raw 8-byte descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Desc {
    pub lo: u32,
    pub hi: u32,
}

impl Desc {
    pub fn base(self) -> u32 {
        (self.lo >> 16) | ((self.hi & 0xff) << 16) | (self.hi & 0xff00_0000)
    }
    pub fn limit(self) -> u32 {
        let raw = (self.lo & 0xffff) | (self.hi & 0xf_0000);
        if self.hi & (1 << 23) != 0 {
            (raw << 12) | 0xfff
        } else {
            raw
        }
    }
    pub fn attr(self) -> u16 {
        ((self.hi >> 8) & 0xf0ff) as u16
    }
    pub fn present(self) -> bool {
        self.hi & (1 << 15) != 0
    }
    pub fn dpl(self) -> u32 {
        (self.hi >> 13) & 3
    }
    /// Code or data (S=1).
    pub fn is_seg(self) -> bool {
        self.hi & (1 << 12) != 0
    }
    pub fn is_code(self) -> bool {
        self.is_seg() && self.hi & (1 << 11) != 0
    }
    pub fn conforming(self) -> bool {
        self.is_code() && self.hi & (1 << 10) != 0
    }
    /// Data: writable; code: readable.
    pub fn rw(self) -> bool {
        self.hi & (1 << 9) != 0
    }
    /// System-descriptor type (low 4 bits of the type field).
    pub fn systype(self) -> u8 {
        ((self.hi >> 8) & 0xf) as u8
    }
    pub fn gate_selector(self) -> u16 {
        (self.lo >> 16) as u16
    }
    pub fn gate_offset(self) -> u32 {
        (self.lo & 0xffff) | (self.hi & 0xffff_0000)
    }
    pub fn gate_params(self) -> u32 {
        self.hi & 0x1f
    }
    /// The segment-register cache this descriptor loads with `selector`.
    pub fn cache(self, selector: u16) -> Segment {
        Segment {
            selector,
            attr: self.attr(),
            base: self.base(),
            limit: self.limit(),
        }
    }
}

/// "real", "protected", "v8086" for state dumps.
pub fn describe_mode(cpu: &Cpu) -> &'static str {
    if !cpu.protected() {
        "real"
    } else if cpu.v86() {
        "v8086"
    } else {
        "protected"
    }
}

impl Cpu {
    /// Reads the descriptor a selector names, from the GDT or LDT. `err` builds the fault
    /// (with the selector's index bits) for a selector outside its table.
    pub(crate) fn read_desc(&mut self, sel: u16, err: fn(u16) -> Fault) -> Res<Desc> {
        let (base, limit) = if sel & 4 != 0 {
            let l = self.s.ldtr;
            if l.attr & attr::P == 0 || l.selector & !3 == 0 {
                return Err(err(sel & 0xfffc));
            }
            (l.base, l.limit)
        } else {
            (self.s.gdtr.base, self.s.gdtr.limit)
        };
        let off = (sel & !7) as u32;
        if off + 7 > limit {
            return Err(err(sel & 0xfffc));
        }
        let lin = base.wrapping_add(off);
        Ok(Desc {
            lo: self.read_sys(lin, 4)?,
            hi: self.read_sys(lin.wrapping_add(4), 4)?,
        })
    }

    /// Writes back the high dword of a descriptor (accessed/busy bits).
    pub(crate) fn write_desc_hi(&mut self, sel: u16, hi: u32) -> Res<()> {
        let base = if sel & 4 != 0 {
            self.s.ldtr.base
        } else {
            self.s.gdtr.base
        };
        let lin = base.wrapping_add((sel & !7) as u32 + 4);
        self.write_sys(lin, 4, hi)
    }

    /// Sets the accessed bit of a code/data descriptor if it is clear.
    pub(crate) fn touch_desc(&mut self, sel: u16, d: Desc) -> Res<()> {
        if d.hi & (1 << 8) == 0 {
            self.write_desc_hi(sel, d.hi | (1 << 8))?;
        }
        Ok(())
    }

    /// Loads a segment register the way MOV/POP/LxS do, in every mode.
    pub(crate) fn load_seg(&mut self, seg: usize, sel: u16) -> Res<()> {
        if !self.pmode() {
            self.load_seg_real(seg, sel);
            return Ok(());
        }
        let cache = self.check_data_seg(seg, sel)?;
        self.s.seg[seg] = cache;
        Ok(())
    }

    /// Real-mode and virtual-8086 loads: only the base changes in real mode (the cached
    /// limit and attributes persist — "unreal" mode); V8086 loads a 64 KiB DPL-3 segment.
    pub(crate) fn load_seg_real(&mut self, seg: usize, sel: u16) {
        let s = &mut self.s.seg[seg];
        s.selector = sel;
        s.base = (sel as u32) << 4;
        if self.s.eflags & super::flags::VM != 0 {
            s.limit = 0xffff;
            s.attr = if seg == jit::abi::CS { 0xfb } else { 0xf3 };
        } else {
            // Keep G/D/limit, make the cache usable as a present segment.
            let code = if seg == jit::abi::CS { attr::CODE } else { 0 };
            s.attr = (s.attr & 0xf000) | attr::P | attr::S | attr::RW | attr::ACCESSED | code;
        }
    }

    /// The protected-mode checks of a data-segment (or SS) load; returns the new cache
    /// with the descriptor marked accessed.
    pub(crate) fn check_data_seg(&mut self, seg: usize, sel: u16) -> Res<Segment> {
        let cpl = self.s.cpl;
        let rpl = (sel & 3) as u32;
        if sel & !3 == 0 {
            if seg == SS {
                return Err(Fault::Gp(0));
            }
            return Ok(Segment {
                selector: sel,
                ..Default::default()
            });
        }
        let d = self.read_desc(sel, Fault::Gp)?;
        let e = sel & 0xfffc;
        if seg == SS {
            if rpl != cpl || !d.is_seg() || d.is_code() || !d.rw() || d.dpl() != cpl {
                return Err(Fault::Gp(e));
            }
            if !d.present() {
                return Err(Fault::Ss(e));
            }
        } else {
            if !d.is_seg() || (d.is_code() && !d.rw()) {
                return Err(Fault::Gp(e));
            }
            if !d.conforming() && (rpl > d.dpl() || cpl > d.dpl()) {
                return Err(Fault::Gp(e));
            }
            if !d.present() {
                return Err(Fault::Np(e));
            }
        }
        self.touch_desc(sel, d)?;
        let mut c = d.cache(sel);
        c.attr |= attr::ACCESSED;
        Ok(c)
    }

    /// After a return to an outer privilege level, data segments the new CPL may not use
    /// are nulled (SDM Vol. 2A, RET/IRET: "If DS, ES, FS or GS ... DPL < CPL").
    pub(crate) fn null_inaccessible_segs(&mut self) {
        let cpl = self.s.cpl;
        for seg in [jit::abi::ES, jit::abi::DS, jit::abi::FS, jit::abi::GS] {
            let s = self.s.seg[seg];
            let a = s.attr;
            let dpl = ((a >> attr::DPL_SHIFT) & 3) as u32;
            let data_or_nc = a & attr::CODE == 0 || a & attr::CONFORMING == 0;
            if s.selector & !3 == 0 && a & attr::P == 0 {
                continue;
            }
            if data_or_nc && dpl < cpl {
                self.s.seg[seg] = Segment {
                    selector: 0,
                    ..Default::default()
                };
            }
        }
    }
}
