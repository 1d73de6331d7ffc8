//! `braingap ab`: paired A/B timing of two builds, and the A/A calibration of its floor.

use super::table;
use crate::ab::{self, AbRow, BinaryRunner, Calibration, Floor, FloorSource, RoundStatistic, Rounds, Side, Verdict};
use crate::error::Error;
use crate::kernels::registry::Profile;
use crate::store::{write_atomic, Store};
use std::ffi::OsString;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `braingap ab`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["base_bin", "calibrate"])))]
pub struct AbArgs {
    /// The reference build's braingap executable (A).
    #[arg(long, value_name = "PATH", requires = "current_bin", conflicts_with = "calibrate")]
    pub base_bin: Option<PathBuf>,

    /// The build under test (B). Each round runs `PATH run` of both builds, order alternating
    /// (ABBA...), and keeps each benchmark's median (or, with --statistic min, fastest sample);
    /// the per-round figures are compared with a two-sided Mann-Whitney U test plus the
    /// calibrated effect-size floor.
    #[arg(long, value_name = "PATH", requires = "base_bin")]
    pub current_bin: Option<PathBuf>,

    /// Calibrate the floor instead: run --bin against itself in --trials A/A trials of
    /// --rounds rounds, and store the 95th percentile of |ratio - 1| per benchmark (and
    /// pooled) in RESULTS/ab-calibration.json, which later comparisons read.
    #[arg(long, requires = "bin")]
    pub calibrate: bool,

    /// The build to calibrate with.
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,

    /// Rounds; each runs both builds once (at least 4: with 3 the exact test cannot reach
    /// p < 0.05).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub rounds: usize,

    /// With --calibrate: A/A trials.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub trials: usize,

    /// Only benchmarks whose name matches this regex (passed to `run --filter`).
    #[arg(long, value_name = "REGEX", value_parser = super::plan::Filter::parse)]
    pub filter: Option<super::plan::Filter>,

    /// Profile of each round's run (passed to `run --profile`).
    #[arg(long, default_value = "quick", value_parser = parse_profile)]
    pub profile: Profile,

    /// Worker threads of each round's run [default: run's default, all logical CPUs].
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,

    /// Results directory: the calibration is read from and written to
    /// RESULTS/ab-calibration.json; each comparison is saved under RESULTS/ab/.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,

    /// Significance level of the rank test.
    #[arg(long, default_value_t = ab::DEFAULT_ALPHA, value_name = "P")]
    pub alpha: f64,

    /// Use this floor (percent) instead of the calibrated one.
    #[arg(long, value_name = "PCT")]
    pub floor: Option<f64>,

    /// Figure kept from each round's run: its median time per call, or its fastest sample
    /// (min), which other processes on a shared machine disturb least. A calibration is valid
    /// only for the statistic it was made with.
    #[arg(long, value_enum, default_value_t = Statistic::Median)]
    pub statistic: Statistic,

    /// Output format of the comparison.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table.
    Text,
    /// The saved JSON record.
    Json,
}

/// Figure kept from each round's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Statistic {
    /// The run's median time per call.
    Median,
    /// The run's fastest sample.
    Min,
}

impl Statistic {
    fn round_statistic(self) -> RoundStatistic {
        match self {
            Statistic::Median => RoundStatistic::Median,
            Statistic::Min => RoundStatistic::Min,
        }
    }
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
}

fn invalid(arg: impl Into<String>, reason: impl Into<String>) -> anyhow::Error {
    Error::InvalidArgument {
        arg: arg.into(),
        reason: reason.into(),
    }
    .into()
}

