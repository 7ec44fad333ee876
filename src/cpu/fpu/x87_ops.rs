//! The x87 instructions other than the state save/restore group (Intel SDM Vol. 2, one
//! page per instruction; Vol. 1 §8.3 for the groups and §8.5 for the exception
//! responses). The arithmetic comes from `f80` and `trans`; this file moves operands
//! between memory, the register stack and the status word.

use iced_x86::{Code, Instruction};

use super::f80::{self, Cmp, Const, Env, Out, F80, INDEFINITE};
use super::{fsw, tag, trans, ONE};
use crate::cpu::fault::{Fault, Res};
use crate::cpu::flags;
use crate::cpu::Cpu;

/// The six arithmetic operations; the `r` forms reverse the operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Mul,
    Sub,
    Subr,
    Div,
    Divr,
}

/// `a op b` (`b op a` for the reversed forms).
fn apply(op: Op, a: F80, b: F80, env: Env) -> Out {
    match op {
        Op::Add => f80::add(a, b, env),
        Op::Mul => f80::mul(a, b, env),
        Op::Sub => f80::sub(a, b, env),
        Op::Subr => f80::sub(b, a, env),
        Op::Div => f80::div(a, b, env),
        Op::Divr => f80::div(b, a, env),
    }
}

/// Memory operand formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fmt {
    F32,
    F64,
    F80,
    I16,
    I32,
    I64,
    Bcd,
}

impl Fmt {
    fn len(self) -> usize {
        match self {
            Fmt::F32 | Fmt::I32 => 4,
            Fmt::F64 | Fmt::I64 => 8,
            Fmt::F80 | Fmt::Bcd => 10,
            Fmt::I16 => 2,
        }
    }

    /// What a masked stack underflow stores (SDM Vol. 1 Tables 4-3, 4-2, 4-4): the QNaN
    /// indefinite, the integer indefinite, or the BCD indefinite.
    fn indefinite(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        match self {
            Fmt::F32 => b[..4].copy_from_slice(&0xffc0_0000u32.to_le_bytes()),
            Fmt::F64 => b[..8].copy_from_slice(&0xfff8_0000_0000_0000u64.to_le_bytes()),
            Fmt::F80 => b = f80_bytes(INDEFINITE),
            Fmt::I16 => b[..2].copy_from_slice(&0x8000u16.to_le_bytes()),
            Fmt::I32 => b[..4].copy_from_slice(&0x8000_0000u32.to_le_bytes()),
            Fmt::I64 => b[..8].copy_from_slice(&(1u64 << 63).to_le_bytes()),
            Fmt::Bcd => {
                b[7] = 0xc0;
                b[8] = 0xff;
                b[9] = 0xff;
            }
        }
        b
    }
}

/// The memory image of an extended value.
pub(super) fn f80_bytes(v: F80) -> [u8; 10] {
    let mut b = [0u8; 10];
    b[..8].copy_from_slice(&v.signif.to_le_bytes());
    b[8..].copy_from_slice(&v.sign_exp.to_le_bytes());
    b
}

/// An extended value from its memory image.
pub(super) fn f80_from(b: &[u8]) -> F80 {
    let mut s = [0u8; 8];
    s.copy_from_slice(&b[..8]);
    F80 {
        signif: u64::from_le_bytes(s),
        sign_exp: u16::from_le_bytes([b[8], b[9]]),
    }
}

/// An exact value with no flags (integers, m80 loads).
fn exact(val: F80) -> Out {
    Out {
        val,
        flags: 0,
        c1: false,
        store: true,
    }
}

/// A NaN: exponent all ones, integer bit set, fraction non-zero (pseudo-NaNs, with
/// the integer bit clear, are unsupported formats).
fn is_nan(v: F80) -> bool {
    v.sign_exp & 0x7fff == 0x7fff && v.signif >> 63 == 1 && v.signif << 1 != 0
}

/// The NaN chosen when ST(0) is a NaN and the memory operand was an SNaN, which its
/// widening has already quieted (flagging IE): SDM Vol. 1 Table 4-7 on the original
/// operands, a QNaN ST(0) beats the SNaN, two SNaNs give the larger significand
/// (quieted). `None` when the rule does not apply.
fn snan_operand(st: F80, src: Out) -> Option<F80> {
    if src.flags & f80::exc::IE == 0 || !is_nan(st) || !is_nan(src.val) {
        return None;
    }
    const QUIET: u64 = 1 << 62;
    if st.signif & QUIET != 0 || st.signif >= src.val.signif & !QUIET {
        Some(F80 {
            signif: st.signif | QUIET,
            ..st
        })
    } else {
        Some(src.val)
    }
}

