//! Run the microcircuit once and print rates, counts, real-time factor and phase times.
//!
//! `cargo run -p braingap-microcircuit --release --example run -- --scale 0.1 --k-scale 1 --t-sim-ms 1000
//! --threads 2 --seed 55 [--poisson] [--thalamic] [--dc-transient] [--t-presim-ms 500] [--spikes FILE]`

use std::io::Write;

use braingap_microcircuit::{memory_estimate, simulate, BgInput, Params};

fn main() {
    let mut p = Params {
        threads: 2,
        ..Params::default()
    };
    let mut spikes_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match a.as_str() {
            "--scale" => p.n_scaling = val("--scale").parse().expect("--scale: number"),
            "--k-scale" => p.k_scaling = val("--k-scale").parse().expect("--k-scale: number"),
            "--t-sim-ms" => p.t_sim_ms = val("--t-sim-ms").parse().expect("--t-sim-ms: number"),
            "--t-presim-ms" => p.t_presim_ms = val("--t-presim-ms").parse().expect("--t-presim-ms: number"),
            "--threads" => p.threads = val("--threads").parse().expect("--threads: integer"),
            "--seed" => p.seed = val("--seed").parse().expect("--seed: integer"),
            "--poisson" => p.bg_input = BgInput::Poisson,
            "--thalamic" => p.thalamic_input = true,
            "--dc-transient" => p.dc_transient = true,
            "--spikes" => {
                spikes_file = Some(val("--spikes"));
                p.record_spikes = true;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let mem = match memory_estimate(&p) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "memory estimate: {:.2} GiB steady, {:.2} GiB peak (synapses {:.2} GiB)",
        mem.total as f64 / (1u64 << 30) as f64,
        mem.peak as f64 / (1u64 << 30) as f64,
        mem.synapses as f64 / (1u64 << 30) as f64
    );
    let r = match simulate(&p) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "N_scaling {} K_scaling {} threads {} seed {} bg {:?}",
        p.n_scaling, p.k_scaling, p.threads, p.seed, p.bg_input
    );
    println!(
        "{:<5} {:>7} {:>9} {:>9} {:>7}",
        "pop", "neurons", "spikes", "rate_hz", "cv_isi"
    );
    for s in &r.populations {
        println!(
            "{:<5} {:>7} {:>9} {:>9.3} {:>7.3}",
            s.name, s.neurons, s.spikes, s.rate_hz, s.mean_isi_cv
        );
    }
    let c = &r.counts;
    println!(
        "neurons {} synapses {} ({} B/synapse) steps {} updates {} spikes {} recurrent events {} (delivered in window {}) external events {}",
        c.neurons,
        c.synapses,
        r.bytes_per_synapse,
        c.steps,
        c.neuron_updates,
        c.spikes,
        c.recurrent_events,
        c.delivered_events,
        c.external_events
    );
    println!("max delay {} steps", r.max_delay_steps);
    let t = &r.times;
    println!(
        "times [s]: connect {:.3} build {:.3} warmup {:.3} sim {:.3} (update {:.3} deliver {:.3} wait {:.3})",
        t.connect_s, t.build_s, t.warmup_s, t.sim_s, t.update_s, t.deliver_s, t.wait_s
    );
    for (i, x) in r.thread_times.iter().enumerate() {
        println!(
            "  thread {i}: neurons {} synapses {} events {} update {:.3} deliver {:.3} wait {:.3} ({:.2} ns/event)",
            x.neurons,
            x.synapses,
            x.recurrent_events,
            x.update_s,
            x.deliver_s,
            x.wait_s,
            x.deliver_s * 1e9 / x.recurrent_events.max(1) as f64
        );
        if let (Some(cpu), Some(rq)) = (x.cpu_s, x.runqueue_s) {
            println!("    on CPU {cpu:.3} s, waiting for a CPU {rq:.3} s");
        }
    }
    println!("RTF {:.3} (timed wall / biological time)", r.real_time_factor);
    if let (Some(path), Some(spikes)) = (spikes_file, &r.spikes) {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("spike file"));
        for &(id, step) in spikes {
            f.write_all(&id.to_le_bytes())
                .and_then(|_| f.write_all(&step.to_le_bytes()))
                .expect("write");
        }
        println!(
            "wrote {} spikes (u32 id, u32 step, little-endian) to {path}",
            spikes.len()
        );
    }
}
