//! Direct kernel boot: a Multiboot v1 kernel (test-roms/multiboot.asm) loaded by
//! `--kernel` prints its boot state and exits through port 0xF4; bad kernel images are
//! one-line errors.

mod common;

use common::{rom_dir, Capture};
use rx86::{Config, Exit, Machine};

fn boot(kernel: &std::path::Path, append: &str) -> Result<(Exit, String), String> {
    let capture = Capture::default();
    let mut cfg = Config::new(std::fs::read(rom_dir().join("demo.bin")).unwrap());
    cfg.memory_mb = 64;
    cfg.kernel = Some(kernel.to_path_buf());
    cfg.append = append.to_string();
    cfg.debugcon_sink = Some(Box::new(capture.clone()));
    cfg.max_instructions = Some(10_000_000);
    let mut m = Machine::new(cfg).map_err(|e| e.to_string())?;
    let exit = m.run();
    let out = String::from_utf8_lossy(&capture.0.borrow()).into_owned();
    Ok((exit, out))
}

#[test]
fn multiboot_kernel_gets_the_promised_state() {
    let (exit, out) = boot(&rom_dir().join("multiboot.bin"), "hello multiboot").unwrap();
    let expected = std::fs::read_to_string(rom_dir().join("multiboot.expected")).unwrap();
    assert_eq!(out, expected);
    assert_eq!(exit, Exit::ExitDevice(1));
}

#[test]
fn unknown_kernel_formats_are_refused() {
    let path = std::env::temp_dir().join(format!("rx86-notakernel-{}", std::process::id()));
    std::fs::write(&path, vec![0x90u8; 10000]).unwrap();
    let err = boot(&path, "").unwrap_err();
    std::fs::remove_file(&path).ok();
    assert!(err.contains("neither a bzImage"), "{err}");
    assert!(err.contains("rx86-notakernel"), "names the file: {err}");
    let err = boot(std::path::Path::new("/nonexistent/vmlinuz"), "").unwrap_err();
    assert!(
        err.contains("cannot read kernel image /nonexistent/vmlinuz"),
        "{err}"
    );
}
