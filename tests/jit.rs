//! The JIT against the interpreter, whole-machine and engine-level: the same ROMs end
//! in the same architectural state after the same number of instructions (with device
//! interrupts at the same instruction, as `--deterministic` promises); a fault inside a
//! translated block leaves the state exactly as the interpreter does; code rewritten by
//! DMA (the path bus masters use) is seen; `--engine` and `--stats` on the command line.

#![cfg(target_arch = "x86_64")]

mod common;

use common::{rom_dir, run_rom_engine};
use jit::abi::{Segment, CS, EAX, EBX, ECX, EDX, ESP};
use rx86::cpu::{cr0, flags, Cpu, Step};
use rx86::machine::Engine;
use rx86::mmu::{Mmu, PhysMem};
use rx86::monitor::jit::{JitEngine, Timing};

/// Registers, EIP, materialized EFLAGS, segments and control registers.
fn arch(cpu: &Cpu) -> String {
    let s = &cpu.s;
    format!(
        "{:08x?} eip={:08x} efl={:08x} seg={:?} cr0={:08x} cr2={:08x} cr3={:08x} cpl={} retired={}",
        s.regs,
        s.eip,
        flags::get(s),
        s.seg,
        s.cr0,
        s.cr2,
        s.cr3,
        s.cpl,
        cpu.retired
    )
}

#[test]
fn engines_end_in_the_same_state() {
    for name in [
        "smc",
        "paging",
        "exceptions",
        "rings",
        "v86",
        "task_switch",
        "timer",
        "real_arith",
    ] {
        let rom = std::fs::read(rom_dir().join(format!("{name}.bin"))).unwrap();
        let (e1, out1, m1) = run_rom_engine(rom.clone(), 50_000_000, true, Engine::Interp);
        let (e2, out2, m2) = run_rom_engine(rom, 50_000_000, true, Engine::Jit);
        assert_eq!(e1, e2, "{name}: exit");
        assert_eq!(out1, out2, "{name}: output");
        assert_eq!(arch(&m1.cpu), arch(&m2.cpu), "{name}: final state");
        let report = m2.stats_report().expect("JIT statistics");
        assert!(report.contains("blocks translated"), "{report}");
    }
}

#[test]
fn compute_loop_runs_mostly_native() {
    let rom = std::fs::read(rom_dir().join("bench_loop.bin")).unwrap();
    let (exit, out, m) = run_rom_engine(rom, 100_000_000, true, Engine::Jit);
    assert_eq!(exit, rx86::Exit::ExitDevice(1));
    assert!(out.contains("checksum=F3AAAF0A"), "{out}");
    // The exact count the ROM's header derives (REP counted once per instruction).
    assert_eq!(m.cpu.retired, 77_701_340);
    let jit = m.jit.as_ref().expect("JIT engine");
    let s = jit.stats;
    assert!(
        s.native * 100 > m.cpu.retired * 95,
        "native share under 95%: {s:?}"
    );
    let c = jit.cache().stats;
    assert!(c.translated < 200, "{c:?}");
    assert!(c.hits * 1000 > c.lookups * 999, "{c:?}");
}

