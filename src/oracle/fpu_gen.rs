//! x87 cases for the native oracle (Intel SDM Vol. 1 ch. 8 "Programming with the x87 FPU",
//! Vol. 2 instruction pages F2XM1–FYL2XP1).
//!
//! A case is `FRSTOR [IMG]`, one to three x87 instructions, then `FNSAVE [SAVE]` (or
//! `FSAVE`). The image at `IMG` is a random FPU state in the 32-bit protected-mode FSAVE
//! layout (SDM Vol. 1 §8.1.10, Figures 8-9 and 8-10); the final state lands at `SAVE`, inside
//! the compared data area, so the oracle needs nothing FPU-specific in its runners.
//!
//! FSAVE image, 108 bytes: FCW, FSW, FTW (each in the low half of a dword), FIP, FCS (low
//! half) with FOP in bits 16–26, FDP, FDS (low half), then ST(0)..ST(7) as 80-bit values.
//! FSTENV writes the first 28 bytes of the same layout. Left out of the comparison
//! ([`Case::mem_ignore`]): the reserved upper halves of the FCW/FSW/FTW/FDS dwords, the FCS
//! and FDS selectors (the host runs cases with CS=0x23/DS=0x2b, rx86's executor with
//! 0x1b/0x23), FOP (processors differ in when they record it), and FIP/FDP: both
//! executors record the same offsets, but on an AMD host a context switch between the
//! instruction and the FNSAVE loses them (AMD's FXSAVE, which the kernel uses, stores
//! the pointers only while an exception is pending), so the host is not deterministic
//! there under load.
//!
//! What the host (AMD EPYC, Linux compat mode) was seen to do, and rx86 must match: FNSAVE
//! writes 0xFFFF into the reserved halves; FCW bit 6 reads as 1 and bits 13-15 as 0 after
//! FRSTOR/FLDCW; FSW.ES and B are recomputed (0 with all exceptions masked); tags are
//! recomputed from the register contents; every non-control instruction sets FIP (to its
//! first prefix byte), FCS and FOP (`(opcode & 7) << 8 | modrm`, recorded always), and only
//! those with a memory operand set FDP and FDS; FNINIT zeroes all five. The reserved
//! PC=1 rounds like PC=3 (64 bits).
//!
//! The loaded FCW masks all six exceptions (bits 0-5 set), so the host never raises #MF
//! (SIGFPE); FLDCW and FLDENV operands keep them masked. RC is random, PC is 0, 2 or 3 and
//! sometimes the reserved value 1. Tags follow the register contents, except that some
//! cases get a random non-empty tag (hardware recomputes tags from the contents on FSAVE)
//! or deliberately empty registers (stack underflow and overflow: IE with SF and C1).
//!
//! Case `i` of seed `s` depends only on `(s, i)` and its `code_addr`, as in [`super::gen`].

use super::gen::{Intent, Rng};
use super::{eflags, Case, CaseState, CASE_SLOT, CODE_BASE, DATA_BASE, DATA_SIZE};
use iced_x86::Mnemonic;
use std::ops::Range;

/// Offset in the data area of the image `FRSTOR` loads.
pub const IMG: usize = 0x000;
/// Offset of the environment `FLDENV` loads.
pub const ENV_IN: usize = 0x080;
/// Offset of the memory-operand slots, `SLOT` bytes each.
pub const OPS: usize = 0x100;
pub const SLOT: usize = 16;
/// Offset where `FNSTENV` stores.
pub const ENV_OUT: usize = 0x300;
/// Offset where the final `FNSAVE` stores.
pub const SAVE: usize = 0x400;
/// Bytes of a 32-bit FSAVE image and of a 32-bit FSTENV environment.
pub const IMAGE_SIZE: usize = 108;
pub const ENV_SIZE: usize = 28;
/// Bytes of an environment (relative to its start) not compared: reserved halves, FIP,
/// FCS and FOP, FDP, FDS.
pub const ENV_IGNORED: [Range<usize>; 3] = [2..4, 6..8, 10..28];

/// FCW bits (SDM Vol. 1 §8.1.5).
pub mod fcw {
    /// The six exception masks IM DM ZM OM UM PM.
    pub const MASKS: u16 = 0x3F;
    pub const PC_SHIFT: u16 = 8;
    pub const RC_SHIFT: u16 = 10;
}

/// The instruction groups; `Transcendental` is reported, not asserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Arith,
    Compare,
    Move,
    Control,
    Transcendental,
}

/// Which families a batch draws its main instruction from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Set {
    /// Everything but the transcendentals.
    Core,
    Transcendental,
}

/// A memory operand the instruction reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opnd {
    F32,
    F64,
    F80,
    I16,
    I32,
    I64,
    Bcd,
    /// A control word for FLDCW (exceptions kept masked).
    Cw,
    /// An environment for FLDENV.
    Env,
}

#[derive(Clone, Copy, Debug)]
enum Form {
    /// `op /reg` reading memory.
    Load(u8, Opnd),
    /// `op /reg` writing `size` bytes of memory.
    Store(u8, usize),
    /// `op base+i`, i = 0..7.
    StI(u8),
    /// `op byte`.
    Fixed(u8),
    /// `9B` (FWAIT).
    Wait,
}

/// An x87 instruction family: a name (as in `Case::name`) and its encoding.
#[derive(Debug)]
pub struct FpuFamily {
    pub name: &'static str,
    pub group: Group,
    op: u8,
    form: Form,
    /// What iced-x86 decodes it as.
    pub mnemonic: Mnemonic,
}

const fn fam(
    name: &'static str,
    group: Group,
    op: u8,
    form: Form,
    mnemonic: Mnemonic,
) -> FpuFamily {
    FpuFamily {
        name,
        group,
        op,
        form,
        mnemonic,
    }
}

use Form::{Fixed, Load, StI, Store, Wait};
use Group::{Arith, Compare, Control, Move, Transcendental};
use Mnemonic as M;
use Opnd::{Bcd, Cw, Env, F32, F64, F80, I16, I32, I64};

