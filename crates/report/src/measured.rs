//! Figures of this machine's measurements, built from `summary.csv` rows: the roofline,
//! backends side by side, size sweeps and energy.

use super::figures::{Axis, Bar, BarChart, BarGroup, BarStyle, LineKind, Marker, Point, RefLine, Series, XyChart};
use crate::store::{RunInfo, SampleRow, SummaryRow};
use crate::units::si;
use braingap_meters::EnergySource;
use serde::Serialize;

/// The parts of `meta.machine` the report reads (parsed leniently: a field the JSON lacks
/// is `None`, so older or hand-made runs still render).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MachineView {
    /// CPU model.
    pub cpu_model: Option<String>,
    /// Fingerprint hash.
    pub fingerprint: Option<String>,
    /// Data and unified caches.
    pub caches: Vec<crate::machine::Cache>,
    /// Theoretical peak FLOP/s per dtype.
    pub theoretical_peaks: Vec<(String, f64)>,
}

impl MachineView {
    /// The view a run's figures use. `meta.machine` describes the host CPU; for a GPU run
    /// (`--device cuda:N`) its caches and peaks are not the device's, so they are left out
    /// (the rows carry the GPU's peaks) and the label names the GPU.
    pub fn for_run(run: &RunInfo) -> MachineView {
        let mut view = MachineView::from_json(&run.meta.machine);
        if run.meta.device != "cpu" {
            view.caches.clear();
            view.theoretical_peaks.clear();
            if let Some(gpu) = run.meta.config["gpu"]["name"].as_str() {
                view.cpu_model = Some(format!("{gpu} ({})", run.meta.device));
            }
        }
        view
    }

