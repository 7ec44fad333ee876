//! (being written) 80-bit extended-precision arithmetic with the x87's rules. The API
//! below is fixed; the bodies are placeholders until the implementation lands.
#![allow(unused_variables, dead_code)]

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

fn placeholder() -> Out {
    Out {
        val: INDEFINITE,
        flags: exc::IE,
        c1: false,
        store: true,
    }
}

pub fn add(a: F80, b: F80, env: Env) -> Out {
    placeholder()
}
pub fn sub(a: F80, b: F80, env: Env) -> Out {
    placeholder()
}
pub fn mul(a: F80, b: F80, env: Env) -> Out {
    placeholder()
}
pub fn div(a: F80, b: F80, env: Env) -> Out {
    placeholder()
}
pub fn sqrt(a: F80, env: Env) -> Out {
    placeholder()
}
/// FPREM (`ieee` false: truncated quotient) or FPREM1 (`ieee` true: nearest) of a / b.
pub fn rem(a: F80, b: F80, ieee: bool, env: Env) -> Rem {
    Rem {
        out: placeholder(),
        q: 0,
        incomplete: false,
    }
}
/// FRNDINT.
pub fn round_int(a: F80, env: Env) -> Out {
    placeholder()
}
/// FSCALE: a * 2^trunc(b).
pub fn scale(a: F80, b: F80, env: Env) -> Out {
    placeholder()
}
/// FXTRACT: (exponent, significand).
pub fn xtract(a: F80, env: Env) -> (Out, Out) {
    (placeholder(), placeholder())
}
/// FLD m32/m64: widening (SNaN -> IE and quieted; denormal -> DE).
pub fn from_f32(bits: u32, env: Env) -> Out {
    placeholder()
}
pub fn from_f64(bits: u64, env: Env) -> Out {
    placeholder()
}
/// FST m32/m64: narrowing with rounding, overflow, underflow.
pub fn to_f32(a: F80, env: Env) -> Narrow<u32> {
    Narrow {
        val: 0,
        flags: exc::IE,
        c1: false,
        store: true,
    }
}
pub fn to_f64(a: F80, env: Env) -> Narrow<u64> {
    Narrow {
        val: 0,
        flags: exc::IE,
        c1: false,
        store: true,
    }
}
/// FILD: exact.
pub fn from_int(v: i64) -> F80 {
    F80::default()
}
/// FIST/FISTP m16/m32/m64 (`bits` 16, 32 or 64): the integer indefinite on overflow/NaN.
pub fn to_int(a: F80, bits: u32, env: Env) -> Narrow<i64> {
    Narrow {
        val: 0,
        flags: exc::IE,
        c1: false,
        store: true,
    }
}
/// FBLD / FBSTP packed BCD (18 digits and a sign byte).
pub fn from_bcd(b: [u8; 10]) -> F80 {
    F80::default()
}
pub fn to_bcd(a: F80, env: Env) -> Narrow<[u8; 10]> {
    Narrow {
        val: [0; 10],
        flags: exc::IE,
        c1: false,
        store: true,
    }
}
/// FCOM (`quiet` false: any NaN is IE) / FUCOM (`quiet` true: only SNaN is IE).
pub fn compare(a: F80, b: F80, quiet: bool) -> (Cmp, u8) {
    (Cmp::Unordered, exc::IE)
}
/// FXAM: the C3, C2, C0 class bits as FSW bits 14, 10 and 8 (C1, the sign, is the
/// caller's).
pub fn examine(a: F80) -> u16 {
    0
}
/// FLD1, FLDL2T, ...: correctly rounded in the current rounding mode.
pub fn constant(c: Const, env: Env) -> F80 {
    F80::default()
}
