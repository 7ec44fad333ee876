//! Tests of the x87 instruction layer: the register stack, tags, status and control
//! words, stack faults, pointers, CR0 and #MF behaviour, and the save/restore layouts.
//! Expected values marked "host" were read from the host's x87 (a scratch program with
//! inline assembly) running the same sequence.
//!
//! `needs_f80` holds the tests whose results depend on the arithmetic in `f80.rs`.

use jit::abi::{Segment, TableReg, CS, EAX, ESP};

use super::f80::{F80, INDEFINITE};
use super::{fsw, tag};
use crate::cpu::fault::Fault;
use crate::cpu::{cr0, flags, Cpu, Step};
use crate::mmu::{Mmu, PhysMem};
use devices::PortBus;

const ONE: F80 = F80 {
    signif: 1 << 63,
    sign_exp: 0x3fff,
};
const TWO: F80 = F80 {
    signif: 1 << 63,
    sign_exp: 0x4000,
};
const NEG_PI: F80 = F80 {
    signif: 0xc90f_daa2_2168_c235,
    sign_exp: 0xc000,
};
const DENORMAL: F80 = F80 {
    signif: 1,
    sign_exp: 0,
};
const ZERO: F80 = F80 {
    signif: 0,
    sign_exp: 0,
};

/// Data area used by the tests (protected mode: flat; real mode: DS = 0).
const DATA: u32 = 0x10000;
const RDATA: u32 = 0x9000;

fn d32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// `op modrm disp32` with a memory operand at `addr` (32-bit addressing).
fn m32(op: &[u8], reg: u8, addr: u32) -> Vec<u8> {
    let mut v = op.to_vec();
    v.push((reg << 3) | 5);
    v.extend_from_slice(&d32(addr));
    v
}

/// `op modrm disp16` (16-bit addressing).
fn m16(op: &[u8], reg: u8, addr: u16) -> Vec<u8> {
    let mut v = op.to_vec();
    v.push((reg << 3) | 6);
    v.extend_from_slice(&addr.to_le_bytes());
    v
}

fn f80_image(v: F80) -> Vec<u8> {
    super::x87_ops::f80_bytes(v).to_vec()
}

/// Real mode, CS = DS = SS = 0, code at 0:7C00.
fn real_cpu(code: &[u8]) -> Cpu {
    let mut cpu = Cpu::new(
        Mmu::new(PhysMem::new(1 << 20, &[]).expect("1 MiB of RAM")),
        PortBus::new(),
    );
    cpu.s.seg[CS] = Segment {
        selector: 0,
        attr: 0x9b,
        base: 0,
        limit: 0xffff,
    };
    cpu.s.eip = 0x7c00;
    cpu.s.regs[ESP] = 0x6000;
    cpu.mmu.phys.load(0x7c00, code);
    cpu
}

/// Flat 32-bit ring-0 protected mode: GDT at 0x1000 (code 0x08, data 0x10), IDT at
/// 0x2000 with every vector going to 0x3000 (HLT), stack at 0x8000, code at 0x4000.
fn prot_cpu(code: &[u8]) -> Cpu {
    let mut cpu = real_cpu(&[]);
    let gdt: [u32; 6] = [0, 0, 0x0000_ffff, 0x00cf_9a00, 0x0000_ffff, 0x00cf_9200];
    for (k, d) in gdt.iter().enumerate() {
        cpu.mmu.phys.write_u32(0x1000 + 4 * k as u32, *d);
    }
    for v in 0..32 {
        cpu.mmu
            .phys
            .write_u32(0x2000 + 8 * v, (0x08 << 16) | 0x3000);
        cpu.mmu.phys.write_u32(0x2004 + 8 * v, 0x8e00);
    }
    cpu.mmu.phys.load(0x3000, &[0xf4]);
    cpu.mmu.phys.load(0x4000, code);
    cpu.s.cr0 |= cr0::PE;
    cpu.s.gdtr = TableReg {
        base: 0x1000,
        limit: 0x17,
    };
    cpu.s.idtr = TableReg {
        base: 0x2000,
        limit: 0xff,
    };
    let flat = |selector, attr| Segment {
        selector,
        attr,
        base: 0,
        limit: 0xffff_ffff,
    };
    cpu.s.seg = [flat(0x10, 0xc093); 6];
    cpu.s.seg[CS] = flat(0x08, 0xc09b);
    cpu.s.regs[ESP] = 0x8000;
    cpu.s.eip = 0x4000;
    cpu
}

/// Runs `n` instructions that must not raise an exception.
fn run(cpu: &mut Cpu, n: usize) {
    for _ in 0..n {
        let eip = cpu.s.eip;
        assert_eq!(cpu.step(), Step::Ran);
        assert_eq!(
            cpu.last_exception,
            None,
            "exception at {eip:#x}: {}",
            crate::cpu::dump(cpu)
        );
    }
}

/// Runs one instruction that must raise `f` (protected mode: the handler is at 0x3000).
fn expect_fault(cpu: &mut Cpu, f: Fault) {
    let eip = cpu.s.eip;
    cpu.step();
    assert_eq!(cpu.last_exception, Some(f));
    assert_eq!(cpu.s.eip, 0x3000);
    let at = cpu.s.regs[ESP] + if f.error_code().is_some() { 4 } else { 0 };
    assert_eq!(cpu.mmu.phys.read_u32(at), eip, "faulting EIP pushed");
}

