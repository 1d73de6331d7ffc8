//! `braingap run --dry-run`: what the planned microcircuit networks would take, and what bigger
//! models would take on machines like this one, without running anything.

use super::run_cmd::RunArgs;
use crate::error::Error;
use crate::kernels::{BenchSpec, Kernel};
use std::io::Write;
use std::process::ExitCode;

/// Prints, for each planned microcircuit, its exact neuron and synapse counts and the
/// simulator's memory estimate against the memory available now; then the projections of the
/// full microcircuit, the multi-area model and a human brain from the newest run in the store
/// that measured a microcircuit (or why there is none). Writes nothing.
pub fn run(
    args: &RunArgs,
    specs: &[BenchSpec],
    threads: usize,
    available: Option<u64>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let networks: Vec<_> = specs
        .iter()
        .filter_map(|s| match &s.kernel {
            Kernel::Microcircuit(m) => Some((s.name(), m)),
            _ => None,
        })
        .collect();
    if networks.is_empty() {
        return Err(Error::InvalidArgument {
            arg: "--dry-run".into(),
            reason: "this run has no microcircuit benchmark to size (use --profile microcircuit, or quick and above)"
                .into(),
        }
        .into());
    }
    writeln!(out, "Planned networks ({threads} threads; nothing is run or written):")?;
    for (name, m) in networks {
        let params = m.sim_params(threads).map_err(|reason| Error::InvalidArgument {
            arg: name.clone(),
            reason,
        })?;
        let derived = braingap_microcircuit::Derived::new(&params).map_err(|e| Error::InvalidArgument {
            arg: name.clone(),
            reason: e.to_string(),
        })?;
        let memory = braingap_microcircuit::memory_estimate(&params).map_err(|e| Error::InvalidArgument {
            arg: name.clone(),
            reason: e.to_string(),
        })?;
        let fits = match available {
            Some(a) if memory.peak > a => format!("does NOT fit the {} available now", crate::units::si(a as f64, "B")),
            Some(a) => format!("fits the {} available now", crate::units::si(a as f64, "B")),
            None => "available memory unknown".into(),
        };
        writeln!(
            out,
            "  {name}: {} neurons, {} synapses (exact); memory {} while connecting, {} after (the simulator's \
             estimate, {} bytes per synapse): {fits}",
            derived.total_neurons(),
            derived.total_synapses() + derived.total_th_synapses(),
            crate::units::si(memory.peak as f64, "B"),
            crate::units::si(memory.total as f64, "B"),
            braingap_microcircuit::BYTES_PER_SYNAPSE,
        )?;
    }
    writeln!(out)?;
    // The newest run with a measured microcircuit; within it, the largest network.
    match crate::report::cortex::newest_measured(&args.results) {
        Some((run, detail)) => {
            writeln!(out, "From run {} ({}):", run.meta.run_id, run.dir.display())?;
            for note in crate::report::cortex::projection_notes(&run, &detail) {
                writeln!(out, "  {note}")?;
            }
        }
        None => writeln!(
            out,
            "No projection: no run in {} has measured a microcircuit yet (`braingap run --profile microcircuit` \
             measures one).",
            args.results.display()
        )?,
    }
    Ok(ExitCode::SUCCESS)
}
