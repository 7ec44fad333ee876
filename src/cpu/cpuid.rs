//! CPUID (Intel SDM Vol. 2A, CPUID; AP-485). A P6-family processor reporting only what
//! rx86 implements.

/// Family 6, model 3, stepping 3 (a Pentium II): EDX at reset and CPUID.1:EAX.
pub const SIGNATURE: u32 = 0x0633;

/// CPUID.1:EDX feature bits.
pub mod feature {
    pub const FPU: u32 = 1 << 0;
    pub const PSE: u32 = 1 << 3;
    pub const TSC: u32 = 1 << 4;
    pub const MSR: u32 = 1 << 5;
    pub const CX8: u32 = 1 << 8;
    pub const SEP: u32 = 1 << 11;
    pub const PGE: u32 = 1 << 13;
    pub const CMOV: u32 = 1 << 15;
    pub const MMX: u32 = 1 << 23;
    pub const FXSR: u32 = 1 << 24;
}

pub const FEATURES: u32 = feature::FPU
    | feature::PSE
    | feature::TSC
    | feature::MSR
    | feature::CX8
    | feature::SEP
    | feature::PGE
    | feature::CMOV
    | feature::MMX
    | feature::FXSR;

const MAX_LEAF: u32 = 2;

/// EAX, EBX, ECX, EDX for leaf `eax`.
pub fn cpuid(eax: u32) -> [u32; 4] {
    // Beyond the highest leaf (basic or extended, which this CPU lacks) Intel CPUs answer
    // with the highest basic leaf.
    let leaf = if eax > MAX_LEAF { MAX_LEAF } else { eax };
    match leaf {
        // "GenuineIntel" in EBX, EDX, ECX.
        0 => [MAX_LEAF, 0x756e_6547, 0x6c65_746e, 0x4965_6e69],
        1 => [SIGNATURE, 0, 0, FEATURES],
        // One iteration; no cache or TLB descriptors reported.
        _ => [0x0000_0001, 0, 0, 0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_and_features() {
        let v = cpuid(0);
        let mut s = Vec::new();
        for r in [v[1], v[3], v[2]] {
            s.extend_from_slice(&r.to_le_bytes());
        }
        assert_eq!(&s, b"GenuineIntel");
        let edx = cpuid(1)[3];
        assert_eq!(
            edx & (feature::FPU | feature::MMX | feature::FXSR),
            feature::FPU | feature::MMX | feature::FXSR
        );
        assert_eq!(edx & (1 << 25), 0, "no SSE");
        assert_eq!(cpuid(0x8000_0000), cpuid(2));
    }
}
