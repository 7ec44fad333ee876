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
    let o = rx86(&[]);
    assert_eq!(o.status.code(), Some(1), "exit device status (0 << 1) | 1");
    assert!(String::from_utf8_lossy(&o.stdout).contains("rx86 demo ROM"));
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
