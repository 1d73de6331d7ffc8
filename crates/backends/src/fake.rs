//! A deterministic fake backend for tests of the runner, store, CLI and reports.
//!
//! It computes nothing: the time of a call is modelled as
//! `max(FLOP / 10 GFLOP/s, bytes / 10 GB/s) + 1 µs`, times a ±1% deterministic jitter, so
//! integration tests see stable, plausible numbers without depending on the machine's noise.
//! Its records say `backend=fake` everywhere they appear. Two knobs, for tests:
//! `BRAINGAP_FAKE_SLEEP_MS` sleeps that long while preparing each benchmark (so a test can
//! kill a run midway), and `BRAINGAP_FAKE_FAIL` is a regex of benchmark names whose
//! verification fails (so failure handling is testable).

use super::{Backend, BackendError, Batch, Prepared};
use crate::kernels::inputs::{splitmix64, unit};
use crate::kernels::{BenchSpec, Kernel, Verification};
use crate::machine::fnv1a;
use crate::units::Seconds;

/// Modelled compute rate of the fake.
pub const FAKE_FLOPS_PER_S: f64 = 1e10;
/// Modelled bandwidth of the fake.
pub const FAKE_BYTES_PER_S: f64 = 1e10;
/// Clock the fake reports.
pub const FAKE_CLOCK_GHZ: f64 = 3.0;

/// The fake backend.
#[derive(Debug, Clone, Default)]
pub struct FakeBackend {
    threads: u64,
    sleep_ms: u64,
    fail: Option<regex::Regex>,
}

impl FakeBackend {
    /// A fake with `threads` nominal threads and the given knobs.
    pub fn new(threads: u64, sleep_ms: u64, fail: Option<regex::Regex>) -> FakeBackend {
        FakeBackend {
            threads,
            sleep_ms,
            fail,
        }
    }

    /// Modelled time of one call.
    pub fn modelled_call_time(spec: &BenchSpec) -> f64 {
        (spec.flops().0 / FAKE_FLOPS_PER_S).max(spec.bytes().0 / FAKE_BYTES_PER_S) + 1e-6
    }
}

struct FakePrepared {
    call_time: f64,
    seed: u64,
    batches: u64,
    events_per_call: u64,
    fails: bool,
    name: String,
}

impl Prepared for FakePrepared {
    fn verify(&mut self) -> Verification {
        if self.fails {
            Verification::failed(format!("fake mismatch planted by BRAINGAP_FAKE_FAIL for {}", self.name))
        } else {
            Verification::exact(1, "fake backend: nothing computed, nothing compared (test double)")
        }
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        self.batches += 1;
        let jitter = 1.0 + 0.02 * (unit(self.seed, self.batches) - 0.5);
        Batch {
            elapsed: Seconds(self.call_time * iters as f64 * jitter),
            events: self.events_per_call.saturating_mul(iters),
        }
    }
}

impl Backend for FakeBackend {
    fn kind(&self) -> braingap_core::backend_kind::BackendKind {
        braingap_core::backend_kind::BackendKind::Fake
    }

    fn device(&self) -> String {
        "cpu".into()
    }

    fn threads(&self) -> u64 {
        self.threads
    }

    fn supports(&self, _spec: &BenchSpec) -> Result<(), BackendError> {
        Ok(())
    }

    fn prepare<'a>(&'a self, spec: &BenchSpec) -> Result<Box<dyn Prepared + 'a>, BackendError> {
        if self.sleep_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.sleep_ms));
        }
        let name = spec.name();
        let events_per_call = match &spec.kernel {
            Kernel::SpmvSynapses(k) => (k.nnz() as f64 * k.spike_fraction).round() as u64,
            Kernel::LifStep(k) => k.neurons / 50,
            Kernel::ScatterAdd(k) => k.events(),
            // 4 spikes/s per neuron over the in-degree: events of 1 ms.
            Kernel::Microcircuit(k) => k
                .sim_params(1)
                .ok()
                .and_then(|p| braingap_microcircuit::Derived::new(&p).ok())
                .map_or(0, |d| (d.total_synapses() as f64 * 4e-3) as u64),
            _ => 0,
        };
        Ok(Box::new(FakePrepared {
            // The microcircuit's work is its events (1e8 per modelled second), not FLOPs.
            call_time: FakeBackend::modelled_call_time(spec) + events_per_call as f64 * 1e-8,
            seed: splitmix64(fnv1a(&name)),
            batches: 0,
            events_per_call,
            fails: self.fail.as_ref().is_some_and(|re| re.is_match(&name)),
            name,
        }))
    }

    fn clock_ghz(&self) -> Option<f64> {
        Some(FAKE_CLOCK_GHZ)
    }
}
