//! The ACPI tables of the built-in firmware (ACPI Specification 6.5, chapter 5): RSDP,
//! RSDT, FADT (revision 1 layout), FACS and a DSDT whose only object is `\_S5`, so an OS
//! finds the power-management timer and can power the machine off.
//!
//! The tables live in the lower 64 KiB of a 128 KiB ROM, which maps at E0000h-FFFFFh
//! below 1 MiB (where the OS scans for the RSDP, §5.2.5.1) and is reserved in the E820
//! map. The power-management registers they describe are `devices::acpi_pm`.

use devices::acpi_pm;

/// I/O base of the PM1a event, PM1a control and PM timer blocks (as on QEMU's "pc").
pub const PM_BASE: u16 = 0x600;
/// The SCI's ISA interrupt (level-triggered, active high after the ELCR is set).
pub const SCI_IRQ: u8 = 9;

/// Where the table area maps physically, and its size.
pub const TABLES_BASE: u32 = 0xe0000;
pub const TABLES_SIZE: usize = 0x10000;

const RSDP_OFF: usize = 0x0;
const RSDT_OFF: usize = 0x40;
const FACS_OFF: usize = 0x80;
const FADT_OFF: usize = 0x100;
const DSDT_OFF: usize = 0x200;

const OEM_ID: &[u8; 6] = b"RX86  ";
const OEM_TABLE_ID: &[u8; 8] = b"RX86PC  ";

/// A 128 KiB ROM: the ACPI table area followed by a 64 KiB BIOS image.
pub fn rom_with_tables(bios: &[u8]) -> Vec<u8> {
    debug_assert_eq!(bios.len(), 0x10000);
    let mut rom = tables();
    rom.extend_from_slice(bios);
    rom
}

/// The 64 KiB table area, as the OS sees it at [`TABLES_BASE`].
pub fn tables() -> Vec<u8> {
    let mut area = vec![0u8; TABLES_SIZE];
    let addr = |off: usize| TABLES_BASE + off as u32;

    // DSDT: DefinitionBlock with Name (_S5, Package () { 5, 5, 0, 0 }).
    let s5 = acpi_pm::SLP_TYP_S5 as u8;
    let aml: &[u8] = &[
        0x08, b'_', b'S', b'5', b'_', // NameOp "_S5_"
        0x12, 0x08, 0x04, // PackageOp, PkgLength 8, 4 elements
        0x0a, s5, 0x0a, s5, // BytePrefix SLP_TYPa, BytePrefix SLP_TYPb
        0x00, 0x00, // Zero, Zero (reserved)
    ];
    let dsdt = table(b"DSDT", 1, aml);
    put(&mut area, DSDT_OFF, &dsdt);

    // FACS (§5.2.10): no checksum; 64-byte aligned.
    let mut facs = vec![0u8; 64];
    facs[0..4].copy_from_slice(b"FACS");
    facs[4..8].copy_from_slice(&64u32.to_le_bytes());
    put(&mut area, FACS_OFF, &facs);

    // FADT, ACPI 1.0 layout (§5.2.9): 116 bytes.
    let mut f = vec![0u8; 116 - 36];
    let mut le32 = |off: usize, v: u32| f[off - 36..off - 32].copy_from_slice(&v.to_le_bytes());
    le32(36, addr(FACS_OFF)); // FIRMWARE_CTRL
    le32(40, addr(DSDT_OFF)); // DSDT
    le32(48, 0); // SMI_CMD: none, the hardware is always in ACPI mode
    let pm = PM_BASE as u32;
    le32(56, pm + acpi_pm::PM1_STS); // PM1a_EVT_BLK
    le32(64, pm + acpi_pm::PM1_CNT); // PM1a_CNT_BLK
    le32(76, pm + acpi_pm::PM_TMR); // PM_TMR_BLK
    f[46 - 36..48 - 36].copy_from_slice(&(SCI_IRQ as u16).to_le_bytes()); // SCI_INT
    f[88 - 36] = 4; // PM1_EVT_LEN
    f[89 - 36] = 2; // PM1_CNT_LEN
    f[91 - 36] = 4; // PM_TMR_LEN
    f[96 - 36..98 - 36].copy_from_slice(&101u16.to_le_bytes()); // P_LVL2_LAT: no C2
    f[98 - 36..100 - 36].copy_from_slice(&1001u16.to_le_bytes()); // P_LVL3_LAT: no C3
    f[108 - 36] = 0x32; // CENTURY: the CMOS century byte
                        // Flags: WBINVD, PROC_C1, no fixed power or sleep button.
    let flags: u32 = 1 | 1 << 2 | 1 << 4 | 1 << 5;
    f[112 - 36..116 - 36].copy_from_slice(&flags.to_le_bytes());
    let fadt = table(b"FACP", 1, &f);
    put(&mut area, FADT_OFF, &fadt);

    // RSDT (§5.2.7): one entry, the FADT.
    let rsdt = table(b"RSDT", 1, &addr(FADT_OFF).to_le_bytes());
    put(&mut area, RSDT_OFF, &rsdt);

    // RSDP, ACPI 1.0 form (§5.2.5.3): 20 bytes, 16-byte aligned.
    let mut rsdp = Vec::with_capacity(20);
    rsdp.extend_from_slice(b"RSD PTR ");
    rsdp.push(0); // checksum
    rsdp.extend_from_slice(OEM_ID);
    rsdp.push(0); // revision 0: ACPI 1.0
    rsdp.extend_from_slice(&addr(RSDT_OFF).to_le_bytes());
    rsdp[8] = checksum(&rsdp);
    put(&mut area, RSDP_OFF, &rsdp);
    area
}

