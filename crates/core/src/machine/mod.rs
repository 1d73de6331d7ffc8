//! Machine fingerprint: CPU, cores, clock, memory, SIMD features, caches, toolchain, commit,
//! and the theoretical peak FLOP/s per dtype with the formula that produced it.
//!
//! Sources, in order of preference: `std::arch` run-time detection, `sysinfo`, then
//! `/proc/cpuinfo` and `/sys/devices/system/cpu`. A value no source gives is `null` with
//! the reason; nothing is guessed.

pub mod uarch;

use crate::dtype::Dtype;
use crate::dtype::SimdLevel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs;
use std::hash::Hasher;
use std::path::Path;

/// A value and where it came from, or `null` and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact<T> {
    /// The value, when known.
    pub value: Option<T>,
    /// Its source, or the reason it is unknown.
    pub source: String,
}

impl<T> Fact<T> {
    /// A known value with its source.
    pub fn known(value: T, source: impl Into<String>) -> Fact<T> {
        Fact {
            value: Some(value),
            source: source.into(),
        }
    }

    /// An unknown value with the reason.
    pub fn unknown(reason: impl Into<String>) -> Fact<T> {
        Fact {
            value: None,
            source: reason.into(),
        }
    }

    /// From an option, with the source if present and the reason if not.
    pub fn from_option(value: Option<T>, source: &str, reason: &str) -> Fact<T> {
        match value {
            Some(v) => Fact::known(v, source),
            None => Fact::unknown(reason),
        }
    }
}

/// SIMD features detected at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimdFeatures {
    /// SSE4.2.
    pub sse4_2: bool,
    /// AVX2.
    pub avx2: bool,
    /// FMA3.
    pub fma: bool,
    /// AVX-512 Foundation.
    pub avx512f: bool,
    /// AVX-512 BF16 dot products.
    pub avx512_bf16: bool,
    /// AVX-512 FP16 arithmetic.
    pub avx512_fp16: bool,
    /// AMX tile registers.
    pub amx_tile: bool,
    /// AMX BF16 tile multiply.
    pub amx_bf16: bool,
    /// Where the AMX bits came from (`/proc/cpuinfo` flags).
    pub source: String,
}

/// One CPU cache level as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// 1, 2, 3, ...
    pub level: u32,
    /// `Data`, `Instruction` or `Unified`.
    pub kind: String,
    /// Size of one instance in bytes.
    pub size_bytes: u64,
    /// Number of distinct instances across the online CPUs.
    pub instances: u64,
}

impl Cache {
    /// Bytes a run with `threads` worker threads can hold in this level: one instance's
    /// size × the instances its threads can occupy.
    pub fn capacity(&self, threads: u64) -> u64 {
        self.size_bytes * self.instances.min(threads.max(1))
    }
}

/// A theoretical peak and the formula behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoreticalPeak {
    /// Element type.
    pub dtype: Dtype,
    /// FLOP/s, when every factor is known.
    pub flops_per_s: Option<f64>,
    /// The formula with its numbers filled in, or the reason it cannot be computed.
    pub formula: String,
}