fn code(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// FNINIT then pushes `vals` (the last ends up in ST(0)) without any instruction.
fn load_stack(cpu: &mut Cpu, vals: &[F80]) {
    cpu.fninit();
    for v in vals {
        cpu.fp_push(*v);
    }
}

fn top(cpu: &Cpu) -> u16 {
    (cpu.s.fpu.fsw >> 11) & 7
}

#[test]
fn fninit_sets_the_documented_state() {
    let mut cpu = prot_cpu(&[0xdb, 0xe3]);
    let f = &mut cpu.s.fpu;
    f.fcw = 0x0c00;
    f.fsw = 0xffff;
    f.ftw = 0;
    f.fop = 0x123;
    f.fip = 1;
    f.fcs = 2;
    f.fdp = 3;
    f.fds = 4;
    run(&mut cpu, 1);
    let f = &cpu.s.fpu;
    assert_eq!(
        (f.fcw, f.fsw, f.ftw, f.fop, f.fip, f.fcs, f.fdp, f.fds),
        (0x037f, 0, 0xffff, 0, 0, 0, 0, 0)
    );
}

#[test]
fn pushes_and_pops_move_top_and_tags() {
    // fld tword [A] (1.0) ; fld tword [B] (denormal) ; fldz ; fstp tword [C] ; fstp tword [D]
    let a = DATA;
    let b = DATA + 0x10;
    let c = DATA + 0x20;
    let d = DATA + 0x30;
    let mut cpu = prot_cpu(&code(&[
        m32(&[0xdb], 5, a),
        m32(&[0xdb], 5, b),
        vec![0xd9, 0xee],
        m32(&[0xdb], 7, c),
        m32(&[0xdb], 7, d),
    ]));
    cpu.mmu.phys.load(a, &f80_image(ONE));
    cpu.mmu.phys.load(b, &f80_image(DENORMAL));
    cpu.fninit();
    run(&mut cpu, 1);
    cpu.s.fpu.fsw |= fsw::C1; // FLD clears C1
    run(&mut cpu, 2);
    assert_eq!(top(&cpu), 5);
    assert_eq!(cpu.s.fpu.fsw & fsw::C1, 0);
    // R7 valid (1.0), R6 special (denormal), R5 zero (FLDZ), the rest empty.
    assert_eq!(cpu.s.fpu.ftw, 0b00_10_01_11_11_11_11_11);
    assert_eq!(cpu.s.fpu.regs[7], ONE);
    assert_eq!(cpu.s.fpu.regs[6], DENORMAL);
    run(&mut cpu, 2);
    assert_eq!(top(&cpu), 7);
    assert_eq!(cpu.mmu.phys.dump(d, 10), f80_image(DENORMAL));
    assert_eq!(cpu.s.fpu.ftw, 0b00_11_11_11_11_11_11_11);
    assert_eq!(cpu.s.fpu.fsw & fsw::EXC, 0, "no exception");
}

#[test]
fn stack_overflow_masked_pushes_indefinite_with_c1() {
    // Eight FLD ST(0) after one value: the eighth overflows.
    let mut cpu = prot_cpu(&[0xd9, 0xc0].repeat(8));
    load_stack(&mut cpu, &[ONE]);
    run(&mut cpu, 7);
    assert_eq!(cpu.s.fpu.ftw, 0, "all eight valid");
    assert_eq!(cpu.s.fpu.fsw & fsw::EXC, 0);
    run(&mut cpu, 1);
    // IE, SF, C1 = 1 (overflow); masked: TOP moved and ST(0) = indefinite.
    assert_eq!(cpu.s.fpu.fsw, fsw::IE | fsw::SF | fsw::C1 | (7 << 11));
    assert_eq!(cpu.fp_st(0), INDEFINITE);
    assert_eq!(cpu.fp_tag(7), tag::SPECIAL);
    assert!(!cpu.ferr());
}

#[test]
fn stack_overflow_unmasked_changes_nothing_but_flags() {
    let mut cpu = prot_cpu(&[0xd9, 0xc0]);
    load_stack(&mut cpu, &[ONE; 8]);
    cpu.s.fpu.fcw = 0x037e;
    let regs = cpu.s.fpu.regs;
    run(&mut cpu, 1);
    assert_eq!(
        cpu.s.fpu.fsw,
        fsw::B | fsw::ES | fsw::IE | fsw::SF | fsw::C1,
        "TOP stays 0"
    );
    assert_eq!(cpu.s.fpu.regs, regs);
    assert_eq!(cpu.s.fpu.ftw, 0);
}

#[test]
fn stack_underflow_stores_the_format_indefinite() {
    // On an empty stack: fstp tword ; fst dword ; fst qword ; fist word ; fistp dword ;
    // fistp qword ; fbstp. C1 = 0 for underflow.
    let at = |k: u32| DATA + 0x10 * k;
    let mut cpu = prot_cpu(&code(&[
        m32(&[0xdb], 7, at(0)),
        m32(&[0xd9], 2, at(1)),
        m32(&[0xdd], 2, at(2)),
        m32(&[0xdf], 2, at(3)),
        m32(&[0xdb], 3, at(4)),
        m32(&[0xdf], 7, at(5)),
        m32(&[0xdf], 6, at(6)),
    ]));
    cpu.fninit();
    cpu.s.fpu.fsw |= fsw::C1;
    run(&mut cpu, 7);
    // Popping forms popped (TOP 0 -> 1 -> 2 -> 3 -> 4), the others did not.
    assert_eq!(cpu.s.fpu.fsw, fsw::IE | fsw::SF | (4 << 11));
    assert_eq!(cpu.s.fpu.ftw, 0xffff);
    let m = &mut cpu.mmu.phys;
    assert_eq!(m.dump(at(0), 10), f80_image(INDEFINITE));
    assert_eq!(m.dump(at(1), 4), vec![0x00, 0x00, 0xc0, 0xff]);
    assert_eq!(m.dump(at(2), 8), vec![0, 0, 0, 0, 0, 0, 0xf8, 0xff]);
    assert_eq!(m.dump(at(3), 2), vec![0x00, 0x80]);
    assert_eq!(m.dump(at(4), 4), vec![0, 0, 0, 0x80]);
    assert_eq!(m.dump(at(5), 8), vec![0, 0, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(
        m.dump(at(6), 10),
        vec![0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]
    );
    assert_eq!(
        super::x87_ops::indefinite_image(16, true),
        vec![0x00, 0x80],
        "the image table agrees"
    );
}

#[test]
fn stack_underflow_in_arithmetic_and_unary_ops() {
    // fadd st0, st1 with ST(1) empty ; ffree st0 ; fchs with ST(0) empty.
    let mut cpu = prot_cpu(&[0xd8, 0xc1, 0xdd, 0xc0, 0xd9, 0xe0]);
    load_stack(&mut cpu, &[TWO]);
    run(&mut cpu, 1);
    assert_eq!(
        cpu.fp_st(0),
        INDEFINITE,
        "masked response in the destination"
    );
    assert_eq!(cpu.s.fpu.fsw, fsw::IE | fsw::SF | (7 << 11));
    run(&mut cpu, 2); // ffree st0 ; fchs
    assert_eq!(
        cpu.fp_st(0),
        INDEFINITE,
        "FCHS of an empty register: indefinite"
    );
}

#[test]
fn unmasked_underflow_keeps_the_stack_and_reports_at_the_next_waiting_instruction() {
    // fstp tword [DATA] on an empty stack with IE unmasked: nothing stored, no pop, ES.
    // Then fnstsw ax (no-wait: runs), fnop (waiting: #MF with CR0.NE = 1).
    let mut cpu = prot_cpu(&code(&[
        m32(&[0xdb], 7, DATA),
        vec![0xdf, 0xe0],
        vec![0xd9, 0xd0],
    ]));
    cpu.s.cr0 |= cr0::NE;
    cpu.fninit();
    cpu.s.fpu.fcw = 0x037e;
    cpu.mmu.phys.load(DATA, &[0x5a; 10]);
    run(&mut cpu, 2);
    assert_eq!(cpu.mmu.phys.dump(DATA, 10), vec![0x5a; 10]);
    let want = fsw::B | fsw::ES | fsw::SF | fsw::IE;
    assert_eq!(cpu.s.fpu.fsw, want);
    assert_eq!(cpu.s.regs[EAX] & 0xffff, want as u32);
    assert_eq!(
        cpu.s.fpu.fip, 0x4000,
        "FIP names the instruction that raised it"
    );
    assert_eq!(cpu.s.fpu.fop, 0x33d, "DB 3D");
    assert_eq!(cpu.s.fpu.fdp, DATA);
    assert_eq!(cpu.s.fpu.fds, 0x10);
    assert!(!cpu.ferr(), "CR0.NE = 1: no FERR#");
    expect_fault(&mut cpu, Fault::Mf);
    assert_eq!(cpu.s.fpu.fsw, want, "the #MF left the FPU alone");
    assert_eq!(cpu.s.fpu.fip, 0x4000, "and the pointers");
}

#[test]
fn with_ne_clear_the_error_goes_to_ferr_and_fnclex_drops_it() {
    // fstp st0 on an empty stack, IE unmasked ; fnop ; fwait ; fnclex ; fnop
    let mut cpu = prot_cpu(&[0xdd, 0xd8, 0xd9, 0xd0, 0x9b, 0xdb, 0xe2, 0xd9, 0xd0]);
    cpu.fninit();
    cpu.s.fpu.fcw = 0x037e;
    run(&mut cpu, 1);
    assert!(cpu.ferr());
    run(&mut cpu, 2); // both execute: IGNNE# is the chipset's
    assert!(cpu.ferr());
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw & (fsw::ES | fsw::B | fsw::EXC | fsw::SF), 0);
    assert!(!cpu.ferr());
    cpu.s.fpu.fsw |= fsw::ES;
    cpu.s.cr0 |= cr0::NE;
    assert!(!cpu.ferr(), "CR0.NE = 1 reports through #MF instead");
}

#[test]
fn fwait_reports_pending_exceptions_and_no_wait_forms_do_not() {
    // fnclex, fninit, fnstcw, fnstsw, fnstenv, fnsave run with ES set and NE = 1; fwait faults.
    let mut cpu = prot_cpu(&code(&[
        m32(&[0xd9], 7, DATA),
        m32(&[0xdd], 7, DATA + 2),
        vec![0xdf, 0xe0],
        m32(&[0xd9], 6, DATA + 0x10),
        vec![0x9b],
    ]));
    cpu.s.cr0 |= cr0::NE;
    cpu.fninit();
    cpu.s.fpu.fcw = 0x037e;
    cpu.s.fpu.fsw = fsw::B | fsw::ES | fsw::IE;
    run(&mut cpu, 4);
    assert_eq!(cpu.mmu.phys.dump(DATA, 4), vec![0x7e, 0x03, 0x81, 0x80]);
    assert_eq!(cpu.s.fpu.fcw, 0x037f, "FNSTENV masked every exception");
    assert_eq!(cpu.s.fpu.fsw & fsw::ES, fsw::ES, "and left ES");
    expect_fault(&mut cpu, Fault::Mf);
    // The 9B-prefixed (waiting) forms fault as well: fstsw ax.
    let mut cpu = prot_cpu(&[0x9b, 0xdf, 0xe0]);
    cpu.s.cr0 |= cr0::NE;
    cpu.s.fpu.fsw = fsw::B | fsw::ES | fsw::IE;
    expect_fault(&mut cpu, Fault::Mf);
    // ... and FNSAVE/FNINIT do not.
    let mut cpu = prot_cpu(&code(&[m32(&[0xdd], 6, DATA), vec![0xdb, 0xe3]]));
    cpu.s.cr0 |= cr0::NE;
    cpu.s.fpu.fsw = fsw::B | fsw::ES | fsw::IE;
    run(&mut cpu, 2);
}

#[test]
fn cr0_em_ts_mp_raise_nm() {
    // EM: every x87 instruction (even FNINIT) faults; WAIT does not.
    let mut cpu = prot_cpu(&[0xdb, 0xe3]);
    cpu.s.cr0 |= cr0::EM;
    expect_fault(&mut cpu, Fault::Nm);
    let mut cpu = prot_cpu(&[0x9b, 0x90]);
    cpu.s.cr0 |= cr0::EM | cr0::MP;
    run(&mut cpu, 1);
    // TS: x87 instructions fault; WAIT only with MP.
    let mut cpu = prot_cpu(&[0xd9, 0xd0]);
    cpu.s.cr0 |= cr0::TS;
    expect_fault(&mut cpu, Fault::Nm);
    let mut cpu = prot_cpu(&[0x9b]);
    cpu.s.cr0 |= cr0::TS;
    run(&mut cpu, 1);
    let mut cpu = prot_cpu(&[0x9b]);
    cpu.s.cr0 |= cr0::TS | cr0::MP;
    expect_fault(&mut cpu, Fault::Nm);
    // FXSAVE too, under EM or TS.
    let mut cpu = prot_cpu(&m32(&[0x0f, 0xae], 0, DATA));
    cpu.s.cr0 |= cr0::TS;
    expect_fault(&mut cpu, Fault::Nm);
    // #NM comes before #MF.
    let mut cpu = prot_cpu(&[0xd9, 0xd0]);
    cpu.s.cr0 |= cr0::TS | cr0::NE;
    cpu.s.fpu.fsw = fsw::B | fsw::ES | fsw::IE;
    expect_fault(&mut cpu, Fault::Nm);
}

#[test]
fn fxch_with_an_empty_register_matches_the_host() {
    // host: fninit ; fld1 ; fxch st(1) -> FSW 3841, saved tag word BFFC,
    // ST(0) = indefinite, ST(1) = 1.0.
    let mut cpu = prot_cpu(&[0xd9, 0xc9]);
    load_stack(&mut cpu, &[ONE]);
    cpu.s.fpu.fsw |= fsw::C1;
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw, 0x3841);
    assert_eq!(cpu.s.fpu.ftw, 0xbffc);
    assert_eq!(cpu.fp_st(0), INDEFINITE);
    assert_eq!(cpu.fp_st(1), ONE);
    // Both full: a plain swap, C1 cleared.
    let mut cpu = prot_cpu(&[0xd9, 0xc9]);
    load_stack(&mut cpu, &[ONE, DENORMAL]);
    cpu.s.fpu.fsw |= fsw::C1;
    run(&mut cpu, 1);
    assert_eq!((cpu.fp_st(0), cpu.fp_st(1)), (ONE, DENORMAL));
    assert_eq!(cpu.s.fpu.fsw, 6 << 11);
    assert_eq!(
        cpu.s.fpu.ftw, 0b10_00_11_11_11_11_11_11,
        "tags follow the values"
    );
}

#[test]
fn fcmov_follows_eflags() {
    // fcmovb st0, st1 ; fcmovnb st0, st2 ; fcmovu st0, st2 ; fcmovne st0, st1
    let mut cpu = prot_cpu(&[0xda, 0xc1, 0xdb, 0xc2, 0xda, 0xda, 0xdb, 0xc9]);
    load_stack(&mut cpu, &[NEG_PI, TWO, ONE]);
    cpu.s.eflags |= flags::CF;
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), TWO, "CF = 1: taken");
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), TWO, "not taken");
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), TWO, "PF = 0: not taken");
    cpu.s.eflags |= flags::PF;
    cpu.s.eip -= 2;
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), NEG_PI, "PF = 1: taken");
    cpu.s.eflags &= !flags::ZF;
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), TWO, "ZF = 0: fcmovne taken");
    assert_eq!(cpu.s.fpu.fsw & fsw::EXC, 0);
    // An empty source: masked underflow writes the indefinite even if not taken.
    let mut cpu = prot_cpu(&[0xda, 0xc1]);
    load_stack(&mut cpu, &[ONE]);
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), INDEFINITE);
    assert_eq!(cpu.s.fpu.fsw, fsw::IE | fsw::SF | (7 << 11));
}

