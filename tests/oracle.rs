//! Native oracle, layer 3 of DESIGN.md "Tests, in layers": the case generator, and the
//! native runner that executes cases on the host CPU. The comparison against rx86 is in
//! `tests/oracle_rx86.rs`.

use iced_x86::{Decoder, DecoderOptions};
use rx86::oracle::gen::{self, Intent};
use rx86::oracle::{
    analyze, compare, eflags, Case, CaseState, Executor, NativeExecutor, CASE_SLOT, CODE_BASE,
    DATA_BASE, DATA_SIZE, MAX_CODE_LEN,
};

const SEED: u64 = 0x0AC1_E5EED;

fn decode(case: &Case) -> Vec<Intent> {
    let mut d = Decoder::with_ip(
        32,
        &case.code,
        u64::from(case.code_addr),
        DecoderOptions::NONE,
    );
    let mut out = Vec::new();
    while d.can_decode() {
        let offset = d.position();
        let ins = d.decode();
        out.push(Intent {
            offset,
            len: ins.len(),
            mnemonic: ins.mnemonic(),
        });
    }
    out
}

#[test]
fn every_family_appears() {
    let n = gen::families().len();
    let cases = gen::generate(SEED, 2 * n);
    let cov = gen::coverage(&cases);
    assert_eq!(cov.len(), n, "coverage lists every family");
    let missing: Vec<_> = cov
        .iter()
        .filter(|(_, &c)| c == 0)
        .map(|(f, _)| f.clone())
        .collect();
    assert!(missing.is_empty(), "families never generated: {missing:?}");
}

#[test]
fn every_case_decodes_as_intended() {
    for i in 0..2000u64 {
        let addr = CODE_BASE + (i as u32 % 64) * CASE_SLOT;
        let (case, intent) = gen::generate_at(SEED, i, addr);
        assert!(!case.code.is_empty() && case.code.len() <= MAX_CODE_LEN);
        assert_eq!(case.init.mem.len(), DATA_SIZE);
        assert_eq!(
            case.init.eflags & (eflags::RESERVED1 | eflags::IF),
            eflags::RESERVED1 | eflags::IF
        );
        assert_eq!(
            case.init.eflags & (eflags::TF | eflags::AC | eflags::NT | eflags::IOPL),
            0
        );
        let got = decode(&case);
        assert_eq!(
            got,
            intent,
            "case #{i} does not decode as generated:\n{}",
            rx86::oracle::describe(&case)
        );
    }
}

#[test]
fn no_case_reads_undefined_flags_or_leaves_the_data_area() {
    for (i, case) in gen::generate(SEED ^ 1, 2000).iter().enumerate() {
        let a = analyze(case.code_addr, &case.code, &case.init)
            .unwrap_or_else(|e| panic!("case #{i}: {e}\n{}", rx86::oracle::describe(case)));
        assert_eq!(a.flags_mask, case.flags_mask, "case #{i}");
        // Only status flags are ever masked.
        assert_eq!(!case.flags_mask & !eflags::STATUS, 0, "case #{i}");
    }
}