/// Everything a result needs to say about the machine it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu_model: Fact<String>,
    /// CPU vendor id.
    pub vendor: Fact<String>,
    /// Physical cores.
    pub physical_cores: Fact<u64>,
    /// Logical CPUs available to this process.
    pub logical_cores: u64,
    /// Maximum core clock from cpufreq.
    pub max_frequency_mhz: Fact<f64>,
    /// Clock the kernel reports in /proc/cpuinfo (on a VM: the host's nominal or TSC clock).
    pub reported_frequency_mhz: Fact<f64>,
    /// Core clock measured by the dependent-imul probe while fingerprinting.
    pub measured_frequency_mhz: Fact<f64>,
    /// Total memory.
    pub memory_total_bytes: Fact<u64>,
    /// Memory available when fingerprinted.
    pub memory_available_bytes: Fact<u64>,
    /// Operating system name and version.
    pub os: Fact<String>,
    /// Kernel version.
    pub kernel: Fact<String>,
    /// Hypervisor, when the CPU flags say there is one.
    pub hypervisor: Fact<String>,
    /// Transparent huge page mode (`always`, `madvise` or `never`). The CPU backend advises
    /// its buffers of 4 MiB and more onto huge pages, as numpy does; with `never` they stay
    /// on 4 KiB pages and large GEMMs lose to TLB misses.
    #[serde(default = "unrecorded")]
    pub transparent_hugepages: Fact<String>,
    /// SIMD features.
    pub simd: SimdFeatures,
    /// Widest SIMD level the CPU backend uses.
    pub simd_level: SimdLevel,
    /// Cache hierarchy.
    pub caches: Vec<Cache>,
    /// Total size of the last-level cache (all instances).
    pub last_level_cache_bytes: Fact<u64>,
    /// FMA units per core, at the width in `fma_width_bits`.
    pub fma_units_per_core: Fact<u64>,
    /// Width of one FMA unit as this binary can use it (256 on Zen 4 even with AVX-512).
    #[serde(default = "unrecorded_u64")]
    pub fma_width_bits: Fact<u64>,
    /// Microarchitecture from the CPU's family and model (`uarch::lookup`).
    #[serde(default = "unrecorded")]
    pub microarchitecture: Fact<String>,
    /// Compiler that built this binary.
    pub rustc: Fact<String>,
    /// Git commit of the build (`-dirty` when the tree had changes).
    pub git_commit: Fact<String>,
    /// Git branch: `$BRAINGAP_GIT_BRANCH` when set (CI checkouts are often a detached HEAD),
    /// else the branch checked out when this binary was built. `braingap history --branch`
    /// filters on it.
    #[serde(default = "unrecorded")]
    pub git_branch: Fact<String>,
    /// Theoretical peaks per dtype.
    pub theoretical_peaks: Vec<TheoreticalPeak>,
    /// Stable hash of what makes results comparable (model, cores, SIMD, caches, memory).
    pub fingerprint: String,
}

const THP_ENABLED: &str = "/sys/kernel/mm/transparent_hugepage/enabled";

/// The selected mode in `/sys/kernel/mm/transparent_hugepage/enabled` (`always [madvise]
/// never` selects `madvise`).
fn transparent_hugepages() -> Fact<String> {
    match read_trimmed(Path::new(THP_ENABLED)) {
        Some(text) => match parse_thp_mode(&text) {
            Some(mode) => Fact::known(mode, THP_ENABLED),
            None => Fact::unknown(format!("{THP_ENABLED} names no selected mode: {text:?}")),
        },
        None => Fact::unknown(format!("cannot read {THP_ENABLED}")),
    }
}

/// The bracketed word of a sysfs mode list.
pub fn parse_thp_mode(text: &str) -> Option<String> {
    let start = text.find('[')? + 1;
    let len = text[start..].find(']')?;
    Some(text[start..start + len].to_string()).filter(|m| !m.is_empty())
}

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Parses sysfs sizes like `48K`, `2048K`, `491520K`, `32M`.
pub fn parse_cache_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, mult) = match t.chars().last()? {
        'K' => (&t[..t.len() - 1], 1024),
        'M' => (&t[..t.len() - 1], 1024 * 1024),
        'G' => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    digits.parse::<u64>().ok().map(|v| v * mult)
}

/// The data capacity of each cache level a run with `threads` worker threads can use:
/// one instance's size × the instances its threads can occupy (`min(instances, threads)`),
/// instruction caches left out; one entry per level, smallest level first.
pub fn cache_capacities(caches: &[Cache], threads: u64) -> Vec<(u32, u64)> {
    let mut levels: Vec<(u32, u64)> = caches
        .iter()
        .filter(|c| c.kind != "Instruction")
        .map(|c| (c.level, c.capacity(threads)))
        .collect();
    levels.sort();
    levels.dedup_by_key(|l| l.0);
    levels
}

