//! 80-bit extended-precision arithmetic with the x87's own rules (Intel SDM Vol. 1):
//! §4.2.2 and §8.2.2 (the extended format, unsupported encodings: pseudo-NaNs,
//! pseudo-infinities and unnormals raise IE; pseudo-denormals are accepted with the
//! exponent taken as 1 and raise DE), §4.7 (number classes), §4.8.3.5 and Table 4-7
//! (NaN operands: quieted, the larger significand wins; the "real indefinite" QNaN of
//! masked invalid operations), §4.9 and §8.4 (IE, DE, ZE, OE, UE, PE with their masked and
//! unmasked responses; unmasked overflow/underflow deliver the result scaled by 2^-+24576),
//! §8.1.5 (precision control rounds the significand to 24/53/64 bits while keeping the
//! 15-bit exponent range; rounding control), §8.1.3.1 (C1 = rounded up), §8.3 and the
//! Vol. 2 instruction pages of FADD/FSUB/FMUL/FDIV/FSQRT/FPREM/FPREM1/FRNDINT/FSCALE/
//! FXTRACT/FLD/FST/FILD/FIST/FBLD/FBSTP/FCOM/FUCOM/FXAM and §8.3.8 (constants).
//!
//! Every finite operand is unpacked to a normalized 64-bit significand and an unbounded
//! exponent, the exact result (or a 128-bit significand with a sticky bit) is computed
//! with integer arithmetic, and one rounding routine applies precision, rounding mode,
//! overflow, underflow (tininess detected after rounding, as the host x87 shows) and the
//! status flags. Expected values in the tests were taken from the host's x87.

pub use jit::abi::Ext80 as F80;

/// x87 exception flags, as in FSW bits 0-5 and FCW mask bits 0-5.
pub mod exc {
    pub const IE: u8 = 0x01;
    pub const DE: u8 = 0x02;
    pub const ZE: u8 = 0x04;
    pub const OE: u8 = 0x08;
    pub const UE: u8 = 0x10;
    pub const PE: u8 = 0x20;
}

/// Rounding control (FCW bits 10-11), precision control (FCW bits 8-9) and the
/// exception masks (FCW bits 0-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    pub rc: u8,
    pub pc: u8,
    pub masks: u8,
}

impl Env {
    pub fn from_fcw(fcw: u16) -> Self {
        Self {
            rc: ((fcw >> 10) & 3) as u8,
            pc: ((fcw >> 8) & 3) as u8,
            masks: (fcw & 0x3f) as u8,
        }
    }
}

/// A computed result: the value, the exception flags raised, C1 (the result was
/// rounded up in magnitude), and whether the destination is written (false when an
/// unmasked invalid-operation, denormal or zero-divide exception suppresses it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Out {
    pub val: F80,
    pub flags: u8,
    pub c1: bool,
    pub store: bool,
}

/// A result narrowed to a memory format (f32, f64, integer, BCD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Narrow<T> {
    pub val: T,
    pub flags: u8,
    pub c1: bool,
    pub store: bool,
}

/// FPREM/FPREM1: the partial remainder, the three low quotient bits and C2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rem {
    pub out: Out,
    pub q: u8,
    pub incomplete: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Less,
    Equal,
    Greater,
    Unordered,
}

/// The constants FLD1..FLDLN2 load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Const {
    One,
    L2t,
    L2e,
    Pi,
    Lg2,
    Ln2,
    Zero,
}

/// The "real indefinite" QNaN of masked invalid operations.
pub const INDEFINITE: F80 = F80 {
    signif: 0xc000_0000_0000_0000,
    sign_exp: 0xffff,
};

const BIAS: i32 = 16383;
const EXP_INF: i32 = 0x7fff;
const J: u64 = 1 << 63;
const QUIET: u64 = 1 << 62;
/// The exponent adjustment of unmasked overflow/underflow responses (SDM §8.4).
const WRAP: i32 = 24576;

/// Rounding control values (FCW bits 10-11).
const RC_NEAREST: u8 = 0;
const RC_DOWN: u8 = 1;
const RC_UP: u8 = 2;

/// The class of an extended-precision encoding (SDM Vol. 1 §4.7, Table 8-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Zero,
    Normal,
    /// A denormal or pseudo-denormal (exponent 0, significand non-zero).
    Denormal,
    Inf,
    QNaN,
    SNaN,
    /// Pseudo-NaN, pseudo-infinity or unnormal: invalid operands since the 80387.
    Unsupported,
}

pub fn classify(a: F80) -> Class {
    let e = a.sign_exp & 0x7fff;
    let s = a.signif;
    match e {
        0 if s == 0 => Class::Zero,
        0 => Class::Denormal,
        0x7fff if s & J == 0 => Class::Unsupported,
        0x7fff if s << 1 == 0 => Class::Inf,
        0x7fff if s & QUIET != 0 => Class::QNaN,
        0x7fff => Class::SNaN,
        _ if s & J == 0 => Class::Unsupported,
        _ => Class::Normal,
    }
}

pub fn is_nan(a: F80) -> bool {
    matches!(classify(a), Class::QNaN | Class::SNaN)
}
pub fn is_snan(a: F80) -> bool {
    classify(a) == Class::SNaN
}
/// The sign bit.
pub fn sign(a: F80) -> bool {
    a.sign_exp & 0x8000 != 0
}
/// FCHS: flips the sign of any encoding, NaNs included; no exceptions.
pub fn neg(a: F80) -> F80 {
    F80 {
        signif: a.signif,
        sign_exp: a.sign_exp ^ 0x8000,
    }
}
/// FABS: clears the sign of any encoding; no exceptions.
pub fn abs(a: F80) -> F80 {
    F80 {
        signif: a.signif,
        sign_exp: a.sign_exp & 0x7fff,
    }
}
/// The FTW tag of a non-empty register (SDM §8.1.7): 0 valid, 1 zero, 2 special
/// (NaN, infinity, denormal, unsupported).
pub fn tag(a: F80) -> u8 {
    match classify(a) {
        Class::Normal => 0,
        Class::Zero => 1,
        _ => 2,
    }
}
pub fn zero(sign: bool) -> F80 {
    F80 {
        signif: 0,
        sign_exp: if sign { 0x8000 } else { 0 },
    }
}
pub fn inf(sign: bool) -> F80 {
    pack(sign, EXP_INF as u16, J)
}

fn pack(sign: bool, exp: u16, signif: u64) -> F80 {
    F80 {
        signif,
        sign_exp: (exp & 0x7fff) | if sign { 0x8000 } else { 0 },
    }
}

fn quiet(a: F80) -> F80 {
    F80 {
        signif: a.signif | QUIET,
        sign_exp: a.sign_exp,
    }
}

/// A finite non-zero operand: value = sig * 2^(exp - 63), sig normalized (bit 63 set).
#[derive(Clone, Copy, Debug)]
struct Fin {
    sign: bool,
    exp: i32,
    sig: u64,
}

/// Unpacks a normal, denormal or pseudo-denormal (exponent field 0 counts as 1).
fn unpack(a: F80) -> Fin {
    let e = i32::from(a.sign_exp & 0x7fff).max(1);
    let sh = a.signif.leading_zeros().min(63);
    Fin {
        sign: sign(a),
        exp: e - BIAS - sh as i32,
        sig: a.signif << sh,
    }
}

/// Integer value as an exact F80 (|v| < 2^64).
fn from_mag(sign: bool, mag: u64) -> F80 {
    if mag == 0 {
        return zero(sign);
    }
    let sh = mag.leading_zeros();
    pack(sign, (BIAS + 63 - sh as i32) as u16, mag << sh)
}

fn out(val: F80, flags: u8, c1: bool) -> Out {
    Out {
        val,
        flags,
        c1,
        store: true,
    }
}

/// A masked or unmasked invalid-operation response.
fn invalid(env: Env) -> Out {
    Out {
        val: INDEFINITE,
        flags: exc::IE,
        c1: false,
        store: env.masks & exc::IE != 0,
    }
}