#[test]
fn fcomi_on_empty_registers_sets_unordered_eflags() {
    // fcomip st0, st1 with ST(1) empty: ZF PF CF = 1, OF SF AF cleared, one pop.
    let mut cpu = prot_cpu(&[0xdf, 0xf1]);
    load_stack(&mut cpu, &[ONE]);
    cpu.s.eflags |= flags::OF | flags::SF | flags::AF;
    run(&mut cpu, 1);
    let f = flags::get(&cpu.s);
    assert_eq!(f & flags::ARITH, flags::ZF | flags::PF | flags::CF);
    assert_eq!(cpu.s.fpu.fsw, fsw::IE | fsw::SF);
    assert_eq!(cpu.s.fpu.ftw, 0xffff);
    // fcompp on an empty stack: C3 C2 C0 = 1, two pops.
    let mut cpu = prot_cpu(&[0xde, 0xd9]);
    cpu.fninit();
    run(&mut cpu, 1);
    assert_eq!(
        cpu.s.fpu.fsw,
        fsw::C3 | fsw::C2 | fsw::C0 | fsw::IE | fsw::SF | (2 << 11)
    );
}

#[test]
fn fxam_on_empty_registers_matches_the_host() {
    // host: fninit ; fld1 ; fchs ; ffree st0 ; fxam -> 7B00 (sign in C1), and 7900.
    let mut cpu = prot_cpu(&[0xdd, 0xc0, 0xd9, 0xe5]);
    load_stack(
        &mut cpu,
        &[F80 {
            sign_exp: 0xbfff,
            ..ONE
        }],
    );
    run(&mut cpu, 2);
    assert_eq!(cpu.s.fpu.fsw, 0x7b00);
    let mut cpu = prot_cpu(&[0xdd, 0xc0, 0xd9, 0xe5]);
    load_stack(&mut cpu, &[ONE]);
    run(&mut cpu, 2);
    assert_eq!(cpu.s.fpu.fsw, 0x7900);
}