/// Reads the cache hierarchy from `root` (normally `/sys/devices/system/cpu`).
pub fn read_caches(root: &Path) -> Vec<Cache> {
    // (level, kind, size) -> set of shared_cpu_list strings
    let mut found: std::collections::BTreeMap<(u32, String, u64), BTreeSet<String>> = Default::default();
    let Ok(cpus) = fs::read_dir(root) else {
        return Vec::new();
    };
    for cpu in cpus.flatten() {
        let name = cpu.file_name().to_string_lossy().to_string();
        if !name.starts_with("cpu") || !name[3..].chars().all(|c| c.is_ascii_digit()) || name.len() == 3 {
            continue;
        }
        let Ok(indices) = fs::read_dir(cpu.path().join("cache")) else {
            continue;
        };
        for index in indices.flatten() {
            let dir = index.path();
            let (Some(level), Some(kind), Some(size)) = (
                read_trimmed(&dir.join("level")).and_then(|s| s.parse::<u32>().ok()),
                read_trimmed(&dir.join("type")),
                read_trimmed(&dir.join("size")).and_then(|s| parse_cache_size(&s)),
            ) else {
                continue;
            };
            let shared = read_trimmed(&dir.join("shared_cpu_list")).unwrap_or_else(|| name.clone());
            found.entry((level, kind, size)).or_default().insert(shared);
        }
    }
    found
        .into_iter()
        .map(|((level, kind, size_bytes), sets)| Cache {
            level,
            kind,
            size_bytes,
            instances: sets.len() as u64,
        })
        .collect()
}