/// Every family, in a fixed order.
pub static FAMILIES: &[FpuFamily] = &[
    // Arithmetic (SDM Vol. 2A "FADD/FADDP/FIADD" and its siblings).
    fam("fadd_m32", Arith, 0xD8, Load(0, F32), M::Fadd),
    fam("fmul_m32", Arith, 0xD8, Load(1, F32), M::Fmul),
    fam("fsub_m32", Arith, 0xD8, Load(4, F32), M::Fsub),
    fam("fsubr_m32", Arith, 0xD8, Load(5, F32), M::Fsubr),
    fam("fdiv_m32", Arith, 0xD8, Load(6, F32), M::Fdiv),
    fam("fdivr_m32", Arith, 0xD8, Load(7, F32), M::Fdivr),
    fam("fadd_m64", Arith, 0xDC, Load(0, F64), M::Fadd),
    fam("fmul_m64", Arith, 0xDC, Load(1, F64), M::Fmul),
    fam("fsub_m64", Arith, 0xDC, Load(4, F64), M::Fsub),
    fam("fsubr_m64", Arith, 0xDC, Load(5, F64), M::Fsubr),
    fam("fdiv_m64", Arith, 0xDC, Load(6, F64), M::Fdiv),
    fam("fdivr_m64", Arith, 0xDC, Load(7, F64), M::Fdivr),
    fam("fadd_st0_sti", Arith, 0xD8, StI(0xC0), M::Fadd),
    fam("fmul_st0_sti", Arith, 0xD8, StI(0xC8), M::Fmul),
    fam("fsub_st0_sti", Arith, 0xD8, StI(0xE0), M::Fsub),
    fam("fsubr_st0_sti", Arith, 0xD8, StI(0xE8), M::Fsubr),
    fam("fdiv_st0_sti", Arith, 0xD8, StI(0xF0), M::Fdiv),
    fam("fdivr_st0_sti", Arith, 0xD8, StI(0xF8), M::Fdivr),
    fam("fadd_sti_st0", Arith, 0xDC, StI(0xC0), M::Fadd),
    fam("fmul_sti_st0", Arith, 0xDC, StI(0xC8), M::Fmul),
    fam("fsubr_sti_st0", Arith, 0xDC, StI(0xE0), M::Fsubr),
    fam("fsub_sti_st0", Arith, 0xDC, StI(0xE8), M::Fsub),
    fam("fdivr_sti_st0", Arith, 0xDC, StI(0xF0), M::Fdivr),
    fam("fdiv_sti_st0", Arith, 0xDC, StI(0xF8), M::Fdiv),
    fam("faddp", Arith, 0xDE, StI(0xC0), M::Faddp),
    fam("fmulp", Arith, 0xDE, StI(0xC8), M::Fmulp),
    fam("fsubrp", Arith, 0xDE, StI(0xE0), M::Fsubrp),
    fam("fsubp", Arith, 0xDE, StI(0xE8), M::Fsubp),
    fam("fdivrp", Arith, 0xDE, StI(0xF0), M::Fdivrp),
    fam("fdivp", Arith, 0xDE, StI(0xF8), M::Fdivp),
    fam("fiadd_m16", Arith, 0xDE, Load(0, I16), M::Fiadd),
    fam("fimul_m16", Arith, 0xDE, Load(1, I16), M::Fimul),
    fam("fisub_m16", Arith, 0xDE, Load(4, I16), M::Fisub),
    fam("fisubr_m16", Arith, 0xDE, Load(5, I16), M::Fisubr),
    fam("fidiv_m16", Arith, 0xDE, Load(6, I16), M::Fidiv),
    fam("fidivr_m16", Arith, 0xDE, Load(7, I16), M::Fidivr),
    fam("fiadd_m32", Arith, 0xDA, Load(0, I32), M::Fiadd),
    fam("fimul_m32", Arith, 0xDA, Load(1, I32), M::Fimul),
    fam("fisub_m32", Arith, 0xDA, Load(4, I32), M::Fisub),
    fam("fisubr_m32", Arith, 0xDA, Load(5, I32), M::Fisubr),
    fam("fidiv_m32", Arith, 0xDA, Load(6, I32), M::Fidiv),
    fam("fidivr_m32", Arith, 0xDA, Load(7, I32), M::Fidivr),
    fam("fsqrt", Arith, 0xD9, Fixed(0xFA), M::Fsqrt),
    fam("fscale", Arith, 0xD9, Fixed(0xFD), M::Fscale),
    fam("fprem", Arith, 0xD9, Fixed(0xF8), M::Fprem),
    fam("fprem1", Arith, 0xD9, Fixed(0xF5), M::Fprem1),
    fam("frndint", Arith, 0xD9, Fixed(0xFC), M::Frndint),
    fam("fxtract", Arith, 0xD9, Fixed(0xF4), M::Fxtract),
    fam("fabs", Arith, 0xD9, Fixed(0xE1), M::Fabs),
    fam("fchs", Arith, 0xD9, Fixed(0xE0), M::Fchs),
    // Comparisons (SDM Vol. 2A "FCOM/FCOMP/FCOMPP", "FCOMI/...", "FICOM", "FTST", "FUCOM",
    // "FXAM").
    fam("fcom_m32", Compare, 0xD8, Load(2, F32), M::Fcom),
    fam("fcomp_m32", Compare, 0xD8, Load(3, F32), M::Fcomp),
    fam("fcom_m64", Compare, 0xDC, Load(2, F64), M::Fcom),
    fam("fcomp_m64", Compare, 0xDC, Load(3, F64), M::Fcomp),
    fam("fcom_sti", Compare, 0xD8, StI(0xD0), M::Fcom),
    fam("fcomp_sti", Compare, 0xD8, StI(0xD8), M::Fcomp),
    fam("fcompp", Compare, 0xDE, Fixed(0xD9), M::Fcompp),
    fam("fucom", Compare, 0xDD, StI(0xE0), M::Fucom),
    fam("fucomp", Compare, 0xDD, StI(0xE8), M::Fucomp),
    fam("fucompp", Compare, 0xDA, Fixed(0xE9), M::Fucompp),
    fam("ficom_m16", Compare, 0xDE, Load(2, I16), M::Ficom),
    fam("ficomp_m16", Compare, 0xDE, Load(3, I16), M::Ficomp),
    fam("ficom_m32", Compare, 0xDA, Load(2, I32), M::Ficom),
    fam("ficomp_m32", Compare, 0xDA, Load(3, I32), M::Ficomp),
    fam("fcomi", Compare, 0xDB, StI(0xF0), M::Fcomi),
    fam("fcomip", Compare, 0xDF, StI(0xF0), M::Fcomip),
    fam("fucomi", Compare, 0xDB, StI(0xE8), M::Fucomi),
    fam("fucomip", Compare, 0xDF, StI(0xE8), M::Fucomip),
    fam("ftst", Compare, 0xD9, Fixed(0xE4), M::Ftst),
    fam("fxam", Compare, 0xD9, Fixed(0xE5), M::Fxam),
    // Loads, stores, conversions, stack and register moves.
    fam("fld_m32", Move, 0xD9, Load(0, F32), M::Fld),
    fam("fld_m64", Move, 0xDD, Load(0, F64), M::Fld),
    fam("fld_m80", Move, 0xDB, Load(5, F80), M::Fld),
    fam("fld_sti", Move, 0xD9, StI(0xC0), M::Fld),
    fam("fst_m32", Move, 0xD9, Store(2, 4), M::Fst),
    fam("fst_m64", Move, 0xDD, Store(2, 8), M::Fst),
    fam("fstp_m32", Move, 0xD9, Store(3, 4), M::Fstp),
    fam("fstp_m64", Move, 0xDD, Store(3, 8), M::Fstp),
    fam("fstp_m80", Move, 0xDB, Store(7, 10), M::Fstp),
    fam("fst_sti", Move, 0xDD, StI(0xD0), M::Fst),
    fam("fstp_sti", Move, 0xDD, StI(0xD8), M::Fstp),
    fam("fild_m16", Move, 0xDF, Load(0, I16), M::Fild),
    fam("fild_m32", Move, 0xDB, Load(0, I32), M::Fild),
    fam("fild_m64", Move, 0xDF, Load(5, I64), M::Fild),
    fam("fist_m16", Move, 0xDF, Store(2, 2), M::Fist),
    fam("fist_m32", Move, 0xDB, Store(2, 4), M::Fist),
    fam("fistp_m16", Move, 0xDF, Store(3, 2), M::Fistp),
    fam("fistp_m32", Move, 0xDB, Store(3, 4), M::Fistp),
    fam("fistp_m64", Move, 0xDF, Store(7, 8), M::Fistp),
    fam("fbld", Move, 0xDF, Load(4, Bcd), M::Fbld),
    fam("fbstp", Move, 0xDF, Store(6, 10), M::Fbstp),
    fam("fld1", Move, 0xD9, Fixed(0xE8), M::Fld1),
    fam("fldl2t", Move, 0xD9, Fixed(0xE9), M::Fldl2t),
    fam("fldl2e", Move, 0xD9, Fixed(0xEA), M::Fldl2e),
    fam("fldpi", Move, 0xD9, Fixed(0xEB), M::Fldpi),
    fam("fldlg2", Move, 0xD9, Fixed(0xEC), M::Fldlg2),
    fam("fldln2", Move, 0xD9, Fixed(0xED), M::Fldln2),
    fam("fldz", Move, 0xD9, Fixed(0xEE), M::Fldz),
    fam("fxch", Move, 0xD9, StI(0xC8), M::Fxch),
    fam("fcmovb", Move, 0xDA, StI(0xC0), M::Fcmovb),
    fam("fcmove", Move, 0xDA, StI(0xC8), M::Fcmove),
    fam("fcmovbe", Move, 0xDA, StI(0xD0), M::Fcmovbe),
    fam("fcmovu", Move, 0xDA, StI(0xD8), M::Fcmovu),
    fam("fcmovnb", Move, 0xDB, StI(0xC0), M::Fcmovnb),
    fam("fcmovne", Move, 0xDB, StI(0xC8), M::Fcmovne),
    fam("fcmovnbe", Move, 0xDB, StI(0xD0), M::Fcmovnbe),
    fam("fcmovnu", Move, 0xDB, StI(0xD8), M::Fcmovnu),
    fam("ffree", Move, 0xDD, StI(0xC0), M::Ffree),
    fam("fincstp", Move, 0xD9, Fixed(0xF7), M::Fincstp),
    fam("fdecstp", Move, 0xD9, Fixed(0xF6), M::Fdecstp),
    // Control (SDM Vol. 1 §8.3.12 "Control instructions").
    fam("fldcw", Control, 0xD9, Load(5, Cw), M::Fldcw),
    fam("fnstcw", Control, 0xD9, Store(7, 2), M::Fnstcw),
    fam("fnstsw_m16", Control, 0xDD, Store(7, 2), M::Fnstsw),
    fam("fnstsw_ax", Control, 0xDF, Fixed(0xE0), M::Fnstsw),
    fam("fnstenv", Control, 0xD9, Store(6, ENV_SIZE), M::Fnstenv),
    fam("fldenv", Control, 0xD9, Load(4, Env), M::Fldenv),
    fam("fnclex", Control, 0xDB, Fixed(0xE2), M::Fnclex),
    fam("fninit", Control, 0xDB, Fixed(0xE3), M::Fninit),
    fam("fnop", Control, 0xD9, Fixed(0xD0), M::Fnop),
    fam("fwait", Control, 0x9B, Wait, M::Wait),
    // Transcendentals (SDM Vol. 1 §8.3.9, §8.3.10; reported, not asserted).
    fam("fsin", Transcendental, 0xD9, Fixed(0xFE), M::Fsin),
    fam("fcos", Transcendental, 0xD9, Fixed(0xFF), M::Fcos),
    fam("fsincos", Transcendental, 0xD9, Fixed(0xFB), M::Fsincos),
    fam("fptan", Transcendental, 0xD9, Fixed(0xF2), M::Fptan),
    fam("fpatan", Transcendental, 0xD9, Fixed(0xF3), M::Fpatan),
    fam("f2xm1", Transcendental, 0xD9, Fixed(0xF0), M::F2xm1),
    fam("fyl2x", Transcendental, 0xD9, Fixed(0xF1), M::Fyl2x),
    fam("fyl2xp1", Transcendental, 0xD9, Fixed(0xF9), M::Fyl2xp1),
];