#[test]
fn fabs_fchs_and_register_moves_are_exact() {
    // fabs ; fchs ; fld st1 ; fst st3 ; fstp st2 (DD) ; fstp1 st0 alias (D9 D8)
    let mut cpu = prot_cpu(&[
        0xd9, 0xe1, 0xd9, 0xe0, 0xd9, 0xc1, 0xdd, 0xd3, 0xdd, 0xda, 0xd9, 0xd8,
    ]);
    load_stack(&mut cpu, &[DENORMAL, ZERO, NEG_PI]);
    run(&mut cpu, 2);
    assert_eq!(cpu.fp_st(0), NEG_PI, "|x| then -|x|");
    run(&mut cpu, 1);
    assert_eq!((top(&cpu), cpu.fp_st(0)), (4, ZERO));
    assert_eq!(cpu.fp_tag(4), tag::ZERO);
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(3), ZERO);
    run(&mut cpu, 1);
    assert_eq!((top(&cpu), cpu.fp_st(1)), (5, ZERO));
    run(&mut cpu, 1);
    assert_eq!(top(&cpu), 6);
    assert_eq!(cpu.s.fpu.ftw, 0b01_01_11_11_11_11_11_11);
    assert_eq!(cpu.s.fpu.fsw & fsw::EXC, 0);
}

#[test]
fn ffree_ffreep_fincstp_fdecstp() {
    // ffree st1 ; fincstp ; fdecstp ; ffreep st0
    let mut cpu = prot_cpu(&[0xdd, 0xc1, 0xd9, 0xf7, 0xd9, 0xf6, 0xdf, 0xc0]);
    load_stack(&mut cpu, &[ONE, TWO]);
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.ftw, 0b11_00_11_11_11_11_11_11);
    cpu.s.fpu.fsw |= fsw::C1;
    run(&mut cpu, 1);
    assert_eq!(top(&cpu), 7);
    assert_eq!(cpu.s.fpu.fsw & fsw::C1, 0);
    assert!(cpu.fp_is_empty(0), "FINCSTP does not touch tags");
    run(&mut cpu, 1);
    assert_eq!(top(&cpu), 6);
    run(&mut cpu, 1);
    assert_eq!((top(&cpu), cpu.s.fpu.ftw), (7, 0xffff));
}

#[test]
fn fldcw_fstcw_and_es_recomputed() {
    // host: fldcw 0xffff ; fnstcw -> 1F7F.
    let mut cpu = prot_cpu(&code(&[m32(&[0xd9], 5, DATA), m32(&[0xd9], 7, DATA + 2)]));
    cpu.mmu.phys.load(DATA, &[0xff, 0xff]);
    run(&mut cpu, 2);
    assert_eq!(cpu.mmu.phys.dump(DATA + 2, 2), vec![0x7f, 0x1f]);
    // host: fld1 ; fstp st0 ; fstp st0 (masked underflow) ; fldcw 037E -> FSW 88C1.
    let mut cpu = prot_cpu(&code(&[
        m32(&[0xdb], 5, DATA + 0x10),
        vec![0xdd, 0xd8, 0xdd, 0xd8],
        m32(&[0xd9], 5, DATA),
        vec![0xdf, 0xe0],
    ]));
    cpu.fninit();
    cpu.mmu.phys.load(DATA, &[0x7e, 0x03]);
    cpu.mmu.phys.load(DATA + 0x10, &f80_image(ONE));
    run(&mut cpu, 5);
    assert_eq!(cpu.s.regs[EAX] & 0xffff, 0x88c1);
    // Masking it again drops ES and B.
    cpu.mmu.phys.load(DATA, &[0x7f, 0x03]);
    cpu.s.eip -= 8;
    run(&mut cpu, 2);
    assert_eq!(cpu.s.regs[EAX] & 0xffff, 0x0841);
}

