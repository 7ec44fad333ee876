//! The built-in BIOS end to end: POST, INT 19h booting small boot programs from a hard
//! disk and a diskette image (test-roms/bios_*.asm), and the services they call,
//! checked through their debug-console output, the COM1 mirror, the disk image and the
//! machine's memory afterwards. Also: the committed ROM image is what bios/rom/bios.asm
//! assembles to.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{rom_dir, Capture};
use rx86::machine::console::Input;
use rx86::{Config, Exit, Machine};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("rx86-bios-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The boot program `name` padded to `size` bytes, with `(lba, text)` markers.
fn image(dir: &Path, name: &str, size: usize, marks: &[(usize, &str)]) -> PathBuf {
    let mut img = std::fs::read(rom_dir().join(format!("{name}.bin"))).unwrap();
    img.resize(size, 0);
    for (lba, text) in marks {
        let at = lba * 512;
        img[at..at + text.len()].copy_from_slice(text.as_bytes());
        img[at + text.len()] = 0;
    }
    let path = dir.join(format!("{name}.img"));
    std::fs::write(&path, &img).unwrap();
    path
}

struct Run {
    exit: Exit,
    debugcon: String,
    serial: String,
    machine: Machine,
}

/// Held while a child process is spawned, and while a machine opens its images: a
/// child forked between the two inherits the image descriptors (and their locks) until
/// it execs, which would make a concurrent open fail as "locked".
static SPAWN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn boot(cfg_fn: impl FnOnce(&mut Config), input: &[u8]) -> Run {
    let debugcon = Capture::default();
    let serial = Capture::default();
    let mut cfg = Config::new(bios::ROM.to_vec());
    cfg.memory_mb = 64;
    cfg.deterministic = true;
    cfg.debugcon_sink = Some(Box::new(debugcon.clone()));
    cfg.serial_sink = Some(Box::new(serial.clone()));
    cfg.max_instructions = Some(50_000_000);
    cfg.no_reboot = true;
    cfg_fn(&mut cfg);
    let mut machine = {
        let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
        Machine::new(cfg).expect("machine")
    };
    if !input.is_empty() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for &b in input {
            tx.send(Input::Byte(b)).unwrap();
        }
        machine.attach_input(rx);
    }
    let exit = machine.run();
    let d = String::from_utf8_lossy(&debugcon.0.borrow()).into_owned();
    let s = String::from_utf8_lossy(&serial.0.borrow()).into_owned();
    Run {
        exit,
        debugcon: d,
        serial: s,
        machine,
    }
}

fn expect_lines(out: &str, want: &[&str], m: &Machine) {
    for w in want {
        assert!(
            out.lines().any(|l| l == *w),
            "missing line {w:?} in:\n{out}\n{}",
            m.dump_state()
        );
    }
}

#[test]
fn hard_disk_boot_and_int13_chs_lba_write() {
    let dir = TempDir::new("hd");
    let hda = image(
        &dir.0,
        "bios_disk",
        1 << 20,
        &[(1500, "chs-ok"), (2000, "lba-ok")],
    );
    let r = boot(|c| c.hda = Some(hda.clone()), b"");
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    expect_lines(
        &r.debugcon,
        &[
            "boot dl=80",
            // 2 cylinders (max 1), 16 heads (max 15), 63 sectors; one hard disk.
            "params cx=013F dx=0F01 ah=00 cf=0",
            "chs read al=01 ah=00 cf=0",
            "chs-ok",
            "bad sector ah=04 cf=1",
            "last status ah=04 cf=1",
            "ext bx=AA55 cx=0001 ah=30 cf=0",
            "lba read ah=00 cf=0",
            "lba-ok",
            "lba write ah=00 cf=0",
            "read back ah=00 cf=0",
            "written",
            "past end count=0001 ah=04 cf=1",
            // EDD 3.0 result: CHS valid, 2/16/63, 2048 sectors, no DPTE (FFFF:FFFF).
            "edd size=001E sectors=00000800 bps=0200 flags=0002 \
             chs=00000002/00000010/0000003F dpte=FFFFFFFF ah=00 cf=0",
            "no drive ah=01 cf=1",
            "type cx:dx=00000800 ah=03 cf=0",
        ],
        &r.machine,
    );
    drop(r);
    let img = std::fs::read(&hda).unwrap();
    assert_eq!(&img[2047 * 512..2047 * 512 + 8], b"written\0");
    // The banner reached COM1 through the INT 10h mirror.
}