/// An exception that suppresses the store when unmasked (IE, DE, ZE): `store` false
/// when any of `flags` is unmasked.
fn with_flags(mut o: Out, flags: u8, env: Env) -> Out {
    o.flags |= flags;
    if flags & !env.masks & (exc::IE | exc::DE | exc::ZE) != 0 {
        o.store = false;
    }
    o
}

/// Shifts `x` right by `sh` and rounds the kept part per `rc`: (kept, inexact, up).
fn shift_round(x: u128, sh: u32, sign: bool, rc: u8) -> (u128, bool, bool) {
    if sh == 0 {
        return (x, false, false);
    }
    let (q, rem) = if sh >= 128 {
        (0, x)
    } else {
        (x >> sh, x & ((1u128 << sh) - 1))
    };
    if rem == 0 {
        return (q, false, false);
    }
    let inc = match rc {
        RC_NEAREST => {
            if sh > 128 {
                false
            } else {
                let half = 1u128 << (sh - 1);
                rem > half || (rem == half && q & 1 != 0)
            }
        }
        RC_DOWN => sign,
        RC_UP => !sign,
        _ => false,
    };
    (q + u128::from(inc), true, inc)
}

/// Shift right keeping a sticky bit in bit 0.
fn shr_jam(x: u128, sh: u32) -> u128 {
    if sh == 0 {
        x
    } else if sh >= 128 {
        u128::from(x != 0)
    } else {
        (x >> sh) | u128::from(x & ((1u128 << sh) - 1) != 0)
    }
}

/// The outcome of rounding to a format: `Fin(biased exponent, significand of `prec`
/// bits, integer bit included; exponent 0 = denormal/zero)`, or a masked overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rounded {
    Fin(i32, u128),
    Inf,
    Max,
}

/// A destination format for `round_core`.
#[derive(Clone, Copy)]
struct Format {
    prec: u32,
    bias: i32,
    emax: i32,
    wrap: i32,
}

/// Rounds value = sig * 2^(exp - 127) (sig with bit 127 set, any sticky bit folded into
/// its low bits) to `prec` significant bits in a format with exponent `bias` and
/// all-ones exponent `emax`. Tininess is detected after rounding. `wrap` is the
/// exponent bias adjust of unmasked overflow/underflow (0: none, the caller does not
/// store). Returns the rounded value, the flags and C1.
fn round_core(sign: bool, exp: i32, sig: u128, fmt: Format, env: Env) -> (Rounded, u8, bool) {
    let Format {
        prec,
        bias,
        emax,
        wrap,
    } = fmt;
    let mut e = exp.saturating_add(bias);
    let mut flags = 0;
    // Tininess after rounding: the value rounded to `prec` bits with an unbounded
    // exponent is below the smallest normal.
    let tiny = e < 0 || (e == 0 && shift_round(sig, 128 - prec, sign, env.rc).0 >> prec == 0);
    if tiny && env.masks & exc::UE == 0 {
        flags |= exc::UE;
        if wrap == 0 {
            // A store to memory: nothing is written and only UE is reported.
            return (Rounded::Fin(0, 0), flags, false);
        }
        e = e.saturating_add(wrap);
        if e < 1 {
            // Still below the range after the bias adjust (FSCALE): a signed zero.
            return (Rounded::Fin(0, 0), exc::UE | exc::PE, false);
        }
    }
    if tiny && e < 1 {
        let extra = (1i64 - i64::from(e)).min(200) as u32;
        let (m, inexact, up) = shift_round(sig, 128 - prec + extra, sign, env.rc);
        if inexact {
            flags |= exc::PE | exc::UE;
        }
        let e = if m >> (prec - 1) != 0 { 1 } else { 0 };
        return (Rounded::Fin(e, m), flags, up);
    }
    let (mut m, inexact, up) = shift_round(sig, 128 - prec, sign, env.rc);
    if m >> prec != 0 {
        m >>= 1;
        e += 1;
    }
    if inexact {
        flags |= exc::PE;
    }
    if e >= emax {
        if env.masks & exc::OE == 0 {
            if wrap == 0 {
                // A store to memory: nothing is written and only OE is reported.
                return (Rounded::Fin(e, m), exc::OE, false);
            }
            if e - wrap < emax {
                return (Rounded::Fin(e - wrap, m), flags | exc::OE, up);
            }
            // Still beyond the range after the bias adjust (FSCALE): infinity.
            return (Rounded::Inf, exc::OE | exc::PE, true);
        }
        flags |= exc::OE | exc::PE;
        let to_inf = match env.rc {
            RC_NEAREST => true,
            RC_DOWN => sign,
            RC_UP => !sign,
            _ => false,
        };
        return if to_inf {
            (Rounded::Inf, flags, true)
        } else {
            (Rounded::Max, flags, false)
        };
    }
    (Rounded::Fin(e, m), flags, up)
}

/// Significand bits for precision control (SDM §8.1.5.2; PC=1 is reserved and acts
/// as 64 here).
fn pc_bits(env: Env) -> u32 {
    match env.pc {
        0 => 24,
        2 => 53,
        _ => 64,
    }
}

/// Rounds to the extended format at `prec` bits.
fn round_ext(sign: bool, exp: i32, sig: u128, prec: u32, env: Env) -> Out {
    let (r, flags, c1) = round_core(
        sign,
        exp,
        sig,
        Format {
            prec,
            bias: BIAS,
            emax: EXP_INF,
            wrap: WRAP,
        },
        env,
    );
    let val = match r {
        Rounded::Fin(e, m) => {
            let signif = (m as u64) << (64 - prec);
            if signif == 0 {
                zero(sign)
            } else {
                pack(sign, e as u16, signif)
            }
        }
        Rounded::Inf => inf(sign),
        Rounded::Max => pack(sign, (EXP_INF - 1) as u16, !0u64 << (64 - prec)),
    };
    out(val, flags, c1)
}

/// Rounds a finite operand (for example a denormal passed through) at `prec`.
fn round_fin(f: Fin, prec: u32, env: Env) -> Out {
    round_ext(f.sign, f.exp, u128::from(f.sig) << 64, prec, env)
}

/// NaN and unsupported operands of a two-operand arithmetic instruction (Table 4-7):
/// Some(result) when either operand is one.
fn nan2(a: F80, b: F80, env: Env) -> Option<Out> {
    let (ca, cb) = (classify(a), classify(b));
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return Some(invalid(env));
    }
    let an = matches!(ca, Class::QNaN | Class::SNaN);
    let bn = matches!(cb, Class::QNaN | Class::SNaN);
    if !an && !bn {
        return None;
    }
    let flags = if ca == Class::SNaN || cb == Class::SNaN {
        exc::IE
    } else {
        0
    };
    let val = match (an, bn) {
        // The larger raw significand: a QNaN beats an SNaN (Table 4-7).
        (true, true) => {
            if b.signif > a.signif {
                quiet(b)
            } else if a.signif > b.signif {
                quiet(a)
            } else if sign(a) {
                quiet(b)
            } else {
                quiet(a)
            }
        }
        (true, false) => quiet(a),
        _ => quiet(b),
    };
    Some(with_flags(out(val, 0, false), flags, env))
}

/// NaN and unsupported operands of a one-operand instruction.
fn nan1(a: F80, env: Env) -> Option<Out> {
    match classify(a) {
        Class::Unsupported => Some(invalid(env)),
        Class::SNaN => Some(with_flags(out(quiet(a), 0, false), exc::IE, env)),
        Class::QNaN => Some(out(a, 0, false)),
        _ => None,
    }
}

fn de_flag(a: F80) -> u8 {
    if classify(a) == Class::Denormal {
        exc::DE
    } else {
        0
    }
}

/// Sets DE; an unmasked DE stops the instruction (Some: the response).
fn denormal_check(de: u8, env: Env) -> Option<Out> {
    if de != 0 && env.masks & exc::DE == 0 {
        Some(Out {
            val: INDEFINITE,
            flags: exc::DE,
            c1: false,
            store: false,
        })
    } else {
        None
    }
}

