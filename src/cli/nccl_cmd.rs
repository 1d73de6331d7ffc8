//! `braingap run --suite collectives --backend nccl` (feature `nccl`): the collective sweep
//! of `--suite collectives` through NCCL, one process driving every GPU the CUDA driver
//! shows it (choose them with `CUDA_VISIBLE_DEVICES`), each GPU one rank. The run directory,
//! rank files, merge and report are those of the MPI suite (`mpi_cmd`).

use super::plan::RunPlan;
use crate::error::Error;
use std::io::Write;
use std::process::ExitCode;

/// `--device` values `--backend nccl` accepts: it takes every visible GPU.
fn check_device(device: &str) -> Result<(), Error> {
    match device {
        // `cpu` is the flag's default, i.e. not given.
        "cpu" | "cuda" => Ok(()),
        other => Err(Error::InvalidArgument {
            arg: format!("--device {other}"),
            reason: "--backend nccl runs on every GPU the CUDA driver shows (--device cuda); choose \
                     them with CUDA_VISIBLE_DEVICES, e.g. CUDA_VISIBLE_DEVICES=0,1"
                .into(),
        }),
    }
}

/// Runs the collectives through NCCL.
#[cfg(not(feature = "nccl"))]
pub fn run(plan: &RunPlan, _out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    check_device(&plan.args.device)?;
    Err(Error::InvalidArgument {
        arg: "--backend nccl".into(),
        reason: "this braingap was built without the `nccl` feature; build it with \
                 `cargo build --release --features nccl` (no CUDA toolkit or NCCL needed to build; \
                 running needs an NVIDIA driver and libnccl.so), then \
                 `braingap run --suite collectives --backend nccl`"
            .into(),
    }
    .into())
}

/// Runs the collectives through NCCL.
#[cfg(feature = "nccl")]
pub fn run(plan: &RunPlan, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let args = plan.args;
    use super::mpi_cmd::sweep::{self, RunIdentity};
    use crate::collectives::nccl::{self, NcclEngine};
    use crate::collectives::CollectiveConfig;
    use crate::comm::SelfComm;

    check_device(&args.device)?;
    if let Some((var, n)) = nccl::launched_as_many(&|name| std::env::var(name).ok()) {
        return Err(Error::InvalidArgument {
            arg: "--backend nccl".into(),
            reason: format!(
                "this process is one of {n} launched ranks ({var}={n}), but --backend nccl drives \
                 every visible GPU from one process; start braingap once, without mpirun/srun"
            ),
        }
        .into());
    }
    let count = nccl::probe().map_err(|missing| Error::Unavailable {
        what: "--backend nccl".into(),
        reason: format!("{missing}; nothing was run or written"),
    })?;
    let mut engine = NcclEngine::open(count)?;
    let world_size = count;
    let layouts = sweep::plan(args, world_size)?;
    if args.list {
        for l in &layouts {
            writeln!(out, "{}", l.name())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Each rank's buffers are on its own GPU: the smallest free device memory bounds them.
    let device_memory = match args.max_memory_gib {
        Some(gib) => (gib * (1u64 << 30) as f64) as u64,
        None => engine.min_free_memory()?,
    };
    let config = CollectiveConfig {
        node_memory_bytes: Some(device_memory),
        ranks_per_node: 1,
        memory_domain: "GPU".into(),
        samples: args.samples.unwrap_or(super::run_cmd::DEFAULT_SUITE_SAMPLES) as usize,
        ..CollectiveConfig::default()
    };
    let identity = RunIdentity {
        backend: crate::backends::BackendKind::Nccl,
        library: engine.library(),
        world_size,
    };
    let launches: Vec<_> = (0..world_size).map(|rank| engine.launch(rank)).collect();
    sweep::run_sweep(
        &SelfComm,
        &mut engine,
        &identity,
        &layouts,
        &config,
        sweep::run_config(
            &config,
            "one process drives every GPU: each sample is its wall-clock time for the grouped calls \
             on all GPUs, awaited on their streams; every rank records the same times",
        ),
        &|rank| launches[rank].clone(),
        None,
        plan,
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::check_device;

    #[test]
    fn nccl_takes_every_visible_gpu_and_says_how_to_choose() {
        assert!(check_device("cpu").is_ok());
        assert!(check_device("cuda").is_ok());
        let err = check_device("cuda:1").unwrap_err().to_string();
        assert!(err.contains("CUDA_VISIBLE_DEVICES"), "{err}");
    }
}
