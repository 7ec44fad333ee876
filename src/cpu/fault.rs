//! Exceptions as data (Intel SDM Vol. 3A §6.3, Table 6-1). A guest fault is a value
//! returned through `Result`, never a panic.

/// A CPU exception raised while executing an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// #DE, divide error.
    De,
    /// #DB, debug exception raised as a fault (instruction breakpoint).
    Db,
    /// #BR, BOUND range exceeded.
    Br,
    /// #UD, invalid opcode.
    Ud,
    /// #NM, device not available.
    Nm,
    /// #DF, double fault.
    Df,
    /// #TS, invalid TSS, with error code.
    Ts(u16),
    /// #NP, segment not present, with error code.
    Np(u16),
    /// #SS, stack-segment fault, with error code.
    Ss(u16),
    /// #GP, general protection, with error code.
    Gp(u16),
    /// #PF, page fault: linear address (CR2) and error code.
    Pf { addr: u32, code: u32 },
    /// #MF, x87 floating-point error.
    Mf,
    /// #AC, alignment check.
    Ac,
}

impl Fault {
    /// The interrupt vector of this exception.
    pub fn vector(self) -> u8 {
        match self {
            Fault::De => 0,
            Fault::Db => 1,
            Fault::Br => 5,
            Fault::Ud => 6,
            Fault::Nm => 7,
            Fault::Df => 8,
            Fault::Ts(_) => 10,
            Fault::Np(_) => 11,
            Fault::Ss(_) => 12,
            Fault::Gp(_) => 13,
            Fault::Pf { .. } => 14,
            Fault::Mf => 16,
            Fault::Ac => 17,
        }
    }

    /// The error code pushed on delivery, if this exception has one.
    pub fn error_code(self) -> Option<u32> {
        match self {
            Fault::Df | Fault::Ac => Some(0),
            Fault::Ts(e) | Fault::Np(e) | Fault::Ss(e) | Fault::Gp(e) => Some(e as u32),
            Fault::Pf { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Contributory exceptions (SDM Table 6-4) combine into #DF.
    pub fn is_contributory(self) -> bool {
        matches!(
            self,
            Fault::De | Fault::Ts(_) | Fault::Np(_) | Fault::Ss(_) | Fault::Gp(_)
        )
    }
}

/// Result of anything that can raise a guest exception.
pub type Res<T> = Result<T, Fault>;
