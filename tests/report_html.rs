//! The HTML report on fixture runs made in-process with the fake backend: its structure
//! (insta snapshot), escaping, self-containment, the figure files, and the baseline table.

mod report_util;

use braingap::compare::CompareOptions;
use braingap::report::{self, ReportInput};
use braingap::store::RunInfo;
use report_util::*;

fn input(run: RunInfo, references: braingap::report::history::References) -> ReportInput {
    ReportInput {
        populations: Vec::new(),
        cortex: Default::default(),
        run,
        samples: Vec::new(),
        companions: Vec::new(),
        baseline: None,
        references,
        compare: CompareOptions::default(),
    }
}

/// A structural outline of the page: one line per element that matters (sections,
/// headings, figures, tables with their header and row count), volatile text redacted.
fn outline(html: &str) -> String {
    let mut out = Vec::new();
    let tag = regex::Regex::new(
        r#"<(section|h1|h2|h3|figure|table|th|nav|p class="banner"|ul|svg class="plot")[^>]*?(?: id="([^"]*)")?[^>]*>"#,
    )
    .unwrap();
    let heading = regex::Regex::new(r"<(h[123])[^>]*>(.*?)</h[123]>").unwrap();
    let table =
        regex::Regex::new(r#"(?s)<table class="([^"]+)">\s*<thead><tr>(.*?)</tr></thead>\s*<tbody>(.*?)</tbody>"#)
            .unwrap();
    let figure = regex::Regex::new(r#"<figure id="([^"]+)">"#).unwrap();
    let section = regex::Regex::new(r#"<section id="([^"]+)">"#).unwrap();
    let th = regex::Regex::new(r"<th>(.*?)</th>").unwrap();
    let _ = tag;
    for line in html.lines() {
        if let Some(c) = section.captures(line) {
            out.push(format!("section #{}", &c[1]));
        }
        if let Some(c) = heading.captures(line) {
            out.push(format!("  {} {}", &c[1], &c[2]));
        }
        if let Some(c) = figure.captures(line) {
            out.push(format!("  figure #{}", &c[1]));
        }
        if line.starts_with("<p class=\"banner\">") {
            out.push("  banner".into());
        }
    }
    for c in table.captures_iter(html) {
        let headers: Vec<String> = th.captures_iter(&c[2]).map(|h| h[1].to_string()).collect();
        let rows = c[3].matches("<tr>").count();
        out.push(format!("table.{} [{}] rows={}", &c[1], headers.join(" | "), rows));
    }
    out.push(format!("inline svg: {}", html.matches("<svg class=\"plot\"").count()));
    out.join("\n")
}

#[test]
fn structure_of_a_standard_fake_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        dir.path(),
        "20250601T120000.000Z-fix1",
        Some("fixture"),
        &standard_specs(),
        "fp-fixture",
    );
    make_realistic(&mut run);
    let report = report::render(&input(run, sample_references(false))).unwrap();
    insta::assert_snapshot!("standard_fake_run_outline", outline(&report.html));
    let ids: Vec<&str> = report.figures.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "answer",
            "roofline",
            "backends_compute",
            "backends_bandwidth",
            "sweep_stream",
            "sweep_compute",
            "energy",
            "cortex-yardstick",
            "cortex-delivery",
            "history_neurons",
            "history_connections",
            "history_training",
            "history_hardware",
            "history_efficiency",
            "projections"
        ]
    );
    for figure in &report.figures {
        assert!(
            figure.png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            figure.id
        );
        assert!(figure.svg.contains("<svg"), "{} is not an SVG", figure.id);
        // No label is cut short: legends and categories wrap (the one deliberate "…" says how
        // many legend entries more the table lists).
        let cut: Vec<&str> = figure
            .svg
            .lines()
            .filter(|l| l.contains('…') && !l.contains("more (see table)"))
            .collect();
        assert!(cut.is_empty(), "{}: text cut short: {cut:?}", figure.id);
        assert!(report.html.contains(&format!("<figure id=\"fig-{}\">", figure.id)));
    }
}

