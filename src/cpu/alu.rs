//! Integer arithmetic and logic: ADD..CMP, INC/DEC/NEG/NOT, MUL/IMUL/DIV/IDIV and the
//! BCD adjustments (Intel SDM Vol. 2, each instruction's "Operation" section).

use iced_x86::{Instruction, Mnemonic, OpKind};
use jit::abi::{EAX, EDX};

use super::fault::{Fault, Res};
use super::flags::{self, op, set_lazy, size_mask, szp, AF, ARITH, CF, OF};
use super::Cpu;

/// Sign-extends the low `size` bytes of `v` to i64.
#[inline]
pub(crate) fn sext(v: u32, size: u32) -> i64 {
    match size {
        1 => v as u8 as i8 as i64,
        2 => v as u16 as i16 as i64,
        _ => v as i32 as i64,
    }
}

impl Cpu {
    /// Two-operand ALU instructions: ADD ADC SUB SBB AND OR XOR CMP TEST.
    pub(super) fn alu2(&mut self, i: &Instruction) -> Res<()> {
        let size = self.op_size(i, 0);
        let dloc = self.loc(i, 0);
        let src = self.read_op(i, 1, size)?;
        let dst = self.read_loc(dloc, size)?;
        let (kind, res, aux, write) = match i.mnemonic() {
            Mnemonic::Add => (op::ADD, dst.wrapping_add(src), 0, true),
            Mnemonic::Adc => {
                let c = flags::cf(&self.s) as u32;
                (op::ADC, dst.wrapping_add(src).wrapping_add(c), c, true)
            }
            Mnemonic::Sub => (op::SUB, dst.wrapping_sub(src), 0, true),
            Mnemonic::Sbb => {
                let c = flags::cf(&self.s) as u32;
                (op::SBB, dst.wrapping_sub(src).wrapping_sub(c), c, true)
            }
            Mnemonic::Cmp => (op::SUB, dst.wrapping_sub(src), 0, false),
            Mnemonic::And => (op::LOGIC, dst & src, 0, true),
            Mnemonic::Or => (op::LOGIC, dst | src, 0, true),
            Mnemonic::Xor => (op::LOGIC, dst ^ src, 0, true),
            _ => (op::LOGIC, dst & src, 0, false), // TEST
        };
        if write {
            self.write_loc(dloc, size, res)?;
        }
        set_lazy(&mut self.s, kind, size, dst, src, res);
        self.s.lazy.aux = aux;
        Ok(())
    }

    /// One-operand ALU instructions: INC DEC NEG NOT.
    pub(super) fn alu1(&mut self, i: &Instruction) -> Res<()> {
        let size = self.op_size(i, 0);
        let loc = self.loc(i, 0);
        let v = self.read_loc(loc, size)?;
        match i.mnemonic() {
            Mnemonic::Not => self.write_loc(loc, size, !v),
            Mnemonic::Neg => {
                let res = 0u32.wrapping_sub(v);
                self.write_loc(loc, size, res)?;
                set_lazy(&mut self.s, op::NEG, size, 0, v, res);
                Ok(())
            }
            m => {
                let (kind, res) = if m == Mnemonic::Inc {
                    (op::INC, v.wrapping_add(1))
                } else {
                    (op::DEC, v.wrapping_sub(1))
                };
                self.write_loc(loc, size, res)?;
                let c = flags::cf(&self.s) as u32;
                set_lazy(&mut self.s, kind, size, v, 1, res);
                self.s.lazy.aux = c;
                Ok(())
            }
        }
    }

    /// Sets CF=OF=`overflow`, with SF/ZF/PF from the low half and AF clear (the
    /// manual leaves those undefined after multiplication).
    fn mul_flags(&mut self, low: u32, size: u32, overflow: bool) {
        let mut f = szp(low, size);
        if overflow {
            f |= CF | OF;
        }
        flags::set_masked(&mut self.s, ARITH, f);
    }