/// The flags of widening a memory operand, given those of the operation that uses it
/// and its other operand `st`: IE takes precedence over DE (SDM Vol. 1 §8.5, exception
/// priority), and a NaN operand is propagated before any denormal check, so a denormal
/// m32/m64 next to a NaN or invalid ST(0) raises no DE, as on the host; neither does a
/// denormal dividend divided by a zero ST(0) (FDIVR/FIDIVR: ZE alone on the host).
fn load_flags(load: u8, op: u8, st: F80) -> u8 {
    if op & (f80::exc::IE | f80::exc::ZE) != 0 || is_nan(st) {
        load & !f80::exc::DE
    } else {
        load
    }
}

/// ST(n) of an operand that names an x87 register.
fn sti(i: &Instruction, n: u32) -> usize {
    i.op_register(n).number() & 7
}

/// FCOM/FUCOM condition codes (SDM Vol. 2 FCOM, Table 3-21).
fn cmp_cc(c: Cmp) -> u16 {
    match c {
        Cmp::Greater => 0,
        Cmp::Less => fsw::C0,
        Cmp::Equal => fsw::C3,
        Cmp::Unordered => fsw::C3 | fsw::C2 | fsw::C0,
    }
}

/// FCOMI/FUCOMI EFLAGS (SDM Vol. 2 FCOMI, Table 3-22).
fn cmp_eflags(c: Cmp) -> u32 {
    match c {
        Cmp::Greater => 0,
        Cmp::Less => flags::CF,
        Cmp::Equal => flags::ZF,
        Cmp::Unordered => flags::ZF | flags::PF | flags::CF,
    }
}

