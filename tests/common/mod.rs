//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

use rx86::{Config, Exit, Machine};

/// A `Write` sink whose bytes the test can read back.
#[derive(Clone, Default)]
pub struct Capture(pub Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn rom_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-roms")
}

/// Runs a ROM image to its end; returns the exit and the debug-console output.
pub fn run_rom(rom: Vec<u8>, max_instructions: u64, no_reboot: bool) -> (Exit, String, Machine) {
    run_rom_engine(
        rom,
        max_instructions,
        no_reboot,
        rx86::machine::Engine::Interp,
    )
}

/// `run_rom` on a chosen execution engine.
pub fn run_rom_engine(
    rom: Vec<u8>,
    max_instructions: u64,
    no_reboot: bool,
    engine: rx86::machine::Engine,
) -> (Exit, String, Machine) {
    let capture = Capture::default();
    let mut cfg = Config::new(rom);
    cfg.memory_mb = 64;
    cfg.debugcon_sink = Some(Box::new(capture.clone()));
    cfg.max_instructions = Some(max_instructions);
    cfg.no_reboot = no_reboot;
    // Device timing from retired instructions: the same output on a loaded machine.
    cfg.deterministic = true;
    cfg.engine = engine;
    let mut m = Machine::new(cfg).expect("machine");
    let exit = m.run();
    let out = String::from_utf8_lossy(&capture.0.borrow()).into_owned();
    (exit, out, m)
}
