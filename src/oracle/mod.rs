//! Native oracle: short random integer-instruction sequences run both on the host CPU (an
//! x86-64 Linux that executes 32-bit ELF binaries natively) and in rx86, and the final
//! registers, EFLAGS and data memory are compared.
//!
//! Layer 3 of "Tests, in layers" in DESIGN.md. Flags that the Intel SDM Vol. 2 leaves
//! undefined for an instruction are masked out of the comparison, as iced-x86's
//! `Instruction::rflags_undefined()` reports them, refined for shift and rotate counts
//! (SDM Vol. 2B, "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD").
//!
//! The pieces:
//! - [`gen`] makes cases: a deterministic generator plus the path analysis that proves a
//!   case stays inside the data area, never faults and never reads an undefined flag.
//! - [`native`] runs cases on the host ([`NativeExecutor`]), via a static i386 ELF built
//!   in `elf.rs`.
//! - the emulator side (`Rx86Executor`, in `rx86.rs`) runs the same cases in rx86.
//! - [`compare`] turns a mismatch into a readable report.
//! - [`fpu_gen`] makes x87 cases: `FRSTOR` of a random FPU image, x87 instructions,
//!   `FNSAVE`, so the FPU state is compared as data memory; [`Case::mem_ignore`] leaves out
//!   the image bytes that legitimately differ (selectors, FOP, reserved halves).
//!
//! An executor reports EFLAGS as `PUSHFD` would see them (RF and VM clear). Everything but
//! the undefined status flags is compared, reserved bits included.
//!
//! Tests: `tests/oracle.rs` (generator, analysis, native runner), `tests/oracle_rx86.rs`
//! (rx86 against the host, 20 000 cases; `ORACLE_CASES`, `ORACLE_SEED` override) and
//! `tests/oracle_fpu.rs` (x87: 100 000 cases, transcendentals reported separately).

mod analyze;
pub(crate) mod disasm;
mod elf;
pub mod fpu_gen;
pub mod gen;
pub mod native;
mod rx86;
pub use rx86::Rx86Executor;

pub use analyze::{analyze, AState, Analysis};
pub use native::NativeExecutor;

use std::fmt::Write as _;

/// Linear address of the data area (which also holds the stack), natively and in rx86.
pub const DATA_BASE: u32 = 0x2000_0000;
/// Bytes of data area compared after each case.
pub const DATA_SIZE: usize = 0x2000;
/// Cases' code lives at `CODE_BASE + i * CASE_SLOT`.
pub const CODE_BASE: u32 = 0x1000_0000;
/// Bytes reserved per case in the code area. The native image appends a 5-byte `jmp rel32`
/// after each case, so a case's code is at most `CASE_SLOT - 5` bytes.
pub const CASE_SLOT: u32 = 0x100;
/// Longest code a case may have (room is left for the native runner's `jmp rel32`).
pub const MAX_CODE_LEN: usize = CASE_SLOT as usize - 5;

/// EFLAGS bits (Intel SDM Vol. 1 §3.4.3).
pub mod eflags {
    pub const CF: u32 = 1 << 0;
    pub const RESERVED1: u32 = 1 << 1;
    pub const PF: u32 = 1 << 2;
    pub const AF: u32 = 1 << 4;
    pub const ZF: u32 = 1 << 6;
    pub const SF: u32 = 1 << 7;
    pub const TF: u32 = 1 << 8;
    pub const IF: u32 = 1 << 9;
    pub const DF: u32 = 1 << 10;
    pub const OF: u32 = 1 << 11;
    pub const IOPL: u32 = 3 << 12;
    pub const NT: u32 = 1 << 14;
    pub const RF: u32 = 1 << 16;
    pub const VM: u32 = 1 << 17;
    pub const AC: u32 = 1 << 18;
    pub const VIF: u32 = 1 << 19;
    pub const VIP: u32 = 1 << 20;
    pub const ID: u32 = 1 << 21;
    /// The six arithmetic status flags.
    pub const STATUS: u32 = CF | PF | AF | ZF | SF | OF;
    pub(crate) const NAMES: [(u32, &str); 18] = [
        (CF, "CF"),
        (RESERVED1, "1"),
        (PF, "PF"),
        (AF, "AF"),
        (ZF, "ZF"),
        (SF, "SF"),
        (TF, "TF"),
        (IF, "IF"),
        (DF, "DF"),
        (OF, "OF"),
        (1 << 12, "IOPL0"),
        (1 << 13, "IOPL1"),
        (NT, "NT"),
        (RF, "RF"),
        (VM, "VM"),
        (AC, "AC"),
        (VIF, "VIF"),
        (ID, "ID"),
    ];
}

/// Register and memory state before or after a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseState {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI (the ModRM register order).
    pub regs: [u32; 8],
    pub eflags: u32,
    /// `DATA_SIZE` bytes at `DATA_BASE`.
    pub mem: Vec<u8>,
}

/// One instruction sequence with its initial state.
///
/// Execution starts at `code_addr` in ring 3 with flat 32-bit segments (base 0), all of
/// `init.regs` (ESP too) and `init.eflags` (reserved bit 1 and IF set), and stops when EIP
/// reaches `code_addr + code.len()`; the final state is captured there.
#[derive(Clone, Debug)]
pub struct Case {
    /// Family of the case's main instruction, e.g. "shld32".
    pub name: String,
    pub code_addr: u32,
    /// The instruction sequence only.
    pub code: Vec<u8>,
    pub init: CaseState,
    /// EFLAGS bits to compare.
    pub flags_mask: u32,
    /// Byte ranges of the data area (offsets from `DATA_BASE`) left out of the memory
    /// comparison: what legitimately differs between the host and rx86, such as the code
    /// and data selectors an x87 `FNSAVE` image holds. Empty for the integer cases.
    pub mem_ignore: Vec<std::ops::Range<usize>>,
}

