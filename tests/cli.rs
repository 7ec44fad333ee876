//! The `rx86` command: documented exit statuses and one-line errors for bad input.

use std::process::{Command, Output};

fn rx86(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rx86"))
        .args(args)
        .output()
        .expect("run rx86")
}

fn rom(name: &str) -> String {
    format!("{}/test-roms/{name}.bin", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn no_arguments_runs_the_demo() {
    // The built-in BIOS boots the built-in demo disk; with no console input it waits
    // 5 s, then powers off through ACPI.
    let o = rx86(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "rx86 BIOS",
        "rx86 demo guest: boot sector loaded by the BIOS from the first hard disk",
        "INT 15h E801h says 128 MiB in all",
        "protected mode, paging on",
        "timer: 100 IRQ0 interrupts",
        "disk: sector 0 read through the ATA ports matches the boot sector",
        "no key for 5 s",
        "power off through ACPI (S5)",
    ] {
        assert!(out.contains(line), "demo output lacks {line:?}:\n{out}");
    }
    assert!(stderr(&o).contains("guest powered off"));
}

#[test]
fn demo_echoes_what_the_user_types() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rx86"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run rx86");
    let mut stdin = child.stdin.take().unwrap();
    // Held by the machine until the guest's UART takes it.
    stdin.write_all(b"hello rx86\rq\r").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("you typed: hello rx86"), "{out}");
    assert!(!out.contains("no key for 5 s"), "{out}");
}

#[test]
fn exit_device_status_and_debugcon_file() {
    let path = std::env::temp_dir().join(format!("rx86-debugcon-{}.txt", std::process::id()));
    let target = format!("file:{}", path.display());
    let o = rx86(&["run", "--bios", &rom("hello"), "--debugcon", &target]);
    assert_eq!(o.status.code(), Some(1));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(text, "hello from rx86\n12345678\n");
    assert!(o.stdout.is_empty());
}

#[test]
fn post_codes_are_printed() {
    let o = rx86(&[
        "run",
        "--bios",
        &rom("demo"),
        "--post-codes",
        "--debugcon",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("POST 0x80: 0x42"), "{}", stderr(&o));
}

#[test]
fn budget_triple_fault_and_dump() {
    let o = rx86(&[
        "run",
        "--bios",
        &rom("bench_loop"),
        "--max-instructions",
        "1000",
        "--dump-state",
    ]);
    assert_eq!(o.status.code(), Some(6));
    let e = stderr(&o);
    assert!(e.contains("instruction budget exhausted"), "{e}");
    assert!(
        e.contains("EIP=") && e.contains("CR0="),
        "state dump on request: {e}"
    );

    let o = rx86(&["run", "--bios", &rom("triple_fault"), "--no-reboot"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("triple fault"));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let dir = std::env::temp_dir();
    let small = dir.join(format!("rx86-small-{}.bin", std::process::id()));
    std::fs::write(&small, vec![0u8; 1000]).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), "--bios".into(), "/nonexistent/rom.bin".into()],
            "cannot read ROM image",
        ),
        (
            vec!["run".into(), "--bios".into(), small.display().to_string()],
            "must be 64, 128 or 256 KiB",
        ),
        (
            vec!["run".into(), "--memory".into(), "0".into()],
            "memory size 0 MiB is out of range",
        ),
        (
            vec!["run".into(), "--memory".into(), "4000".into()],
            "out of range",
        ),
        (
            vec!["run".into(), "--debugcon".into(), "tcp:1".into()],
            "bad --debugcon value",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = rx86(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    }
    std::fs::remove_file(&small).ok();
}

/// A 64 KiB ROM whose reset vector jumps to `code` at F000:0000.
fn rom_with_code(name: &str, code: &[u8]) -> std::path::PathBuf {
    let mut image = vec![0xf4u8; 64 << 10]; // HLT everywhere else
    image[..code.len()].copy_from_slice(code);
    image[0xfff0..0xfff5].copy_from_slice(&[0xea, 0x00, 0x00, 0x00, 0xf0]); // jmp f000:0000
    let path = std::env::temp_dir().join(format!("rx86-{name}-{}.bin", std::process::id()));
    std::fs::write(&path, image).unwrap();
    path
}

