//! The state layout shared by the interpreter and translated code.
//!
//! Everything here is `#[repr(C)]` so that emitted host code can address fields by fixed
//! offsets. Field meanings follow the Intel SDM Vol. 3A: segment descriptor caches (§3.4.3),
//! EFLAGS (§2.3), control registers (§2.5).

/// General-purpose register numbers, in the order of the x86 ModRM encoding.
pub const EAX: usize = 0;
pub const ECX: usize = 1;
pub const EDX: usize = 2;
pub const EBX: usize = 3;
pub const ESP: usize = 4;
pub const EBP: usize = 5;
pub const ESI: usize = 6;
pub const EDI: usize = 7;

/// Segment register numbers, in the order of the x86 Sreg encoding.
pub const ES: usize = 0;
pub const CS: usize = 1;
pub const SS: usize = 2;
pub const DS: usize = 3;
pub const FS: usize = 4;
pub const GS: usize = 5;

/// A segment register with its hidden descriptor cache.
///
/// `attr` holds the descriptor's access byte in bits 0..8 (type, S, DPL, P) and the
/// flags nibble in bits 12..16 (AVL, L, D/B, G) — the layout LAR returns, shifted right
/// by 8. `limit` is the byte-granular limit (already scaled when G=1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub selector: u16,
    pub attr: u16,
    pub base: u32,
    pub limit: u32,
}

/// A descriptor-table register (GDTR, IDTR).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableReg {
    pub base: u32,
    pub limit: u32,
}

/// Deferred arithmetic-flag state: the last flag-writing operation and its operands.
///
/// When `op` is 0 the six arithmetic flags live in `CpuState::eflags`; otherwise they are
/// a function of (`op`, `dst`, `src`, `res`, `aux`) and `eflags` holds only the others.
/// The encoding of `op` belongs to the interpreter's `cpu::flags` module.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LazyFlags {
    pub op: u32,
    pub dst: u32,
    pub src: u32,
    pub res: u32,
    pub aux: u32,
}

/// An 80-bit extended-precision value (Intel SDM Vol. 1 §4.2.2): a 64-bit significand
/// with an explicit integer bit, and the sign (bit 15) with a 15-bit biased exponent.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ext80 {
    pub signif: u64,
    pub sign_exp: u16,
}

/// The x87 FPU state (SDM Vol. 1 §8.1): the eight physical data registers R0-R7 (ST(i)
/// is R((TOP + i) mod 8); MMX registers alias their significands), control, status
/// (TOP in bits 11-13) and the full tag word (two bits per physical register), and the
/// last-instruction pointers.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FpuState {
    pub regs: [Ext80; 8],
    pub fcw: u16,
    pub fsw: u16,
    pub ftw: u16,
    pub fop: u16,
    pub fip: u32,
    pub fcs: u16,
    pub fdp: u32,
    pub fds: u16,
}

impl Default for FpuState {
    /// The power-on state (SDM Vol. 3A Table 9-1): FCW 0040h, FSW 0, FTW 5555h (every
    /// register tagged zero) with +0.0 in R0-R7.
    fn default() -> Self {
        Self {
            regs: [Ext80::default(); 8],
            fcw: 0x0040,
            fsw: 0,
            ftw: 0x5555,
            fop: 0,
            fip: 0,
            fcs: 0,
            fdp: 0,
            fds: 0,
        }
    }
}

/// The architectural state of one CPU.
#[repr(C)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuState {
    pub regs: [u32; 8],
    pub eip: u32,
    /// EFLAGS; the arithmetic flags are stale while `lazy.op != 0`.
    pub eflags: u32,
    pub lazy: LazyFlags,
    pub seg: [Segment; 6],
    pub ldtr: Segment,
    pub tr: Segment,
    pub gdtr: TableReg,
    pub idtr: TableReg,
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
    pub dr: [u32; 8],
    /// Current privilege level (0 in real mode, 3 in virtual-8086 mode).
    pub cpl: u32,
    pub tsc: u64,
    pub sysenter_cs: u32,
    pub sysenter_esp: u32,
    pub sysenter_eip: u32,
    pub fpu: FpuState,
    /// What translated code needs besides the architectural state (not guest-visible).
    pub jit: JitLink,
}

/// The link between translated code and the engine that runs it: the helper table, an
/// opaque context for the helpers, the shadow TLB's base, and the count of instructions
/// retired natively that the engine has not yet added to its total.
///
/// Addresses are stored as `usize` so that `CpuState` stays `Send` and `Default`; this
/// is engine bookkeeping, not guest state, so it never makes two states differ.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct JitLink {
    /// `*const HelperTable`.
    pub helpers: usize,
    /// Opaque context pointer handed back to nobody: helpers find it here.
    pub ctx: usize,
    /// `*const TlbEntry`: the shadow TLB, 1 Mi entries indexed by linear page number.
    pub tlb: usize,
    /// Instructions retired natively since the engine last collected them.
    pub native_retired: u32,
    /// Instructions blocks may still retire before returning to the engine: a block
    /// entered through a chained jump checks and lowers it first.
    pub budget: i32,
    /// Host address of the patchable jump of the exit a block left through (its rel32
    /// field), or 0: the engine links that exit straight to the next block.
    pub last_exit: usize,
}

impl PartialEq for JitLink {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for JitLink {}

/// Runs one guest instruction in the interpreter at `CpuState::eip`. `next_eip` is the
/// EIP the block continues at; the helper returns [`exit::CONTINUE`] when the
/// instruction completed there and nothing needs the run loop, another code otherwise.
pub type InterpOneFn = extern "C" fn(state: *mut CpuState, next_eip: u32) -> u32;
/// Evaluates condition code `cc` (Jcc's low nibble) from the state's flags: 0 or 1.
pub type CondFn = extern "C" fn(state: *mut CpuState, cc: u32) -> u32;
/// The current carry flag (evaluating the lazy record): 0 or 1.
pub type CarryFn = extern "C" fn(state: *mut CpuState) -> u32;

/// The services translated code calls, reached through `JitLink::helpers` so that blocks
/// hold no absolute host addresses.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct HelperTable {
    pub interp_one: InterpOneFn,
    pub cond: CondFn,
    pub carry: CarryFn,
}

/// Why a translated block returned to the engine (its return value).
pub mod exit {
    /// The block ran to its end; `CpuState::eip` holds the next EIP.
    pub const CONTINUE: u32 = 0;
    /// A helper asked for the run loop (fault delivered, code written, event pending, EIP
    /// moved elsewhere); `CpuState::eip` is exact.
    pub const EVENT: u32 = 1;
}

/// One shadow-TLB entry: a host page address with permission bits in its low 12 bits.
///
/// An entry grants an access when the bit for that access is set; a zero entry is a miss.
/// Translated code tests `entry & bit` and adds `lin & 0xfff` to `entry & !0xfff`.
pub type TlbEntry = usize;

/// Shadow-TLB permission bits.
pub mod tlb {
    pub const READ_SUPER: usize = 1 << 0;
    pub const WRITE_SUPER: usize = 1 << 1;
    pub const READ_USER: usize = 1 << 2;
    pub const WRITE_USER: usize = 1 << 3;
    /// The guest mapping is global (CR4.PGE): survives CR3 writes.
    pub const GLOBAL: usize = 1 << 4;
    pub const PAGE_MASK: usize = !0xfff;
}