impl Case {
    /// Whether byte `offset` of the data area is compared.
    pub fn mem_compared(&self, offset: usize) -> bool {
        !self.mem_ignore.iter().any(|r| r.contains(&offset))
    }
}

/// Something that runs cases: the host CPU or rx86.
pub trait Executor {
    /// Runs `cases` (distinct `code_addr`s) and returns their final states, in order.
    fn run_batch(&mut self, cases: &[Case]) -> Result<Vec<CaseState>, String>;
}

const REG_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

fn flag_names(bits: u32) -> String {
    let mut out = String::new();
    for (bit, name) in eflags::NAMES {
        if bits & bit != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

/// A readable description of a case: code (disassembled), initial registers and flags.
pub fn describe(case: &Case) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "case {} at {:#010x}:", case.name, case.code_addr);
    out.push_str(&disasm::listing(case.code_addr, &case.code));
    let _ = write!(out, "  init:");
    for (name, v) in REG_NAMES.iter().zip(case.init.regs) {
        let _ = write!(out, " {name}={v:08x}");
    }
    let _ = writeln!(
        out,
        "\n  init eflags={:08x} [{}]  compared flags mask={:08x}",
        case.init.eflags,
        flag_names(case.init.eflags),
        case.flags_mask
    );
    out
}

/// Compares `got` against `expected` (normally the native result) for `case`, with EFLAGS
/// masked by `case.flags_mask` and the data bytes in `case.mem_ignore` skipped. `None` when
/// they agree; otherwise a report naming every differing register, flag and memory range.
pub fn compare(case: &Case, expected: &CaseState, got: &CaseState) -> Option<String> {
    let mut diffs = String::new();
    for (i, name) in REG_NAMES.iter().enumerate() {
        if expected.regs[i] != got.regs[i] {
            let _ = writeln!(
                diffs,
                "  {name}: expected {:08x}, got {:08x}",
                expected.regs[i], got.regs[i]
            );
        }
    }
    let flag_diff = (expected.eflags ^ got.eflags) & case.flags_mask;
    if flag_diff != 0 {
        let _ = writeln!(
            diffs,
            "  eflags: expected {:08x} [{}], got {:08x} [{}] (masked by {:08x}); differ in [{}]",
            expected.eflags & case.flags_mask,
            flag_names(expected.eflags & case.flags_mask),
            got.eflags & case.flags_mask,
            flag_names(got.eflags & case.flags_mask),
            case.flags_mask,
            flag_names(flag_diff)
        );
    }
    if expected.mem.len() != got.mem.len() {
        let _ = writeln!(
            diffs,
            "  memory: expected {} bytes, got {}",
            expected.mem.len(),
            got.mem.len()
        );
    } else {
        let mut shown = 0;
        let mut i = 0;
        let differs = |i: usize| expected.mem[i] != got.mem[i] && case.mem_compared(i);
        while i < expected.mem.len() {
            if !differs(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < expected.mem.len() && differs(i) && i - start < 16 {
                i += 1;
            }
            if shown < 8 {
                let _ = writeln!(
                    diffs,
                    "  mem {:#010x}: expected {:02x?}, got {:02x?} (initially {:02x?})",
                    DATA_BASE as usize + start,
                    &expected.mem[start..i],
                    &got.mem[start..i],
                    case.init.mem.get(start..i).unwrap_or(&[]),
                );
            }
            shown += 1;
        }
        if shown > 8 {
            let _ = writeln!(diffs, "  ... {} more differing memory ranges", shown - 8);
        }
    }
    if diffs.is_empty() {
        return None;
    }
    Some(format!("{}{}", describe(case), diffs))
}

/// What a random-testing campaign found.
#[derive(Debug, Default)]
pub struct Campaign {
    pub cases: u64,
    pub mismatches: u64,
    /// Readable reports of the first mismatches (at most 20).
    pub reports: Vec<String>,
}

/// Runs generated cases natively and in rx86 in batches until `max_cases` have run or
/// `deadline` passes, whichever comes first. Errors are host problems (the native
/// runner could not start) or cases rx86 could not finish.
pub fn campaign(
    seed: u64,
    max_cases: Option<u64>,
    deadline: Option<std::time::Instant>,
) -> Result<Campaign, String> {
    const BATCH: u64 = 2000;
    let mut native = NativeExecutor::new();
    let mut emu = Rx86Executor::new();
    let mut c = Campaign::default();
    loop {
        if max_cases.is_some_and(|m| c.cases >= m)
            || deadline.is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Ok(c);
        }
        let n = max_cases.map_or(BATCH, |m| BATCH.min(m - c.cases)) as usize;
        let cases = gen::generate_batch(seed, c.cases, n);
        let expected = native.run_batch(&cases)?;
        let got = emu.run_batch(&cases)?;
        for (k, ((case, e), g)) in cases.iter().zip(&expected).zip(&got).enumerate() {
            if let Some(d) = compare(case, e, g) {
                c.mismatches += 1;
                if c.reports.len() < 20 {
                    let index = c.cases + k as u64;
                    c.reports
                        .push(format!("seed {seed:#x} index {index}:\n{d}"));
                }
            }
        }
        c.cases += n as u64;
    }
}
