//! Real guests: Debian's i386 686 kernel with a busybox initramfs, as
//! `scripts/debian-guest.sh --disk` fetches and builds them into `guests/` (CI runs the
//! script first; see `.ci/run`). Without those files each test says so and returns.
//!
//! The boots take minutes under the interpreter; they run the release binary with a
//! host-time limit, through the serial console as a user would.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Host time a boot may take before the test gives up (the emulator's own
/// `--timeout` is a little longer, so a hang shows as the test's failure message).
const BOOT_LIMIT: Duration = Duration::from_secs(1500);

fn guest_file(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("guests")
        .join(name);
    p.exists().then_some(p)
}

/// The kernel and initrd, or None (with the reason printed) when they were not fetched.
fn guest() -> Option<(PathBuf, PathBuf)> {
    match (guest_file("vmlinuz"), guest_file("initrd.gz")) {
        (Some(k), Some(i)) => Some((k, i)),
        _ => {
            eprintln!(
                "SKIPPED: guests/vmlinuz or guests/initrd.gz missing; \
                 run scripts/debian-guest.sh --disk to fetch Debian's kernel and busybox"
            );
            None
        }
    }
}

/// A running rx86 whose serial console is this test's pipe.
struct Console {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    input: Option<std::process::ChildStdin>,
}

impl Console {
    fn boot(kernel: &Path, initrd: &Path, append: &str, extra: &[&str]) -> Console {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rx86"))
            .arg("run")
            .arg("--kernel")
            .arg(kernel)
            .arg("--initrd")
            .arg(initrd)
            .args(["--append", append, "--memory", "256", "--serial", "stdio"])
            .args(["--timeout", &(BOOT_LIMIT.as_secs() + 60).to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start rx86");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().expect("stdout");
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let input = child.stdin.take();
        Console {
            child,
            output,
            input,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until `needle` appears in the console output after byte `from`; returns
    /// the offset just past it.
    fn expect(&mut self, needle: &str, from: usize, limit: Instant) -> usize {
        loop {
            let text = self.text();
            if let Some(i) = text.get(from..).and_then(|t| t.find(needle)) {
                return from + i + needle.len();
            }
            if Instant::now() > limit || self.child.try_wait().ok().flatten().is_some() {
                let _ = self.child.kill();
                panic!("console never showed {needle:?}; output:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn type_line(&mut self, line: &str) {
        let input = self.input.as_mut().expect("console input");
        input.write_all(line.as_bytes()).expect("type");
        input.write_all(b"\n").expect("type");
        input.flush().expect("flush");
    }

    /// Waits for the emulator to exit and returns its status code.
    fn wait(&mut self, limit: Instant) -> Option<i32> {
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            if Instant::now() > limit {
                let _ = self.child.kill();
                panic!("rx86 did not exit; output:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The automated boot: /init prints the marker and powers off through ACPI.
#[test]
fn debian_kernel_boots_to_init_and_powers_off() {
    let Some((kernel, initrd)) = guest() else {
        return;
    };
    let limit = Instant::now() + BOOT_LIMIT;
    let mut con = Console::boot(&kernel, &initrd, "console=ttyS0 rx86.auto", &[]);
    con.expect("RX86-BOOT-OK", 0, limit);
    let status = con.wait(limit);
    let log = con.text();
    assert_eq!(status, Some(0), "guest power-off exits 0; log:\n{log}");
    // The devices as Linux found them.
    for needle in [
        "ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A",
        "rtc_cmos",
        "ACPI: PM-Timer IO Port: 0x608",
        "tsc: Detected",
        "reboot: Power down",
    ] {
        assert!(log.contains(needle), "boot log lacks {needle:?}:\n{log}");
    }
    for bad in ["no FPU", "Kernel panic", "BUG:", "Oops"] {
        assert!(!log.contains(bad), "boot log shows {bad:?}:\n{log}");
    }
}

/// The interactive shell on the serial console, driven through a pipe: it answers typed
/// commands and powers off when told to.
#[test]
fn debian_shell_answers_typed_commands() {
    let Some((kernel, initrd)) = guest() else {
        return;
    };
    let limit = Instant::now() + BOOT_LIMIT;
    let mut con = Console::boot(&kernel, &initrd, "console=ttyS0 rx86.shell", &[]);
    let at = con.expect("starting /bin/sh", 0, limit);
    let at = con.expect("# ", at, limit);
    // Arithmetic the shell must do itself, so an echo of the typed line cannot pass.
    con.type_line("echo answer-$((6 * 7))");
    con.expect("answer-42", at, limit);
    con.type_line("poweroff -f");
    let status = con.wait(limit);
    assert_eq!(status, Some(0), "log:\n{}", con.text());
}

/// The disk through Linux's own driver: `ata_piix` finds the `--hda` image, /init
/// mounts the ext2 file system, writes a file, unmounts and powers off; the file is in
/// the image afterwards.
#[test]
#[ignore = "open (issue 5): under the interpreter libata/ata_piix had not attached the \
            disk 100 s of guest time after scsi_mod loaded; run with --ignored"]
fn debian_writes_a_file_to_an_ext2_disk() {
    let Some((kernel, initrd)) = guest() else {
        return;
    };
    let Some(disk) = guest_file("disk.img") else {
        eprintln!("SKIPPED: guests/disk.img missing; run scripts/debian-guest.sh --disk");
        return;
    };
    let image = std::env::temp_dir().join(format!("rx86-linux-disk-{}.img", std::process::id()));
    std::fs::copy(&disk, &image).expect("copy the disk image");
    let limit = Instant::now() + BOOT_LIMIT;
    let hda = image.to_str().expect("utf-8 temp path");
    let mut con = Console::boot(&kernel, &initrd, "console=ttyS0 rx86.disk", &["--hda", hda]);
    con.expect("RX86-DISK-OK", 0, limit);
    let status = con.wait(limit);
    let log = con.text();
    assert_eq!(status, Some(0), "log:\n{log}");
    assert!(log.contains("ata_piix"), "ata_piix did not probe:\n{log}");

    // Read the file back out of the image with e2fsprogs' debugfs.
    let out = Command::new("debugfs")
        .args(["-R", "cat /rx86-was-here", hda])
        .output();
    std::fs::remove_file(&image).ok();
    let out = out.expect("debugfs (e2fsprogs) is needed to read the image back");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("written by the rx86 guest at uptime"),
        "{text}"
    );
}

/// The disk path: the built-in BIOS boots SYSLINUX from a FAT disk image, which loads
/// the same kernel and initramfs through BIOS services and starts it.
#[test]
fn debian_kernel_boots_from_a_syslinux_disk_through_the_bios() {
    let Some(boot) = guest_file("boot.img") else {
        eprintln!("SKIPPED: guests/boot.img missing; run scripts/debian-guest.sh --syslinux");
        return;
    };
    let limit = Instant::now() + BOOT_LIMIT;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rx86"))
        .args(["run", "--memory", "256", "--serial", "stdio", "--snapshot"])
        .args(["--timeout", &(BOOT_LIMIT.as_secs() + 60).to_string()])
        .arg("--hda")
        .arg(&boot)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start rx86");
    let mut stdout = child.stdout.take().expect("stdout");
    let output = Arc::new(Mutex::new(Vec::new()));
    let sink = output.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut con = Console {
        child,
        output,
        input: None,
    };
    let at = con.expect("SYSLINUX", 0, limit);
    let at = con.expect("Linux version", at, limit);
    con.expect("RX86-BOOT-OK", at, limit);
    let status = con.wait(limit);
    reader.join().ok();
    assert_eq!(status, Some(0), "log:\n{}", con.text());
}