fn cpuinfo_field(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn detect_simd(flags: &BTreeSet<String>) -> SimdFeatures {
    #[cfg(target_arch = "x86_64")]
    let (sse4_2, avx2, fma, avx512f, avx512_bf16, avx512_fp16) = (
        std::arch::is_x86_feature_detected!("sse4.2"),
        std::arch::is_x86_feature_detected!("avx2"),
        std::arch::is_x86_feature_detected!("fma"),
        std::arch::is_x86_feature_detected!("avx512f"),
        std::arch::is_x86_feature_detected!("avx512bf16"),
        std::arch::is_x86_feature_detected!("avx512fp16"),
    );
    #[cfg(not(target_arch = "x86_64"))]
    let (sse4_2, avx2, fma, avx512f, avx512_bf16, avx512_fp16) = (false, false, false, false, false, false);
    SimdFeatures {
        sse4_2,
        avx2,
        fma,
        avx512f,
        avx512_bf16,
        avx512_fp16,
        amx_tile: flags.contains("amx_tile"),
        amx_bf16: flags.contains("amx_bf16"),
        source: "std::arch run-time detection; AMX from /proc/cpuinfo flags".into(),
    }
}

/// The FMA datapath this binary can use: from the microarchitecture table when the CPU is
/// in it, else inferred from feature flags where they pin it down (AMX implies two 512-bit
/// units; AVX2+FMA without AVX-512 implies two 256-bit units on every x86 core since Intel
/// Haswell and AMD Zen 2). A range or an unknown stays unknown, with the reason.
pub fn fma_datapath(
    simd: &SimdFeatures,
    level: SimdLevel,
    cpu: &uarch::CpuIdent,
) -> Result<uarch::FmaDatapath, String> {
    let isa_bits = if level == SimdLevel::Scalar { 128 } else { level.bits() };
    let from_flags = |why: String| {
        if simd.avx512f && simd.amx_tile {
            Ok(uarch::FmaDatapath {
                name: "Intel with AMX".into(),
                units: 2,
                width_bits: 512,
                basis: format!(
                    "{why}; inferred: AMX implies Sapphire Rapids or later Xeon (two 512-bit FMA units per core)"
                ),
            })
        } else if simd.avx512f {
            Err(format!(
                "{why}; AVX-512 parts have one or two 512-bit FMA units (or two 256-bit pipes on AMD Zen 4), not detectable from flags"
            ))
        } else if simd.avx2 && simd.fma {
            Ok(uarch::FmaDatapath {
                name: "AVX2+FMA core".into(),
                units: 2,
                width_bits: 256,
                basis: format!(
                    "{why}; inferred: AVX2+FMA cores (Intel Haswell+, AMD Zen 2+) issue two 256-bit FMAs per cycle"
                ),
            })
        } else {
            Err(format!("{why}; no FMA SIMD support detected"))
        }
    };
    match uarch::lookup(cpu) {
        uarch::Lookup::Known(datapath) => datapath
            .usable_at(isa_bits)
            .ok_or_else(|| format!("{}; but this binary uses no vector FMA here", datapath.basis)),
        uarch::Lookup::Range {
            name,
            units: (fewest, most),
            width_bits,
            reason,
        } => {
            // A guest that hides AVX-512 runs both SKU tiers on two 256-bit pipes: the range
            // then collapses to one datapath.
            let usable = |units: u64| {
                uarch::FmaDatapath {
                    name: name.clone(),
                    units,
                    width_bits,
                    basis: reason.clone(),
                }
                .usable_at(isa_bits)
            };
            match (usable(fewest), usable(most)) {
                (Some(low), Some(high)) if low == high => Ok(low),
                (Some(low), Some(high)) => Err(format!(
                    "{reason}: {}–{} × {}-bit FMA units per core, {}–{} f32 FLOP/cycle",
                    low.units,
                    high.units,
                    low.width_bits,
                    low.flops_per_cycle(32),
                    high.flops_per_cycle(32)
                )),
                _ => Err(reason),
            }
        }
        uarch::Lookup::Unknown(why) => from_flags(why),
    }
}

/// Theoretical peaks: cores × GHz × FMA units × lanes per unit × 2 (bf16 on AMX: cores ×
/// GHz × 1024).
pub fn theoretical_peaks(
    cores: Option<u64>,
    ghz: Option<(f64, &str)>,
    datapath: Option<&uarch::FmaDatapath>,
    simd: &SimdFeatures,
) -> Vec<TheoreticalPeak> {
    let fma_units = datapath.map(|d| d.units);
    let mut peaks = Vec::new();
    for dtype in [Dtype::F64, Dtype::F32, Dtype::Bf16] {
        let peak = match (cores, ghz, fma_units) {
            (Some(cores), Some((ghz, clock_source)), Some(units)) => {
                let width = datapath.map_or(0, |d| d.width_bits);
                if dtype == Dtype::Bf16 && simd.amx_bf16 {
                    let flops = cores as f64 * ghz * 1e9 * 1024.0;
                    TheoreticalPeak {
                        dtype,
                        flops_per_s: Some(flops),
                        formula: format!(
                            "{cores} cores × {ghz:.3} GHz ({clock_source}) × 1024 bf16 FLOP/cycle (AMX TMUL: 16×32 bf16 tile products per cycle)"
                        ),
                    }
                } else if dtype == Dtype::Bf16 && !simd.avx512_bf16 {
                    TheoreticalPeak {
                        dtype,
                        flops_per_s: None,
                        formula: "no bf16 arithmetic (AVX512_BF16 or AMX-BF16) on this CPU".into(),
                    }
                } else {
                    let lanes = if dtype == Dtype::Bf16 {
                        width / 32 * 2
                    } else {
                        width / (8 * dtype.size_bytes())
                    };
                    let flops = cores as f64 * ghz * 1e9 * units as f64 * lanes as f64 * 2.0;
                    TheoreticalPeak {
                        dtype,
                        flops_per_s: Some(flops),
                        formula: format!(
                            "{cores} cores × {ghz:.3} GHz ({clock_source}) × {units} FMA units × {lanes} lanes ({width}-bit) × 2"
                        ),
                    }
                }
            }
            _ => TheoreticalPeak {
                dtype,
                flops_per_s: None,
                formula: format!(
                    "unknown: needs cores ({}), clock ({}) and FMA units ({})",
                    cores.map_or("unknown".into(), |c| c.to_string()),
                    ghz.map_or("unknown".into(), |g| format!("{:.3} GHz", g.0)),
                    fma_units.map_or("unknown".into(), |u| u.to_string())
                ),
            },
        };
        peaks.push(peak);
    }
    peaks
}

/// Peak resident set size of this process (VmHWM), bytes, where /proc has it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak RSS to the current RSS (Linux: `5` into /proc/self/clear_refs); false
/// where that is not possible, in which case the peak is the process's since it started.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// What the binary's build script recorded (the root crate's `braingap::BUILD`): the
/// toolchain, the commit and the branch; empty strings where the build could not tell.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildInfo {
    /// `rustc --version`.
    pub rustc: &'static str,
    /// `git rev-parse HEAD`, with `-dirty` when tracked files changed.
    pub git_commit: &'static str,
    /// `git symbolic-ref --short HEAD` (empty on a detached HEAD).
    pub git_branch: &'static str,
}

/// FNV-1a, 64-bit, of the text's bytes from the standard offset basis (the `fnv` crate's
/// default key): a hash that is stable across Rust releases (unlike `DefaultHasher`).
pub fn fnv1a(text: &str) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
}