#[test]
fn pointers_follow_non_control_instructions() {
    // fld tword [DATA] ; fnop ; fnstcw [DATA+0x20] ; fldcw ; fstp tword [ebx+8]
    let mut cpu = prot_cpu(&code(&[
        m32(&[0xdb], 5, DATA),
        vec![0xd9, 0xd0],
        m32(&[0xd9], 7, DATA + 0x20),
        m32(&[0xd9], 5, DATA + 0x20),
        vec![0x3e, 0xdb, 0x7b, 0x08],
    ]));
    cpu.s.regs[3] = DATA + 0x40;
    cpu.fninit();
    cpu.mmu.phys.load(DATA, &f80_image(TWO));
    run(&mut cpu, 1);
    let f = &cpu.s.fpu;
    assert_eq!(
        (f.fip, f.fcs, f.fop, f.fdp, f.fds),
        (0x4000, 8, 0x32d, DATA, 0x10)
    );
    run(&mut cpu, 1);
    let f = &cpu.s.fpu;
    assert_eq!(
        (f.fip, f.fop, f.fdp),
        (0x4006, 0x1d0, DATA),
        "a register instruction leaves FDP"
    );
    run(&mut cpu, 2);
    let f = &cpu.s.fpu;
    assert_eq!(
        (f.fip, f.fop, f.fdp),
        (0x4006, 0x1d0, DATA),
        "control ones leave all"
    );
    run(&mut cpu, 1);
    let f = &cpu.s.fpu;
    assert_eq!(
        (f.fip, f.fop, f.fdp),
        (0x4014, 0x37b, DATA + 0x48),
        "FIP includes the prefix; FOP is DB 7B"
    );
    assert_eq!(cpu.mmu.phys.dump(DATA + 0x48, 10), f80_image(TWO));
}

/// A distinctive state: FCW 0B62, TOP 5 with C3 and PE, ST(0) = 1.0, ST(1) = denormal,
/// ST(2) = 0, ST(3..7) empty, and known pointers.
fn distinctive_state(cpu: &mut Cpu) {
    load_stack(cpu, &[ZERO, DENORMAL, ONE]);
    let f = &mut cpu.s.fpu;
    f.fcw = 0x0b62;
    f.fsw |= fsw::C3 | 0x20;
    f.fip = 0x1234_5678;
    f.fcs = 0x0008;
    f.fop = 0x05a5;
    f.fdp = 0x9abc_def0;
    f.fds = 0x0010;
}

fn regs_image(cpu: &Cpu) -> Vec<u8> {
    (0..8).flat_map(|k| f80_image(cpu.fp_st(k))).collect()
}

#[test]
fn fsave_frstor_32bit_protected_layout() {
    // fnsave [DATA] ; frstor [DATA]
    let mut cpu = prot_cpu(&code(&[m32(&[0xdd], 6, DATA), m32(&[0xdd], 4, DATA)]));
    distinctive_state(&mut cpu);
    let before = cpu.s.fpu.clone();
    let regs = regs_image(&cpu);
    run(&mut cpu, 1);
    let mut want = vec![
        0x62, 0x0b, 0xff, 0xff, // FCW
        0x20, 0x68, 0xff, 0xff, // FSW: C3, TOP 5, PE
        0xff, 0x63, 0xff, 0xff, // FTW: R5 valid, R6 special, R7 zero
        0x78, 0x56, 0x34, 0x12, // FIP
        0x08, 0x00, 0xa5, 0x05, // FCS, FOP
        0xf0, 0xde, 0xbc, 0x9a, // FDP
        0x10, 0x00, 0xff, 0xff, // FDS
    ];
    want.extend_from_slice(&regs);
    assert_eq!(cpu.mmu.phys.dump(DATA, 108), want);
    assert_eq!(&want[28..38], &f80_image(ONE)[..]);
    let f = &cpu.s.fpu;
    assert_eq!(
        (f.fcw, f.fsw, f.ftw, f.fip, f.fop),
        (0x037f, 0, 0xffff, 0, 0),
        "FNINIT after"
    );
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu, before);
}

#[test]
fn fsave_frstor_16bit_protected_layout() {
    // o16 fnsave [DATA] ; o16 frstor [DATA]
    let mut cpu = prot_cpu(&code(&[
        m32(&[0x66, 0xdd], 6, DATA),
        m32(&[0x66, 0xdd], 4, DATA),
    ]));
    distinctive_state(&mut cpu);
    let mut before = cpu.s.fpu.clone();
    let regs = regs_image(&cpu);
    run(&mut cpu, 1);
    let mut want = vec![
        0x62, 0x0b, 0x20, 0x68, 0xff, 0x63, // FCW FSW FTW
        0x78, 0x56, 0x08, 0x00, // FIP[15:0], FCS
        0xf0, 0xde, 0x10, 0x00, // FDP[15:0], FDS
    ];
    want.extend_from_slice(&regs);
    assert_eq!(cpu.mmu.phys.dump(DATA, 94), want);
    run(&mut cpu, 1);
    // The 16-bit layout keeps only the low pointer halves and no FOP.
    before.fip &= 0xffff;
    before.fdp &= 0xffff;
    before.fop = 0;
    assert_eq!(cpu.s.fpu, before);
}

/// Real-mode version of the distinctive state: pointers CS 1234h:0010h, DS 2000h:FFFEh.
fn distinctive_real_state(cpu: &mut Cpu) {
    distinctive_state(cpu);
    let f = &mut cpu.s.fpu;
    f.fcs = 0x1234;
    f.fip = 0x0010;
    f.fds = 0x2000;
    f.fdp = 0xfffe;
}

#[test]
fn fsave_frstor_16bit_real_layout() {
    // fnsave [RDATA] ; frstor [RDATA]
    let mut cpu = real_cpu(&code(&[
        m16(&[0xdd], 6, RDATA as u16),
        m16(&[0xdd], 4, RDATA as u16),
    ]));
    distinctive_real_state(&mut cpu);
    let mut before = cpu.s.fpu.clone();
    let regs = regs_image(&cpu);
    run(&mut cpu, 1);
    let mut want = vec![
        0x62, 0x0b, 0x20, 0x68, 0xff, 0x63, // FCW FSW FTW
        0x50, 0x23, // FIP linear 12350h, bits 15:0
        0xa5, 0x15, // bits 19:16 in 15:12, FOP in 10:0
        0xfe, 0xff, // FDP linear 2FFFEh, bits 15:0
        0x00, 0x20, // bits 19:16 in 15:12
    ];
    want.extend_from_slice(&regs);
    assert_eq!(cpu.mmu.phys.dump(RDATA, 94), want);
    run(&mut cpu, 1);
    // Restored pointers are linear addresses with the selectors zero.
    before.fip = 0x12350;
    before.fcs = 0;
    before.fdp = 0x2fffe;
    before.fds = 0;
    assert_eq!(cpu.s.fpu, before);
}

