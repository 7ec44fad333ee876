//! The serial console end to end: COM1 output reaches the serial sink, host input
//! reaches the guest through the console channel at the UART's line rate, and with
//! `--deterministic` two runs produce the same bytes even though the guest prints
//! timing-dependent values (RTC time, a PIT latch).

mod common;

use common::{rom_dir, Capture};
use rx86::machine::console::Input;
use rx86::{Config, Exit, Machine};

fn run_echo(input: &[u8], deterministic: bool) -> (Exit, String, String) {
    let rom = std::fs::read(rom_dir().join("echo.bin")).unwrap();
    let serial = Capture::default();
    let debugcon = Capture::default();
    let mut cfg = Config::new(rom);
    cfg.memory_mb = 16;
    cfg.deterministic = deterministic;
    cfg.serial_sink = Some(Box::new(serial.clone()));
    cfg.debugcon_sink = Some(Box::new(debugcon.clone()));
    cfg.max_instructions = Some(200_000_000);
    let mut m = Machine::new(cfg).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    for &b in input {
        tx.send(Input::Byte(b)).unwrap();
    }
    m.attach_input(rx);
    let exit = m.run();
    drop(m);
    let s = String::from_utf8_lossy(&serial.0.borrow()).into_owned();
    let d = String::from_utf8_lossy(&debugcon.0.borrow()).into_owned();
    (exit, s, d)
}

#[test]
fn console_input_reaches_the_guest_intact() {
    // A pasted line longer than the 16-byte FIFO: nothing may be lost.
    let line = b"the quick brown fox jumps over the lazy dog 0123456789\n";
    let (exit, serial, debugcon) = run_echo(line, false);
    assert_eq!(exit, Exit::ExitDevice(1));
    assert_eq!(debugcon.as_bytes(), line);
    assert!(serial.contains("ready\r\n"), "{serial:?}");
    assert!(serial.contains("the quick brown fox jumps over the lazy dog 0123456789"));
}

#[test]
fn deterministic_runs_print_the_same_bytes() {
    let a = run_echo(b"abc\n", true);
    let b = run_echo(b"abc\n", true);
    assert_eq!(a.0, Exit::ExitDevice(1));
    assert_eq!(a.1, b.1, "serial output differs between deterministic runs");
    // The fixed epoch of deterministic mode: 2026-01-01 00:00:00.
    assert!(a.1.starts_with("rtc 00:00:00\r\npit "), "{:?}", a.1);
}

#[test]
fn quit_escape_ends_the_run() {
    let rom = std::fs::read(rom_dir().join("echo.bin")).unwrap();
    let mut cfg = Config::new(rom);
    cfg.memory_mb = 16;
    cfg.max_instructions = Some(200_000_000);
    let mut m = Machine::new(cfg).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    tx.send(Input::Quit).unwrap();
    m.attach_input(rx);
    assert_eq!(m.run(), Exit::Quit);
}
