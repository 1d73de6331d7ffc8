//! FMA datapaths of the common server and client cores, looked up from the CPU's vendor,
//! family and model (x86 `/proc/cpuinfo`) or implementer and part (Arm), so that a
//! theoretical peak does not depend on guessing from feature flags alone.
//!
//! Each entry gives FMA units per core and the width of each unit. Where the same family
//! and model ship with one or two 512-bit units depending on SKU (Skylake-SP and Cascade
//! Lake), the SKU is read from the model name when it says so, and the result is otherwise
//! a range, not a number. Sources: Intel's optimization reference manual (ports 0/1/5
//! FMA), Intel ARK's "# of AVX-512 FMA Units" per SKU, AMD's software optimization guides
//! for families 17h, 19h and 1Ah, and Arm's Neoverse software optimization guides.

/// What identifies a core's microarchitecture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuIdent {
    /// `GenuineIntel`, `AuthenticAMD`, or `arm` for an Arm implementer.
    pub vendor: String,
    /// x86 family (decimal, as `/proc/cpuinfo` prints it).
    pub family: Option<u32>,
    /// x86 model (decimal), or the Arm part number.
    pub model: Option<u32>,
    /// The marketing name (`model name`), used for Intel SKU tiers.
    pub model_name: String,
}

impl CpuIdent {
    /// Reads the identification from the text of `/proc/cpuinfo`.
    pub fn from_cpuinfo(cpuinfo: &str) -> CpuIdent {
        let field = |key: &str| {
            cpuinfo.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
        };
        let number = |text: Option<String>| {
            text.and_then(|t| match t.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => t.parse().ok(),
            })
        };
        if let Some(implementer) = number(field("CPU implementer")) {
            return CpuIdent {
                vendor: if implementer == 0x41 {
                    "arm".into()
                } else {
                    format!("arm-implementer-{implementer:#x}")
                },
                family: None,
                model: number(field("CPU part")),
                model_name: field("model name").unwrap_or_default(),
            };
        }
        CpuIdent {
            vendor: field("vendor_id").unwrap_or_default(),
            family: number(field("cpu family")),
            model: number(field("model")),
            model_name: field("model name").unwrap_or_default(),
        }
    }
}

/// A core's FMA datapath: `units` FMA pipes of `width_bits` each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmaDatapath {
    /// Microarchitecture name (`Zen 4`, `Sapphire Rapids`, ...).
    pub name: String,
    /// FMA units per core.
    pub units: u64,
    /// Width of one unit in bits.
    pub width_bits: u64,
    /// Why this entry, in a sentence (stored beside the value in `meta.json`).
    pub basis: String,
}

impl FmaDatapath {
    /// FLOP per cycle per core for elements of `element_bits` (an FMA counts as 2 FLOP).
    pub fn flops_per_cycle(&self, element_bits: u64) -> u64 {
        self.units * (self.width_bits / element_bits) * 2
    }

    /// The datapath as the binary can use it when its widest vector ISA is `isa_bits` (a VM
    /// may hide AVX-512): every x86 core listed has two FMA pipes at 256 bits.
    pub fn usable_at(&self, isa_bits: u64) -> Option<FmaDatapath> {
        if isa_bits >= self.width_bits {
            return Some(self.clone());
        }
        if isa_bits >= 128 {
            let units = (self.units * self.width_bits / isa_bits).min(2);
            return Some(FmaDatapath {
                name: self.name.clone(),
                units,
                width_bits: isa_bits,
                basis: format!(
                    "{}; the binary's widest vector ISA here is {isa_bits}-bit, so {units} × {isa_bits}-bit",
                    self.basis
                ),
            });
        }
        None
    }
}

/// The lookup's answer: a datapath, a range the SKU leaves open, or nothing known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// One datapath.
    Known(FmaDatapath),
    /// Known family, but the unit count varies by SKU and the model name does not say.
    Range {
        /// Microarchitecture.
        name: String,
        /// Fewest and most units per core.
        units: (u64, u64),
        /// Width of one unit in bits.
        width_bits: u64,
        /// Why it is a range.
        reason: String,
    },
    /// Not in the table.
    Unknown(String),
}

fn known(name: &str, units: u64, width_bits: u64, basis: &str) -> Lookup {
    Lookup::Known(FmaDatapath {
        name: name.into(),
        units,
        width_bits,
        basis: format!("{name}: {units} × {width_bits}-bit FMA per core ({basis})"),
    })
}

/// Looks the core up in the table.
pub fn lookup(cpu: &CpuIdent) -> Lookup {
    match cpu.vendor.as_str() {
        "AuthenticAMD" | "HygonGenuine" => amd(cpu),
        "GenuineIntel" => intel(cpu),
        "arm" => arm(cpu),
        other => Lookup::Unknown(format!("vendor {other:?} is not in braingap's microarchitecture table")),
    }
}

