//! GPU energy from NVIDIA's management library (NVML), loaded at run time.
//!
//! `nvml-wrapper` opens `libnvidia-ml.so` with `dlopen` when [`RealNvml::load`]
//! runs, so braingap builds and runs where no NVIDIA driver exists; there the
//! meter is unavailable with the reason `NVML library not found (...)`.
//!
//! Per device, the total-energy counter (`nvmlDeviceGetTotalEnergyConsumption`,
//! Volta and newer, mJ) is read at start and stop. Where the GPU lacks it,
//! power (`nvmlDeviceGetPowerUsage`, mW) is sampled by a background thread and
//! integrated with the trapezoid rule; such a domain has method
//! `integrated-power`. The library sits behind [`NvmlApi`] so that tests use
//! [`FakeNvml`].

use super::sampler::{Poll, SampledMeter, SampledState};
use super::{DomainEnergy, EnergySource, MeterError, PowerSample, Reading};
use crate::units::{Joules, Seconds, Watts};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Period of power sampling for GPUs without an energy counter. NVML refreshes
/// power readings every 20–100 ms depending on the GPU; 50 ms sees each.
pub const POWER_SAMPLING_INTERVAL: Duration = Duration::from_millis(50);

/// The NVML calls braingap needs.
pub trait NvmlApi: Send {
    /// Number of GPUs.
    fn device_count(&self) -> Result<u32, MeterError>;
    /// Marketing name of GPU `index`.
    fn device_name(&self, index: u32) -> Result<String, MeterError>;
    /// Energy since driver load, in millijoules.
    fn total_energy_mj(&self, index: u32) -> Result<u64, MeterError>;
    /// Current power, in milliwatts.
    fn power_mw(&self, index: u32) -> Result<u32, MeterError>;
}

/// The real library.
pub struct RealNvml {
    nvml: nvml_wrapper::Nvml,
}

impl RealNvml {
    /// Loads and initialises `libnvidia-ml`.
    pub fn load() -> Result<RealNvml, MeterError> {
        nvml_wrapper::Nvml::init()
            .map(|nvml| RealNvml { nvml })
            .map_err(|error| MeterError::NvmlNotFound {
                detail: error.to_string(),
            })
    }

    fn device(&self, index: u32, call: &str) -> Result<nvml_wrapper::Device<'_>, MeterError> {
        self.nvml
            .device_by_index(index)
            .map_err(|e| nvml_error(&format!("{call}({index})"), &e))
    }
}

fn nvml_error(call: &str, error: &nvml_wrapper::error::NvmlError) -> MeterError {
    MeterError::Nvml {
        call: call.to_string(),
        detail: error.to_string(),
    }
}

impl NvmlApi for RealNvml {
    fn device_count(&self) -> Result<u32, MeterError> {
        self.nvml
            .device_count()
            .map_err(|e| nvml_error("nvmlDeviceGetCount", &e))
    }

    fn device_name(&self, index: u32) -> Result<String, MeterError> {
        let call = "nvmlDeviceGetName";
        self.device(index, call)?
            .name()
            .map_err(|e| nvml_error(&format!("{call}({index})"), &e))
    }

    fn total_energy_mj(&self, index: u32) -> Result<u64, MeterError> {
        let call = "nvmlDeviceGetTotalEnergyConsumption";
        self.device(index, call)?
            .total_energy_consumption()
            .map_err(|e| nvml_error(&format!("{call}({index})"), &e))
    }

    fn power_mw(&self, index: u32) -> Result<u32, MeterError> {
        let call = "nvmlDeviceGetPowerUsage";
        self.device(index, call)?
            .power_usage()
            .map_err(|e| nvml_error(&format!("{call}({index})"), &e))
    }
}

/// Scripted state of a fake GPU.
#[derive(Debug, Clone, Default)]
pub struct FakeGpu {
    /// Name reported.
    pub name: String,
    /// Energy counter in mJ; `None` means "not supported".
    pub energy_mj: Option<u64>,
    /// Power in mW; `None` means "not supported".
    pub power_mw: Option<u32>,
    /// Make every call on this GPU fail (a GPU fallen off the bus).
    pub failing: bool,
}

