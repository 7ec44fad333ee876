//! The Linux/x86 boot protocol, 32-bit entry (kernel Documentation/arch/x86/boot.rst):
//! the protected-mode kernel at `code32_start`, a zero page ("boot_params") holding the
//! setup header, the E820 memory map and the command line pointer, the initrd as high
//! as `initrd_addr_max` allows, and ESI pointing at the zero page.

use super::{enter_flat_protected_mode, BootError};
use crate::cpu::Cpu;

/// Setup-header offsets (boot.rst, "The real-mode kernel header").
const SETUP_SECTS: usize = 0x1f1;
const HEADER_MAGIC: usize = 0x202;
const VERSION: usize = 0x206;
const TYPE_OF_LOADER: usize = 0x210;
const LOADFLAGS: usize = 0x211;
const CODE32_START: usize = 0x214;
const RAMDISK_IMAGE: usize = 0x218;
const RAMDISK_SIZE: usize = 0x21c;
const HEAP_END_PTR: usize = 0x224;
const CMD_LINE_PTR: usize = 0x228;
const INITRD_ADDR_MAX: usize = 0x22c;
const CMDLINE_SIZE: usize = 0x238;

/// Zero-page offsets (arch/x86/include/uapi/asm/bootparam.h).
const ALT_MEM_K: usize = 0x1e0;
const E820_ENTRIES: usize = 0x1e8;
const E820_TABLE: usize = 0x2d0;
const SCREEN_INFO_COLS: usize = 0x07;
const SCREEN_INFO_LINES: usize = 0x0e;
const SCREEN_INFO_IS_VGA: usize = 0x0f;

/// Where the loader puts things (below 640 KiB, clear of the BIOS data areas).
pub const ZERO_PAGE: u32 = 0x7000;
pub const CMDLINE_ADDR: u32 = 0x20000;
const CMDLINE_MAX: usize = 0x10000;
const GDT_ADDR: u32 = 0x6000;

/// Loader type 0xFF: "undefined" (rx86 has no ID assigned).
const LOADER_UNDEFINED: u8 = 0xff;
const LOADED_HIGH: u8 = 0x01;
const CAN_USE_HEAP: u8 = 0x80;

/// E820 types.
pub const E820_RAM: u32 = 1;
pub const E820_RESERVED: u32 = 2;

