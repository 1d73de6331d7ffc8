//! A planted slowdown, for testing the regression gate itself (issue 7): with
//! `BRAINGAP_PLANT_EXTRA_WORK=KERNEL=FRACTION` set, the CPU backend's `KERNEL` recomputes
//! the first `FRACTION` of its elements after every call, so each call does that much more
//! work while its output, its name and its analytic FLOP and byte counts stay the same.
//! Nothing is planted unless the variable is set; a run with a plant says so on stderr and
//! in its `meta.json` (`config.planted_extra_work`). The CLI reads the variable (once, in
//! `cli::env`) and hands the parsed plant to the CPU backend ([`CpuBackend::with_plant`]).
//!
//! [`CpuBackend::with_plant`]: crate::backends::cpu::CpuBackend::with_plant
//!
//! Only the elementwise activations (`activation_relu`, `activation_gelu`) implement it:
//! their extra work is the same loop over a prefix, split over the threads as the main
//! loop is, so it costs the same fraction of instructions and, when compute-bound, of time.

/// The environment variable that plants the slowdown.
pub const ENV: &str = "BRAINGAP_PLANT_EXTRA_WORK";

/// Kernels that implement a planted slowdown.
pub const SUPPORTED: [&str; 2] = ["activation_relu", "activation_gelu"];

/// A parsed plant: which kernel does how much extra work.
#[derive(Debug, Clone, PartialEq)]
pub struct Plant {
    /// Registry name of the kernel, e.g. `activation_gelu`.
    pub kernel: String,
    /// Extra work as a fraction of one call (0.10 = 10 % more).
    pub extra_work: f64,
}

/// Parses `KERNEL=FRACTION` (e.g. `activation_gelu=0.10`); the fraction must lie in (0, 1].
pub fn parse(value: &str) -> Result<Plant, String> {
    let (kernel, fraction) = value
        .split_once('=')
        .ok_or_else(|| format!("{ENV}={value:?}: expected KERNEL=FRACTION, e.g. activation_gelu=0.10"))?;
    if !SUPPORTED.contains(&kernel) {
        return Err(format!(
            "{ENV}={value:?}: kernel {kernel:?} has no planted slowdown (supported: {})",
            SUPPORTED.join(", ")
        ));
    }
    match fraction.parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => Ok(Plant {
            kernel: kernel.to_string(),
            extra_work: f,
        }),
        _ => Err(format!(
            "{ENV}={value:?}: fraction {fraction:?} is not a number in (0, 1]"
        )),
    }
}

/// Elements of `n` that `kernel` recomputes after each call: 0 without a plant for it.
pub fn extra_elements(plant: Option<&Plant>, kernel: &str, n: usize) -> usize {
    match plant {
        Some(plant) if plant.kernel == kernel => (plant.extra_work * n as f64).round() as usize,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_and_fraction() {
        assert_eq!(
            parse("activation_gelu=0.10"),
            Ok(Plant {
                kernel: "activation_gelu".into(),
                extra_work: 0.10
            })
        );
    }

    #[test]
    fn rejects_unknown_kernels_and_bad_fractions() {
        assert!(parse("gemm=0.1").unwrap_err().contains("no planted slowdown"));
        assert!(parse("activation_relu=0").unwrap_err().contains("(0, 1]"));
        assert!(parse("activation_relu=1.5").is_err());
        assert!(parse("activation_relu").unwrap_err().contains("KERNEL=FRACTION"));
    }
}
