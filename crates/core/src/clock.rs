//! Core-clock probe: a dependent chain of register-register `imul`s, timed.
//!
//! 64-bit `imul r, r` has a 3-cycle latency on every Intel core since Sandy Bridge and on
//! AMD since Zen, and a chain of them cannot be shortened by the renamer (unlike an
//! add-immediate chain, which recent cores eliminate at rename). So cycles = 3 × imuls,
//! and GHz = cycles / seconds. The probe runs tens of milliseconds on the calling thread;
//! on a shared VM the host's turbo state moves this figure by up to 25% within an hour,
//! which is why every benchmark record carries a reading from before and after it.

use std::time::Instant;

/// Latency of one `imul r64, r64` in cycles.
pub const IMUL_LATENCY_CYCLES: u64 = 3;

/// Number of imuls per probe: 24M × 3 cycles ≈ 72M cycles ≈ 20 ms at 3.5 GHz.
pub const PROBE_IMULS: u64 = 24_000_000;

#[cfg(target_arch = "x86_64")]
fn imul_chain(iterations: u64) -> u64 {
    let mut x: u64 = 3;
    let mut n = iterations / 8;
    // SAFETY: pure register arithmetic; no memory is touched.
    unsafe {
        std::arch::asm!(
            "2:",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "imul {x}, {x}",
            "dec {n}",
            "jnz 2b",
            x = inout(reg) x,
            n = inout(reg) n,
            options(nomem, nostack),
        );
    }
    let _ = n;
    x
}

/// Measures the clock of the core this thread runs on, in GHz, with `imuls` multiplies.
/// Returns `None` on architectures without the probe.
pub fn probe_ghz_with(imuls: u64) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let imuls = imuls.max(8) / 8 * 8;
        // One short warm-up so the first reading is not taken on a cold, down-clocked core.
        std::hint::black_box(imul_chain(imuls / 8));
        let start = Instant::now();
        std::hint::black_box(imul_chain(imuls));
        let seconds = start.elapsed().as_secs_f64();
        Some((imuls * IMUL_LATENCY_CYCLES) as f64 / seconds / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = imuls;
        None
    }
}

/// Measures the core clock in GHz with the default probe length.
pub fn probe_ghz() -> Option<f64> {
    probe_ghz_with(PROBE_IMULS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reads_a_plausible_clock() {
        // Any real x86 core runs between 0.5 and 7 GHz; a wrong latency assumption or an
        // optimised-away chain would land far outside.
        let ghz = probe_ghz_with(2_000_000).expect("x86_64 probe");
        assert!((0.5..7.0).contains(&ghz), "{ghz} GHz");
    }
}