pub fn is_bzimage(k: &[u8]) -> bool {
    k.len() > HEADER_MAGIC + 4 && &k[HEADER_MAGIC..HEADER_MAGIC + 4] == b"HdrS"
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn put_u16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

/// The PC memory map rx86 reports for `ram` bytes of RAM.
pub fn e820_map(ram: u32) -> Vec<(u64, u64, u32)> {
    let mut m = vec![
        (0, 0x9fc00, E820_RAM),
        (0x9fc00, 0x400, E820_RESERVED),
        (0xe0000, 0x20000, E820_RESERVED),
        (0x10_0000, ram as u64 - 0x10_0000, E820_RAM),
    ];
    // The BIOS ROM at the top of 4 GiB.
    m.push((0xfffc_0000, 0x4_0000, E820_RESERVED));
    m
}

pub fn load(
    cpu: &mut Cpu,
    k: &[u8],
    initrd: Option<&[u8]>,
    cmdline: &str,
) -> Result<(), BootError> {
    if k.len() < 0x400 {
        return Err(BootError::Truncated("no room for the setup header"));
    }
    let version = u16_at(k, VERSION);
    if version < 0x0202 {
        return Err(BootError::OldProtocol {
            major: (version >> 8) as u8,
            minor: version as u8,
        });
    }
    let setup_sects = match k[SETUP_SECTS] {
        0 => 4,
        n => n as usize,
    };
    let pm_offset = (setup_sects + 1) * 512;
    if k.len() <= pm_offset {
        return Err(BootError::Truncated(
            "no protected-mode kernel after the setup sectors",
        ));
    }
    if k[LOADFLAGS] & LOADED_HIGH == 0 {
        return Err(BootError::Truncated(
            "not a bzImage (zImage loaded low is not supported)",
        ));
    }
    let ram = cpu.mmu.phys.ram_size();
    let ram_mb = ram >> 20;
    let pm = &k[pm_offset..];
    let code32 = u32_at(k, CODE32_START);
    if code32 as u64 + pm.len() as u64 > ram as u64 {
        return Err(BootError::TooBig {
            what: "the kernel",
            ram_mb,
        });
    }
    cpu.mmu.phys.load(code32, pm);

    // The zero page: the setup header copied from the image at its own offsets.
    let mut zp = vec![0u8; 4096];
    let hdr_end = (0x202 + k[0x201] as usize).min(k.len()).min(4096);
    zp[SETUP_SECTS..hdr_end].copy_from_slice(&k[SETUP_SECTS..hdr_end]);
    zp[TYPE_OF_LOADER] = LOADER_UNDEFINED;
    zp[LOADFLAGS] |= CAN_USE_HEAP;
    put_u16(&mut zp, HEAP_END_PTR, 0xfe00 - 0x200);

    // Command line.
    let max_cmdline = if version >= 0x0206 {
        (u32_at(k, CMDLINE_SIZE) as usize).min(CMDLINE_MAX - 1)
    } else {
        255
    };
    let mut line = cmdline.as_bytes().to_vec();
    line.truncate(max_cmdline);
    line.push(0);
    cpu.mmu.phys.load(CMDLINE_ADDR, &line);
    put_u32(&mut zp, CMD_LINE_PTR, CMDLINE_ADDR);

    // Initrd: as high as both RAM and initrd_addr_max allow, page aligned.
    if let Some(rd) = initrd {
        let max = if version >= 0x0203 {
            u32_at(k, INITRD_ADDR_MAX)
        } else {
            0x37ff_ffff
        };
        let top = (ram - 1).min(max) as u64 + 1;
        let start = top.saturating_sub(rd.len() as u64) & !0xfff;
        let kernel_end = code32 as u64 + pm.len() as u64;
        if rd.len() as u64 > top || start < kernel_end.max(0x100_0000) {
            return Err(BootError::TooBig {
                what: "the initrd",
                ram_mb,
            });
        }
        cpu.mmu.phys.load(start as u32, rd);
        put_u32(&mut zp, RAMDISK_IMAGE, start as u32);
        put_u32(&mut zp, RAMDISK_SIZE, rd.len() as u32);
    }

    // Memory: E820 map and the legacy extended-memory size.
    let map = e820_map(ram);
    zp[E820_ENTRIES] = map.len() as u8;
    for (i, (addr, size, ty)) in map.iter().enumerate() {
        let o = E820_TABLE + 20 * i;
        zp[o..o + 8].copy_from_slice(&addr.to_le_bytes());
        zp[o + 8..o + 16].copy_from_slice(&size.to_le_bytes());
        put_u32(&mut zp, o + 16, *ty);
    }
    put_u32(&mut zp, ALT_MEM_K, (ram - 0x10_0000) / 1024);
    // An 80x25 VGA text screen.
    zp[SCREEN_INFO_COLS] = 80;
    zp[SCREEN_INFO_LINES] = 25;
    zp[SCREEN_INFO_IS_VGA] = 1;
    cpu.mmu.phys.load(ZERO_PAGE, &zp);

    // A GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18), as the protocol requires.
    let gdt: [u64; 4] = [0, 0, 0x00cf_9a00_0000_ffff, 0x00cf_9200_0000_ffff];
    let bytes: Vec<u8> = gdt.iter().flat_map(|d| d.to_le_bytes()).collect();
    cpu.mmu.phys.load(GDT_ADDR, &bytes);
    cpu.s.gdtr = jit::abi::TableReg {
        base: GDT_ADDR,
        limit: 31,
    };
    cpu.s.idtr = jit::abi::TableReg { base: 0, limit: 0 };
    enter_flat_protected_mode(cpu, 0x10, 0x18, code32);
    cpu.s.regs = [0; 8];
    cpu.s.regs[jit::abi::ESI] = ZERO_PAGE;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::{Mmu, PhysMem};

    /// A minimal bzImage: 4 setup sectors after the boot sector, then a protected-mode
    /// "kernel" of 1 KiB.
    fn image(version: u16) -> Vec<u8> {
        let mut k = vec![0u8; 5 * 512 + 1024];
        k[SETUP_SECTS] = 4;
        k[0x201] = 0x6a; // header ends at 0x26c
        k[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
        put_u16(&mut k, VERSION, version);
        k[LOADFLAGS] = LOADED_HIGH;
        put_u32(&mut k, CODE32_START, 0x10_0000);
        put_u32(&mut k, INITRD_ADDR_MAX, 0x37ff_ffff);
        put_u32(&mut k, CMDLINE_SIZE, 2048);
        k[5 * 512] = 0xf4;
        k
    }

    fn cpu() -> Cpu {
        Cpu::new(
            Mmu::new(PhysMem::new(64 << 20, &[]).unwrap()),
            devices::PortBus::new(),
        )
    }

    #[test]
    fn boot_params_follow_the_protocol() {
        let mut c = cpu();
        let initrd = vec![0x5a; 5000];
        load(&mut c, &image(0x020f), Some(&initrd), "console=ttyS0").unwrap();
        let zp = c.mmu.phys.dump(ZERO_PAGE, 4096);
        assert_eq!(&zp[HEADER_MAGIC..HEADER_MAGIC + 4], b"HdrS");
        assert_eq!(zp[TYPE_OF_LOADER], 0xff);
        assert_eq!(zp[LOADFLAGS], LOADED_HIGH | CAN_USE_HEAP);
        assert_eq!(u32_at(&zp, CMD_LINE_PTR), CMDLINE_ADDR);
        assert_eq!(c.mmu.phys.dump(CMDLINE_ADDR, 14), b"console=ttyS0\0");
        let rd = u32_at(&zp, RAMDISK_IMAGE);
        assert_eq!(u32_at(&zp, RAMDISK_SIZE), 5000);
        assert_eq!(rd & 0xfff, 0);
        assert!(rd + 5000 <= 64 << 20 && rd >= (64 << 20) - 0x3000);
        assert_eq!(c.mmu.phys.read_u8(rd + 4999), 0x5a);
        assert_eq!(zp[E820_ENTRIES], 5);
        assert_eq!(u32_at(&zp, E820_TABLE + 3 * 20), 0x10_0000);
        assert_eq!(u32_at(&zp, ALT_MEM_K), 63 * 1024);
        // The CPU: flat protected mode at code32_start, ESI -> zero page, IF clear.
        assert_eq!(c.s.eip, 0x10_0000);
        assert_eq!(c.s.regs[jit::abi::ESI], ZERO_PAGE);
        assert_eq!(c.s.seg[jit::abi::CS].selector, 0x10);
        assert_eq!(c.s.seg[jit::abi::DS].selector, 0x18);
        assert_eq!(c.s.eflags & crate::cpu::flags::IF, 0);
        assert_eq!(c.mmu.phys.read_u8(0x10_0000), 0xf4);
    }

    #[test]
    fn old_protocols_and_truncated_images_are_refused() {
        let mut c = cpu();
        let e = load(&mut c, &image(0x0201), None, "").unwrap_err();
        assert!(e.to_string().contains("2.01 is too old"), "{e}");
        let mut k = image(0x020f);
        k.truncate(5 * 512);
        assert!(load(&mut c, &k, None, "").is_err());
        let mut small = Cpu::new(
            Mmu::new(PhysMem::new(2 << 20, &[]).unwrap()),
            devices::PortBus::new(),
        );
        let e = load(&mut small, &image(0x020f), Some(&vec![0; 3 << 20]), "").unwrap_err();
        assert!(e.to_string().contains("initrd does not fit"), "{e}");
    }
}
