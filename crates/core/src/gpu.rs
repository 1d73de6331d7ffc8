//! Facts about an NVIDIA GPU read from NVML (loaded at run time, like the energy meter): its
//! name, compute capability, CUDA cores and maximum SM clock, the theoretical peak FLOP/s
//! derived from them, and the device memory a process holds.
//!
//! The peak is SMs × max SM clock × dense FLOP per cycle per SM. The SM count is NVML's CUDA
//! core count divided by the cores per SM of the architecture; FLOP per cycle per SM comes
//! from NVIDIA's architecture whitepapers (A100: "NVIDIA A100 Tensor Core GPU Architecture",
//! 2020; H100/H200: "NVIDIA H100 Tensor Core GPU Architecture", 2022), for the units libtorch
//! uses by default: f32 matrix products on the CUDA cores (TF32 off, libtorch's default for
//! matmul), f64 on the FP64 tensor cores, bf16/f16 on the tensor cores, dense. Architectures
//! not in the table get no peak, with the reason. These are datasheet-style ceilings, not
//! measurements: the run's own GEMM rows show what is attainable.

use crate::dtype::Dtype;
use crate::machine::TheoreticalPeak;
use serde::Serialize;

/// What NVML says about one GPU.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GpuFacts {
    /// NVML index of the device.
    pub nvml_index: u32,
    /// Marketing name, e.g. `NVIDIA H200`.
    pub name: String,
    /// CUDA compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// CUDA cores (NVML `nvmlDeviceGetNumGpuCores`).
    pub cuda_cores: u32,
    /// Maximum SM clock in MHz (NVML `nvmlDeviceGetMaxClockInfo(SM)`).
    pub max_sm_clock_mhz: u32,
    /// Device memory in bytes.
    pub memory_bytes: u64,
    /// Theoretical peaks per dtype, with their formulas.
    pub theoretical_peaks: Vec<TheoreticalPeak>,
}

/// Per-architecture constants: CUDA cores per SM and dense FLOP per cycle per SM.
struct ArchRates {
    name: &'static str,
    cores_per_sm: u32,
    f64_flop: f64,
    f64_unit: &'static str,
    bf16_flop: f64,
}

fn arch_rates(cc: (i32, i32)) -> Option<ArchRates> {
    match cc {
        // A100: 64 FP32 cores/SM; FP64 tensor 64 FMA/clk/SM; FP16/BF16 tensor 1024 FMA/clk/SM.
        (8, 0) => Some(ArchRates {
            name: "Ampere GA100",
            cores_per_sm: 64,
            f64_flop: 128.0,
            f64_unit: "FP64 tensor cores",
            bf16_flop: 2048.0,
        }),
        // H100/H200: 128 FP32 cores/SM; FP64 tensor 128 FMA/clk/SM; FP16/BF16 tensor 2048 FMA/clk/SM.
        (9, 0) => Some(ArchRates {
            name: "Hopper GH100",
            cores_per_sm: 128,
            f64_flop: 256.0,
            f64_unit: "FP64 tensor cores",
            bf16_flop: 4096.0,
        }),
        _ => None,
    }
}

/// Theoretical peaks from NVML's numbers (pure, for tests).
pub fn theoretical_peaks(cc: (i32, i32), cuda_cores: u32, max_sm_clock_mhz: u32) -> Vec<TheoreticalPeak> {
    let ghz = max_sm_clock_mhz as f64 / 1e3;
    let Some(arch) = arch_rates(cc) else {
        return [Dtype::F64, Dtype::F32, Dtype::Bf16, Dtype::F16]
            .into_iter()
            .map(|dtype| TheoreticalPeak {
                dtype,
                flops_per_s: None,
                formula: format!(
                    "compute capability {}.{} is not in braingap's table of per-SM rates (8.0, 9.0)",
                    cc.0, cc.1
                ),
            })
            .collect();
    };
    let sms = cuda_cores / arch.cores_per_sm;
    let sm_text = format!(
        "{sms} SMs ({cuda_cores} CUDA cores ÷ {} per SM, {})",
        arch.cores_per_sm, arch.name
    );
    let clock_text = format!("{ghz:.3} GHz (NVML max SM clock)");
    let peak = |dtype: Dtype, per_sm: f64, unit: &str| TheoreticalPeak {
        dtype,
        flops_per_s: Some(sms as f64 * per_sm * ghz * 1e9),
        formula: format!("{sm_text} × {clock_text} × {per_sm:.0} FLOP/cycle/SM ({unit}, dense)"),
    };
    vec![
        peak(Dtype::F64, arch.f64_flop, arch.f64_unit),
        peak(
            Dtype::F32,
            2.0 * arch.cores_per_sm as f64,
            "FP32 CUDA cores, one FMA each; TF32 off",
        ),
        peak(Dtype::Bf16, arch.bf16_flop, "bf16 tensor cores"),
        peak(Dtype::F16, arch.bf16_flop, "f16 tensor cores"),
    ]
}

/// The NVML index of CUDA device `cuda_index`: through `CUDA_VISIBLE_DEVICES` when it lists
/// plain indices, else the same number (CUDA's and NVML's orders agree on machines whose GPUs
/// are all of one model, which is where these numbers are used).
fn nvml_index(cuda_index: usize) -> Result<u32, String> {
    match std::env::var("CUDA_VISIBLE_DEVICES") {
        Ok(list) if !list.trim().is_empty() => {
            let entry = list
                .split(',')
                .nth(cuda_index)
                .ok_or_else(|| format!("CUDA_VISIBLE_DEVICES={list} has no entry {cuda_index}"))?;
            entry
                .trim()
                .parse()
                .map_err(|_| format!("CUDA_VISIBLE_DEVICES entry {entry:?} is not an index; cannot match it to NVML"))
        }
        _ => Ok(cuda_index as u32),
    }
}