impl Machine {
    /// The same facts with the branch named by the caller (the CLI's `$BRAINGAP_GIT_BRANCH`:
    /// CI checkouts are often a detached HEAD), when one is given.
    pub fn with_git_branch(mut self, branch: Option<String>) -> Machine {
        if let Some(branch) = branch {
            self.git_branch = Fact::known(branch, "$BRAINGAP_GIT_BRANCH");
        }
        self
    }

    /// Fingerprints this machine. `measured_ghz` is the clock probe's reading, used for the
    /// theoretical peak when cpufreq gives no maximum clock (as on most VMs).
    pub fn detect(measured_ghz: Option<f64>, build: &BuildInfo) -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let flags: BTreeSet<String> = cpuinfo_field(&cpuinfo, "flags")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let sys = sysinfo::System::new().ok().map(|mut sys| {
            sys.refresh_memory();
            sys.refresh_cpu_all();
            sys
        });
        let first_cpu = sys.as_ref().and_then(|s| s.cpus().first());
        let cpu_model = first_cpu
            .map(|c| c.brand().trim().to_string())
            .filter(|s| !s.is_empty())
            .map(|s| Fact::known(s, "sysinfo"))
            .or_else(|| cpuinfo_field(&cpuinfo, "model name").map(|s| Fact::known(s, "/proc/cpuinfo")))
            .unwrap_or_else(|| Fact::unknown("neither sysinfo nor /proc/cpuinfo name the CPU"));
        let vendor = first_cpu
            .map(|c| c.vendor_id().to_string())
            .filter(|s| !s.is_empty())
            .map(|s| Fact::known(s, "sysinfo"))
            .unwrap_or_else(|| Fact::unknown("sysinfo reports no vendor id"));
        let physical_cores = Fact::from_option(
            sysinfo::System::physical_core_count().ok().map(|c| c as u64),
            "sysinfo",
            "sysinfo cannot count physical cores here",
        );
        let logical_cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let cpu_root = Path::new("/sys/devices/system/cpu");
        let max_frequency_mhz = read_trimmed(&cpu_root.join("cpu0/cpufreq/cpuinfo_max_freq"))
            .and_then(|s| s.parse::<f64>().ok())
            .map(|khz| Fact::known(khz / 1000.0, "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"))
            .unwrap_or_else(|| Fact::unknown("no cpufreq in sysfs (common in VMs)"));
        let reported_frequency_mhz = cpuinfo_field(&cpuinfo, "cpu MHz")
            .and_then(|s| s.parse::<f64>().ok())
            .map(|v| Fact::known(v, "/proc/cpuinfo cpu MHz"))
            .unwrap_or_else(|| Fact::unknown("/proc/cpuinfo has no cpu MHz"));
        let measured_frequency_mhz = Fact::from_option(
            measured_ghz.map(|g| g * 1000.0),
            "dependent imul chain probe (3-cycle latency)",
            "clock probe unavailable on this architecture",
        );
        let simd = detect_simd(&flags);
        let simd_level = SimdLevel::detect();
        let caches = read_caches(cpu_root);
        let last_level_cache_bytes = caches
            .iter()
            .filter(|c| c.kind != "Instruction")
            .max_by_key(|c| c.level)
            .map(|c| {
                Fact::known(
                    c.size_bytes * c.instances,
                    format!("sysfs L{} × {} instance(s)", c.level, c.instances),
                )
            })
            .unwrap_or_else(|| Fact::unknown("no cache information in /sys/devices/system/cpu/cpu*/cache"));
        let cpu_ident = uarch::CpuIdent::from_cpuinfo(&cpuinfo);
        let datapath = fma_datapath(&simd, simd_level, &cpu_ident);
        let fma_units_per_core = match &datapath {
            Ok(d) => Fact::known(d.units, d.basis.clone()),
            Err(why) => Fact::unknown(why.clone()),
        };
        let fma_width_bits = match &datapath {
            Ok(d) => Fact::known(d.width_bits, d.basis.clone()),
            Err(why) => Fact::unknown(why.clone()),
        };
        let microarchitecture = match uarch::lookup(&cpu_ident) {
            uarch::Lookup::Known(d) => Fact::known(d.name, "family and model in /proc/cpuinfo"),
            uarch::Lookup::Range { name, .. } => Fact::known(name, "family and model in /proc/cpuinfo"),
            uarch::Lookup::Unknown(why) => Fact::unknown(why),
        };
        let ghz = match (&max_frequency_mhz.value, measured_ghz) {
            (Some(mhz), _) => Some((mhz / 1000.0, "cpufreq max")),
            (None, Some(g)) => Some((g, "measured")),
            _ => None,
        };
        let theoretical_peaks = theoretical_peaks(
            physical_cores.value.map(|c| c.min(logical_cores)),
            ghz,
            datapath.as_ref().ok(),
            &simd,
        );
        let hypervisor = if flags.contains("hypervisor") {
            Fact::known(
                read_trimmed(Path::new("/sys/hypervisor/type")).unwrap_or_else(|| "present".into()),
                "/proc/cpuinfo hypervisor flag",
            )
        } else {
            Fact::unknown("no hypervisor flag in /proc/cpuinfo")
        };
        let rustc = env_fact(build.rustc, "build script: rustc --version");
        let git_commit = env_fact(build.git_commit, "build script: git rev-parse HEAD");
        let git_branch = env_fact(build.git_branch, "build script: git symbolic-ref --short HEAD");
        let memory_total_bytes = Fact::from_option(
            sys.as_ref().map(|s| s.total_memory()).filter(|&m| m > 0),
            "sysinfo",
            "sysinfo cannot read memory here",
        );
        let fingerprint_text = format!(
            "{}|{}|{}|{:?}|{:?}|{}",
            cpu_model.value.clone().unwrap_or_default(),
            logical_cores,
            physical_cores.value.unwrap_or(0),
            simd_level,
            caches
                .iter()
                .map(|c| (c.level, c.size_bytes, c.instances))
                .collect::<Vec<_>>(),
            memory_total_bytes.value.unwrap_or(0) >> 30,
        );
        Machine {
            cpu_model,
            vendor,
            physical_cores,
            logical_cores,
            max_frequency_mhz,
            reported_frequency_mhz,
            measured_frequency_mhz,
            memory_total_bytes,
            memory_available_bytes: Fact::from_option(
                sys.as_ref().map(|s| s.available_memory()).filter(|&m| m > 0),
                "sysinfo",
                "sysinfo cannot read memory here",
            ),
            os: Fact::from_option(
                sysinfo::System::long_os_version().ok(),
                "sysinfo",
                "sysinfo cannot name the OS",
            ),
            kernel: Fact::from_option(
                sysinfo::System::kernel_version().ok(),
                "sysinfo",
                "sysinfo cannot read the kernel version",
            ),
            hypervisor,
            transparent_hugepages: transparent_hugepages(),
            simd,
            simd_level,
            caches,
            last_level_cache_bytes,
            fma_units_per_core,
            fma_width_bits,
            microarchitecture,
            rustc,
            git_commit,
            git_branch,
            theoretical_peaks,
            fingerprint: format!("{:016x}", fnv1a(&fingerprint_text)),
        }
    }

    /// The theoretical peak of `dtype`, if known.
    pub fn theoretical_peak(&self, dtype: Dtype) -> Option<f64> {
        self.theoretical_peaks
            .iter()
            .find(|p| p.dtype == dtype)
            .and_then(|p| p.flops_per_s)
    }

    /// Memory available right now (re-read, for the pre-allocation check); `None` when
    /// sysinfo cannot tell.
    pub fn available_memory_now() -> Option<u64> {
        let mut sys = sysinfo::System::new().ok()?;
        sys.refresh_memory();
        Some(sys.available_memory()).filter(|&m| m > 0)
    }

    /// This machine's total memory; `None` when sysinfo cannot tell.
    pub fn total_memory() -> Option<u64> {
        let mut sys = sysinfo::System::new().ok()?;
        sys.refresh_memory();
        Some(sys.total_memory()).filter(|&m| m > 0)
    }
}

