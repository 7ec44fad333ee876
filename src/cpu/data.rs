//! Data movement: MOV (incl. Sreg), MOVZX/MOVSX, XCHG, XADD, CMPXCHG, CMPXCHG8B, BSWAP,
//! LEA, CBW..CDQ, LAHF/SAHF, XLAT, SETcc, CMOVcc, LDS..LSS, BOUND, NOP (SDM Vol. 2).

use iced_x86::{Instruction, Mnemonic, OpKind, Register};
use jit::abi::{EAX, EDX, SS};

use super::alu::sext;
use super::fault::{Fault, Res};
use super::flags::{self, op, set_lazy, size_mask, AF, CF, PF, SF, ZF};
use super::operand::sreg;
use super::Cpu;

/// The condition-code nibble of a SETcc/CMOVcc/Jcc mnemonic.
pub(crate) fn cc_of(i: &Instruction) -> u8 {
    i.condition_code() as u8 - 1
}

impl Cpu {
    pub(super) fn data(&mut self, i: &Instruction) -> Res<()> {
        use Mnemonic::*;
        match i.mnemonic() {
            Mov => self.mov(i),
            Movzx | Movsx => {
                let ssize = self.op_size(i, 1);
                let v = self.read_op(i, 1, ssize)?;
                let v = if i.mnemonic() == Movsx {
                    sext(v, ssize) as u32
                } else {
                    v
                };
                self.write_gpr(i.op0_register(), v);
                Ok(())
            }
            Lea => {
                let (_, off) = self.ea(i);
                self.write_gpr(i.op0_register(), off);
                Ok(())
            }
            Xchg => {
                let size = self.op_size(i, 0);
                let a = self.loc(i, 0);
                let b = self.loc(i, 1);
                let va = self.read_loc(a, size)?;
                let vb = self.read_loc(b, size)?;
                // Memory side first so a fault leaves the register untouched.
                if matches!(a, super::operand::Loc::Mem { .. }) {
                    self.write_loc(a, size, vb)?;
                    self.write_loc(b, size, va)
                } else {
                    self.write_loc(b, size, va)?;
                    self.write_loc(a, size, vb)
                }
            }
            Xadd => {
                let size = self.op_size(i, 0);
                let d = self.loc(i, 0);
                let src = self.read_gpr(i.op1_register());
                let dst = self.read_loc(d, size)?;
                let sum = dst.wrapping_add(src);
                self.write_loc(d, size, sum)?;
                self.write_gpr(i.op1_register(), dst);
                if i.op0_kind() == OpKind::Register && i.op0_register() == i.op1_register() {
                    // XADD r, r with the same register: the sum wins.
                    self.write_gpr(i.op0_register(), sum);
                }
                set_lazy(&mut self.s, op::ADD, size, dst, src, sum);
                Ok(())
            }
            Cmpxchg => {
                let size = self.op_size(i, 0);
                let d = self.loc(i, 0);
                let acc = self.s.regs[EAX] & size_mask(size);
                let dst = self.read_loc(d, size)?;
                if acc == dst {
                    let src = self.read_gpr(i.op1_register());
                    self.write_loc(d, size, src)?;
                } else {
                    // The destination is written back unchanged (locked cycle).
                    self.write_loc(d, size, dst)?;
                    self.set_reg(EAX, size, false, dst);
                }
                set_lazy(&mut self.s, op::SUB, size, acc, dst, acc.wrapping_sub(dst));
                Ok(())
            }
            Cmpxchg8b => {
                let (seg, off) = self.ea(i);
                let lo = self.read_mem(seg, off, 4)?;
                let hi = self.read_mem(seg, off.wrapping_add(4), 4)?;
                let equal = lo == self.s.regs[EAX] && hi == self.s.regs[EDX];
                let (wlo, whi) = if equal {
                    (self.s.regs[3], self.s.regs[1])
                } else {
                    (lo, hi)
                };
                let lin = self.lin(seg, off, 8, true)?;
                self.mmu.probe_write(lin, 8, self.user())?;
                self.write_mem(seg, off, 4, wlo)?;
                self.write_mem(seg, off.wrapping_add(4), 4, whi)?;
                if !equal {
                    self.s.regs[EAX] = lo;
                    self.s.regs[EDX] = hi;
                }
                flags::set_flag(&mut self.s, ZF, equal);
                Ok(())
            }
            Bswap => {
                let r = i.op0_register();
                let v = if r.is_gpr32() {
                    self.read_gpr(r).swap_bytes()
                } else {
                    0 // BSWAP r16 is undefined; P6 and later clear the register.
                };
                self.write_gpr(r, v);
                Ok(())
            }
            Cbw => {
                let v = self.s.regs[EAX] as u8 as i8 as i16 as u16 as u32;
                self.set_reg(EAX, 2, false, v);
                Ok(())
            }
            Cwde => {
                self.s.regs[EAX] = self.s.regs[EAX] as u16 as i16 as i32 as u32;
                Ok(())
            }
            Cwd => {
                let v = if self.s.regs[EAX] & 0x8000 != 0 {
                    0xffff
                } else {
                    0
                };
                self.set_reg(EDX, 2, false, v);
                Ok(())
            }
            Cdq => {
                self.s.regs[EDX] = ((self.s.regs[EAX] as i32) >> 31) as u32;
                Ok(())
            }
            Lahf => {
                let f = flags::get(&self.s) & 0xff;
                self.set_reg(EAX, 1, true, f);
                Ok(())
            }
            Sahf => {
                let ah = (self.s.regs[EAX] >> 8) & 0xff;
                flags::set_masked(&mut self.s, SF | ZF | AF | PF | CF, ah);
                Ok(())
            }
            Salc => {
                let v = if flags::cf(&self.s) { 0xff } else { 0 };
                self.set_reg(EAX, 1, false, v);
                Ok(())
            }
            Xlatb => {
                let (seg, off) = self.ea(i);
                let v = self.read_mem(seg, off, 1)?;
                self.set_reg(EAX, 1, false, v);
                Ok(())
            }
            Lds | Les | Lfs | Lgs | Lss => {
                let size = self.op_size(i, 0);
                let (seg, off) = self.ea(i);
                let v = self.read_mem(seg, off, size)?;
                let sel = self.read_mem(seg, off.wrapping_add(size), 2)? as u16;
                let target = match i.mnemonic() {
                    Lds => jit::abi::DS,
                    Les => jit::abi::ES,
                    Lfs => jit::abi::FS,
                    Lgs => jit::abi::GS,
                    _ => SS,
                };
                self.load_seg(target, sel)?;
                self.write_gpr(i.op0_register(), v);
                Ok(())
            }
            Bound => {
                let size = self.op_size(i, 0);
                let idx = sext(self.read_gpr(i.op0_register()), size);
                let (seg, off) = self.ea(i);
                let lo = sext(self.read_mem(seg, off, size)?, size);
                let hi = sext(self.read_mem(seg, off.wrapping_add(size), size)?, size);
                if idx < lo || idx > hi {
                    return Err(Fault::Br);
                }
                Ok(())
            }
            // 0F 18-0F 1F are hint NOPs on a P6 (SDM Vol. 2B, NOP; the "reserved NOP"
            // space): the later PREFETCHh, ENDBR and RDSSP encodings in it do nothing on a
            // CPU without SSE/CET, and touch no memory.
            Nop | Pause | Endbr32 | Endbr64 | Rdsspd | Rdsspq | Reservednop | Prefetcht0
            | Prefetcht1 | Prefetcht2 | Prefetchnta => Ok(()),
            m if is_setcc(m) => {
                let v = flags::cond(&self.s, cc_of(i)) as u32;
                let loc = self.loc(i, 0);
                self.write_loc(loc, 1, v)
            }
            _ => {
                // CMOVcc: the source is read (and may fault) whatever the condition.
                let size = self.op_size(i, 0);
                let v = self.read_op(i, 1, size)?;
                if flags::cond(&self.s, cc_of(i)) {
                    self.write_gpr(i.op0_register(), v);
                }
                Ok(())
            }
        }
    }