#[test]
fn committed_bios_image_matches_its_source() {
    let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    if Command::new("nasm").arg("-v").output().is_err() {
        eprintln!("skipped: nasm is not installed, so bios.asm cannot be re-assembled");
        return;
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bios/rom");
    let out = std::env::temp_dir().join(format!("rx86-bios-rom-{}.bin", std::process::id()));
    let st = Command::new("nasm")
        .current_dir(&src)
        .args(["-f", "bin", "-o"])
        .arg(&out)
        .arg("bios.asm")
        .status()
        .expect("run nasm");
    assert!(st.success(), "nasm failed on bios.asm");
    let built = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).ok();
    assert!(
        built == bios::ROM,
        "bios/rom/bios.bin is stale: run nasm -f bin -o bios.bin bios.asm in bios/rom"
    );
}

#[test]
fn system_services_e820_pci_video_keyboard() {
    let dir = TempDir::new("svc");
    let hda = image(&dir.0, "bios_services", 1 << 20, &[]);
    let r = boot(|c| c.hda = Some(hda.clone()), b"x\r");
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    expect_lines(
        &r.debugcon,
        &[
            "equipment=0422",
            "base kib=027F",
            // The map of src/boot/linux.rs for 64 MiB, in order, then a bad continuation.
            "e820 0000000000000000 000000000009FC00 01",
            "e820 000000000009FC00 0000000000000400 02",
            "e820 00000000000E0000 0000000000020000 02",
            "e820 0000000000100000 0000000003F00000 01",
            "e820 00000000FFFC0000 0000000000040000 02",
            "e820 bad ah=86 cf=1",
            "e801 ax=3C00 bx=0300",
            "ext kib=FC00",
            "model=FC ah=00 cf=0",
            "int15 99h ah=86 cf=1",
            "wait ticks ok ah=00 cf=0",
            "pci PCI al=01 bx=0210 ah=00 cf=0",
            // 00:01.1, the PIIX3 IDE function, with BAR4 assigned by POST.
            "ide at bx=0009 ah=00 cf=0",
            "id=70108086 ah=00 cf=0",
            "bar4=0000C001 ah=00 cf=0",
            "odd word ah=87 cf=1",
            "class ide bx=0009 ah=00 cf=0",
            "absent ah=86 cf=1",
            // Banner (2 lines) and the greeting: the cursor is on row 3.
            "cursor=0300",
            "key=2D78",
            "key=1C0D",
            "empty zf=01",
        ],
        &r.machine,
    );
    // The banner and the teletype output reached COM1.
    assert!(
        r.serial.starts_with("rx86 BIOS\r\n64 MiB RAM\r\n"),
        "{:?}",
        r.serial
    );
    assert!(
        r.serial.contains("Hello from INT 10h\r\n"),
        "{:?}",
        r.serial
    );
    // ... and the text screen at B8000 (character, attribute 07h).
    let mut m = r.machine;
    let row2 = m.cpu.mmu.phys.dump(0xb8000 + 2 * 160, 10);
    assert_eq!(row2, b"H\x07e\x07l\x07l\x07o\x07");
    // The IDE bus-master window is where POST put BAR4.
    assert_eq!(m.board.pci.borrow().ide_bm_base(), Some(0xc000));
}