/// Flat 32-bit ring-0 protected mode with an IDT whose every vector goes to a HLT at
/// 0x3000, paging on with 0-4 MiB identity mapped except the page at 0x5000, the stack
/// at 0x8000 and `code` at 0x4000.
fn paged_cpu(code: &[u8]) -> Cpu {
    let mut cpu = Cpu::new(
        Mmu::new(PhysMem::new(8 << 20, &[]).unwrap()),
        devices::PortBus::new(),
    );
    let p = &mut cpu.mmu.phys;
    let gdt: [u32; 6] = [0, 0, 0x0000_ffff, 0x00cf_9a00, 0x0000_ffff, 0x00cf_9200];
    for (k, d) in gdt.iter().enumerate() {
        p.write_u32(0x1000 + 4 * k as u32, *d);
    }
    for v in 0..32 {
        p.write_u32(0x2000 + 8 * v, (0x08 << 16) | 0x3000);
        p.write_u32(0x2004 + 8 * v, 0x8e00);
    }
    p.load(0x3000, &[0xf4]);
    p.load(0x4000, code);
    p.write_u32(0x10000, 0x11000 | 3);
    for n in 0..1024 {
        let present = if n == 5 { 0 } else { 3 };
        p.write_u32(0x11000 + 4 * n, (n << 12) | present);
    }
    cpu.s.cr0 = cr0::PE | cr0::ET | cr0::PG;
    cpu.s.cr3 = 0x10000;
    cpu.s.gdtr = jit::abi::TableReg {
        base: 0x1000,
        limit: 0x17,
    };
    cpu.s.idtr = jit::abi::TableReg {
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
    rx86::cpu::resync(&mut cpu);
    cpu
}

fn jit_step(jit: &mut JitEngine, cpu: &mut Cpu) -> Step {
    let clock = devices::Clock::new();
    let timing = Timing {
        clock: &clock,
        now: 0,
        start: cpu.retired,
        ps_per_instr: 10_000,
        tsc_offset: 0,
    };
    jit.step(cpu, &timing, 1000)
}

#[test]
fn page_fault_inside_a_block_is_precise() {
    // mov eax,1 ; add eax,ebx ; mov ecx,[0x5000] ; mov edx,5 ; jmp $
    let code = [
        0xb8, 1, 0, 0, 0, 0x01, 0xd8, 0x8b, 0x0d, 0x00, 0x50, 0, 0, 0xba, 5, 0, 0, 0, 0xeb, 0xfe,
    ];
    let mut interp = paged_cpu(&code);
    interp.s.regs[EBX] = 0xffff_ffff;
    while interp.s.eip != 0x3000 {
        assert_eq!(interp.step(), Step::Ran);
    }
    let mut cpu = paged_cpu(&code);
    cpu.s.regs[EBX] = 0xffff_ffff;
    let mut jit = JitEngine::new().unwrap();
    // Twice: the first run also fills the TLB and translates; both must fault alike.
    for _ in 0..2 {
        cpu.s.eip = 0x4000;
        cpu.s.regs[ESP] = 0x8000;
        cpu.s.regs[ECX] = 0x1234;
        cpu.s.regs[EDX] = 0x5678;
        interp.s.regs[ECX] = 0x1234;
        interp.s.regs[EDX] = 0x5678;
        let start = cpu.retired;
        while cpu.s.eip != 0x3000 {
            assert_eq!(jit_step(&mut jit, &mut cpu), Step::Ran);
        }
        assert_eq!(cpu.retired - start, 2, "MOV and ADD retired, not the load");
        assert_eq!(cpu.s.regs[EAX], 0, "1 + 0xffffffff");
        assert_eq!(cpu.s.regs[ECX], 0x1234, "the faulting load wrote nothing");
        assert_eq!(cpu.s.regs[EDX], 0x5678, "nothing after it ran");
        assert_eq!(cpu.s.cr2, 0x5000);
        assert_eq!(
            cpu.mmu.phys.read_u32(cpu.s.regs[ESP] + 4),
            0x4007,
            "#PF pushes (after its error code) the EIP of the load"
        );
        assert_eq!(
            cpu.mmu.phys.read_u32(cpu.s.regs[ESP]),
            0,
            "not present, read"
        );
        assert_eq!(flags::get(&cpu.s), flags::get(&interp.s), "ADD's flags");
        assert_eq!(cpu.s.regs, interp.s.regs);
    }
    assert!(jit.stats.native >= 3, "{:?}", jit.stats);
}

#[test]
fn code_rewritten_by_dma_is_seen() {
    // mov eax, 0x11111111 ; hlt
    let mut cpu = paged_cpu(&[0xb8, 0x11, 0x11, 0x11, 0x11, 0xf4]);
    let mut jit = JitEngine::new().unwrap();
    // The first run fills the TLB in the interpreter, the second translates.
    for _ in 0..2 {
        cpu.s.eip = 0x4000;
        assert_eq!(jit_step(&mut jit, &mut cpu), Step::Ran);
        assert_eq!(cpu.s.regs[EAX], 0x1111_1111);
    }
    let translated = jit.cache().stats.translated;
    assert!(translated >= 1);
    // A bus master writes RAM through PhysMem::load (GuestRam in the machine).
    cpu.mmu.phys.load(0x4001, &[0x22, 0x22, 0x22, 0x22]);
    cpu.s.eip = 0x4000;
    assert_eq!(jit_step(&mut jit, &mut cpu), Step::Ran);
    assert_eq!(cpu.s.regs[EAX], 0x2222_2222, "the new code ran");
    assert!(jit.cache().stats.invalidated >= 1);
    assert!(
        jit.cache().stats.translated > translated,
        "translated again"
    );
}

#[test]
fn a_store_into_the_running_block_ends_it() {
    // mov dword [0x400b], 0x11111122 ; mov eax, 0x11111111 ; jmp $  — the store (a
    // native one) rewrites the immediate of the next instruction in the same block
    // (SDM Vol. 3A §11.6: the next execution sees the new code).
    let code = [
        0xc7, 0x05, 0x0b, 0x40, 0, 0, 0x22, 0x11, 0x11, 0x11, 0xb8, 0x11, 0x11, 0x11, 0x11, 0xeb,
        0xfe,
    ];
    let mut cpu = paged_cpu(&code);
    let mut jit = JitEngine::new().unwrap();
    for _ in 0..3 {
        cpu.s.eip = 0x4000;
        cpu.mmu.phys.load(0x400b, &[0x11; 4]);
        while cpu.s.eip != 0x400f {
            assert_eq!(jit_step(&mut jit, &mut cpu), Step::Ran);
        }
        assert_eq!(cpu.s.regs[EAX], 0x1111_1122);
    }
    assert!(
        jit.cache().stats.invalidated >= 2,
        "{:?}",
        jit.cache().stats
    );
}

#[test]
fn cli_engine_and_stats() {
    let exe = env!("CARGO_BIN_EXE_rx86");
    let rom = rom_dir().join("smc.bin");
    let o = std::process::Command::new(exe)
        .args(["run", "--engine", "jit", "--stats", "--serial", "none"])
        .args(["--debugcon", "none", "--bios"])
        .arg(&rom)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    for what in [
        "blocks translated",
        "hits",
        "fallback share",
        "invalidated",
        "MIPS",
    ] {
        assert!(err.contains(what), "--stats lacks {what:?}: {err}");
    }
    let o = std::process::Command::new(exe)
        .args(["run", "--engine", "warp"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warp"), "{err}");
}