/// A deterministic NVML for tests: GPUs whose counters the test sets.
#[derive(Debug, Clone, Default)]
pub struct FakeNvml {
    /// Shared so a test can change readings while a meter holds the fake.
    pub gpus: Arc<Mutex<Vec<FakeGpu>>>,
}

impl FakeNvml {
    /// A fake with these GPUs.
    pub fn new(gpus: Vec<FakeGpu>) -> FakeNvml {
        FakeNvml {
            gpus: Arc::new(Mutex::new(gpus)),
        }
    }

    /// Changes GPU `index`.
    pub fn update(&self, index: usize, change: impl FnOnce(&mut FakeGpu)) {
        let mut gpus = self.gpus.lock().expect("fake NVML lock");
        change(&mut gpus[index]);
    }

    fn with<T>(&self, index: u32, call: &str, get: impl FnOnce(&FakeGpu) -> Option<T>) -> Result<T, MeterError> {
        let gpus = self.gpus.lock().expect("fake NVML lock");
        let fail = |detail: &str| MeterError::Nvml {
            call: format!("{call}({index})"),
            detail: detail.to_string(),
        };
        let gpu = gpus.get(index as usize).ok_or_else(|| fail("invalid argument"))?;
        if gpu.failing {
            return Err(fail("the GPU has fallen off the bus"));
        }
        get(gpu).ok_or_else(|| fail("not supported"))
    }
}

impl NvmlApi for FakeNvml {
    fn device_count(&self) -> Result<u32, MeterError> {
        Ok(self.gpus.lock().expect("fake NVML lock").len() as u32)
    }
    fn device_name(&self, index: u32) -> Result<String, MeterError> {
        self.with(index, "nvmlDeviceGetName", |g| Some(g.name.clone()))
    }
    fn total_energy_mj(&self, index: u32) -> Result<u64, MeterError> {
        self.with(index, "nvmlDeviceGetTotalEnergyConsumption", |g| g.energy_mj)
    }
    fn power_mw(&self, index: u32) -> Result<u32, MeterError> {
        self.with(index, "nvmlDeviceGetPowerUsage", |g| g.power_mw)
    }
}

/// How a device's energy is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuMethod {
    /// The total-energy counter.
    Counter,
    /// Power samples integrated over time.
    IntegratedPower,
}

impl GpuMethod {
    fn label(self) -> &'static str {
        match self {
            GpuMethod::Counter => "counter",
            GpuMethod::IntegratedPower => "integrated-power",
        }
    }
}

/// Trapezoid integration of power samples. Pure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PowerIntegral {
    last: Option<(f64, Watts)>,
    energy: Joules,
}

impl PowerIntegral {
    /// Adds a sample taken at `t` seconds.
    pub fn add(&mut self, t: f64, power: Watts) {
        if let Some((t0, p0)) = self.last {
            if t > t0 {
                self.energy += Joules(0.5 * (p0.get() + power.get()) * (t - t0));
            }
        }
        self.last = Some((t, power));
    }

    /// Energy so far.
    pub fn energy(&self) -> Joules {
        self.energy
    }
}

struct GpuState {
    index: u32,
    name: String,
    method: GpuMethod,
    start_mj: Option<u64>,
    integral: PowerIntegral,
    last_timeline: Option<(f64, Joules)>,
    /// Energy since start as of the last sample.
    energy: Joules,
    fault: Option<MeterError>,
}

/// The GPUs of an [`NvmlMeter`] and what they accrued in the open region.
pub struct NvmlState {
    api: Box<dyn NvmlApi>,
    gpus: Vec<GpuState>,
    active: bool,
    region_start: Instant,
    timeline: Option<Vec<PowerSample>>,
}