    /// Reads the fields from `meta.machine`.
    pub fn from_json(machine: &serde_json::Value) -> MachineView {
        let caches = machine["caches"]
            .as_array()
            .map(|caches| {
                caches
                    .iter()
                    .filter_map(|c| {
                        Some(crate::machine::Cache {
                            level: c["level"].as_u64()? as u32,
                            kind: c["kind"].as_str()?.to_string(),
                            size_bytes: c["size_bytes"].as_u64()?,
                            instances: c["instances"].as_u64().unwrap_or(1),
                        })
                    })
                    .filter(|c| c.kind != "Instruction")
                    .collect()
            })
            .unwrap_or_default();
        let theoretical_peaks = machine["theoretical_peaks"]
            .as_array()
            .map(|peaks| {
                peaks
                    .iter()
                    .filter_map(|p| Some((p["dtype"].as_str()?.to_string(), p["flops_per_s"].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        MachineView {
            cpu_model: machine["cpu_model"]["value"].as_str().map(str::to_string),
            fingerprint: machine["fingerprint"].as_str().map(str::to_string),
            caches,
            theoretical_peaks,
        }
    }
}

/// A bandwidth ceiling: label, GB/s, and the working-set capacity it holds up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandwidthCeiling {
    /// `L1`, `L2`, `L3`, `DRAM`.
    pub level: String,
    /// Attained GB/s.
    pub gbytes_per_s: f64,
    /// How it was found.
    pub source: String,
}

fn ok_rows(run: &RunInfo) -> impl Iterator<Item = &SummaryRow> {
    run.summary.iter().filter(|r| r.status == crate::measure::Status::Ok)
}

/// Whether a row is a STREAM size-sweep point (ordinary stores) rather than the bandwidth run.
pub fn is_stream_sweep(row: &SummaryRow) -> bool {
    row.kernel == "stream_triad" && row.param("nontemporal") == Some(0.0)
}

fn kernel_order(kernel: &str) -> usize {
    const ORDER: [&str; 13] = [
        "gemm",
        "conv2d_nchw",
        "conv2d_nhwc",
        "attention",
        "spmv_synapses",
        "lif_step",
        "activation_relu",
        "activation_gelu",
        "stream_copy",
        "stream_scale",
        "stream_add",
        "stream_triad",
        "peak_fma",
    ];
    ORDER.iter().position(|k| *k == kernel).unwrap_or(ORDER.len())
}

fn dtype_marker(dtype: &str) -> Marker {
    match dtype {
        "f32" => Marker::Circle,
        "f64" => Marker::Triangle,
        "bf16" | "f16" => Marker::Square,
        _ => Marker::Diamond,
    }
}

/// The parameters of a benchmark name `kernel/dtype/m=512,n=256,k=768` in the kernel's
/// declaration order (the `params` JSON column is sorted by key).
fn ordered_params(benchmark: &str) -> Vec<(String, String)> {
    benchmark
        .splitn(3, '/')
        .nth(2)
        .unwrap_or("")
        .split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn abbreviate(param: &str) -> &str {
    match param {
        "batch" => "b",
        "in_channels" => "c",
        "out_channels" => "k",
        "height" => "h",
        "width" => "w",
        "kernel_h" => "r",
        "kernel_w" => "s",
        "stride" => "str",
        "padding" => "pad",
        "neurons" => "N",
        "fan_in" => "fan",
        "spike_fraction" => "p",
        "seq_len" => "L",
        "head_dim" => "d",
        other => other,
    }
}

/// A short row label: `kernel dtype` plus the parameters that differ between the rows of
/// the same kernel and dtype (abbreviated); STREAM rows show their working set instead.
/// The tables keep the full `kernel/dtype/params` names.
pub fn short_labels(rows: &[&SummaryRow]) -> Vec<String> {
    rows.iter()
        .map(|row| {
            if row.kernel.starts_with("stream_") {
                let nt = if row.param("nontemporal") == Some(1.0) {
                    ", non-temporal"
                } else {
                    ""
                };
                return format!("{} {} {}{nt}", row.kernel, row.dtype, si(row.bytes, "B"));
            }
            let params = ordered_params(&row.benchmark);
            let siblings: Vec<Vec<(String, String)>> = rows
                .iter()
                .filter(|r| r.kernel == row.kernel && r.dtype == row.dtype)
                .map(|r| ordered_params(&r.benchmark))
                .collect();
            let varying: Vec<String> = params
                .iter()
                .filter(|(k, v)| {
                    row.kernel != "peak_fma" && siblings.iter().any(|s| !s.iter().any(|(sk, sv)| sk == k && sv == v))
                })
                .map(|(k, v)| format!("{}={v}", abbreviate(k)))
                .collect();
            if varying.is_empty() {
                format!("{} {}", row.kernel, row.dtype)
            } else {
                format!("{} {} {}", row.kernel, row.dtype, varying.join(","))
            }
        })
        .collect()
}

/// Throughput CI (low, high) of `work` per call from the median-time CI.
fn rate_ci(work: f64, row: &SummaryRow, scale: f64) -> Option<(f64, f64)> {
    match (row.ci_low_s, row.ci_high_s) {
        (Some(lo), Some(hi)) if lo > 0.0 && hi > 0.0 => Some((work / hi / scale, work / lo / scale)),
        _ => None,
    }
}

/// Bandwidth ceilings: DRAM from the non-temporal `stream_triad` run (or the largest
/// sweep sizes), then one per cache level whose sweep plateau sits at least 15 % above the
/// next level's — i.e. only where the sweep shows a knee.
///
/// A sweep point belongs to a level when its working set (24·n bytes) fits that level's
/// capacity (one instance's size × the instances the run's threads can use) but not the
/// level below; the level's ceiling is the best bandwidth among its points.
pub fn bandwidth_ceilings(run: &RunInfo, machine: &MachineView) -> Vec<BandwidthCeiling> {
    let threads = run.meta.threads.max(1);
    let mut sweep: Vec<(f64, f64)> = ok_rows(run)
        .filter(|r| is_stream_sweep(r))
        .filter_map(|r| Some((r.param("n")? * 24.0, r.gbytes_per_s?)))
        .collect();
    sweep.sort_by(|a, b| a.0.total_cmp(&b.0));
    if run.meta.device != "cpu" {
        // A GPU's caches are not in the fingerprint: its memory ceiling is the sweep's
        // largest working set (1 GiB in the standard profile, well past any GPU's L2).
        return sweep
            .last()
            .map(|&(working_set, bw)| BandwidthCeiling {
                level: "device memory".into(),
                gbytes_per_s: bw,
                source: format!("stream_triad sweep, largest working set ({})", si(working_set, "B")),
            })
            .into_iter()
            .collect();
    }
    let levels: Vec<(u32, f64)> = crate::machine::cache_capacities(&machine.caches, threads)
        .into_iter()
        .map(|(level, bytes)| (level, bytes as f64))
        .collect();

    let dram_run = ok_rows(run)
        .filter(|r| r.kernel == "stream_triad" && r.param("nontemporal") == Some(1.0))
        .filter_map(|r| r.gbytes_per_s)
        .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.max(v))));
    let llc = levels.last().map(|l| l.1);
    let dram_sweep = llc.and_then(|llc| {
        sweep
            .iter()
            .filter(|(ws, _)| *ws > 2.0 * llc)
            .map(|p| p.1)
            .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.max(v))))
    });
    let mut ceilings = Vec::new();
    // DRAM: the better of the two kinds of store, each timed (a ceiling from one kind alone
    // can understate the machine).
    let dram = match (dram_run, dram_sweep) {
        (Some(nt), Some(plain)) if plain > nt => Some(BandwidthCeiling {
            level: "DRAM".into(),
            gbytes_per_s: plain,
            source: format!(
                "stream_triad with ordinary stores, working sets > 2× LLC (non-temporal stores: {})",
                si(nt * 1e9, "B/s")
            ),
        }),
        (Some(nt), plain) => Some(BandwidthCeiling {
            level: "DRAM".into(),
            gbytes_per_s: nt,
            source: match plain {
                Some(p) => format!(
                    "stream_triad, arrays ≥ 4× LLC, non-temporal stores (ordinary stores: {})",
                    si(p * 1e9, "B/s")
                ),
                None => "stream_triad, arrays ≥ 4× LLC, non-temporal stores".into(),
            },
        }),
        (None, Some(bw)) => Some(BandwidthCeiling {
            level: "DRAM".into(),
            gbytes_per_s: bw,
            source: "stream_triad sweep, working sets > 2× LLC".into(),
        }),
        _ => None,
    };
    let mut previous_capacity = 0.0;
    let mut plateaus: Vec<BandwidthCeiling> = Vec::new();
    for (level, capacity) in &levels {
        let best = sweep
            .iter()
            .filter(|(ws, _)| *ws > previous_capacity && *ws <= *capacity)
            .map(|p| p.1)
            .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.max(v))));
        if let Some(bw) = best {
            plateaus.push(BandwidthCeiling {
                level: format!("L{level}"),
                gbytes_per_s: bw,
                source: format!("stream_triad sweep, working sets ≤ {}", si(*capacity, "B")),
            });
        }
        previous_capacity = *capacity;
    }
    // keep a level only if it beats everything slower than it by 15 %
    let floor_after = |i: usize| -> f64 {
        plateaus[i + 1..]
            .iter()
            .map(|c| c.gbytes_per_s)
            .chain(dram.as_ref().map(|d| d.gbytes_per_s))
            .fold(0.0, f64::max)
    };
    let keep: Vec<bool> = (0..plateaus.len())
        .map(|i| plateaus[i].gbytes_per_s > 1.15 * floor_after(i))
        .collect();
    for (c, k) in plateaus.into_iter().zip(keep) {
        if k {
            ceilings.push(c);
        }
    }
    ceilings.extend(dram);
    ceilings
}