fn add_signed(a: F80, b: F80, bsign: bool, env: Env) -> Out {
    if let Some(o) = nan2(a, b, env) {
        return o;
    }
    let de = de_flag(a) | de_flag(b);
    if let Some(o) = denormal_check(de, env) {
        return o;
    }
    let (ca, cb) = (classify(a), classify(b));
    let asign = sign(a);
    let prec = pc_bits(env);
    let r = match (ca, cb) {
        (Class::Inf, Class::Inf) => {
            if asign != bsign {
                invalid(env)
            } else {
                out(a, 0, false)
            }
        }
        (Class::Inf, _) => out(a, 0, false),
        (_, Class::Inf) => out(inf(bsign), 0, false),
        (Class::Zero, Class::Zero) => {
            let s = if asign == bsign {
                asign
            } else {
                env.rc == RC_DOWN
            };
            out(zero(s), 0, false)
        }
        (Class::Zero, _) => {
            let mut f = unpack(b);
            f.sign = bsign;
            round_fin(f, prec, env)
        }
        (_, Class::Zero) => round_fin(unpack(a), prec, env),
        _ => {
            let fa = unpack(a);
            let mut fb = unpack(b);
            fb.sign = bsign;
            let (x, y) = if fa.exp >= fb.exp { (fa, fb) } else { (fb, fa) };
            let d = (x.exp - y.exp) as u32;
            let xs = u128::from(x.sig) << 63;
            let ys = shr_jam(u128::from(y.sig) << 63, d);
            let (s, rsign) = if x.sign == y.sign {
                (xs + ys, x.sign)
            } else if xs >= ys {
                (xs - ys, x.sign)
            } else {
                (ys - xs, y.sign)
            };
            if s == 0 {
                out(zero(env.rc == RC_DOWN), 0, false)
            } else {
                let lz = s.leading_zeros();
                round_ext(rsign, x.exp + 1 - lz as i32, s << lz, prec, env)
            }
        }
    };
    with_flags(r, de, env)
}

pub fn add(a: F80, b: F80, env: Env) -> Out {
    add_signed(a, b, sign(b), env)
}
pub fn sub(a: F80, b: F80, env: Env) -> Out {
    add_signed(a, b, !sign(b), env)
}
pub fn mul(a: F80, b: F80, env: Env) -> Out {
    if let Some(o) = nan2(a, b, env) {
        return o;
    }
    let de = de_flag(a) | de_flag(b);
    if let Some(o) = denormal_check(de, env) {
        return o;
    }
    let (ca, cb) = (classify(a), classify(b));
    let s = sign(a) ^ sign(b);
    let r = match (ca, cb) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => invalid(env),
        (Class::Inf, _) | (_, Class::Inf) => out(inf(s), 0, false),
        (Class::Zero, _) | (_, Class::Zero) => out(zero(s), 0, false),
        _ => {
            let (fa, fb) = (unpack(a), unpack(b));
            let p = u128::from(fa.sig) * u128::from(fb.sig);
            let lz = p.leading_zeros();
            round_ext(
                s,
                fa.exp + fb.exp + 1 - lz as i32,
                p << lz,
                pc_bits(env),
                env,
            )
        }
    };
    with_flags(r, de, env)
}

/// floor(a * 2^127 / b) with a sticky bit, for normalized 64-bit significands.
fn div_sig(a: u64, b: u64) -> u128 {
    let b = u128::from(b);
    let n1 = u128::from(a) << 64;
    let (q1, r1) = (n1 / b, n1 % b);
    let n2 = r1 << 63;
    let (q2, r2) = (n2 / b, n2 % b);
    (q1 << 63) | q2 | u128::from(r2 != 0)
}

pub fn div(a: F80, b: F80, env: Env) -> Out {
    if let Some(o) = nan2(a, b, env) {
        return o;
    }
    let (ca, cb) = (classify(a), classify(b));
    let s = sign(a) ^ sign(b);
    // Zero-divide outranks the denormal-operand exception (SDM §4.9.2).
    if cb == Class::Zero && matches!(ca, Class::Normal | Class::Denormal) {
        return with_flags(out(inf(s), 0, false), exc::ZE, env);
    }
    let de = de_flag(a) | de_flag(b);
    if let Some(o) = denormal_check(de, env) {
        return o;
    }
    let r = match (ca, cb) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => invalid(env),
        (Class::Inf, _) => out(inf(s), 0, false),
        (_, Class::Inf) => out(zero(s), 0, false),
        (Class::Zero, _) => out(zero(s), 0, false),
        (_, Class::Zero) => with_flags(out(inf(s), 0, false), exc::ZE, env),
        _ => {
            let (fa, fb) = (unpack(a), unpack(b));
            let q = div_sig(fa.sig, fb.sig);
            let lz = q.leading_zeros();
            round_ext(s, fa.exp - fb.exp - lz as i32, q << lz, pc_bits(env), env)
        }
    };
    with_flags(r, de, env)
}

/// floor(sqrt(sig * 2^sh)) for sh 127 or 128 (a 96-bit root) with a sticky bit.
fn sqrt_sig(sig: u64, sh: u32) -> u128 {
    let bit = |k: u32| -> u128 {
        if k >= sh && k - sh < 64 {
            u128::from((sig >> (k - sh)) & 1)
        } else {
            0
        }
    };
    let (mut rem, mut root) = (0u128, 0u128);
    for i in (0..96u32).rev() {
        rem = (rem << 2) | (bit(2 * i + 1) << 1) | bit(2 * i);
        let t = (root << 2) | 1;
        root <<= 1;
        if rem >= t {
            rem -= t;
            root |= 1;
        }
    }
    root | u128::from(rem != 0)
}

pub fn sqrt(a: F80, env: Env) -> Out {
    if let Some(o) = nan1(a, env) {
        return o;
    }
    if sign(a) && classify(a) != Class::Zero {
        return invalid(env);
    }
    let de = de_flag(a);
    if let Some(o) = denormal_check(de, env) {
        return o;
    }
    let r = match classify(a) {
        Class::Zero => out(a, 0, false),
        Class::Inf => out(a, 0, false),
        _ => {
            let f = unpack(a);
            let odd = f.exp & 1 != 0;
            let root = sqrt_sig(f.sig, if odd { 128 } else { 127 });
            let e = (f.exp - i32::from(odd)) / 2;
            // root (96 bits + sticky) has its top bit at 95.
            let sig = ((root >> 1) << 33) | (root & 1);
            round_ext(false, e, sig, pc_bits(env), env)
        }
    };
    with_flags(r, de, env)
}

/// FPREM (`ieee` false: truncated quotient) or FPREM1 (`ieee` true: nearest) of a / b.
/// An exponent difference of 64 or more gives a partial remainder (C2 set) reduced by
/// 2^(D - N) as the SDM's FPREM pseudo-code describes, N = 32 + (D mod 32).
pub fn rem(a: F80, b: F80, ieee: bool, env: Env) -> Rem {
    let done = |out: Out| Rem {
        out,
        q: 0,
        incomplete: false,
    };
    if let Some(o) = nan2(a, b, env) {
        return done(o);
    }
    let (ca, cb) = (classify(a), classify(b));
    if ca == Class::Inf || cb == Class::Zero {
        return done(invalid(env));
    }
    let de = de_flag(a) | de_flag(b);
    if let Some(o) = denormal_check(de, env) {
        return done(o);
    }
    if ca == Class::Zero {
        return done(with_flags(out(a, 0, false), de, env));
    }
    if cb == Class::Inf {
        // The dividend comes back normalized (a pseudo-denormal becomes exponent 1).
        return done(with_flags(round_fin(unpack(a), 64, env), de, env));
    }
    let (fa, fb) = (unpack(a), unpack(b));
    let d = fa.exp - fb.exp;
    if d >= 64 {
        // Partial reduction: a - b * QQ * 2^(d - n), QQ = trunc(a / b / 2^(d - n)).
        let n = 32 + (d % 32);
        // a = A * 2^(ea - 63) and b * 2^(d - n) = B * 2^(ea - 63 - n), so
        // a / (b * 2^(d - n)) = (A << n) / B.
        let num = u128::from(fa.sig) << n;
        let bb = u128::from(fb.sig);
        let r = num % bb; // remainder in units of 2^(ea - 63 - n)
        let o = if r == 0 {
            out(zero(fa.sign), 0, false)
        } else {
            let lz = r.leading_zeros();
            round_ext(fa.sign, fa.exp - n + 64 - lz as i32, r << lz, 64, env)
        };
        return Rem {
            out: with_flags(o, de, env),
            q: 0,
            incomplete: true,
        };
    }
    let mut rsign = fa.sign;
    let (r, q) = if d < -1 {
        (u128::from(fa.sig), 0u128)
    } else {
        // Both in units of 2^(min exponent - 63).
        let e0 = fa.exp.min(fb.exp);
        let aa = u128::from(fa.sig) << (fa.exp - e0);
        let bb = u128::from(fb.sig) << (fb.exp - e0);
        (aa % bb, aa / bb)
    };
    let unit = if d < -1 { fa.exp } else { fa.exp.min(fb.exp) };
    let (mut r, mut q) = (r, q);
    if ieee && d >= -1 {
        let bb = u128::from(fb.sig) << (fb.exp - unit);
        let twice = r << 1;
        if twice > bb || (twice == bb && q & 1 != 0) {
            r = bb - r;
            q += 1;
            rsign = !rsign;
        }
    }
    let o = if r == 0 {
        out(zero(fa.sign), 0, false)
    } else {
        let lz = r.leading_zeros();
        round_ext(rsign, unit - 63 + 127 - lz as i32, r << lz, 64, env)
    };
    Rem {
        out: with_flags(o, de, env),
        q: (q & 7) as u8,
        incomplete: false,
    }
}

