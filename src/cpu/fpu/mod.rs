//! The x87 FPU and MMX (Intel SDM Vol. 1 ch. 8-9, Vol. 2 instruction reference). `f80`
//! is the extended-precision arithmetic, `trans` the transcendentals, `mmx` the MMX
//! instructions; this module is the x87 instruction layer on `CpuState::fpu`.
//!
//! - Register stack (SDM Vol. 1 §8.1.2): TOP is FSW bits 11-13, ST(i) is physical
//!   R((TOP + i) mod 8). The tag word is kept in its full two-bit form (§8.1.7: valid 00,
//!   zero 01, special 10, empty 11) and recomputed from the value on every register write.
//! - Stack faults (§8.5.1.1): a push onto a non-empty register (overflow, C1 = 1) or a
//!   read of an empty one (underflow, C1 = 0) sets IE and SF; the masked response writes
//!   the real indefinite (or, for a store to memory, the indefinite of the memory format).
//! - Status word (§8.1.3): exception flags are sticky; ES (bit 7) is set while any flag is
//!   unmasked and B (bit 15) mirrors it. FLDCW, FLDENV, FRSTOR and FXRSTOR recompute both
//!   from the loaded words, as the host's x87 does.
//! - Control word (§8.1.5): bits 6 reads as 1, bits 7 and 13-15 as 0 (FLDCW FFFFh then
//!   FNSTCW gives 1F7Fh on the host).
//! - Last-instruction pointers (§8.1.8): FIP/FCS/FOP are updated by every instruction
//!   except FCLEX, FLDCW, FSTCW, FSTSW, FSTENV, FLDENV, FSAVE, FRSTOR, FXSAVE, FXRSTOR,
//!   FINIT and WAIT; FDP/FDS only by instructions with a memory operand.
//! - CR0 (SDM Vol. 3A §2.5, §9.2, Table 2-2): EM = 1 or TS = 1 make every x87 instruction
//!   (and FXSAVE/FXRSTOR) raise #NM; WAIT raises #NM only when MP = 1 and TS = 1.
//! - Error reporting (Vol. 1 §8.6-8.7, Vol. 3A §6.15): an instruction that raises an
//!   unmasked exception sets ES; the *next* waiting x87 instruction (every one except
//!   FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE, FXSAVE, FXRSTOR and the 8087/287
//!   no-ops FNENI/FNDISI/FNSETPM), and WAIT, report it before executing: with CR0.NE = 1
//!   as #MF. With CR0.NE = 0 (the PC's "MS-DOS compatibility" wiring, §8.7) the CPU
//!   asserts FERR#, which `Cpu::ferr` exposes: the machine raises IRQ13 from it, and a
//!   write to port F0h is the chipset's IGNNE#. Here the instruction then simply
//!   executes, as it does on a PC once the IRQ13 handler has asserted IGNNE#.
//! - A guest fault during an x87 instruction (a #PF on a memory operand) leaves the FPU
//!   state as it was before the instruction; multi-byte stores are probed first.

pub mod f80;
mod mmx;
pub mod trans;
mod x87_env;
mod x87_ops;
#[cfg(test)]
mod x87_tests;

use iced_x86::{Code, Instruction, Mnemonic, OpKind};

use super::fault::{Fault, Res};
use super::{cr0, Cpu};
use f80::{exc, Env, Out, F80, INDEFINITE};

/// FSW bits (SDM Vol. 1 Figure 8-4).
pub(crate) mod fsw {
    pub const IE: u16 = 0x0001;
    pub const SF: u16 = 0x0040;
    pub const ES: u16 = 0x0080;
    pub const C0: u16 = 0x0100;
    pub const C1: u16 = 0x0200;
    pub const C2: u16 = 0x0400;
    pub const TOP_SHIFT: u16 = 11;
    pub const TOP: u16 = 7 << TOP_SHIFT;
    pub const C3: u16 = 0x4000;
    pub const B: u16 = 0x8000;
    /// The exception flags (IE..PE).
    pub const EXC: u16 = 0x003f;
    /// The condition codes.
    pub const CC: u16 = C0 | C1 | C2 | C3;
}

/// Tag values (SDM Vol. 1 Figure 8-7).
pub(crate) mod tag {
    pub const VALID: u16 = 0;
    pub const ZERO: u16 = 1;
    pub const SPECIAL: u16 = 2;
    pub const EMPTY: u16 = 3;
}

