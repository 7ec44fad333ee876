//! (being written) x87 transcendental instructions. API fixed; bodies are placeholders.
#![allow(unused_variables, dead_code)]

use super::f80::{Env, Out, F80, INDEFINITE};

/// A trigonometric result; `c2` set means the operand was out of range (|x| >= 2^63)
/// and is left unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trig {
    pub out: Out,
    pub c2: bool,
}

fn placeholder() -> Out {
    Out {
        val: INDEFINITE,
        flags: super::f80::exc::IE,
        c1: false,
        store: true,
    }
}

pub fn fsin(a: F80, env: Env) -> Trig {
    Trig {
        out: placeholder(),
        c2: false,
    }
}
pub fn fcos(a: F80, env: Env) -> Trig {
    Trig {
        out: placeholder(),
        c2: false,
    }
}
/// FSINCOS: (sin, cos).
pub fn fsincos(a: F80, env: Env) -> (Out, Out, bool) {
    (placeholder(), placeholder(), false)
}
/// FPTAN: tan (the caller pushes 1.0 after it).
pub fn fptan(a: F80, env: Env) -> Trig {
    Trig {
        out: placeholder(),
        c2: false,
    }
}
/// FPATAN: arctan(y / x) with the quadrant from the signs.
pub fn fpatan(y: F80, x: F80, env: Env) -> Out {
    placeholder()
}
/// F2XM1: 2^x - 1 for -1 <= x <= 1.
pub fn f2xm1(x: F80, env: Env) -> Out {
    placeholder()
}
/// FYL2X: y * log2(x).
pub fn fyl2x(x: F80, y: F80, env: Env) -> Out {
    placeholder()
}
/// FYL2XP1: y * log2(x + 1).
pub fn fyl2xp1(x: F80, y: F80, env: Env) -> Out {
    placeholder()
}
