//! Operands: registers, effective addresses (SDM Vol. 2A §2.1.5, ModRM/SIB) and
//! segment-checked memory access.

use iced_x86::{Instruction, OpKind, Register};
use jit::abi::SS;

use super::fault::Res;
use super::flags::size_mask;
use super::Cpu;

/// Where an operand lives once its address is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    /// General register number 0..8; `high` selects AH..BH for byte operands.
    Reg { n: usize, high: bool },
    /// Memory at segment register `seg`, offset `off`.
    Mem { seg: usize, off: u32 },
}

/// Register number and high-byte flag of an iced general-purpose register.
#[inline]
pub(crate) fn gpr(r: Register) -> (usize, bool) {
    if r.is_gpr8() {
        let n = r.number();
        if n >= 4 {
            (n - 4, true)
        } else {
            (n, false)
        }
    } else {
        (r.number(), false)
    }
}

/// Segment register number (ES=0 .. GS=5) of an iced segment register.
#[inline]
pub(crate) fn sreg(r: Register) -> usize {
    (r as usize) - (Register::ES as usize)
}

impl Cpu {
    #[inline]
    pub(crate) fn get_reg(&self, n: usize, size: u32, high: bool) -> u32 {
        let v = self.s.regs[n];
        match size {
            1 if high => (v >> 8) & 0xff,
            1 => v & 0xff,
            2 => v & 0xffff,
            _ => v,
        }
    }

    #[inline]
    pub(crate) fn set_reg(&mut self, n: usize, size: u32, high: bool, val: u32) {
        let r = &mut self.s.regs[n];
        match size {
            1 if high => *r = (*r & !0xff00) | ((val & 0xff) << 8),
            1 => *r = (*r & !0xff) | (val & 0xff),
            2 => *r = (*r & !0xffff) | (val & 0xffff),
            _ => *r = val,
        }
    }

    /// Reads an iced register operand of any GPR size.
    #[inline]
    pub(crate) fn read_gpr(&self, r: Register) -> u32 {
        let (n, high) = gpr(r);
        self.get_reg(n, r.size() as u32, high)
    }

    #[inline]
    pub(crate) fn write_gpr(&mut self, r: Register, v: u32) {
        let (n, high) = gpr(r);
        self.set_reg(n, r.size() as u32, high, v);
    }

    /// True if the instruction's memory operand uses 16-bit addressing: the base (or
    /// index) register size tells, or, for a bare displacement, its width.
    pub(crate) fn addr16(&self, i: &Instruction) -> bool {
        let (b, x) = (i.memory_base(), i.memory_index());
        if b != Register::None {
            b.is_gpr16()
        } else if x != Register::None {
            x.is_gpr16()
        } else {
            i.memory_displ_size() == 2
        }
    }

    /// The effective address (segment, offset) of the instruction's memory operand.
    /// XLAT's index is AL, zero-extended like any register.
    pub(crate) fn ea(&self, i: &Instruction) -> (usize, u32) {
        let base = i.memory_base();
        let index = i.memory_index();
        let mut off = i.memory_displacement32();
        if base != Register::None {
            off = off.wrapping_add(self.read_gpr(base));
        }
        if index != Register::None {
            let scaled = self.read_gpr(index) << i.memory_index_scale().trailing_zeros();
            off = off.wrapping_add(scaled);
        }
        if self.addr16(i) {
            off &= 0xffff;
        }
        (sreg(i.memory_segment()), off)
    }

    /// Resolves operand `n` to a register or memory location.
    pub(crate) fn loc(&self, i: &Instruction, n: u32) -> Loc {
        match i.op_kind(n) {
            OpKind::Register => {
                let (r, high) = gpr(i.op_register(n));
                Loc::Reg { n: r, high }
            }
            _ => {
                let (seg, off) = self.ea(i);
                Loc::Mem { seg, off }
            }
        }
    }

    #[inline]
    pub(crate) fn read_loc(&mut self, loc: Loc, size: u32) -> Res<u32> {
        match loc {
            Loc::Reg { n, high } => Ok(self.get_reg(n, size, high)),
            Loc::Mem { seg, off } => self.read_mem(seg, off, size),
        }
    }

    #[inline]
    pub(crate) fn write_loc(&mut self, loc: Loc, size: u32, v: u32) -> Res<()> {
        match loc {
            Loc::Reg { n, high } => {
                self.set_reg(n, size, high, v);
                Ok(())
            }
            Loc::Mem { seg, off } => self.write_mem(seg, off, size, v),
        }
    }

    /// Size in bytes of operand `n` (register, memory or immediate).
    pub(crate) fn op_size(&self, i: &Instruction, n: u32) -> u32 {
        match i.op_kind(n) {
            OpKind::Register => i.op_register(n).size() as u32,
            OpKind::Immediate8 => 1,
            OpKind::Immediate16 | OpKind::Immediate8to16 => 2,
            OpKind::Immediate32 | OpKind::Immediate8to32 => 4,
            _ => i.memory_size().size() as u32,
        }
    }