/// Rounds a finite value to an integer per RC: (magnitude, inexact, rounded up); the
/// magnitude saturates at 2^127 (`None` when it does not fit 127 bits).
fn round_to_integer(f: Fin, rc: u8) -> (Option<u128>, bool, bool) {
    if f.exp >= 63 {
        if f.exp > 126 {
            return (None, false, false);
        }
        return (Some(u128::from(f.sig) << (f.exp - 63)), false, false);
    }
    let sh = (63i64 - i64::from(f.exp)).min(200) as u32;
    let (m, inexact, up) = shift_round(u128::from(f.sig), sh, f.sign, rc);
    (Some(m), inexact, up)
}

/// FRNDINT.
pub fn round_int(a: F80, env: Env) -> Out {
    if let Some(o) = nan1(a, env) {
        return o;
    }
    let de = de_flag(a);
    if let Some(o) = denormal_check(de, env) {
        return o;
    }
    let r = match classify(a) {
        Class::Zero | Class::Inf => out(a, 0, false),
        _ => {
            let f = unpack(a);
            if f.exp >= 63 {
                out(a, 0, false)
            } else {
                let (m, inexact, up) = round_to_integer(f, env.rc);
                let m = m.unwrap_or(0) as u64; // < 2^64 since exp < 63
                let flags = if inexact { exc::PE } else { 0 };
                out(from_mag(f.sign, m), flags, up)
            }
        }
    };
    with_flags(r, de, env)
}

/// FSCALE: a * 2^trunc(b).
pub fn scale(a: F80, b: F80, env: Env) -> Out {
    if let Some(o) = nan2(a, b, env) {
        return o;
    }
    let de = de_flag(a) | de_flag(b);
    let (ca, cb) = (classify(a), classify(b));
    let bs = sign(b);
    let r = match (ca, cb) {
        (Class::Zero, Class::Inf) if !bs => invalid(env),
        (Class::Inf, Class::Inf) if bs => invalid(env),
        _ if de != 0 && env.masks & exc::DE == 0 => return with_flags(out(a, 0, false), de, env),
        (Class::Zero, _) | (Class::Inf, _) => out(a, 0, false),
        (_, Class::Inf) => out(if bs { zero(sign(a)) } else { inf(sign(a)) }, 0, false),
        (_, Class::Zero) => round_fin(unpack(a), 64, env),
        _ => {
            let fb = unpack(b);
            let n: i32 = if fb.exp >= 20 {
                1 << 20
            } else if fb.exp < 0 {
                0
            } else {
                (fb.sig >> (63 - fb.exp)) as i32
            };
            let n = if fb.sign { -n } else { n };
            let fa = unpack(a);
            round_ext(fa.sign, fa.exp + n, u128::from(fa.sig) << 64, 64, env)
        }
    };
    with_flags(r, de, env)
}

/// FXTRACT: (exponent, significand).
pub fn xtract(a: F80, env: Env) -> (Out, Out) {
    if let Some(o) = nan1(a, env) {
        return (o, o);
    }
    let de = de_flag(a);
    if let Some(o) = denormal_check(de, env) {
        return (o, o);
    }
    match classify(a) {
        Class::Zero => {
            let e = with_flags(out(inf(true), 0, false), exc::ZE, env);
            let mut s = out(a, 0, false);
            s.store = e.store;
            s.flags = e.flags;
            (e, s)
        }
        Class::Inf => (out(inf(false), 0, false), out(a, 0, false)),
        _ => {
            let f = unpack(a);
            let e = i64::from(f.exp);
            let ev = from_mag(e < 0, e.unsigned_abs());
            (
                with_flags(out(ev, 0, false), de, env),
                with_flags(out(pack(f.sign, BIAS as u16, f.sig), 0, false), de, env),
            )
        }
    }
}

/// Widens an IEEE binary format (`mbits` stored fraction bits, `ebits` exponent bits).
fn from_ieee(bits: u64, mbits: u32, ebits: u32, env: Env) -> Out {
    let s = (bits >> (mbits + ebits)) & 1 != 0;
    let emax = (1u64 << ebits) - 1;
    let e = (bits >> mbits) & emax;
    let frac = bits & ((1u64 << mbits) - 1);
    let bias = (1i32 << (ebits - 1)) - 1;
    if e == emax {
        if frac == 0 {
            return out(inf(s), 0, false);
        }
        let signif = J | (frac << (63 - mbits));
        let v = pack(s, EXP_INF as u16, signif);
        return if signif & QUIET == 0 {
            with_flags(out(quiet(v), 0, false), exc::IE, env)
        } else {
            out(v, 0, false)
        };
    }
    if e == 0 {
        if frac == 0 {
            return out(zero(s), 0, false);
        }
        let sh = frac.leading_zeros();
        // value = frac * 2^(1 - bias - mbits)
        let exp = 1 - bias - mbits as i32 + 63 - sh as i32;
        let v = pack(s, (exp + BIAS) as u16, frac << sh);
        return with_flags(out(v, 0, false), exc::DE, env);
    }
    let exp = e as i32 - bias;
    out(
        pack(s, (exp + BIAS) as u16, J | (frac << (63 - mbits))),
        0,
        false,
    )
}

/// FLD m32/m64: widening (SNaN -> IE and quieted; denormal -> DE).
pub fn from_f32(bits: u32, env: Env) -> Out {
    from_ieee(u64::from(bits), 23, 8, env)
}
pub fn from_f64(bits: u64, env: Env) -> Out {
    from_ieee(bits, 52, 11, env)
}