#[test]
fn fstenv_fldenv_32bit_real_layout() {
    // o32 fnstenv [RDATA] ; fninit ; o32 fldenv [RDATA]
    let mut cpu = real_cpu(&code(&[
        m16(&[0x66, 0xd9], 6, RDATA as u16),
        vec![0xdb, 0xe3],
        m16(&[0x66, 0xd9], 4, RDATA as u16),
    ]));
    distinctive_real_state(&mut cpu);
    let mut before = cpu.s.fpu.clone();
    run(&mut cpu, 1);
    let want = vec![
        0x62, 0x0b, 0xff, 0xff, 0x20, 0x68, 0xff, 0xff, 0xff, 0x63, 0xff, 0xff, // words
        0x50, 0x23, 0xff, 0xff, // FIP[15:0]
        0xa5, 0x15, 0x00, 0x00, // FIP[31:16] in 27:12, FOP
        0xfe, 0xff, 0xff, 0xff, // FDP[15:0]
        0x00, 0x20, 0x00, 0x00, // FDP[31:16] in 27:12
    ];
    assert_eq!(cpu.mmu.phys.dump(RDATA, 28), want);
    assert_eq!(cpu.s.fpu.fcw, 0x0b7f, "FNSTENV masks all exceptions");
    run(&mut cpu, 2);
    before.fip = 0x12350;
    before.fcs = 0;
    before.fdp = 0x2fffe;
    before.fds = 0;
    assert_eq!(
        cpu.s.fpu, before,
        "FLDENV restores; registers were untouched by FNINIT"
    );
}

#[test]
fn fldenv_recomputes_es_like_the_host() {
    // host: an image with IE set and unmasked, ES clear, loaded by FLDENV -> FSW 8081.
    let mut cpu = prot_cpu(&m32(&[0x66, 0xd9], 4, DATA));
    cpu.mmu.phys.load(
        DATA,
        &[0x7e, 0x03, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw, 0x8081);
    assert_eq!(cpu.s.fpu.ftw, 0xffff);
}

#[test]
fn fxsave_layout_alignment_and_fxrstor() {
    // fxsave [DATA] ; fninit ; fxrstor [DATA] ; fxsave [DATA+8]
    let mut cpu = prot_cpu(&code(&[
        m32(&[0x0f, 0xae], 0, DATA),
        vec![0xdb, 0xe3],
        m32(&[0x0f, 0xae], 1, DATA),
        m32(&[0x0f, 0xae], 0, DATA + 8),
    ]));
    distinctive_state(&mut cpu);
    cpu.mmu.phys.load(DATA, &[0xaa; 512]);
    let before = cpu.s.fpu.clone();
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu, before, "FXSAVE does not reinitialise");
    let img = cpu.mmu.phys.dump(DATA, 512);
    assert_eq!(
        &img[..32],
        &[
            0x62, 0x0b, 0x20, 0x68, // FCW FSW
            0xe0, 0x00, // abridged tag: R5-R7 in use
            0xa5, 0x05, // FOP
            0x78, 0x56, 0x34, 0x12, 0x08, 0x00, 0x00, 0x00, // FIP, FCS
            0xf0, 0xde, 0xbc, 0x9a, 0x10, 0x00, 0x00, 0x00, // FDP, FDS
            0x80, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // MXCSR, MXCSR_MASK
        ][..]
    );
    for k in 0..8 {
        let at = 32 + 16 * k;
        assert_eq!(&img[at..at + 10], &f80_image(cpu.fp_st(k))[..]);
        assert_eq!(&img[at + 10..at + 16], &[0; 6]);
    }
    assert_eq!(&img[160..288], &[0; 128][..], "XMM0-7");
    assert_eq!(&img[288..], &[0xaa; 224][..], "the rest is not written");
    run(&mut cpu, 2);
    assert_eq!(cpu.s.fpu, before);
    expect_fault(&mut cpu, Fault::Gp(0));
}

#[test]
fn fisttp_is_not_a_pentium_pro_instruction() {
    let mut cpu = prot_cpu(&m32(&[0xdf], 1, DATA));
    load_stack(&mut cpu, &[ONE]);
    expect_fault(&mut cpu, Fault::Ud);
}

#[test]
fn a_segment_fault_on_a_store_leaves_the_fpu_unchanged() {
    // fstp tword [0xfff8] with the segment limit ending inside the operand: #GP(0),
    // TOP and tags unchanged, nothing written.
    let mut cpu = prot_cpu(&m32(&[0xdb], 7, 0xfff8));
    load_stack(&mut cpu, &[ONE]);
    cpu.s.seg[jit::abi::DS].limit = 0xffff;
    cpu.s.seg[jit::abi::DS].attr = 0x0093;
    let before = cpu.s.fpu.clone();
    expect_fault(&mut cpu, Fault::Gp(0));
    assert_eq!(cpu.s.fpu, before);
}

#[test]
fn stack_fault_masked_responses_match_the_host() {
    // host: 8 x fld1 ; fptan -> FSW 3A41, tags R7 and R0 special: ST(0) replaced by the
    // indefinite and another pushed. FXTRACT and FSINCOS respond the same way.
    for op in [[0xd9, 0xf2], [0xd9, 0xf4], [0xd9, 0xfb]] {
        let mut cpu = prot_cpu(&op);
        load_stack(&mut cpu, &[ONE; 8]);
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, 0x3a41);
        assert_eq!(cpu.fp_full_tag_word(), 0x8002);
        assert_eq!((cpu.fp_st(0), cpu.fp_st(1)), (INDEFINITE, INDEFINITE));
        // host: fninit ; fptan -> FSW 3841, tag word BFFE.
        let mut cpu = prot_cpu(&op);
        cpu.fninit();
        run(&mut cpu, 1);
        assert_eq!((cpu.s.fpu.fsw, cpu.fp_full_tag_word()), (0x3841, 0xbffe));
    }
    // host: fld1 ; fpatan -> FSW 0041, tag word FFFE (ST(1) = indefinite, popped).
    let mut cpu = prot_cpu(&[0xd9, 0xf3]);
    load_stack(&mut cpu, &[ONE]);
    run(&mut cpu, 1);
    assert_eq!((cpu.s.fpu.fsw, cpu.fp_full_tag_word()), (0x0041, 0xfffe));
    // host: fld1 ; fscale -> FSW 3841, tag word BFFF (ST(0) = indefinite).
    let mut cpu = prot_cpu(&[0xd9, 0xfd]);
    load_stack(&mut cpu, &[ONE]);
    run(&mut cpu, 1);
    assert_eq!((cpu.s.fpu.fsw, cpu.fp_full_tag_word()), (0x3841, 0xbfff));
    assert_eq!(cpu.fp_st(0), INDEFINITE);
    // host: fld1 ; fld1 ; faddp st(2), st(0) -> FSW 3841, tag word 3FFE.
    let mut cpu = prot_cpu(&[0xde, 0xc2]);
    load_stack(&mut cpu, &[ONE, ONE]);
    run(&mut cpu, 1);
    assert_eq!((cpu.s.fpu.fsw, cpu.fp_full_tag_word()), (0x3841, 0x3ffe));
    assert_eq!(cpu.fp_st(1), INDEFINITE);
}