fn amd(cpu: &CpuIdent) -> Lookup {
    let (Some(family), Some(model)) = (cpu.family, cpu.model) else {
        return Lookup::Unknown("/proc/cpuinfo gives no cpu family and model".into());
    };
    let guide = "AMD software optimization guide";
    match (family, model) {
        // Zen and Zen+: two 128-bit FMA pipes, 256-bit AVX split in two.
        (0x17, 0x00..=0x2f) => known("Zen/Zen+", 2, 128, guide),
        (0x17, _) => known("Zen 2", 2, 256, guide),
        (0x18, _) => known("Zen (Hygon Dhyana)", 2, 128, guide),
        // Family 19h: Zen 3 (Milan 01h, Vermeer 21h, Rembrandt 44h, Cezanne 50h) and Zen 4
        // (Genoa 11h, Raphael 61h, Phoenix 74h-78h, Bergamo/Siena A0h): AVX-512 on Zen 4
        // executes on the same two 256-bit FMA pipes, one 512-bit op in two passes.
        (0x19, 0x00..=0x0f | 0x20..=0x5f) => known("Zen 3", 2, 256, guide),
        (0x19, 0x10..=0x1f | 0x60..=0x7f | 0xa0..=0xaf) => known(
            "Zen 4",
            2,
            256,
            "AVX-512 double-pumped on 256-bit pipes; AMD software optimization guide for family 19h",
        ),
        // Family 1Ah, Zen 5: full 512-bit datapath on server (Turin 00h-1Fh) and desktop
        // (Granite Ridge 40h-4Fh) parts; mobile parts (Strix 20h-2Fh, Krackan 60h-7Fh) keep
        // 256-bit pipes.
        (0x1a, 0x00..=0x1f | 0x40..=0x4f) => known("Zen 5", 2, 512, "AMD software optimization guide for family 1Ah"),
        (0x1a, 0x20..=0x2f | 0x60..=0x7f) => known(
            "Zen 5 (mobile)",
            2,
            256,
            "AMD software optimization guide for family 1Ah",
        ),
        _ => Lookup::Unknown(format!(
            "AMD family {family:#x} model {model:#x} is not in braingap's microarchitecture table"
        )),
    }
}

/// Intel Xeon Scalable 1st/2nd generation SKUs: Platinum, Gold 6xxx and Xeon W have two
/// 512-bit FMA units; Gold 5xxx (but 5122), Silver and Bronze one (Intel ARK).
fn skylake_sp_units(model_name: &str) -> Option<u64> {
    let name = model_name.to_ascii_lowercase();
    if name.contains("platinum") || name.contains(" w-") {
        return Some(2);
    }
    if name.contains("silver") || name.contains("bronze") {
        return Some(1);
    }
    let gold = name.split("gold").nth(1)?;
    let number: String = gold.trim().chars().take_while(|c| c.is_ascii_digit()).collect();
    match number.as_str() {
        "5122" => Some(2),
        n if n.starts_with('6') => Some(2),
        n if n.starts_with('5') => Some(1),
        _ => None,
    }
}

fn intel(cpu: &CpuIdent) -> Lookup {
    let (Some(family), Some(model)) = (cpu.family, cpu.model) else {
        return Lookup::Unknown("/proc/cpuinfo gives no cpu family and model".into());
    };
    if family != 6 {
        return Lookup::Unknown(format!(
            "Intel family {family} is not in braingap's microarchitecture table"
        ));
    }
    let manual = "Intel 64 and IA-32 optimization reference manual";
    match model {
        0x3c | 0x3f | 0x45 | 0x46 => known("Haswell", 2, 256, manual),
        0x3d | 0x47 | 0x4f | 0x56 => known("Broadwell", 2, 256, manual),
        0x4e | 0x5e | 0x8e | 0x9e | 0xa5 | 0xa6 => known("Skylake (client)", 2, 256, manual),
        0x55 => match skylake_sp_units(&cpu.model_name) {
            Some(units) => known(
                "Skylake-SP/Cascade Lake",
                units,
                512,
                &format!("SKU tier read from the model name {:?}; Intel ARK", cpu.model_name),
            ),
            None => Lookup::Range {
                name: "Skylake-SP/Cascade Lake".into(),
                units: (1, 2),
                width_bits: 512,
                reason: format!(
                    "Skylake-SP/Cascade Lake has one or two 512-bit FMA units by SKU, and the model name {:?} does not say which",
                    cpu.model_name
                ),
            },
        },
        // Client AVX-512 cores fuse ports 0 and 1 into one 512-bit FMA.
        0x66 | 0x7d | 0x7e | 0x8c | 0x8d | 0xa7 => known("Ice Lake/Tiger Lake/Rocket Lake (client)", 1, 512, manual),
        0x6a | 0x6c => known("Ice Lake-SP", 2, 512, "Intel ARK: two AVX-512 FMA units on 3rd-generation Xeon Scalable"),
        0x8f => known("Sapphire Rapids", 2, 512, manual),
        0xcf => known("Emerald Rapids", 2, 512, manual),
        0xad | 0xae => known("Granite Rapids", 2, 512, manual),
        // Hybrid client parts: P-cores with AVX-512 fused off.
        0x97 | 0x9a | 0xb7 | 0xba | 0xbf | 0xaa | 0xac | 0xc5 | 0xc6 | 0xbd => {
            known("Alder Lake and later (hybrid client, P-core)", 2, 256, manual)
        }
        _ => Lookup::Unknown(format!("Intel family 6 model {model:#x} is not in braingap's microarchitecture table")),
    }
}

