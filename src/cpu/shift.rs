//! Shifts, rotates, double shifts and bit operations (Intel SDM Vol. 2: SAL/SAR/SHL/SHR,
//! RCL/RCR/ROL/ROR, SHLD, SHRD, BT/BTS/BTR/BTC, BSF/BSR).

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::alu::sext;
use super::fault::Res;
use super::flags::{self, op, set_lazy, sign_bit, size_mask, szp, ARITH, CF, OF, ZF};
use super::operand::Loc;
use super::Cpu;

impl Cpu {
    /// The count operand of a shift: 1, CL or imm8, masked to 5 bits.
    fn shift_count(&self, i: &Instruction, n: u32) -> u32 {
        let c = match i.op_kind(n) {
            OpKind::Register => self.s.regs[1] & 0xff,
            _ => i.immediate(n) as u32,
        };
        c & 0x1f
    }

    /// SHL/SAL SHR SAR ROL ROR RCL RCR.
    pub(super) fn shift(&mut self, i: &Instruction) -> Res<()> {
        let size = self.op_size(i, 0);
        let loc = self.loc(i, 0);
        let count = self.shift_count(i, 1);
        let dst = self.read_loc(loc, size)?;
        if count == 0 {
            // A zero count changes nothing, not even the flags (but memory is still
            // read, and checked for writability as hardware does).
            return self.write_loc(loc, size, dst);
        }
        let bits = size * 8;
        let mask = size_mask(size);
        let sb = sign_bit(size);
        let m = i.mnemonic();
        match m {
            Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar => {
                let res = match m {
                    Mnemonic::Shr => ((dst as u64) >> count) as u32,
                    Mnemonic::Sar => (sext(dst, size) >> count) as u32,
                    _ => ((dst as u64) << count) as u32,
                } & mask;
                self.write_loc(loc, size, res)?;
                let kind = match m {
                    Mnemonic::Shr => op::SHR,
                    Mnemonic::Sar => op::SAR,
                    _ => op::SHL,
                };
                set_lazy(&mut self.s, kind, size, dst, count, res);
            }
            Mnemonic::Rol | Mnemonic::Ror => {
                let r = count % bits;
                let res = if m == Mnemonic::Rol {
                    ((dst << r) | (dst.checked_shr(bits - r).unwrap_or(0))) & mask
                } else {
                    ((dst >> r) | (dst.checked_shl(bits - r).unwrap_or(0))) & mask
                };
                let res = if r == 0 { dst } else { res };
                self.write_loc(loc, size, res)?;
                let msb = res & sb != 0;
                let (cf, of) = if m == Mnemonic::Rol {
                    let cf = res & 1 != 0;
                    (cf, msb ^ cf)
                } else {
                    (msb, msb ^ (res & (sb >> 1) != 0))
                };
                flags::set_masked(&mut self.s, CF | OF, (cf as u32 * CF) | (of as u32 * OF));
            }
            _ => {
                // RCL/RCR rotate through CF: a (bits+1)-wide rotation.
                let r = match size {
                    1 => count % 9,
                    2 => count % 17,
                    _ => count,
                };
                let cf_in = flags::cf(&self.s) as u64;
                let w = bits + 1;
                let full = (cf_in << bits) | dst as u64;
                let wmask = (1u64 << w) - 1;
                let rot = if r == 0 {
                    full
                } else if m == Mnemonic::Rcl {
                    ((full << r) | (full >> (w - r))) & wmask
                } else {
                    ((full >> r) | (full << (w - r))) & wmask
                };
                let res = rot as u32 & mask;
                let cf = (rot >> bits) & 1 != 0;
                self.write_loc(loc, size, res)?;
                let of = if m == Mnemonic::Rcl {
                    (res & sb != 0) ^ cf
                } else {
                    (res & sb != 0) ^ (res & (sb >> 1) != 0)
                };
                flags::set_masked(&mut self.s, CF | OF, (cf as u32 * CF) | (of as u32 * OF));
            }
        }
        Ok(())
    }