#[test]
fn generation_is_deterministic_and_regenerable_by_index() {
    let a = gen::generate(SEED, 300);
    let b = gen::generate(SEED, 300);
    let c = gen::generate_batch(SEED, 200, 100);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x.name, &x.code, &x.init, x.flags_mask),
            (&y.name, &y.code, &y.init, y.flags_mask)
        );
    }
    for (k, y) in c.iter().enumerate() {
        let x = &a[200 + k];
        assert_eq!(y.code_addr, CODE_BASE + k as u32 * CASE_SLOT);
        assert_eq!(x.name, y.name);
        assert_eq!(x.code.len(), y.code.len());
    }
    assert_ne!(
        gen::generate(SEED + 1, 50)
            .iter()
            .map(|c| c.code.clone())
            .collect::<Vec<_>>(),
        a[..50].iter().map(|c| c.code.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn compare_reports_differences_under_the_mask() {
    let case = hand(
        0,
        &[0x01, 0xD8],
        [1, 0, 0, 2, DATA_BASE + 0x1000, 0, 0, 0],
        0x202,
    );
    let mut a = case.init.clone();
    a.regs[0] = 3;
    a.eflags = 0x206;
    assert!(compare(&case, &a, &a).is_none());
    let mut b = a.clone();
    b.eflags ^= eflags::AF; // AF is defined after ADD
    b.mem[0x10] ^= 0xFF;
    b.regs[3] = 7;
    let d = compare(&case, &a, &b).expect("differences");
    assert!(d.contains("ebx: expected 00000002, got 00000007"), "{d}");
    assert!(d.contains("differ in [AF]"), "{d}");
    assert!(d.contains("mem 0x20000010"), "{d}");
    assert!(d.contains("add eax, ebx"), "{d}");
    let mut masked = case.clone();
    masked.flags_mask &= !eflags::AF;
    let mut c = a.clone();
    c.eflags ^= eflags::AF;
    assert!(compare(&masked, &a, &c).is_none());
}

/// A case from hand-written code at slot `slot`; data area zero, flags mask from analysis.
fn hand(slot: u32, code: &[u8], regs: [u32; 8], eflags: u32) -> Case {
    let init = CaseState {
        regs,
        eflags,
        mem: vec![0; DATA_SIZE],
    };
    let code_addr = CODE_BASE + slot * CASE_SLOT;
    let a = analyze(code_addr, code, &init).expect("hand-written case is valid");
    Case {
        name: "hand".into(),
        code_addr,
        code: code.to_vec(),
        init,
        flags_mask: a.flags_mask,
        mem_ignore: Vec::new(),
    }
}

#[test]
fn native_runner_is_deterministic() {
    if !NativeExecutor::host_supported() {
        eprintln!("skipped: not an x86-64 Linux host");
        return;
    }
    let cases = gen::generate(SEED ^ 2, 2000);
    let mut ex = NativeExecutor::new();
    let start = std::time::Instant::now();
    let a = ex.run_batch(&cases).expect("native run");
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "native runner: {} cases in {secs:.3} s ({:.0} cases/s)",
        cases.len(),
        cases.len() as f64 / secs
    );
    let b = ex.run_batch(&cases).expect("native run");
    assert_eq!(a.len(), cases.len());
    for (i, ((case, x), y)) in cases.iter().zip(&a).zip(&b).enumerate() {
        assert!(
            x == y,
            "case #{i} differs between runs:\n{}",
            compare(case, x, y).unwrap_or_default()
        );
    }
}

#[test]
fn analysis_agrees_with_native() {
    // Whatever the analysis claims to know at the end (registers, data bytes) must be what
    // the CPU computed: the generator chooses addresses from these values.
    if !NativeExecutor::host_supported() {
        return;
    }
    let cases = gen::generate(SEED ^ 3, 2000);
    let out = NativeExecutor::new().run_batch(&cases).expect("native run");
    for (i, (case, s)) in cases.iter().zip(&out).enumerate() {
        let a = analyze(case.code_addr, &case.code, &case.init).expect("valid case");
        for (r, known) in a.end.regs.iter().enumerate() {
            if let Some(v) = known {
                assert_eq!(
                    *v,
                    s.regs[r],
                    "case #{i}: register {r}\n{}",
                    rx86::oracle::describe(case)
                );
            }
        }
        for off in 0..DATA_SIZE as u32 {
            if let Some(b) = a.end.byte(&case.init, DATA_BASE + off) {
                assert_eq!(
                    b,
                    s.mem[off as usize],
                    "case #{i}: byte {off:#x}\n{}",
                    rx86::oracle::describe(case)
                );
            }
        }
    }
}

const ESP0: u32 = DATA_BASE + 0x1000;

#[test]
fn native_runner_known_results() {
    if !NativeExecutor::host_supported() {
        return;
    }
    let r = |eax, ecx, edx, ebx| {
        [
            eax,
            ecx,
            edx,
            ebx,
            ESP0,
            0x1111_1111,
            DATA_BASE + 0x100,
            DATA_BASE + 0x200,
        ]
    };
    let cases = vec![
        // add eax, ebx: 0x7fffffff + 1 → 0x80000000, OF SF AF PF
        hand(0, &[0x01, 0xD8], r(0x7FFF_FFFF, 0, 0, 1), 0x202),
        // stc ; sbb eax, eax → -1, CF SF AF PF
        hand(1, &[0xF9, 0x19, 0xC0], r(5, 0, 0, 0), 0x202),
        // push ebx ; pop ecx ; push 0x12345678 → memory below ESP
        hand(
            2,
            &[0x53, 0x59, 0x68, 0x78, 0x56, 0x34, 0x12],
            r(0, 0, 0, 0xCAFE_BABE),
            0x202,
        ),
        // call +0 ; pop edx → EDX = return address
        hand(3, &[0xE8, 0, 0, 0, 0, 0x5A], r(0, 0, 0, 0), 0x202),
        // mov ecx, 4 ; std ; mov al,0x41 ; rep stosb
        hand(
            4,
            &[0xB9, 4, 0, 0, 0, 0xFD, 0xB0, 0x41, 0xF3, 0xAA],
            r(0, 0, 0, 0),
            0x202,
        ),
        // div ebx: 0x1_0000_0005 / 0x10 → q=0x10000000, r=5
        hand(5, &[0xF7, 0xF3], r(5, 0, 1, 0x10), 0x202),
        // push 0x8D5 ; popfd (all status flags + IOPL bits, which ring 3 cannot set)
        hand(
            6,
            &[0x68, 0xD5, 0x38, 0x00, 0x00, 0x9D],
            r(0, 0, 0, 0),
            0x202,
        ),
    ];
    let out = NativeExecutor::new().run_batch(&cases).expect("native run");
    let f = |s: &CaseState| s.eflags & 0xFFF;
    assert_eq!(out[0].regs[0], 0x8000_0000);
    assert_eq!(
        f(&out[0]),
        0x202 | eflags::OF | eflags::SF | eflags::AF | eflags::PF
    );
    assert_eq!(out[1].regs[0], 0xFFFF_FFFF);
    assert_eq!(
        f(&out[1]),
        0x202 | eflags::CF | eflags::SF | eflags::AF | eflags::PF
    );
    assert_eq!(out[2].regs[1], 0xCAFE_BABE);
    assert_eq!(out[2].regs[4], ESP0 - 4);
    assert_eq!(&out[2].mem[0xFFC..0x1000], &[0x78, 0x56, 0x34, 0x12]);
    assert_eq!(out[3].regs[2], CODE_BASE + 3 * CASE_SLOT + 5);
    assert_eq!(&out[4].mem[0x1FD..0x201], &[0x41; 4]);
    assert_eq!(out[4].regs[7], DATA_BASE + 0x200 - 4);
    assert_eq!(out[4].regs[1], 0);
    assert_ne!(out[4].eflags & eflags::DF, 0);
    assert_eq!((out[5].regs[0], out[5].regs[2]), (0x1000_0000, 5));
    assert_eq!(
        out[6].eflags & (eflags::STATUS | eflags::IOPL | eflags::IF),
        eflags::STATUS | eflags::IF
    );
    assert_eq!(out[6].regs[4], ESP0);
    for (c, s) in cases.iter().zip(&out) {
        // Untouched registers come back unchanged.
        assert_eq!(s.regs[5], c.init.regs[5]);
    }
}

#[test]
fn native_runner_reports_a_crashing_case() {
    if !NativeExecutor::host_supported() {
        return;
    }
    let ok = hand(0, &[0x90], [0, 0, 0, 0, ESP0, 0, 0, 0], 0x202);
    let mut bad = ok.clone();
    bad.name = "crasher".into();
    bad.code_addr = CODE_BASE + CASE_SLOT;
    bad.code = vec![0xA1, 0, 0, 0, 0]; // mov eax, [0]
    let err = NativeExecutor::new()
        .run_batch(&[ok, bad])
        .expect_err("SIGSEGV");
    assert!(err.contains("signal 11"), "{err}");
    assert!(err.contains("case #1 crasher"), "{err}");
}