/// The roofline of `run`, with points of `companions` (other backends) hollow.
pub fn roofline(run: &RunInfo, companions: &[&RunInfo], machine: &MachineView) -> XyChart {
    let mut chart = XyChart::new(
        "roofline",
        "Roofline: attained GFLOP/s vs arithmetic intensity",
        Axis::log("arithmetic intensity (FLOP/byte, compulsory traffic)"),
        Axis::log("attained performance (GFLOP/s)"),
    );
    let mut points: Vec<(usize, &SummaryRow)> = Vec::new();
    for (i, r) in std::iter::once(run).chain(companions.iter().copied()).enumerate() {
        for row in ok_rows(r) {
            if row.kernel != "peak_fma" && !is_stream_sweep(row) && row.flops > 0.0 && row.bytes > 0.0 {
                if let (Some(_), Some(ai)) = (row.gflops_per_s, row.arithmetic_intensity) {
                    if ai > 0.0 && ai.is_finite() {
                        points.push((i, row));
                    }
                }
            }
        }
    }
    let ais: Vec<f64> = points.iter().filter_map(|(_, r)| r.arithmetic_intensity).collect();
    let mut x_lo = ais.iter().copied().fold(0.05, f64::min) / 2.0;
    let mut x_hi = ais.iter().copied().fold(50.0, f64::max) * 2.0;

    let mut peaks: Vec<(String, f64)> = ok_rows(run)
        .filter(|r| r.kernel == "peak_fma")
        .filter_map(|r| Some((r.dtype.to_string(), r.gflops_per_s?)))
        .collect();
    peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
    peaks.dedup_by(|a, b| a.0 == b.0);
    let ceilings = bandwidth_ceilings(run, machine);
    let top_peak = peaks.first().map(|p| p.1);
    let top_bw = ceilings.iter().map(|c| c.gbytes_per_s).fold(0.0, f64::max);
    if let Some(peak) = top_peak {
        for c in &ceilings {
            x_lo = x_lo.min(peak / c.gbytes_per_s / 4.0);
            x_hi = x_hi.max(peak / c.gbytes_per_s * 4.0);
        }
    }
    let mut color_index = 7;
    for c in &ceilings {
        let end_y = top_peak.unwrap_or(c.gbytes_per_s * x_hi);
        let end_x = (end_y / c.gbytes_per_s).min(x_hi);
        let mut series = Series::line(
            format!("{} bandwidth {}", c.level, si(c.gbytes_per_s * 1e9, "B/s")),
            if c.level == "DRAM" { 11 } else { color_index },
            LineKind::Solid,
            vec![
                Point::new(x_lo, c.gbytes_per_s * x_lo),
                Point::new(end_x, c.gbytes_per_s * end_x),
            ],
        );
        if c.level != "DRAM" {
            color_index += 1;
            series.line = LineKind::Dashed;
        }
        series.line_label = Some(format!("{} {}", c.level, si(c.gbytes_per_s * 1e9, "B/s")));
        chart.series.push(series);
    }
    for (dtype, gflops) in &peaks {
        let start = if top_bw > 0.0 { gflops / top_bw } else { x_lo };
        let mut series = Series::line(
            format!("{dtype} measured peak {}", si(gflops * 1e9, "FLOP/s")),
            11,
            LineKind::Solid,
            vec![Point::new(start.max(x_lo), *gflops), Point::new(x_hi, *gflops)],
        );
        series.line_label = Some(format!("{dtype} peak, measured: {}", si(gflops * 1e9, "FLOP/s")));
        chart.series.push(series);
    }
    // Empty for a GPU run (`MachineView::for_run`): its rows carry the GPU's peaks.
    let mut theoretical: Vec<(String, f64)> = machine
        .theoretical_peaks
        .iter()
        .map(|(d, f)| (d.clone(), f / 1e9))
        .collect();
    if theoretical.is_empty() {
        theoretical = ok_rows(run)
            .filter_map(|r| Some((r.dtype.to_string(), r.theoretical_peak_gflops_per_s?)))
            .collect();
        theoretical.sort_by(|a, b| a.0.cmp(&b.0));
        theoretical.dedup_by(|a, b| a.0 == b.0);
    }
    for (dtype, gflops) in theoretical
        .iter()
        .filter(|(d, _)| peaks.iter().any(|p| &p.0 == d) || peaks.is_empty())
    {
        let mut series = Series::line(
            format!(
                "{dtype} theoretical{} {}",
                if run.meta.device == "cpu" { "" } else { " (GPU)" },
                si(gflops * 1e9, "FLOP/s")
            ),
            6,
            LineKind::Dashed,
            vec![Point::new(x_lo, *gflops), Point::new(x_hi, *gflops)],
        );
        series.line_label = Some(format!("{dtype} theoretical: {}", si(gflops * 1e9, "FLOP/s")));
        chart.series.push(series);
    }
    // kernel points: colour per kernel, marker per dtype, hollow for companion backends
    let mut keys: Vec<(usize, usize, String, String)> = points
        .iter()
        .map(|(i, r)| (*i, kernel_order(&r.kernel), r.kernel.clone(), r.dtype.to_string()))
        .collect();
    keys.sort();
    keys.dedup();
    let mut kernels: Vec<String> = keys.iter().map(|k| k.2.clone()).collect();
    kernels.sort_by_key(|k| kernel_order(k));
    kernels.dedup();
    for (run_index, _, kernel, dtype) in &keys {
        let pts: Vec<Point> = points
            .iter()
            .filter(|(i, r)| i == run_index && &r.kernel == kernel && r.dtype.as_str() == dtype.as_str())
            .filter_map(|(_, r)| Some(Point::new(r.arithmetic_intensity?, r.gflops_per_s?)))
            .collect();
        let mut series = Series::points(
            format!("{kernel} {dtype}"),
            kernels.iter().position(|k| k == kernel).unwrap_or(0),
            dtype_marker(dtype),
            pts,
        );
        series.filled = *run_index == 0;
        // one legend entry per kernel and dtype; hollow markers are explained below
        series.in_legend = !chart
            .series
            .iter()
            .any(|s| s.label == series.label && !s.points.is_empty());
        chart.series.push(series);
    }
    chart.legend_notes.push("marker: ● f32  ▲ f64".into());
    if companions.is_empty() {
        chart.legend_notes.push(format!("backend: {}", run.meta.backend));
    } else {
        chart.legend_notes.push(format!("filled: {}", run.meta.backend));
        let others: Vec<&str> = companions.iter().map(|c| c.meta.backend.as_str()).collect();
        chart.legend_notes.push(format!("hollow: {}", others.join(", ")));
    }
    chart.empty_note = Some("no kernel with both FLOPs and bytes in this run".into());
    chart.caption = format!(
        "Every verified benchmark of run {} as a point at its arithmetic intensity (analytic FLOP ÷ compulsory bytes, \
         METHODS.md) and its attained GFLOP/s at the median time; marker shape = dtype (● f32, ▲ f64), hollow = other \
         backends' latest runs on this machine. Solid horizontal lines: compute ceilings measured by peak_fma \
         (register-resident FMA chains). Solid slanted line: DRAM bandwidth, the better of STREAM triad with \
         non-temporal and with ordinary stores; dashed slanted lines: cache levels where the triad sweep (four sizes in \
         the quick profile, 16 KiB to 1 GiB in the standard one) shows a plateau ≥ 15 % above the next level. Each \
         kernel's attainment in the summary table is taken against the level that holds its working set (named \
         there), so a kernel whose data sit in cache is not set against DRAM. \
         Dashed horizontal lines: theoretical peak from the machine fingerprint (cores × clock × SIMD lanes × FMA units × 2).",
        run.meta.run_id
    );
    chart
}