/// The families of `set`, in a fixed order.
pub fn families(set: Set) -> Vec<&'static FpuFamily> {
    FAMILIES
        .iter()
        .filter(|f| (f.group == Transcendental) == (set == Set::Transcendental))
        .collect()
}

/// An 80-bit extended value: sign and biased exponent, and the 64-bit significand with its
/// explicit integer bit (SDM Vol. 1 §4.2.2, Figure 4-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X80 {
    pub se: u16,
    pub sig: u64,
}

impl X80 {
    pub fn from_bytes(b: &[u8]) -> X80 {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        X80 {
            sig: u64::from_le_bytes(s),
            se: u16::from_le_bytes([b[8], b[9]]),
        }
    }
    pub fn to_bytes(self) -> [u8; 10] {
        let mut out = [0u8; 10];
        out[..8].copy_from_slice(&self.sig.to_le_bytes());
        out[8..].copy_from_slice(&self.se.to_le_bytes());
        out
    }
    pub fn exp(self) -> u16 {
        self.se & 0x7FFF
    }
    pub fn negative(self) -> bool {
        self.se & 0x8000 != 0
    }
    /// The tag FSAVE computes for a non-empty register from its contents: 0 valid, 1 zero,
    /// 2 special (NaN, infinity, denormal and the unsupported formats) (SDM Vol. 1 §8.1.7,
    /// Figure 8-7; the processor keeps only empty/non-empty and recomputes the rest).
    pub fn tag(self) -> u16 {
        match (self.exp(), self.sig) {
            (0, 0) => 1,
            (0, _) | (0x7FFF, _) => 2,
            (_, s) if s >> 63 == 0 => 2,
            _ => 0,
        }
    }
    /// Distance in representable values from `other` (same sign, both finite); `None`
    /// otherwise. Adjacent extended values of one sign differ by one in
    /// `(exponent - 1) * 2^63 + significand` (denormals: the significand).
    pub fn ulps(self, other: X80) -> Option<u128> {
        let key = |x: X80| -> Option<i128> {
            if x.exp() == 0x7FFF || (x.exp() != 0 && x.sig >> 63 == 0) {
                return None;
            }
            let k = if x.exp() == 0 {
                i128::from(x.sig)
            } else {
                (i128::from(x.exp()) - 1) * (1i128 << 63) + i128::from(x.sig)
            };
            Some(if x.negative() { -k } else { k })
        };
        Some((key(self)? - key(other)?).unsigned_abs())
    }
}

