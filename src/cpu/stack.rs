//! The stack: PUSH/POP in all forms, PUSHA/POPA, PUSHF/POPF with the IOPL/VM rules,
//! ENTER/LEAVE (SDM Vol. 2). SS's B bit chooses SP or ESP.

use iced_x86::{Instruction, Mnemonic, OpKind};
use jit::abi::{EBP, ESP, SS};

use super::fault::{Fault, Res};
use super::flags::{self, IF, IOPL, RF, VM};
use super::operand::sreg;
use super::Cpu;

impl Cpu {
    /// Stack pointer (SP or ESP per SS.B).
    #[inline]
    pub(crate) fn sp(&self) -> u32 {
        if self.stack32() {
            self.s.regs[ESP]
        } else {
            self.s.regs[ESP] & 0xffff
        }
    }

    #[inline]
    pub(crate) fn set_sp(&mut self, v: u32) {
        if self.stack32() {
            self.s.regs[ESP] = v;
        } else {
            self.s.regs[ESP] = (self.s.regs[ESP] & !0xffff) | (v & 0xffff);
        }
    }

    /// Offset `delta` bytes from the stack pointer, wrapped to the stack size.
    #[inline]
    pub(crate) fn sp_offset(&self, delta: u32) -> u32 {
        let v = self.sp().wrapping_add(delta);
        if self.stack32() {
            v
        } else {
            v & 0xffff
        }
    }

    pub(crate) fn push(&mut self, size: u32, v: u32) -> Res<()> {
        let sp = self.sp_offset(size.wrapping_neg());
        self.write_mem(SS, sp, size, v)?;
        self.set_sp(sp);
        Ok(())
    }

    pub(crate) fn pop(&mut self, size: u32) -> Res<u32> {
        let v = self.read_mem(SS, self.sp(), size)?;
        let sp = self.sp_offset(size);
        self.set_sp(sp);
        Ok(v)
    }

    /// Reads at `delta` bytes above the stack pointer without moving it.
    pub(crate) fn peek(&mut self, delta: u32, size: u32) -> Res<u32> {
        let off = self.sp_offset(delta);
        self.read_mem(SS, off, size)
    }

    #[inline]
    pub(crate) fn opsize(&self, i: &Instruction) -> u32 {
        // iced reports 16- vs 32-bit forms through the code's operand size.
        match i.code().op_code().operand_size() {
            16 => 2,
            32 => 4,
            _ => {
                if self.code32() {
                    4
                } else {
                    2
                }
            }
        }
    }

    pub(super) fn stack(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        let osz = self.opsize(i);
        match i.mnemonic() {
            Push => {
                if i.op0_kind() == OpKind::Register && i.op0_register().is_segment_register() {
                    let sel = self.s.seg[sreg(i.op0_register())].selector as u32;
                    // A 32-bit push of a segment register moves 16 bits (P6 and later);
                    // the upper half of the slot is left as it was.
                    let sp = self.sp_offset(osz.wrapping_neg());
                    self.lin(SS, sp, osz, true)?;
                    self.write_mem(SS, sp, 2, sel)?;
                    self.set_sp(sp);
                    return Ok(());
                }
                let v = self.read_op(i, 0, osz)?;
                self.push(osz, v)
            }
            Pop => self.pop_op(i, osz),
            Pusha | Pushad => {
                let sp0 = self.s.regs[ESP];
                let top = self.sp_offset((8 * osz).wrapping_neg());
                self.lin(SS, top, 8 * osz, true)?;
                for r in 0..8 {
                    let v = if r == ESP { sp0 } else { self.s.regs[r] };
                    let off = self.sp_offset(((r as u32 + 1) * osz).wrapping_neg());
                    self.write_mem(SS, off, osz, v)?;
                }
                self.set_sp(top);
                Ok(())
            }
            Popa | Popad => {
                self.lin(SS, self.sp(), 8 * osz, false)?;
                let mut vals = [0u32; 8];
                for (r, slot) in vals.iter_mut().enumerate() {
                    *slot = self.peek((7 - r as u32) * osz, osz)?;
                }
                for (r, v) in vals.iter().enumerate() {
                    if r != ESP {
                        self.set_reg(r, osz, false, *v);
                    }
                }
                let sp = self.sp_offset(8 * osz);
                self.set_sp(sp);
                Ok(())
            }
            Pushf | Pushfd => {
                if self.v86() && self.iopl() < 3 {
                    return Err(Fault::Gp(0));
                }
                let f = flags::get(&self.s) & !(VM | RF);
                self.push(osz, f)
            }
            Popf | Popfd => {
                if self.v86() && self.iopl() < 3 {
                    return Err(Fault::Gp(0));
                }
                let v = self.peek(0, osz)?;
                self.write_eflags_popf(v, osz);
                let sp = self.sp_offset(osz);
                self.set_sp(sp);
                Ok(())
            }
            Enter => self.enter(i, osz),
            _ => {
                // LEAVE
                let bp = self.s.regs[EBP];
                let saved = self.s.regs[ESP];
                self.set_sp(bp);
                match self.pop(osz) {
                    Ok(v) => {
                        self.set_reg(EBP, osz, false, v);
                        Ok(())
                    }
                    Err(f) => {
                        self.s.regs[ESP] = saved;
                        Err(f)
                    }
                }
            }
        }
    }