#[test]
fn quick_run_without_reference_data_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let run = fake_run(
        dir.path(),
        "20250601T120000.000Z-fix2",
        None,
        &quick_specs(),
        "fp-fixture",
    );
    let report = report::render(&input(run, Default::default())).unwrap();
    insta::assert_snapshot!("quick_fake_run_outline", outline(&report.html));
    // The summary table shows the short names the terminal uses, the full name as hover text.
    assert!(
        report
            .html
            .contains("<td title=\"gemm&#x2f;f32&#x2f;m=512,n=512,k=512\">gemm&#x2f;f32 512³</td>"),
        "short names in the summary table"
    );
    // The quick profile's short triad sweep draws the bandwidth-vs-working-set figure.
    assert!(report.html.contains("id=\"fig-sweep_stream\""));
    assert!(!report.html.contains("no size sweep in this run"));
    assert!(report.html.contains("no energy figures in this run"));
}

#[test]
fn hostile_strings_render_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        dir.path(),
        "20250601T120000.000Z-fix3",
        Some("<script>alert(1)</script>"),
        &quick_specs(),
        "fp-fixture",
    );
    make_realistic(&mut run);
    run.meta.device = "\"><img src=x onerror=alert(3)>".into();
    let report = report::render(&input(run, sample_references(true))).unwrap();
    let html = &report.html;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "label not escaped as text"
    );
    assert!(!html.contains("<script"), "a <script> tag made it into the page");
    assert!(!html.contains("<img"), "an <img> tag made it into the page");
    assert!(!html.contains("<b>9000</b>"), "CPU name markup not escaped");
    // inside the SVGs plotters escapes text too
    for figure in &report.figures {
        assert!(!figure.svg.contains("<script"), "{} carries a script tag", figure.id);
    }
}

