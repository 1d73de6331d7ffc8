//! The CUDA engine (feature `cuda`): the kernels of [`super::KERNELS_CU`] compiled by NVRTC for
//! the device at hand, the network uploaded once, state kept on the device, and two launches
//! per step on one stream. `cudarc` opens libcuda and libnvrtc with dlopen when the run starts,
//! so a build needs neither a CUDA toolkit nor a GPU.

use std::sync::Arc;
use std::time::Instant;

use cudarc::driver::{sys, CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions};

use super::{grids, GpuNetwork, Ring, SpikeStats, DELIVER_BLOCK, KERNELS_CU, UPDATE_BLOCK, WARP};
use crate::{Error, Params};

/// Steps simulated between two drains of the record buffer (200 ms of biological time). With
/// the 2 ms refractory period a neuron spikes at most once in 20 steps, so the buffer's
/// capacity, `neurons × (CHUNK_STEPS / 20 + 1)`, cannot overflow.
pub const CHUNK_STEPS: u64 = 2_000;

/// What the driver says of the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// CUDA ordinal.
    pub ordinal: usize,
    /// Device name.
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Streaming multiprocessors.
    pub multiprocessors: u32,
    /// Device memory, bytes.
    pub memory_bytes: u64,
}

fn device_error(call: &str, e: impl std::fmt::Display) -> Error {
    Error::Device {
        call: call.to_string(),
        message: e.to_string(),
    }
}

/// Checks, without panicking, that libcuda and libnvrtc load, the driver initialises and
/// device `ordinal` exists; returns what the driver says of it.
pub fn probe(ordinal: usize) -> Result<DeviceInfo, Error> {
    // SAFETY: only dlopen/dlclose of the candidate names; no symbol is called.
    if !unsafe { sys::is_culib_present() } {
        return Err(Error::Device {
            call: "libcuda.so".into(),
            message: "not loadable: no NVIDIA driver here, or it is not on the loader path (LD_LIBRARY_PATH)".into(),
        });
    }
    let count = CudaContext::device_count().map_err(|e| device_error("cuInit / cuDeviceGetCount", e))?;
    if count <= 0 || ordinal >= count as usize {
        return Err(Error::Device {
            call: format!("cuda:{ordinal}"),
            message: format!("the CUDA driver sees {count} device(s)"),
        });
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(Error::Device {
            call: "libnvrtc.so".into(),
            message: "not loadable: NVRTC (CUDA's run-time compiler; a CUDA toolkit, or the nvidia-cuda-nvrtc wheel) \
                      must be on LD_LIBRARY_PATH under the name libnvrtc.so or libnvrtc.so.12 (link a libnvrtc.so.13 \
                      to libnvrtc.so)"
                .into(),
        });
    }
    let ctx = CudaContext::new(ordinal).map_err(|e| device_error("cuDevicePrimaryCtxRetain", e))?;
    let attribute = |a| ctx.attribute(a).map_err(|e| device_error("cuDeviceGetAttribute", e));
    Ok(DeviceInfo {
        ordinal,
        name: ctx.name().map_err(|e| device_error("cuDeviceGetName", e))?,
        compute_capability: (
            attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?,
            attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?,
        ),
        multiprocessors: attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)? as u32,
        memory_bytes: ctx.total_mem().map_err(|e| device_error("cuDeviceTotalMem", e))? as u64,
    })
}

/// The kernels compiled by NVRTC for compute capability `major.minor`, with the options the
/// engine runs them with (no FMA contraction). Needs libnvrtc, not a GPU.
pub fn compile(major: i32, minor: i32) -> Result<cudarc::nvrtc::Ptx, Error> {
    compile_ptx_with_opts(
        KERNELS_CU,
        CompileOptions {
            fmad: Some(false),
            options: vec![format!("--gpu-architecture=compute_{major}{minor}")],
            name: Some("microcircuit.cu".into()),
            ..Default::default()
        },
    )
    .map_err(|e| device_error("nvrtcCompileProgram (gpu/kernels.cu)", e))
}

/// The microcircuit on one GPU.
pub struct CudaMicrocircuit {
    /// What the driver says of the device.
    pub device: DeviceInfo,
    /// The host's copy of the network (row lengths for the event count, populations).
    pub net: GpuNetwork,
    /// Statistics of the timed windows' spikes.
    pub stats: SpikeStats,
    /// Seconds to build the network on the host (connectivity included).
    pub connect_s: f64,
    /// Seconds to compile the kernels and upload the network.
    pub upload_s: f64,
    stream: Arc<CudaStream>,
    update: CudaFunction,
    deliver: CudaFunction,
    ring: Ring,
    row_start: CudaSlice<u64>,
    words: CudaSlice<u64>,
    pop_start: CudaSlice<u32>,
    i_e: CudaSlice<f64>,
    prop: CudaSlice<f64>,
    v: CudaSlice<f64>,
    i_ex: CudaSlice<f64>,
    i_in: CudaSlice<f64>,
    r_ref: CudaSlice<u32>,
    cells: CudaSlice<f64>,
    spikes: [CudaSlice<u32>; 2],
    counts: [CudaSlice<u32>; 2],
    record: CudaSlice<u32>,
    record_count: CudaSlice<u64>,
    record_capacity: u64,
    max_warps: u32,
    step: u64,
}

