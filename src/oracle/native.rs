//! Runs oracle cases on the host CPU: an x86-64 Linux kernel runs 32-bit (i386) ELF
//! executables natively in compatibility mode, ring 3, with flat segments of base 0 —
//! the environment a case specifies. See [`super::elf`] for the image and its runner.

use super::elf::{self, OUT_SIZE};
use super::{Case, CaseState, Executor, DATA_SIZE};
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs cases natively, at most `batch_size` per runner process.
#[derive(Clone, Debug)]
pub struct NativeExecutor {
    pub batch_size: usize,
}

impl Default for NativeExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl NativeExecutor {
    pub fn new() -> Self {
        NativeExecutor { batch_size: 4096 }
    }

    /// Whether this host can run the native runner at all.
    pub fn host_supported() -> bool {
        cfg!(all(target_os = "linux", target_arch = "x86_64"))
    }
}

impl Executor for NativeExecutor {
    fn run_batch(&mut self, cases: &[Case]) -> Result<Vec<CaseState>, String> {
        if !Self::host_supported() {
            return Err("the native oracle needs an x86-64 Linux host".into());
        }
        let mut out = Vec::with_capacity(cases.len());
        for chunk in cases.chunks(self.batch_size.max(1)) {
            out.extend(run_process(chunk)?);
        }
        Ok(out)
    }
}

fn temp_path() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("rx86-oracle-{}-{n}.elf", std::process::id()))
}

/// Removes the executable when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn case_list(cases: &[Case]) -> String {
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    if names.len() <= 12 {
        names.join(", ")
    } else {
        format!("{}, ... ({} cases)", names[..12].join(", "), names.len())
    }
}

fn run_process(cases: &[Case]) -> Result<Vec<CaseState>, String> {
    let image = elf::build(cases)?;
    let file = TempFile(temp_path());
    std::fs::write(&file.0, &image).map_err(|e| format!("writing {}: {e}", file.0.display()))?;
    std::fs::set_permissions(&file.0, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("chmod {}: {e}", file.0.display()))?;

    // Another thread of this process may fork while our write descriptor is still open
    // in its child (until that child execs), which makes exec fail with ETXTBSY: retry.
    let mut tries = 0;
    let output = loop {
        match Command::new(&file.0).output() {
            Err(e) if e.kind() == ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(format!("running {}: {e}", file.0.display())),
            Ok(o) => break o,
        }
    };

    let records = output.stdout.len() / OUT_SIZE;
    if !output.status.success() || records != cases.len() {
        let how = match (output.status.signal(), output.status.code()) {
            (Some(sig), _) => format!("killed by signal {sig}"),
            (None, Some(code)) => format!("exited with status {code}"),
            _ => "ended abnormally".to_string(),
        };
        let culprit = match cases.get(records) {
            Some(c) => format!(
                " while running case #{records} {}:\n{}",
                c.name,
                super::describe(c)
            ),
            None => String::new(),
        };
        return Err(format!(
            "native runner {how} after {records} of {} cases{culprit}\nbatch: {}",
            cases.len(),
            case_list(cases)
        ));
    }

    let mut states = Vec::with_capacity(cases.len());
    for rec in output.stdout.chunks_exact(OUT_SIZE) {
        let word = |i: usize| {
            u32::from_le_bytes([rec[4 * i], rec[4 * i + 1], rec[4 * i + 2], rec[4 * i + 3]])
        };
        let mut regs = [0u32; 8];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = word(i);
        }
        states.push(CaseState {
            regs,
            eflags: word(8),
            mem: rec[36..36 + DATA_SIZE].to_vec(),
        });
    }
    Ok(states)
}