/// Narrows to an IEEE binary format; RC applies, PC does not.
fn to_ieee(a: F80, mbits: u32, ebits: u32, env: Env) -> Narrow<u64> {
    let emax = (1u64 << ebits) - 1;
    let sbit = |s: bool| if s { 1u64 << (mbits + ebits) } else { 0 };
    let qnan = sbit(true) | (emax << mbits) | (1u64 << (mbits - 1));
    let done = |val: u64, flags: u8, c1: bool| Narrow {
        val,
        flags,
        c1,
        store: true,
    };
    let ie = |val: u64| Narrow {
        val,
        flags: exc::IE,
        c1: false,
        store: env.masks & exc::IE != 0,
    };
    let s = sign(a);
    match classify(a) {
        Class::Unsupported => ie(qnan),
        Class::QNaN | Class::SNaN => {
            let v = sbit(s)
                | (emax << mbits)
                | ((a.signif << 1) >> (64 - mbits))
                | (1u64 << (mbits - 1));
            if classify(a) == Class::SNaN {
                ie(v)
            } else {
                done(v, 0, false)
            }
        }
        Class::Inf => done(sbit(s) | (emax << mbits), 0, false),
        Class::Zero => done(sbit(s), 0, false),
        _ => {
            // A denormal source raises no DE on stores (as the host x87 shows).
            let f = unpack(a);
            let bias = (1i32 << (ebits - 1)) - 1;
            let (r, flags, c1) = round_core(
                s,
                f.exp,
                u128::from(f.sig) << 64,
                Format {
                    prec: mbits + 1,
                    bias,
                    emax: emax as i32,
                    wrap: 0,
                },
                env,
            );
            let val = match r {
                Rounded::Fin(e, m) => {
                    sbit(s) | ((e as u64) << mbits) | (m as u64 & ((1u64 << mbits) - 1))
                }
                Rounded::Inf => sbit(s) | (emax << mbits),
                Rounded::Max => sbit(s) | ((emax << mbits) - 1),
            };
            let store = flags & !env.masks & (exc::OE | exc::UE) == 0;
            Narrow {
                val,
                flags,
                c1,
                store,
            }
        }
    }
}

/// FST m32/m64: narrowing with rounding, overflow, underflow.
pub fn to_f32(a: F80, env: Env) -> Narrow<u32> {
    let n = to_ieee(a, 23, 8, env);
    Narrow {
        val: n.val as u32,
        flags: n.flags,
        c1: n.c1,
        store: n.store,
    }
}
pub fn to_f64(a: F80, env: Env) -> Narrow<u64> {
    to_ieee(a, 52, 11, env)
}
/// FILD: exact.
pub fn from_int(v: i64) -> F80 {
    from_mag(v < 0, v.unsigned_abs())
}

/// Rounds to an integer with |value| <= `limit` (negative side: `neg_limit`):
/// Err(()) when out of range, NaN, infinite or unsupported.
fn to_integer_checked(
    a: F80,
    pos_limit: u128,
    neg_limit: u128,
    env: Env,
) -> Result<(bool, u128, u8, bool), ()> {
    match classify(a) {
        Class::Zero => Ok((sign(a), 0, 0, false)),
        Class::Normal | Class::Denormal => {
            let f = unpack(a);
            let (m, inexact, up) = round_to_integer(f, env.rc);
            let m = m.ok_or(())?;
            if m > if f.sign { neg_limit } else { pos_limit } {
                return Err(());
            }
            Ok((f.sign, m, if inexact { exc::PE } else { 0 }, up))
        }
        _ => Err(()),
    }
}

/// FIST/FISTP m16/m32/m64 (`bits` 16, 32 or 64): the integer indefinite on overflow/NaN.
/// `val` is sign-extended to i64 (the 16-bit indefinite 0x8000 is -32768).
pub fn to_int(a: F80, bits: u32, env: Env) -> Narrow<i64> {
    let bits = bits.clamp(16, 64);
    let lim = 1u128 << (bits - 1);
    match to_integer_checked(a, lim - 1, lim, env) {
        Ok((s, m, flags, c1)) => {
            let v = if s {
                (m as i128).wrapping_neg()
            } else {
                m as i128
            };
            Narrow {
                val: v as i64,
                flags,
                c1,
                store: true,
            }
        }
        Err(()) => Narrow {
            val: -(lim as i128) as i64,
            flags: exc::IE,
            c1: false,
            store: env.masks & exc::IE != 0,
        },
    }
}

/// FBLD / FBSTP packed BCD (18 digits and a sign byte).
pub fn from_bcd(b: [u8; 10]) -> F80 {
    let mut m: u64 = 0;
    for i in (0..9).rev() {
        let byte = u64::from(b[i]);
        m = m
            .wrapping_mul(100)
            .wrapping_add((byte >> 4) * 10 + (byte & 15));
    }
    from_mag(b[9] & 0x80 != 0, m)
}

/// The packed-BCD indefinite (bytes 9..0 = FF FF C0 00 ...).
pub const BCD_INDEFINITE: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];

pub fn to_bcd(a: F80, env: Env) -> Narrow<[u8; 10]> {
    let lim = 999_999_999_999_999_999u128;
    match to_integer_checked(a, lim, lim, env) {
        Ok((s, m, flags, c1)) => {
            let mut v = [0u8; 10];
            let mut m = m as u64;
            for byte in v.iter_mut().take(9) {
                let lo = (m % 10) as u8;
                m /= 10;
                let hi = (m % 10) as u8;
                m /= 10;
                *byte = (hi << 4) | lo;
            }
            v[9] = if s { 0x80 } else { 0 };
            Narrow {
                val: v,
                flags,
                c1,
                store: true,
            }
        }
        Err(()) => Narrow {
            val: BCD_INDEFINITE,
            flags: exc::IE,
            c1: false,
            store: env.masks & exc::IE != 0,
        },
    }
}

/// FCOM (`quiet` false: any NaN is IE) / FUCOM (`quiet` true: only SNaN is IE).
pub fn compare(a: F80, b: F80, quiet: bool) -> (Cmp, u8) {
    let (ca, cb) = (classify(a), classify(b));
    let nan = |c: Class| matches!(c, Class::QNaN | Class::SNaN | Class::Unsupported);
    if nan(ca) || nan(cb) {
        let signaling = |c: Class| matches!(c, Class::SNaN | Class::Unsupported);
        let ie = !quiet || signaling(ca) || signaling(cb);
        return (Cmp::Unordered, if ie { exc::IE } else { 0 });
    }
    let de = de_flag(a) | de_flag(b);
    // Order as sign-magnitude keys: (class rank, exponent, significand).
    let key = |x: F80| -> (bool, i128) {
        match classify(x) {
            Class::Zero => (false, 0),
            Class::Inf => (sign(x), i128::MAX),
            _ => {
                let f = unpack(x);
                (
                    f.sign,
                    ((i128::from(f.exp) + 100_000) << 64) | i128::from(f.sig),
                )
            }
        }
    };
    let (sa, ka) = key(a);
    let (sb, kb) = key(b);
    let va = if sa { -ka } else { ka };
    let vb = if sb { -kb } else { kb };
    let c = match va.cmp(&vb) {
        std::cmp::Ordering::Less => Cmp::Less,
        std::cmp::Ordering::Equal => Cmp::Equal,
        std::cmp::Ordering::Greater => Cmp::Greater,
    };
    (c, de)
}

/// FSW condition-code bits.
pub const C0: u16 = 1 << 8;
pub const C1: u16 = 1 << 9;
pub const C2: u16 = 1 << 10;
pub const C3: u16 = 1 << 14;

/// FXAM: the C3, C2, C0 class bits as FSW bits 14, 10 and 8 (C1, the sign, is the
/// caller's).
pub fn examine(a: F80) -> u16 {
    match classify(a) {
        Class::Unsupported => 0,
        Class::QNaN | Class::SNaN => C0,
        Class::Normal => C2,
        Class::Inf => C2 | C0,
        Class::Zero => C3,
        Class::Denormal => C3 | C2,
    }
}

/// FLD1, FLDL2T, ...: correctly rounded in the current rounding mode.
pub fn constant(c: Const, env: Env) -> F80 {
    // The constants' leading 128 bits and unbiased exponents (value = m * 2^(e - 127)).
    let (m, e): (u128, i32) = match c {
        Const::One => return pack(false, BIAS as u16, J),
        Const::Zero => return zero(false),
        Const::L2t => (0xd49a_784b_cd1b_8afe_492b_f6ff_4daf_db4c, 1),
        Const::L2e => (0xb8aa_3b29_5c17_f0bb_be87_fed0_691d_3e88, 0),
        Const::Pi => (0xc90f_daa2_2168_c234_c4c6_628b_80dc_1cd1, 1),
        Const::Lg2 => (0x9a20_9a84_fbcf_f798_8f89_59ac_0b7c_9178, -2),
        Const::Ln2 => (0xb172_17f7_d1cf_79ab_c9e3_b398_03f2_f6af, -1),
    };
    // SDM §8.3.8 keeps the constants with 66 bits and rounds them per RC; the host x87
    // delivers the correctly rounded value in every mode (FLDLG2 in round-to-nearest
    // rounds up although its 66-bit form ends in a tie), so round from 128 bits.
    // None of these roundings carries out of the significand.
    let (m64, _, _) = shift_round(m, 64, false, env.rc);
    pack(false, (BIAS + e) as u16, m64 as u64)
}

