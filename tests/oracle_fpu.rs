//! Native oracle for the x87 FPU (layer 3 of DESIGN.md "Tests, in layers"; issue 3): each
//! case is `FRSTOR` of a random FPU image, one to three x87 instructions, `FNSAVE`, so the
//! final FPU state is compared as data memory (see `rx86::oracle::fpu_gen`).
//!
//! - `fpu_cases_decode_as_intended`, `fpu_native_*`: the generator and the host side.
//! - `fpu_oracle_matches_native`: `FPU_ORACLE_CASES` (default 100 000) non-transcendental
//!   cases against rx86. It prints mismatches per family and the first 20 diffs, and
//!   asserts zero mismatches (`RX86_FPU_ORACLE_STRICT=0` turns that into a report, for
//!   exploring other seeds).
//! - `fpu_transcendentals_report`: `FPU_TRANS_CASES` (default 20 000) FSIN..FYL2XP1 cases;
//!   mismatch rate and worst error in ulps per instruction, never asserted.
//!
//! `FPU_ORACLE_SEED` overrides the seed; `FPU_ORACLE_FAMILY=fprem,fcomi` runs only the
//! cases of those families (of the same indexes). A case is regenerated alone with
//! `fpu_gen::generate_at(set, seed, index, addr)`, as each report says. Run in release mode:
//! `cargo test --release --test oracle_fpu -- --nocapture`.

use iced_x86::{Decoder, DecoderOptions};
use rx86::oracle::fpu_gen::{self, Image, Set, IMG, X80};
use rx86::oracle::gen::Intent;
use rx86::oracle::{
    compare, Case, CaseState, Executor, NativeExecutor, Rx86Executor, CASE_SLOT, CODE_BASE,
    DATA_BASE, DATA_SIZE, MAX_CODE_LEN,
};
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

const SEED: u64 = 0xF0_0ACE;
const BATCH: usize = 2000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim();
            match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => v.parse().ok(),
            }
        })
        .unwrap_or(default)
}

fn decode(case: &Case) -> Vec<(Intent, iced_x86::Instruction)> {
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
        out.push((
            Intent {
                offset,
                len: ins.len(),
                mnemonic: ins.mnemonic(),
            },
            ins,
        ));
    }
    out
}

#[test]
fn fpu_cases_decode_as_intended() {
    for set in [Set::Core, Set::Transcendental] {
        let fams = fpu_gen::families(set);
        let mut seen = BTreeMap::new();
        for i in 0..3000u64 {
            let addr = CODE_BASE + (i as u32 % 64) * CASE_SLOT;
            let (case, intent) = fpu_gen::generate_at(set, SEED, i, addr);
            *seen.entry(case.name.clone()).or_insert(0) += 1;
            assert!(case.code.len() <= MAX_CODE_LEN);
            assert_eq!(case.init.mem.len(), DATA_SIZE);
            let got = decode(&case);
            let intents: Vec<Intent> = got.iter().map(|(i, _)| i.clone()).collect();
            assert_eq!(
                intents,
                intent,
                "case #{i}:\n{}",
                rx86::oracle::describe(&case)
            );
            let fam = fams
                .iter()
                .find(|f| f.name == case.name)
                .expect("known family");
            assert!(
                intent.iter().any(|x| x.mnemonic == fam.mnemonic),
                "case #{i} lacks its family's {:?}",
                fam.mnemonic
            );
            for (_, ins) in &got {
                if ins.op_count() > 0 && ins.op0_kind() == iced_x86::OpKind::Memory
                    || ins.op_count() > 1 && ins.op1_kind() == iced_x86::OpKind::Memory
                {
                    let at = ins.memory_displacement32();
                    let size = match ins.memory_size().size() {
                        0 => 108, // FSAVE/FRSTOR/FSTENV images
                        s => s as u32,
                    };
                    assert!(
                        at >= DATA_BASE && at + size <= DATA_BASE + DATA_SIZE as u32,
                        "case #{i}: operand outside the data area"
                    );
                }
            }
            let img = Image::from_bytes(&case.init.mem[IMG..IMG + 108]);
            assert_eq!(img.fcw & 0x3F, 0x3F, "case #{i}: exceptions masked");
        }
        for f in &fams {
            assert!(
                seen.contains_key(f.name),
                "family {} never generated",
                f.name
            );
        }
    }
}