// The condition-code fixes below follow the native oracle (tests/oracle_fpu.rs, seed
// 0xF00ACE): each expected FSW is the host's (AMD EPYC) for the quoted case.

#[test]
fn ffree_clears_c1_and_keeps_c3_c2_c0() {
    // host: ffree st5 with FSW 431F -> 411F (C0-C3 "undefined" in the SDM).
    let mut cpu = prot_cpu(&[0xdd, 0xc1]);
    load_stack(&mut cpu, &[ONE, TWO]);
    cpu.s.fpu.fsw |= fsw::C3 | fsw::C1 | fsw::C0 | 0x1f;
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw, 0x411f | (6 << 11));
}

#[test]
fn fcmov_and_fcomi_leave_c1() {
    // host: fcmovnu st0, st6 with FSW 5E70 -> 5E70; fcomi st0, st2 with FSW 220B -> 220B.
    let mut cpu = prot_cpu(&[0xda, 0xc1, 0xdb, 0xf1]);
    load_stack(&mut cpu, &[TWO, ONE]);
    cpu.s.fpu.fsw |= fsw::C3 | fsw::C2 | fsw::C1 | 0x70;
    cpu.s.eflags |= flags::CF;
    run(&mut cpu, 1);
    assert_eq!(cpu.fp_st(0), TWO, "CF = 1: taken");
    assert_eq!(cpu.s.fpu.fsw, 0x4670 | (6 << 11));
    cpu.s.fpu.fsw = (cpu.s.fpu.fsw & fsw::TOP) | 0x020b;
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw, 0x020b | (6 << 11), "2 vs 1: C1 kept");
    assert_eq!(flags::get(&cpu.s) & flags::ARITH, flags::ZF);
}

#[test]
fn fprem_underflow_clears_c2_keeps_c3_c0() {
    // host: fprem1 on an empty stack with FSW 4E00 (TOP 1) -> 4841.
    let mut cpu = prot_cpu(&[0xd9, 0xf5]);
    cpu.fninit();
    cpu.s.fpu.fsw = 0x4e00;
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw, 0x4841);
    assert_eq!(cpu.fp_st(0), INDEFINITE);
}

#[test]
fn fld_sti_of_an_empty_register_is_underflow_even_with_st7_full() {
    // host: fld st5 (empty) with ST(7) valid, FSW 4D00 (TOP 1) -> 4541: C1 = 0.
    let mut cpu = prot_cpu(&[0xd9, 0xc5]);
    load_stack(&mut cpu, &[ONE; 8]);
    let p = cpu.fp_phys(5);
    cpu.fp_set_tag(p, tag::EMPTY);
    cpu.s.fpu.fsw = (cpu.s.fpu.fsw & fsw::TOP) | 0x4500;
    run(&mut cpu, 1);
    assert_eq!(cpu.s.fpu.fsw, 0x4541 | (7 << 11));
    assert_eq!(cpu.fp_st(0), INDEFINITE);
}

/// Tests whose results come from `f80` (they pass once its arithmetic lands).
mod needs_f80 {
    use super::*;

    #[test]
    fn fadd_and_faddp() {
        // fadd st0, st1 ; faddp st1, st0: 1 + 2 = 3, then 3 + 2 = 5.
        let mut cpu = prot_cpu(&[0xd8, 0xc1, 0xde, 0xc1]);
        load_stack(&mut cpu, &[TWO, ONE]);
        run(&mut cpu, 2);
        assert_eq!(
            cpu.fp_st(0),
            F80 {
                signif: 0xa000_0000_0000_0000,
                sign_exp: 0x4001
            }
        );
        assert_eq!(cpu.s.fpu.fsw, 7 << 11);
    }

    #[test]
    fn fild_fistp_round_trips() {
        // fild word ; fistp word ; fild dword ; fistp dword ; fild qword ; fistp qword
        let mut cpu = prot_cpu(&code(&[
            m32(&[0xdf], 0, DATA),
            m32(&[0xdf], 3, DATA + 0x10),
            m32(&[0xdb], 0, DATA + 0x20),
            m32(&[0xdb], 3, DATA + 0x30),
            m32(&[0xdf], 5, DATA + 0x40),
            m32(&[0xdf], 7, DATA + 0x50),
        ]));
        cpu.fninit();
        cpu.mmu.phys.load(DATA, &(-12345i16).to_le_bytes());
        cpu.mmu
            .phys
            .load(DATA + 0x20, &(-0x7654_3210i32).to_le_bytes());
        cpu.mmu
            .phys
            .load(DATA + 0x40, &(-0x1234_5678_9abc_def0i64).to_le_bytes());
        run(&mut cpu, 6);
        assert_eq!(
            cpu.mmu.phys.dump(DATA + 0x10, 2),
            cpu.mmu.phys.dump(DATA, 2)
        );
        assert_eq!(
            cpu.mmu.phys.dump(DATA + 0x30, 4),
            cpu.mmu.phys.dump(DATA + 0x20, 4)
        );
        assert_eq!(
            cpu.mmu.phys.dump(DATA + 0x50, 8),
            cpu.mmu.phys.dump(DATA + 0x40, 8)
        );
        assert_eq!(cpu.s.fpu.fsw, 0);
        assert_eq!(cpu.s.fpu.ftw, 0xffff);
    }

    #[test]
    fn fld_fstp_double_round_trip_and_fsqrt() {
        // fld qword [DATA] (16.0) ; fsqrt ; fstp qword [DATA+8] -> 4.0
        let mut cpu = prot_cpu(&code(&[
            m32(&[0xdd], 0, DATA),
            vec![0xd9, 0xfa],
            m32(&[0xdd], 3, DATA + 8),
        ]));
        cpu.fninit();
        cpu.mmu.phys.load(DATA, &16.0f64.to_bits().to_le_bytes());
        run(&mut cpu, 3);
        assert_eq!(
            cpu.mmu.phys.dump(DATA + 8, 8),
            4.0f64.to_bits().to_le_bytes()
        );
        assert_eq!(cpu.s.fpu.fsw, 0);
    }