/// Which throughput a backends chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throughput {
    /// GFLOP/s of every kernel except STREAM.
    Compute,
    /// GB/s of the STREAM kernels.
    Bandwidth,
}

/// Every finished benchmark's samples, as criterion draws them: one row per benchmark, each
/// sample's time per call ÷ the benchmark's median as a hollow circle, the median (1) as a dot
/// with its bootstrap 95 % CI. The row's label carries the mean and the standard deviation
/// (both ÷ the median) and the count of Tukey outliers (kept, not dropped).
pub fn distributions(run: &RunInfo, samples: &[SampleRow]) -> BarChart {
    let mut chart = BarChart::new(
        "distributions",
        "Sample distributions: each benchmark's samples against its median",
        Axis::linear("time per call against the benchmark's median, % (0 = the median; right = slower)"),
        BarStyle::Dots,
    );
    chart.caption = "One row per benchmark that finished: hollow circles are its samples (each sample's time per \
                     call, in % above or below the median of all), spread over the row so that equal values stay \
                     visible; the dot is the median with its bootstrap 95 % CI. Beside each name: the samples' mean \
                     ± standard deviation (in % of the median) and, where there are any, how many are Tukey outliers \
                     (beyond 1.5 × the interquartile range; kept, since the statistics are medians). From \
                     samples.csv."
        .into();
    let short = crate::compare::render::short_names(&run.summary);
    let mut values = Vec::new();
    for row in ok_rows(run) {
        let Some(median) = row.median_s.filter(|m| *m > 0.0) else {
            continue;
        };
        let mine: Vec<&SampleRow> = samples
            .iter()
            .filter(|s| s.benchmark == row.benchmark && s.backend == row.backend)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let relative: Vec<f64> = mine
            .iter()
            .map(|s| 100.0 * (s.time_per_call_s / median - 1.0))
            .collect();
        let n = relative.len() as f64;
        let mean = relative.iter().sum::<f64>() / n;
        let sd = if relative.len() > 1 {
            (relative.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let outliers = mine.iter().filter(|s| !s.outlier.is_empty()).count();
        let name = short
            .get(&row.benchmark)
            .cloned()
            .unwrap_or_else(|| row.benchmark.clone());
        // Rounded first, then + 0.0, which turns −0.0 into +0.0: −0.04 % reads +0.0, not −0.0.
        let mean = (mean * 10.0).round() / 10.0 + 0.0;
        let outliers = match outliers {
            0 => String::new(),
            k => format!(" · {k} outl."),
        };
        chart
            .categories
            .push(format!("{name} · {mean:+.1} ± {sd:.1} %{outliers}"));
        let mut bar = Bar::new(0.0);
        if let (Some(low), Some(high)) = (row.ci_low_s, row.ci_high_s) {
            bar = bar.with_ci(100.0 * (low / median - 1.0), 100.0 * (high / median - 1.0));
        }
        bar.samples = relative;
        values.push(Some(bar));
    }
    if chart.categories.is_empty() {
        chart.empty_note = Some("no finished benchmark with samples in this run".into());
    }
    chart.groups.push(BarGroup {
        label: "median, 95 % CI; ○ = samples".into(),
        color: 0,
        values,
    });
    chart
}

/// Backends side by side: one bar per backend (the run and `companions`) per benchmark.
pub fn backends(run: &RunInfo, companions: &[&RunInfo], metric: Throughput) -> BarChart {
    let (id, title, axis) = match metric {
        Throughput::Compute => (
            "backends_compute",
            "Backends side by side: compute throughput",
            Axis::log("attained GFLOP/s at the median time (log scale)"),
        ),
        Throughput::Bandwidth => (
            "backends_bandwidth",
            "Backends side by side: memory bandwidth",
            Axis::log("attained GB/s at the median time (log scale)"),
        ),
    };
    let mut chart = BarChart::new(id, title, axis, BarStyle::Bars);
    let runs: Vec<&RunInfo> = std::iter::once(run).chain(companions.iter().copied()).collect();
    let wanted = |r: &SummaryRow| match metric {
        Throughput::Compute => !r.kernel.starts_with("stream_") && r.flops > 0.0 && r.gflops_per_s.is_some(),
        Throughput::Bandwidth => r.kernel.starts_with("stream_") && r.gbytes_per_s.is_some(),
    };
    let mut first_rows: Vec<&SummaryRow> = Vec::new();
    for r in &runs {
        for row in ok_rows(r).filter(|row| wanted(row)) {
            if !first_rows.iter().any(|f| f.benchmark == row.benchmark) {
                first_rows.push(row);
            }
        }
    }
    first_rows.sort_by(|a, b| {
        kernel_order(&a.kernel)
            .cmp(&kernel_order(&b.kernel))
            .then(a.kernel.cmp(&b.kernel))
            .then(a.dtype.as_str().cmp(b.dtype.as_str()))
            .then(
                b.param("nontemporal")
                    .unwrap_or(0.0)
                    .total_cmp(&a.param("nontemporal").unwrap_or(0.0)),
            )
            .then(a.bytes.total_cmp(&b.bytes))
    });
    let names: Vec<String> = first_rows.iter().map(|r| r.benchmark.clone()).collect();
    chart.categories = short_labels(&first_rows);
    for (i, r) in runs.iter().enumerate() {
        let values = names
            .iter()
            .map(|name| {
                let row = ok_rows(r).find(|row| &row.benchmark == name && wanted(row))?;
                let (value, work) = match metric {
                    Throughput::Compute => (row.gflops_per_s?, row.flops),
                    Throughput::Bandwidth => (row.gbytes_per_s?, row.bytes),
                };
                let mut bar = Bar::new(value);
                if let Some((lo, hi)) = rate_ci(work, row, 1e9) {
                    bar = bar.with_ci(lo, hi);
                }
                Some(bar)
            })
            .collect();
        chart.groups.push(BarGroup {
            label: format!("{} ({})", r.meta.backend, short_id(&r.meta.run_id)),
            color: i,
            values,
        });
    }
    chart.empty_note = Some(match metric {
        Throughput::Compute => "no compute benchmark in this run".into(),
        Throughput::Bandwidth => "no STREAM benchmark in this run".into(),
    });
    chart.caption = format!(
        "{} per benchmark (kernel/dtype/parameters) at the median time per call, one bar per backend: this run ({}) \
         and the latest complete run of each other backend on the same machine fingerprint. Whiskers: the bootstrap \
         95 % CI of the median time (ci_low_s..ci_high_s) turned into throughput. {}",
        match metric {
            Throughput::Compute => "Attained GFLOP/s (analytic FLOP per call ÷ median time)",
            Throughput::Bandwidth =>
                "Attained GB/s (STREAM-convention bytes per call ÷ median time; write-allocate traffic not counted)",
        },
        run.meta.backend,
        if companions.is_empty() {
            "Only one backend has results on this machine; run `braingap run --backend NAME` to add others."
        } else {
            ""
        }
    );
    chart
}

/// The short form of a run id (its time stamp to the second).
pub fn short_id(run_id: &str) -> String {
    run_id.chars().take(15).collect()
}

/// STREAM triad bandwidth over working-set size, with the cache capacities marked.
pub fn sweep_stream(run: &RunInfo, machine: &MachineView) -> XyChart {
    let mut chart = XyChart::new(
        "sweep_stream",
        "STREAM triad bandwidth vs working set",
        Axis::log("working set, 3 arrays × n × 8 bytes (bytes)"),
        Axis::log("attained bandwidth (GB/s)"),
    );
    let mut rows: Vec<&SummaryRow> = ok_rows(run).filter(|r| is_stream_sweep(r)).collect();
    rows.sort_by(|a, b| a.bytes.total_cmp(&b.bytes));
    let points: Vec<Point> = rows
        .iter()
        .filter_map(|r| {
            let bw = r.gbytes_per_s?;
            Some(Point {
                x: r.bytes,
                y: bw,
                y_err: rate_ci(r.bytes, r, 1e9),
            })
        })
        .collect();
    let mut series = Series::points(
        format!("stream_triad f64 ({})", run.meta.backend),
        0,
        Marker::Circle,
        points,
    );
    series.line = LineKind::Solid;
    chart.series.push(series);
    if !rows.is_empty() {
        let threads = run.meta.threads.max(1);
        for (i, cache) in machine.caches.iter().enumerate() {
            let (level, capacity) = (cache.level, cache.capacity(threads) as f64);
            let short = if cache.kind == "Data" { "d" } else { "" };
            chart.ref_lines.push(RefLine::vertical(
                format!("L{level}{short} {}", si(capacity, "B")),
                capacity,
                1 + i,
            ));
        }
        for c in bandwidth_ceilings(run, machine) {
            let mut line = RefLine::horizontal(
                format!("{} plateau {}", c.level, si(c.gbytes_per_s * 1e9, "B/s")),
                c.gbytes_per_s,
                6,
            );
            line.dashed = true;
            chart.ref_lines.push(line);
        }
    }
    chart.empty_note = Some("no triad sweep in this run: the quick and standard profiles run one".into());
    chart.caption = "STREAM triad (a = b + q·c, f64, ordinary stores) at working sets in each cache level and in DRAM \
        (quick profile: 16 KiB, 256 KiB, half the last-level cache, and twelve times it: each array four times the cache; standard profile: doubling from \
        16 KiB to 1 GiB); bandwidth = 24 bytes per element ÷ median time, whiskers from the bootstrap 95 % CI of \
        the median. Vertical lines: cache capacities from sysfs (one instance's size × the instances the run's \
        threads can use); where bandwidth falls past a line is that cache's knee. Horizontal lines: the plateaus \
        used as roofline ceilings."
        .into();
    chart
}

/// Whether rows (sorted by bytes per call) form one size sweep: every parameter that
/// differs between them grows with the bytes (square GEMMs 256³, 512³, 1024³). Two GEMM shapes
/// (512³ and 1024×256×768) or scatter_add's group sizes at one table size do not: a line
/// between them would draw a trend that was not measured.
fn is_size_sweep(rows: &[&SummaryRow]) -> bool {
    let params: Vec<_> = rows.iter().map(|r| r.params_object()).collect();
    let Some(first) = params.first() else { return false };
    first.keys().all(|key| {
        let values: Vec<Option<f64>> = params.iter().map(|p| p.get(key).and_then(|v| v.as_f64())).collect();
        values.windows(2).all(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => a <= b,
            (a, b) => a == b,
        })
    }) && rows.windows(2).all(|w| w[0].bytes < w[1].bytes)
}

/// GFLOP/s over problem size for every kernel the run measured at two or more sizes.
pub fn sweep_compute(run: &RunInfo) -> XyChart {
    let mut chart = XyChart::new(
        "sweep_compute",
        "Throughput vs problem size",
        Axis::log("problem size: compulsory bytes per call (bytes)"),
        Axis::log("attained GFLOP/s"),
    );
    let mut keys: Vec<(usize, String, String)> = ok_rows(run)
        .filter(|r| !r.kernel.starts_with("stream_") && r.kernel != "peak_fma" && r.flops > 0.0 && r.bytes > 0.0)
        .map(|r| (kernel_order(&r.kernel), r.kernel.clone(), r.dtype.to_string()))
        .collect();
    keys.sort();
    keys.dedup();
    for (i, (_, kernel, dtype)) in keys.iter().enumerate() {
        let mut rows: Vec<&SummaryRow> = ok_rows(run)
            .filter(|r| &r.kernel == kernel && r.dtype.as_str() == dtype.as_str())
            .collect();
        if rows.len() < 2 {
            continue;
        }
        rows.sort_by(|a, b| a.bytes.total_cmp(&b.bytes));
        let points = rows
            .iter()
            .filter_map(|r| {
                Some(Point {
                    x: r.bytes,
                    y: r.gflops_per_s?,
                    y_err: rate_ci(r.flops, r, 1e9),
                })
            })
            .collect();
        let mut series = Series::points(format!("{kernel} {dtype}"), i, dtype_marker(dtype), points);
        // Joined only where the sizes form one sweep; other shapes are points apart.
        if is_size_sweep(&rows) {
            series.line = LineKind::Solid;
        }
        chart.series.push(series);
    }
    chart.empty_note =
        Some("no kernel measured at two or more sizes: `braingap run --profile standard` adds sweeps".into());
    chart.caption = "Attained GFLOP/s (analytic FLOP ÷ median time) of each kernel measured at several sizes, against \
        the compulsory bytes one call touches (a size measure common to all kernels; for GEMM 4·(mk + kn + mn) at f32). \
        A line joins a kernel's points only where they form one size sweep (every parameter grows with the size); \
        other shapes stand apart. Whiskers: bootstrap 95 % CI of the median time."
        .into();
    chart
}

/// Reference lines for the energy chart (FLOP/J, not GFLOP/J).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyReference {
    /// Label, e.g. `human brain, 1e15 FLOP/s at 20 W`.
    pub label: String,
    /// FLOP per joule.
    pub flops_per_joule: f64,
    /// Plausible range.
    pub range: Option<(f64, f64)>,
}

