//! When a fitted exponential trend reaches a target (the brain's neuron or synapse
//! count, its FLOP/s, a lifetime of its compute, its FLOP/J), with a bootstrap
//! interval on that year, and "never within the horizon" when it does not get there.

use serde::Serialize;

use crate::fits::{ExponentialFit, Interval};
use crate::stats::quantile_sorted;

/// A brain figure a trend can be projected to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Short id, e.g. `human_neurons`.
    pub id: &'static str,
    /// What it is.
    pub label: &'static str,
    /// Unit of the value.
    pub unit: &'static str,
    /// Central value.
    pub central: f64,
    /// Plausible range (low, high); equal to central when only one value is quoted.
    pub range: (f64, f64),
    /// Where the figure comes from.
    pub source: &'static str,
}

/// Seconds in 30 years, the "lifetime" used for lifetime brain compute (Carlsmith
/// 2020 uses ~1e9 s to adulthood; 30 years = 9.47e8 s).
pub const LIFETIME_SECONDS: f64 = 30.0 * 365.25 * 86_400.0;

/// The brain targets of METHODS.md, with their ranges carried through.
pub fn brain_targets() -> Vec<Target> {
    vec![
        Target {
            id: "human_neurons",
            label: "human brain neurons",
            unit: "neurons",
            central: 8.6e10,
            range: (7.8e10, 9.4e10),
            source: "Azevedo et al. 2009 (86.06e9 ± 8.12e9)",
        },
        Target {
            id: "human_synapses",
            label: "human brain synapses",
            unit: "synapses",
            central: 1.5e14,
            range: (1.5e14, 1e15),
            source: "Pakkenberg 2003 via Drachman 2005 (neocortex 1.5e14); ~1e15 whole-brain upper estimates",
        },
        Target {
            id: "brain_flops",
            label: "brain-equivalent compute",
            unit: "FLOP/s",
            central: 1e15,
            range: (1e13, 1e17),
            source: "Carlsmith 2020 (1e15 central; mechanistic range 1e13-1e17)",
        },
        Target {
            id: "lifetime_brain_compute",
            label: "a 30-year lifetime of brain compute",
            unit: "FLOP",
            central: 1e15 * LIFETIME_SECONDS,
            range: (1e13 * LIFETIME_SECONDS, 1e17 * LIFETIME_SECONDS),
            source: "brain_flops × 30 years (9.47e8 s)",
        },
        Target {
            id: "brain_flops_per_joule",
            label: "brain-equivalent energy efficiency at 20 W",
            unit: "FLOP/J",
            central: 1e15 / 20.0,
            range: (1e13 / 20.0, 1e17 / 20.0),
            source: "brain_flops / 20 W",
        },
    ]
}

/// Where a trend meets a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Crossover {
    /// The central trend reaches the target at `year`; `ci95` from the bootstrap
    /// lines (an unbounded upper end means some resamples never get there within the
    /// horizon). `already` is true when the year is before the last fitted point.
    Reached {
        /// Year the central line reaches the target.
        year: f64,
        /// Bootstrap 95 % interval.
        ci95: Interval,
        /// Whether the data already passed the target.
        already: bool,
    },
    /// The central trend does not reach the target by the horizon (flat or falling,
    /// or too slow).
    NeverWithinHorizon {
        /// The horizon year.
        horizon: f64,
    },
}

impl Crossover {
    /// The crossover year, if reached.
    pub fn year(&self) -> Option<f64> {
        match self {
            Crossover::Reached { year, .. } => Some(*year),
            Crossover::NeverWithinHorizon { .. } => None,
        }
    }
}

/// Solves `a + b·x = log10(target)` for x; `None` when the line never gets there
/// moving forward from `x_last` (slope ≤ 0 with the target above, or past `horizon`).
fn crossing(slope: f64, intercept: f64, target: f64, x_last: f64, horizon: f64) -> Option<f64> {
    let log_target = target.log10();
    let at_last = intercept + slope * x_last;
    if at_last >= log_target {
        // Already at or above the target: report when the line crossed it, if it rose.
        return (slope > 0.0).then(|| (log_target - intercept) / slope);
    }
    if slope <= 0.0 {
        return None;
    }
    let x = (log_target - intercept) / slope;
    (x <= horizon).then_some(x)
}

/// The year the fitted trend reaches `target` (in the fit's y units).
///
/// Central year: `x* = (log10 target − a)/b`. Its 95 % interval is the 2.5 % and
/// 97.5 % quantiles of `x*` over the bootstrap lines, where a resample that never
/// reaches the target by `horizon` counts as +∞ (so the upper end becomes
/// unbounded once more than 2.5 % of resamples never get there).
pub fn crossover(fit: &ExponentialFit, target: f64, horizon: f64) -> Crossover {
    let x_last = fit.x_range.1;
    let Some(year) = crossing(fit.line.slope, fit.line.intercept, target, x_last, horizon) else {
        return Crossover::NeverWithinHorizon { horizon };
    };
    let mut years: Vec<f64> = fit
        .bootstrap_lines
        .iter()
        .map(|&(b, a)| crossing(b, a, target, x_last, horizon).unwrap_or(f64::INFINITY))
        .collect();
    years.sort_by(f64::total_cmp);
    let ci95 = if years.is_empty() {
        Interval {
            lower: None,
            upper: None,
        }
    } else {
        let finite = |v: Option<f64>| v.filter(|y| y.is_finite());
        Interval {
            lower: finite(quantile_sorted(&years, 0.025)),
            upper: finite(quantile_sorted(&years, 0.975)),
        }
    };
    Crossover::Reached {
        year,
        ci95,
        already: year <= x_last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fits::{exponential_trend, BootstrapOptions};

    #[test]
    fn exact_trend_crosses_where_algebra_says() {
        // 10× per year from 1 at 2000: reaches 1e6 at 2006.
        let x: Vec<f64> = (0..6).map(|i| 2000.0 + i as f64).collect();
        let y: Vec<f64> = x.iter().map(|&t| 10f64.powf(t - 2000.0)).collect();
        let fit = exponential_trend(&x, &y, BootstrapOptions::default()).unwrap();
        match crossover(&fit, 1e6, 2100.0) {
            Crossover::Reached { year, ci95, already } => {
                assert!((year - 2006.0).abs() < 1e-9);
                assert!(!already);
                assert!(ci95.contains(2006.0));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            crossover(&fit, 1e200, 2100.0),
            Crossover::NeverWithinHorizon { .. }
        ));
        assert!(matches!(
            crossover(&fit, 10.0, 2100.0),
            Crossover::Reached { already: true, .. }
        ));
    }

    #[test]
    fn falling_trend_never_reaches_a_higher_target() {
        let x: Vec<f64> = (0..8).map(|i| 2000.0 + i as f64).collect();
        let y: Vec<f64> = x.iter().map(|&t| 10f64.powf(-(t - 2000.0) * 0.1)).collect();
        let fit = exponential_trend(&x, &y, BootstrapOptions::default()).unwrap();
        assert!(matches!(
            crossover(&fit, 10.0, 2100.0),
            Crossover::NeverWithinHorizon { .. }
        ));
    }

    #[test]
    fn targets_carry_ranges() {
        for t in brain_targets() {
            assert!(t.range.0 <= t.central && t.central <= t.range.1, "{}", t.id);
        }
        let per_joule = brain_targets()
            .into_iter()
            .find(|t| t.id == "brain_flops_per_joule")
            .unwrap();
        assert_eq!(per_joule.central, 5e13);
    }
}
