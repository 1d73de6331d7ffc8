//! `braingap runs`.

use super::table;
use crate::store::Store;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `braingap runs`.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Results directory. One rule for every command that reads a store: a directory that
    /// does not exist is an error (exit 2); an existing one without runs lists nothing.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,
}

/// Runs `braingap runs`: every readable run, oldest first; unreadable ones reported on
/// stderr by file and line.
pub fn run(args: &RunsArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    super::require_store(&args.results)?;
    let store = Store::new(&args.results);
    let (infos, errors) = store.list();
    for e in &errors {
        crate::diag!("warning: skipped unreadable run: {e}");
    }
    if infos.is_empty() {
        writeln!(out, "no runs in {}", store.runs_dir().display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = infos
        .iter()
        .map(|info| {
            let m = &info.meta;
            let count = |status: crate::measure::Status| info.summary.iter().filter(|r| r.status == status).count();
            let mut state = if info.is_complete() {
                "complete".to_string()
            } else {
                format!("incomplete ({}/{} recorded)", info.summary.len(), m.benchmarks_planned)
            };
            // A distributed run is one run; its ranks, nodes and SLURM job follow its state.
            if let Some(d) = &m.distributed {
                state.push_str(&format!(
                    "; {} ranks on {} node(s): {}",
                    d.world_size,
                    d.nodes.len(),
                    d.nodes.join(",")
                ));
                if let Some(job) = d.slurm_job_id() {
                    state.push_str(&format!("; SLURM job {job}"));
                }
                if !d.missing_ranks.is_empty() || !d.unfinished_ranks.is_empty() {
                    state.push_str(&format!(
                        "; missing ranks {:?}, unfinished {:?}",
                        d.missing_ranks, d.unfinished_ranks
                    ));
                }
            }
            let cpu = m
                .machine
                .pointer("/cpu_model/value")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string();
            vec![
                m.run_id.clone(),
                m.label.clone().unwrap_or_default(),
                m.profile.clone(),
                format!("{}/{}", m.backend, m.device),
                m.threads.to_string(),
                state,
                count(crate::measure::Status::Ok).to_string(),
                count(crate::measure::Status::Failed).to_string(),
                cpu,
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        table::render(
            &["run", "label", "profile", "backend", "threads", "state", "ok", "failed", "cpu"],
            &rows,
            &[4, 6, 7],
        )
    )?;
    Ok(ExitCode::SUCCESS)
}