/// Writes three cells of text at B8000, sets the CRTC start address to cell 80 with
/// 16-bit OUTs to 3D4, reads the undecoded VGA port 3B0, and exits with status 1.
const VGA_ROM: &[u8] = &[
    0xb8, 0x00, 0xb8, // mov ax, 0xb800
    0x8e, 0xd8, // mov ds, ax
    0xc7, 0x06, 0x00, 0x00, 0x48, 0x07, // mov word [0], 0x0748      'H' in row 0
    0xc7, 0x06, 0xa0, 0x00, 0x69, 0x07, // mov word [0xa0], 0x0769   'i' in row 1
    0xc7, 0x06, 0xa2, 0x00, 0xc9, 0x1f, // mov word [0xa2], 0x1fc9   CP437 box corner
    0xba, 0xd4, 0x03, // mov dx, 0x3d4
    0xb8, 0x0c, 0x00, // mov ax, 0x000c  (CR0C = 0)
    0xef, // out dx, ax
    0xb8, 0x0d, 0x50, // mov ax, 0x500d  (CR0D = 80)
    0xef, // out dx, ax
    0xba, 0xb0, 0x03, // mov dx, 0x3b0
    0xec, // in al, dx
    0xb0, 0x00, // mov al, 0
    0xe6, 0xf4, // out 0xf4, al
    0xf4, // hlt
];

#[test]
fn screen_dump_writes_the_text_screen_at_exit() {
    let image = rom_with_code("vga-text", VGA_ROM);
    let dump = std::env::temp_dir().join(format!("rx86-screen-{}.txt", std::process::id()));
    let rom_s = image.display().to_string();
    let dump_s = dump.display().to_string();
    let o = rx86(&["run", "--bios", &rom_s, "--screen-dump", &dump_s]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = std::fs::read_to_string(&dump).unwrap();
    std::fs::remove_file(&dump).ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 25, "{text:?}");
    assert_eq!(lines[0], "i╔", "page starts at cell 80: {text:?}");
    assert!(!text.contains('H'), "row 0 of memory is above the page");
    assert!(lines[1..].iter().all(|l| l.is_empty()));

    // The dump is written after the run, also when the run ends another way.
    let o = rx86(&[
        "run",
        "--bios",
        &rom("bench_loop"),
        "--max-instructions",
        "1000",
        "--screen-dump",
        &dump_s,
    ]);
    assert_eq!(o.status.code(), Some(6));
    let text = std::fs::read_to_string(&dump).unwrap();
    std::fs::remove_file(&dump).ok();
    assert_eq!(text, "\n".repeat(25), "blank screen: 25 empty rows");

    // An unwritable path: the guest runs, then one line and status 2.
    let o = rx86(&[
        "run",
        "--bios",
        &rom_s,
        "--screen-dump",
        "/nonexistent-dir/screen.txt",
    ]);
    std::fs::remove_file(&image).ok();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.starts_with("rx86: cannot write screen dump /nonexistent-dir/screen.txt: "),
        "{e}"
    );
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
}

#[test]
fn rx86_log_prints_debug_events_on_request() {
    let rom = rom_with_code("vga-log", VGA_ROM);
    let rom_s = rom.display().to_string();
    let run = |log: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rx86"));
        cmd.args(["run", "--bios", &rom_s, "--debugcon", "none"]);
        match log {
            Some(spec) => cmd.env("RX86_LOG", spec),
            None => cmd.env_remove("RX86_LOG"),
        };
        cmd.output().expect("run rx86")
    };
    let line = "DEBUG devices::vga: vga: read from an undecoded port port=944";
    let o = run(Some("debug"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).lines().any(|l| l == line), "{}", stderr(&o));
    let o = run(None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        !stderr(&o).contains("DEBUG"),
        "default is warn: {}",
        stderr(&o)
    );
    let o = run(Some("debug,devices::vga=info"));
    assert!(!stderr(&o).contains("devices::vga"), "most specific wins");
    let o = run(Some("loud"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "a bad spec does not stop the run");
    assert!(e.starts_with("rx86: invalid RX86_LOG \"loud\""), "{e}");
    assert!(!e.contains("DEBUG"), "falls back to warn: {e}");
    std::fs::remove_file(&rom).ok();
}