impl CudaMicrocircuit {
    /// Builds the network of `p` on the host, compiles the kernels for device `ordinal` and
    /// uploads everything; nothing has been simulated yet.
    pub fn new(p: &Params, ordinal: usize) -> Result<CudaMicrocircuit, Error> {
        let device = probe(ordinal)?;
        let t0 = Instant::now();
        let net = GpuNetwork::build(p)?;
        let connect_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let ctx = CudaContext::new(ordinal).map_err(|e| device_error("cuDevicePrimaryCtxRetain", e))?;
        // One stream and no cross-stream hazards: cudarc's per-argument event tracking would
        // add work to every launch.
        // SAFETY: every buffer is used on this one stream only.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.default_stream();
        let (major, minor) = device.compute_capability;
        let ptx = compile(major, minor)?;
        let module = ctx.load_module(ptx).map_err(|e| device_error("cuModuleLoadData", e))?;
        let update = module
            .load_function("update")
            .map_err(|e| device_error("cuModuleGetFunction(update)", e))?;
        let deliver = module
            .load_function("deliver")
            .map_err(|e| device_error("cuModuleGetFunction(deliver)", e))?;
        let up = |call: &'static str| move |e| device_error(call, e);
        let n = net.neurons as usize;
        let ring = net.ring();
        let record_capacity = u64::from(net.neurons) * (CHUNK_STEPS / 20 + 1);
        let prop = net.prop_array();
        let engine = CudaMicrocircuit {
            row_start: stream.clone_htod(&net.row_start).map_err(up("upload row_start"))?,
            words: stream.clone_htod(&net.words).map_err(up("upload synapses"))?,
            pop_start: stream.clone_htod(&net.pop_start).map_err(up("upload pop_start"))?,
            i_e: stream.clone_htod(&net.i_e).map_err(up("upload i_e"))?,
            prop: stream.clone_htod(&prop).map_err(up("upload propagators"))?,
            v: stream.clone_htod(&net.v0).map_err(up("upload v"))?,
            i_ex: stream.alloc_zeros::<f64>(n).map_err(up("alloc i_ex"))?,
            i_in: stream.alloc_zeros::<f64>(n).map_err(up("alloc i_in"))?,
            r_ref: stream.alloc_zeros::<u32>(n).map_err(up("alloc r_ref"))?,
            cells: stream.alloc_zeros::<f64>(ring.cells()).map_err(up("alloc ring"))?,
            spikes: [
                stream.alloc_zeros::<u32>(n).map_err(up("alloc spikes"))?,
                stream.alloc_zeros::<u32>(n).map_err(up("alloc spikes"))?,
            ],
            counts: [
                stream.alloc_zeros::<u32>(1).map_err(up("alloc count"))?,
                stream.alloc_zeros::<u32>(1).map_err(up("alloc count"))?,
            ],
            record: stream
                .alloc_zeros::<u32>(2 * record_capacity as usize)
                .map_err(up("alloc record"))?,
            record_count: stream.alloc_zeros::<u64>(1).map_err(up("alloc record count"))?,
            record_capacity,
            // Every SM full of warps (64 per SM on Hopper and Ampere).
            max_warps: device.multiprocessors.max(1) * 64,
            stats: SpikeStats::new(net.neurons),
            ring,
            net,
            device,
            connect_s,
            upload_s: 0.0,
            stream,
            update,
            deliver,
            step: 0,
        };
        engine
            .stream
            .synchronize()
            .map_err(|e| device_error("cuStreamSynchronize", e))?;
        Ok(CudaMicrocircuit {
            upload_s: t1.elapsed().as_secs_f64(),
            ..engine
        })
    }

