//! No guest can crash the host: random bytes run as guest code in real mode, 16- and
//! 32-bit protected mode at CPL 0 and 3, with and without paging (random page tables,
//! descriptor tables and IVT/IDT), for well over a million instructions in total. Any
//! panic fails the test; every step must end in a retired instruction, a delivered
//! exception, a halt or a shutdown.

use jit::abi::{Segment, CS, DS, ES, FS, GS, SS};
use rx86::cpu::{cr0, Cpu, Step};
use rx86::mmu::{Mmu, PhysMem};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const RAM_MB: u32 = 4;

fn machine(rng: &mut Rng) -> Cpu {
    let rom = rng.bytes(64 << 10);
    let mut cpu = Cpu::new(
        Mmu::new(PhysMem::new(RAM_MB << 20, &rom).unwrap()),
        devices::PortBus::new(),
    );
    // Random low memory: IVT, descriptor tables, page tables and code all come from it.
    let junk = rng.bytes(1 << 20);
    cpu.mmu.phys.load(0, &junk);
    cpu
}

/// Puts the CPU in one of several modes, with random registers.
fn scramble(cpu: &mut Cpu, rng: &mut Rng, mode: u64) {
    cpu.reset();
    for r in cpu.s.regs.iter_mut() {
        *r = rng.next() as u32;
    }
    cpu.s.eip = rng.next() as u32 & 0xf_ffff;
    if mode == 0 {
        cpu.s.seg[CS] = Segment {
            selector: 0,
            attr: 0x9b,
            base: 0,
            limit: 0xffff,
        };
        cpu.s.eip &= 0xffff;
        return;
    }
    cpu.s.cr0 = cr0::PE | cr0::ET;
    let big = mode % 2 == 1;
    let cpl = if mode >= 3 { 3 } else { 0 };
    let db = if big { 0xc000 } else { 0 };
    let code = Segment {
        selector: 8 | cpl as u16,
        attr: 0x9b | db | (cpl << 5) as u16,
        base: 0,
        limit: 0xffff_ffff,
    };
    let data = Segment {
        selector: 16 | cpl as u16,
        attr: 0x93 | db | (cpl << 5) as u16,
        base: 0,
        limit: 0xffff_ffff,
    };
    cpu.s.seg[CS] = code;
    for s in [SS, DS, ES, FS, GS] {
        cpu.s.seg[s] = data;
    }
    cpu.s.cpl = cpl as u32;
    cpu.s.gdtr.base = rng.next() as u32 & 0xf_fff8;
    cpu.s.gdtr.limit = rng.next() as u32 & 0xffff;
    cpu.s.idtr.base = rng.next() as u32 & 0xf_fff8;
    cpu.s.idtr.limit = rng.next() as u32 & 0x7ff;
    cpu.s.tr = Segment {
        selector: 0x28,
        attr: 0x8b,
        base: rng.next() as u32 & 0xf_ffff,
        limit: 0x67,
    };
    if mode >= 4 {
        cpu.s.cr3 = rng.next() as u32 & 0xf_f000;
        cpu.s.cr4 = 0x10 | 0x80; // PSE, PGE
        cpu.s.cr0 |= cr0::PG | cr0::WP;
    }
    cpu.mmu.flush_all();
    rx86::cpu::resync(cpu);
}

#[test]
fn random_code_never_crashes_the_host() {
    fuzz(false);
}

/// The same under the JIT engine: random code is translated and run natively where it
/// can be (flat 32-bit modes), rewritten under its blocks, and faults inside them.
#[cfg(target_arch = "x86_64")]
#[test]
fn random_code_never_crashes_the_host_under_jit() {
    fuzz(true);
}

/// One instruction, or under the JIT one translated block.
fn step(cpu: &mut Cpu, jit: Option<&mut Jit>) -> Step {
    #[cfg(target_arch = "x86_64")]
    if let Some(j) = jit {
        let clock = devices::Clock::new();
        let timing = rx86::monitor::jit::Timing {
            clock: &clock,
            now: 0,
            start: cpu.retired,
            ps_per_instr: 0,
            tsc_offset: 0,
        };
        return j.step(cpu, &timing, 64);
    }
    let _ = jit;
    cpu.step()
}

#[cfg(target_arch = "x86_64")]
type Jit = rx86::monitor::jit::JitEngine;
#[cfg(not(target_arch = "x86_64"))]
type Jit = ();

fn fuzz(use_jit: bool) {
    // FUZZ_ROUNDS and FUZZ_SEED widen the search locally; CI runs the default.
    let rounds: u64 = std::env::var("FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed | 1);
    let mut total = 0u64;
    let mut outcomes = [0u64; 3];
    for round in 0..rounds {
        let mut cpu = machine(&mut rng);
        // A JIT engine belongs to one machine's memory.
        #[cfg(target_arch = "x86_64")]
        let mut jit = use_jit.then(|| Jit::new().expect("code cache"));
        #[cfg(not(target_arch = "x86_64"))]
        let mut jit: Option<Jit> = None;
        let _ = use_jit;
        let mode = round % 6;
        scramble(&mut cpu, &mut rng, mode);
        let mut steps = 0;
        while steps < 60_000 {
            let r = step(&mut cpu, jit.as_mut());
            steps += 1;
            match r {
                Step::Ran => outcomes[0] += 1,
                Step::Halted => {
                    outcomes[1] += 1;
                    scramble(&mut cpu, &mut rng, mode);
                }
                Step::Shutdown => {
                    outcomes[2] += 1;
                    scramble(&mut cpu, &mut rng, mode);
                }
            }
        }
        total += steps;
    }
    eprintln!("random code: {total} steps, ran/halted/shutdown = {outcomes:?}");
    assert!(total >= 1_000_000);
    assert!(
        outcomes[0] > total / 2,
        "most steps execute something: {outcomes:?}"
    );
}