    /// Reads operand `n` (register, memory or immediate) at `size` bytes.
    pub(crate) fn read_op(&mut self, i: &Instruction, n: u32, size: u32) -> Res<u32> {
        match i.op_kind(n) {
            OpKind::Register => Ok(self.read_gpr(i.op_register(n)) & size_mask(size)),
            OpKind::Memory => {
                let (seg, off) = self.ea(i);
                self.read_mem(seg, off, size)
            }
            _ => Ok(i.immediate(n) as u32 & size_mask(size)),
        }
    }

    // ---- segment-checked memory ----

    /// Linear address of `len` bytes at `seg:off`, after the limit and type checks.
    #[inline]
    pub(crate) fn lin(&self, seg: usize, off: u32, len: u32, write: bool) -> Res<u32> {
        let sc = &self.s.seg[seg];
        // Fast path: a flat present data segment, or an in-limit real-mode access.
        if sc.limit == 0xffff_ffff && sc.attr & 0x8e == 0x82
            || !self.pmode()
                && off as u64 + len as u64 - 1 <= sc.limit as u64
                && sc.attr & 0x0c != 0x04
        {
            return Ok(sc.base.wrapping_add(off));
        }
        self.lin_checked(seg, off, len, write)
    }

    fn lin_checked(&self, seg: usize, off: u32, len: u32, write: bool) -> Res<u32> {
        use super::fault::Fault;
        use super::seg::attr;
        let sc = &self.s.seg[seg];
        let err = if seg == SS {
            Fault::Ss(0)
        } else {
            Fault::Gp(0)
        };
        if self.pmode() {
            if sc.attr & attr::P == 0 {
                return Err(err);
            }
            let code = sc.attr & attr::CODE != 0;
            if write && (code || sc.attr & attr::RW == 0) {
                return Err(err);
            }
            if !write && code && sc.attr & attr::RW == 0 {
                return Err(err);
            }
        }
        let last = off as u64 + len as u64 - 1;
        let expand_down = sc.attr & (attr::CODE | attr::EXPAND_DOWN) == attr::EXPAND_DOWN;
        if expand_down {
            let upper: u64 = if sc.attr & attr::DB != 0 {
                0xffff_ffff
            } else {
                0xffff
            };
            if (off as u64) <= sc.limit as u64 || last > upper {
                return Err(err);
            }
        } else if last > sc.limit as u64 {
            return Err(err);
        }
        Ok(sc.base.wrapping_add(off))
    }

    pub(crate) fn read_mem(&mut self, seg: usize, off: u32, size: u32) -> Res<u32> {
        let lin = self.lin(seg, off, size, false)?;
        self.read_lin(lin, size)
    }

    pub(crate) fn write_mem(&mut self, seg: usize, off: u32, size: u32, v: u32) -> Res<()> {
        let lin = self.lin(seg, off, size, true)?;
        self.write_lin(lin, size, v)
    }

    /// Linear read at the current privilege (user if CPL 3).
    #[inline]
    pub(crate) fn read_lin(&mut self, lin: u32, size: u32) -> Res<u32> {
        if self.dbg_active {
            self.pending_db |= self.breakpoint_hits(lin, size, super::BreakKind::Read);
        }
        let user = self.user();
        match size {
            1 => self.mmu.read_u8(lin, user).map(|v| v as u32),
            2 => self.mmu.read_u16(lin, user).map(|v| v as u32),
            _ => self.mmu.read_u32(lin, user),
        }
    }

    #[inline]
    pub(crate) fn write_lin(&mut self, lin: u32, size: u32, v: u32) -> Res<()> {
        if self.dbg_active {
            self.pending_db |= self.breakpoint_hits(lin, size, super::BreakKind::Write);
        }
        let user = self.user();
        match size {
            1 => self.mmu.write_u8(lin, v as u8, user),
            2 => self.mmu.write_u16(lin, v as u16, user),
            _ => self.mmu.write_u32(lin, v, user),
        }
    }

    /// Supervisor-mode linear accesses for descriptor tables, the TSS and the IDT
    /// (implicit supervisor accesses, SDM Vol. 3A §4.6).
    pub(crate) fn read_sys(&mut self, lin: u32, size: u32) -> Res<u32> {
        match size {
            1 => self.mmu.read_u8(lin, false).map(|v| v as u32),
            2 => self.mmu.read_u16(lin, false).map(|v| v as u32),
            _ => self.mmu.read_u32(lin, false),
        }
    }

    pub(crate) fn write_sys(&mut self, lin: u32, size: u32, v: u32) -> Res<()> {
        match size {
            1 => self.mmu.write_u8(lin, v as u8, false),
            2 => self.mmu.write_u16(lin, v as u16, false),
            _ => self.mmu.write_u32(lin, v, false),
        }
    }
}