    /// Steps simulated so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Launches steps `self.step .. self.step + steps` (at most [`CHUNK_STEPS`]) without
    /// waiting for them.
    fn launch(&mut self, steps: u64) -> Result<(), Error> {
        let (update_grid, deliver_grid) = grids(self.net.neurons, self.max_warps);
        let update_cfg = LaunchConfig {
            grid_dim: (update_grid, 1, 1),
            block_dim: (UPDATE_BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let deliver_cfg = LaunchConfig {
            grid_dim: (deliver_grid, 1, 1),
            block_dim: (DELIVER_BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        debug_assert_eq!(DELIVER_BLOCK % WARP, 0);
        let n = self.net.neurons;
        let slots = self.ring.slots;
        let ref_counts = self.net.prop.ref_counts;
        let capacity = self.record_capacity;
        for s in self.step..self.step + steps {
            let k = (s & 1) as usize;
            let mut b = self.stream.launch_builder(&self.update);
            b.arg(&n)
                .arg(&s)
                .arg(&slots)
                .arg(&self.pop_start)
                .arg(&self.i_e)
                .arg(&self.prop)
                .arg(&ref_counts)
                .arg(&mut self.v)
                .arg(&mut self.i_ex)
                .arg(&mut self.i_in)
                .arg(&mut self.r_ref)
                .arg(&mut self.cells)
                .arg(&mut self.spikes[k])
                .arg(&mut self.counts[k])
                .arg(&mut self.record)
                .arg(&mut self.record_count)
                .arg(&capacity);
            // SAFETY: the arguments match `update`'s parameters in kernels.cu, in order and type;
            // every index the kernel forms is bounded by n, the ring's cells and the capacity.
            unsafe { b.launch(update_cfg) }.map_err(|e| device_error("cuLaunchKernel(update)", e))?;
            let (this, other) = self.counts.split_at_mut(1);
            let (count, next) = if k == 0 {
                (&this[0], &mut other[0])
            } else {
                (&other[0], &mut this[0])
            };
            let mut b = self.stream.launch_builder(&self.deliver);
            b.arg(&n)
                .arg(&s)
                .arg(&slots)
                .arg(&self.row_start)
                .arg(&self.words)
                .arg(&self.spikes[k])
                .arg(count)
                .arg(next)
                .arg(&mut self.cells);
            // SAFETY: as above for `deliver`; row bounds come from the uploaded CSR.
            unsafe { b.launch(deliver_cfg) }.map_err(|e| device_error("cuLaunchKernel(deliver)", e))?;
        }
        self.step += steps;
        Ok(())
    }

    /// Simulates `steps` steps: the device is synchronised before the clock starts and before
    /// it is read, chunk by chunk, and between chunks the spikes are drained (untimed). Returns
    /// the timed seconds and the spikes (id, step), sorted by step then id; `count` adds them
    /// to the statistics of the timed windows.
    pub fn advance(&mut self, steps: u64, count: bool) -> Result<(f64, Vec<(u32, u32)>), Error> {
        let sync = |stream: &CudaStream| stream.synchronize().map_err(|e| device_error("cuStreamSynchronize", e));
        let mut wall = 0.0;
        let mut spikes = Vec::new();
        let mut left = steps;
        while left > 0 {
            let chunk = left.min(CHUNK_STEPS);
            sync(&self.stream)?;
            let t = Instant::now();
            self.launch(chunk)?;
            sync(&self.stream)?;
            wall += t.elapsed().as_secs_f64();
            spikes.extend(self.drain()?);
            left -= chunk;
        }
        spikes.sort_unstable_by_key(|&(id, s)| (s, id));
        if count {
            self.stats.add(&self.net, &spikes);
        }
        Ok((wall, spikes))
    }

    /// The recorded spikes since the last drain; resets the buffer.
    fn drain(&mut self) -> Result<Vec<(u32, u32)>, Error> {
        let recorded = self
            .stream
            .clone_dtoh(&self.record_count)
            .map_err(|e| device_error("download record count", e))?[0];
        if recorded > self.record_capacity {
            return Err(Error::TooLarge {
                what: format!(
                    "{recorded} spikes in one chunk of {CHUNK_STEPS} steps, more than the record buffer's {} \
                     (a neuron spiking faster than its refractory period allows)",
                    self.record_capacity
                ),
            });
        }
        if recorded == 0 {
            return Ok(Vec::new());
        }
        let pairs = self
            .stream
            .clone_dtoh(&self.record.slice(0..2 * recorded as usize))
            .map_err(|e| device_error("download spikes", e))?;
        self.stream
            .memset_zeros(&mut self.record_count)
            .map_err(|e| device_error("reset record count", e))?;
        Ok(pairs.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }

    /// Device memory this run allocated, by part.
    pub fn device_memory(&self) -> super::DeviceMemory {
        self.net.device_memory(self.record_capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernels compile for Ampere and Hopper with the engine's options, into the two
    /// entry points with f64 atomics and no fused multiply-adds in the neuron update. NVRTC
    /// runs without a GPU; `scripts/test.sh` installs it (the nvidia-cuda-nvrtc-cu12 wheel)
    /// and runs this test.
    #[test]
    #[ignore = "needs NVRTC: LD_LIBRARY_PATH with libnvrtc.so.12 (scripts/test.sh installs the nvidia-cuda-nvrtc-cu12 wheel)"]
    fn the_kernels_compile_with_nvrtc() {
        // SAFETY: dlopen/dlclose of the candidate names only.
        assert!(
            unsafe { cudarc::nvrtc::sys::is_culib_present() },
            "libnvrtc is not loadable: set LD_LIBRARY_PATH"
        );
        for (major, minor) in [(8, 0), (9, 0)] {
            let ptx = compile(major, minor).unwrap().to_src();
            assert!(ptx.contains(&format!(".target sm_{major}{minor}")), "{major}.{minor}");
            assert!(ptx.contains(".entry update") && ptx.contains(".entry deliver"));
            assert!(ptx.contains("atom.global.add.f64"), "f64 atomics in deliver");
            assert!(
                !ptx.contains("fma.rn.f64"),
                "no fused multiply-add: each operation rounds as on the CPU"
            );
        }
    }
}