    fn mov(&mut self, i: &Instruction) -> Res<()> {
        let (k0, k1) = (i.op0_kind(), i.op1_kind());
        if k0 == OpKind::Register {
            let r = i.op0_register();
            if r.is_cr() || r.is_dr() {
                return self.mov_to_ctrl(i);
            }
            if r.is_segment_register() {
                if r == Register::CS {
                    return Err(Fault::Ud);
                }
                let sel = self.read_op(i, 1, 2)? as u16;
                let seg = sreg(r);
                self.load_seg(seg, sel)?;
                if seg == SS {
                    self.inhibit_interrupts();
                }
                return Ok(());
            }
        }
        if k1 == OpKind::Register {
            let r = i.op1_register();
            if r.is_cr() || r.is_dr() {
                return self.mov_from_ctrl(i);
            }
            if r.is_segment_register() {
                let v = self.s.seg[sreg(r)].selector as u32;
                // To a 32-bit register the selector is zero-extended; to memory it is a
                // 16-bit store whatever the operand size.
                let size = if k0 == OpKind::Register {
                    i.op0_register().size() as u32
                } else {
                    2
                };
                let loc = self.loc(i, 0);
                return self.write_loc(loc, size, v);
            }
        }
        let size = self.op_size(i, 0);
        let v = self.read_op(i, 1, size)?;
        let loc = self.loc(i, 0);
        self.write_loc(loc, size, v)
    }

    /// MOV SS / POP SS: interrupts and debug traps wait one instruction.
    pub(crate) fn inhibit_interrupts(&mut self) {
        self.shadow_next = true;
    }
}

fn is_setcc(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Seto | Setno
            | Setb
            | Setae
            | Sete
            | Setne
            | Setbe
            | Seta
            | Sets
            | Setns
            | Setp
            | Setnp
            | Setl
            | Setge
            | Setle
            | Setg
    )
}