/// The brain's FLOP/J at 20 W with its range (METHODS.md: 1e15 FLOP/s central, 1e13–1e17).
pub fn brain_energy_reference() -> EnergyReference {
    EnergyReference {
        label: "brain: 1e15 FLOP/s ÷ 20 W (range 1e13–1e17)".into(),
        flops_per_joule: 1e15 / 20.0,
        range: Some((1e13 / 20.0, 1e17 / 20.0)),
    }
}

/// GFLOP/J per benchmark and backend, with its source marked, against the brain and
/// hardware references.
pub fn energy(run: &RunInfo, companions: &[&RunInfo], references: &[EnergyReference]) -> BarChart {
    let mut chart = BarChart::new(
        "energy",
        "Energy efficiency: GFLOP per joule",
        Axis::log("GFLOP per joule (log scale)"),
        BarStyle::Bars,
    );
    let runs: Vec<&RunInfo> = std::iter::once(run).chain(companions.iter().copied()).collect();
    let with_energy = |r: &SummaryRow| r.gflops_per_joule.is_some() && r.energy_source != EnergySource::Unavailable;
    let mut first_rows: Vec<&SummaryRow> = Vec::new();
    for r in &runs {
        for row in ok_rows(r).filter(|row| with_energy(row)) {
            if !first_rows.iter().any(|f| f.benchmark == row.benchmark) {
                first_rows.push(row);
            }
        }
    }
    first_rows.sort_by(|a, b| {
        kernel_order(&a.kernel)
            .cmp(&kernel_order(&b.kernel))
            .then(a.dtype.as_str().cmp(b.dtype.as_str()))
            .then(a.bytes.total_cmp(&b.bytes))
    });
    let categories: Vec<(String, String)> = first_rows
        .iter()
        .map(|r| (r.benchmark.clone(), r.energy_source.as_str().to_string()))
        .collect();
    chart.categories = short_labels(&first_rows)
        .into_iter()
        .zip(&categories)
        .map(|(label, (_, source))| {
            let tag = if source == "modeled" {
                "[MODELED]".to_string()
            } else {
                format!("[{source}]")
            };
            format!("{label} {tag}")
        })
        .collect();
    for (i, r) in runs.iter().enumerate() {
        let values = categories
            .iter()
            .map(|(name, _)| {
                let row = ok_rows(r).find(|row| &row.benchmark == name && with_energy(row))?;
                let mut bar = Bar::new(row.gflops_per_joule?);
                bar.modeled = row.energy_source == EnergySource::Modeled;
                Some(bar)
            })
            .collect();
        chart.groups.push(BarGroup {
            label: format!("{} ({})", r.meta.backend, short_id(&r.meta.run_id)),
            color: i,
            values,
        });
    }
    for (i, reference) in references.iter().enumerate() {
        let mut line = RefLine::vertical(
            reference.label.clone(),
            reference.flops_per_joule / 1e9,
            if i == 0 { 3 } else { 6 + i },
        );
        line.range = reference.range.map(|(lo, hi)| (lo / 1e9, hi / 1e9));
        chart.ref_lines.push(line);
    }
    let reason = ok_rows(run)
        .find_map(|r| r.energy_note.clone())
        .unwrap_or_else(|| "no energy meter attached".into());
    chart.empty_note = Some(format!("no energy figures in this run: {reason}"));
    let modeled = runs
        .iter()
        .flat_map(|r| ok_rows(r))
        .any(|r| r.energy_source == EnergySource::Modeled);
    chart.caption = format!(
        "GFLOP per joule = analytic FLOP per call ÷ energy per call, where energy is the meter's reading over the \
         sampling window ÷ calls. The source of every bar is in its label: [rapl] = CPU package energy from Linux \
         powercap, [nvml] = GPU board energy from NVML, [MODELED] = not a measurement but braingap's documented \
         energy model (drawn pale and outlined){}. Dashed lines: the brain's 5e13 FLOP/J (1e15 FLOP/s ÷ 20 W, shaded \
         range 1e13–1e17 FLOP/s, Carlsmith 2020) and the hardware references (peak ÷ TDP from the bundled hardware \
         table, an upper bound on delivered FLOP/J).",
        if modeled { "; this run has modeled figures" } else { "" }
    );
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(params: &str, bytes: f64) -> SummaryRow {
        SummaryRow {
            kernel: "gemm".into(),
            params: params.into(),
            bytes,
            ..SummaryRow::default()
        }
    }

    /// Square GEMMs growing together are a sweep; two shapes, or group sizes traded against
    /// group counts at one table size, are not.
    #[test]
    fn only_sizes_that_grow_together_are_joined() {
        let square = [
            row(r#"{"m":256,"n":256,"k":256}"#, 1.0),
            row(r#"{"m":512,"n":512,"k":512}"#, 4.0),
            row(r#"{"m":1024,"n":1024,"k":1024}"#, 16.0),
        ];
        assert!(is_size_sweep(&square.iter().collect::<Vec<_>>()));
        let shapes = [
            row(r#"{"m":512,"n":512,"k":512}"#, 3.1e6),
            row(r#"{"m":1024,"n":256,"k":768}"#, 5.0e6),
        ];
        assert!(!is_size_sweep(&shapes.iter().collect::<Vec<_>>()));
        let groups = [
            row(r#"{"group":1,"groups":262144}"#, 4.0e7),
            row(r#"{"group":64,"groups":4096}"#, 4.0e7),
        ];
        assert!(!is_size_sweep(&groups.iter().collect::<Vec<_>>()));
    }
}
