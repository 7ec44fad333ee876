//! Interpreter throughput: guest instructions per second on the compute-loop ROM
//! (test-roms/bench_loop.asm: integer ALU, IMUL, loads/stores and REP MOVS in 32-bit
//! protected mode). Criterion reports the rate as elements/s = guest instructions/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rx86::{Config, Exit, Machine};

const SLICE: u64 = 5_000_000;

fn bench_loop(c: &mut Criterion) {
    let rom = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-roms/bench_loop.bin"
    ))
    .expect("bench_loop.bin");
    let mut group = c.benchmark_group("interpreter");
    group.throughput(Throughput::Elements(SLICE));
    group.sample_size(10);
    group.bench_function("bench_loop_5M_instructions", |b| {
        b.iter(|| {
            let mut cfg = Config::new(rom.clone());
            cfg.memory_mb = 16;
            cfg.max_instructions = Some(SLICE);
            let mut m = Machine::new(cfg).expect("machine");
            assert_eq!(m.run(), Exit::Budget);
            m.cpu.retired
        })
    });
    group.finish();
}

criterion_group!(benches, bench_loop);
criterion_main!(benches);