fn load() -> Result<nvml_wrapper::Nvml, String> {
    nvml_wrapper::Nvml::init().map_err(|e| format!("NVML not loadable ({e})"))
}

/// NVML's handle of CUDA device `cuda_index`, with its NVML index.
fn device(nvml: &nvml_wrapper::Nvml, cuda_index: usize) -> Result<(u32, nvml_wrapper::Device<'_>), String> {
    let index = nvml_index(cuda_index)?;
    let device = nvml
        .device_by_index(index)
        .map_err(|e| format!("nvmlDeviceGetHandleByIndex({index}): {e}"))?;
    Ok((index, device))
}

/// NVML's facts about CUDA device `cuda_index`, or why they cannot be read.
pub fn cuda_device_facts(cuda_index: usize) -> Result<GpuFacts, String> {
    let nvml = load()?;
    let (index, device) = device(&nvml, cuda_index)?;
    let name = device.name().map_err(|e| format!("nvmlDeviceGetName({index}): {e}"))?;
    let cc = device
        .cuda_compute_capability()
        .map_err(|e| format!("nvmlDeviceGetCudaComputeCapability({index}): {e}"))?;
    let cuda_cores = device
        .num_cores()
        .map_err(|e| format!("nvmlDeviceGetNumGpuCores({index}): {e}"))?;
    let max_sm_clock_mhz = device
        .max_clock_info(nvml_wrapper::enum_wrappers::device::Clock::SM)
        .map_err(|e| format!("nvmlDeviceGetMaxClockInfo({index}, SM): {e}"))?;
    let memory_bytes = device
        .memory_info()
        .map_err(|e| format!("nvmlDeviceGetMemoryInfo({index}): {e}"))?
        .total;
    let compute_capability = (cc.major, cc.minor);
    Ok(GpuFacts {
        nvml_index: index,
        name,
        compute_capability,
        cuda_cores,
        max_sm_clock_mhz,
        memory_bytes,
        theoretical_peaks: theoretical_peaks(compute_capability, cuda_cores, max_sm_clock_mhz),
    })
}

/// Device memory (bytes) that process `pid` holds on CUDA device `cuda_index`, as NVML lists
/// it (CUDA context included), or why it cannot be read.
pub fn process_memory_bytes(cuda_index: usize, pid: u32) -> Result<u64, String> {
    let nvml = load()?;
    let (index, device) = device(&nvml, cuda_index)?;
    let processes = device
        .running_compute_processes()
        .map_err(|e| format!("nvmlDeviceGetComputeRunningProcesses({index}): {e}"))?;
    let process = processes.iter().find(|p| p.pid == pid).ok_or_else(|| {
        format!(
            "NVML lists {} compute process(es) on GPU {index}, none with pid {pid} (another PID namespace?)",
            processes.len()
        )
    })?;
    match process.used_gpu_memory {
        nvml_wrapper::enums::device::UsedGpuMemory::Used(bytes) => Ok(bytes),
        nvml_wrapper::enums::device::UsedGpuMemory::Unavailable => {
            Err(format!("NVML reports no memory figure for pid {pid}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hopper_peaks_are_worked_by_hand() {
        // H100 SXM: 16896 CUDA cores = 132 SMs × 128; at 1.98 GHz:
        //   f32  132 × 256 × 1.98e9  =  66.91 TFLOP/s (the datasheet's 67)
        //   f64  132 × 256 × 1.98e9  =  66.91 TFLOP/s (FP64 tensor, datasheet 67)
        //   bf16 132 × 4096 × 1.98e9 = 1070.5 TFLOP/s
        let peaks = theoretical_peaks((9, 0), 16896, 1980);
        let get = |d: Dtype| peaks.iter().find(|p| p.dtype == d).unwrap().flops_per_s.unwrap();
        assert!((get(Dtype::F32) - 66.90816e12).abs() < 1e9);
        assert!((get(Dtype::F64) - 66.90816e12).abs() < 1e9);
        assert!((get(Dtype::Bf16) - 1070.53056e12).abs() < 1e9);
        assert_eq!(get(Dtype::F16), get(Dtype::Bf16));
        let f32_formula = &peaks.iter().find(|p| p.dtype == Dtype::F32).unwrap().formula;
        assert!(
            f32_formula.contains("132 SMs (16896 CUDA cores ÷ 128 per SM"),
            "{f32_formula}"
        );
        assert!(f32_formula.contains("1.980 GHz"), "{f32_formula}");
    }

    #[test]
    fn ampere_a100_matches_its_datasheet() {
        // A100: 6912 cores = 108 SMs × 64, 1.41 GHz: bf16 108 × 2048 × 1.41e9 = 311.9 TFLOP/s
        // (datasheet 312), f64 108 × 128 × 1.41e9 = 19.5 (datasheet 19.5), f32 19.5.
        let peaks = theoretical_peaks((8, 0), 6912, 1410);
        let get = |d: Dtype| peaks.iter().find(|p| p.dtype == d).unwrap().flops_per_s.unwrap();
        assert!((get(Dtype::Bf16) / 1e12 - 311.87).abs() < 0.01);
        assert!((get(Dtype::F64) / 1e12 - 19.49).abs() < 0.01);
        assert!((get(Dtype::F32) / 1e12 - 19.49).abs() < 0.01);
    }

    #[test]
    fn unknown_architectures_get_no_peak_and_say_why() {
        let peaks = theoretical_peaks((8, 9), 16384, 2520);
        assert_eq!(peaks.len(), 4);
        for p in peaks {
            assert!(p.flops_per_s.is_none());
            assert!(p.formula.contains("8.9"), "{}", p.formula);
        }
    }
}