/// The parts of a 32-bit protected-mode FSAVE image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub fcw: u16,
    pub fsw: u16,
    /// The full tag word, two bits per physical register.
    pub ftw: u16,
    pub fip: u32,
    pub fcs: u16,
    pub fop: u16,
    pub fdp: u32,
    pub fds: u16,
    /// ST(0)..ST(7).
    pub st: [X80; 8],
    /// Upper halves of the FCW, FSW, FTW and FDS dwords.
    pub reserved: [u16; 4],
}

impl Image {
    pub fn from_bytes(b: &[u8]) -> Image {
        let h = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut st = [X80 { se: 0, sig: 0 }; 8];
        for (i, r) in st.iter_mut().enumerate() {
            *r = X80::from_bytes(&b[28 + 10 * i..38 + 10 * i]);
        }
        Image {
            fcw: h(0),
            fsw: h(4),
            ftw: h(8),
            fip: w(12),
            fcs: h(16),
            fop: h(18),
            fdp: w(20),
            fds: h(24),
            st,
            reserved: [h(2), h(6), h(10), h(26)],
        }
    }
    pub fn to_bytes(&self) -> [u8; IMAGE_SIZE] {
        let mut b = [0u8; IMAGE_SIZE];
        let mut put16 = |at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
        put16(0, self.fcw);
        put16(2, self.reserved[0]);
        put16(4, self.fsw);
        put16(6, self.reserved[1]);
        put16(8, self.ftw);
        put16(10, self.reserved[2]);
        put16(16, self.fcs);
        put16(18, self.fop);
        put16(24, self.fds);
        put16(26, self.reserved[3]);
        b[12..16].copy_from_slice(&self.fip.to_le_bytes());
        b[20..24].copy_from_slice(&self.fdp.to_le_bytes());
        for (i, r) in self.st.iter().enumerate() {
            b[28 + 10 * i..38 + 10 * i].copy_from_slice(&r.to_bytes());
        }
        b
    }
    pub fn top(&self) -> u16 {
        (self.fsw >> 11) & 7
    }
    /// The 2-bit tag of ST(i).
    pub fn st_tag(&self, i: usize) -> u16 {
        let phys = (usize::from(self.top()) + i) & 7;
        (self.ftw >> (2 * phys)) & 3
    }
    /// A readable multi-line description (registers by stack position).
    pub fn describe(&self) -> String {
        let mut out = format!(
            "    fcw={:04x} (pc={} rc={}) fsw={:04x} (top={} c3..c0={}{}{}{} exc={:02x}) ftw={:04x}\n    fip={:08x} fcs={:04x} fop={:03x} fdp={:08x} fds={:04x} reserved={:04x?}\n",
            self.fcw,
            (self.fcw >> 8) & 3,
            (self.fcw >> 10) & 3,
            self.fsw,
            self.top(),
            (self.fsw >> 14) & 1,
            (self.fsw >> 10) & 1,
            (self.fsw >> 9) & 1,
            (self.fsw >> 8) & 1,
            self.fsw & 0xFF,
            self.ftw,
            self.fip,
            self.fcs,
            self.fop & 0x7FF,
            self.fdp,
            self.fds,
            self.reserved
        );
        for (i, r) in self.st.iter().enumerate() {
            let tag = ["valid", "zero", "special", "empty"][usize::from(self.st_tag(i))];
            out.push_str(&format!("    st{i}: {:04x} {:016x} {tag}\n", r.se, r.sig));
        }
        out
    }
}

/// The decoded initial and final FPU images of an FPU case (for reports).
pub fn explain(case: &Case, expected: &CaseState, got: &CaseState) -> String {
    let img = |m: &[u8], at: usize| Image::from_bytes(&m[at..at + IMAGE_SIZE]).describe();
    format!(
        "  initial FPU image:\n{}  expected (host) FNSAVE image:\n{}  got (rx86) FNSAVE image:\n{}",
        img(&case.init.mem, IMG),
        img(&expected.mem, SAVE),
        img(&got.mem, SAVE)
    )
}