/// A value from its sign-and-exponent and significand.
fn x(se: u16, sig: u64) -> X80 {
    X80 { se, sig }
}

const ONE: X80 = X80 {
    se: 0x3FFF,
    sig: 1 << 63,
};

/// An image with all exceptions masked, PC=3/RC=0 unless `fcw` says otherwise, TOP=0 and
/// the first `depth` registers valid holding `st`.
fn image(fcw: u16, st: &[X80]) -> Image {
    let mut regs = [x(0, 0); 8];
    regs[..st.len()].copy_from_slice(st);
    let mut ftw = 0xFFFF;
    for (i, v) in st.iter().enumerate() {
        ftw = (ftw & !(3 << (2 * i))) | (v.tag() << (2 * i));
    }
    Image {
        fcw,
        fsw: 0,
        ftw,
        fip: 0x1111_2222,
        fcs: 0x23,
        fop: 0,
        fdp: 0x3333_4444,
        fds: 0x2B,
        st: regs,
        reserved: [0xFFFF; 4],
    }
}

fn abs(at: usize) -> [u8; 4] {
    (DATA_BASE + at as u32).to_le_bytes()
}

/// A hand-written case: name, initial image, code between FRSTOR and FNSAVE, and a check
/// of the final image and state.
type Known = (
    &'static str,
    Image,
    Vec<u8>,
    Box<dyn Fn(&Image, &CaseState)>,
);