#[cfg(test)]
mod tests {
    //! Expected bit patterns and status bits were taken from the host's x87 (an AMD
    //! EPYC), running FNINIT; FLDCW; FLD m80; FLD m80; <op>; FNSAVE in a scratch program.
    use super::*;
    use std::cmp::Ordering;

    fn f(sign_exp: u16, signif: u64) -> F80 {
        F80 { signif, sign_exp }
    }
    /// All exceptions masked, with `rc` and `pc`.
    fn env(rc: u8, pc: u8) -> Env {
        Env {
            rc,
            pc,
            masks: 0x3f,
        }
    }
    const ONE: F80 = F80 {
        signif: J,
        sign_exp: 0x3fff,
    };
    /// Asserts value, flags and C1 (stored).
    #[track_caller]
    fn check(o: Out, val: F80, flags: u8, c1: bool) {
        assert_eq!(
            (o.val, o.flags, o.c1, o.store),
            (val, flags, c1, true),
            "got {:04x}:{:016x}",
            o.val.sign_exp,
            o.val.signif
        );
    }
    use exc::*;

    #[test]
    fn one_plus_2_pow_minus_64() {
        let t = f(0x3fbf, J);
        for (rc, pc, sig, c1) in [
            (0, 3, 0x8000_0000_0000_0000, false),
            (0, 2, 0x8000_0000_0000_0000, false),
            (1, 3, 0x8000_0000_0000_0000, false),
            (1, 2, 0x8000_0000_0000_0000, false),
            (2, 3, 0x8000_0000_0000_0001, true),
            (2, 2, 0x8000_0000_0000_0800, true),
            (3, 3, 0x8000_0000_0000_0000, false),
            (3, 2, 0x8000_0000_0000_0000, false),
        ] {
            check(add(ONE, t, env(rc, pc)), f(0x3fff, sig), PE, c1);
        }
    }

    #[test]
    fn one_third_per_precision() {
        let three = f(0x4000, 0xc000_0000_0000_0000);
        check(
            div(ONE, three, env(0, 0)),
            f(0x3ffd, 0xaaaa_ab00_0000_0000),
            PE,
            true,
        );
        check(
            div(ONE, three, env(0, 2)),
            f(0x3ffd, 0xaaaa_aaaa_aaaa_a800),
            PE,
            false,
        );
        check(
            div(ONE, three, env(0, 3)),
            f(0x3ffd, 0xaaaa_aaaa_aaaa_aaab),
            PE,
            true,
        );
    }

    #[test]
    fn masked_overflow_per_rounding_mode() {
        let two = f(0x4000, J);
        let max = f(0x7ffe, !0);
        let neg_max = f(0xfffe, !0);
        let (pinf, ninf) = (f(0x7fff, J), f(0xffff, J));
        for (rc, p, n) in [
            (0, (pinf, true), (ninf, true)),
            (1, (max, false), (ninf, true)),
            (2, (pinf, true), (neg_max, false)),
            (3, (max, false), (neg_max, false)),
        ] {
            check(mul(max, two, env(rc, 3)), p.0, OE | PE, p.1);
            check(mul(neg_max, two, env(rc, 3)), n.0, OE | PE, n.1);
        }
        // The largest finite number at 24-bit precision.
        check(
            mul(max, two, env(3, 0)),
            f(0x7ffe, 0xffff_ff00_0000_0000),
            OE | PE,
            false,
        );
        // Unmasked: the result scaled by 2^-24576, OE only.
        let e = Env {
            masks: 0x37,
            ..env(0, 3)
        };
        check(mul(max, two, e), f(0x1fff, !0), OE, false);
    }

    #[test]
    fn underflow_to_denormal() {
        let a = f(0x0001, 0xc000_0000_0000_0000);
        let b = f(0x3ffe, 0x8000_0000_0000_0001);
        check(
            mul(a, b, env(0, 3)),
            f(0x0000, 0x6000_0000_0000_0001),
            UE | PE,
            true,
        );
        // Unmasked: scaled by 2^24576 and rounded to 64 bits.
        let e = Env {
            masks: 0x2f,
            ..env(0, 3)
        };
        check(
            mul(a, b, e),
            f(0x6000, 0xc000_0000_0000_0002),
            UE | PE,
            true,
        );
        // Rounding up to the smallest normal is not tiny (after rounding): PE only.
        let a = f(0x0054, J);
        let b = f(0x4052, 0x8000_0000_0098_9f32);
        check(div(a, b, env(2, 0)), f(0x0001, J), PE, true);
    }

    #[test]
    fn denormal_operands() {
        let d = f(0, 1);
        check(add(d, ONE, env(0, 3)), ONE, DE | PE, false);
        let o = add(
            d,
            ONE,
            Env {
                masks: 0x3d,
                ..env(0, 3)
            },
        );
        assert_eq!((o.flags, o.store), (DE, false));
        // A pseudo-denormal is taken with exponent 1 and comes back normalized.
        check(
            mul(f(0, 0x8000_0000_0000_0001), ONE, env(0, 3)),
            f(1, 0x8000_0000_0000_0001),
            DE,
            false,
        );
        // Zero-divide outranks DE.
        check(
            div(f(0x8000, 0x4562), f(0, 0), env(0, 3)),
            f(0xffff, J),
            ZE,
            false,
        );
    }

    #[test]
    fn nan_operands() {
        // QNaN beats SNaN (larger raw significand), IE for the SNaN.
        check(
            add(
                f(0x7fff, 0xa000_0000_0000_0000),
                f(0x7fff, 0xc000_0000_0000_0001),
                env(0, 3),
            ),
            f(0x7fff, 0xc000_0000_0000_0001),
            IE,
            false,
        );
        check(
            add(
                f(0x7fff, 0xc000_0000_0000_0001),
                f(0xffff, 0xf000_0000_0000_0000),
                env(0, 3),
            ),
            f(0xffff, 0xf000_0000_0000_0000),
            0,
            false,
        );
        check(
            add(
                f(0x7fff, 0xb000_0000_0000_0000),
                f(0xffff, 0xa000_0000_0000_0000),
                env(0, 3),
            ),
            f(0x7fff, 0xf000_0000_0000_0000),
            IE,
            false,
        );
        check(
            add(f(0xffff, 0x8000_0000_0000_0001), ONE, env(0, 3)),
            f(0xffff, 0xc000_0000_0000_0001),
            IE,
            false,
        );
        // Unsupported encodings: an unnormal and a pseudo-NaN.
        check(
            add(f(0x4000, 0x4000_0000_0000_0000), ONE, env(0, 3)),
            INDEFINITE,
            IE,
            false,
        );
        check(add(f(0x7fff, 1), ONE, env(0, 3)), INDEFINITE, IE, false);
    }

    #[test]
    fn invalid_and_zero_divide() {
        let inf = f(0x7fff, J);
        check(sub(inf, inf, env(0, 3)), INDEFINITE, IE, false);
        check(div(f(0, 0), f(0, 0), env(0, 3)), INDEFINITE, IE, false);
        check(div(ONE, f(0x8000, 0), env(0, 3)), f(0xffff, J), ZE, false);
        let o = div(
            ONE,
            f(0x8000, 0),
            Env {
                masks: 0x3b,
                ..env(0, 3)
            },
        );
        assert_eq!((o.flags, o.store), (ZE, false));
        check(sqrt(f(0xbfff, J), env(0, 3)), INDEFINITE, IE, false);
        let o = sqrt(
            f(0xbfff, J),
            Env {
                masks: 0x3e,
                ..env(0, 3)
            },
        );
        assert_eq!((o.flags, o.store), (IE, false));
        // x - x is -0 only when rounding down.
        for rc in 0..4 {
            check(sub(ONE, ONE, env(rc, 3)), zero(rc == 1), 0, false);
        }
    }