/// FNINIT's control word.
pub(crate) const FCW_INIT: u16 = 0x037f;

/// The control-word bits that exist (the rest read as 0, bit 6 as 1).
const FCW_BITS: u16 = 0x1f3f;

/// +1.0, pushed by FPTAN.
const ONE: F80 = F80 {
    signif: 1 << 63,
    sign_exp: 0x3fff,
};

/// The tag a value gets when written to a register.
pub(crate) fn tag_of(v: F80) -> u16 {
    let e = v.sign_exp & 0x7fff;
    if e == 0x7fff {
        tag::SPECIAL
    } else if e == 0 {
        if v.signif == 0 {
            tag::ZERO
        } else {
            tag::SPECIAL
        }
    } else if v.signif >> 63 == 0 {
        // Unnormal.
        tag::SPECIAL
    } else {
        tag::VALID
    }
}

/// A control word as loaded by FLDCW/FLDENV/FRSTOR/FXRSTOR.
fn loaded_fcw(v: u16) -> u16 {
    (v & FCW_BITS) | 0x0040
}

/// True for x87 escape instructions (D8-DF opcodes, with or without an FWAIT prefix)
/// and FXSAVE/FXRSTOR, which save and restore the x87 state.
pub(crate) fn is_x87(i: &Instruction) -> bool {
    let op = i.code().op_code();
    // Register forms such as FNINIT (DB E3) have a two-byte opcode.
    let first = if op.op_code_len() == 2 {
        op.op_code() >> 8
    } else {
        op.op_code()
    };
    (op.encoding() == iced_x86::EncodingKind::Legacy
        && matches!(first, 0xd8..=0xdf)
        && op.table() == iced_x86::OpCodeTableKind::Normal)
        || matches!(i.code(), Code::Fxsave_m512byte | Code::Fxrstor_m512byte)
}

/// True for MMX instructions: an MM register operand, or EMMS.
pub(crate) fn is_mmx(i: &Instruction) -> bool {
    i.mnemonic() == Mnemonic::Emms
        || (0..i.op_count()).any(|n| i.op_kind(n) == OpKind::Register && i.op_register(n).is_mm())
}

/// Instructions that do not check for a pending unmasked exception first.
fn no_wait(c: Code) -> bool {
    use Code::*;
    matches!(
        c,
        Fninit
            | Fnclex
            | Fnstcw_m2byte
            | Fnstsw_m2byte
            | Fnstsw_AX
            | Fnstenv_m14byte
            | Fnstenv_m28byte
            | Fnsave_m94byte
            | Fnsave_m108byte
            | Fneni
            | Fndisi
            | Fnsetpm
            | Fxsave_m512byte
            | Fxrstor_m512byte
    )
}

/// Control instructions: they leave FIP/FCS/FOP/FDP/FDS alone (FINIT and FSAVE clear
/// them by their own definition).
fn is_control(c: Code) -> bool {
    use Code::*;
    no_wait(c)
        || matches!(
            c,
            Finit
                | Fclex
                | Fstcw_m2byte
                | Fstsw_m2byte
                | Fstsw_AX
                | Fstenv_m14byte
                | Fstenv_m28byte
                | Fsave_m94byte
                | Fsave_m108byte
                | Fldcw_m2byte
                | Fldenv_m14byte
                | Fldenv_m28byte
                | Frstor_m94byte
                | Frstor_m108byte
                | Feni
                | Fdisi
                | Fsetpm
        )
}

impl Cpu {
    /// An x87 instruction (or FXSAVE/FXRSTOR): the CR0 checks, the report of a pending
    /// unmasked exception, the pointer update, then the instruction. On a fault the FPU
    /// state is left as it was.
    pub(super) fn x87(&mut self, i: &Instruction) -> Res<()> {
        if self.s.cr0 & (cr0::EM | cr0::TS) != 0 {
            return Err(Fault::Nm);
        }
        let code = i.code();
        if !no_wait(code) {
            self.report_pending()?;
        }
        let saved = self.s.fpu.clone();
        if !is_control(code) {
            self.update_pointers(i);
        }
        let r = self.x87_exec(i);
        if r.is_err() {
            self.s.fpu = saved;
        }
        r
    }