    /// POPF/POPFD: which bits may change depends on mode, CPL and IOPL.
    pub(crate) fn write_eflags_popf(&mut self, v: u32, osz: u32) {
        let mut mask = flags::WRITABLE & !(VM | RF);
        if self.pmode() {
            if self.s.cpl > 0 {
                mask &= !IOPL;
            }
            if self.s.cpl > self.iopl() {
                mask &= !IF;
            }
        } else if self.v86() {
            mask &= !IOPL;
        }
        if osz == 2 {
            mask &= 0xffff;
        }
        flags::set_masked(&mut self.s, mask, v);
    }

    fn pop_op(&mut self, i: &Instruction, osz: u32) -> Res<()> {
        if i.op0_kind() == OpKind::Register {
            let r = i.op0_register();
            if r.is_segment_register() {
                let sel = self.peek(0, osz)? as u16;
                let seg = sreg(r);
                self.load_seg(seg, sel)?;
                let sp = self.sp_offset(osz);
                self.set_sp(sp);
                if seg == SS {
                    self.inhibit_interrupts();
                }
                return Ok(());
            }
            let v = self.pop(osz)?;
            self.write_gpr(r, v);
            return Ok(());
        }
        // POP m: the address is computed with the incremented stack pointer.
        let v = self.peek(0, osz)?;
        let saved = self.s.regs[ESP];
        let sp = self.sp_offset(osz);
        self.set_sp(sp);
        let loc = self.loc(i, 0);
        if let Err(f) = self.write_loc(loc, osz, v) {
            self.s.regs[ESP] = saved;
            return Err(f);
        }
        Ok(())
    }

    /// ENTER imm16, imm8 (SDM Vol. 2A, ENTER "Operation").
    fn enter(&mut self, i: &Instruction, osz: u32) -> Res<()> {
        let alloc = i.immediate16() as u32;
        let level = (i.immediate8_2nd() & 31) as u32;
        let s32 = self.stack32();
        let wrap = |v: u32| if s32 { v } else { v & 0xffff };
        // Writes happen in order and reads see them (the frame-pointer copies may read the
        // EBP just pushed); ESP and EBP are committed only at the end.
        let mut sp = wrap(self.sp().wrapping_sub(osz));
        self.write_mem(SS, sp, osz, self.s.regs[EBP])?;
        let frame = sp;
        if level > 0 {
            let mut bp = if s32 {
                self.s.regs[EBP]
            } else {
                self.s.regs[EBP] & 0xffff
            };
            for _ in 1..level {
                bp = wrap(bp.wrapping_sub(osz));
                let v = self.read_mem(SS, bp, osz)?;
                sp = wrap(sp.wrapping_sub(osz));
                self.write_mem(SS, sp, osz, v)?;
            }
            sp = wrap(sp.wrapping_sub(osz));
            self.write_mem(SS, sp, osz, frame)?;
        }
        let final_sp = wrap(sp.wrapping_sub(alloc));
        self.set_reg(EBP, osz, false, frame);
        self.set_sp(final_sp);
        Ok(())
    }
}
