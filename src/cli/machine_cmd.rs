//! `braingap machine`.

use crate::machine::Fact;
use crate::meters::MeterSet;
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `braingap machine`.
#[derive(Debug, clap::Args)]
pub struct MachineArgs {
    /// Print the fingerprint as JSON.
    #[arg(long)]
    pub json: bool,
}

fn show<T: std::fmt::Display>(fact: &Fact<T>) -> String {
    match &fact.value {
        Some(v) => format!("{v}  ({})", fact.source),
        None => format!("unknown ({})", fact.source),
    }
}

/// Runs `braingap machine`.
pub fn run(args: &MachineArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let machine = super::env::machine(crate::clock::probe_ghz());
    let meters = MeterSet::detect(&super::env::meter_config());
    if args.json {
        let value = serde_json::json!({
            "machine": machine,
            "meters": meters.meta(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let gib = |b: &Fact<u64>| match b.value {
        Some(v) => format!("{:.1} GiB", v as f64 / (1u64 << 30) as f64),
        None => format!("unknown ({})", b.source),
    };
    let s = &machine.simd;
    let features: Vec<&str> = [
        ("SSE4.2", s.sse4_2),
        ("AVX2", s.avx2),
        ("FMA", s.fma),
        ("AVX-512F", s.avx512f),
        ("AVX512_BF16", s.avx512_bf16),
        ("AVX512_FP16", s.avx512_fp16),
        ("AMX-TILE", s.amx_tile),
        ("AMX-BF16", s.amx_bf16),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(n, _)| *n)
    .collect();
    writeln!(out, "CPU              {}", show(&machine.cpu_model))?;
    writeln!(out, "vendor           {}", show(&machine.vendor))?;
    writeln!(
        out,
        "cores            {} physical, {} logical",
        show(&machine.physical_cores),
        machine.logical_cores
    )?;
    writeln!(
        out,
        "clock (measured) {}",
        show(&machine.measured_frequency_mhz.clone().map_mhz())
    )?;
    writeln!(
        out,
        "clock (max)      {}",
        show(&machine.max_frequency_mhz.clone().map_mhz())
    )?;
    writeln!(
        out,
        "clock (reported) {}",
        show(&machine.reported_frequency_mhz.clone().map_mhz())
    )?;
    writeln!(
        out,
        "memory           {} total, {} available",
        gib(&machine.memory_total_bytes),
        gib(&machine.memory_available_bytes)
    )?;
    writeln!(out, "OS               {}", show(&machine.os))?;
    writeln!(out, "kernel           {}", show(&machine.kernel))?;
    writeln!(out, "hypervisor       {}", show(&machine.hypervisor))?;
    writeln!(out, "huge pages (THP) {}", show(&machine.transparent_hugepages))?;
    writeln!(
        out,
        "SIMD             {} (kernels use {:?})",
        features.join(" "),
        machine.simd_level
    )?;
    for c in &machine.caches {
        writeln!(
            out,
            "cache L{} {:<11} {} × {}",
            c.level,
            c.kind,
            c.instances,
            crate::units::si(c.size_bytes as f64, "B")
        )?;
    }
    writeln!(out, "microarch.       {}", show(&machine.microarchitecture))?;
    writeln!(out, "FMA units/core   {}", show(&machine.fma_units_per_core))?;
    writeln!(out, "FMA width (bits) {}", show(&machine.fma_width_bits))?;
    for p in &machine.theoretical_peaks {
        let value = p
            .flops_per_s
            .map_or("unknown".to_string(), |f| crate::units::si(f, "FLOP/s"));
        writeln!(out, "peak {:<11} {value} = {}", p.dtype.as_str(), p.formula)?;
    }
    writeln!(out, "rustc            {}", show(&machine.rustc))?;
    writeln!(out, "git commit       {}", show(&machine.git_commit))?;
    writeln!(out, "git branch       {}", show(&machine.git_branch))?;
    writeln!(out, "fingerprint      {}", machine.fingerprint)?;
    for a in meters.active() {
        writeln!(out, "meter {:<10} active: {}", a.meter, a.detail)?;
    }
    writeln!(
        out,
        "energy source    {}{}",
        meters.energy_source().as_str(),
        if meters.energy_source() == crate::meters::EnergySource::Modeled {
            " (MODELED, not measured: no energy meter on this machine)"
        } else {
            ""
        }
    )?;
    for u in meters.unavailable() {
        writeln!(out, "meter {:<10} unavailable: {}", u.meter, u.reason)?;
    }
    Ok(ExitCode::SUCCESS)
}

trait MapMhz {
    fn map_mhz(self) -> Fact<String>;
}

impl MapMhz for Fact<f64> {
    fn map_mhz(self) -> Fact<String> {
        Fact {
            value: self.value.map(|mhz| format!("{:.3} GHz", mhz / 1000.0)),
            source: self.source,
        }
    }
}
