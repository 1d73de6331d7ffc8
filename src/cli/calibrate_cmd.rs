//! `braingap calibrate-energy`: fits the energy model `E = P_idle·t + e_flop·FLOPs +
//! e_byte·bytes` to the energies that real meters (RAPL or NVML) measured in this machine's
//! runs, and stores the coefficients as `RESULTS/energy-calibration.json`. Later runs on the
//! same machine (same fingerprint) that have to model energy use them in place of the
//! published defaults, and say so in `meta.json`.
//!
//! Each `ok` row whose `energy_source` is `rapl` or `nvml` is one point: its per-call energy,
//! analytic FLOPs and bytes, and the per-call time of the measured window
//! (`energy_j / avg_power_w`, which is exactly the window the meter integrated over, rather
//! than the median). The fit is non-negative least squares (`meters::model`).

use crate::meters::model::{Calibration, CalibrationPoint, CALIBRATION_FILE};
use crate::meters::{EnergySource, MeterSet};
use crate::store::Store;
use crate::units::{Bytes, Flops, Joules, Seconds};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `braingap calibrate-energy`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Results directory: runs are read from RESULTS/runs/ and the fitted coefficients are
    /// written to RESULTS/energy-calibration.json.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,
    /// Use only this run (id or run directory); repeatable. Default: every run recorded on
    /// this machine (same fingerprint).
    #[arg(long = "run", value_name = "ID")]
    pub runs: Vec<String>,
    /// Fit for this machine fingerprint instead of the current machine's.
    #[arg(long, value_name = "FINGERPRINT")]
    pub machine: Option<String>,
    /// Print the fit but do not write the calibration file.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the calibration as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `braingap calibrate-energy`.
pub fn run(args: &CalibrateArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let machine = match &args.machine {
        Some(m) => m.clone(),
        None => crate::machine::Machine::detect(None, &crate::BUILD).fingerprint,
    };
    let store = Store::new(&args.results);
    let runs = if args.runs.is_empty() {
        let (infos, errors) = store.list();
        for e in &errors {
            crate::diag!("warning: skipped unreadable run: {e}");
        }
        infos
            .into_iter()
            .filter(|info| fingerprint_of(&info.meta.machine) == Some(machine.as_str()))
            .collect::<Vec<_>>()
    } else {
        let mut infos = Vec::new();
        for id in &args.runs {
            let info = store.load(id).with_context(|| format!("--run {id}"))?;
            let theirs = fingerprint_of(&info.meta.machine).unwrap_or("unknown");
            if theirs != machine {
                bail!(
                    "--run {id}: recorded on machine {theirs}, not {machine}; a calibration holds for one machine \
                     (pass --machine {theirs} to fit for that one)"
                );
            }
            infos.push(info);
        }
        infos
    };
    if runs.is_empty() {
        bail!(
            "no runs of machine {machine} in {}; run `braingap run --results {}` first",
            store.runs_dir().display(),
            args.results.display()
        );
    }

    let mut by_source: BTreeMap<String, Vec<CalibrationPoint>> = BTreeMap::new();
    for info in &runs {
        for row in info.summary.iter().filter(|r| r.status == crate::measure::Status::Ok) {
            let (Some(energy), Some(power)) = (row.energy_j, row.avg_power_w) else {
                continue;
            };
            let measured = row.energy_source.is_measured();
            let usable = power.is_finite() && power > 0.0 && energy.is_finite() && energy >= 0.0;
            if !measured || !usable {
                continue;
            }
            by_source
                .entry(row.energy_source.as_str().to_string())
                .or_default()
                .push(CalibrationPoint {
                    elapsed: Seconds(energy / power),
                    flops: Flops(row.flops),
                    bytes: Bytes(row.bytes),
                    energy: Joules(energy),
                });
        }
    }
    // One meter per calibration: the one with the most points.
    let Some((source_name, points)) = by_source.into_iter().max_by_key(|(_, p)| p.len()) else {
        let meters = MeterSet::detect(&super::env::meter_config());
        let reasons: Vec<String> = meters
            .unavailable()
            .iter()
            .map(|u| format!("{}: {}", u.meter, u.reason))
            .collect();
        bail!(
            "no measured energy in {} run(s) of machine {machine}: every row's energy_source is modeled or \
             unavailable. Calibration needs RAPL or NVML readings; on this machine {}",
            runs.len(),
            if reasons.is_empty() {
                "a meter is attached now, so record a run first".to_string()
            } else {
                reasons.join("; ")
            }
        );
    };
    let source = if source_name == "rapl" {
        EnergySource::Rapl
    } else {
        EnergySource::Nvml
    };
    let calibration = Calibration::fit(machine.clone(), source, points).context("fitting the energy model")?;
    let path = args.results.join(CALIBRATION_FILE);
    if !args.dry_run {
        std::fs::create_dir_all(&args.results).with_context(|| args.results.display().to_string())?;
        calibration.save(&path)?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &calibration)?;
        writeln!(out)?;
    } else {
        let c = &calibration.coefficients;
        writeln!(
            out,
            "energy model for machine {machine}, fitted to {} {} point(s) from {} run(s):",
            calibration.fit.points,
            source_name,
            runs.len()
        )?;
        writeln!(out, "  P_idle = {:.3} W", c.idle_power.0)?;
        writeln!(out, "  e_flop = {:.4e} J/FLOP", c.joules_per_flop.0)?;
        writeln!(out, "  e_byte = {:.4e} J/byte", c.joules_per_byte.0)?;
        writeln!(
            out,
            "  R^2 = {:.4}, rms residual = {:.4e} J{}",
            calibration.fit.r_squared,
            calibration.fit.rms_residual.0,
            if calibration.fit.pinned_at_zero.is_empty() {
                String::new()
            } else {
                format!(", pinned at 0: {}", calibration.fit.pinned_at_zero.join(", "))
            }
        )?;
        if args.dry_run {
            writeln!(out, "dry run: {} not written", path.display())?;
        } else {
            writeln!(
                out,
                "wrote {} (used by later runs on this machine with --results {})",
                path.display(),
                args.results.display()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fingerprint_of(machine: &serde_json::Value) -> Option<&str> {
    machine.get("fingerprint").and_then(|v| v.as_str())
}
