//! EFLAGS and the lazy arithmetic flags (Intel SDM Vol. 1 §3.4.3, Appendix A).
//!
//! Flag-writing ALU operations record (operation, operands, result) in `CpuState::lazy`
//! instead of computing six flags; a flag is computed only when something reads it.
//! Operations whose flags are cheap to state directly (MUL, BCD, rotates) write
//! `eflags` eagerly and clear the lazy record.

use bitflags::bitflags;
use jit::abi::CpuState;

bitflags! {
    /// EFLAGS bits (SDM Vol. 1 Figure 3-8).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Eflags: u32 {
        const CF = 1 << 0;
        const RESERVED1 = 1 << 1;
        const PF = 1 << 2;
        const AF = 1 << 4;
        const ZF = 1 << 6;
        const SF = 1 << 7;
        const TF = 1 << 8;
        const IF = 1 << 9;
        const DF = 1 << 10;
        const OF = 1 << 11;
        const IOPL = 3 << 12;
        const NT = 1 << 14;
        const RF = 1 << 16;
        const VM = 1 << 17;
        const AC = 1 << 18;
        const VIF = 1 << 19;
        const VIP = 1 << 20;
        const ID = 1 << 21;
    }
}

pub const CF: u32 = Eflags::CF.bits();
pub const PF: u32 = Eflags::PF.bits();
pub const AF: u32 = Eflags::AF.bits();
pub const ZF: u32 = Eflags::ZF.bits();
pub const SF: u32 = Eflags::SF.bits();
pub const TF: u32 = Eflags::TF.bits();
pub const IF: u32 = Eflags::IF.bits();
pub const DF: u32 = Eflags::DF.bits();
pub const OF: u32 = Eflags::OF.bits();
pub const IOPL: u32 = Eflags::IOPL.bits();
pub const NT: u32 = Eflags::NT.bits();
pub const RF: u32 = Eflags::RF.bits();
pub const VM: u32 = Eflags::VM.bits();
pub const AC: u32 = Eflags::AC.bits();
pub const ID: u32 = Eflags::ID.bits();
/// The six arithmetic status flags.
pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
/// Bits software can ever change on this CPU (no VIF/VIP without CR4.VME/PVI).
pub const WRITABLE: u32 = ARITH | TF | IF | DF | IOPL | NT | RF | VM | AC | ID;

/// Lazy operation kinds, stored in the low byte of `LazyFlags::op`; the operand size in
/// bytes (1, 2, 4) is in bits 8..16.
pub mod op {
    pub const NONE: u32 = 0;
    pub const ADD: u32 = 1;
    /// `aux` = carry in.
    pub const ADC: u32 = 2;
    pub const SUB: u32 = 3;
    /// `aux` = borrow in.
    pub const SBB: u32 = 4;
    pub const LOGIC: u32 = 5;
    /// `aux` = CF before the instruction (INC/DEC keep it).
    pub const INC: u32 = 6;
    pub const DEC: u32 = 7;
    /// `src` = operand, `dst` = 0.
    pub const NEG: u32 = 8;
    /// `src` = masked, non-zero count.
    pub const SHL: u32 = 9;
    pub const SHR: u32 = 10;
    pub const SAR: u32 = 11;
}

#[inline]
pub fn size_mask(size: u32) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xffff_ffff,
    }
}

#[inline]
pub fn sign_bit(size: u32) -> u32 {
    1 << (size * 8 - 1)
}

#[inline]
fn parity(v: u32) -> bool {
    (v as u8).count_ones().is_multiple_of(2)
}

/// Records a lazily evaluated flag-writing operation.
#[inline]
pub fn set_lazy(s: &mut CpuState, kind: u32, size: u32, dst: u32, src: u32, res: u32) {
    s.lazy.op = kind | (size << 8);
    s.lazy.dst = dst;
    s.lazy.src = src;
    s.lazy.res = res & size_mask(size);
}

/// Computes CF from the lazy record (which must be live).
fn lazy_cf(s: &CpuState) -> bool {
    let l = &s.lazy;
    let size = l.op >> 8;
    let m = size_mask(size);
    let (dst, src, res) = (l.dst & m, l.src & m, l.res);
    match l.op & 0xff {
        op::ADD => res < dst,
        op::ADC => res < dst || (l.aux != 0 && res == dst),
        op::SUB => dst < src,
        op::SBB => (dst as u64) < src as u64 + l.aux as u64,
        op::LOGIC => false,
        op::INC | op::DEC => l.aux != 0,
        op::NEG => src != 0,
        op::SHL => ((dst as u64) << (src - 1)) >> (size * 8 - 1) & 1 != 0,
        op::SHR => ((dst as u64) >> (src - 1)) & 1 != 0,
        op::SAR => {
            let sx = ((dst << (32 - size * 8)) as i32 >> (32 - size * 8)) as i64;
            (sx >> (src - 1).min(63)) & 1 != 0
        }
        _ => s.eflags & CF != 0,
    }
}

fn lazy_of(s: &CpuState) -> bool {
    let l = &s.lazy;
    let size = l.op >> 8;
    let m = size_mask(size);
    let sb = sign_bit(size);
    let (dst, src, res) = (l.dst & m, l.src & m, l.res);
    match l.op & 0xff {
        op::ADD | op::ADC => (dst ^ res) & (src ^ res) & sb != 0,
        op::SUB | op::SBB => (dst ^ src) & (dst ^ res) & sb != 0,
        op::LOGIC => false,
        op::INC => res == sb,
        op::DEC => res == sb - 1,
        op::NEG => res == sb,
        op::SHL => lazy_cf(s) ^ (res & sb != 0),
        op::SHR => dst & sb != 0,
        op::SAR => false,
        _ => s.eflags & OF != 0,
    }
}