    /// SHLD and SHRD.
    pub(super) fn shift_double(&mut self, i: &Instruction) -> Res<()> {
        let size = self.op_size(i, 0);
        let loc = self.loc(i, 0);
        let src = self.read_gpr(i.op1_register());
        let count = self.shift_count(i, 2);
        let dst = self.read_loc(loc, size)?;
        if count == 0 {
            return self.write_loc(loc, size, dst);
        }
        let left = i.mnemonic() == Mnemonic::Shld;
        let (res, cf) = if size == 4 {
            if left {
                let v = (dst as u64) << 32 | src as u64;
                (((v << count) >> 32) as u32, (dst >> (32 - count)) & 1 != 0)
            } else {
                let v = (src as u64) << 32 | dst as u64;
                ((v >> count) as u32, (dst >> (count - 1)) & 1 != 0)
            }
        } else {
            // 16-bit: counts above 16 shift through a dst:src:dst (SHLD) or
            // src:dst:... read from the low end (SHRD) concatenation, as P6 does.
            let (d, s) = (dst as u64 & 0xffff, src as u64 & 0xffff);
            if left {
                let v = d << 32 | s << 16 | d;
                (
                    ((v << count) >> 32) as u32 & 0xffff,
                    (v >> (48 - count)) & 1 != 0,
                )
            } else {
                let v = d | s << 16 | d << 32;
                ((v >> count) as u32 & 0xffff, (v >> (count - 1)) & 1 != 0)
            }
        };
        self.write_loc(loc, size, res)?;
        let sb = sign_bit(size);
        let of = (res ^ dst) & sb != 0;
        flags::set_masked(
            &mut self.s,
            ARITH,
            szp(res, size) | (cf as u32 * CF) | (of as u32 * OF),
        );
        Ok(())
    }

    /// BT BTS BTR BTC: register and memory bit strings (SDM Vol. 2A, BT: a register
    /// offset addresses bits outside the operand in memory, as a signed offset).
    pub(super) fn bit_test(&mut self, i: &Instruction) -> Res<()> {
        let size = self.op_size(i, 0);
        let bits = size * 8;
        let (loc, bit) = match (i.op_kind(0), i.op_kind(1)) {
            (OpKind::Memory, OpKind::Register) => {
                let off = sext(self.read_gpr(i.op1_register()), size);
                let (seg, ea) = self.ea(i);
                let delta = (off >> (if size == 2 { 4 } else { 5 })) * size as i64;
                let mut a = ea.wrapping_add(delta as u32);
                if self.addr16(i) {
                    a &= 0xffff;
                }
                (Loc::Mem { seg, off: a }, (off as u32) & (bits - 1))
            }
            _ => {
                let b = self.read_op(i, 1, size)? & (bits - 1);
                (self.loc(i, 0), b)
            }
        };
        let v = self.read_loc(loc, size)?;
        let cf = (v >> bit) & 1 != 0;
        let nv = match i.mnemonic() {
            Mnemonic::Bts => Some(v | 1 << bit),
            Mnemonic::Btr => Some(v & !(1 << bit)),
            Mnemonic::Btc => Some(v ^ 1 << bit),
            _ => None,
        };
        if let Some(nv) = nv {
            self.write_loc(loc, size, nv)?;
        }
        flags::set_flag(&mut self.s, CF, cf);
        Ok(())
    }

    /// BSF BSR: a zero source sets ZF and leaves the destination unchanged.
    pub(super) fn bit_scan(&mut self, i: &Instruction) -> Res<()> {
        let size = self.op_size(i, 0);
        let v = self.read_op(i, 1, size)?;
        if v == 0 {
            flags::set_flag(&mut self.s, ZF, true);
            return Ok(());
        }
        let idx = if matches!(i.mnemonic(), Mnemonic::Bsf | Mnemonic::Tzcnt) {
            v.trailing_zeros()
        } else {
            31 - v.leading_zeros()
        };
        self.write_gpr(i.op0_register(), idx);
        flags::set_flag(&mut self.s, ZF, false);
        Ok(())
    }
}