    /// WAIT/FWAIT (SDM Vol. 2 WAIT): #NM when CR0.MP and CR0.TS are both set (CR0.EM does
    /// not matter), then the report of a pending unmasked x87 exception.
    pub(super) fn fwait(&mut self) -> Res<()> {
        if self.s.cr0 & (cr0::MP | cr0::TS) == cr0::MP | cr0::TS {
            return Err(Fault::Nm);
        }
        self.report_pending()
    }

    /// The FERR# output: an unmasked x87 exception is pending (FSW.ES) and CR0.NE = 0,
    /// so it is reported externally. On a PC, FERR# drives IRQ13 through the chipset,
    /// which also latches IGNNE# when the handler writes port F0h; both are the
    /// machine's job. FNCLEX/FNINIT (clearing ES) or setting CR0.NE drop it.
    pub fn ferr(&self) -> bool {
        self.s.fpu.fsw & fsw::ES != 0 && self.s.cr0 & cr0::NE == 0
    }

    /// A waiting instruction meets a pending unmasked exception: #MF with CR0.NE = 1;
    /// with NE = 0 the exception is signalled on FERR# (`ferr`) and execution goes on.
    fn report_pending(&mut self) -> Res<()> {
        if self.s.fpu.fsw & fsw::ES != 0 && self.s.cr0 & cr0::NE != 0 {
            return Err(Fault::Mf);
        }
        Ok(())
    }

    /// FIP/FCS = this instruction's address, FOP = the low three bits of its D8-DF
    /// opcode byte and its ModR/M byte; FDP/FDS = its memory operand, if any.
    fn update_pointers(&mut self, i: &Instruction) {
        let cs = self.s.seg[jit::abi::CS];
        let fpu = &mut self.s.fpu;
        fpu.fip = self.s.eip;
        fpu.fcs = cs.selector;
        // The opcode bytes are re-read from memory: the fetch just succeeded, so they
        // are mapped; a failure leaves FOP alone.
        let lin = cs.base.wrapping_add(self.s.eip);
        let user = self.user();
        let mut k = 0u32;
        let mut op = None;
        while k + 1 < i.len() as u32 {
            match self.mmu.read_u8(lin.wrapping_add(k), user) {
                Ok(b @ 0xd8..=0xdf) => {
                    if let Ok(m) = self.mmu.read_u8(lin.wrapping_add(k + 1), user) {
                        op = Some((((b & 7) as u16) << 8) | m as u16);
                    }
                    break;
                }
                Ok(_) => k += 1,
                Err(_) => break,
            }
        }
        if let Some(op) = op {
            self.s.fpu.fop = op;
        }
        if (0..i.op_count()).any(|n| i.op_kind(n) == OpKind::Memory) {
            let (seg, off) = self.ea(i);
            self.s.fpu.fdp = off;
            self.s.fpu.fds = self.s.seg[seg].selector;
        }
    }

    // ---- the register stack ----

    #[inline]
    fn fp_top(&self) -> usize {
        ((self.s.fpu.fsw >> fsw::TOP_SHIFT) & 7) as usize
    }

    #[inline]
    fn fp_set_top(&mut self, t: usize) {
        self.s.fpu.fsw = (self.s.fpu.fsw & !fsw::TOP) | (((t & 7) as u16) << fsw::TOP_SHIFT);
    }

    /// Physical register number of ST(i).
    #[inline]
    fn fp_phys(&self, i: usize) -> usize {
        (self.fp_top() + i) & 7
    }

    #[inline]
    fn fp_tag(&self, p: usize) -> u16 {
        (self.s.fpu.ftw >> (2 * p)) & 3
    }

    #[inline]
    fn fp_set_tag(&mut self, p: usize, t: u16) {
        let sh = 2 * (p & 7);
        self.s.fpu.ftw = (self.s.fpu.ftw & !(3 << sh)) | ((t & 3) << sh);
    }

    #[inline]
    fn fp_is_empty(&self, i: usize) -> bool {
        self.fp_tag(self.fp_phys(i)) == tag::EMPTY
    }

    #[inline]
    fn fp_st(&self, i: usize) -> F80 {
        self.s.fpu.regs[self.fp_phys(i)]
    }

    /// Writes ST(i) and tags it from its value.
    #[inline]
    fn fp_set_st(&mut self, i: usize, v: F80) {
        let p = self.fp_phys(i);
        self.s.fpu.regs[p] = v;
        self.fp_set_tag(p, tag_of(v));
    }

    fn fp_push(&mut self, v: F80) {
        let t = (self.fp_top() + 7) & 7;
        self.fp_set_top(t);
        self.fp_set_st(0, v);
    }