// ---------------------------------------------------------------------------------------
// Values.

/// A significand with the integer bit set: random, short, all ones, or with a pattern
/// just at a rounding position of single, double or extended precision.
fn significand(rng: &mut Rng) -> u64 {
    let top = 1u64 << 63;
    match rng.below(8) {
        0..=2 => rng.next_u64() | top,
        3 => {
            let keep = rng.range(1, 63) as u32;
            (rng.next_u64() | top) & !(u64::MAX >> keep)
        }
        4 => u64::MAX,
        5 => top,
        _ => {
            // Keep p bits, then: exactly half an ulp, half and a sticky bit, just below half,
            // or nothing.
            let p = rng.pick(&[24u32, 53, 64, 11, 16, 32]);
            let hi = (rng.next_u64() | top) & !(u64::MAX >> p);
            if p == 64 {
                return hi | (rng.next_u64() & 3);
            }
            let half = 1u64 << (63 - p);
            hi | match rng.below(4) {
                0 => half,
                1 => half | (rng.next_u64() & (half - 1)) | 1,
                2 => half - 1,
                _ => 0,
            }
        }
    }
}

const BIAS: i64 = 0x3FFF;

/// A biased extended exponent in `1..=0x7FFE`, often near a boundary.
fn exponent(rng: &mut Rng) -> u16 {
    let e = match rng.below(12) {
        0 | 1 => rng.range(1, 0x7FFE),
        2..=4 => BIAS + rng.range(-70, 70),
        5 => BIAS + rng.range(-4, 4),
        6 => BIAS + rng.pick(&[127i64, -126, -149, -150]) + rng.range(-2, 2),
        7 => BIAS + rng.pick(&[1023i64, -1022, -1074, -1075]) + rng.range(-2, 2),
        8 => {
            if rng.chance(50) {
                rng.range(1, 4)
            } else {
                rng.range(0x7FFB, 0x7FFE)
            }
        }
        9 => BIAS + rng.pick(&[14i64, 15, 16, 30, 31, 32, 62, 63, 64]) + rng.range(-1, 1),
        10 => BIAS + rng.range(55, 66),
        _ => BIAS + rng.range(-20, 20),
    };
    e.clamp(1, 0x7FFE) as u16
}

/// An extended value of any class, unsupported encodings included.
pub fn ext_value(rng: &mut Rng) -> X80 {
    let sign = if rng.chance(50) { 0x8000 } else { 0 };
    let top = 1u64 << 63;
    let (exp, sig) = match rng.below(100) {
        0..=39 => (exponent(rng), significand(rng)),
        40..=49 => {
            // Integer-valued, or with a fraction of one half, near the int16/32/64 limits.
            let k = rng.pick(&[0u32, 1, 7, 14, 15, 16, 30, 31, 32, 62, 63, 64]);
            let k = if rng.chance(30) {
                k.saturating_sub(1)
            } else {
                k
            };
            let s = match rng.below(3) {
                0 => top,
                1 => u64::MAX,
                _ => rng.next_u64() | top,
            };
            let frac_bits = 63u32.saturating_sub(k);
            let s = if frac_bits == 0 {
                s
            } else {
                let int = s & !((1u64 << frac_bits) - 1);
                match rng.below(3) {
                    0 => int,
                    1 => int | (1 << (frac_bits - 1)),
                    _ => s,
                }
            };
            ((BIAS + i64::from(k)) as u16, s)
        }
        50..=55 => (0, rng.next_u64() >> rng.range(1, 63)), // denormal (or zero)
        56..=58 => (0, rng.next_u64() | top),               // pseudo-denormal
        59..=61 => (exponent(rng), rng.next_u64() >> rng.range(1, 64).min(63)), // unnormal
        62 | 63 => (0x7FFF, 0),                             // pseudo-infinity
        64 | 65 => (0x7FFF, (rng.next_u64() >> 1) | 1),     // pseudo-NaN
        66..=73 => (0, 0),                                  // zero
        74..=79 => (0x7FFF, top),                           // infinity
        80..=84 => (
            0x7FFF,
            top | (1 << 62) | (rng.next_u64() >> rng.range(2, 64).min(63)),
        ),
        85..=89 => (0x7FFF, top | ((rng.next_u64() >> 2) | 1)), // SNaN
        90..=94 => {
            let f = f32_normal(rng);
            return widen32(f ^ (u32::from(sign != 0) << 31));
        }
        _ => {
            let f = f64_normal(rng);
            return widen64(f ^ (u64::from(sign != 0) << 63));
        }
    };
    X80 {
        se: sign | exp,
        sig,
    }
}

/// A normal f32 bit pattern (positive).
fn f32_normal(rng: &mut Rng) -> u32 {
    let e = match rng.below(4) {
        0 => rng.range(1, 254),
        1 => 127 + rng.range(-10, 10),
        _ => rng.pick(&[1i64, 2, 253, 254, 127, 126, 150, 151, 158, 159]),
    } as u32;
    let m = match rng.below(3) {
        0 => rng.u32() >> 9,
        1 => (rng.u32() >> 9) & !((1 << rng.below(23)) - 1),
        _ => rng.pick(&[0u32, 0x7F_FFFF, 0x40_0000, 1]),
    };
    (e << 23) | m
}

/// A normal f64 bit pattern (positive).
fn f64_normal(rng: &mut Rng) -> u64 {
    let e = match rng.below(4) {
        0 => rng.range(1, 2046),
        1 => 1023 + rng.range(-10, 10),
        _ => rng.pick(&[1i64, 2, 2045, 2046, 1023, 1022, 1075, 1076, 1086, 1087]),
    } as u64;
    let m = match rng.below(3) {
        0 => rng.next_u64() >> 12,
        1 => (rng.next_u64() >> 12) & !((1 << rng.below(52)) - 1),
        _ => rng.pick(&[0u64, (1 << 52) - 1, 1 << 51, 1]),
    };
    (e << 52) | m
}