fn arm(cpu: &CpuIdent) -> Lookup {
    let Some(part) = cpu.model else {
        return Lookup::Unknown("/proc/cpuinfo gives no CPU part".into());
    };
    let guide = "Arm Neoverse software optimization guide";
    match part {
        0xd0c => known("Neoverse N1", 2, 128, guide),
        0xd49 => known("Neoverse N2", 2, 128, guide),
        0xd40 => known("Neoverse V1", 4, 128, guide),
        0xd4f => known("Neoverse V2", 4, 128, guide),
        _ => Lookup::Unknown(format!(
            "Arm part {part:#x} is not in braingap's microarchitecture table"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x86(vendor: &str, family: u32, model: u32, name: &str) -> CpuIdent {
        CpuIdent {
            vendor: vendor.into(),
            family: Some(family),
            model: Some(model),
            model_name: name.into(),
        }
    }

    fn f32_flops_per_cycle(cpu: &CpuIdent, isa_bits: u64) -> Option<u64> {
        match lookup(cpu) {
            Lookup::Known(d) => d.usable_at(isa_bits).map(|d| d.flops_per_cycle(32)),
            _ => None,
        }
    }

    // Hand-worked: units × (width ÷ 32 bits) × 2 FLOP per FMA.
    #[test]
    fn amd_families() {
        // Zen 4 (EPYC 9004, family 25 model 17): 2 × 256-bit → 2 × 8 × 2 = 32 f32 FLOP/cycle
        // even with AVX-512, matching the 31-36 measured by peak_fma on such a guest.
        let genoa = x86("AuthenticAMD", 25, 17, "AMD EPYC 9R14");
        assert_eq!(f32_flops_per_cycle(&genoa, 512), Some(32));
        assert_eq!(f32_flops_per_cycle(&genoa, 256), Some(32));
        // Zen 3 (EPYC 7003, family 25 model 1): 32 f32, 16 f64.
        let milan = x86("AuthenticAMD", 25, 1, "AMD EPYC 7763");
        assert_eq!(f32_flops_per_cycle(&milan, 256), Some(32));
        let Lookup::Known(zen3) = lookup(&milan) else { panic!() };
        assert_eq!((zen3.name.as_str(), zen3.flops_per_cycle(64)), ("Zen 3", 16));
        // Zen 2 (Rome, family 23 model 49): 32; Zen 1 (Naples, model 1): 16.
        assert_eq!(f32_flops_per_cycle(&x86("AuthenticAMD", 23, 0x31, ""), 256), Some(32));
        assert_eq!(f32_flops_per_cycle(&x86("AuthenticAMD", 23, 0x01, ""), 256), Some(16));
        // Zen 5 Turin (family 26 model 2): 2 × 512-bit → 64; Strix Point (model 0x24): 32.
        assert_eq!(f32_flops_per_cycle(&x86("AuthenticAMD", 26, 0x02, ""), 512), Some(64));
        assert_eq!(f32_flops_per_cycle(&x86("AuthenticAMD", 26, 0x24, ""), 512), Some(32));
        // A Zen 5 guest whose hypervisor hides AVX-512: two 256-bit pipes usable → 32.
        assert_eq!(f32_flops_per_cycle(&x86("AuthenticAMD", 26, 0x02, ""), 256), Some(32));
        assert!(matches!(lookup(&x86("AuthenticAMD", 0x1b, 0, "")), Lookup::Unknown(_)));
    }

    #[test]
    fn intel_families() {
        // Sapphire Rapids (family 6 model 143): 2 × 512 → 64 f32 FLOP/cycle, 32 f64.
        let spr = x86("GenuineIntel", 6, 143, "Intel(R) Xeon(R) Platinum 8480+");
        assert_eq!(f32_flops_per_cycle(&spr, 512), Some(64));
        assert_eq!(f32_flops_per_cycle(&x86("GenuineIntel", 6, 0xad, ""), 512), Some(64));
        // Skylake-SP by SKU: Platinum 8180 two units (64), Silver 4114 one (32), Gold 5118
        // one, Gold 5122 two, Gold 6148 two; an unnamed one is a range.
        assert_eq!(
            f32_flops_per_cycle(&x86("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Platinum 8180 CPU"), 512),
            Some(64)
        );
        assert_eq!(
            f32_flops_per_cycle(&x86("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Silver 4114 CPU"), 512),
            Some(32)
        );
        assert_eq!(
            f32_flops_per_cycle(&x86("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Gold 5118 CPU"), 512),
            Some(32)
        );
        assert_eq!(
            f32_flops_per_cycle(&x86("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Gold 5122 CPU"), 512),
            Some(64)
        );
        assert_eq!(
            f32_flops_per_cycle(&x86("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Gold 6148 CPU"), 512),
            Some(64)
        );
        let vm = x86("GenuineIntel", 6, 85, "Intel Xeon Processor (Cascadelake)");
        assert!(matches!(lookup(&vm), Lookup::Range { units: (1, 2), .. }));
        // Haswell: 2 × 256 → 32; client Ice Lake: 1 × 512 → 32.
        assert_eq!(f32_flops_per_cycle(&x86("GenuineIntel", 6, 0x3f, ""), 256), Some(32));
        assert_eq!(f32_flops_per_cycle(&x86("GenuineIntel", 6, 0x7e, ""), 512), Some(32));
        // Sapphire Rapids in a VM that hides AVX-512: 2 × 256 → 32.
        assert_eq!(f32_flops_per_cycle(&spr, 256), Some(32));
        // Ice Lake-SP (model 0x6a), Emerald Rapids (0xcf), Granite Rapids-D (0xae): 2 × 512 →
        // 2 × 16 × 2 = 64 f32, 32 f64.
        for model in [0x6a, 0x6c, 0xcf, 0xae] {
            let cpu = x86("GenuineIntel", 6, model, "");
            assert_eq!(f32_flops_per_cycle(&cpu, 512), Some(64), "model {model:#x}");
            let Lookup::Known(d) = lookup(&cpu) else { panic!() };
            assert_eq!(d.flops_per_cycle(64), 32);
        }
        // Family 15 (NetBurst) and an unlisted model are unknown, with the reason.
        assert!(matches!(lookup(&x86("GenuineIntel", 15, 4, "")), Lookup::Unknown(_)));
        let Lookup::Unknown(why) = lookup(&x86("GenuineIntel", 6, 0x01, "")) else {
            panic!()
        };
        assert!(why.contains("model 0x1"), "{why}");
    }

    #[test]
    fn arm_neoverse() {
        let v1 = CpuIdent::from_cpuinfo("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n");
        assert_eq!(v1.vendor, "arm");
        // Neoverse V1: 4 × 128-bit → 4 × 4 × 2 = 32 f32 FLOP/cycle.
        assert_eq!(f32_flops_per_cycle(&v1, 128), Some(32));
        let n1 = CpuIdent::from_cpuinfo("CPU implementer : 0x41\nCPU part : 0xd0c\n");
        assert_eq!(f32_flops_per_cycle(&n1, 128), Some(16));
        // Neoverse N2: 2 × 128-bit → 16 f32; V2 (Grace): 4 × 128-bit → 32 f32, 16 f64.
        let n2 = CpuIdent::from_cpuinfo("CPU implementer : 0x41\nCPU part : 0xd49\n");
        assert_eq!(f32_flops_per_cycle(&n2, 128), Some(16));
        let v2 = CpuIdent::from_cpuinfo("CPU implementer : 0x41\nCPU part : 0xd4f\n");
        assert_eq!(f32_flops_per_cycle(&v2, 128), Some(32));
        let Lookup::Known(d) = lookup(&v2) else { panic!() };
        assert_eq!((d.name.as_str(), d.flops_per_cycle(64)), ("Neoverse V2", 16));
        // Another implementer (0x48, HiSilicon) is not in the table.
        let other = CpuIdent::from_cpuinfo("CPU implementer : 0x48\nCPU part : 0xd01\n");
        assert!(matches!(lookup(&other), Lookup::Unknown(_)));
    }

    #[test]
    fn cpuinfo_fields_parse() {
        let text = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n";
        let cpu = CpuIdent::from_cpuinfo(text);
        assert_eq!(cpu, x86("AuthenticAMD", 25, 17, "AMD EPYC 9R14 96-Core Processor"));
        assert!(matches!(lookup(&CpuIdent::default()), Lookup::Unknown(_)));
    }
}
