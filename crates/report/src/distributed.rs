//! Figures of distributed (MPI) runs, from `summary.csv` rows: collective bus bandwidth and
//! time per call against message size, and data-parallel scaling efficiency against an
//! ideal line, with the step split into compute and gradient all-reduce.

use super::figures::{Axis, LineKind, Marker, Point, RefLine, Series, XyChart};
use crate::collectives::Collective;
use crate::dataparallel::ScalingMode;
use crate::store::{RunInfo, SummaryRow};

fn collective_rows(run: &RunInfo, collective: Collective) -> Vec<&SummaryRow> {
    let mut rows: Vec<&SummaryRow> = run
        .summary
        .iter()
        .filter(|r| r.status == crate::measure::Status::Ok && r.kernel == collective.as_str() && r.median_s.is_some())
        .collect();
    rows.sort_by(|a, b| a.bytes.total_cmp(&b.bytes));
    rows
}

/// Bus bandwidth (nccl-tests' convention) against message size, one line per collective.
pub fn bandwidth_vs_size(run: &RunInfo) -> XyChart {
    let mut chart = XyChart::new(
        "collectives_busbw",
        "Collective bus bandwidth vs message size",
        Axis::log("message size (bytes)"),
        Axis::log("bus bandwidth (GB/s)"),
    );
    for (i, collective) in Collective::ALL.into_iter().enumerate() {
        let rows = collective_rows(run, collective);
        let points: Vec<Point> = rows
            .iter()
            .filter_map(|r| {
                let ranks = r.param("ranks")? as usize;
                let factor = collective.bus_factor(ranks);
                let busbw = |t: f64| r.bytes / t / 1e9 * factor;
                let y = busbw(r.median_s?);
                // Only drawable on a log axis when positive (1 rank: factor 0 except broadcast).
                (y > 0.0).then(|| Point {
                    x: r.bytes,
                    y,
                    y_err: r.ci_low_s.zip(r.ci_high_s).map(|(lo, hi)| (busbw(hi), busbw(lo))),
                })
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let ranks = rows.first().and_then(|r| r.param("ranks")).unwrap_or(0.0);
        let mut series = Series::points(
            format!("{} ({ranks} ranks)", collective.as_str()),
            i,
            Marker::Circle,
            points,
        );
        series.line = LineKind::Solid;
        chart.series.push(series);
    }
    chart.empty_note =
        Some("no collective benchmark in this run: `mpirun -np N braingap run --suite collectives`".into());
    chart.caption = "Bus bandwidth = message bytes ÷ median time per call × the collective's factor (nccl-tests: \
        2(n−1)/n all-reduce; (n−1)/n all-gather, reduce-scatter, all-to-all; 1 broadcast), the traffic each rank's link \
        carries, so collectives and rank counts compare against the link's peak. Time per sample is the mean over ranks. \
        Whiskers: bootstrap 95 % CI of the median."
        .into();
    chart
}

/// Time per call against message size (latency at small sizes), one line per collective.
pub fn latency_vs_size(run: &RunInfo) -> XyChart {
    let mut chart = XyChart::new(
        "collectives_latency",
        "Collective time per call vs message size",
        Axis::log("message size (bytes)"),
        Axis::log("time per call (µs)"),
    );
    for (i, collective) in Collective::ALL.into_iter().enumerate() {
        let points: Vec<Point> = collective_rows(run, collective)
            .iter()
            .filter_map(|r| {
                Some(Point {
                    x: r.bytes,
                    y: r.median_s? * 1e6,
                    y_err: r.ci_low_s.zip(r.ci_high_s).map(|(lo, hi)| (lo * 1e6, hi * 1e6)),
                })
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let mut series = Series::points(collective.as_str(), i, Marker::Circle, points);
        series.line = LineKind::Solid;
        chart.series.push(series);
    }
    chart.empty_note = Some("no collective benchmark in this run".into());
    chart.caption = "Median time per call (mean over ranks per sample); at small messages this is the collective's \
        latency. Whiskers: bootstrap 95 % CI of the median."
        .into();
    chart
}

/// The data-parallel step rows of one mode, sorted by ranks.
fn step_rows<'a>(run: &'a RunInfo, kernel: &str, mode: ScalingMode) -> Vec<&'a SummaryRow> {
    let strong = if mode == ScalingMode::Strong { 1.0 } else { 0.0 };
    let mut rows: Vec<&SummaryRow> = run
        .summary
        .iter()
        .filter(|r| r.status == crate::measure::Status::Ok && r.kernel == kernel && r.param("strong") == Some(strong))
        .collect();
    rows.sort_by(|a, b| {
        a.param("ranks")
            .unwrap_or(0.0)
            .total_cmp(&b.param("ranks").unwrap_or(0.0))
    });
    rows
}

/// Strong- and weak-scaling efficiency of the data-parallel step against the number of
/// ranks, with the ideal (1.0) drawn.
pub fn scaling_efficiency(run: &RunInfo) -> XyChart {
    let mut chart = XyChart::new(
        "dataparallel_efficiency",
        "Data-parallel scaling efficiency",
        Axis::linear("ranks"),
        Axis::linear("efficiency (1 = ideal)"),
    );
    for (i, mode) in [ScalingMode::Strong, ScalingMode::Weak].into_iter().enumerate() {
        let rows = step_rows(run, "dataparallel_step", mode);
        let Some(base) = rows
            .iter()
            .find(|r| r.param("ranks") == Some(1.0))
            .and_then(|r| r.median_s)
        else {
            continue;
        };
        let points: Vec<Point> = rows
            .iter()
            .filter_map(|r| {
                let ranks = r.param("ranks")?;
                Some(Point::new(ranks, mode.efficiency(base, r.median_s?, ranks as usize)))
            })
            .collect();
        let mut series = Series::points(format!("{} scaling", mode.as_str()), i, Marker::Circle, points);
        series.line = LineKind::Solid;
        chart.series.push(series);
    }
    chart.ref_lines.push(RefLine::horizontal("ideal", 1.0, 7));
    chart.empty_note =
        Some("no data-parallel step in this run: `mpirun -np N braingap run --suite dataparallel`".into());
    chart.caption = "Strong scaling (fixed global batch): t(1) ÷ (n·t(n)); weak scaling (fixed per-rank batch): \
        t(1) ÷ t(n); t is the median step time (forward, backward, gradient all-reduce, SGD update), the mean over \
        ranks per sample. The dashed line is ideal scaling."
        .into();
    chart
}

/// Compute and gradient all-reduce time per step against ranks, both modes.
pub fn step_split(run: &RunInfo) -> XyChart {
    let mut chart = XyChart::new(
        "dataparallel_split",
        "Data-parallel step: compute vs communication",
        Axis::linear("ranks"),
        Axis::log("time per step (ms)"),
    );
    let mut color = 0;
    for mode in [ScalingMode::Strong, ScalingMode::Weak] {
        for (kernel, part) in [
            ("dataparallel_step", "step"),
            ("dataparallel_compute", "compute"),
            ("dataparallel_allreduce", "all-reduce"),
        ] {
            let points: Vec<Point> = step_rows(run, kernel, mode)
                .iter()
                .filter_map(|r| Some(Point::new(r.param("ranks")?, r.median_s? * 1e3)))
                .filter(|p| p.y > 0.0)
                .collect();
            if points.is_empty() {
                continue;
            }
            let marker = if mode == ScalingMode::Strong {
                Marker::Circle
            } else {
                Marker::Triangle
            };
            let mut series = Series::points(format!("{} {part}", mode.as_str()), color, marker, points);
            series.line = if part == "step" {
                LineKind::Solid
            } else {
                LineKind::Dashed
            };
            chart.series.push(series);
            color += 1;
        }
    }
    chart.empty_note = Some("no data-parallel step in this run".into());
    chart.caption = "Median time per step of the whole step and of its two parts: compute (forward, backward, SGD \
        update) and the gradient all-reduce (averaging over ranks). On one rank the all-reduce is a local copy."
        .into();
    chart
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectives::{message_sizes, plan, run_collectives, CollectiveConfig, HostEngine};
    use crate::comm::{LaunchInfo, SelfComm};
    use crate::dataparallel::{run_scaling, ScalingConfig, SoftmaxRegression};
    use crate::ranks::{merge, RankWriter};
    use crate::store::{load_run_dir, Store};

    /// A merged one-rank run with both suites, measured on [`SelfComm`].
    fn run() -> (tempfile::TempDir, RunInfo) {
        let tmp = tempfile::tempdir().unwrap();
        let writer = Store::new(tmp.path())
            .create_run(crate::ranks::fixtures::meta(1), false)
            .unwrap();
        let dir = writer.dir().to_path_buf();
        let launch = LaunchInfo::from_vars(&|_| None, "host".into(), 1);
        let mut w = RankWriter::create(&dir, "x", 0, 1, launch).unwrap();
        let config = CollectiveConfig {
            samples: 3,
            ..CollectiveConfig::default()
        };
        run_collectives(
            &mut HostEngine::new(&SelfComm),
            &plan(&Collective::ALL, &message_sizes(8, 1024), 1),
            &config,
            &mut w,
        )
        .unwrap();
        let scaling = ScalingConfig {
            global_batch: 16,
            per_rank_batch: 8,
            samples: 2,
            steps_per_sample: 1,
            ..ScalingConfig::default()
        };
        run_scaling(&SelfComm, &|| SoftmaxRegression::new(8, 3, 1), &scaling, &mut |r| {
            w.record_scaling(r)
        })
        .unwrap();
        w.finish().unwrap();
        merge(&dir).unwrap();
        let info = load_run_dir(&dir).unwrap();
        (tmp, info)
    }

    #[test]
    fn charts_draw_what_the_run_measured() {
        let (_tmp, info) = run();
        // One rank: the bus factor is 0 except for broadcast, so only broadcast has
        // bandwidth to draw on a log axis; every collective has a time per call.
        let busbw = bandwidth_vs_size(&info);
        assert_eq!(busbw.series.len(), 1);
        assert!(busbw.series[0].label.starts_with("broadcast"));
        assert_eq!(busbw.series[0].points.len(), 8);
        let latency = latency_vs_size(&info);
        assert_eq!(latency.series.len(), 5);
        let efficiency = scaling_efficiency(&info);
        assert_eq!(efficiency.series.len(), 2);
        for s in &efficiency.series {
            assert_eq!(s.points, vec![Point::new(1.0, 1.0)], "one rank is its own baseline");
        }
        assert_eq!(efficiency.ref_lines[0].value, 1.0);
        assert!(step_split(&info).has_data());
        for chart in [busbw, latency, efficiency, step_split(&info)] {
            crate::figures::render(&crate::figures::Figure::Xy(chart)).unwrap();
        }
    }

    #[test]
    fn charts_of_a_kernel_run_are_empty_with_a_note() {
        let (_tmp, mut info) = run();
        info.summary.clear();
        for chart in [bandwidth_vs_size(&info), scaling_efficiency(&info)] {
            assert!(!chart.has_data());
            assert!(chart.empty_note.as_deref().unwrap().contains("mpirun"));
        }
    }
}
