//! The `cuda` backend (feature `cuda`): the cortical microcircuit on an NVIDIA GPU, through
//! `braingap-microcircuit`'s CUDA engine ([`braingap_microcircuit::gpu`]).
//!
//! It runs the same benchmark as the CPU backend's microcircuit ([`super::microcircuit`]) and
//! writes the same files. Verifying runs the first [`VERIFY_MS`] of biological time on the GPU
//! and compares every spike, bit for bit, with the naive reference simulator's (the GPU's f64
//! atomic sums are exact, so their order cannot change a spike; the engine's docs say why),
//! then warms the network up, untimed. Each timed call is 1 ms of biological time: the device
//! is synchronised before the clock starts and before it is read, and the spikes are drained
//! outside the clock. A batch's events are the recurrent synaptic events of its spikes (Σ of
//! the sources' out-degrees), counted exactly on the host.

use super::microcircuit::{compare_spikes, observations, steps, RunFacts, RASTER_MS, VERIFY_MS};
use super::{Backend, BackendError, BackendKind, Batch, Observation, Prepared};
use crate::kernels::microcircuit::{Microcircuit, MS_PER_CALL};
use crate::kernels::{BenchSpec, Kernel, Verification};
use crate::units::Seconds;
use braingap_microcircuit::gpu::cuda::{probe, CudaMicrocircuit, DeviceInfo};
use braingap_microcircuit::gpu::result as gpu_result;
use braingap_microcircuit::{memory_estimate, reference, Params};

/// The microcircuit on CUDA device `ordinal`.
pub struct CudaBackend {
    info: DeviceInfo,
    threads: usize,
}

impl CudaBackend {
    /// Checks that the driver, NVRTC and device `ordinal` are there; `threads` host threads
    /// build the network.
    pub fn new(ordinal: usize, threads: usize) -> Result<CudaBackend, BackendError> {
        let info = probe(ordinal).map_err(|e| BackendError::Setup {
            backend: "cuda".into(),
            reason: e.to_string(),
        })?;
        Ok(CudaBackend { info, threads })
    }
}

impl Backend for CudaBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn device(&self) -> String {
        format!("cuda:{}", self.info.ordinal)
    }

    fn threads(&self) -> u64 {
        self.threads as u64
    }

    fn supports(&self, spec: &BenchSpec) -> Result<(), BackendError> {
        let unsupported = |reason: &str| BackendError::Unsupported {
            backend: "cuda".into(),
            benchmark: spec.name(),
            reason: reason.into(),
        };
        match &spec.kernel {
            Kernel::Microcircuit(k) => {
                let p = k.sim_params(self.threads).map_err(|r| unsupported(&r))?;
                braingap_microcircuit::Derived::new(&p).map_err(|e| unsupported(&e.to_string()))?;
                if k.input != crate::kernels::microcircuit::Input::Dc {
                    return Err(unsupported(
                        "the GPU engine runs DC background input (the reference's default) only",
                    ));
                }
                Ok(())
            }
            _ => Err(unsupported(
                "the cuda backend runs the microcircuit only; kernels and models run on GPUs through --backend torch",
            )),
        }
    }

    fn prepare<'a>(&'a self, spec: &BenchSpec) -> Result<Box<dyn Prepared + 'a>, BackendError> {
        self.supports(spec)?;
        let Kernel::Microcircuit(kernel) = &spec.kernel else {
            unreachable!("supports() lets only the microcircuit through");
        };
        let setup = |reason: String| BackendError::Setup {
            backend: "cuda".into(),
            reason: format!("{}: {reason}", spec.name()),
        };
        let params = kernel.sim_params(self.threads).map_err(setup)?;
        let engine = CudaMicrocircuit::new(&params, self.info.ordinal).map_err(|e| setup(e.to_string()))?;
        Ok(Box::new(CudaMicrocircuitRun {
            kernel: kernel.clone(),
            params,
            engine,
            warmup_s: 0.0,
            timed_s: 0.0,
            timed_steps: 0,
        }))
    }

    fn clock_ghz(&self) -> Option<f64> {
        None
    }
}

/// A network on the GPU, with the times of its phases.
struct CudaMicrocircuitRun {
    kernel: Microcircuit,
    params: Params,
    engine: CudaMicrocircuit,
    warmup_s: f64,
    timed_s: f64,
    timed_steps: u64,
}

impl CudaMicrocircuitRun {
    /// `advance`, or the device call that failed (the runner has no error path mid-run: a
    /// failing device stops the run with the call named).
    fn advance(&mut self, steps: u64, count: bool) -> (f64, Vec<(u32, u32)>) {
        self.engine
            .advance(steps, count)
            .unwrap_or_else(|e| panic!("the GPU microcircuit failed on {}: {e}", self.engine.device.name))
    }
}

impl Prepared for CudaMicrocircuitRun {
    fn verify(&mut self) -> Verification {
        if self.engine.step() > 0 {
            return Verification::failed("the network has already been stepped: verify runs once, first");
        }
        let check_steps = steps(VERIFY_MS.min(self.kernel.warmup_ms));
        let expected = reference::spikes(&self.params, check_steps);
        let (wall, got) = self.advance(check_steps, false);
        self.warmup_s += wall;
        let verification = match expected {
            Ok(expected) => compare_spikes(&expected, &got),
            Err(e) => Verification::failed(format!("the reference simulator cannot run this network: {e}")),
        };
        if verification.passed {
            let rest = steps(self.kernel.warmup_ms).saturating_sub(check_steps);
            let (wall, _) = self.advance(rest, false);
            self.warmup_s += wall;
        }
        verification
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let before = self.engine.stats.recurrent_events;
        let n = iters * steps(MS_PER_CALL);
        let (wall, _) = self.advance(n, true);
        self.timed_s += wall;
        self.timed_steps += n;
        Batch {
            elapsed: Seconds(wall),
            events: self.engine.stats.recurrent_events - before,
        }
    }

    fn observations(&mut self) -> Vec<Observation> {
        let memory = memory_estimate(&self.params).unwrap_or_default();
        let result = gpu_result(
            &self.params,
            &self.engine.net,
            &self.engine.stats,
            self.timed_steps,
            [self.engine.upload_s, self.engine.connect_s, self.warmup_s, self.timed_s],
            memory,
        );
        let start_step = self.engine.step();
        let (_, raster) = self.advance(steps(RASTER_MS), false);
        let device_memory = self.engine.device_memory().total();
        observations(
            &result,
            &self.kernel,
            &self.engine.net.derived,
            RunFacts {
                threads: self.params.threads,
                memory_bytes: device_memory,
                peak_rss_scope: "process VmHWM since it started (host: the network's build)",
                device: format!("cuda:{} {}", self.engine.device.ordinal, self.engine.device.name),
                device_memory_bytes: Some(device_memory),
            },
            Some((start_step, raster)),
        )
    }
}