#[test]
fn page_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        dir.path(),
        "20250601T120000.000Z-fix4",
        None,
        &quick_specs(),
        "fp-fixture",
    );
    make_realistic(&mut run);
    let report = report::render(&input(run, sample_references(false))).unwrap();
    let html = &report.html;
    let remote = regex::Regex::new(r#"(?i)(src|href|xlink:href|action)\s*=\s*["']?\s*(https?:|//)"#).unwrap();
    assert!(!remote.is_match(html), "remote reference: {:?}", remote.find(html));
    for forbidden in ["<script", "<link", "<iframe", "@import", "url(", "<img"] {
        assert!(!html.to_lowercase().contains(forbidden), "page contains {forbidden}");
    }
    // local links only point at the figure files written beside the page
    let href = regex::Regex::new(r##"href="([^"#][^"]*)""##).unwrap();
    for c in href.captures_iter(html) {
        assert!(c[1].starts_with("figures/"), "unexpected link {}", &c[1]);
    }
}

#[test]
fn written_report_has_a_png_and_an_svg_per_figure() {
    let results = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    fake_run(
        results.path(),
        "20250601T120000.000Z-fix5",
        None,
        &quick_specs(),
        "fp-fixture",
    );
    let input = report::load_input(results.path(), "latest", None, None).unwrap();
    let rendered = report::render(&input).unwrap();
    let index = report::write_report(&rendered, out.path()).unwrap();
    assert_eq!(index, out.path().join("index.html"));
    let html = std::fs::read_to_string(&index).unwrap();
    for figure in &rendered.figures {
        let png = std::fs::read(out.path().join(format!("figures/{}.png", figure.id))).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let svg = std::fs::read_to_string(out.path().join(format!("figures/{}.svg", figure.id))).unwrap();
        assert!(svg.contains("<svg"));
        assert!(html.contains(&format!("figures/{}.png", figure.id)));
    }
}

#[test]
fn baseline_table_lists_regressions_first() {
    let results = tempfile::tempdir().unwrap();
    let specs = quick_specs();
    fake_run(results.path(), "20250601T110000.000Z-base", None, &specs, "fp-fixture");
    let current = fake_run(results.path(), "20250601T120000.000Z-curr", None, &specs, "fp-fixture");
    // make one benchmark 30 % slower in the current run, samples and summary alike
    let slowed = current
        .summary
        .iter()
        .find(|r| r.kernel == "gemm")
        .unwrap()
        .benchmark
        .clone();
    let samples_path = current.dir.join("samples.csv");
    let mut samples = braingap::store::rows::read_samples(&samples_path).unwrap();
    for s in samples.iter_mut().filter(|s| s.benchmark == slowed) {
        s.time_per_call_s *= 1.3;
        s.batch_time_s *= 1.3;
    }
    std::fs::write(
        &samples_path,
        braingap::store::rows::to_csv(&samples, braingap::store::rows::SAMPLE_COLUMNS),
    )
    .unwrap();
    let mut summary = current.summary.clone();
    for r in summary.iter_mut().filter(|r| r.benchmark == slowed) {
        for v in [
            &mut r.median_s,
            &mut r.ci_low_s,
            &mut r.ci_high_s,
            &mut r.min_s,
            &mut r.max_s,
            &mut r.mad_s,
        ] {
            *v = v.map(|x| x * 1.3);
        }
    }
    std::fs::write(
        current.dir.join("summary.csv"),
        braingap::store::rows::to_csv(&summary, braingap::store::rows::SUMMARY_COLUMNS),
    )
    .unwrap();

    let input = report::load_input(
        results.path(),
        "20250601T120000.000Z-curr",
        Some("20250601T110000.000Z-base"),
        None,
    )
    .unwrap();
    let rendered = report::render(&input).unwrap();
    let comparison = rendered.comparison.as_ref().unwrap();
    assert_eq!(comparison.rows[0].benchmark, slowed);
    assert_eq!(comparison.rows[0].verdict, braingap::compare::Verdict::Regressed);
    assert!(comparison.rows[1..]
        .iter()
        .all(|r| r.verdict == braingap::compare::Verdict::Unchanged));
    let html = &rendered.html;
    let first_row = html.find("<td class=\"verdict-").unwrap();
    assert!(html[first_row..].starts_with("<td class=\"verdict-regressed\">"));

    // a baseline from another machine is incomparable
    let other = results.path().join("other");
    let base = fake_run(&other, "20250601T100000.000Z-othr", None, &specs, "fp-elsewhere");
    let input = report::load_input(
        results.path(),
        "20250601T120000.000Z-curr",
        Some(base.dir.to_str().unwrap()),
        None,
    )
    .unwrap();
    let rendered = report::render(&input).unwrap();
    assert!(rendered
        .comparison
        .unwrap()
        .rows
        .iter()
        .all(|r| r.verdict == braingap::compare::Verdict::Incomparable));
    assert!(rendered.html.contains("different machines"));
}

#[test]
fn other_backends_on_the_same_machine_are_drawn_beside() {
    let results = tempfile::tempdir().unwrap();
    let run = fake_run(
        results.path(),
        "20250601T120000.000Z-fake",
        None,
        &quick_specs(),
        "fp-fixture",
    );
    // a second "backend": a copy of the run renamed, slower
    let mut other = run.clone();
    other.meta.backend = braingap::backend_kind::BackendKind::Cpu;
    for r in other.summary.iter_mut() {
        r.backend = braingap::backend_kind::BackendKind::Cpu;
        r.gflops_per_s = r.gflops_per_s.map(|g| g * 0.7);
    }
    let mut input = input(run, Default::default());
    input.companions = vec![other];
    let rendered = report::render(&input).unwrap();
    assert!(rendered.html.contains("Other backends drawn beside this run: cpu"));
    let backends = rendered.figures.iter().find(|f| f.id == "backends_compute").unwrap();
    assert!(backends.svg.contains("cpu (") && backends.svg.contains("fake ("));
}

/// The report of a real GPU run (`docs/gpu-h200`: `braingap run --profile full --backend torch
/// --device cuda` on an NVIDIA H200, 2026-11-30): the GPU's peaks and memory bandwidth, not
/// the host CPU's caches and peaks, frame its figures, and the machine table names the GPU.
#[test]
fn a_gpu_run_is_drawn_against_the_gpu_not_the_host_cpu() {
    use braingap::report::measured::{bandwidth_ceilings, roofline, sweep_stream, MachineView};
    let store = braingap::store::Store::new(std::path::Path::new("docs/gpu-h200/results"));
    let run = store
        .load("20261130T153153.233Z-6ab7")
        .expect("the H200 kernels run loads");
    assert_eq!(run.meta.device, "cuda:0");
    let view = MachineView::for_run(&run);
    assert!(view.caches.is_empty() && view.theoretical_peaks.is_empty());
    assert_eq!(view.cpu_model.as_deref(), Some("NVIDIA H200 (cuda:0)"));

    let ceilings = bandwidth_ceilings(&run, &view);
    assert_eq!(ceilings.len(), 1, "{ceilings:?}");
    assert_eq!(ceilings[0].level, "device memory");
    // the 1 GiB point of the sweep: 4.348 TB/s
    assert!((ceilings[0].gbytes_per_s - 4347.6).abs() < 1.0, "{:?}", ceilings[0]);

    let chart = roofline(&run, &[], &view);
    let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
    assert!(labels.contains(&"bf16 theoretical (GPU) 1.071 PFLOP/s"), "{labels:?}");
    assert!(labels.contains(&"f32 theoretical (GPU) 66.91 TFLOP/s"), "{labels:?}");
    assert!(
        labels.iter().any(|l| l.starts_with("device memory bandwidth")),
        "{labels:?}"
    );
    // the host's AVX-512 peaks (about 2.6 TFLOP/s f32 here) must not appear
    assert!(
        !labels.iter().any(|l| l.contains("TFLOP/s") && !l.contains("GPU")),
        "{labels:?}"
    );

    let sweep = sweep_stream(&run, &view);
    assert!(
        sweep.ref_lines.iter().all(|l| !l.label.starts_with('L')),
        "no CPU cache lines"
    );

    let rows = braingap::report::context::gpu_rows(&run.meta.config["gpu"]);
    assert_eq!(rows[0].value, "NVIDIA H200");
    assert!(
        rows[0]
            .note
            .contains("compute capability 9.0, 16896 CUDA cores, max SM clock 1980 MHz"),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows.len(), 5, "name and four peaks");
    assert!(braingap::report::context::gpu_rows(&serde_json::Value::Null).is_empty());
}

/// The answer panel on a run with known figures: the best network kernel's FLOP/s and FLOP/J
/// against the brain's, the microcircuit's real-time factor and J per event, each with its
/// source; a fake-backend run says it is simulated.
#[test]
fn the_answer_panel_states_the_gap_with_its_sources() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        dir.path(),
        "20250601T120000.000Z-ans1",
        Some("answer"),
        &quick_specs(),
        "fp-answer",
    );
    let simulated = report::render(&input(run.clone(), sample_references(false))).unwrap();
    assert!(
        simulated.html.contains("SIMULATED: the fake backend"),
        "a fake run says so"
    );
    assert!(
        simulated
            .html
            .contains("<title>SIMULATED (fake backend) braingap report: answer</title>"),
        "and its title says so too"
    );

    run.meta.backend = braingap::backend_kind::BackendKind::Cpu;
    for row in &mut run.summary {
        row.backend = braingap::backend_kind::BackendKind::Cpu;
        row.gflops_per_s = row.gflops_per_s.map(|g| g.min(50.0));
        match row.kernel.as_str() {
            // The best network kernel: 2.27e11 FLOP/s, 1e10 FLOP/J modeled.
            "gemm" if row.benchmark == "gemm/f32/m=512,n=512,k=512" => {
                row.gflops_per_s = Some(227.0);
                row.gflops_per_joule = Some(10.0);
                row.energy_source = braingap::meters::EnergySource::Modeled;
            }
            // peak_fma beats it but is not a network kernel: never the answer.
            "peak_fma" => row.gflops_per_s = Some(5000.0),
            // 1 ms of biology in 2.5 ms: real-time factor 2.5; 4e-8 J per event, measured.
            "microcircuit" => {
                row.median_s = Some(2.5e-3);
                row.joules_per_synaptic_event = Some(4e-8);
                row.energy_source = braingap::meters::EnergySource::Rapl;
            }
            _ => {}
        }
    }
    let html = report::render(&input(run, sample_references(false))).unwrap().html;
    let panel = html[html.find("id=\"answer\"").unwrap()..html.find("id=\"roofline\"").unwrap()]
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'");
    for expected in [
        "2.3e11 FLOP/s",
        "≈ 4400× short of 1.0e15 FLOP/s (44×–4.4e5×",
        "gemm/f32/m=512,n=512,k=512",
        "1.0e10 FLOP/J (model range 5.0e9–2.0e10)",
        "MODELED",
        "≈ 5000× short of 5.0e13 FLOP/J",
        "real-time factor 2.5",
        "2.5× slower than real time",
        "4.0e-8 J",
        "measured (rapl)",
    ] {
        assert!(panel.contains(expected), "the panel lacks {expected:?}:\n{panel}");
    }
    assert!(!panel.contains("SIMULATED"));
    assert!(
        html.contains("<title>braingap report: answer</title>"),
        "a cpu run is not called simulated"
    );
    assert!(!panel.contains("5.0e12 FLOP/s"), "peak_fma is not the answer");
}

