//! Test layer 2: every ROM in test-roms/ with a NAME.expected file runs to its exit
//! device and prints exactly the golden debug-console output (checked against QEMU and
//! the Intel SDM when the ROM was written; see test-roms/README.md).

mod common;

use common::{rom_dir, run_rom, run_rom_engine};
use rx86::machine::Engine;
use rx86::Exit;

fn check(name: &str) {
    check_on(name, Engine::Interp);
}

fn check_on(name: &str, engine: Engine) {
    let dir = rom_dir();
    let rom = std::fs::read(dir.join(format!("{name}.bin"))).expect("ROM image");
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected"))).expect("golden");
    // The reset ROM reboots on purpose; --no-reboot would end the run at the first one.
    let (exit, out, m) = run_rom_engine(rom, 500_000_000, name != "reset", engine);
    if let Some(report) = m.divergence() {
        panic!("{name}: {report}");
    }
    if out != expected {
        let line = out
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(out.lines().count().min(expected.lines().count()));
        panic!(
            "{name}: output differs from {name}.expected at line {}\n got: {:?}\nwant: {:?}\n{}",
            line + 1,
            out.lines().nth(line),
            expected.lines().nth(line),
            m.dump_state()
        );
    }
    assert_eq!(
        exit,
        Exit::ExitDevice(1),
        "{name}: ROM ends through the exit device"
    );
}

/// Each ROM runs under the interpreter (the test named after it), under the JIT
/// (`jit::NAME`) and in lockstep, every block in both engines (`lockstep::NAME`).
macro_rules! rom_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check(stringify!($name)); } )*
        mod jit {
            $( #[test] fn $name() { super::check_on(stringify!($name), super::Engine::Jit); } )*
        }
        mod lockstep {
            $( #[test] fn $name() {
                super::check_on(stringify!($name), super::Engine::Lockstep);
            } )*
        }
    };
}

rom_tests!(
    real_arith,
    pmode_enter,
    exceptions,
    exceptions_sdm,
    paging,
    rings,
    v86,
    task_switch,
    single_step,
    bench_loop,
    timer,
    uart,
    rtc,
    reset,
    fpu_mf,
    fpu_mf_sdm,
    fpu_nm,
    fpu_stack,
    fpu_stack_sdm,
    fpu_save,
    fpu_save_sdm,
    fpu_irq13,
    fpu_irq13_sdm,
    smc,
);

#[test]
fn every_golden_file_has_a_test() {
    let tested = [
        "real_arith",
        "pmode_enter",
        "exceptions",
        "exceptions_sdm",
        "paging",
        "rings",
        "v86",
        "task_switch",
        "single_step",
        "bench_loop",
        "timer",
        "uart",
        "rtc",
        "reset",
        "disk",
        "multiboot",
        "fpu_mf",
        "fpu_mf_sdm",
        "fpu_nm",
        "fpu_stack",
        "fpu_stack_sdm",
        "fpu_save",
        "fpu_save_sdm",
        "fpu_irq13",
        "fpu_irq13_sdm",
        "smc",
    ];
    for e in std::fs::read_dir(rom_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "expected") {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                tested.contains(&stem.as_str()),
                "{stem}.expected has no test in tests/roms.rs"
            );
        }
    }
}

#[test]
fn triple_fault_resets_or_stops() {
    let rom = std::fs::read(rom_dir().join("triple_fault.bin")).unwrap();
    let (exit, out, m) = run_rom(rom.clone(), 1_000_000, true);
    assert_eq!(exit, Exit::TripleFault);
    assert_eq!(out, "boot 01\n");
    // INT3 with a zero IVT limit: #GP, whose delivery fails too.
    assert_eq!(m.cpu.last_exception, Some(rx86::cpu::fault::Fault::Gp(0)));
    // Without --no-reboot, shutdown resets the CPU; RAM survives, so the ROM sees boot 2.
    let (exit, out, m) = run_rom(rom, 1_000_000, false);
    assert_eq!(exit, Exit::ExitDevice(1));
    assert_eq!(out, "boot 01\nboot 02\n");
    assert_eq!(m.resets, 1);
}

#[test]
fn demo_and_hello_print_and_exit() {
    for name in ["demo", "hello"] {
        let rom = std::fs::read(rom_dir().join(format!("{name}.bin"))).unwrap();
        let (exit, out, _) = run_rom(rom, 1_000_000, true);
        assert_eq!(exit, Exit::ExitDevice(1));
        assert!(out.ends_with("12345678\n"), "{name}: {out:?}");
    }
}

