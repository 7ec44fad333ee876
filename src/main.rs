//! The `rx86` command line (clap only; everything else lives in the library).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rx86::machine::{console, load_rom, Config, Debugcon, Serial};
use rx86::Machine;

/// The demo guest that runs when rx86 is started without arguments.
/// The built-in demo guest: a 16 KiB disk image the built-in BIOS boots (see
/// test-roms/demo_disk.asm).
const DEMO_DISK: &[u8] = include_bytes!("../test-roms/demo_disk.bin");

#[derive(Parser)]
#[command(
    name = "rx86",
    version,
    about = "A pure-software 32-bit x86 PC emulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Boot a machine from a BIOS or test ROM.
    Run(Box<RunArgs>),
    /// Compare the interpreter with the host CPU on random instruction sequences.
    Oracle(OracleArgs),
}

#[derive(Parser)]
struct OracleArgs {
    /// Keep generating cases for this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    seconds: u64,
    /// Stop after this many cases instead (or earlier, when the time is up).
    #[arg(long, value_name = "N")]
    cases: Option<u64>,
    /// Generator seed; the same seed gives the same cases.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Parser)]
struct RunArgs {
    /// ROM image (64, 128 or 256 KiB) mapped below 4 GiB and 1 MiB; the CPU starts at
    /// F000:FFF0. Without it, the built-in BIOS runs when a disk, diskette, CD-ROM or
    /// kernel is given, and the built-in demo ROM otherwise.
    #[arg(long, value_name = "FILE")]
    bios: Option<PathBuf>,
    /// Guest RAM in MiB.
    #[arg(long, value_name = "MB", default_value_t = 128)]
    memory: u32,
    /// Debug console (port 0xE9): stdio, file:PATH or none.
    #[arg(long, value_name = "TARGET", default_value = "stdio")]
    debugcon: String,
    /// COM1 serial console: stdio, file:PATH or none.
    #[arg(long, value_name = "TARGET", default_value = "stdio")]
    serial: String,
    /// Print every write to the POST-code ports 0x80 and 0x190 on stderr.
    #[arg(long)]
    post_codes: bool,
    /// Stop after this many instructions (exit status 6).
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Exit on a triple fault (status 4) instead of resetting.
    #[arg(long)]
    no_reboot: bool,
    /// Print the CPU state on stderr when the run ends.
    #[arg(long)]
    dump_state: bool,
    /// Raw disk image for the primary master (IDE 0x1F0, IRQ14).
    #[arg(long, value_name = "FILE")]
    hda: Option<PathBuf>,
    /// Raw disk image for the primary slave.
    #[arg(long, value_name = "FILE")]
    hdb: Option<PathBuf>,
    /// ISO image for the ATAPI CD-ROM (secondary master, 0x170, IRQ15).
    #[arg(long, value_name = "FILE")]
    cdrom: Option<PathBuf>,
    /// Diskette image (360K, 720K, 1.2M, 1.44M or 2.88M), drive A: of the built-in BIOS.
    #[arg(long, value_name = "FILE")]
    fda: Option<PathBuf>,
    /// Keep disk writes in memory; image files are left untouched.
    #[arg(long)]
    snapshot: bool,
    /// Boot a Linux bzImage (boot protocol 2.02+) or a Multiboot kernel directly.
    #[arg(long, value_name = "FILE")]
    kernel: Option<PathBuf>,
    /// Initial ramdisk for --kernel (a Multiboot module for Multiboot kernels).
    #[arg(long, value_name = "FILE")]
    initrd: Option<PathBuf>,
    /// Kernel command line for --kernel.
    #[arg(long, value_name = "CMDLINE", default_value = "")]
    append: String,
    /// End the run after this many seconds of host time (exit status 10).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Derive virtual time from retired instructions (10 ns each) instead of the host
    /// clock, so two runs of the same guest behave identically.
    #[arg(long)]
    deterministic: bool,
    /// When the run ends, write the VGA text screen to FILE (UTF-8, one line per row).
    #[arg(long, value_name = "FILE")]
    screen_dump: Option<PathBuf>,
    /// Execution engine: interp (the reference interpreter), jit (translated blocks), or
    /// lockstep (both, compared block by block; stops at the first difference).
    #[arg(long, value_name = "ENGINE", default_value = "interp")]
    engine: rx86::machine::Engine,
    /// Print the engine's statistics on stderr when the run ends.
    #[arg(long)]
    stats: bool,
}

fn main() -> ExitCode {
    rx86::log::init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Run(args)) => *args,
        Some(Command::Oracle(args)) => return oracle(args),
        None => RunArgs::parse_from(["rx86"]),
    };
    match run(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("rx86: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: RunArgs) -> Result<i32, rx86::Error> {
    let boots_something =
        args.hda.is_some() || args.fda.is_some() || args.cdrom.is_some() || args.kernel.is_some();
    let rom = match &args.bios {
        Some(path) => load_rom(path)?,
        None => bios::ROM.to_vec(),
    };
    // Nothing to boot and no ROM of the user's: the built-in BIOS boots the demo disk,
    // from a temporary file that is gone once the machine holds it open (snapshot
    // mode, so nothing is written back).
    let demo = (args.bios.is_none() && !boots_something)
        .then(|| {
            let path = std::env::temp_dir().join(format!("rx86-demo-{}.img", std::process::id()));
            std::fs::write(&path, DEMO_DISK)
                .map(|()| path.clone())
                .map_err(|source| rx86::Error::ReadFile {
                    what: "demo disk image",
                    path,
                    source,
                })
        })
        .transpose()?;
    let mut cfg = Config::new(rom);
    cfg.memory_mb = args.memory;
    // The built-in firmware brings its ACPI tables; a `--bios` image brings its own.
    cfg.acpi = args.bios.is_none();
    cfg.debugcon = args.debugcon.parse::<Debugcon>()?;
    cfg.serial = args.serial.parse::<Serial>()?;
    cfg.post_codes = args.post_codes;
    cfg.max_instructions = args.max_instructions;
    cfg.no_reboot = args.no_reboot;
    cfg.deterministic = args.deterministic;
    cfg.screen_dump = args.screen_dump.clone();
    cfg.engine = args.engine;
    cfg.hda = args.hda.or(demo.clone());
    cfg.hdb = args.hdb;
    cfg.cdrom = args.cdrom;
    cfg.fda = args.fda;
    cfg.snapshot = args.snapshot || demo.is_some();
    cfg.kernel = args.kernel;
    cfg.initrd = args.initrd;
    cfg.append = args.append;
    cfg.timeout = args
        .timeout
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(std::time::Duration::from_secs_f64);
    let stdio_console = cfg.serial == Serial::Stdio;
    let machine = Machine::new(cfg);
    if let Some(path) = &demo {
        std::fs::remove_file(path).ok();
    }
    let mut machine = machine?;
    // The console: raw terminal while the guest runs (restored when `_raw` drops),
    // stdin forwarded to COM1.
    let _raw = stdio_console.then(console::RawTerminal::enter).flatten();
    rx86::log::set_raw_terminal(_raw.is_some());
    if stdio_console {
        machine.attach_input(console::spawn_stdin_reader());
    }
    let exit = machine.run();
    drop(_raw);
    rx86::log::set_raw_terminal(false);
    if !matches!(exit, rx86::Exit::ExitDevice(_)) {
        eprintln!("rx86: {}", exit.describe());
    }
    if let Some(report) = machine.divergence() {
        eprintln!("{report}");
    }
    if args.dump_state {
        eprintln!("{}", machine.dump_state());
    }
    if args.stats {
        match machine.stats_report() {
            Some(r) => eprintln!("rx86: {r}"),
            None => eprintln!("rx86: interp: {} instructions retired", machine.cpu.retired),
        }
    }
    // The guest has run: a dump that cannot be written turns the status into 2.
    if let Some(path) = &args.screen_dump {
        if let Err(e) = std::fs::write(path, machine.screen_text()) {
            eprintln!("rx86: cannot write screen dump {}: {e}", path.display());
            return Ok(2);
        }
    }
    Ok(exit.status())
}

fn oracle(args: OracleArgs) -> ExitCode {
    if !rx86::oracle::NativeExecutor::host_supported() {
        eprintln!("rx86: the oracle needs an x86-64 Linux host that runs 32-bit ELF programs");
        return ExitCode::from(2);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(args.seconds);
    match rx86::oracle::campaign(args.seed, args.cases, Some(deadline)) {
        Ok(c) => {
            for r in &c.reports {
                println!("{r}");
            }
            println!("{} cases, {} mismatches", c.cases, c.mismatches);
            ExitCode::from(if c.mismatches == 0 { 0 } else { 1 })
        }
        Err(e) => {
            eprintln!("rx86: oracle run failed: {e}");
            ExitCode::from(2)
        }
    }
}
