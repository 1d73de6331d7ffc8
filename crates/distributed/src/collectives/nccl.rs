//! NCCL on the NVIDIA GPUs of this process (through `cudarc`): what must be present at run
//! time (libcuda, a device, libnccl; cudarc opens them with dlopen, so the build needs none
//! of them), and, with feature `nccl`, a [`CollectiveEngine`](crate::collectives::CollectiveEngine)
//! (`NcclEngine`) that plays every visible GPU as one rank of one communicator
//! (`ncclCommInitAll`), as nccl-tests does with `-g N`: one thread issues each collective on
//! every GPU inside one `ncclGroupStart`/`ncclGroupEnd`, buffers live in device memory, and
//! a call's completion is awaited on the GPUs' streams.
//!
//! The bookkeeping (reasons, version codes, all-to-all blocks, the launcher check) is
//! compiled in every build, so the default test run covers it without cudarc.

use crate::collectives::Layout;
#[cfg(feature = "nccl")]
pub use engine::{probe, NcclEngine};

/// Why NCCL cannot run in this process: the first missing piece, in the order they are
/// needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NcclUnavailable {
    /// No CUDA driver library (no NVIDIA driver installed, or not on the loader path).
    #[error(
        "libcuda.so (the NVIDIA driver's CUDA library) is not loadable: no NVIDIA driver here, \
         or it is not on the loader path (LD_LIBRARY_PATH)"
    )]
    NoDriverLibrary,
    /// `cuInit` failed (e.g. no device node, or a driver/kernel-module mismatch).
    #[error("the CUDA driver did not initialise (cuInit: {reason}); no usable NVIDIA GPU")]
    DriverInit {
        /// The driver's error.
        reason: String,
    },
    /// The driver works but sees no GPU.
    #[error("the CUDA driver sees no CUDA device (CUDA_VISIBLE_DEVICES={visible})")]
    NoDevice {
        /// `CUDA_VISIBLE_DEVICES`, or `unset`.
        visible: String,
    },
    /// No NCCL library under the names cudarc opens.
    #[error(
        "libnccl.so is not loadable{}",
        if *only_soname_found {
            "; libnccl.so.2 is, but cudarc opens libnccl.so: add a libnccl.so symlink to it in a \
             directory on LD_LIBRARY_PATH (NVIDIA's libnccl-dev package installs one)"
        } else {
            " (nor libnccl.so.2): install NCCL (NVIDIA's libnccl2 and libnccl-dev packages, or the \
             nvidia-nccl-cu12 wheel plus a libnccl.so symlink) and put it on LD_LIBRARY_PATH"
        }
    )]
    NoNccl {
        /// `libnccl.so.2` (NCCL's soname) loads although `libnccl.so` does not.
        only_soname_found: bool,
    },
}

/// NCCL's version code as `major.minor.patch` (`ncclGetVersion`: `major·10000 + minor·100 +
/// patch` from 2.9 on, `major·1000 + minor·100 + patch` before).
pub fn version_string(code: i32) -> String {
    let (major, rest) = if code >= 10_000 {
        (code / 10_000, code % 10_000)
    } else {
        (code / 1_000, code % 1_000)
    };
    format!("{major}.{}.{}", rest / 100, rest % 100)
}

/// Whether this process is one of several ranks a launcher started (mpirun, srun): NCCL's
/// engine drives every GPU from one process, so each of them would run the whole sweep.
/// Returns the variable and its value that say so.
pub fn launched_as_many(var: &dyn Fn(&str) -> Option<String>) -> Option<(String, u64)> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS"]
        .into_iter()
        .find_map(|name| {
            let n = var(name)?.trim().parse::<u64>().ok()?;
            (n > 1).then(|| (name.to_string(), n))
        })
}

/// The chunk of an all-to-all buffer exchanged with `peer`: NCCL has no all-to-all call, so
/// (as nccl-tests does) each rank sends block `peer` of its send buffer to `peer` and
/// receives block `peer` of its receive buffer from it, all in one group.
pub fn all_to_all_block(layout: &Layout, peer: usize) -> std::ops::Range<usize> {
    let block = layout.send_len / layout.ranks;
    peer * block..(peer + 1) * block
}

