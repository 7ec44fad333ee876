//! Direct kernel boot, as QEMU's `-kernel` does: a Linux bzImage through the Linux/x86
//! boot protocol (`linux`), or a Multiboot v1 kernel (`multiboot`). Both load the image
//! into guest RAM and leave the CPU in 32-bit flat protected mode at the kernel's entry.

pub mod linux;
pub mod multiboot;

use jit::abi::{Segment, CS, DS, ES, FS, GS, SS};

use crate::cpu::{cr0, Cpu};

/// Errors in a kernel image or its boot parameters.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("kernel image is neither a bzImage (no HdrS magic at 0x202) nor a Multiboot kernel (no header in the first 8 KiB)")]
    UnknownFormat,
    #[error("bzImage boot protocol {major}.{minor:02} is too old: 2.02 or later is needed")]
    OldProtocol { major: u8, minor: u8 },
    #[error("kernel image is truncated: {0}")]
    Truncated(&'static str),
    #[error("{what} does not fit in guest RAM ({ram_mb} MiB): give more --memory")]
    TooBig { what: &'static str, ram_mb: u32 },
    #[error("multiboot kernel: {0}")]
    Multiboot(String),
}

/// Loads `kernel` (bzImage or Multiboot) and points the CPU at it.
pub fn load(
    cpu: &mut Cpu,
    kernel: &[u8],
    initrd: Option<&[u8]>,
    cmdline: &str,
) -> Result<(), BootError> {
    if linux::is_bzimage(kernel) {
        linux::load(cpu, kernel, initrd, cmdline)
    } else if multiboot::find_header(kernel).is_some() {
        multiboot::load(cpu, kernel, initrd, cmdline)
    } else {
        Err(BootError::UnknownFormat)
    }
}

/// 32-bit flat protected mode with the given code and data selectors, interrupts off,
/// paging off, A20 on: the state both boot protocols hand to the kernel.
pub(crate) fn enter_flat_protected_mode(cpu: &mut Cpu, code_sel: u16, data_sel: u16, eip: u32) {
    let flat = |selector: u16, ty: u16| Segment {
        selector,
        attr: ty | 0x10 | 0x80 | 0x4000 | 0x8000,
        base: 0,
        limit: 0xffff_ffff,
    };
    cpu.s.seg[CS] = flat(code_sel, 0x0b);
    for s in [DS, ES, SS, FS, GS] {
        cpu.s.seg[s] = flat(data_sel, 0x03);
    }
    cpu.s.cr0 = cr0::PE | cr0::ET;
    cpu.s.cpl = 0;
    cpu.s.eflags = 2;
    cpu.s.lazy.op = 0;
    cpu.s.eip = eip;
    cpu.mmu.set_a20(true);
    crate::cpu::resync(cpu);
}
