//! Test layer 2: every ROM in test-roms/ with a NAME.expected file runs to its exit
//! device and prints exactly the golden debug-console output (checked against QEMU and
//! the Intel SDM when the ROM was written; see test-roms/README.md).

mod common;

use common::{rom_dir, run_rom};
use rx86::Exit;

fn check(name: &str) {
    let dir = rom_dir();
    let rom = std::fs::read(dir.join(format!("{name}.bin"))).expect("ROM image");
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected"))).expect("golden");
    // The reset ROM reboots on purpose; --no-reboot would end the run at the first one.
    let (exit, out, m) = run_rom(rom, 500_000_000, name != "reset");
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

macro_rules! rom_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check(stringify!($name)); } )*
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