/// Every file a figure's caption names exists: in the repository (`data/…`, `METHODS.md`) or,
/// for the run's own files (`the run's spikes.csv`), in the run's directory. Rendered with the
/// bundled reference data, so the history figures' captions are checked too.
#[test]
fn figure_captions_name_only_files_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let run = fake_run(
        dir.path(),
        "20250601T120000.000Z-cap1",
        None,
        &standard_specs(),
        "fp-captions",
    );
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let input = report::load_input(dir.path(), &run.meta.run_id, None, Some(&data)).unwrap();
    let html = report::render(&input).unwrap().html.replace("&#x2f;", "/");
    let caption = regex::Regex::new(r"(?s)<figcaption>(.*?)</figcaption>").unwrap();
    let file = regex::Regex::new(r"[A-Za-z0-9_./-]+\.(?:csv|md|py|sh|json|rs|ipynb|toml)\b").unwrap();
    let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = 0;
    let captions: Vec<String> = caption
        .captures_iter(&html)
        .map(|c| {
            regex::Regex::new(r"<[^>]*>")
                .unwrap()
                .replace_all(&c[1], "")
                .into_owned()
        })
        .collect();
    assert!(captions.len() >= 5, "the report has figures: {}", captions.len());
    for text in &captions {
        for m in file.find_iter(text) {
            named += 1;
            let name = m.as_str();
            assert!(
                repository.join(name).is_file() || run.dir.join(name).is_file(),
                "a caption names {name}, which is neither a file of the repository nor of the run:\n{text}"
            );
        }
    }
    assert!(named >= 3, "captions name their sources ({named} names found)");
}