    #[test]
    fn fcomi_eflags_and_fcom_condition_codes() {
        // fcomi st0, st1 (1 vs 2: CF) ; fxch ; fcomi (2 vs 1: none) ; fcom st0, st0 (C3)
        let mut cpu = prot_cpu(&[0xdb, 0xf1, 0xd9, 0xc9, 0xdb, 0xf1, 0xd8, 0xd0]);
        load_stack(&mut cpu, &[TWO, ONE]);
        cpu.s.eflags |= flags::OF | flags::SF | flags::AF;
        run(&mut cpu, 1);
        assert_eq!(flags::get(&cpu.s) & flags::ARITH, flags::CF);
        run(&mut cpu, 2);
        assert_eq!(flags::get(&cpu.s) & flags::ARITH, 0);
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, fsw::C3 | (6 << 11));
    }

    #[test]
    fn fld1_and_fprem_condition_codes() {
        // host: 7 fprem 3 -> FSW 7000 (C3 = Q1; TOP 6).
        let mut cpu = prot_cpu(&code(&[
            m32(&[0xdd], 0, DATA),
            m32(&[0xdd], 0, DATA + 8),
            vec![0xd9, 0xf8, 0xd9, 0xe8],
        ]));
        cpu.fninit();
        cpu.mmu.phys.load(DATA, &3.0f64.to_bits().to_le_bytes());
        cpu.mmu.phys.load(DATA + 8, &7.0f64.to_bits().to_le_bytes());
        run(&mut cpu, 3);
        assert_eq!(cpu.s.fpu.fsw, 0x7000);
        assert_eq!(cpu.fp_st(0), ONE);
        run(&mut cpu, 1);
        assert_eq!(cpu.fp_st(0), ONE);
    }

    #[test]
    fn fprem_of_a_nan_keeps_c3_c0() {
        // host: fprem, ST(0) = SNaN 7FFF 92BCC882ECA3C4B9, ST(1) = BFBF 8A215EF421566673,
        // FSW 454C -> 414D (IE; C2 and C1 cleared, C3 and C0 kept), ST(0) quieted.
        let snan = F80 {
            signif: 0x92bc_c882_eca3_c4b9,
            sign_exp: 0x7fff,
        };
        let b = F80 {
            signif: 0x8a21_5ef4_2156_6673,
            sign_exp: 0xbfbf,
        };
        let mut cpu = prot_cpu(&[0xd9, 0xf8]);
        load_stack(&mut cpu, &[b, snan]);
        cpu.s.fpu.fsw = (cpu.s.fpu.fsw & fsw::TOP) | 0x454c;
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, 0x414d | (6 << 11));
        assert_eq!(cpu.fp_st(0).signif, 0xd2bc_c882_eca3_c4b9);
    }

    #[test]
    fn denormal_memory_operand_next_to_a_nan_raises_no_de() {
        // host: fdivr m64 with ST(0) = QNaN 7FFF C000000000000060 and a denormal
        // operand, FSW 6E00 -> 6C00 (no DE); an SNaN ST(0) gives IE alone (0001).
        let qnan = F80 {
            signif: 0xc000_0000_0000_0060,
            sign_exp: 0x7fff,
        };
        let mut cpu = prot_cpu(&m32(&[0xdc], 7, DATA));
        load_stack(&mut cpu, &[qnan]);
        cpu.mmu.phys.load(DATA, &1u64.to_le_bytes());
        cpu.s.fpu.fsw |= 0x4600;
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, 0x4400 | (7 << 11));
        assert_eq!(cpu.fp_st(0), qnan);
        let snan = F80 {
            signif: 0xa000_0000_0000_0000,
            sign_exp: 0x7fff,
        };
        let mut cpu = prot_cpu(&m32(&[0xd8], 0, DATA));
        load_stack(&mut cpu, &[snan]);
        cpu.mmu.phys.load(DATA, &1u32.to_le_bytes());
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, fsw::IE | (7 << 11));
    }

    #[test]
    fn nan_choice_with_an_snan_memory_operand() {
        // host: fmul m32 (SNaN 7FA7A005) with ST(0) = QNaN 7FFF C0006C295AEF24AE:
        // ST(0) unchanged, FSW 1D00 -> 1D01 (SDM Vol. 1 Table 4-7 on the original SNaN).
        let qnan = F80 {
            signif: 0xc000_6c29_5aef_24ae,
            sign_exp: 0x7fff,
        };
        let mut cpu = prot_cpu(&m32(&[0xd8], 1, DATA));
        load_stack(&mut cpu, &[qnan]);
        cpu.mmu.phys.load(DATA, &0x7fa7_a005u32.to_le_bytes());
        cpu.s.fpu.fsw |= 0x0500;
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, 0x0501 | (7 << 11));
        assert_eq!(cpu.fp_st(0), qnan);
        // host: fsub m64 (SNaN FFF0AB31AC6955A5) with ST(0) = SNaN 7FFF 999FC127A12B7EE9:
        // the larger significand, ST(0), quieted to D99F...; FSW 3900 -> 3901.
        let snan = F80 {
            signif: 0x999f_c127_a12b_7ee9,
            sign_exp: 0x7fff,
        };
        let mut cpu = prot_cpu(&m32(&[0xdc], 4, DATA));
        load_stack(&mut cpu, &[snan]);
        cpu.mmu
            .phys
            .load(DATA, &0xfff0_ab31_ac69_55a5u64.to_le_bytes());
        cpu.s.fpu.fsw |= 0x0100;
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, 0x0101 | (7 << 11));
        assert_eq!(cpu.fp_st(0).signif, 0xd99f_c127_a12b_7ee9);
        assert_eq!(cpu.fp_st(0).sign_exp, 0x7fff);
    }

    #[test]
    fn denormal_dividend_over_zero_raises_ze_alone() {
        // host: fdivr m64 (a denormal) with ST(0) = -0.0, FSW 4800 -> 4804 (ZE, no DE),
        // ST(0) = -infinity.
        let neg_zero = F80 {
            signif: 0,
            sign_exp: 0x8000,
        };
        let mut cpu = prot_cpu(&m32(&[0xdc], 7, DATA));
        load_stack(&mut cpu, &[neg_zero]);
        cpu.mmu.phys.load(DATA, &1u64.to_le_bytes());
        cpu.s.fpu.fsw |= fsw::C3;
        run(&mut cpu, 1);
        assert_eq!(cpu.s.fpu.fsw, 0x4004 | (7 << 11));
        assert_eq!(
            cpu.fp_st(0),
            F80 {
                signif: 1 << 63,
                sign_exp: 0xffff,
            }
        );
    }
}
