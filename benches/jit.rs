//! JIT benchmarks (DESIGN.md "Tests, in layers", 6): translation speed in blocks/s
//! (decode + lower + emit, and with the code-cache insert), guest MIPS on the
//! compute-loop ROM (test-roms/bench_loop.asm) under the JIT against the interpreter,
//! and the translation-cache hit rate of a whole bench_loop run, printed.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jit::frontend::{decode_block, Mode};
use rx86::machine::Engine;
use rx86::{Config, Exit, Machine};

const SLICE: u64 = 5_000_000;

fn rom() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-roms/bench_loop.bin"
    ))
    .expect("bench_loop.bin")
}

/// Block starts through the ROM image read as 32-bit code, each block after the last
/// (only those with at least one instruction: the padding decodes to nothing).
fn blocks(code: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < code.len() {
        let end = ((off & !0xfff) + 0x1000).min(code.len());
        let b = decode_block(&code[off..end], off as u32, true, 64);
        if !b.insns.is_empty() {
            out.push((off, end));
        }
        off += (b.bytes as usize).max(1);
    }
    out
}

fn translation(c: &mut Criterion) {
    let code = rom();
    let starts = blocks(&code);
    let mode = Mode {
        code32: true,
        stack32: true,
        cpl: 0,
        pe: true,
        vm: false,
        paging: false,
        flat: true,
    };
    let mut group = c.benchmark_group("jit_translate");
    group.throughput(Throughput::Elements(starts.len() as u64));
    group.sample_size(10);
    group.bench_function("decode_lower_emit_blocks", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for &(off, end) in &starts {
                let src = decode_block(&code[off..end], off as u32, true, 64);
                let ir = jit::ir::lower(&src, mode);
                if !ir.is_empty() {
                    bytes += jit::x64::emit(&ir, false, true).map_or(0, |v| v.code.len());
                }
            }
            bytes
        })
    });
    group.bench_function("translate_and_insert_blocks", |b| {
        let mut cache = jit::cache::CodeCache::new(32 << 20).expect("code cache");
        b.iter(|| {
            cache.flush();
            for &(off, end) in &starts {
                let src = decode_block(&code[off..end], off as u32, true, 64);
                let ir = jit::ir::lower(&src, mode);
                let host = if ir.is_empty() {
                    None
                } else {
                    jit::x64::emit(&ir, false, true).ok()
                };
                let key = jit::cache::BlockKey {
                    phys: off as u32,
                    eip: off as u32,
                    mode: mode.key(),
                };
                cache
                    .insert(
                        key,
                        host.as_ref().map(|h| (&h.code[..], h.chain_entry)),
                        ir.len() as u32,
                        ir.bytes,
                        0,
                    )
                    .expect("insert");
            }
            cache.len()
        })
    });
    group.finish();
    eprintln!("jit_translate: {} blocks per iteration", starts.len());
}

fn run(engine: Engine, max: Option<u64>) -> Machine {
    let mut cfg = Config::new(rom());
    cfg.memory_mb = 16;
    cfg.max_instructions = max;
    cfg.engine = engine;
    let mut m = Machine::new(cfg).expect("machine");
    let exit = m.run();
    assert!(
        matches!(exit, Exit::Budget | Exit::ExitDevice(1)),
        "{exit:?}"
    );
    m
}

fn guest_mips(c: &mut Criterion) {
    let mut group = c.benchmark_group("guest_mips");
    group.throughput(Throughput::Elements(SLICE));
    group.sample_size(10);
    for (name, engine) in [("jit", Engine::Jit), ("interp", Engine::Interp)] {
        group.bench_function(format!("bench_loop_5M_{name}"), |b| {
            b.iter(|| run(engine, Some(SLICE)).cpu.retired)
        });
    }
    group.finish();
    // The whole ROM once under the JIT: translation-cache lookups and hit rate.
    let m = run(Engine::Jit, None);
    if let Some(report) = m.stats_report() {
        eprintln!("bench_loop (whole run) {report}");
    }
}

criterion_group!(benches, translation, guest_mips);
criterion_main!(benches);