    fn fp_pop(&mut self) {
        let p = self.fp_phys(0);
        self.fp_set_tag(p, tag::EMPTY);
        self.fp_set_top(self.fp_top() + 1);
    }

    /// The tag word as FSTENV/FSAVE store it: empty registers stay empty, the others are
    /// classified from their contents.
    fn fp_full_tag_word(&self) -> u16 {
        (0..8).fold(0, |w, p| {
            let t = if self.fp_tag(p) == tag::EMPTY {
                tag::EMPTY
            } else {
                tag_of(self.s.fpu.regs[p])
            };
            w | (t << (2 * p))
        })
    }

    /// Loads a tag word: a register is empty or not as the word says (the hardware keeps
    /// only that bit), and non-empty ones are classified from their contents.
    fn fp_load_tag_word(&mut self, w: u16) {
        for p in 0..8 {
            let t = if (w >> (2 * p)) & 3 == tag::EMPTY {
                tag::EMPTY
            } else {
                tag_of(self.s.fpu.regs[p])
            };
            self.fp_set_tag(p, t);
        }
    }

    // ---- status word ----

    #[inline]
    fn fp_env(&self) -> Env {
        Env::from_fcw(self.s.fpu.fcw)
    }

    /// Replaces the condition codes in `mask` with `bits`.
    #[inline]
    fn fp_set_cc(&mut self, mask: u16, bits: u16) {
        self.s.fpu.fsw = (self.s.fpu.fsw & !mask) | (bits & mask);
    }

    #[inline]
    fn fp_set_c1(&mut self, on: bool) {
        self.fp_set_cc(fsw::C1, if on { fsw::C1 } else { 0 });
    }

    /// ES and B from the flags and masks (after a load of FCW or FSW).
    fn fp_recompute_es(&mut self) {
        let f = &mut self.s.fpu;
        if f.fsw & !f.fcw & fsw::EXC != 0 {
            f.fsw |= fsw::ES | fsw::B;
        } else {
            f.fsw &= !(fsw::ES | fsw::B);
        }
    }

    /// Accumulates exception flags; an unmasked one sets ES and B.
    fn fp_raise(&mut self, flags: u8) {
        let f = &mut self.s.fpu;
        f.fsw |= flags as u16 & fsw::EXC;
        if f.fsw & !f.fcw & fsw::EXC != 0 {
            f.fsw |= fsw::ES | fsw::B;
        }
    }

    /// True if IE is masked (the masked response applies).
    #[inline]
    fn fp_ie_masked(&self) -> bool {
        self.s.fpu.fcw & fsw::IE != 0
    }

    /// Stack overflow (`overflow`) or underflow: IE, SF and C1. Returns true when IE is
    /// masked, i.e. the caller must apply the masked response.
    fn fp_stack_fault(&mut self, overflow: bool) -> bool {
        self.s.fpu.fsw |= fsw::SF;
        self.fp_set_c1(overflow);
        self.fp_raise(exc::IE);
        self.fp_ie_masked()
    }

    /// Flags that suppress the result: unmasked IE, DE or ZE (SDM Vol. 1 §8.5).
    #[inline]
    fn fp_suppressed(&self, flags: u8) -> bool {
        flags as u16 & !self.s.fpu.fcw & (exc::IE | exc::DE | exc::ZE) as u16 != 0
    }

    /// Writes a computed result to ST(i): flags, C1, and the value when `store`.
    /// Returns `store`.
    fn fp_commit(&mut self, i: usize, o: Out) -> bool {
        self.fp_raise(o.flags);
        self.fp_set_c1(o.c1);
        if o.store {
            self.fp_set_st(i, o.val);
        }
        o.store
    }

    /// Masked response of an instruction that pushes: a stack fault pushes the
    /// indefinite. Returns true when the push may go ahead (ST(7) empty).
    fn fp_check_push(&mut self) -> bool {
        if self.fp_is_empty(7) {
            return true;
        }
        if self.fp_stack_fault(true) {
            self.fp_push(INDEFINITE);
        }
        false
    }

    fn fninit(&mut self) {
        let f = &mut self.s.fpu;
        f.fcw = FCW_INIT;
        f.fsw = 0;
        f.ftw = 0xffff;
        f.fop = 0;
        f.fip = 0;
        f.fcs = 0;
        f.fdp = 0;
        f.fds = 0;
    }
}