#[test]
fn fpu_native_is_deterministic_and_gives_known_results() {
    if !NativeExecutor::host_supported() {
        eprintln!("skipped: not an x86-64 Linux host");
        return;
    }
    let mut ex = NativeExecutor::new();
    let mut cases = fpu_gen::generate_batch(Set::Core, SEED ^ 1, 0, 2000);
    cases.extend(fpu_gen::generate_batch(
        Set::Transcendental,
        SEED ^ 1,
        0,
        1000,
    ));
    for (k, c) in cases.iter_mut().enumerate() {
        c.code_addr = CODE_BASE + k as u32 * CASE_SLOT;
    }
    let start = std::time::Instant::now();
    let a = ex.run_batch(&cases).expect("native run");
    eprintln!(
        "native runner: {} FPU cases in {:.3} s",
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    let b = ex.run_batch(&cases).expect("native run");
    for (i, ((case, p), q)) in cases.iter().zip(&a).zip(&b).enumerate() {
        let d = compare(case, p, q);
        assert!(
            d.is_none(),
            "case #{i} differs between runs:\n{}",
            d.unwrap_or_default()
        );
    }

    // Hand-written cases with results known from the SDM (values checked on the host).
    let op = 0x100; // an operand slot
    let three = 3.0f32.to_bits().to_le_bytes();
    let div3 = |fcw: u16| {
        (
            image(fcw, &[]),
            // fld1 ; fdiv dword [op]
            [&[0xD9, 0xE8, 0xD8, 0x35][..], &abs(op)].concat(),
        )
    };
    let known: Vec<Known> = vec![
        (
            "fld1; fadd st0, st0 = 2.0",
            image(0x037F, &[]),
            vec![0xD9, 0xE8, 0xD8, 0xC0],
            Box::new(|f, _| {
                assert_eq!(f.st[0], x(0x4000, 1 << 63));
                assert_eq!(f.fsw, 0x3800, "TOP=7, no flags");
                assert_eq!(f.ftw, 0x3FFF, "only R7 valid");
                assert_eq!(
                    f.fip,
                    CODE_BASE + 6 + 2,
                    "FIP: the FADD after FRSTOR and FLD1"
                );
                assert_eq!(f.fdp, 0x3333_4444, "FDP kept by register-only instructions");
            }),
        ),
        {
            let (i, c) = div3(0x007F);
            (
                "1/3 at PC=0 (24 bits)",
                i,
                c,
                Box::new(|f, _| {
                    assert_eq!(f.st[0], x(0x3FFD, 0xAAAA_AB00_0000_0000));
                    assert_eq!(f.fsw, 0x3A20, "PE, C1 (rounded up)");
                    assert_eq!(f.fdp, DATA_BASE + 0x100);
                }),
            )
        },
        {
            let (i, c) = div3(0x027F);
            (
                "1/3 at PC=2 (53 bits)",
                i,
                c,
                Box::new(|f, _| {
                    assert_eq!(f.st[0], x(0x3FFD, 0xAAAA_AAAA_AAAA_A800));
                    assert_eq!(f.fsw, 0x3820, "PE, rounded down");
                }),
            )
        },
        {
            let (i, c) = div3(0x037F);
            (
                "1/3 at PC=3 (64 bits)",
                i,
                c,
                Box::new(|f, _| {
                    assert_eq!(f.st[0], x(0x3FFD, 0xAAAA_AAAA_AAAA_AAAB));
                    assert_eq!(f.fsw, 0x3A20);
                }),
            )
        },
        (
            "fldpi rounds by RC: nearest",
            image(0x037F, &[]),
            vec![0xD9, 0xEB],
            Box::new(|f, _| assert_eq!(f.st[0], x(0x4000, 0xC90F_DAA2_2168_C235))),
        ),
        (
            "fldpi rounds by RC: down",
            image(0x077F, &[]),
            vec![0xD9, 0xEB],
            Box::new(|f, _| assert_eq!(f.st[0], x(0x4000, 0xC90F_DAA2_2168_C234))),
        ),
        (
            "fstp st0 on an empty stack: IE, SF, C1=0, TOP+1",
            image(0x037F, &[]),
            vec![0xDD, 0xD8],
            Box::new(|f, _| {
                assert_eq!(f.fsw, 0x0841);
                assert_eq!(f.ftw, 0xFFFF);
            }),
        ),
        (
            "fld1 on a full stack: IE, SF, C1=1, indefinite pushed",
            image(0x037F, &[ONE; 8]),
            vec![0xD9, 0xE8],
            Box::new(|f, _| {
                assert_eq!(f.fsw, 0x3A41);
                assert_eq!(f.st[0], x(0xFFFF, 0xC000_0000_0000_0000));
            }),
        ),
        (
            "fld1; fnstsw ax",
            image(0x037F, &[]),
            vec![0xD9, 0xE8, 0xDF, 0xE0],
            Box::new(|_, s| assert_eq!(s.regs[0] & 0xFFFF, 0x3800)),
        ),
        (
            "fild dword 1234; fbstp",
            image(0x037F, &[]),
            [
                &[0xDB, 0x05][..],
                &abs(op + 0x10),
                &[0xDF, 0x35],
                &abs(op + 0x20),
            ]
            .concat(),
            Box::new(|_, s| {
                assert_eq!(s.mem[0x120..0x12A], [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0]);
            }),
        ),
        (
            "tags recomputed from the contents on FSAVE",
            {
                let mut i = image(0x037F, &[ONE, x(0, 0), x(0x7FFF, 1 << 63), x(0, 1)]);
                i.ftw = 0xFF00; // all four claim "valid"
                i
            },
            vec![],
            Box::new(|f, _| assert_eq!(f.ftw, 0xFFA4)),
        ),
    ];
    let n1234 = 1234u32.to_le_bytes();
    let mem: [(usize, &[u8]); 2] = [(op, &three), (op + 0x10, &n1234)];
    let hand: Vec<Case> = known
        .iter()
        .enumerate()
        .map(|(k, (_, img, body, _))| fpu_gen::hand_case(k as u32, img, body, &mem))
        .collect();
    let out = ex.run_batch(&hand).expect("native run");
    for ((name, .., check), s) in known.iter().zip(&out) {
        let f = fpu_gen::saved_image(s);
        eprintln!("{name}:\n{}", f.describe());
        check(&f, s);
    }
}

/// What the host does with the reserved precision control value PC=1: each case whose
/// initial FCW has PC=1 is run again with PC=3, and the final registers and FSW compared.
#[test]
fn fpu_native_reserved_precision_control() {
    if !NativeExecutor::host_supported() {
        return;
    }
    let cases: Vec<Case> = fpu_gen::generate_batch(Set::Core, SEED ^ 2, 0, 12_000)
        .into_iter()
        .filter(|c| c.init.mem[IMG + 1] & 3 == 1)
        .collect();
    let mut as_pc3 = cases.clone();
    for c in &mut as_pc3 {
        c.init.mem[IMG + 1] |= 3;
    }
    let mut ex = NativeExecutor::new();
    let a = ex.run_batch(&cases).expect("native run");
    let b = ex.run_batch(&as_pc3).expect("native run");
    let differ = a
        .iter()
        .zip(&b)
        .filter(|(p, q)| {
            let (p, q) = (fpu_gen::saved_image(p), fpu_gen::saved_image(q));
            p.st != q.st || p.fsw != q.fsw
        })
        .count();
    eprintln!(
        "PC=1: {} cases; {differ} end with other registers or FSW than under PC=3",
        cases.len()
    );
    assert!(!cases.is_empty(), "the generator makes PC=1 cases");
}

/// Runs `cases` in rx86, one by one when a batch fails, so an unimplemented instruction
/// (a fault) or a panic costs only its own case. Panics are caught and reported as errors.
fn run_rx86(emu: &mut Rx86Executor, cases: &[Case]) -> Vec<Result<CaseState, String>> {
    let whole = panic::catch_unwind(AssertUnwindSafe(|| emu.run_batch(cases)));
    if let Ok(Ok(states)) = whole {
        return states.into_iter().map(Ok).collect();
    }
    cases
        .iter()
        .map(|c| {
            match panic::catch_unwind(AssertUnwindSafe(|| emu.run_batch(std::slice::from_ref(c)))) {
                Ok(Ok(mut s)) => Ok(s.remove(0)),
                Ok(Err(e)) => Err(format!("rx86 error: {}", e.lines().next().unwrap_or(""))),
                Err(p) => {
                    *emu = Rx86Executor::new();
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Err(format!("rx86 panicked: {msg}"))
                }
            }
        })
        .collect()
}

/// Silences panic messages from this thread (rx86 panics are counted and reported);
/// other threads' panics still print.
fn quiet_panics_here() {
    let name = std::thread::current().name().map(str::to_string);
    let prev = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().name().map(str::to_string) != name {
            prev(info);
        }
    }));
}