#[test]
fn floppy_boot_and_int13_chs_on_the_diskette() {
    let dir = TempDir::new("fd");
    let fda = image(
        &dir.0,
        "bios_floppy",
        1_474_560,
        &[(54, "floppy-ok"), (2879, "last-ok")],
    );
    let r = boot(|c| c.fda = Some(fda.clone()), b"");
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    let lines: Vec<&str> = r.debugcon.lines().collect();
    assert_eq!(
        lines,
        [
            "boot dl=00",
            // 1.44M: type 4, 80 cylinders (max 4Fh), 18 sectors, 2 heads, one drive; the
            // INT 1Eh-style table says 18 sectors per track too.
            "bl=04 cx=4F12 dx=0101 spt=12 ah=00 cf=0",
            "read ah=00 cf=0",
            "floppy-ok",
            "read ah=00 cf=0",
            "last-ok",
            "read ah=04 cf=1",
            "",
        ]
    );
}

#[test]
fn boot_order_skips_disks_without_the_signature() {
    let dir = TempDir::new("order");
    let blank = dir.0.join("blank.img");
    std::fs::write(&blank, vec![0u8; 1 << 20]).unwrap();
    let fda = image(&dir.0, "bios_floppy", 737_280, &[]);
    let r = boot(
        |c| {
            c.hda = Some(blank.clone());
            c.fda = Some(fda.clone());
        },
        b"",
    );
    assert_eq!(r.exit, Exit::ExitDevice(1), "{}", r.debugcon);
    assert!(r.debugcon.starts_with("boot dl=00\n"), "{}", r.debugcon);
    // 720K: type 3, 9 sectors per track.
    assert!(
        r.debugcon.contains("bl=03 cx=4F09 dx=0101 spt=12"),
        "{}",
        r.debugcon
    );
    drop(r);
    // Nothing bootable at all: INT 18h prints and halts with interrupts off.
    let r = boot(|c| c.hda = Some(blank.clone()), b"");
    assert_eq!(r.exit, Exit::HaltedForever);
    assert!(
        r.serial.ends_with("No bootable device.\r\n"),
        "{:?}",
        r.serial
    );
}