/// The machine table shows each dtype's measured compute ceiling (peak_fma), labelled
/// measured: its share of the theoretical peak where that is known, and as the only ceiling,
/// with the reason, where it is not.
#[test]
fn the_measured_ceiling_is_shown_labelled_measured() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        dir.path(),
        "20250601T120000.000Z-ceil",
        None,
        &quick_specs(),
        "fp-ceiling",
    );
    for row in &mut run.summary {
        if row.kernel == "peak_fma" {
            row.gflops_per_s = Some(if row.dtype.as_str() == "f32" { 96.0 } else { 48.0 });
        }
    }
    run.meta.machine["theoretical_peaks"][1] = serde_json::json!({
        "dtype": "f64",
        "flops_per_s": null,
        "formula": "unknown: needs cores (2), clock (3.000 GHz) and FMA units (unknown)"
    });
    let html = report::render(&input(run, sample_references(false)))
        .unwrap()
        .html
        .replace("&#x2f;", "/");
    let machine = &html[html.find("id=\"machine\"").unwrap()..];
    // 96 GFLOP/s of the fixture's 192: 50 %.
    assert!(machine.contains("compute ceiling f32 (measured)"), "{machine}");
    assert!(machine.contains("96.00 GFLOP/s"), "{machine}");
    assert!(machine.contains("50% of the theoretical peak"), "{machine}");
    assert!(machine.contains("compute ceiling f64 (measured)"), "{machine}");
    assert!(
        machine.contains("the only compute ceiling here: theoretical peak unknown: needs cores"),
        "{machine}"
    );
}