/// A normal f32 as the extended value it converts to exactly.
fn widen32(f: u32) -> X80 {
    let e = ((f >> 23) & 0xFF) as i64 - 127 + BIAS;
    X80 {
        se: ((f >> 31) as u16) << 15 | e as u16,
        sig: (1 << 63) | (u64::from(f & 0x7F_FFFF) << 40),
    }
}

/// A normal f64 as the extended value it converts to exactly.
fn widen64(f: u64) -> X80 {
    let e = ((f >> 52) & 0x7FF) as i64 - 1023 + BIAS;
    X80 {
        se: ((f >> 63) as u16) << 15 | e as u16,
        sig: (1 << 63) | ((f & ((1 << 52) - 1)) << 11),
    }
}

/// A single-precision operand of any class.
fn f32_value(rng: &mut Rng) -> u32 {
    let sign = rng.u32() & 0x8000_0000;
    sign | match rng.below(20) {
        0 => 0,
        1 => rng.u32() >> (9 + rng.below(23)) | 1, // denormal
        2 => 0x7F80_0000,                          // infinity
        3 => 0x7FC0_0000 | (rng.u32() >> 10),      // QNaN
        4 => 0x7F80_0000 | ((rng.u32() >> 10) | 1), // SNaN
        5 => rng.u32() & 0x7FFF_FFFF,              // anything
        _ => f32_normal(rng),
    }
}

/// A double-precision operand of any class.
fn f64_value(rng: &mut Rng) -> u64 {
    let sign = rng.next_u64() & (1 << 63);
    let inf = 0x7FF0_0000_0000_0000u64;
    sign | match rng.below(20) {
        0 => 0,
        1 => rng.next_u64() >> (12 + rng.below(52)) | 1,
        2 => inf,
        3 => inf | (1 << 51) | (rng.next_u64() >> 13),
        4 => inf | ((rng.next_u64() >> 13) | 1),
        5 => rng.next_u64() & !(1 << 63),
        _ => f64_normal(rng),
    }
}

/// An integer of `bits` bits (16, 32, 64), sign-extended to i64 then truncated by the
/// caller: limits, small numbers, powers of two, anything.
fn int_value(rng: &mut Rng, bits: u32) -> u64 {
    let max = (1u64 << (bits - 1)) - 1;
    match rng.below(8) {
        0 => rng.pick(&[0u64, 1, u64::MAX, 2, u64::MAX - 1]),
        1 => rng.pick(&[max, max - 1, max + 1, max + 2, u64::MAX - max]),
        2 => rng.below(1000).into(),
        3 => 0u64.wrapping_sub(rng.below(1000).into()),
        4 => 1u64 << rng.below(bits),
        5 => 0u64.wrapping_sub(1u64 << rng.below(bits)),
        _ => rng.next_u64(),
    }
}

/// An 80-bit packed BCD operand (SDM Vol. 1 §4.7): 18 digits, sign in bit 79. The
/// ignored bits 72-78 are sometimes set.
fn bcd_value(rng: &mut Rng) -> [u8; 10] {
    let digits = match rng.below(4) {
        0 => 18,
        1 => rng.range(0, 3) as u32,
        _ => rng.range(1, 18) as u32,
    };
    let mut out = [0u8; 10];
    for d in 0..digits {
        let v = if rng.chance(20) {
            9
        } else {
            rng.below(10) as u8
        };
        out[(d / 2) as usize] |= v << (4 * (d % 2));
    }
    if rng.chance(50) {
        out[9] = 0x80;
    }
    if rng.chance(10) {
        out[9] |= (rng.u32() & 0x7F) as u8;
    }
    out
}

/// A control word with all exceptions masked; random PC (the reserved value 1 rarely),
/// RC, and sometimes the reserved bits.
fn control_word(rng: &mut Rng) -> u16 {
    let pc = if rng.chance(3) {
        1
    } else {
        rng.pick(&[0u16, 2, 3, 3, 3])
    };
    let rc = rng.below(4) as u16;
    let mut cw = fcw::MASKS | 0x40 | (pc << fcw::PC_SHIFT) | (rc << fcw::RC_SHIFT);
    if rng.chance(10) {
        cw ^= (rng.u32() as u16) & 0xF040;
    }
    cw
}

/// A value for the transcendental `f`'s ST(0) (`first`) or ST(1), mostly inside its domain.
fn trans_value(rng: &mut Rng, name: &str, first: bool) -> X80 {
    if rng.chance(12) {
        return ext_value(rng);
    }
    let sign = if rng.chance(50) { 0x8000 } else { 0 };
    let mut x = X80 {
        se: 0,
        sig: significand(rng),
    };
    let exp = match (name, first) {
        ("fsin" | "fcos" | "fsincos" | "fptan", _) => {
            if rng.chance(25) {
                // Near a multiple of pi/4 (pi = C90FDAA2_2168C234_C4..., SDM Vol. 1 §8.3.10).
                x.sig = 0xC90F_DAA2_2168_C234 ^ (rng.next_u64() >> rng.range(20, 63));
                BIAS + rng.range(-2, 12)
            } else {
                BIAS + rng.range(-70, 66)
            }
        }
        ("f2xm1", _) => BIAS - rng.range(1, 70),
        ("fyl2xp1", true) => BIAS - rng.range(2, 70),
        ("fyl2x", true) => {
            return X80 {
                se: exponent(rng),
                sig: x.sig,
            }
        }
        _ => i64::from(exponent(rng)),
    };
    x.se = sign | exp.clamp(1, 0x7FFE) as u16;
    x
}

// ---------------------------------------------------------------------------------------
// Cases.

/// The code and data area of a case being built.
struct Builder<'r> {
    rng: &'r mut Rng,
    code: Vec<u8>,
    mem: Vec<u8>,
    intent: Vec<Intent>,
    ignore: Vec<Range<usize>>,
    next_slot: usize,
}

fn modrm_abs(reg: u8, at: usize) -> [u8; 5] {
    let d = (DATA_BASE + at as u32).to_le_bytes();
    [(reg << 3) | 5, d[0], d[1], d[2], d[3]]
}