impl NvmlState {
    fn begin(&mut self) {
        self.active = true;
        self.region_start = Instant::now();
        if let Some(timeline) = &mut self.timeline {
            timeline.clear();
        }
        for gpu in &mut self.gpus {
            gpu.fault = None;
            gpu.integral = PowerIntegral::default();
            gpu.last_timeline = Some((0.0, Joules(0.0)));
            gpu.start_mj = None;
            gpu.energy = Joules(0.0);
            let result = match gpu.method {
                GpuMethod::Counter => self.api.total_energy_mj(gpu.index).map(|mj| {
                    gpu.start_mj = Some(mj);
                }),
                GpuMethod::IntegratedPower => self
                    .api
                    .power_mw(gpu.index)
                    .map(|mw| gpu.integral.add(0.0, Watts(f64::from(mw) * 1e-3))),
            };
            if let Err(error) = result {
                gpu.fault = Some(error);
            }
        }
    }

    /// Energy of `gpu` since start, reading the counter or adding a power sample.
    fn sample(&mut self, t: f64) {
        for gpu in &mut self.gpus {
            if gpu.fault.is_some() {
                continue;
            }
            let energy = match gpu.method {
                GpuMethod::Counter => self.api.total_energy_mj(gpu.index).and_then(|mj| {
                    let start = gpu.start_mj.unwrap_or(mj);
                    mj.checked_sub(start)
                        .map(|d| Joules(d as f64 * 1e-3))
                        .ok_or_else(|| MeterError::Nvml {
                            call: format!("nvmlDeviceGetTotalEnergyConsumption({})", gpu.index),
                            detail: format!("counter went backwards ({start} -> {mj} mJ)"),
                        })
                }),
                GpuMethod::IntegratedPower => self.api.power_mw(gpu.index).map(|mw| {
                    gpu.integral.add(t, Watts(f64::from(mw) * 1e-3));
                    gpu.integral.energy()
                }),
            };
            match energy {
                Ok(energy) => {
                    gpu.energy = energy;
                    if let (Some(timeline), Some((t0, e0))) = (&mut self.timeline, gpu.last_timeline) {
                        if t > t0 {
                            timeline.push(PowerSample {
                                t: Seconds(t),
                                domain: format!("gpu{}/gpu", gpu.index),
                                power: Watts((energy.get() - e0.get()) / (t - t0)),
                            });
                            gpu.last_timeline = Some((t, energy));
                        }
                    }
                }
                Err(error) => gpu.fault = Some(error),
            }
        }
    }

    fn reading(&self) -> Reading {
        let domains = self
            .gpus
            .iter()
            .map(|gpu| {
                let (energy, reason) = match &gpu.fault {
                    None => (Some(gpu.energy), None),
                    Some(error) => (None, Some(error.to_string())),
                };
                DomainEnergy {
                    source: EnergySource::Nvml,
                    unit: format!("gpu{}", gpu.index),
                    domain: "gpu".into(),
                    method: gpu.method.label().into(),
                    counted: true,
                    energy,
                    reason,
                }
            })
            .collect();
        Reading {
            domains,
            counters: Vec::new(),
            timeline: self.timeline.clone().unwrap_or_default(),
        }
    }

    fn needs_polling(&self) -> bool {
        self.timeline.is_some() || self.gpus.iter().any(|g| g.method == GpuMethod::IntegratedPower)
    }
}

impl Poll for NvmlState {
    fn poll(&mut self) {
        if self.active {
            self.sample_now();
        }
    }
}

impl SampledState for NvmlState {
    const NAME: &'static str = "nvml";

    fn begin(&mut self) {
        NvmlState::begin(self);
    }

    fn is_active(&self) -> bool {
        self.active
    }

    fn sample_now(&mut self) {
        let t = self.region_start.elapsed().as_secs_f64();
        self.sample(t);
    }

    fn end(&mut self) {
        self.active = false;
    }

    fn reading(&self) -> Reading {
        NvmlState::reading(self)
    }
}

/// The NVML meter: one domain per GPU.
pub type NvmlMeter = SampledMeter<NvmlState>;