/// A 1 MiB image in which sector n starts with the dword n and is otherwise n & 0xFF.
fn test_image(path: &std::path::Path) -> Vec<u8> {
    let mut img = Vec::with_capacity(2048 * 512);
    for n in 0u32..2048 {
        let mut s = vec![n as u8; 512];
        s[..4].copy_from_slice(&n.to_le_bytes());
        img.extend_from_slice(&s);
    }
    std::fs::write(path, &img).unwrap();
    img
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rx86-{name}-{}.img", std::process::id()))
}

fn run_disk_rom(image: &std::path::Path, snapshot: bool) -> (Exit, String) {
    let rom = std::fs::read(rom_dir().join("disk.bin")).unwrap();
    let capture = common::Capture::default();
    let mut cfg = rx86::Config::new(rom);
    cfg.memory_mb = 64;
    cfg.debugcon_sink = Some(Box::new(capture.clone()));
    cfg.max_instructions = Some(50_000_000);
    cfg.deterministic = true;
    cfg.hda = Some(image.to_path_buf());
    cfg.snapshot = snapshot;
    let mut m = rx86::Machine::new(cfg).unwrap();
    let exit = m.run();
    drop(m);
    let out = String::from_utf8_lossy(&capture.0.borrow()).into_owned();
    (exit, out)
}

#[test]
fn disk_pio_and_dma_writes_reach_the_image() {
    let path = temp("disk");
    let mut want = test_image(&path);
    let (exit, out) = run_disk_rom(&path, false);
    let expected = std::fs::read_to_string(rom_dir().join("disk.expected")).unwrap();
    assert_eq!(out, expected);
    assert_eq!(exit, Exit::ExitDevice(1));
    want[10 * 512..11 * 512].copy_from_slice(&b"RX86".repeat(128));
    want[30 * 512..32 * 512].copy_from_slice(&b"DMA!".repeat(256));
    let got = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(got == want, "image holds exactly the PIO and DMA writes");
}

#[test]
fn snapshot_leaves_the_image_untouched() {
    let path = temp("snapshot");
    let want = test_image(&path);
    let (exit, out) = run_disk_rom(&path, true);
    assert_eq!(exit, Exit::ExitDevice(1));
    assert!(out.contains("dma write status: 50"), "{out}");
    let got = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(got == want, "--snapshot must not write the image");
}

#[test]
fn flushed_data_survives_a_killed_emulator() {
    use std::io::Read;
    let path = temp("kill");
    test_image(&path);
    let rom = rom_dir().join("disk_hang.bin");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rx86"))
        .args(["run", "--serial", "none", "--memory", "64", "--bios"])
        .arg(&rom)
        .arg("--hda")
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the guest to report its FLUSH CACHE, then kill -9: no clean exit.
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("flushed\n") {
        if out.read(&mut byte).unwrap() == 0 {
            break;
        }
        seen.push(byte[0]);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let got = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert!(String::from_utf8_lossy(&seen).contains("flush cache status: 50"));
    assert_eq!(&got[10 * 512..11 * 512], &b"RX86".repeat(128)[..]);
}

#[test]
fn missing_or_mis_sized_disk_is_a_clear_error() {
    let mut cfg = rx86::Config::new(std::fs::read(rom_dir().join("hello.bin")).unwrap());
    cfg.hda = Some("/nonexistent/disk.img".into());
    let err = rx86::Machine::new(cfg)
        .err()
        .expect("missing image refused")
        .to_string();
    assert!(err.contains("/nonexistent/disk.img"), "{err}");
    let path = temp("odd");
    std::fs::write(&path, vec![0u8; 1000]).unwrap();
    let mut cfg = rx86::Config::new(std::fs::read(rom_dir().join("hello.bin")).unwrap());
    cfg.hda = Some(path.clone());
    let err = rx86::Machine::new(cfg)
        .err()
        .expect("odd size refused")
        .to_string();
    assert!(err.contains("not a multiple of 512"), "{err}");
    // An ISO must be whole 2048-byte sectors.
    let mut cfg = rx86::Config::new(std::fs::read(rom_dir().join("hello.bin")).unwrap());
    cfg.cdrom = Some(path.clone());
    let err = rx86::Machine::new(cfg)
        .err()
        .expect("odd ISO refused")
        .to_string();
    std::fs::remove_file(&path).ok();
    assert!(err.contains("2048"), "{err}");
    // The same image as two read-write disks.
    let path = temp("twice");
    test_image(&path);
    let mut cfg = rx86::Config::new(std::fs::read(rom_dir().join("hello.bin")).unwrap());
    cfg.hda = Some(path.clone());
    cfg.hdb = Some(path.clone());
    let err = rx86::Machine::new(cfg)
        .err()
        .expect("double open refused")
        .to_string();
    std::fs::remove_file(&path).ok();
    assert!(err.contains("already open read-write"), "{err}");
}