impl Builder<'_> {
    fn push(&mut self, bytes: &[u8], mnemonic: Mnemonic) {
        self.intent.push(Intent {
            offset: self.code.len(),
            len: bytes.len(),
            mnemonic,
        });
        self.code.extend_from_slice(bytes);
    }

    /// A fresh operand slot for `size` bytes, at a random offset inside it.
    fn slot(&mut self, size: usize) -> usize {
        let base = OPS + SLOT * self.next_slot;
        self.next_slot += 1;
        base + self.rng.below((SLOT - size + 1) as u32) as usize
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.mem[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn emit(&mut self, f: &FpuFamily) {
        match f.form {
            Form::Load(reg, Opnd::Env) => {
                let env = random_image(self.rng).to_bytes();
                self.put(ENV_IN, &env[..ENV_SIZE]);
                let m = modrm_abs(reg, ENV_IN);
                self.push(&[&[f.op][..], &m].concat(), f.mnemonic);
            }
            Form::Load(reg, ty) => {
                let bytes: Vec<u8> = match ty {
                    Opnd::F32 => f32_value(self.rng).to_le_bytes().to_vec(),
                    Opnd::F64 => f64_value(self.rng).to_le_bytes().to_vec(),
                    Opnd::F80 => ext_value(self.rng).to_bytes().to_vec(),
                    Opnd::I16 => int_value(self.rng, 16).to_le_bytes()[..2].to_vec(),
                    Opnd::I32 => int_value(self.rng, 32).to_le_bytes()[..4].to_vec(),
                    Opnd::I64 => int_value(self.rng, 64).to_le_bytes().to_vec(),
                    Opnd::Bcd => bcd_value(self.rng).to_vec(),
                    Opnd::Cw => control_word(self.rng).to_le_bytes().to_vec(),
                    Opnd::Env => unreachable!("handled above"),
                };
                let at = self.slot(bytes.len());
                self.put(at, &bytes);
                let m = modrm_abs(reg, at);
                self.push(&[&[f.op][..], &m].concat(), f.mnemonic);
            }
            Form::Store(reg, ENV_SIZE) => {
                for r in ENV_IGNORED {
                    self.ignore.push(ENV_OUT + r.start..ENV_OUT + r.end);
                }
                let m = modrm_abs(reg, ENV_OUT);
                self.push(&[&[f.op][..], &m].concat(), f.mnemonic);
            }
            Form::Store(reg, size) => {
                let at = self.slot(size);
                let m = modrm_abs(reg, at);
                self.push(&[&[f.op][..], &m].concat(), f.mnemonic);
            }
            Form::StI(base) => {
                let i = self.rng.below(8) as u8;
                self.push(&[f.op, base + i], f.mnemonic);
            }
            Form::Fixed(b) => self.push(&[f.op, b], f.mnemonic),
            Form::Wait => self.push(&[0x9B], f.mnemonic),
        }
    }
}

/// A random FPU state: FCW masking all exceptions, random status, TOP, stack depth and
/// values; tags mostly consistent with the values.
fn random_image(rng: &mut Rng) -> Image {
    let mut st = [X80 { se: 0, sig: 0 }; 8];
    for r in st.iter_mut() {
        *r = ext_value(rng);
    }
    image_around(rng, st)
}

/// An image holding `st` (ST(0)..ST(7)) with a random stack depth and status.
fn image_around(rng: &mut Rng, st: [X80; 8]) -> Image {
    let top = rng.below(8) as u16;
    let mut fsw = (top << 11) | (rng.u32() as u16 & 0x4700); // C3, C2, C1, C0
    if rng.chance(30) {
        fsw |= rng.u32() as u16 & 0x7F; // sticky exception flags and SF
    }
    if rng.chance(5) {
        fsw |= rng.u32() as u16 & 0x8080; // B and ES: recomputed by the hardware
    }
    let empty: [bool; 8] = match rng.below(10) {
        0..=5 => {
            let depth = rng.pick(&[0usize, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 8]);
            std::array::from_fn(|i| i >= depth)
        }
        6 | 7 => [false; 8],
        _ => std::array::from_fn(|_| rng.chance(50)),
    };
    let mut ftw = 0u16;
    for (i, r) in st.iter().enumerate() {
        let tag = if empty[i] {
            3
        } else if rng.chance(10) {
            rng.below(3) as u16
        } else {
            r.tag()
        };
        let phys = (usize::from(top) + i) & 7;
        ftw |= tag << (2 * phys);
    }
    Image {
        fcw: control_word(rng),
        fsw,
        ftw,
        fip: rng.u32(),
        fcs: rng.u32() as u16,
        fop: rng.u32() as u16,
        fdp: rng.u32(),
        fds: rng.u32() as u16,
        st,
        reserved: std::array::from_fn(|_| {
            if rng.chance(50) {
                0xFFFF
            } else {
                rng.u32() as u16
            }
        }),
    }
}

/// The byte ranges of the data area an FPU case never compares: those of the final image.
fn save_ignored() -> Vec<Range<usize>> {
    ENV_IGNORED
        .iter()
        .map(|r| SAVE + r.start..SAVE + r.end)
        .collect()
}

const FRSTOR: u8 = 4;
const FNSAVE: u8 = 6;

/// A case from hand-written x87 code: `FRSTOR [IMG]; body; FNSAVE [SAVE]` at slot `slot`,
/// with `image` loaded and `mem` (`(offset, bytes)` pairs) in an otherwise zero data area.
pub fn hand_case(slot: u32, image: &Image, body: &[u8], mem: &[(usize, &[u8])]) -> Case {
    let mut data = vec![0u8; DATA_SIZE];
    data[IMG..IMG + IMAGE_SIZE].copy_from_slice(&image.to_bytes());
    for (at, bytes) in mem {
        data[*at..*at + bytes.len()].copy_from_slice(bytes);
    }
    let mut code = [&[0xDD][..], &modrm_abs(FRSTOR, IMG)].concat();
    code.extend_from_slice(body);
    code.push(0xDD);
    code.extend_from_slice(&modrm_abs(FNSAVE, SAVE));
    let mut ignore = save_ignored();
    for r in ENV_IGNORED {
        ignore.push(ENV_OUT + r.start..ENV_OUT + r.end);
    }
    Case {
        name: "hand".into(),
        code_addr: CODE_BASE + slot * CASE_SLOT,
        code,
        init: CaseState {
            regs: [0, 0, 0, 0, DATA_BASE + 0x1F00, 0, 0, 0],
            eflags: eflags::RESERVED1 | eflags::IF,
            mem: data,
        },
        flags_mask: u32::MAX,
        mem_ignore: ignore,
    }
}

/// `count` cases of `set` and `seed`, indexes `first..first+count`, at slots `0..count`.
pub fn generate_batch(set: Set, seed: u64, first: u64, count: usize) -> Vec<Case> {
    (0..count)
        .map(|i| {
            generate_at(
                set,
                seed,
                first + i as u64,
                CODE_BASE + i as u32 * CASE_SLOT,
            )
            .0
        })
        .collect()
}

/// Case `index` of `set` and `seed` at `code_addr`, with the intended decoding of its code.
pub fn generate_at(set: Set, seed: u64, index: u64, code_addr: u32) -> (Case, Vec<Intent>) {
    let fams = families(set);
    let core = families(Set::Core);
    let main = fams[(index.wrapping_add(seed) % fams.len() as u64) as usize];
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x9E6C_63D0_676A_9A99) ^ 0xF87);

    let mut mem = vec![0u8; DATA_SIZE];
    for b in mem.iter_mut() {
        *b = rng.u32() as u8;
    }
    let mut image = random_image(&mut rng);
    if main.group == Transcendental {
        let mut st = image.st;
        st[0] = trans_value(&mut rng, main.name, true);
        st[1] = trans_value(&mut rng, main.name, false);
        image = image_around(&mut rng, st);
        if rng.chance(85) {
            // Mostly a well-formed stack: ST(0) and ST(1) in use, ST(7) free for a push.
            let top = usize::from(image.top());
            for i in 0..8 {
                let phys = (top + i) & 7;
                let tag = match i {
                    0 | 1 => image.st[i].tag(),
                    7 => 3,
                    _ => (image.ftw >> (2 * phys)) & 3,
                };
                image.ftw = (image.ftw & !(3 << (2 * phys))) | (tag << (2 * phys));
            }
        }
    }
    mem[IMG..IMG + IMAGE_SIZE].copy_from_slice(&image.to_bytes());

    let mut regs = [0u32; 8];
    for r in regs.iter_mut() {
        *r = rng.u32();
    }
    regs[4] = DATA_BASE + 0x1F00;
    let mut fl = eflags::RESERVED1 | eflags::IF;
    for f in [
        eflags::CF,
        eflags::PF,
        eflags::AF,
        eflags::ZF,
        eflags::SF,
        eflags::OF,
    ] {
        if rng.chance(50) {
            fl |= f;
        }
    }

    let mut b = Builder {
        rng: &mut rng,
        code: Vec::new(),
        mem,
        intent: Vec::new(),
        ignore: save_ignored(),
        next_slot: 0,
    };
    b.push(
        &[&[0xDD][..], &modrm_abs(FRSTOR, IMG)].concat(),
        Mnemonic::Frstor,
    );
    let (before, after) = if main.group == Transcendental {
        (0, 0)
    } else {
        match b.rng.below(10) {
            0..=4 => (0, 0),
            5 | 6 => (1, 0),
            7 | 8 => (0, 1),
            _ => (1, 1),
        }
    };
    for _ in 0..before {
        let f = core[b.rng.below(core.len() as u32) as usize];
        b.emit(f);
    }
    b.emit(main);
    for _ in 0..after {
        let f = core[b.rng.below(core.len() as u32) as usize];
        b.emit(f);
    }
    if b.rng.chance(15) {
        // FSAVE is FWAIT + FNSAVE; iced-x86 decodes the two separately.
        b.push(&[0x9B], Mnemonic::Wait);
    }
    b.push(
        &[&[0xDD][..], &modrm_abs(FNSAVE, SAVE)].concat(),
        Mnemonic::Fnsave,
    );
    let Builder {
        code,
        mem,
        intent,
        ignore,
        ..
    } = b;
    let case = Case {
        name: main.name.to_string(),
        code_addr,
        code,
        init: CaseState {
            regs,
            eflags: fl,
            mem,
        },
        flags_mask: u32::MAX,
        mem_ignore: ignore,
    };
    (case, intent)
}