impl Cpu {
    pub(super) fn x87_exec(&mut self, i: &Instruction) -> Res<()> {
        use Code::*;
        let c = i.code();
        match c {
            // ---- loads ----
            Fld_m32fp | Fld_m64fp | Fld_m80fp | Fild_m16int | Fild_m32int | Fild_m64int
            | Fbld_m80bcd => {
                let fmt = match c {
                    Fld_m32fp => Fmt::F32,
                    Fld_m64fp => Fmt::F64,
                    Fld_m80fp => Fmt::F80,
                    Fild_m16int => Fmt::I16,
                    Fild_m32int => Fmt::I32,
                    Fild_m64int => Fmt::I64,
                    _ => Fmt::Bcd,
                };
                let v = self.load_mem(i, fmt)?;
                self.fld(v);
            }
            Fld_sti => self.fld_sti(sti(i, 0)),
            Fld1 | Fldl2t | Fldl2e | Fldpi | Fldlg2 | Fldln2 | Fldz => {
                let k = match c {
                    Fld1 => Const::One,
                    Fldl2t => Const::L2t,
                    Fldl2e => Const::L2e,
                    Fldpi => Const::Pi,
                    Fldlg2 => Const::Lg2,
                    Fldln2 => Const::Ln2,
                    _ => Const::Zero,
                };
                let v = f80::constant(k, self.fp_env());
                self.fld(exact(v));
            }

            // ---- stores ----
            Fst_m32fp => self.fst_mem(i, Fmt::F32, false)?,
            Fstp_m32fp => self.fst_mem(i, Fmt::F32, true)?,
            Fst_m64fp => self.fst_mem(i, Fmt::F64, false)?,
            Fstp_m64fp => self.fst_mem(i, Fmt::F64, true)?,
            Fstp_m80fp => self.fst_mem(i, Fmt::F80, true)?,
            Fist_m16int => self.fst_mem(i, Fmt::I16, false)?,
            Fistp_m16int => self.fst_mem(i, Fmt::I16, true)?,
            Fist_m32int => self.fst_mem(i, Fmt::I32, false)?,
            Fistp_m32int => self.fst_mem(i, Fmt::I32, true)?,
            Fistp_m64int => self.fst_mem(i, Fmt::I64, true)?,
            Fbstp_m80bcd => self.fst_mem(i, Fmt::Bcd, true)?,
            Fst_sti => self.fst_sti(sti(i, 0), false),
            // DD D8+i, and the aliases D9 D8+i, DF D0+i, DF D8+i real CPUs accept.
            Fstp_sti | Fstpnce_sti | Fstp_sti_DFD0 | Fstp_sti_DFD8 => self.fst_sti(sti(i, 0), true),
            // FISTTP is SSE3: not on this CPU.
            Fisttp_m16int | Fisttp_m32int | Fisttp_m64int => return Err(Fault::Ud),

            // ---- exchange, conditional move ----
            Fxch_st0_sti | Fxch_st0_sti_DDC8 | Fxch_st0_sti_DFC8 => self.fxch(sti(i, 1)),
            Fcmovb_st0_sti | Fcmove_st0_sti | Fcmovbe_st0_sti | Fcmovu_st0_sti
            | Fcmovnb_st0_sti | Fcmovne_st0_sti | Fcmovnbe_st0_sti | Fcmovnu_st0_sti => {
                // The EFLAGS condition, as the low nibble of a Jcc opcode.
                let cc = match c {
                    Fcmovb_st0_sti => 0x2,
                    Fcmovnb_st0_sti => 0x3,
                    Fcmove_st0_sti => 0x4,
                    Fcmovne_st0_sti => 0x5,
                    Fcmovbe_st0_sti => 0x6,
                    Fcmovnbe_st0_sti => 0x7,
                    Fcmovu_st0_sti => 0xa,
                    _ => 0xb,
                };
                let take = flags::cond(&self.s, cc);
                self.fcmov(sti(i, 1), take);
            }

            // ---- arithmetic, memory source ----
            Fadd_m32fp | Fmul_m32fp | Fsub_m32fp | Fsubr_m32fp | Fdiv_m32fp | Fdivr_m32fp
            | Fadd_m64fp | Fmul_m64fp | Fsub_m64fp | Fsubr_m64fp | Fdiv_m64fp | Fdivr_m64fp
            | Fiadd_m16int | Fimul_m16int | Fisub_m16int | Fisubr_m16int | Fidiv_m16int
            | Fidivr_m16int | Fiadd_m32int | Fimul_m32int | Fisub_m32int | Fisubr_m32int
            | Fidiv_m32int | Fidivr_m32int => {
                let (op, fmt) = match c {
                    Fadd_m32fp => (Op::Add, Fmt::F32),
                    Fmul_m32fp => (Op::Mul, Fmt::F32),
                    Fsub_m32fp => (Op::Sub, Fmt::F32),
                    Fsubr_m32fp => (Op::Subr, Fmt::F32),
                    Fdiv_m32fp => (Op::Div, Fmt::F32),
                    Fdivr_m32fp => (Op::Divr, Fmt::F32),
                    Fadd_m64fp => (Op::Add, Fmt::F64),
                    Fmul_m64fp => (Op::Mul, Fmt::F64),
                    Fsub_m64fp => (Op::Sub, Fmt::F64),
                    Fsubr_m64fp => (Op::Subr, Fmt::F64),
                    Fdiv_m64fp => (Op::Div, Fmt::F64),
                    Fdivr_m64fp => (Op::Divr, Fmt::F64),
                    Fiadd_m16int => (Op::Add, Fmt::I16),
                    Fimul_m16int => (Op::Mul, Fmt::I16),
                    Fisub_m16int => (Op::Sub, Fmt::I16),
                    Fisubr_m16int => (Op::Subr, Fmt::I16),
                    Fidiv_m16int => (Op::Div, Fmt::I16),
                    Fidivr_m16int => (Op::Divr, Fmt::I16),
                    Fiadd_m32int => (Op::Add, Fmt::I32),
                    Fimul_m32int => (Op::Mul, Fmt::I32),
                    Fisub_m32int => (Op::Sub, Fmt::I32),
                    Fisubr_m32int => (Op::Subr, Fmt::I32),
                    Fidiv_m32int => (Op::Div, Fmt::I32),
                    _ => (Op::Divr, Fmt::I32),
                };
                let src = self.load_mem(i, fmt)?;
                self.arith_mem(op, src);
            }

            // ---- arithmetic, register operands: dest = op0, source = op1 ----
            Fadd_st0_sti | Fmul_st0_sti | Fsub_st0_sti | Fsubr_st0_sti | Fdiv_st0_sti
            | Fdivr_st0_sti | Fadd_sti_st0 | Fmul_sti_st0 | Fsub_sti_st0 | Fsubr_sti_st0
            | Fdiv_sti_st0 | Fdivr_sti_st0 | Faddp_sti_st0 | Fmulp_sti_st0 | Fsubp_sti_st0
            | Fsubrp_sti_st0 | Fdivp_sti_st0 | Fdivrp_sti_st0 => {
                let (op, pop) = match c {
                    Fadd_st0_sti | Fadd_sti_st0 => (Op::Add, false),
                    Fmul_st0_sti | Fmul_sti_st0 => (Op::Mul, false),
                    Fsub_st0_sti | Fsub_sti_st0 => (Op::Sub, false),
                    Fsubr_st0_sti | Fsubr_sti_st0 => (Op::Subr, false),
                    Fdiv_st0_sti | Fdiv_sti_st0 => (Op::Div, false),
                    Fdivr_st0_sti | Fdivr_sti_st0 => (Op::Divr, false),
                    Faddp_sti_st0 => (Op::Add, true),
                    Fmulp_sti_st0 => (Op::Mul, true),
                    Fsubp_sti_st0 => (Op::Sub, true),
                    Fsubrp_sti_st0 => (Op::Subr, true),
                    Fdivp_sti_st0 => (Op::Div, true),
                    _ => (Op::Divr, true),
                };
                self.arith_reg(op, sti(i, 0), sti(i, 1), pop);
            }

            // ---- comparisons ----
            Fcom_m32fp | Fcomp_m32fp | Fcom_m64fp | Fcomp_m64fp | Ficom_m16int | Ficomp_m16int
            | Ficom_m32int | Ficomp_m32int => {
                let fmt = match c {
                    Fcom_m32fp | Fcomp_m32fp => Fmt::F32,
                    Fcom_m64fp | Fcomp_m64fp => Fmt::F64,
                    Ficom_m16int | Ficomp_m16int => Fmt::I16,
                    _ => Fmt::I32,
                };
                let pops = matches!(c, Fcomp_m32fp | Fcomp_m64fp | Ficomp_m16int | Ficomp_m32int);
                let v = self.load_mem(i, fmt)?;
                self.fcom_val(v, pops as u32);
            }
            Ftst => self.fcom_val(exact(F80::default()), 0),
            Fcom_st0_sti | Fcom_st0_sti_DCD0 => self.fcom_reg(sti(i, 1), false, 0, false),
            Fcomp_st0_sti | Fcomp_st0_sti_DCD8 | Fcomp_st0_sti_DED0 => {
                self.fcom_reg(sti(i, 1), false, 1, false)
            }
            Fcompp => self.fcom_reg(1, false, 2, false),
            Fucom_st0_sti => self.fcom_reg(sti(i, 1), true, 0, false),
            Fucomp_st0_sti => self.fcom_reg(sti(i, 1), true, 1, false),
            Fucompp => self.fcom_reg(1, true, 2, false),
            Fcomi_st0_sti => self.fcom_reg(sti(i, 1), false, 0, true),
            Fcomip_st0_sti => self.fcom_reg(sti(i, 1), false, 1, true),
            Fucomi_st0_sti => self.fcom_reg(sti(i, 1), true, 0, true),
            Fucomip_st0_sti => self.fcom_reg(sti(i, 1), true, 1, true),
            Fxam => self.fxam(),

            // ---- one-operand arithmetic on ST(0) ----
            Fsqrt => self.fp_unary(f80::sqrt),
            Frndint => self.fp_unary(f80::round_int),
            F2xm1 => self.fp_unary(trans::f2xm1),
            Fabs => self.fp_unary(|a, _| {
                exact(F80 {
                    sign_exp: a.sign_exp & 0x7fff,
                    ..a
                })
            }),
            Fchs => self.fp_unary(|a, _| {
                exact(F80 {
                    sign_exp: a.sign_exp ^ 0x8000,
                    ..a
                })
            }),
            Fscale => {
                if let Some((a, b)) = self.st0_st1() {
                    let o = f80::scale(a, b, self.fp_env());
                    self.fp_commit(0, o);
                }
            }
            Fprem | Fprem1 => {
                let Some((a, b)) = self.st0_st1() else {
                    // Masked underflow: the host clears C2 (and C1), keeps C3 and C0.
                    self.fp_set_cc(fsw::C2, 0);
                    return Ok(());
                };
                let r = f80::rem(a, b, c == Fprem1, self.fp_env());
                // A NaN result (a NaN operand or an invalid operation) has no
                // quotient: the host clears C2 and C1 and keeps C3 and C0.
                let nan = is_nan(r.out.val);
                if self.fp_commit(0, r.out) {
                    // C2 = incomplete; otherwise C0, C3, C1 = Q2, Q1, Q0 (the host
                    // clears them when the reduction is incomplete).
                    let cc = if nan {
                        self.s.fpu.fsw & (fsw::C3 | fsw::C0)
                    } else if r.incomplete {
                        fsw::C2
                    } else {
                        let q = r.q as u16;
                        (if q & 4 != 0 { fsw::C0 } else { 0 })
                            | (if q & 2 != 0 { fsw::C3 } else { 0 })
                            | (if q & 1 != 0 { fsw::C1 } else { 0 })
                    };
                    self.fp_set_cc(fsw::CC, cc);
                }
            }
            Fsin | Fcos => {
                if self.fp_is_empty(0) {
                    if self.fp_stack_fault(false) {
                        self.fp_set_st(0, INDEFINITE);
                    }
                    return Ok(());
                }
                let a = self.fp_st(0);
                let t = if c == Fsin {
                    trans::fsin(a, self.fp_env())
                } else {
                    trans::fcos(a, self.fp_env())
                };
                if t.c2 {
                    // Out of range: ST(0) unchanged.
                    self.fp_set_cc(fsw::C2, fsw::C2);
                } else {
                    self.fp_set_cc(fsw::C2, 0);
                    self.fp_commit(0, t.out);
                }
            }

            // ---- results to ST(1), then pop ----
            Fpatan => self.st1_pop(|x, y, env| trans::fpatan(y, x, env)),
            Fyl2x => self.st1_pop(trans::fyl2x),
            Fyl2xp1 => self.st1_pop(trans::fyl2xp1),

            // ---- two results: ST(0) replaced, one pushed ----
            Fxtract => {
                if self.two_results_ok() {
                    let (e, s) = f80::xtract(self.fp_st(0), self.fp_env());
                    self.fp_raise(e.flags | s.flags);
                    self.fp_set_c1(s.c1);
                    if e.store && s.store {
                        self.fp_set_st(0, e.val);
                        self.fp_push(s.val);
                    }
                }
            }
            Fptan => {
                if self.two_results_ok() {
                    let t = trans::fptan(self.fp_st(0), self.fp_env());
                    if t.c2 {
                        self.fp_set_cc(fsw::C2, fsw::C2);
                    } else {
                        self.fp_set_cc(fsw::C2, 0);
                        if self.fp_commit(0, t.out) {
                            self.fp_push(ONE);
                        }
                    }
                }
            }
            Fsincos => {
                if self.two_results_ok() {
                    let (s, co, out_of_range) = trans::fsincos(self.fp_st(0), self.fp_env());
                    if out_of_range {
                        self.fp_set_cc(fsw::C2, fsw::C2);
                    } else {
                        self.fp_set_cc(fsw::C2, 0);
                        self.fp_raise(s.flags | co.flags);
                        // C1 describes the rounding of the value left in ST(0), the cosine.
                        self.fp_set_c1(co.c1);
                        if s.store && co.store {
                            self.fp_set_st(0, s.val);
                            self.fp_push(co.val);
                        }
                    }
                }
            }

            // ---- stack management ----
            // C0-C3 are undefined (SDM); the host clears C1 and keeps the others.
            Ffree_sti => {
                let p = self.fp_phys(sti(i, 0));
                self.fp_set_tag(p, tag::EMPTY);
                self.fp_set_c1(false);
            }
            Ffreep_sti => {
                let p = self.fp_phys(sti(i, 0));
                self.fp_set_tag(p, tag::EMPTY);
                self.fp_pop();
                self.fp_set_c1(false);
            }
            Fincstp => {
                self.fp_set_top(self.fp_top() + 1);
                self.fp_set_c1(false);
            }
            Fdecstp => {
                self.fp_set_top(self.fp_top() + 7);
                self.fp_set_c1(false);
            }
            // FENI/FDISI (8087) and FSETPM (287) do nothing on a 387 or later.
            Fnop | Fneni | Feni | Fndisi | Fdisi | Fnsetpm | Fsetpm => {}

            // ---- control ----
            Fninit | Finit => self.fninit(),
            Fnclex | Fclex => {
                self.s.fpu.fsw &= !(fsw::EXC | fsw::SF | fsw::ES | fsw::B);
            }
            Fldcw_m2byte => {
                let (seg, off) = self.ea(i);
                let mut b = [0u8; 2];
                self.x87_read(seg, off, &mut b)?;
                self.s.fpu.fcw = super::loaded_fcw(u16::from_le_bytes(b));
                self.fp_recompute_es();
            }
            Fnstcw_m2byte | Fstcw_m2byte => {
                let (seg, off) = self.ea(i);
                let v = self.s.fpu.fcw;
                self.x87_write(seg, off, &v.to_le_bytes())?;
            }
            Fnstsw_m2byte | Fstsw_m2byte => {
                let (seg, off) = self.ea(i);
                let v = self.s.fpu.fsw;
                self.x87_write(seg, off, &v.to_le_bytes())?;
            }
            Fnstsw_AX | Fstsw_AX => {
                let ax = &mut self.s.regs[jit::abi::EAX];
                *ax = (*ax & !0xffff) | self.s.fpu.fsw as u32;
            }
            Fnstenv_m14byte | Fstenv_m14byte | Fnstenv_m28byte | Fstenv_m28byte => {
                self.fstenv(i, matches!(c, Fnstenv_m28byte | Fstenv_m28byte))?
            }
            Fldenv_m14byte | Fldenv_m28byte => self.fldenv(i, c == Fldenv_m28byte)?,
            Fnsave_m94byte | Fsave_m94byte | Fnsave_m108byte | Fsave_m108byte => {
                self.fsave(i, matches!(c, Fnsave_m108byte | Fsave_m108byte))?
            }
            Frstor_m94byte | Frstor_m108byte => self.frstor(i, c == Frstor_m108byte)?,
            Fxsave_m512byte => self.fxsave(i)?,
            Fxrstor_m512byte => self.fxrstor(i)?,

            // FRSTPM, FSTDW, FSTSG (287XL/387SL only) and anything else: invalid.
            _ => return Err(Fault::Ud),
        }
        Ok(())
    }