/// A table with the standard 36-byte header (§5.2.6) and its checksum.
fn table(sig: &[u8; 4], revision: u8, body: &[u8]) -> Vec<u8> {
    let len = 36 + body.len() as u32;
    let mut t = Vec::with_capacity(len as usize);
    t.extend_from_slice(sig);
    t.extend_from_slice(&len.to_le_bytes());
    t.push(revision);
    t.push(0); // checksum
    t.extend_from_slice(OEM_ID);
    t.extend_from_slice(OEM_TABLE_ID);
    t.extend_from_slice(&1u32.to_le_bytes()); // OEM revision
    t.extend_from_slice(b"RX86"); // creator ID
    t.extend_from_slice(&1u32.to_le_bytes()); // creator revision
    t.extend_from_slice(body);
    t[9] = checksum(&t);
    t
}

/// The byte that makes `bytes` sum to zero.
fn checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)))
}

fn put(area: &mut [u8], off: usize, bytes: &[u8]) {
    area[off..off + bytes.len()].copy_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(b: &[u8]) -> u8 {
        b.iter().fold(0u8, |a, &x| a.wrapping_add(x))
    }

    fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }

    /// Follows the pointers from the RSDP as an OS does and checks every checksum.
    #[test]
    fn rsdp_leads_to_a_valid_fadt_and_dsdt() {
        let t = tables();
        let at = |phys: u32| (phys - TABLES_BASE) as usize;
        assert_eq!(&t[0..8], b"RSD PTR ");
        assert_eq!(sum(&t[0..20]), 0);
        let rsdt = at(u32_at(&t, 16));
        assert_eq!(&t[rsdt..rsdt + 4], b"RSDT");
        let rsdt_len = u32_at(&t, rsdt + 4) as usize;
        assert_eq!(rsdt_len, 40);
        assert_eq!(sum(&t[rsdt..rsdt + rsdt_len]), 0);
        let fadt = at(u32_at(&t, rsdt + 36));
        assert_eq!(&t[fadt..fadt + 4], b"FACP");
        assert_eq!(u32_at(&t, fadt + 4), 116);
        assert_eq!(sum(&t[fadt..fadt + 116]), 0);
        assert_eq!(u32_at(&t, fadt + 56), 0x600);
        assert_eq!(u32_at(&t, fadt + 64), 0x604);
        assert_eq!(u32_at(&t, fadt + 76), 0x608);
        assert_eq!(t[fadt + 46], 9);
        assert_eq!((t[fadt + 88], t[fadt + 89], t[fadt + 91]), (4, 2, 4));
        let facs = at(u32_at(&t, fadt + 36));
        assert_eq!(facs % 64, 0);
        assert_eq!(&t[facs..facs + 4], b"FACS");
        let dsdt = at(u32_at(&t, fadt + 40));
        assert_eq!(&t[dsdt..dsdt + 4], b"DSDT");
        let dsdt_len = u32_at(&t, dsdt + 4) as usize;
        assert_eq!(sum(&t[dsdt..dsdt + dsdt_len]), 0);
        // \_S5 carries the sleep type the PM device powers off on.
        let aml = &t[dsdt + 36..dsdt + dsdt_len];
        assert_eq!(&aml[..5], b"\x08_S5_");
        assert_eq!(aml[9], acpi_pm::SLP_TYP_S5 as u8);
    }

    #[test]
    fn rom_is_tables_then_bios() {
        let bios = vec![0xaa; 0x10000];
        let rom = rom_with_tables(&bios);
        assert_eq!(rom.len(), 0x20000);
        assert_eq!(&rom[0..8], b"RSD PTR ");
        assert!(rom[0x10000..].iter().all(|&b| b == 0xaa));
    }
}