/// Cases `first..first+n` of `set`, only those of the families named `only` (a
/// comma-separated list) if given, placed at consecutive slots; with their indexes.
fn batch(set: Set, seed: u64, first: usize, n: usize, only: Option<&str>) -> (Vec<u64>, Vec<Case>) {
    let mut indexes = Vec::new();
    let mut cases = Vec::new();
    for index in first as u64..(first + n) as u64 {
        let addr = CODE_BASE + cases.len() as u32 * CASE_SLOT;
        let (case, _) = fpu_gen::generate_at(set, seed, index, addr);
        if only.is_none_or(|names| names.split(',').any(|f| f.trim() == case.name)) {
            indexes.push(index);
            cases.push(case);
        }
    }
    (indexes, cases)
}

#[test]
fn fpu_oracle_matches_native() {
    if !NativeExecutor::host_supported() {
        eprintln!("skipped: not an x86-64 Linux host");
        return;
    }
    // 100 000 in release builds; a debug build runs rx86 several times slower.
    let default = if cfg!(debug_assertions) {
        10_000
    } else {
        100_000
    };
    let total = env_u64("FPU_ORACLE_CASES", default) as usize;
    let seed = env_u64("FPU_ORACLE_SEED", SEED);
    let family = std::env::var("FPU_ORACLE_FAMILY").ok();
    let strict = std::env::var("RX86_FPU_ORACLE_STRICT").map_or(true, |v| v != "0");
    quiet_panics_here();
    let mut native = NativeExecutor::new();
    let mut emu = Rx86Executor::new();
    let mut per_family: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut diffs = Vec::new();
    let mut mismatches = 0;
    let mut errors = 0;
    let start = std::time::Instant::now();
    let mut first = 0;
    while first < total {
        let n = BATCH.min(total - first);
        let (indexes, cases) = batch(Set::Core, seed, first, n, family.as_deref());
        first += n;
        if cases.is_empty() {
            continue;
        }
        let expected = native.run_batch(&cases).expect("native run");
        let got = run_rx86(&mut emu, &cases);
        for (((case, e), g), index) in cases.iter().zip(&expected).zip(&got).zip(&indexes) {
            let entry = per_family.entry(case.name.clone()).or_default();
            entry.0 += 1;
            let report = match g {
                Ok(g) => {
                    compare(case, e, g).map(|d| format!("{d}{}", fpu_gen::explain(case, e, g)))
                }
                Err(msg) => {
                    errors += 1;
                    Some(format!("{}  {msg}\n", rx86::oracle::describe(case)))
                }
            };
            if let Some(d) = report {
                entry.1 += 1;
                mismatches += 1;
                if diffs.len() < 20 {
                    diffs.push(format!(
                        "--- mismatch: seed {seed:#x} index {index} (fpu_gen::generate_at(Set::Core, {seed:#x}, {index}, {:#x}))\n{d}",
                        case.code_addr
                    ));
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for d in &diffs {
        eprintln!("{d}");
    }
    eprintln!("x87 oracle mismatches per family (mismatched/run):");
    for (name, (run, bad)) in &per_family {
        eprintln!("  {name:<16} {bad:>6}/{run}");
    }
    eprintln!(
        "x87 oracle: {mismatches} of {total} cases differ from the host ({errors} rx86 errors or panics) in {secs:.1} s"
    );
    let missing: Vec<_> = fpu_gen::families(Set::Core)
        .iter()
        .filter(|f| family.is_none() && !per_family.contains_key(f.name))
        .map(|f| f.name)
        .collect();
    assert!(missing.is_empty(), "families not exercised: {missing:?}");
    if strict {
        assert_eq!(
            mismatches, 0,
            "{mismatches} of {total} x87 cases differ from the host"
        );
    } else if mismatches > 0 {
        eprintln!("(not asserted: RX86_FPU_ORACLE_STRICT=0)");
    }
}

#[test]
fn fpu_transcendentals_report() {
    if !NativeExecutor::host_supported() {
        eprintln!("skipped: not an x86-64 Linux host");
        return;
    }
    let total = env_u64("FPU_TRANS_CASES", 20_000) as usize;
    let seed = env_u64("FPU_ORACLE_SEED", SEED);
    let family = std::env::var("FPU_ORACLE_FAMILY").ok();
    quiet_panics_here();
    let mut native = NativeExecutor::new();
    let mut emu = Rx86Executor::new();
    #[derive(Default)]
    struct Stats {
        run: usize,
        mismatched: usize,
        /// Mismatches in a register value (the rest are status-word or other differences).
        value: usize,
        /// Value mismatches where one side is not finite, or the signs differ wildly.
        nonfinite: usize,
        worst_ulps: u128,
        /// Value mismatches of at most one ulp in every register.
        within_1ulp: usize,
        errors: usize,
    }
    let mut stats: BTreeMap<String, Stats> = BTreeMap::new();
    let mut first = 0;
    while first < total {
        let n = BATCH.min(total - first);
        let (_, cases) = batch(Set::Transcendental, seed, first, n, family.as_deref());
        first += n;
        if cases.is_empty() {
            continue;
        }
        let expected = native.run_batch(&cases).expect("native run");
        let got = run_rx86(&mut emu, &cases);
        for ((case, e), g) in cases.iter().zip(&expected).zip(&got) {
            let s = stats.entry(case.name.clone()).or_default();
            s.run += 1;
            let g = match g {
                Ok(g) => g,
                Err(_) => {
                    s.errors += 1;
                    s.mismatched += 1;
                    continue;
                }
            };
            if compare(case, e, g).is_none() {
                continue;
            }
            s.mismatched += 1;
            let (fe, fg) = (fpu_gen::saved_image(e), fpu_gen::saved_image(g));
            let mut worst = None;
            for (a, b) in fe.st.iter().zip(&fg.st) {
                if a != b {
                    let u = a.ulps(*b);
                    worst = Some(worst.unwrap_or(Some(0)).zip(u).map(|(w, u)| w.max(u)));
                }
            }
            match worst {
                None => {}
                Some(None) => {
                    s.value += 1;
                    s.nonfinite += 1;
                }
                Some(Some(u)) => {
                    s.value += 1;
                    s.worst_ulps = s.worst_ulps.max(u);
                    if u <= 1 {
                        s.within_1ulp += 1;
                    }
                }
            }
        }
    }
    eprintln!("x87 transcendentals against the host ({total} cases, seed {seed:#x}):");
    eprintln!(
        "  (value-diff: some register differs; non-finite: there a NaN, infinity or unsupported \
         encoding; worst-ulps over the finite ones)"
    );
    eprintln!(
        "  insn      cases  mismatch   rate  value-diff  <=1ulp  non-finite  worst-ulps  errors"
    );
    for (name, s) in &stats {
        eprintln!(
            "  {name:<8} {:>6} {:>9} {:>5.1}% {:>11} {:>7} {:>11} {:>11} {:>7}",
            s.run,
            s.mismatched,
            100.0 * s.mismatched as f64 / s.run.max(1) as f64,
            s.value,
            s.within_1ulp,
            s.nonfinite,
            s.worst_ulps,
            s.errors
        );
    }
}

#[test]
fn compare_skips_the_ignored_image_bytes_only() {
    let case = fpu_gen::hand_case(0, &image(0x037F, &[ONE]), &[0xD9, 0xE8], &[]);
    let a = case.init.clone();
    let mut b = a.clone();
    // FIP, FCS/FOP, FDP and FDS of the final image: ignored (the AMD host loses FIP/FDP
    // across a context switch).
    b.mem[fpu_gen::SAVE + 12] ^= 1;
    b.mem[fpu_gen::SAVE + 16] ^= 0x38;
    b.mem[fpu_gen::SAVE + 19] ^= 0x01;
    b.mem[fpu_gen::SAVE + 20] ^= 1;
    b.mem[fpu_gen::SAVE + 24] ^= 0x38;
    b.mem[fpu_gen::SAVE + 2] ^= 0xFF; // reserved half of the FCW dword
    assert!(compare(&case, &a, &b).is_none());
    // The control, status and tag words and the registers are compared.
    b.mem[fpu_gen::SAVE + 4] ^= 1;
    b.mem[fpu_gen::SAVE + 28] ^= 1;
    let d = compare(&case, &a, &b).expect("FSW and ST(0) differ");
    assert!(d.contains("mem 0x20000404"), "{d}");
    assert!(d.contains("mem 0x2000041c"), "{d}");
}
