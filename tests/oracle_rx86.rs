//! Native oracle, layer 3 of DESIGN.md "Tests, in layers": the same generated cases run on
//! the host CPU and in rx86's interpreter must end in the same registers, EFLAGS (masked
//! where the SDM leaves flags undefined) and data memory.
//!
//! `ORACLE_CASES` (default 20000) and `ORACLE_SEED` override the run. A failing case is
//! reproduced alone with `rx86::oracle::gen::generate_at(seed, index, CODE_BASE)`.

use rx86::oracle::{compare, gen, Executor, NativeExecutor, Rx86Executor};
use std::collections::BTreeMap;

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

#[test]
fn oracle_matches_native() {
    if !NativeExecutor::host_supported() {
        eprintln!("skipped: not an x86-64 Linux host");
        return;
    }
    let total = env_u64("ORACLE_CASES", 20_000) as usize;
    let seed = env_u64("ORACLE_SEED", 0x5EED_0001);
    let mut native = NativeExecutor::new();
    let mut emu = Rx86Executor::new();

    let mut per_family: BTreeMap<String, (usize, usize)> = BTreeMap::new(); // (run, mismatched)
    let mut diffs = Vec::new();
    let mut mismatches = 0;
    let mut first = 0;
    while first < total {
        let n = BATCH.min(total - first);
        let cases = gen::generate_batch(seed, first as u64, n);
        let expected = native.run_batch(&cases).expect("native run");
        let got = emu.run_batch(&cases).expect("rx86 run");
        assert_eq!(got.len(), cases.len(), "rx86 returned a state per case");
        for (k, ((case, e), g)) in cases.iter().zip(&expected).zip(&got).enumerate() {
            let entry = per_family.entry(case.name.clone()).or_default();
            entry.0 += 1;
            if let Some(d) = compare(case, e, g) {
                entry.1 += 1;
                mismatches += 1;
                if diffs.len() < 20 {
                    let index = first + k;
                    diffs.push(format!(
                        "--- mismatch: seed {seed:#x} index {index} (gen::generate_at({seed:#x}, {index}, addr))\n{d}"
                    ));
                }
            }
        }
        first += n;
    }

    let missing: Vec<_> = gen::families()
        .iter()
        .filter(|f| !per_family.contains_key(&f.name))
        .map(|f| f.name.clone())
        .collect();
    if mismatches > 0 {
        for d in &diffs {
            eprintln!("{d}");
        }
        eprintln!("mismatches per family (family: mismatched/run):");
        for (name, (run, bad)) in &per_family {
            if *bad > 0 {
                eprintln!("  {name}: {bad}/{run}");
            }
        }
    }
    assert!(missing.is_empty(), "families not exercised: {missing:?}");
    assert_eq!(
        mismatches, 0,
        "{mismatches} of {total} cases differ from the native CPU"
    );
}