#[test]
fn odd_sized_diskette_is_refused_in_one_line() {
    let dir = TempDir::new("badfd");
    let bad = dir.0.join("bad.img");
    std::fs::write(&bad, vec![0u8; 1_000_448]).unwrap();
    let mut cfg = Config::new(bios::ROM.to_vec());
    cfg.fda = Some(bad.clone());
    let err = Machine::new(cfg).err().expect("refused").to_string();
    assert!(err.contains("not a diskette size"), "{err}");
    let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(env!("CARGO_BIN_EXE_rx86"))
        .args(["run", "--serial", "none", "--debugcon", "none", "--fda"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad.img") && stderr.contains("diskette"),
        "{stderr}"
    );
}

#[test]
fn keyboard_irq_to_int16_block_move_a20_midnight() {
    let dir = TempDir::new("kbd");
    let hda = image(&dir.0, "bios_kbd", 1 << 20, &[]);
    let r = boot(|c| c.hda = Some(hda.clone()), b"");
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    let lines: Vec<&str> = r.debugcon.lines().collect();
    assert_eq!(
        lines,
        [
            // Caps Lock is on after the keys.
            "shift flags=40",
            "key=1E41", // Shift+a
            "key=3062", // b
            "key=2E03", // Ctrl+c
            "key=2044", // d under Caps Lock
            "key=48E0", // gray Up, extended form
            "key=3B00", // F1
            "block move moved ok ah=00 cf=0",
            "a20 off al=00 ah=00 cf=0",
            "a20 on al=01 ah=00 cf=0",
            // The tick count passed 1800B0h: midnight flag, count restarted from 0.
            "midnight al=01 cx=0000",
            // Init returns LSR (THRE, TEMT) and MSR (DCD, DSR, CTS from the host side,
            // no deltas); after the send the byte is shifting out (THRE, not TEMT); the
            // receive times out; port 7 does not exist.
            "com init ax=60B0 send ah=20 recv ah=80 bad port ah=80",
        ]
    );
    assert!(r.serial.ends_with('Z'), "{:?}", r.serial);
}

/// An ISO 9660 image with an El Torito boot catalog (El Torito 1.0 §2) whose initial
/// entry is a no-emulation image: bios_cdboot at LBA 21, "cd-ok" at LBA 25.
fn el_torito_iso(dir: &Path) -> PathBuf {
    const S: usize = 2048;
    let mut iso = vec![0u8; 32 * S];
    let brvd = &mut iso[17 * S..18 * S];
    brvd[0] = 0;
    brvd[1..6].copy_from_slice(b"CD001");
    brvd[6] = 1;
    brvd[7..7 + 23].copy_from_slice(b"EL TORITO SPECIFICATION");
    brvd[0x47..0x4b].copy_from_slice(&20u32.to_le_bytes());
    let cat = &mut iso[20 * S..21 * S];
    cat[0] = 1;
    cat[4..8].copy_from_slice(b"rx86");
    cat[0x1e] = 0x55;
    cat[0x1f] = 0xaa;
    let sum = cat[..32].chunks_exact(2).fold(0u16, |s, w| {
        s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    cat[0x1c..0x1e].copy_from_slice(&sum.wrapping_neg().to_le_bytes());
    cat[32] = 0x88;
    cat[32 + 6..32 + 8].copy_from_slice(&4u16.to_le_bytes());
    cat[32 + 8..32 + 12].copy_from_slice(&21u32.to_le_bytes());
    let boot = std::fs::read(rom_dir().join("bios_cdboot.bin")).unwrap();
    iso[21 * S..21 * S + boot.len()].copy_from_slice(&boot);
    iso[25 * S..25 * S + 6].copy_from_slice(b"cd-ok\0");
    let path = dir.join("boot.iso");
    std::fs::write(&path, &iso).unwrap();
    path
}

#[test]
fn el_torito_cd_boot_and_int13_extensions_on_the_cd() {
    let dir = TempDir::new("cd");
    let iso = el_torito_iso(&dir.0);
    let r = boot(|c| c.cdrom = Some(iso.clone()), b"");
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    let lines: Vec<&str> = r.debugcon.lines().collect();
    assert_eq!(
        lines,
        [
            "cd boot dl=E0",
            "ext bx=AA55 ah=30 cf=0",
            "sectors=00000020 bps=0800 ah=00 cf=0",
            "read ah=00 cf=0",
            "cd-ok",
            "write ah=03 cf=1",
            "chs ah=01 cf=1",
            "spec drive=E0 rba=00000015 ah=00 cf=0",
        ]
    );
}

#[test]
fn shutdown_status_0ah_resumes_after_a_reset() {
    let dir = TempDir::new("resume");
    let fda = image(&dir.0, "bios_resume", 368_640, &[]);
    let r = boot(
        |c| {
            c.fda = Some(fda.clone());
            c.no_reboot = false;
        },
        b"",
    );
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    assert_eq!(r.debugcon, "resetting\nresumed cmos0f=00\n");
    assert_eq!(r.machine.resets, 1);
    // No second POST: the banner was printed once.
    assert_eq!(r.serial.matches("rx86 BIOS").count(), 1, "{:?}", r.serial);
}

#[test]
fn direct_kernel_boot_gets_pci_set_up() {
    let mut cfg = Config::new(bios::ROM.to_vec());
    cfg.kernel = Some(rom_dir().join("multiboot.bin"));
    let m = Machine::new(cfg).expect("machine");
    let pci = m.board.pci.borrow();
    assert_eq!(pci.ide_bm_base(), Some(0xc000));
    assert!(pci.ide_bus_master_enabled());
    assert_eq!(pci.pirq_routes(), [Some(10), Some(11), Some(10), Some(11)]);
}

#[test]
fn rx86_run_with_a_disk_uses_the_built_in_bios() {
    let dir = TempDir::new("cli");
    let fda = image(&dir.0, "bios_floppy", 1_474_560, &[(54, "floppy-ok")]);
    let (dcon, ser) = (dir.0.join("debugcon.txt"), dir.0.join("serial.txt"));
    let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(env!("CARGO_BIN_EXE_rx86"))
        .args(["run", "--deterministic", "--snapshot", "--fda"])
        .arg(&fda)
        .arg("--debugcon")
        .arg(format!("file:{}", dcon.display()))
        .arg("--serial")
        .arg(format!("file:{}", ser.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let d = std::fs::read_to_string(&dcon).unwrap();
    assert!(
        d.starts_with("boot dl=00\n") && d.contains("floppy-ok"),
        "{d}"
    );
    let s = std::fs::read_to_string(&ser).unwrap();
    assert!(s.starts_with("rx86 BIOS\r\n128 MiB RAM\r\n"), "{s:?}");
}

#[test]
fn int10_text_services_and_scrolling() {
    let dir = TempDir::new("video");
    let fda = image(&dir.0, "bios_video", 1_474_560, &[]);
    let r = boot(|c| c.fda = Some(fda.clone()), b"");
    assert_eq!(
        r.exit,
        Exit::ExitDevice(1),
        "{}\n{}",
        r.debugcon,
        r.machine.dump_state()
    );
    let lines: Vec<&str> = r.debugcon.lines().collect();
    assert_eq!(
        lines,
        [
            "mode ax=5003 bh=00",
            // AH=0Ah replaced the character and kept the attribute AH=09h wrote.
            "read ax=1E79",
            "after 13h dx=0408",
            // After scrolling rows 2-4 up: row 3 holds the string, row 4 is blank 70h.
            " 2F48 7020",
            "dcc al=1A bx=0008",
            // 30 lines from row 24: the cursor stays on the last row.
            "end dx=1800",
        ]
    );
    let mut m = r.machine;
    let row = |m: &mut Machine, n: u32| -> String {
        let b = m.cpu.mmu.phys.dump(0xb8000 + n * 160, 160);
        b.iter()
            .step_by(2)
            .map(|&c| c as char)
            .collect::<String>()
            .trim_end()
            .to_string()
    };
    assert_eq!(row(&mut m, 0), "line 06");
    assert_eq!(row(&mut m, 23), "line 29");
    assert_eq!(row(&mut m, 24), "");
    // Teletype went to COM1 as well, lines intact.
    assert!(
        r.serial.contains("line 00\r\nline 01\r\n"),
        "{:?}",
        r.serial
    );
    assert!(r.serial.contains("Hi there"), "{:?}", r.serial);
}

/// SYSLINUX from Debian on a FAT disk image (`scripts/debian-guest.sh --syslinux` builds
/// guests/boot.img; skipped without it) loads the kernel and initrd through INT 13h
/// (EDD 41h/42h/48h and 08h) and the kernel's real-mode setup gets its E820 map and EDD
/// data and enters protected mode.
#[test]
fn syslinux_image_loads_the_kernel() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/boot.img");
    if !src.exists() {
        eprintln!("skipped: guests/boot.img is absent (scripts/debian-guest.sh --syslinux)");
        return;
    }
    let dir = TempDir::new("syslinux");
    let img = dir.0.join("boot.img");
    std::fs::copy(&src, &img).unwrap();
    let r = boot(
        |c| {
            c.hda = Some(img.clone());
            c.snapshot = true;
            c.memory_mb = 128;
            c.max_instructions = Some(40_000_000);
        },
        b"",
    );
    assert_eq!(r.exit, Exit::Budget);
    for want in [
        "SYSLINUX",
        "Loading vmlinuz... ok",
        "Loading initrd.gz...ok",
        "Probing EDD (edd=off to disable)... ok",
    ] {
        assert!(r.serial.contains(want), "{want:?} missing: {:?}", r.serial);
    }
    assert!(r.machine.cpu.protected(), "{}", r.machine.dump_state());
}