fn lazy_af(s: &CpuState) -> bool {
    let l = &s.lazy;
    match l.op & 0xff {
        op::ADD | op::ADC | op::SUB | op::SBB => (l.dst ^ l.src ^ l.res) & 0x10 != 0,
        op::INC => l.res & 0xf == 0,
        op::DEC => l.res & 0xf == 0xf,
        op::NEG => l.src & 0xf != 0,
        op::LOGIC | op::SHL | op::SHR | op::SAR => false,
        _ => s.eflags & AF != 0,
    }
}

#[inline]
pub fn cf(s: &CpuState) -> bool {
    if s.lazy.op == op::NONE {
        s.eflags & CF != 0
    } else {
        lazy_cf(s)
    }
}

#[inline]
pub fn zf(s: &CpuState) -> bool {
    if s.lazy.op == op::NONE {
        s.eflags & ZF != 0
    } else {
        s.lazy.res == 0
    }
}

#[inline]
pub fn sf(s: &CpuState) -> bool {
    if s.lazy.op == op::NONE {
        s.eflags & SF != 0
    } else {
        s.lazy.res & sign_bit(s.lazy.op >> 8) != 0
    }
}

#[inline]
pub fn of(s: &CpuState) -> bool {
    if s.lazy.op == op::NONE {
        s.eflags & OF != 0
    } else {
        lazy_of(s)
    }
}

#[inline]
pub fn pf(s: &CpuState) -> bool {
    if s.lazy.op == op::NONE {
        s.eflags & PF != 0
    } else {
        parity(s.lazy.res)
    }
}

#[inline]
pub fn af(s: &CpuState) -> bool {
    if s.lazy.op == op::NONE {
        s.eflags & AF != 0
    } else {
        lazy_af(s)
    }
}

/// The full EFLAGS value with the arithmetic flags evaluated.
pub fn get(s: &CpuState) -> u32 {
    if s.lazy.op == op::NONE {
        return s.eflags;
    }
    let mut f = s.eflags & !ARITH;
    f |= cf(s) as u32 * CF;
    f |= pf(s) as u32 * PF;
    f |= af(s) as u32 * AF;
    f |= zf(s) as u32 * ZF;
    f |= sf(s) as u32 * SF;
    f |= of(s) as u32 * OF;
    f
}

/// Evaluates the lazy record into `eflags` so that single flags can be edited.
#[inline]
pub fn materialize(s: &mut CpuState) {
    if s.lazy.op != op::NONE {
        s.eflags = get(s);
        s.lazy.op = op::NONE;
    }
}

/// Replaces the flags in `mask` with the matching bits of `value`.
#[inline]
pub fn set_masked(s: &mut CpuState, mask: u32, value: u32) {
    materialize(s);
    s.eflags = (s.eflags & !mask) | (value & mask);
}

/// Sets one flag.
#[inline]
pub fn set_flag(s: &mut CpuState, flag: u32, on: bool) {
    set_masked(s, flag, if on { flag } else { 0 });
}

/// ZF, SF and PF of `res` at `size` bytes, as a flags value.
pub fn szp(res: u32, size: u32) -> u32 {
    let res = res & size_mask(size);
    let mut f = 0;
    if res == 0 {
        f |= ZF;
    }
    if res & sign_bit(size) != 0 {
        f |= SF;
    }
    if parity(res) {
        f |= PF;
    }
    f
}

/// Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc opcodes).
pub fn cond(s: &CpuState, cc: u8) -> bool {
    let r = match cc >> 1 {
        0 => of(s),
        1 => cf(s),
        2 => zf(s),
        3 => cf(s) || zf(s),
        4 => sf(s),
        5 => pf(s),
        6 => sf(s) != of(s),
        _ => zf(s) || (sf(s) != of(s)),
    };
    r ^ (cc & 1 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CpuState {
        CpuState {
            eflags: 2,
            ..Default::default()
        }
    }

    #[test]
    fn add_overflow_and_carry() {
        let mut s = state();
        set_lazy(&mut s, op::ADD, 1, 0x7f, 1, 0x80);
        assert!(of(&s) && !cf(&s) && sf(&s) && !zf(&s) && af(&s));
        set_lazy(&mut s, op::ADD, 4, 0xffff_ffff, 1, 0);
        assert!(cf(&s) && zf(&s) && !of(&s) && pf(&s));
    }

    #[test]
    fn sub_borrow() {
        let mut s = state();
        set_lazy(&mut s, op::SUB, 2, 0, 1, 0xffff);
        assert!(cf(&s) && sf(&s) && !of(&s));
        assert_eq!(get(&s) & ARITH, CF | SF | PF | AF);
    }

    #[test]
    fn conditions_follow_flags() {
        let mut s = state();
        set_lazy(&mut s, op::SUB, 4, 1, 2, 1u32.wrapping_sub(2));
        assert!(cond(&s, 0x2)); // B
        assert!(cond(&s, 0xc)); // L
        assert!(!cond(&s, 0x4)); // E
        assert!(cond(&s, 0x6)); // BE
    }

    #[test]
    fn materialize_keeps_other_bits() {
        let mut s = state();
        s.eflags |= DF | IF;
        set_lazy(&mut s, op::LOGIC, 4, 0, 0, 0);
        materialize(&mut s);
        assert_eq!(s.eflags, 2 | DF | IF | ZF | PF);
        assert_eq!(s.lazy.op, op::NONE);
    }
}
