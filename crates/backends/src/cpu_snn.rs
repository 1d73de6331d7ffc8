//! The spiking network's inference on the pure-Rust CPU backend: per layer, the input
//! currents of all time steps in one product through the backend's GEMM (I = S·Wᵀ for the
//! batch's steps × presynaptic spikes, since a current depends on no state), then the LIF
//! recurrence over the steps, elementwise. The same dense formulation as libtorch's, so the
//! analytic FLOP count of [`crate::models::Layer::LifDense`] holds for both; synaptic events (spikes
//! × fan-out) are counted from the spikes each call delivers, apart from FLOPs.
//!
//! Verification: the logits against [`ModelBench::verify`] and the call's synaptic events
//! against [`ModelBench::reference_events`], exactly (the seeded parameters are dyadic, so
//! the f32 pass is exact and a threshold decision cannot differ from the reference's).

use crate::cpu::{gemm_into, CpuReal};
use crate::kernels::Verification;
use crate::models::{Layer, ModelBench, LIF_DECAY, LIF_THRESHOLD};
use crate::units::Seconds;
use crate::{Batch, Prepared};
use std::time::Instant;

/// Inference of [`crate::models::Architecture::Spiking`] with preallocated buffers.
pub struct CpuSnn<T> {
    layers: Vec<Layer>,
    parameters: Vec<Vec<T>>,
    batch: usize,
    /// Each layer's output, batch × its output length.
    outputs: Vec<Vec<T>>,
    /// Input currents of the widest layer, batch × steps × outputs.
    currents: Vec<T>,
}

impl<T: CpuReal> CpuSnn<T> {
    /// A network for `bench`'s architecture and batch, with `parameters` in
    /// [`ModelBench::parameter_shapes`] order.
    pub fn new(bench: &ModelBench, parameters: Vec<Vec<T>>) -> Self {
        let layers = bench.architecture.layers();
        let batch = bench.batch as usize;
        let outputs = layers
            .iter()
            .map(|l| vec![T::default(); batch * l.output_len() as usize])
            .collect();
        let widest = layers
            .iter()
            .map(|l| match *l {
                Layer::LifDense { .. } => l.output_len(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        CpuSnn {
            layers,
            parameters,
            batch,
            outputs,
            currents: vec![T::default(); batch * widest as usize],
        }
    }

    /// Forward pass of the batch (`input`: per sample steps × inputs spikes of 0 or 1);
    /// returns the logits and the synaptic events delivered.
    ///
    /// # Panics
    /// On a layer other than `LifDense` and `TimeMean`.
    pub fn forward(&mut self, input: &[T]) -> (&[T], u64) {
        let threads = rayon::current_num_threads();
        let (one, zero) = (T::from_f64(1.0), T::default());
        let (decay, threshold) = (T::from_f64(LIF_DECAY), T::from_f64(LIF_THRESHOLD));
        let mut events = 0u64;
        let mut next = 0;
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = self.outputs.split_at_mut(l);
            let x: &[T] = if l == 0 { input } else { &done[l - 1] };
            let y = &mut rest[0];
            match *layer {
                Layer::LifDense {
                    inputs,
                    outputs,
                    steps,
                    spiking,
                } => {
                    let (n_in, n_out, steps) = (inputs as usize, outputs as usize, steps as usize);
                    let spikes_in = x.iter().filter(|&&s| s != zero).count() as u64;
                    events += spikes_in * outputs;
                    let rows = self.batch * steps;
                    let currents = &mut self.currents[..rows * n_out];
                    gemm_into(
                        threads,
                        rows,
                        n_out,
                        n_in,
                        currents,
                        x,
                        &self.parameters[next],
                        true,
                        one,
                    );
                    let bias = &self.parameters[next + 1];
                    next += 2;
                    for (sample_currents, sample_out) in currents.chunks(steps * n_out).zip(y.chunks_mut(steps * n_out))
                    {
                        // Step 0 starts from V = 0; step t reads V from step t − 1's output,
                        // which for a spiking layer holds the spike, so V is kept apart.
                        let mut v = vec![zero; n_out];
                        for (step_currents, step_out) in sample_currents.chunks(n_out).zip(sample_out.chunks_mut(n_out))
                        {
                            for (((v, &i), &b), out) in v.iter_mut().zip(step_currents).zip(bias).zip(step_out) {
                                *v = decay * *v + (i + b);
                                if spiking {
                                    let fired = *v >= threshold;
                                    *out = if fired { one } else { zero };
                                    if fired {
                                        *v = zero;
                                    }
                                } else {
                                    *out = *v;
                                }
                            }
                        }
                    }
                }
                Layer::TimeMean { units, steps } => {
                    let (units, steps) = (units as usize, steps as usize);
                    let scale = T::from_f64(1.0 / steps as f64);
                    for (trace, out) in x.chunks(units * steps).zip(y.chunks_mut(units)) {
                        out.iter_mut().for_each(|o| *o = zero);
                        for step in trace.chunks(units) {
                            out.iter_mut().zip(step).for_each(|(o, &v)| *o = *o + v);
                        }
                        out.iter_mut().for_each(|o| *o = *o * scale);
                    }
                }
                ref other => panic!("the spiking network has no {other:?} layer"),
            }
        }
        (self.outputs.last().expect("layers"), events)
    }
}

/// The spiking network's inference on the CPU backend, buffers allocated here.
pub fn prepare<'a, T: CpuReal>(pool: &'a rayon::ThreadPool, bench: &ModelBench) -> Box<dyn Prepared + 'a> {
    let parameters = bench.parameters::<T>();
    Box::new(SnnRun {
        pool,
        bench: bench.clone(),
        net: CpuSnn::new(bench, parameters.clone()),
        parameters,
        input: bench.input::<T>(),
    })
}

