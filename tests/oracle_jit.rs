//! The native oracle under the JIT (DESIGN.md "Tests, in layers", 3 and 4): the same
//! generated cases as `oracle_rx86.rs` run natively on the host CPU and on rx86's JIT
//! engine (translated blocks, with the interpreter for what they leave out), and must
//! end in the same registers, flags and memory. Every case is loaded over the previous
//! one's code, so this also exercises the invalidation of rewritten code pages.
//!
//! `ORACLE_CASES` (default 20000) and `ORACLE_SEED` override the run.

#![cfg(target_arch = "x86_64")]

use rx86::oracle::{compare, gen, Executor, NativeExecutor, Rx86Executor};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[test]
fn oracle_matches_native_under_jit() {
    if !NativeExecutor::host_supported() {
        eprintln!("skipped: not an x86-64 Linux host");
        return;
    }
    let total = env_u64("ORACLE_CASES", 20_000) as usize;
    let seed = env_u64("ORACLE_SEED", 0x5EED_0001);
    let mut native = NativeExecutor::new();
    let mut emu = Rx86Executor::with_jit().expect("code cache");
    let mut mismatches = Vec::new();
    let mut first = 0;
    while first < total {
        let n = 2000.min(total - first);
        let cases = gen::generate_batch(seed, first as u64, n);
        let expected = native.run_batch(&cases).expect("native run");
        let got = emu.run_batch(&cases).expect("rx86 JIT run");
        assert_eq!(got.len(), cases.len());
        for (k, ((case, e), g)) in cases.iter().zip(&expected).zip(&got).enumerate() {
            if let Some(d) = compare(case, e, g) {
                mismatches.push(format!("seed {seed:#x} index {}: {d}", first + k));
            }
        }
        first += n;
    }
    let stats = emu.jit().expect("JIT engine").stats;
    eprintln!("{stats:?}");
    assert!(
        stats.native > total as u64,
        "the cases ran natively, not only in the interpreter: {stats:?}"
    );
    for m in mismatches.iter().take(20) {
        eprintln!("{m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} of {total} cases differ from the native CPU under the JIT",
        mismatches.len()
    );
}
