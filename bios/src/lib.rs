//! The rx86 built-in BIOS ROM and its back-door service numbers (DESIGN.md, "BIOS and
//! boot").
//!
//! `rom/bios.asm` is small 16-bit code: the reset vector at F000:FFF0, interrupt entry
//! stubs, and the timer/keyboard IRQ glue. Each service stub writes its service number
//! to [`BACKDOOR_PORT`]; the machine then runs the service in Rust
//! (`rx86::monitor::bios`). The assembled image `rom/bios.bin` is committed, so building
//! rx86 does not need nasm; a test re-assembles it and requires identical bytes.
//!
//! Layout references: IBM PC AT Technical Reference (reset vector, BIOS date at
//! F000:FFF5, model byte FCh at F000:FFFE, system configuration table).

/// The 64 KiB ROM image, mapped at F0000-FFFFF and FFFF0000-FFFFFFFF.
pub static ROM: &[u8] = include_bytes!("../rom/bios.bin");

/// The back-door I/O port: a byte written here by ROM code asks the monitor for a
/// service. Port E6h is decoded by no PC/AT, PIIX3 or QEMU/Bochs device (E9h is the
/// debug console, F0h-FFh the coprocessor, E0h-EFh otherwise unassigned).
pub const BACKDOOR_PORT: u16 = 0xe6;

/// Power-on self test (from the reset path).
pub const SVC_POST: u8 = 0x01;
/// A scan code from INT 09h (in the saved AL) for the keyboard buffer.
pub const SVC_KEY: u8 = 0x09;
pub const SVC_INT10: u8 = 0x10;
pub const SVC_INT11: u8 = 0x11;
pub const SVC_INT12: u8 = 0x12;
pub const SVC_INT13: u8 = 0x13;
pub const SVC_INT14: u8 = 0x14;
pub const SVC_INT15: u8 = 0x15;
pub const SVC_INT16: u8 = 0x16;
pub const SVC_INT17: u8 = 0x17;
/// INT 19h bootstrap loader.
pub const SVC_BOOT: u8 = 0x19;
pub const SVC_INT1A: u8 = 0x1a;

/// The ROM header at offset 0 (see `rom/bios.asm`): signature and field offsets.
pub const SIGNATURE: &[u8; 8] = b"RX86BIOS";
/// Word: offset of the (vector, 0, handler offset) table.
pub const HDR_VECTORS: usize = 10;
/// Word: size of that table in bytes.
pub const HDR_VECTORS_LEN: usize = 12;
/// Word: offset of the INT 15h AH=C0h configuration table.
pub const HDR_CONFIG_TABLE: usize = 14;
/// Word: offset of the INT 1Eh diskette parameter table.
pub const HDR_DISKETTE_PARAMS: usize = 16;
/// Word: offset of the default IRET handler every other vector points at.
pub const HDR_DEFAULT_IRET: usize = 18;

/// In a service stub, bytes from the instruction after the OUT (`pop ax; iret`) to the
/// wait path (`pop ax; sti; hlt; cli; jmp entry`).
pub const WAIT_PATH_OFFSET: u32 = 2;

/// The ROM is loaded at this segment.
pub const ROM_SEGMENT: u16 = 0xf000;

#[cfg(test)]
mod tests {
    use super::*;

    fn word(off: usize) -> usize {
        u16::from_le_bytes([ROM[off], ROM[off + 1]]) as usize
    }

    #[test]
    fn image_has_the_pc_fixed_addresses() {
        assert_eq!(ROM.len(), 64 << 10);
        assert_eq!(&ROM[..8], SIGNATURE);
        // JMP FAR F000:xxxx at the reset vector.
        assert_eq!(ROM[0xfff0], 0xea);
        assert_eq!(&ROM[0xfff3..0xfff5], &[0x00, 0xf0]);
        assert_eq!(&ROM[0xfff5..0xfffd], b"11/23/26");
        assert_eq!(ROM[0xfffe], 0xfc);
    }

    #[test]
    fn vector_table_points_at_stubs_that_use_the_backdoor() {
        let (start, len) = (word(HDR_VECTORS), word(HDR_VECTORS_LEN));
        assert_eq!(len % 4, 0);
        let mut seen = Vec::new();
        for e in ROM[start..start + len].chunks_exact(4) {
            let (vec, off) = (e[0], u16::from_le_bytes([e[2], e[3]]) as usize);
            seen.push(vec);
            if (0x10..=0x1a).contains(&vec) && vec != 0x18 && vec != 0x19 {
                // push ax; mov al, vec; out BACKDOOR, al; pop ax; iret
                assert_eq!(
                    &ROM[off..off + 7],
                    &[0x50, 0xb0, vec, 0xe6, BACKDOOR_PORT as u8, 0x58, 0xcf],
                    "INT {vec:02X}h stub"
                );
                // The wait path follows: pop ax; sti; hlt; cli.
                let wait = off + 5 + WAIT_PATH_OFFSET as usize;
                assert_eq!(&ROM[wait..wait + 4], &[0x58, 0xfb, 0xf4, 0xfa]);
            }
        }
        for v in [0x08, 0x09, 0x10, 0x13, 0x15, 0x16, 0x19, 0x1a, 0x1e, 0x70] {
            assert!(seen.contains(&v), "vector {v:02X}h missing");
        }
        // The configuration table starts with its length (8) and the AT model byte.
        let c = word(HDR_CONFIG_TABLE);
        assert_eq!(&ROM[c..c + 3], &[8, 0, 0xfc]);
    }
}