/// A fact (`git_branch`, `transparent_hugepages`) of a machine recorded before it existed.
fn unrecorded() -> Fact<String> {
    Fact::unknown("not recorded by the braingap that made this run")
}

/// A numeric fact of a machine recorded before it existed.
fn unrecorded_u64() -> Fact<u64> {
    Fact::unknown("not recorded by the braingap that made this run")
}

fn env_fact(value: &str, source: &str) -> Fact<String> {
    if value.is_empty() {
        Fact::unknown(format!("{source} gave nothing at build time"))
    } else {
        Fact::known(value.to_string(), source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thp_mode_is_the_bracketed_word() {
        assert_eq!(parse_thp_mode("always [madvise] never").as_deref(), Some("madvise"));
        assert_eq!(parse_thp_mode("[always] madvise never").as_deref(), Some("always"));
        assert_eq!(parse_thp_mode("always madvise [never]").as_deref(), Some("never"));
        assert_eq!(parse_thp_mode("always madvise never"), None);
        assert_eq!(parse_thp_mode("[]"), None);
    }

    #[test]
    fn cache_sizes_parse() {
        assert_eq!(parse_cache_size("48K"), Some(48 * 1024));
        assert_eq!(parse_cache_size("491520K"), Some(480 << 20));
        assert_eq!(parse_cache_size("32M"), Some(32 << 20));
        assert_eq!(parse_cache_size("x"), None);
    }

    #[test]
    fn cache_capacities_count_the_instances_a_run_can_use() {
        let cache = |level, kind: &str, size_bytes, instances| Cache {
            level,
            kind: kind.into(),
            size_bytes,
            instances,
        };
        // A 2-core guest of a Zen 3: 32 KiB L1d and L1i per core, 512 KiB L2 per core, one
        // 32 MiB L3.
        let caches = [
            cache(1, "Data", 32 << 10, 2),
            cache(1, "Instruction", 32 << 10, 2),
            cache(2, "Unified", 512 << 10, 2),
            cache(3, "Unified", 32 << 20, 1),
        ];
        assert_eq!(
            cache_capacities(&caches, 2),
            vec![(1, 64 << 10), (2, 1 << 20), (3, 32 << 20)]
        );
        assert_eq!(
            cache_capacities(&caches, 1),
            vec![(1, 32 << 10), (2, 512 << 10), (3, 32 << 20)]
        );
        assert!(cache_capacities(&[], 4).is_empty());
    }

    #[test]
    fn caches_from_a_fixture_tree() {
        let dir = tempfile::tempdir().unwrap();
        for cpu in 0..2 {
            for (idx, level, kind, size, shared) in [
                (0, "1", "Data", "48K", format!("{cpu}")),
                (1, "2", "Unified", "2048K", format!("{cpu}")),
                (2, "3", "Unified", "32768K", "0-1".to_string()),
            ] {
                let d = dir.path().join(format!("cpu{cpu}/cache/index{idx}"));
                fs::create_dir_all(&d).unwrap();
                fs::write(d.join("level"), level).unwrap();
                fs::write(d.join("type"), kind).unwrap();
                fs::write(d.join("size"), size).unwrap();
                fs::write(d.join("shared_cpu_list"), shared).unwrap();
            }
        }
        fs::create_dir_all(dir.path().join("cpufreq")).unwrap();
        let caches = read_caches(dir.path());
        assert_eq!(caches.len(), 3);
        let l2 = caches.iter().find(|c| c.level == 2).unwrap();
        assert_eq!((l2.size_bytes, l2.instances), (2 << 20, 2));
        let l3 = caches.iter().find(|c| c.level == 3).unwrap();
        assert_eq!(l3.instances, 1);
    }

    #[test]
    fn peak_formula_multiplies_its_factors() {
        let simd = SimdFeatures {
            sse4_2: true,
            avx2: true,
            fma: true,
            avx512f: true,
            avx512_bf16: true,
            avx512_fp16: true,
            amx_tile: true,
            amx_bf16: true,
            source: String::new(),
        };
        let spr = uarch::FmaDatapath {
            name: "Sapphire Rapids".into(),
            units: 2,
            width_bits: 512,
            basis: String::new(),
        };
        let peaks = theoretical_peaks(Some(2), Some((3.5, "measured")), Some(&spr), &simd);
        let f32_peak = peaks.iter().find(|p| p.dtype == Dtype::F32).unwrap();
        // 2 cores × 3.5 GHz × 2 units × 16 lanes × 2 = 448 GFLOP/s
        assert!((f32_peak.flops_per_s.unwrap() - 448e9).abs() < 1.0);
        let f64_peak = peaks.iter().find(|p| p.dtype == Dtype::F64).unwrap();
        assert!((f64_peak.flops_per_s.unwrap() - 224e9).abs() < 1.0);
        let bf16 = peaks.iter().find(|p| p.dtype == Dtype::Bf16).unwrap();
        assert!((bf16.flops_per_s.unwrap() - 2.0 * 3.5e9 * 1024.0).abs() < 1.0);
        // Zen 4: AVX-512 on two 256-bit pipes, 2 cores × 3.5 GHz × 2 × 8 × 2 = 224 GFLOP/s f32.
        let zen4 = uarch::FmaDatapath {
            name: "Zen 4".into(),
            units: 2,
            width_bits: 256,
            basis: String::new(),
        };
        let simd_zen4 = SimdFeatures {
            amx_tile: false,
            amx_bf16: false,
            ..simd.clone()
        };
        let peaks = theoretical_peaks(Some(2), Some((3.5, "measured")), Some(&zen4), &simd_zen4);
        let f32_peak = peaks.iter().find(|p| p.dtype == Dtype::F32).unwrap();
        assert!((f32_peak.flops_per_s.unwrap() - 224e9).abs() < 1.0);
        let bf16 = peaks.iter().find(|p| p.dtype == Dtype::Bf16).unwrap();
        assert!((bf16.flops_per_s.unwrap() - 448e9).abs() < 1.0, "{}", bf16.formula);
        let unknown = theoretical_peaks(Some(2), None, Some(&spr), &simd);
        assert!(unknown.iter().all(|p| p.flops_per_s.is_none()));
        assert!(unknown[0].formula.contains("clock (unknown)"), "{}", unknown[0].formula);
    }

    /// A Skylake-SP whose SKU the model name hides: one or two 512-bit units, so the peak is a
    /// range (stated, not a number); in a guest without AVX-512 both tiers issue two 256-bit
    /// FMAs per cycle, so the datapath is known: 2 × 8 lanes × 2 = 32 f32 FLOP/cycle.
    #[test]
    fn a_sku_range_is_stated_or_collapses() {
        let simd = SimdFeatures {
            sse4_2: true,
            avx2: true,
            fma: true,
            avx512f: true,
            avx512_bf16: false,
            avx512_fp16: false,
            amx_tile: false,
            amx_bf16: false,
            source: String::new(),
        };
        let cpu = uarch::CpuIdent {
            vendor: "GenuineIntel".into(),
            family: Some(6),
            model: Some(0x55),
            model_name: "Intel Xeon Processor (Cascadelake)".into(),
        };
        let why = fma_datapath(&simd, SimdLevel::Avx512, &cpu).unwrap_err();
        assert!(
            why.contains("1–2 × 512-bit FMA units per core, 32–64 f32 FLOP/cycle"),
            "{why}"
        );
        let hidden = SimdFeatures {
            avx512f: false,
            ..simd.clone()
        };
        let d = fma_datapath(&hidden, SimdLevel::Avx2Fma, &cpu).unwrap();
        assert_eq!((d.units, d.width_bits, d.flops_per_cycle(32)), (2, 256, 32));
        // Zen 3 (this project's 2-core EPYC, family 25 model 1): known from the table.
        let zen3 = uarch::CpuIdent {
            vendor: "AuthenticAMD".into(),
            family: Some(25),
            model: Some(1),
            model_name: "AMD EPYC".into(),
        };
        let d = fma_datapath(&hidden, SimdLevel::Avx2Fma, &zen3).unwrap();
        assert_eq!((d.name.as_str(), d.units, d.width_bits), ("Zen 3", 2, 256));
        assert!(d.basis.contains("AMD software optimization guide"), "{}", d.basis);
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn fnv_values_are_pinned() {
        // Computed with the hand-written FNV-1a this crate had before it used the `fnv` crate;
        // stored machine fingerprints depend on them. "foobar" is also the published test vector.
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(
            fnv1a("braingap|x86_64|AMD EPYC 7763 64-Core Processor|16|131072"),
            0xa3ce_bb84_4d75_4169
        );
    }
}