/// The final FPU image of a state produced by an FPU case.
pub fn saved_image(state: &CaseState) -> Image {
    Image::from_bytes(&state.mem[SAVE..SAVE + IMAGE_SIZE])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trips_through_bytes() {
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            let img = random_image(&mut rng);
            assert_eq!(Image::from_bytes(&img.to_bytes()), img);
        }
    }

    #[test]
    fn tags_follow_the_value_classes() {
        let v = |se: u16, sig: u64| X80 { se, sig };
        assert_eq!(v(0x3FFF, 1 << 63).tag(), 0);
        assert_eq!(v(0x8000, 0).tag(), 1);
        assert_eq!(v(0, 1).tag(), 2); // denormal
        assert_eq!(v(0, 1 << 63).tag(), 2); // pseudo-denormal
        assert_eq!(v(0x3FFF, 1).tag(), 2); // unnormal
        assert_eq!(v(0x7FFF, 1 << 63).tag(), 2); // infinity
    }

    #[test]
    fn ulps_count_representable_steps() {
        let v = |se: u16, sig: u64| X80 { se, sig };
        assert_eq!(v(0x3FFF, 1 << 63).ulps(v(0x3FFF, (1 << 63) + 3)), Some(3));
        // Across a binade: 0x3FFE ffff..ff is just below 1.0.
        assert_eq!(v(0x3FFF, 1 << 63).ulps(v(0x3FFE, u64::MAX)), Some(1));
        // Largest denormal to smallest normal.
        assert_eq!(v(0, u64::MAX >> 1).ulps(v(1, 1 << 63)), Some(1));
        // Across zero.
        assert_eq!(v(0x8000, 1).ulps(v(0, 1)), Some(2));
        assert_eq!(v(0x7FFF, 1 << 63).ulps(v(0x3FFF, 1 << 63)), None);
    }

    #[test]
    fn control_words_mask_every_exception() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            assert_eq!(control_word(&mut rng) & fcw::MASKS, fcw::MASKS);
        }
    }
}