struct SnnRun<'a, T> {
    pool: &'a rayon::ThreadPool,
    bench: ModelBench,
    net: CpuSnn<T>,
    parameters: Vec<Vec<T>>,
    input: Vec<T>,
}

impl<T: CpuReal> Prepared for SnnRun<'_, T> {
    fn verify(&mut self) -> Verification {
        let (net, input) = (&mut self.net, &self.input);
        let (logits, events) = self.pool.install(|| {
            let (logits, events) = net.forward(input);
            (logits.to_vec(), events)
        });
        let mut v = self.bench.verify(&self.parameters, &self.input, &logits);
        let expected = self.bench.reference_events(&self.parameters, &self.input);
        if events != expected {
            return Verification::failed(format!(
                "{}; but {events} synaptic events, the reference delivers {expected}",
                v.detail
            ));
        }
        v.detail = format!("{}; {events} synaptic events, as the reference", v.detail);
        v
    }

    fn run_batch(&mut self, iters: u64) -> Batch {
        let (net, input) = (&mut self.net, &self.input);
        self.pool.install(|| {
            let start = Instant::now();
            let mut events = 0;
            for _ in 0..iters {
                events += net.forward(input).1;
            }
            Batch {
                elapsed: Seconds::from_duration(start.elapsed()),
                events,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Architecture;

    #[test]
    fn cpu_forward_matches_the_reference_exactly_and_counts_events() {
        let bench = ModelBench {
            architecture: Architecture::Spiking { hidden: 32, steps: 8 },
            batch: 3,
            train: false,
        };
        let params = bench.parameters::<f32>();
        let input = bench.input::<f32>();
        let mut net = CpuSnn::new(&bench, params.clone());
        let (logits, events) = net.forward(&input);
        let logits = logits.to_vec();
        // Dyadic parameters and 0/1 spikes: the f32 pass is exact, equal to the f64 reference.
        let expect = bench.reference(&params, &input);
        assert_eq!(logits.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), expect);
        assert_eq!(events, bench.reference_events(&params, &input));
        // A second call gives the same (state is reset per call).
        let (again, events_again) = net.forward(&input);
        assert_eq!(again, logits.as_slice());
        assert_eq!(events_again, events);
        // And the benchmark verifies, reporting the events.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut run = prepare::<f32>(&pool, &bench);
        let v = run.verify();
        assert!(v.passed, "{}", v.detail);
        assert!(v.detail.contains("synaptic events"), "{}", v.detail);
        assert_eq!(run.run_batch(2).events, 2 * events);
    }
}