    /// Reads a memory operand and widens it to extended precision. Conversions from
    /// f32/f64 may raise IE (SNaN) and DE (denormal); the others are exact.
    fn load_mem(&mut self, i: &Instruction, fmt: Fmt) -> Res<Out> {
        let (seg, off) = self.ea(i);
        let mut b = [0u8; 10];
        self.x87_read(seg, off, &mut b[..fmt.len()])?;
        let env = self.fp_env();
        let le4 = |b: &[u8; 10]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let le8 = |b: &[u8; 10]| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[..8]);
            u64::from_le_bytes(x)
        };
        Ok(match fmt {
            Fmt::F32 => f80::from_f32(le4(&b), env),
            Fmt::F64 => f80::from_f64(le8(&b), env),
            Fmt::F80 => exact(f80_from(&b)),
            Fmt::I16 => exact(f80::from_int(i16::from_le_bytes([b[0], b[1]]) as i64)),
            Fmt::I32 => exact(f80::from_int(le4(&b) as i32 as i64)),
            Fmt::I64 => exact(f80::from_int(le8(&b) as i64)),
            Fmt::Bcd => exact(f80::from_bcd(b)),
        })
    }

    /// FLD/FILD/FBLD/FLDconst: push a loaded value (overflow checked first).
    fn fld(&mut self, v: Out) {
        if !self.fp_check_push() {
            return;
        }
        self.fp_raise(v.flags);
        self.fp_set_c1(false);
        if v.store {
            self.fp_push(v.val);
        }
    }

    /// FLD ST(i): the source is read before the push. An empty source is reported as
    /// underflow (C1 = 0) even when ST(7) is also full, as on the host.
    fn fld_sti(&mut self, s: usize) {
        if self.fp_is_empty(s) {
            if self.fp_stack_fault(false) {
                self.fp_push(INDEFINITE);
            }
            return;
        }
        if !self.fp_check_push() {
            return;
        }
        let v = self.fp_st(s);
        self.fp_set_c1(false);
        self.fp_push(v);
    }

    /// FST/FSTP/FIST/FISTP/FBSTP to memory. A masked underflow stores the format's
    /// indefinite; an unmasked exception that suppresses the store also keeps the stack.
    fn fst_mem(&mut self, i: &Instruction, fmt: Fmt, pop: bool) -> Res<()> {
        let (seg, off) = self.ea(i);
        let n = fmt.len();
        if self.fp_is_empty(0) {
            if self.fp_stack_fault(false) {
                self.x87_write(seg, off, &fmt.indefinite()[..n])?;
                if pop {
                    self.fp_pop();
                }
            }
            return Ok(());
        }
        let a = self.fp_st(0);
        let env = self.fp_env();
        let mut b = [0u8; 10];
        let (flags, c1, store) = match fmt {
            Fmt::F32 => {
                let r = f80::to_f32(a, env);
                b[..4].copy_from_slice(&r.val.to_le_bytes());
                (r.flags, r.c1, r.store)
            }
            Fmt::F64 => {
                let r = f80::to_f64(a, env);
                b[..8].copy_from_slice(&r.val.to_le_bytes());
                (r.flags, r.c1, r.store)
            }
            Fmt::F80 => {
                b = f80_bytes(a);
                (0, false, true)
            }
            Fmt::I16 | Fmt::I32 | Fmt::I64 => {
                let bits = 8 * n as u32;
                let r = f80::to_int(a, bits, env);
                b[..8].copy_from_slice(&r.val.to_le_bytes());
                (r.flags, r.c1, r.store)
            }
            Fmt::Bcd => {
                let r = f80::to_bcd(a, env);
                b = r.val;
                (r.flags, r.c1, r.store)
            }
        };
        if store {
            self.x87_write(seg, off, &b[..n])?;
        }
        self.fp_raise(flags);
        self.fp_set_c1(c1);
        if store && pop {
            self.fp_pop();
        }
        Ok(())
    }

    /// FST/FSTP ST(i): an exact copy.
    fn fst_sti(&mut self, d: usize, pop: bool) {
        if self.fp_is_empty(0) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(d, INDEFINITE);
                if pop {
                    self.fp_pop();
                }
            }
            return;
        }
        let v = self.fp_st(0);
        self.fp_set_st(d, v);
        self.fp_set_c1(false);
        if pop {
            self.fp_pop();
        }
    }

    /// FXCH: with IE masked, an empty operand is first replaced by the indefinite (the
    /// host's response).
    fn fxch(&mut self, s: usize) {
        let (e0, es) = (self.fp_is_empty(0), self.fp_is_empty(s));
        if (e0 || es) && !self.fp_stack_fault(false) {
            return;
        }
        let a = if e0 { INDEFINITE } else { self.fp_st(0) };
        let b = if es { INDEFINITE } else { self.fp_st(s) };
        self.fp_set_st(0, b);
        self.fp_set_st(s, a);
        self.fp_set_c1(false);
    }

    /// FCMOVcc: with an empty operand and IE masked, ST(0) gets the indefinite whatever
    /// the condition. C1 is set only by that underflow (to 0).
    fn fcmov(&mut self, s: usize, take: bool) {
        if self.fp_is_empty(0) || self.fp_is_empty(s) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(0, INDEFINITE);
            }
            return;
        }
        // Without underflow C1 is undefined (SDM FCMOVcc); the host leaves it.
        if take {
            let v = self.fp_st(s);
            self.fp_set_st(0, v);
        }
    }

    /// ST(0) = ST(0) op m (a widened memory operand).
    fn arith_mem(&mut self, op: Op, src: Out) {
        if self.fp_is_empty(0) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(0, INDEFINITE);
            }
            return;
        }
        if !src.store {
            self.fp_raise(src.flags);
            return;
        }
        let st = self.fp_st(0);
        let mut o = match snan_operand(st, src) {
            Some(val) => Out {
                val,
                flags: f80::exc::IE,
                c1: false,
                store: !self.fp_suppressed(f80::exc::IE),
            },
            None => apply(op, st, src.val, self.fp_env()),
        };
        o.flags |= load_flags(src.flags, o.flags, st);
        self.fp_commit(0, o);
    }

    /// ST(d) = ST(d) op ST(s), popping if `pop` and the result was written.
    fn arith_reg(&mut self, op: Op, d: usize, s: usize, pop: bool) {
        if self.fp_is_empty(d) || self.fp_is_empty(s) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(d, INDEFINITE);
                if pop {
                    self.fp_pop();
                }
            }
            return;
        }
        let o = apply(op, self.fp_st(d), self.fp_st(s), self.fp_env());
        if self.fp_commit(d, o) && pop {
            self.fp_pop();
        }
    }

    /// Compare ST(0) with ST(s): `quiet` for FUCOM*, `pops` 0-2, `to_eflags` for FCOMI*.
    fn fcom_reg(&mut self, s: usize, quiet: bool, pops: u32, to_eflags: bool) {
        if self.fp_is_empty(0) || self.fp_is_empty(s) {
            self.fcom_underflow(pops, to_eflags);
            return;
        }
        let r = f80::compare(self.fp_st(0), self.fp_st(s), quiet);
        self.fcom_finish(r, pops, to_eflags);
    }

    /// Compare ST(0) with a widened memory operand or +0.0 (FCOM m, FICOM, FTST).
    fn fcom_val(&mut self, v: Out, pops: u32) {
        if self.fp_is_empty(0) {
            self.fcom_underflow(pops, false);
            return;
        }
        if !v.store {
            self.fp_raise(v.flags);
            return;
        }
        let st = self.fp_st(0);
        let (cmp, f) = f80::compare(st, v.val, false);
        self.fcom_finish((cmp, f | load_flags(v.flags, f, st)), pops, false);
    }

    fn fcom_underflow(&mut self, pops: u32, to_eflags: bool) {
        if self.fp_stack_fault(false) {
            self.set_compare(Cmp::Unordered, to_eflags);
            for _ in 0..pops {
                self.fp_pop();
            }
        }
    }

    fn fcom_finish(&mut self, (cmp, f): (Cmp, u8), pops: u32, to_eflags: bool) {
        self.fp_raise(f);
        if self.fp_suppressed(f) {
            return;
        }
        // FCOMI/FUCOMI*: the host (AMD) leaves C1 as it was.
        if !to_eflags {
            self.fp_set_c1(false);
        }
        self.set_compare(cmp, to_eflags);
        for _ in 0..pops {
            self.fp_pop();
        }
    }

    fn set_compare(&mut self, cmp: Cmp, to_eflags: bool) {
        if to_eflags {
            flags::set_masked(&mut self.s, flags::ARITH, cmp_eflags(cmp));
        } else {
            self.fp_set_cc(fsw::C0 | fsw::C2 | fsw::C3, cmp_cc(cmp));
        }
    }

    /// FXAM: C3, C2, C0 classify ST(0) (empty: C3 and C0), C1 is its sign even when
    /// empty (as on the host).
    fn fxam(&mut self) {
        let p = self.fp_phys(0);
        let v = self.s.fpu.regs[p];
        let class = if self.fp_tag(p) == tag::EMPTY {
            fsw::C3 | fsw::C0
        } else {
            f80::examine(v) & (fsw::C3 | fsw::C2 | fsw::C0)
        };
        let sign = if v.sign_exp & 0x8000 != 0 { fsw::C1 } else { 0 };
        self.fp_set_cc(fsw::CC, class | sign);
    }

    /// ST(0) = f(ST(0)).
    fn fp_unary(&mut self, f: impl FnOnce(F80, Env) -> Out) {
        if self.fp_is_empty(0) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(0, INDEFINITE);
            }
            return;
        }
        let o = f(self.fp_st(0), self.fp_env());
        self.fp_commit(0, o);
    }

    /// ST(0) and ST(1) for FSCALE/FPREM/FPREM1; on underflow the masked response writes
    /// the indefinite to ST(0).
    fn st0_st1(&mut self) -> Option<(F80, F80)> {
        if self.fp_is_empty(0) || self.fp_is_empty(1) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(0, INDEFINITE);
            }
            return None;
        }
        Some((self.fp_st(0), self.fp_st(1)))
    }

    /// ST(1) = f(ST(0), ST(1)), then pop (FPATAN, FYL2X, FYL2XP1).
    fn st1_pop(&mut self, f: impl FnOnce(F80, F80, Env) -> Out) {
        if self.fp_is_empty(0) || self.fp_is_empty(1) {
            if self.fp_stack_fault(false) {
                self.fp_set_st(1, INDEFINITE);
                self.fp_pop();
            }
            return;
        }
        let o = f(self.fp_st(0), self.fp_st(1), self.fp_env());
        if self.fp_commit(1, o) {
            self.fp_pop();
        }
    }

    /// FXTRACT/FPTAN/FSINCOS need a full ST(0) and an empty ST(7); otherwise the
    /// masked response replaces ST(0) with the indefinite and pushes another.
    fn two_results_ok(&mut self) -> bool {
        let e0 = self.fp_is_empty(0);
        if !e0 && self.fp_is_empty(7) {
            return true;
        }
        if self.fp_stack_fault(!e0) {
            self.fp_set_st(0, INDEFINITE);
            self.fp_push(INDEFINITE);
        }
        false
    }
}

/// FSTP's masked-underflow images, for tests.
#[cfg(test)]
pub(super) fn indefinite_image(bits: u32, int: bool) -> Vec<u8> {
    let fmt = match (bits, int) {
        (16, true) => Fmt::I16,
        (32, true) => Fmt::I32,
        (64, true) => Fmt::I64,
        (32, false) => Fmt::F32,
        (64, false) => Fmt::F64,
        (80, false) => Fmt::F80,
        _ => Fmt::Bcd,
    };
    fmt.indefinite()[..fmt.len()].to_vec()
}