    /// MUL, IMUL (all three forms), DIV, IDIV.
    pub(super) fn muldiv(&mut self, i: &Instruction) -> Res<()> {
        let m = i.mnemonic();
        if m == Mnemonic::Imul && i.op_count() > 1 {
            // IMUL r, r/m[, imm]: truncated signed product.
            let size = self.op_size(i, 0);
            let (a, b) = if i.op_count() == 3 {
                (self.read_op(i, 1, size)?, i.immediate(2) as u32)
            } else {
                (self.read_op(i, 0, size)?, self.read_op(i, 1, size)?)
            };
            let full = sext(a, size) * sext(b, size);
            let low = full as u32 & size_mask(size);
            self.write_gpr(i.op0_register(), low);
            self.mul_flags(low, size, sext(low, size) != full);
            return Ok(());
        }
        let size = self.op_size(i, 0);
        let src = self.read_op(i, 0, size)?;
        let eax = self.s.regs[EAX];
        let edx = self.s.regs[EDX];
        // The double-width accumulator: AX, DX:AX or EDX:EAX.
        let acc: u64 = match size {
            1 => (eax & 0xffff) as u64,
            2 => ((edx & 0xffff) as u64) << 16 | (eax & 0xffff) as u64,
            _ => (edx as u64) << 32 | eax as u64,
        };
        let bits = size * 8;
        match m {
            Mnemonic::Mul => {
                let p = (eax & size_mask(size)) as u64 * src as u64;
                self.store_wide(size, p);
                self.mul_flags(p as u32, size, p >> bits != 0);
            }
            Mnemonic::Imul => {
                let p = sext(eax, size) * sext(src, size);
                self.store_wide(size, p as u64);
                let low = p as u32 & size_mask(size);
                self.mul_flags(low, size, sext(low, size) != p);
            }
            Mnemonic::Div => {
                if src == 0 {
                    return Err(Fault::De);
                }
                let q = acc / src as u64;
                let r = acc % src as u64;
                if q > size_mask(size) as u64 {
                    return Err(Fault::De);
                }
                self.store_divide(size, q as u32, r as u32);
            }
            _ => {
                if src == 0 {
                    return Err(Fault::De);
                }
                let a = match size {
                    1 => acc as u16 as i16 as i64,
                    2 => acc as u32 as i32 as i64,
                    _ => acc as i64,
                };
                let d = sext(src, size);
                // i64::MIN / -1 only arises for 32-bit operands and overflows anyway.
                let (q, r) = match (a.checked_div(d), a.checked_rem(d)) {
                    (Some(q), Some(r)) => (q, r),
                    _ => return Err(Fault::De),
                };
                let lim = 1i64 << (bits - 1);
                if q >= lim || q < -lim {
                    return Err(Fault::De);
                }
                self.store_divide(size, q as u32, r as u32);
            }
        }
        Ok(())
    }

    /// Stores a double-width product into AX, DX:AX or EDX:EAX.
    fn store_wide(&mut self, size: u32, p: u64) {
        match size {
            1 => self.set_reg(EAX, 2, false, p as u32),
            2 => {
                self.set_reg(EAX, 2, false, p as u32);
                self.set_reg(EDX, 2, false, (p >> 16) as u32);
            }
            _ => {
                self.s.regs[EAX] = p as u32;
                self.s.regs[EDX] = (p >> 32) as u32;
            }
        }
    }

    fn store_divide(&mut self, size: u32, q: u32, r: u32) {
        match size {
            1 => self.set_reg(EAX, 2, false, (q & 0xff) | (r & 0xff) << 8),
            _ => {
                self.set_reg(EAX, size, false, q);
                self.set_reg(EDX, size, false, r);
            }
        }
    }

    /// DAA DAS AAA AAS AAM AAD.
    pub(super) fn bcd(&mut self, i: &Instruction) -> Res<()> {
        let ax = self.s.regs[EAX] & 0xffff;
        let al = ax & 0xff;
        let cf = flags::cf(&self.s);
        let af = flags::af(&self.s);
        match i.mnemonic() {
            Mnemonic::Daa | Mnemonic::Das => {
                let sub = i.mnemonic() == Mnemonic::Das;
                let mut v = al;
                let mut ncf = false;
                let mut naf = false;
                if al & 0xf > 9 || af {
                    let t = if sub { v.wrapping_sub(6) } else { v + 6 };
                    ncf = cf || t > 0xff;
                    v = t & 0xff;
                    naf = true;
                }
                if al > 0x99 || cf {
                    v = if sub { v.wrapping_sub(0x60) } else { v + 0x60 } & 0xff;
                    ncf = true;
                } else if !sub {
                    ncf = false;
                }
                self.set_reg(EAX, 1, false, v);
                let mut f = szp(v, 1);
                f |= (ncf as u32 * CF) | (naf as u32 * AF);
                // OF is undefined; hardware reports the signed overflow of the adjustment.
                if !sub && al & 0x80 == 0 && v & 0x80 != 0 || sub && al & 0x80 != 0 && v & 0x80 == 0
                {
                    f |= OF;
                }
                flags::set_masked(&mut self.s, ARITH, f);
            }
            Mnemonic::Aaa | Mnemonic::Aas => {
                let adjust = al & 0xf > 9 || af;
                let mut v = ax;
                if adjust {
                    v = if i.mnemonic() == Mnemonic::Aaa {
                        v.wrapping_add(0x106)
                    } else {
                        // AX - 6 (borrowing from AH), then AH - 1.
                        let t = v.wrapping_sub(6) & 0xffff;
                        (t & 0xff) | ((t >> 8).wrapping_sub(1) & 0xff) << 8
                    };
                }
                v &= 0xff0f;
                self.set_reg(EAX, 2, false, v);
                let mut f = szp(v, 1);
                if adjust {
                    f |= CF | AF;
                }
                flags::set_masked(&mut self.s, ARITH, f);
            }
            Mnemonic::Aam => {
                let base = i.immediate8() as u32;
                if base == 0 {
                    return Err(Fault::De);
                }
                let v = ((al / base) << 8) | (al % base);
                self.set_reg(EAX, 2, false, v);
                flags::set_masked(&mut self.s, ARITH, szp(v, 1));
            }
            _ => {
                // AAD
                let base = if i.op_count() > 0 && i.op0_kind() == OpKind::Immediate8 {
                    i.immediate8() as u32
                } else {
                    10
                };
                let ah = ax >> 8;
                let v = (al + ah * base) & 0xff;
                self.set_reg(EAX, 2, false, v);
                flags::set_masked(&mut self.s, ARITH, szp(v, 1));
            }
        }
        Ok(())
    }
}