    #[test]
    fn sqrt_two() {
        let two = f(0x4000, J);
        for (rc, pc, sig, fl) in [
            (0, 3, 0xb504_f333_f9de_6484, PE),
            (0, 2, 0xb504_f333_f9de_6800, PE | 0x80),
            (0, 0, 0xb504_f300_0000_0000, PE),
            (1, 3, 0xb504_f333_f9de_6484, PE),
            (1, 2, 0xb504_f333_f9de_6000, PE),
            (1, 0, 0xb504_f300_0000_0000, PE),
            (2, 3, 0xb504_f333_f9de_6485, PE | 0x80),
            (2, 2, 0xb504_f333_f9de_6800, PE | 0x80),
            (2, 0, 0xb504_f400_0000_0000, PE | 0x80),
            (3, 3, 0xb504_f333_f9de_6484, PE),
            (3, 2, 0xb504_f333_f9de_6000, PE),
            (3, 0, 0xb504_f300_0000_0000, PE),
        ] {
            // 0x80 here marks C1 (rounded up).
            check(
                sqrt(two, env(rc, pc)),
                f(0x3fff, sig),
                fl & 0x3f,
                fl & 0x80 != 0,
            );
        }
    }

    #[test]
    fn partial_remainders() {
        let ten = f(0x4002, 0xa000_0000_0000_0000);
        let three = f(0x4000, 0xc000_0000_0000_0000);
        for ieee in [false, true] {
            let r = rem(ten, three, ieee, env(0, 3));
            check(r.out, ONE, 0, false);
            assert_eq!((r.q, r.incomplete), (3, false));
        }
        // An exponent difference of 99 and 131: partial, C2 set.
        let big = f(0x4063, 0xb504_f333_f9de_6484);
        let r = rem(big, three, false, env(0, 3));
        check(r.out, f(0x4040, 0x8ef3_2420_0000_0000), 0, false);
        assert!(r.incomplete);
        let r = rem(f(0x4083, 0xb504_f333_f9de_6484), three, false, env(0, 3));
        check(r.out, f(0x4060, 0x8ef3_2420_0000_0000), 0, false);
        assert!(r.incomplete);
    }

    #[test]
    fn round_to_integer() {
        let x = f(0x4000, 0xa000_0000_0000_0000); // 2.5
        let nx = neg(x);
        for (rc, r, c1, i, ni, nc1) in [
            (0, 0x8000_0000_0000_0000, false, 2, -2, false),
            (1, 0x8000_0000_0000_0000, false, 2, -3, true),
            (2, 0xc000_0000_0000_0000, true, 3, -2, false),
            (3, 0x8000_0000_0000_0000, false, 2, -2, false),
        ] {
            check(round_int(x, env(rc, 3)), f(0x4000, r), PE, c1);
            let n = to_int(x, 32, env(rc, 3));
            assert_eq!((n.val, n.flags, n.c1, n.store), (i, PE, c1, true));
            let n = to_int(nx, 32, env(rc, 3));
            assert_eq!((n.val, n.flags, n.c1, n.store), (ni, PE, nc1, true));
        }
        let e20 = f(0x4041, 0xad78_ebc5_ac62_0000); // 1e20
        let n = to_int(e20, 32, env(0, 3));
        assert_eq!((n.val as u32, n.flags, n.store), (0x8000_0000, IE, true));
        let n = to_int(
            e20,
            32,
            Env {
                masks: 0x3e,
                ..env(0, 3)
            },
        );
        assert_eq!((n.flags, n.store), (IE, false));
        let n = to_int(f(0x400f, 0x88b8_0000_0000_0000), 16, env(0, 3)); // 70000
        assert_eq!((n.val as u16, n.flags), (0x8000, IE));
    }

    #[test]
    fn narrowing_stores() {
        let n = to_f32(f(0x3fff, 0x8000_0002_0000_0000), env(0, 3)); // 1 + 2^-30
        assert_eq!((n.val, n.flags, n.c1), (0x3f80_0000, PE, false));
        let n = to_f32(f(0x3fff, 0x8000_0001_0000_0000), env(2, 3));
        assert_eq!((n.val, n.flags, n.c1), (0x3f80_0001, PE, true));
        // PC does not apply to stores.
        let n = to_f64(f(0x3fff, 0x8000_0000_0000_0800), env(0, 0));
        assert_eq!((n.val, n.flags), (0x3ff0_0000_0000_0001, 0));
        // Unmasked overflow on a store: nothing written, OE only.
        let n = to_f32(
            f(0x7ffe, !0),
            Env {
                masks: 0x37,
                ..env(0, 3)
            },
        );
        assert_eq!((n.flags, n.c1, n.store), (OE, false, false));
        let n = to_f32(f(0x7ffe, !0), env(0, 3));
        assert_eq!(
            (n.val, n.flags, n.c1, n.store),
            (0x7f80_0000, OE | PE, true, true)
        );
        // Widening: f32 denormal -> DE, exact; SNaN -> IE, quieted.
        check(from_f32(1, env(0, 3)), f(0x3fff - 149, J), DE, false);
        check(
            from_f64(0x7ff0_0000_0000_0001, env(0, 3)),
            f(0x7fff, 0xc000_0000_0000_0800),
            IE,
            false,
        );
        assert_eq!(from_int(-3), f(0xc000, 0xc000_0000_0000_0000));
        assert_eq!(from_int(i64::MIN), f(0xc03e, J));
    }

