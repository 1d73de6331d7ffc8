//! End to end in a real browser: the written report opened from disk in headless Chromium
//! (Debian's `chromium`). Checks the screenshot is not blank, the DOM holds every figure,
//! and no request leaves the file (Chromium's network log shows no http/https URL).
//!
//! Without `chromium` on PATH the test fails when `CI` is set and is skipped (with a note)
//! otherwise; `scripts/setup-browser.sh` installs it.

mod report_util;

use braingap::compare::CompareOptions;
use braingap::report::{self, ReportInput};
use report_util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let names = ["chromium", "chromium-browser"];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--hide-scrollbars",
];

fn run_chromium(browser: &Path, profile: &Path, extra: &[String], url: &str) -> std::process::Output {
    let mut cmd = Command::new(browser);
    cmd.args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url);
    let output = cmd.output().expect("chromium starts");
    assert!(
        output.status.success(),
        "chromium failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Fraction of pixels that differ from the most common colour (the background).
fn non_background_fraction(png: &[u8]) -> f64 {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("decodes");
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let mut counts = std::collections::HashMap::new();
    for p in &pixels {
        *counts.entry(&p[..3]).or_insert(0usize) += 1;
    }
    let background = counts.values().max().copied().unwrap_or(0);
    1.0 - background as f64 / pixels.len() as f64
}

#[test]
fn report_opens_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed and CI is set: run scripts/setup-browser.sh");
        }
        eprintln!("note: skipping report_opens_in_headless_chromium: no `chromium` on PATH (scripts/setup-browser.sh installs it)");
        return;
    };
    let results = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut run = fake_run(
        results.path(),
        "20250601T120000.000Z-brws",
        Some("<script>alert(1)</script>"),
        &standard_specs(),
        "fp-fixture",
    );
    make_realistic(&mut run);
    // The best network kernel is a convolution, whose full name (about 110 characters, no
    // place to break) once pushed the answer panel past the page's right edge.
    let conv = run
        .summary
        .iter_mut()
        .find(|r| r.kernel == "conv2d_nhwc")
        .expect("the standard profile has a convolution");
    assert!(conv.benchmark.len() > 100, "{}", conv.benchmark);
    conv.gflops_per_s = Some(1e4);
    let input = ReportInput {
        populations: Vec::new(),
        cortex: Default::default(),
        run,
        samples: Vec::new(),
        companions: Vec::new(),
        baseline: None,
        references: sample_references(true),
        compare: CompareOptions::default(),
    };
    let rendered = report::render(&input).unwrap();
    let index = report::write_report(&rendered, out.path()).unwrap();
    let url = format!("file://{}", index.display());
    let figures = rendered.figures.len();
    assert!(figures >= 10);

    // 1. the DOM as the browser built it: every figure is an inline <svg> with drawn content,
    //    the hostile label is text, and no script element exists
    let profile = tempfile::tempdir().unwrap();
    let dom = run_chromium(&browser, profile.path(), &["--dump-dom".into()], &url);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom.matches("<svg class=\"plot\"").count(),
        figures,
        "inline figures in the DOM"
    );
    assert_eq!(dom.matches("<figure id=\"fig-").count(), figures);
    assert!(!dom.contains("<script"), "a script element exists in the DOM");
    assert!(
        dom.contains("&lt;script&gt;alert(1)"),
        "the hostile label is not shown as text"
    );

    // every point and bar of every figure has hover text (an SVG <title>), beyond the
    // page's own <title>
    assert!(
        dom.matches("<title>").count() > 2 * figures,
        "figures without hover text: {} <title> elements for {figures} figures",
        dom.matches("<title>").count()
    );

    // 1b. readable at 1,400 and at 800 px: the page never scrolls sideways (a wide table
    //     scrolls inside itself). A copy of the page with a probe script (the page itself
    //     has none) records the document's width as the browser laid it out.
    let html = std::fs::read_to_string(&index).unwrap();
    let probe_page = out.path().join("probe.html");
    std::fs::write(
        &probe_page,
        html.replace(
            "</body>",
            "<script>document.body.setAttribute('data-scroll-width', document.documentElement.scrollWidth)</script></body>",
        ),
    )
    .unwrap();
    for width in [1400, 800] {
        let profile = tempfile::tempdir().unwrap();
        let dom = run_chromium(
            &browser,
            profile.path(),
            &["--dump-dom".into(), format!("--window-size={width},900")],
            &format!("file://{}", probe_page.display()),
        );
        let dom = String::from_utf8_lossy(&dom.stdout);
        let laid_out: u32 = dom
            .split("data-scroll-width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .expect("the probe recorded the page's width");
        assert!(
            laid_out <= width,
            "at {width} px the page is {laid_out} px wide: something does not wrap or scroll"
        );
    }

    // 2. a screenshot that is not blank, with a network log of every request
    let profile = tempfile::tempdir().unwrap();
    let shot = out.path().join("screenshot.png");
    let netlog = out.path().join("netlog.json");
    run_chromium(
        &browser,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,4000".into(),
            format!("--log-net-log={}", netlog.display()),
            "--net-log-capture-mode=Everything".into(),
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    let ink = non_background_fraction(&png);
    assert!(
        ink > 0.05,
        "screenshot looks blank ({:.1}% non-background pixels)",
        ink * 100.0
    );

    // 3. the page requested nothing from the network (the browser's own background
    //    requests, initiator "not an origin", are not the page's)
    let requests = page_requests(&netlog);
    assert!(requests.is_empty(), "the page made network requests: {requests:?}");

    // control: the same check catches a page that does fetch something
    let control = out.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><p>control</p><img src=\"http://braingap-control.invalid/x.png\">",
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let control_log = out.path().join("control-netlog.json");
    run_chromium(
        &browser,
        profile.path(),
        &[
            "--dump-dom".into(),
            format!("--log-net-log={}", control_log.display()),
            "--net-log-capture-mode=Everything".into(),
        ],
        &format!("file://{}", control.display()),
    );
    let control_requests = page_requests(&control_log);
    assert!(
        control_requests.iter().any(|u| u.contains("braingap-control.invalid")),
        "the network check missed the control page's request: {control_requests:?}"
    );
}

/// URLs of http(s)/ws(s) requests in a Chromium net log that a page initiated.
fn page_requests(netlog: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(netlog).expect("net log written");
    // a log cut short by the browser's exit lacks its closing brackets
    let log: serde_json::Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("net log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"].as_u64() == start_job)
        .filter_map(|e| {
            let url = e["params"]["url"].as_str()?;
            let initiator = e["params"]["initiator"].as_str().unwrap_or("");
            let remote = ["http:", "https:", "ws:", "wss:", "ftp:"]
                .iter()
                .any(|s| url.starts_with(s));
            (remote && initiator != "not an origin").then(|| format!("{url} (initiator {initiator})"))
        })
        .collect()
}