#[cfg(feature = "nccl")]
mod engine {
    use super::NcclUnavailable;
    use crate::collectives::{Collective, CollectiveEngine, Layout};
    use crate::comm::LaunchInfo;
    use crate::error::Error;
    use cudarc::driver::{CudaContext, CudaSlice, CudaStream};
    use cudarc::nccl::{result as nccl_result, Comm, ReduceOp};
    use std::borrow::Cow;
    use std::sync::Arc;

    /// Checks, without panicking, that libcuda loads, the driver initialises and sees a device,
    /// and libnccl loads; returns the number of visible devices.
    pub fn probe() -> Result<usize, NcclUnavailable> {
        // SAFETY: only dlopen/dlclose of the candidate names; no symbol is called.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(NcclUnavailable::NoDriverLibrary);
        }
        let count = CudaContext::device_count().map_err(|e| NcclUnavailable::DriverInit { reason: e.to_string() })?;
        if count <= 0 {
            return Err(NcclUnavailable::NoDevice {
                visible: std::env::var("CUDA_VISIBLE_DEVICES").unwrap_or_else(|_| "unset".into()),
            });
        }
        // SAFETY: as above.
        if !unsafe { cudarc::nccl::sys::is_culib_present() } {
            // SAFETY: loading NCCL runs no code of ours; it is closed again at once.
            let soname = unsafe { libloading::Library::new("libnccl.so.2") }.is_ok();
            return Err(NcclUnavailable::NoNccl {
                only_soname_found: soname,
            });
        }
        Ok(count as usize)
    }

    /// One GPU's buffers for the prepared layout.
    struct DeviceBuffers {
        send: CudaSlice<f32>,
        /// `None` for broadcast (in place in `send`).
        recv: Option<CudaSlice<f32>>,
    }

    /// Every visible GPU of this process, one NCCL rank each.
    pub struct NcclEngine {
        comms: Vec<Comm>,
        streams: Vec<Arc<CudaStream>>,
        devices: Vec<String>,
        version: String,
        layout: Option<Layout>,
        buffers: Vec<DeviceBuffers>,
    }

    fn driver_error(call: &str, ordinal: usize, e: cudarc::driver::DriverError) -> Error {
        Error::DeviceCall {
            call: format!("{call} on cuda:{ordinal}"),
            reason: e.to_string(),
        }
    }

    fn nccl_error(call: &str, e: nccl_result::NcclError) -> Error {
        Error::DeviceCall {
            call: call.into(),
            reason: format!("{:?}", e.0),
        }
    }

    impl NcclEngine {
        /// Opens a communicator over the first `count` visible GPUs (from [`probe`]).
        pub fn open(count: usize) -> Result<NcclEngine, Error> {
            let mut streams = Vec::with_capacity(count);
            let mut devices = Vec::with_capacity(count);
            for ordinal in 0..count {
                let ctx =
                    CudaContext::new(ordinal).map_err(|e| driver_error("cuDevicePrimaryCtxRetain", ordinal, e))?;
                // One stream per GPU, used for everything: cudarc's cross-stream event tracking
                // would add an event record to every timed call.
                // SAFETY: no buffer is used on another stream than the one it was allocated on.
                unsafe { ctx.disable_event_tracking() };
                devices.push(ctx.name().map_err(|e| driver_error("cuDeviceGetName", ordinal, e))?);
                streams.push(
                    ctx.new_stream()
                        .map_err(|e| driver_error("cuStreamCreate", ordinal, e))?,
                );
            }
            let version = nccl_result::get_nccl_version()
                .map(super::version_string)
                .map_err(|e| nccl_error("ncclGetVersion", e))?;
            let comms = Comm::from_devices(streams.clone()).map_err(|e| nccl_error("ncclCommInitAll", e))?;
            Ok(NcclEngine {
                comms,
                streams,
                devices,
                version,
                layout: None,
                buffers: Vec::new(),
            })
        }

        /// `NCCL 2.x.y (cudarc), N GPU(s): name, ...`: what the run records as its library.
        pub fn library(&self) -> String {
            format!(
                "NCCL {} (cudarc), {} GPU(s): {}",
                self.version,
                self.devices.len(),
                self.devices.join(", ")
            )
        }

        /// The smallest free device memory over the GPUs, bytes.
        pub fn min_free_memory(&self) -> Result<u64, Error> {
            let mut min = u64::MAX;
            for (ordinal, stream) in self.streams.iter().enumerate() {
                let (free, _total) = stream
                    .context()
                    .mem_get_info()
                    .map_err(|e| driver_error("cuMemGetInfo", ordinal, e))?;
                min = min.min(free as u64);
            }
            Ok(min)
        }

        /// Where rank `rank` runs: this process, GPU `rank` of `world_size`.
        pub fn launch(&self, rank: usize) -> LaunchInfo {
            let mut launch = LaunchInfo::from_process();
            launch.local_rank = Some(rank as u64);
            launch.local_size = Some(self.comms.len() as u64);
            launch
        }

        fn group<F>(&mut self, call: &str, mut each: F) -> Result<(), Error>
        where
            F: FnMut(&Comm, &mut DeviceBuffers, &Layout) -> Result<(), nccl_result::NcclError>,
        {
            let layout = self.layout.expect("prepare() before call()");
            nccl_result::group_start().map_err(|e| nccl_error("ncclGroupStart", e))?;
            let mut failed = None;
            for (comm, buffers) in self.comms.iter().zip(self.buffers.iter_mut()) {
                if let Err(e) = each(comm, buffers, &layout) {
                    failed = Some(e);
                    break;
                }
            }
            let ended = nccl_result::group_end();
            if let Some(e) = failed {
                return Err(nccl_error(call, e));
            }
            ended.map(|_| ()).map_err(|e| nccl_error("ncclGroupEnd", e))
        }
    }

    impl CollectiveEngine for NcclEngine {
        fn world_size(&self) -> usize {
            self.comms.len()
        }
        fn local_ranks(&self) -> Vec<usize> {
            (0..self.comms.len()).collect()
        }
        fn min_over_processes(&self, value: f64) -> f64 {
            value
        }
        fn barrier(&mut self) -> Result<(), Error> {
            self.synchronize()
        }
        fn prepare(&mut self, layout: &Layout, initial: &dyn Fn(usize) -> Vec<f32>) -> Result<(), Error> {
            self.release();
            for (rank, stream) in self.streams.iter().enumerate() {
                let send = stream
                    .clone_htod(&initial(rank))
                    .map_err(|e| driver_error("cuMemcpyHtoD", rank, e))?;
                let recv = if layout.collective == Collective::Broadcast {
                    None
                } else {
                    Some(
                        stream
                            .alloc_zeros::<f32>(layout.recv_len)
                            .map_err(|e| driver_error("cuMemAlloc", rank, e))?,
                    )
                };
                self.buffers.push(DeviceBuffers { send, recv });
            }
            self.layout = Some(*layout);
            self.synchronize()
        }
        fn call(&mut self) -> Result<(), Error> {
            let collective = self.layout.expect("prepare() before call()").collective;
            match collective {
                Collective::AllReduce => self.group("ncclAllReduce", |comm, b, _| {
                    comm.all_reduce(&b.send, b.recv.as_mut().unwrap(), &ReduceOp::Sum)
                        .map(|_| ())
                }),
                Collective::AllGather => self.group("ncclAllGather", |comm, b, _| {
                    comm.all_gather(&b.send, b.recv.as_mut().unwrap()).map(|_| ())
                }),
                Collective::ReduceScatter => self.group("ncclReduceScatter", |comm, b, _| {
                    comm.reduce_scatter(&b.send, b.recv.as_mut().unwrap(), &ReduceOp::Sum)
                        .map(|_| ())
                }),
                Collective::Broadcast => self.group("ncclBroadcast", |comm, b, _| {
                    comm.broadcast_in_place(&mut b.send, 0).map(|_| ())
                }),
                Collective::AllToAll => self.group("ncclSend/ncclRecv (all-to-all)", |comm, b, layout| {
                    let recv = b.recv.as_mut().unwrap();
                    for peer in 0..layout.ranks {
                        let block = super::all_to_all_block(layout, peer);
                        comm.send(&b.send.slice(block.clone()), peer as i32)?;
                        comm.recv(&mut recv.slice_mut(block), peer as i32)?;
                    }
                    Ok(())
                }),
            }
        }
        fn synchronize(&mut self) -> Result<(), Error> {
            for (ordinal, stream) in self.streams.iter().enumerate() {
                stream
                    .synchronize()
                    .map_err(|e| driver_error("cuStreamSynchronize", ordinal, e))?;
            }
            Ok(())
        }
        fn received(&mut self, rank: usize) -> Result<Cow<'_, [f32]>, Error> {
            let stream = &self.streams[rank];
            let b = &self.buffers[rank];
            let host = stream
                .clone_dtoh(b.recv.as_ref().unwrap_or(&b.send))
                .map_err(|e| driver_error("cuMemcpyDtoH", rank, e))?;
            stream
                .synchronize()
                .map_err(|e| driver_error("cuStreamSynchronize", rank, e))?;
            Ok(Cow::Owned(host))
        }
        fn release(&mut self) {
            self.buffers.clear();
            self.layout = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectives::Collective;
    use std::collections::HashMap;

    #[test]
    fn nccl_version_codes_decode_both_encodings() {
        assert_eq!(version_string(22_105), "2.21.5");
        assert_eq!(version_string(23_001), "2.30.1");
        assert_eq!(version_string(2_804), "2.8.4");
    }

    #[test]
    fn several_launched_ranks_are_detected_and_one_is_not() {
        let vars = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let mpirun = vars(&[("OMPI_COMM_WORLD_SIZE", "2")]);
        assert_eq!(
            launched_as_many(&|n| mpirun.get(n).cloned()),
            Some(("OMPI_COMM_WORLD_SIZE".into(), 2))
        );
        let srun = vars(&[("SLURM_STEP_NUM_TASKS", "4"), ("SLURM_NTASKS", "4")]);
        assert_eq!(
            launched_as_many(&|n| srun.get(n).cloned()),
            Some(("SLURM_STEP_NUM_TASKS".into(), 4))
        );
        // A batch script with --ntasks=4 that runs braingap once is one process.
        let batch = vars(&[("SLURM_NTASKS", "4"), ("OMPI_COMM_WORLD_SIZE", "1")]);
        assert_eq!(launched_as_many(&|n| batch.get(n).cloned()), None);
    }

    #[test]
    fn all_to_all_blocks_tile_the_buffer_in_peer_order() {
        for ranks in [1, 2, 3, 8] {
            let layout = Collective::AllToAll.layout(4096, ranks).unwrap();
            let blocks: Vec<_> = (0..ranks).map(|p| all_to_all_block(&layout, p)).collect();
            assert_eq!(blocks[0].start, 0);
            assert!(blocks.windows(2).all(|w| w[0].end == w[1].start));
            assert_eq!(blocks.last().unwrap().end, layout.send_len);
            assert_eq!(layout.send_len, layout.recv_len);
            // 4096 B = 1024 f32; on 3 ranks rounded down to 3 blocks of 341.
            assert_eq!(blocks[0].len(), 1024 / ranks);
        }
    }

    #[test]
    fn missing_nccl_says_what_to_install_or_link() {
        let none = NcclUnavailable::NoNccl {
            only_soname_found: false,
        }
        .to_string();
        assert!(
            none.contains("libnccl.so is not loadable") && none.contains("install NCCL"),
            "{none}"
        );
        let soname = NcclUnavailable::NoNccl {
            only_soname_found: true,
        }
        .to_string();
        assert!(
            soname.contains("libnccl.so.2 is") && soname.contains("symlink"),
            "{soname}"
        );
        assert!(NcclUnavailable::NoDriverLibrary.to_string().contains("libcuda.so"));
    }

    /// On a machine without the NVIDIA driver (like the one this was written on), the probe
    /// names libcuda; on one with a GPU and NCCL it finds at least one device.
    #[cfg(feature = "nccl")]
    #[test]
    fn probe_answers_without_panicking() {
        match probe() {
            Ok(count) => assert!(count >= 1),
            Err(reason) => assert!(!reason.to_string().is_empty()),
        }
    }
}