    #[test]
    fn packed_bcd() {
        let v = from_int(123_456_789_012_345_678);
        let b = to_bcd(v, env(0, 3));
        assert_eq!(
            b.val,
            [0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00]
        );
        assert_eq!(from_bcd(b.val), v);
        let b = to_bcd(f(0x8000, 0), env(0, 3));
        assert_eq!((b.val, b.flags), ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80], 0));
        assert_eq!(from_bcd(b.val), f(0x8000, 0));
        let b = to_bcd(f(0x403a, 0xde0b_6b3a_7640_0000), env(0, 3)); // 1e18
        assert_eq!((b.val, b.flags), (BCD_INDEFINITE, IE));
    }

    #[test]
    fn examine_classes() {
        for (v, cc) in [
            (f(0, 0), 0x4000),
            (ONE, 0x0400),
            (f(0x7fff, J), 0x0500),
            (f(0x7fff, 0xc000_0000_0000_0000), 0x0100),
            (f(0, 1), 0x4400),
            (f(0, J), 0x4400),
            (f(0x4000, 0x4000_0000_0000_0000), 0),
            (f(0x7fff, 0), 0),
        ] {
            assert_eq!(examine(v), cc);
        }
        assert_eq!(compare(f(0, 0), f(0x8000, 0), false), (Cmp::Equal, 0));
        assert_eq!(compare(f(0, 1), ONE, false), (Cmp::Less, DE));
        assert_eq!(compare(INDEFINITE, ONE, true), (Cmp::Unordered, 0));
        assert_eq!(compare(INDEFINITE, ONE, false), (Cmp::Unordered, IE));
    }

    #[test]
    fn constants_per_rounding_mode() {
        for (rc, pi, lg2) in [
            (0, 0xc90f_daa2_2168_c235, 0x9a20_9a84_fbcf_f799),
            (1, 0xc90f_daa2_2168_c234, 0x9a20_9a84_fbcf_f798),
            (2, 0xc90f_daa2_2168_c235, 0x9a20_9a84_fbcf_f799),
            (3, 0xc90f_daa2_2168_c234, 0x9a20_9a84_fbcf_f798),
        ] {
            assert_eq!(constant(Const::Pi, env(rc, 3)), f(0x4000, pi));
            assert_eq!(constant(Const::Lg2, env(rc, 3)), f(0x3ffd, lg2));
        }
        assert_eq!(
            constant(Const::L2t, env(2, 0)),
            f(0x4000, 0xd49a_784b_cd1b_8aff)
        );
        assert_eq!(
            constant(Const::L2e, env(0, 3)),
            f(0x3fff, 0xb8aa_3b29_5c17_f0bc)
        );
        assert_eq!(
            constant(Const::Ln2, env(1, 3)),
            f(0x3ffe, 0xb172_17f7_d1cf_79ab)
        );
    }

    /// A minimal unsigned big integer for the exact reference (little-endian limbs).
    #[derive(Clone, Debug)]
    struct Big(Vec<u64>);
    impl Big {
        fn new(v: u128) -> Big {
            Big(vec![v as u64, (v >> 64) as u64])
        }
        fn shl(&self, n: u32) -> Big {
            let (limbs, bits) = ((n / 64) as usize, n % 64);
            let mut r = vec![0u64; self.0.len() + limbs + 1];
            for (i, &x) in self.0.iter().enumerate() {
                r[i + limbs] |= x << bits;
                if bits > 0 {
                    r[i + limbs + 1] |= x >> (64 - bits);
                }
            }
            Big(r)
        }
        fn mul(&self, o: &Big) -> Big {
            let mut r = vec![0u64; self.0.len() + o.0.len()];
            for (i, &x) in self.0.iter().enumerate() {
                let mut carry = 0u128;
                for (j, &y) in o.0.iter().enumerate() {
                    let t = u128::from(x) * u128::from(y) + u128::from(r[i + j]) + carry;
                    r[i + j] = t as u64;
                    carry = t >> 64;
                }
                r[i + o.0.len()] = carry as u64;
            }
            Big(r)
        }
        fn cmp(&self, o: &Big) -> Ordering {
            let n = self.0.len().max(o.0.len());
            for i in (0..n).rev() {
                let (a, b) = (
                    self.0.get(i).copied().unwrap_or(0),
                    o.0.get(i).copied().unwrap_or(0),
                );
                if a != b {
                    return a.cmp(&b);
                }
            }
            Ordering::Equal
        }
    }

    /// The exact result: |x| = n / d * 2^s (`sqrt`: the square root of that).
    struct Exact {
        sign: bool,
        n: Big,
        d: Big,
        s: i32,
        sqrt: bool,
    }
    impl Exact {
        /// |x| compared with v * 2^k.
        fn cmp(&self, v: u128, k: i32) -> Ordering {
            let (mut v, mut k) = (Big::new(v), k);
            if self.sqrt {
                v = v.mul(&v);
                k *= 2;
            }
            let rhs = v.mul(&self.d);
            let t = self.s - k;
            if t >= 0 {
                self.n.shl(t as u32).cmp(&rhs)
            } else {
                self.n.cmp(&rhs.shl((-t) as u32))
            }
        }
    }

    /// Checks `o` against the exact value with the rounding rules, at precision `prec`.
    fn verify(o: Out, x: &Exact, prec: u32, rc: u8) -> Result<(), String> {
        let r = o.val;
        if classify(r) != Class::Normal || sign(r) != x.sign {
            return Err("class or sign".into());
        }
        if r.signif.checked_shl(prec).unwrap_or(0) != 0 {
            return Err("precision".into());
        }
        let v = u128::from(r.signif >> (64 - prec));
        let k = i32::from(r.sign_exp & 0x7fff) - BIAS - prec as i32 + 1;
        let c = x.cmp(v, k);
        if c == Ordering::Equal {
            return if o.flags == 0 && !o.c1 {
                Ok(())
            } else {
                Err("flags on exact".into())
            };
        }
        if o.flags != exc::PE || o.c1 != (c == Ordering::Less) {
            return Err("flags".into());
        }
        let away = match rc {
            RC_DOWN => x.sign,
            RC_UP => !x.sign,
            _ => false,
        };
        let even = v & 1 == 0;
        if c == Ordering::Greater {
            // Rounded toward zero: |x| < next up.
            if x.cmp(v + 1, k) != Ordering::Less {
                return Err("below next".into());
            }
            if away {
                return Err("should round away".into());
            }
            if rc == RC_NEAREST {
                match x.cmp(2 * v + 1, k - 1) {
                    Ordering::Greater => return Err("should round up".into()),
                    Ordering::Equal if !even => return Err("tie not even".into()),
                    _ => {}
                }
            }
        } else {
            // Rounded away from zero: |x| > next down.
            let pow2 = v == 1 << (prec - 1);
            let (dv, dk) = if pow2 { (2 * v - 1, k - 1) } else { (v - 1, k) };
            if x.cmp(dv, dk) != Ordering::Greater {
                return Err("above prev".into());
            }
            if rc != RC_NEAREST && !away {
                return Err("should truncate".into());
            }
            if rc == RC_NEAREST {
                match x.cmp(2 * dv + 1, dk - 1) {
                    Ordering::Less => return Err("should round down".into()),
                    Ordering::Equal if !even => return Err("tie not even".into()),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        /// Significands with runs and sparse bits to hit ties and carries.
        fn sig(&mut self) -> u64 {
            match self.below(4) {
                0 => self.next() | J,
                1 => J | (self.next() >> self.below(64)),
                2 => !0u64 << self.below(64),
                _ => J | (1u64 << self.below(64)) | (1u64 << self.below(64)),
            }
        }
    }

    #[test]
    fn randomized_against_exact_reference() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut n = 0;
        for pc in [0u8, 2, 3] {
            let prec = pc_bits(env(0, pc));
            for rc in 0..4u8 {
                for _ in 0..1000 {
                    let sa = rng.below(2) == 1;
                    let sb = rng.below(2) == 1;
                    let ea = 0x3fff + rng.below(2000) as i32 - 1000;
                    let eb = ea + rng.below(121) as i32 - 60;
                    let (ma, mb) = (rng.sig(), rng.sig());
                    let a = pack(sa, ea as u16, ma);
                    let b = pack(sb, eb as u16, mb);
                    let e = env(rc, pc);
                    let (fa, fb) = (unpack(a), unpack(b));
                    let one = Big::new(1);
                    let op = rng.below(5);
                    let (o, x) = match op {
                        0 | 1 => {
                            let bs = sb ^ (op == 1);
                            let e0 = fa.exp.min(fb.exp);
                            let va = i128::from(ma) << (fa.exp - e0);
                            let vb = i128::from(mb) << (fb.exp - e0);
                            let s = if sa { -va } else { va } + if bs { -vb } else { vb };
                            let o = if op == 0 { add(a, b, e) } else { sub(a, b, e) };
                            if s == 0 {
                                assert_eq!((o.val, o.flags), (zero(rc == RC_DOWN), 0));
                                continue;
                            }
                            (
                                o,
                                Exact {
                                    sign: s < 0,
                                    n: Big::new(s.unsigned_abs()),
                                    d: one,
                                    s: e0 - 63,
                                    sqrt: false,
                                },
                            )
                        }
                        2 => (
                            mul(a, b, e),
                            Exact {
                                sign: sa ^ sb,
                                n: Big::new(u128::from(ma) * u128::from(mb)),
                                d: one,
                                s: fa.exp + fb.exp - 126,
                                sqrt: false,
                            },
                        ),
                        3 => (
                            div(a, b, e),
                            Exact {
                                sign: sa ^ sb,
                                n: Big::new(u128::from(ma)),
                                d: Big::new(u128::from(mb)),
                                s: fa.exp - fb.exp,
                                sqrt: false,
                            },
                        ),
                        _ => {
                            let a = abs(a);
                            (
                                sqrt(a, e),
                                Exact {
                                    sign: false,
                                    n: Big::new(u128::from(ma)),
                                    d: one,
                                    s: fa.exp - 63,
                                    sqrt: true,
                                },
                            )
                        }
                    };
                    if let Err(why) = verify(o, &x, prec, rc) {
                        panic!(
                            "op {op} rc {rc} pc {pc}: {:04x}:{:016x} {:04x}:{:016x} -> {:04x}:{:016x} flags {:02x} c1 {}: {why}",
                            a.sign_exp, a.signif, b.sign_exp, b.signif, o.val.sign_exp, o.val.signif, o.flags, o.c1
                        );
                    }
                    n += 1;
                }
            }
        }
        assert!(n > 10_000);
    }
}
