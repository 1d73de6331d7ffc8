//! One simulation written out as `scripts/compare-nest.sh` reads it (the same files as
//! `scripts/microcircuit/nest_run.py` writes for NEST): `spikes.csv` (population, neuron index
//! within it, time in ms from the start of the timed phase, stamped as NEST stamps a spike of
//! step s: (s + 1) × 0.1 ms), `populations.csv` and `timing.json`.
//!
//! `cargo run -p braingap-microcircuit --release --example dump -- --scale 0.1 --k-scale 1
//! --t-sim-ms 1000 --threads 2 --seed 1 --input dc [--t-presim-ms 500] --out DIR`

use std::fmt::Write as _;

use braingap_microcircuit::{simulate, BgInput, Derived, Params, POPULATIONS};

fn fail(message: &str) -> ! {
    eprintln!("dump: {message}");
    std::process::exit(2)
}

/// Peak resident memory of this process (Linux `VmHWM`), bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() {
    let mut p = Params {
        threads: 2,
        record_spikes: true,
        ..Params::default()
    };
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail(&format!("{a} needs a value")));
        let number = |text: String, name: &str| -> f64 {
            text.parse()
                .unwrap_or_else(|_| fail(&format!("{name}: {text:?} is not a number")))
        };
        match a.as_str() {
            "--scale" => p.n_scaling = number(value(), "--scale"),
            "--k-scale" => p.k_scaling = number(value(), "--k-scale"),
            "--t-sim-ms" => p.t_sim_ms = number(value(), "--t-sim-ms"),
            "--t-presim-ms" => p.t_presim_ms = number(value(), "--t-presim-ms"),
            "--threads" => p.threads = number(value(), "--threads") as usize,
            "--seed" => p.seed = number(value(), "--seed") as u64,
            "--input" => {
                p.bg_input = match value().as_str() {
                    "dc" => BgInput::Dc,
                    "poisson" => BgInput::Poisson,
                    other => fail(&format!("--input: unknown kind {other:?} (dc or poisson)")),
                }
            }
            "--out" => out = Some(std::path::PathBuf::from(value())),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    let out = out.unwrap_or_else(|| fail("--out DIR is required"));
    let d = Derived::new(&p).unwrap_or_else(|e| fail(&e.to_string()));
    let result = simulate(&p).unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(&format!("{}: {e}", out.display())));
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    };
    let mut spikes = String::from("population,neuron,time_ms\n");
    for &(id, step) in result.spikes.as_deref().unwrap_or(&[]) {
        let pop = d.pop_of(u64::from(id));
        let local = u64::from(id) - d.pop_start[pop];
        let time_ms = (f64::from(step) + 1.0) * 0.1 - p.t_presim_ms;
        let _ = writeln!(spikes, "{},{local},{time_ms:.1}", POPULATIONS[pop]);
    }
    write("spikes.csv", spikes);
    let mut populations = String::from("population,neurons\n");
    for (name, n) in POPULATIONS.iter().zip(d.num_neurons) {
        let _ = writeln!(populations, "{name},{n}");
    }
    write("populations.csv", populations);
    let c = &result.counts;
    let t = &result.times;
    let timing = format!(
        "{{\n  \"simulator\": \"braingap\",\n  \"version\": \"{}\",\n  \"scale\": {},\n  \"k_scale\": {},\n  \
         \"input\": \"{}\",\n  \"seed\": {},\n  \"threads\": {},\n  \"t_sim_ms\": {},\n  \"t_presim_ms\": {},\n  \
         \"build_s\": {},\n  \"connect_s\": {},\n  \"presim_s\": {},\n  \"simulate_s\": {},\n  \"rtf\": {},\n  \
         \"peak_rss_bytes\": {},\n  \"neurons\": {},\n  \"synapses\": {},\n  \"spikes\": {},\n  \
         \"synaptic_events\": {},\n  \"update_s\": {},\n  \"deliver_s\": {}\n}}\n",
        env!("CARGO_PKG_VERSION"),
        p.n_scaling,
        p.k_scaling,
        if p.bg_input == BgInput::Dc { "dc" } else { "poisson" },
        p.seed,
        p.threads,
        p.t_sim_ms,
        p.t_presim_ms,
        t.build_s,
        t.connect_s,
        t.warmup_s,
        t.sim_s,
        result.real_time_factor,
        peak_rss_bytes().map_or("null".into(), |b| b.to_string()),
        c.neurons,
        c.synapses,
        c.spikes,
        c.recurrent_events,
        t.update_s,
        t.deliver_s,
    );
    write("timing.json", timing);
    eprintln!(
        "dump: {} neurons, {} synapses, RTF {:.3}, {} spikes -> {}",
        c.neurons,
        c.synapses,
        result.real_time_factor,
        c.spikes,
        out.display()
    );
}