impl NvmlMeter {
    /// Probes each GPU for an energy counter, else power; fails when no GPU
    /// offers either.
    pub fn detect(api: Box<dyn NvmlApi>, timeline: Option<Duration>) -> Result<NvmlMeter, MeterError> {
        let count = api.device_count()?;
        if count == 0 {
            return Err(MeterError::NoGpu);
        }
        let mut gpus = Vec::new();
        let mut first_error = None;
        for index in 0..count {
            let name = api.device_name(index).unwrap_or_else(|_| "GPU".into());
            let method = match (api.total_energy_mj(index), api.power_mw(index)) {
                (Ok(_), _) => GpuMethod::Counter,
                (Err(_), Ok(_)) => GpuMethod::IntegratedPower,
                (Err(_), Err(error)) => {
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            gpus.push(GpuState {
                index,
                name,
                method,
                start_mj: None,
                integral: PowerIntegral::default(),
                last_timeline: None,
                energy: Joules(0.0),
                fault: None,
            });
        }
        if gpus.is_empty() {
            return Err(first_error.unwrap_or(MeterError::NoGpu));
        }
        let description = gpus
            .iter()
            .map(|g| format!("gpu{} {} ({})", g.index, g.name, g.method.label()))
            .collect::<Vec<_>>()
            .join(", ");
        let state = NvmlState {
            api,
            gpus,
            active: false,
            region_start: Instant::now(),
            timeline: timeline.map(|_| Vec::new()),
        };
        let interval = state
            .needs_polling()
            .then(|| timeline.map_or(POWER_SAMPLING_INTERVAL, |t| t.min(POWER_SAMPLING_INTERVAL)));
        SampledMeter::spawn(state, interval, description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Meter;

    fn gpu(energy_mj: Option<u64>, power_mw: Option<u32>) -> FakeGpu {
        FakeGpu {
            name: "Fake H100".into(),
            energy_mj,
            power_mw,
            failing: false,
        }
    }

    #[test]
    fn energy_counter_is_differenced() {
        let fake = FakeNvml::new(vec![gpu(Some(1_000_000), Some(300_000))]);
        let mut meter = NvmlMeter::detect(Box::new(fake.clone()), None).unwrap();
        assert!(!meter.is_sampling());
        meter.start().unwrap();
        fake.update(0, |g| g.energy_mj = Some(1_250_500));
        let reading = meter.stop().unwrap();
        let domain = &reading.domains[0];
        assert_eq!(domain.method, "counter");
        assert!((domain.energy.unwrap().get() - 250.5).abs() < 1e-9);
    }

    #[test]
    fn power_is_integrated_where_no_counter() {
        let fake = FakeNvml::new(vec![gpu(None, Some(100_000))]);
        let meter = NvmlMeter::detect(Box::new(fake.clone()), None).unwrap();
        assert!(meter.is_sampling());
        assert!(meter.describe().contains("integrated-power"));
    }

    #[test]
    fn trapezoid() {
        let mut integral = PowerIntegral::default();
        integral.add(0.0, Watts(100.0));
        integral.add(1.0, Watts(200.0));
        integral.add(3.0, Watts(200.0));
        assert!((integral.energy().get() - 550.0).abs() < 1e-9);
    }

    #[test]
    fn gpu_failing_mid_run_leaves_reason() {
        let fake = FakeNvml::new(vec![gpu(Some(0), None)]);
        let mut meter = NvmlMeter::detect(Box::new(fake.clone()), None).unwrap();
        meter.start().unwrap();
        fake.update(0, |g| g.failing = true);
        let reading = meter.stop().unwrap();
        assert_eq!(reading.domains[0].energy, None);
        assert!(reading.domains[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("fallen off the bus"));
    }

    #[test]
    fn no_usable_gpu_is_unavailable() {
        let fake = FakeNvml::new(vec![gpu(None, None)]);
        let error = NvmlMeter::detect(Box::new(fake), None).err().unwrap();
        assert!(error.to_string().contains("not supported"));
        let none = FakeNvml::new(vec![]);
        assert_eq!(NvmlMeter::detect(Box::new(none), None).err(), Some(MeterError::NoGpu));
    }

    #[test]
    fn real_library_absent_gives_typed_reason() {
        // On machines without the driver this is the reason users see; with a
        // driver the load succeeds and there is nothing to check.
        if let Err(error) = RealNvml::load() {
            assert!(error.to_string().starts_with("NVML library not found"));
        }
    }
}