fn check_bin(flag: &str, path: &Path) -> anyhow::Result<PathBuf> {
    let meta = std::fs::metadata(path).map_err(|e| invalid(format!("{flag} {}", path.display()), e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(invalid(format!("{flag} {}", path.display()), "not an executable file"));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

impl AbArgs {
    fn run_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["--profile".into(), self.profile.as_str().into()];
        if let Some(filter) = &self.filter {
            args.extend(["--filter".into(), filter.as_str().into()]);
        }
        if let Some(threads) = self.threads {
            args.extend(["--threads".into(), threads.to_string().into()]);
        }
        args
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.rounds < 2 || ab::smallest_p_value(self.rounds) >= self.alpha {
            return Err(invalid(
                format!("--rounds {}", self.rounds),
                format!(
                    "with {} rounds per build the smallest reachable p-value is {:.3}, not below --alpha {}",
                    self.rounds,
                    ab::smallest_p_value(self.rounds.max(1)),
                    self.alpha
                ),
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(invalid(format!("--alpha {}", self.alpha), "must lie in (0, 1)"));
        }
        if let Some(f) = self.floor {
            if !(f >= 0.0 && f.is_finite()) {
                return Err(invalid(format!("--floor {f}"), "must be a non-negative percentage"));
            }
        }
        if self.calibrate && self.trials == 0 {
            return Err(invalid("--trials 0", "at least one A/A trial is needed"));
        }
        Ok(())
    }
}

/// Runs `braingap ab`.
pub fn run(args: &AbArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    args.validate()?;
    if args.calibrate {
        let bin = check_bin("--bin", args.bin.as_deref().expect("clap requires --bin"))?;
        return calibrate(args, &bin, out);
    }
    let base = check_bin("--base-bin", args.base_bin.as_deref().expect("clap requires it"))?;
    let current = check_bin("--current-bin", args.current_bin.as_deref().expect("clap requires it"))?;
    let calibration = Calibration::load(&args.results)?;
    let statistic = args.statistic.round_statistic();
    if let Some(c) = calibration
        .as_ref()
        .filter(|c| c.statistic != statistic && args.floor.is_none())
    {
        return Err(invalid(
            format!("--statistic {}", statistic.as_str()),
            format!(
                "the floor in {} was calibrated on per-round {} figures; pass --statistic {} or recalibrate",
                args.results.join(ab::CALIBRATION_FILE).display(),
                c.statistic.as_str(),
                c.statistic.as_str()
            ),
        ));
    }
    let run_args = args.run_args();
    if let Some(c) = &calibration {
        let ours: Vec<String> = run_args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        if c.run_args != ours {
            crate::diag!(
                "warning: the floor in {} was calibrated with `run {}`, this comparison runs `run {}`",
                args.results.join(ab::CALIBRATION_FILE).display(),
                c.run_args.join(" "),
                ours.join(" ")
            );
        }
    } else if args.floor.is_none() {
        crate::diag!(
            "warning: no {} and no --floor: the rank test alone decides (run `braingap ab --calibrate --bin PATH` first)",
            args.results.join(ab::CALIBRATION_FILE).display()
        );
    }
    let floor_of = |name: &str| match (args.floor, &calibration) {
        (Some(pct), _) => Floor {
            value: pct / 100.0,
            source: FloorSource::Given,
        },
        (None, Some(c)) => c.floor_of(name),
        (None, None) => ab::no_floor(),
    };

    let id = Store::new_run_id();
    let ab_dir = args.results.join("ab");
    let mut runner = BinaryRunner {
        base_bin: base.clone(),
        current_bin: current.clone(),
        run_args: run_args.clone(),
        scratch: ab_dir.join(format!(".scratch-{id}")),
        statistic,
    };
    crate::diag!(
        "braingap ab: {} rounds of `run {}` (per-round {}), base {} vs current {}",
        args.rounds,
        render_args(&run_args),
        statistic.as_str(),
        base.display(),
        current.display()
    );
    let rounds = collect(&mut runner, args.rounds, "")?;
    let rows = ab::analyze(&rounds, &floor_of, args.alpha);
    let record = serde_json::json!({
        "id": id,
        "base_bin": base,
        "current_bin": current,
        "run_args": run_args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        "rounds": args.rounds,
        "order": "alternating: base first in even rounds, current first in odd rounds",
        "alpha": args.alpha,
        "statistic": statistic.as_str(),
        "test": format!("two-sided Mann-Whitney U of per-round {} times per call (current vs base)", statistic.as_str()),
        "calibration": calibration.as_ref().map(|_| args.results.join(ab::CALIBRATION_FILE)),
        "rows": rows,
        "round_medians_s": rounds,
    });
    let saved = ab_dir.join(format!("{id}.json"));
    std::fs::create_dir_all(&ab_dir).map_err(|e| Error::io(&ab_dir, e))?;
    write_atomic(&saved, &serde_json::to_vec_pretty(&record)?)?;
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&record)?)?,
        Format::Text => {
            write!(out, "{}", ab_table(&rows))?;
            let regressed = rows.iter().filter(|r| r.verdict == Verdict::Regressed).count();
            writeln!(
                out,
                "\n{} benchmarks, {} rounds each: {regressed} regressed, {} improved, {} unchanged, {} incomparable. Saved: {}",
                rows.len(),
                args.rounds,
                rows.iter().filter(|r| r.verdict == Verdict::Improved).count(),
                rows.iter().filter(|r| r.verdict == Verdict::Unchanged).count(),
                rows.iter().filter(|r| r.verdict == Verdict::Incomparable).count(),
                saved.display()
            )?;
        }
    }
    Ok(if rows.iter().any(|r| r.verdict == Verdict::Regressed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render_args(args: &[OsString]) -> String {
    args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

fn collect(runner: &mut BinaryRunner, rounds: usize, prefix: &str) -> anyhow::Result<Rounds> {
    let scratch = runner.scratch.clone();
    let result = ab::collect_rounds(runner, rounds, &mut |round, side: Side| {
        crate::diag!("{prefix}round {}/{rounds}: {}", round + 1, side.as_str());
    });
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(result?)
}

fn calibrate(args: &AbArgs, bin: &Path, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let run_args = args.run_args();
    let id = Store::new_run_id();
    let mut runner = BinaryRunner {
        base_bin: bin.to_path_buf(),
        current_bin: bin.to_path_buf(),
        run_args: run_args.clone(),
        scratch: args.results.join("ab").join(format!(".scratch-{id}")),
        statistic: args.statistic.round_statistic(),
    };
    crate::diag!(
        "braingap ab --calibrate: {} A/A trials of {} rounds of `run {}` with {}",
        args.trials,
        args.rounds,
        render_args(&run_args),
        bin.display()
    );
    let mut trials = Vec::with_capacity(args.trials);
    for trial in 0..args.trials {
        trials.push(collect(
            &mut runner,
            args.rounds,
            &format!("trial {}/{}: ", trial + 1, args.trials),
        )?);
    }
    let (benchmarks, pooled_floor, significant_trials) = ab::calibrate(&trials, ab::FLOOR_QUANTILE, args.alpha)
        .ok_or_else(|| anyhow::anyhow!("no benchmark had a time on both sides of any A/A trial"))?;
    let fingerprint = crate::machine::Machine::detect(None, &crate::BUILD).fingerprint;
    let calibration = Calibration {
        schema_version: ab::CALIBRATION_SCHEMA_VERSION,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        bin: bin.to_path_buf(),
        run_args: run_args.iter().map(|a| a.to_string_lossy().into_owned()).collect(),
        machine_fingerprint: Some(fingerprint),
        trials: args.trials,
        rounds: args.rounds,
        quantile: ab::FLOOR_QUANTILE,
        benchmarks,
        pooled_floor,
        significant_trials,
        statistic: args.statistic.round_statistic(),
    };
    let path = calibration.save(&args.results)?;
    let rows: Vec<Vec<String>> = calibration
        .benchmarks
        .iter()
        .map(|(name, b)| {
            let max = b.deviations.iter().copied().fold(0.0, f64::max);
            vec![
                name.clone(),
                format!("{:.2}%", 100.0 * b.floor),
                format!("{:.2}%", 100.0 * max),
                b.deviations.len().to_string(),
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        table::render(
            &["benchmark", "floor (p95 |ratio-1|)", "max |ratio-1|", "trials"],
            &rows,
            &[1, 2, 3]
        )
    )?;
    writeln!(
        out,
        "\npooled floor {:.2}%; {} of {} A/A trials had p < {} (false alarms without a floor). Saved: {}",
        100.0 * calibration.pooled_floor,
        calibration.significant_trials,
        calibration.trials,
        args.alpha,
        path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The comparison table.
pub fn ab_table(rows: &[AbRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.benchmark.clone(),
                r.base_median_s.map_or("-".into(), |s| crate::units::si(s, "s")),
                r.current_median_s.map_or("-".into(), |s| crate::units::si(s, "s")),
                r.ratio.map_or("-".into(), |x| format!("{x:.3}")),
                r.p_value.map_or("-".into(), ab::format_p),
                format!("{:.1}% ({})", 100.0 * r.floor.value, r.floor.source.describe()),
                r.verdict.as_str().into(),
                r.why.clone(),
            ]
        })
        .collect();
    table::render(
        &["benchmark", "base", "current", "ratio", "p", "floor", "verdict", "why"],
        &body,
        &[1, 2, 3, 4],
    )
}
