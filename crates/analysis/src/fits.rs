//! Trend fits as pure functions over `(x, y)` slices: exponential (log-linear OLS with
//! bootstrap), power law (log-log OLS), logistic (Levenberg-Marquardt), piecewise
//! log-linear with BIC-chosen breakpoints, Theil-Sen, and a top-k-per-year frontier
//! filter.
//!
//! Conventions (METHODS.md): x is usually a decimal year; growth is fitted as
//! `log10(y) = a + b·x`; doubling time `T = log10(2)/b`; growth per unit x `10^b`;
//! orders of magnitude per unit x `b`. Every figure comes with the number of points
//! that went into it.

use serde::Serialize;

use crate::error::FitError;
use crate::stats::{median, quantile_sorted, student_t_quantile, IndexRng};

/// `log10(2)`, the numerator of every doubling time.
pub const LOG10_2: f64 = std::f64::consts::LOG10_2;

/// How a bootstrap is drawn: the number of resamples and the seed, so that every
/// interval is reproducible, and an optional jitter of each drawn `log10 y`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapOptions {
    /// Number of resamples (0 disables the bootstrap; intervals fall back to t-based).
    pub resamples: usize,
    /// Seed of the resampling generator.
    pub seed: u64,
    /// Half-width `j` of a uniform jitter added to each drawn point's `log10 y`: each
    /// draw is multiplied by a factor log-uniform in `[10^-j, 10^j]`. 0 disables it.
    /// Sevilla et al. (2022) use `log10 2` (a factor between 1/2 and 2) to carry the
    /// uncertainty of each compute estimate into the interval.
    pub jitter_log10: f64,
}

impl BootstrapOptions {
    /// Sevilla et al. (2022)'s bootstrap: 1,000 resamples, each estimate multiplied by
    /// a factor log-uniform between 1/2 and 2.
    pub fn jittered_by_factor_2(seed: u64) -> BootstrapOptions {
        BootstrapOptions {
            resamples: 1_000,
            seed,
            jitter_log10: LOG10_2,
        }
    }
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            resamples: 2_000,
            seed: 0x0bea_1a9a,
            jitter_log10: 0.0,
        }
    }
}

/// Ordinary least squares of `y` on `x`.
///
/// With `x̄, ȳ` the means, `Sxx = Σ(x−x̄)²`, `Sxy = Σ(x−x̄)(y−ȳ)`, `Syy = Σ(y−ȳ)²`:
/// slope `b = Sxy/Sxx`, intercept `a = ȳ − b·x̄`, residual sum of squares
/// `RSS = Σ(y − a − b·x)²`, residual variance `s² = RSS/(n−2)`,
/// `se(b) = s/√Sxx`, `se(a) = s·√(1/n + x̄²/Sxx)`, `R² = 1 − RSS/Syy` (1 when `Syy = 0`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearFit {
    /// Number of points.
    pub n: usize,
    /// Slope `b`.
    pub slope: f64,
    /// Intercept `a` (value at x = 0).
    pub intercept: f64,
    /// Standard error of the slope (NaN when n = 2).
    pub slope_se: f64,
    /// Standard error of the intercept (NaN when n = 2).
    pub intercept_se: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Residual standard error `s`.
    pub residual_se: f64,
    /// Mean of x.
    pub x_mean: f64,
    /// `Σ(x−x̄)²`.
    pub sxx: f64,
    /// Residual sum of squares.
    pub rss: f64,
}

fn check_xy(x: &[f64], y: &[f64], model: &'static str, needed: usize) -> Result<(), FitError> {
    if x.len() != y.len() {
        return Err(FitError::LengthMismatch {
            x_len: x.len(),
            y_len: y.len(),
        });
    }
    if x.len() < needed {
        return Err(FitError::TooFewPoints {
            model,
            needed,
            got: x.len(),
        });
    }
    for (index, (&xi, &yi)) in x.iter().zip(y).enumerate() {
        if !xi.is_finite() {
            return Err(FitError::NonFinite {
                axis: "x",
                index,
                value: xi,
            });
        }
        if !yi.is_finite() {
            return Err(FitError::NonFinite {
                axis: "y",
                index,
                value: yi,
            });
        }
    }
    if x.iter().all(|&v| v == x[0]) {
        return Err(FitError::AllEqualX {
            n: x.len(),
            value: x[0],
        });
    }
    Ok(())
}

fn log10_positive(values: &[f64], model: &'static str, axis: &'static str) -> Result<Vec<f64>, FitError> {
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            if value > 0.0 {
                Ok(value.log10())
            } else {
                Err(FitError::NonPositive {
                    model,
                    axis,
                    index,
                    value,
                })
            }
        })
        .collect()
}

/// Least-squares line through `(x, y)`; needs two points with distinct x. See
/// [`LinearFit`] for the statistics.
pub fn ols(x: &[f64], y: &[f64]) -> Result<LinearFit, FitError> {
    check_xy(x, y, "linear", 2)?;
    let n = x.len();
    let nf = n as f64;
    let x_mean = x.iter().sum::<f64>() / nf;
    let y_mean = y.iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        let (dx, dy) = (xi - x_mean, yi - y_mean);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let rss: f64 = x
        .iter()
        .zip(y)
        .map(|(&xi, &yi)| {
            let r = yi - intercept - slope * xi;
            r * r
        })
        .sum();
    let (residual_se, slope_se, intercept_se) = if n > 2 {
        let s = (rss / (nf - 2.0)).sqrt();
        (s, s / sxx.sqrt(), s * (1.0 / nf + x_mean * x_mean / sxx).sqrt())
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    };
    let r2 = if syy > 0.0 { 1.0 - rss / syy } else { 1.0 };
    Ok(LinearFit {
        n,
        slope,
        intercept,
        slope_se,
        intercept_se,
        r2,
        residual_se,
        x_mean,
        sxx,
        rss,
    })
}

/// Case-resampling bootstrap of the OLS line: each resample draws `n` points with
/// replacement and refits. Returns `(slope, intercept)` per resample; resamples whose
/// x values are all equal (no slope) are skipped, so the result may be shorter than
/// `options.resamples`. With `options.jitter_log10 = j > 0`, each drawn point's `y`
/// (here `log10` of the data) is moved by a uniform amount in `[-j, j]` before the refit.
///
/// Sums are taken on data centred at the full-sample means, which leaves the slope
/// unchanged and avoids cancellation with x near 2000. Cost: `resamples × n` index
/// draws and four multiply-adds each.
pub fn bootstrap_lines(x: &[f64], y: &[f64], options: BootstrapOptions) -> Vec<(f64, f64)> {
    let n = x.len();
    if n < 2 || options.resamples == 0 || y.len() != n {
        return Vec::new();
    }
    let nf = n as f64;
    let x_mean = x.iter().sum::<f64>() / nf;
    let y_mean = y.iter().sum::<f64>() / nf;
    let points: Vec<(f64, f64)> = x.iter().zip(y).map(|(&a, &b)| (a - x_mean, b - y_mean)).collect();
    let mut rng = IndexRng::seed_from_u64(options.seed);
    let jitter = options.jitter_log10;
    let mut lines = Vec::with_capacity(options.resamples);
    for _ in 0..options.resamples {
        let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            let (xi, mut yi) = points[rng.index(n)];
            if jitter > 0.0 {
                // 53 random bits -> uniform in [0, 1), then [-j, j).
                let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                yi += jitter * (2.0 * u - 1.0);
            }
            sx += xi;
            sy += yi;
            sxx += xi * xi;
            sxy += xi * yi;
        }
        let centred_sxx = sxx - sx * sx / nf;
        if centred_sxx <= 1e-12 * sxx.max(f64::MIN_POSITIVE) || centred_sxx <= 0.0 {
            continue;
        }
        let slope = (sxy - sx * sy / nf) / centred_sxx;
        let intercept = (y_mean + sy / nf) - slope * (x_mean + sx / nf);
        lines.push((slope, intercept));
    }
    lines
}

/// A two-sided interval `[lower, upper]`; an unbounded side is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound, `None` when unbounded.
    pub lower: Option<f64>,
    /// Upper bound, `None` when unbounded.
    pub upper: Option<f64>,
}

impl Interval {
    /// A bounded interval.
    pub fn bounded(lower: f64, upper: f64) -> Interval {
        Interval {
            lower: Some(lower),
            upper: Some(upper),
        }
    }

    /// Whether `value` lies inside (unbounded sides always admit).
    pub fn contains(&self, value: f64) -> bool {
        self.lower.is_none_or(|l| value >= l) && self.upper.is_none_or(|u| value <= u)
    }
}

/// Maps a slope interval to a doubling-time interval through `T = log10(2)/b`.
///
/// `T` is monotone decreasing in `b` on each side of zero, so a slope interval inside
/// `(0, ∞)` maps to `[log10 2 / b_hi, log10 2 / b_lo]`. When the slope interval
/// contains zero the doubling time is unbounded above (`upper = None`): the data
/// cannot exclude no growth at all.
pub fn doubling_interval(slope: Interval) -> Interval {
    match (slope.lower, slope.upper) {
        (Some(lo), Some(hi)) if lo > 0.0 || hi < 0.0 => Interval::bounded(LOG10_2 / hi, LOG10_2 / lo),
        (_, Some(hi)) if hi > 0.0 => Interval {
            lower: Some(LOG10_2 / hi),
            upper: None,
        },
        _ => Interval {
            lower: None,
            upper: None,
        },
    }
}

/// An exponential trend `y = 10^(a + b·x)`, fitted by OLS of `log10 y` on `x`.
///
/// * slope `b` in log10 units (orders of magnitude) per unit x, with its OLS standard
///   error and a t-based 95 % interval `b ± t(0.975, n−2)·se(b)`;
/// * a seeded case-resampling bootstrap gives percentile 95 % intervals (2.5 % and
///   97.5 % quantiles, Efron & Tibshirani 1993 §13.3) on the slope, and from it on the
///   doubling time and growth factor (monotone maps of the slope);
/// * doubling time `T = log10(2)/b` (negative: halving time), growth per unit x
///   `10^b`;
/// * [`ExponentialFit::predict`] gives the 95 % prediction interval for a new point,
///   `ŷ ± t·s·√(1 + 1/n + (x₀−x̄)²/Sxx)` in log10 space.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExponentialFit {
    /// The OLS fit of `log10 y` on `x`.
    pub line: LinearFit,
    /// `b`: log10 units per unit x (= orders of magnitude per unit x).
    pub slope_log10_per_unit: f64,
    /// `log10(2)/b`.
    pub doubling_time: f64,
    /// `10^b`.
    pub growth_factor_per_unit: f64,
    /// t-based 95 % interval on `b`.
    pub slope_ci95_t: Interval,
    /// Bootstrap percentile 95 % interval on `b` (t-based when the bootstrap is off).
    pub slope_ci95: Interval,
    /// 95 % interval on the doubling time from `slope_ci95`.
    pub doubling_time_ci95: Interval,
    /// 95 % interval on the growth factor from `slope_ci95`.
    pub growth_factor_ci95: Interval,
    /// `t(0.975, n−2)`.
    pub t_critical: f64,
    /// Smallest and largest x fitted.
    pub x_range: (f64, f64),
    /// How the bootstrap was drawn.
    pub bootstrap: BootstrapOptions,
    /// `(slope, intercept)` of each bootstrap resample, for projections.
    #[serde(skip)]
    pub bootstrap_lines: Vec<(f64, f64)>,
}

/// A prediction at one x: central value and 95 % prediction interval, in y units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    /// x predicted at.
    pub x: f64,
    /// `10^(a + b·x)`.
    pub central: f64,
    /// Lower end of the 95 % prediction interval.
    pub lower: f64,
    /// Upper end of the 95 % prediction interval.
    pub upper: f64,
}

impl ExponentialFit {
    /// The fitted value at `x` with its 95 % prediction interval (see the type docs).
    pub fn predict(&self, x: f64) -> Prediction {
        let line = &self.line;
        let log_central = line.intercept + line.slope * x;
        let nf = line.n as f64;
        let half_width =
            self.t_critical * line.residual_se * (1.0 + 1.0 / nf + (x - line.x_mean).powi(2) / line.sxx).sqrt();
        Prediction {
            x,
            central: 10f64.powf(log_central),
            lower: 10f64.powf(log_central - half_width),
            upper: 10f64.powf(log_central + half_width),
        }
    }
}

fn percentile_interval(mut values: Vec<f64>) -> Option<Interval> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    Some(Interval::bounded(
        quantile_sorted(&values, 0.025)?,
        quantile_sorted(&values, 0.975)?,
    ))
}

/// Fits an exponential trend; needs 3 points with distinct x and all `y > 0`.
/// See [`ExponentialFit`] for the statistics.
pub fn exponential_trend(x: &[f64], y: &[f64], bootstrap: BootstrapOptions) -> Result<ExponentialFit, FitError> {
    check_xy(x, y, "exponential", 3)?;
    let log_y = log10_positive(y, "exponential", "y")?;
    let line = ols(x, &log_y)?;
    let t_critical = student_t_quantile(0.975, (line.n - 2) as f64);
    let slope = line.slope;
    let slope_ci95_t = Interval::bounded(slope - t_critical * line.slope_se, slope + t_critical * line.slope_se);
    let bootstrap_lines = bootstrap_lines(x, &log_y, bootstrap);
    let slope_ci95 = percentile_interval(bootstrap_lines.iter().map(|l| l.0).collect()).unwrap_or(slope_ci95_t);
    let x_min = x.iter().copied().fold(f64::INFINITY, f64::min);
    let x_max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(ExponentialFit {
        slope_log10_per_unit: slope,
        doubling_time: LOG10_2 / slope,
        growth_factor_per_unit: 10f64.powf(slope),
        slope_ci95_t,
        slope_ci95,
        doubling_time_ci95: doubling_interval(slope_ci95),
        growth_factor_ci95: Interval {
            lower: slope_ci95.lower.map(|b| 10f64.powf(b)),
            upper: slope_ci95.upper.map(|b| 10f64.powf(b)),
        },
        t_critical,
        x_range: (x_min, x_max),
        bootstrap,
        bootstrap_lines,
        line,
    })
}

/// A power law `y = c·x^k`, fitted by OLS of `log10 y` on `log10 x`.
///
/// The exponent `k` is the slope of the log-log line; its t-based 95 % interval is
/// `k ± t(0.975, n−2)·se(k)` and a bootstrap percentile interval is given beside it.
/// `c = 10^a`. Needs 3 points, all `x > 0` and `y > 0`, not all x equal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerLawFit {
    /// The OLS fit of `log10 y` on `log10 x`.
    pub line: LinearFit,
    /// Exponent `k`.
    pub exponent: f64,
    /// Prefactor `c`.
    pub prefactor: f64,
    /// t-based 95 % interval on `k`.
    pub exponent_ci95_t: Interval,
    /// Bootstrap percentile 95 % interval on `k`.
    pub exponent_ci95: Interval,
}

/// Fits a power law; see [`PowerLawFit`].
pub fn power_law(x: &[f64], y: &[f64], bootstrap: BootstrapOptions) -> Result<PowerLawFit, FitError> {
    check_xy(x, y, "power", 3)?;
    let log_x = log10_positive(x, "power", "x")?;
    let log_y = log10_positive(y, "power", "y")?;
    let line = ols(&log_x, &log_y)?;
    let t = student_t_quantile(0.975, (line.n - 2) as f64);
    let exponent_ci95_t = Interval::bounded(line.slope - t * line.slope_se, line.slope + t * line.slope_se);
    let exponent_ci95 = percentile_interval(bootstrap_lines(&log_x, &log_y, bootstrap).iter().map(|l| l.0).collect())
        .unwrap_or(exponent_ci95_t);
    Ok(PowerLawFit {
        exponent: line.slope,
        prefactor: 10f64.powf(line.intercept),
        exponent_ci95_t,
        exponent_ci95,
        line,
    })
}

/// A logistic curve `y = L / (1 + e^{−k(x − x₀)})`, fitted by Levenberg-Marquardt
/// least squares on y (Marquardt 1963, with the diagonal scaling `λ·diag(JᵀJ)`).
///
/// Standard errors come from `s²·(JᵀJ)⁻¹` at the optimum, `s² = RSS/(n−3)`. In the
/// early phase the curve grows like `e^{kx}`, so its doubling time is `ln 2 / k` and
/// its log10 slope `k / ln 10`. Needs 4 points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticFit {
    /// Number of points.
    pub n: usize,
    /// Ceiling `L`.
    pub ceiling: f64,
    /// Rate `k` per unit x.
    pub rate: f64,
    /// Midpoint `x₀`.
    pub midpoint: f64,
    /// Standard errors of `(L, k, x₀)`.
    pub standard_errors: [f64; 3],
    /// `1 − RSS/Σ(y−ȳ)²` on the linear scale.
    pub r2: f64,
    /// Early-phase doubling time `ln 2 / k`.
    pub doubling_time: f64,
    /// Wald 95 % interval on the doubling time from `k ± 1.96·se(k)`.
    pub doubling_time_ci95: Interval,
    /// Levenberg-Marquardt iterations used.
    pub iterations: usize,
}

impl LogisticFit {
    /// The curve's value at `x`.
    pub fn value(&self, x: f64) -> f64 {
        logistic(self.ceiling, self.rate, self.midpoint, x)
    }
}

fn logistic(ceiling: f64, rate: f64, midpoint: f64, x: f64) -> f64 {
    ceiling / (1.0 + (-rate * (x - midpoint)).exp())
}

/// Solves the 3×3 system `a·v = b` by Gaussian elimination with partial pivoting.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let factor = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (k, cell) in a[row].iter_mut().enumerate().skip(col) {
                *cell -= factor * pivot_row[k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut v = [0.0; 3];
    for row in (0..3).rev() {
        let tail: f64 = (row + 1..3).map(|k| a[row][k] * v[k]).sum();
        v[row] = (b[row] - tail) / a[row][row];
    }
    v.iter().all(|c| c.is_finite()).then_some(v)
}

fn invert3(a: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let mut inverse = [[0.0; 3]; 3];
    for col in 0..3 {
        let mut unit = [0.0; 3];
        unit[col] = 1.0;
        let v = solve3(a, unit)?;
        for row in 0..3 {
            inverse[row][col] = v[row];
        }
    }
    Some(inverse)
}

/// Fits a logistic curve; see [`LogisticFit`].
///
/// Start values: `L₀ = 1.05·max y`, `k₀` from OLS of `logit(y/L₀)` on x over the
/// points with `0 < y < L₀` (fallback `4/(x range)`), `x₀` from that line's zero.
pub fn logistic_fit(x: &[f64], y: &[f64]) -> Result<LogisticFit, FitError> {
    const MAX_ITERATIONS: usize = 500;
    check_xy(x, y, "logistic", 4)?;
    let n = x.len();
    let y_max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let x_min = x.iter().copied().fold(f64::INFINITY, f64::min);
    let x_max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ceiling0 = if y_max > 0.0 { 1.05 * y_max } else { 1.0 };
    let (logit_x, logit_y): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(_, &yi)| yi > 0.0 && yi < ceiling0)
        .map(|(&xi, &yi)| (xi, (yi / (ceiling0 - yi)).ln()))
        .unzip();
    let (mut rate, mut midpoint) = match ols(&logit_x, &logit_y) {
        Ok(line) if line.slope > 0.0 => (line.slope, -line.intercept / line.slope),
        _ => (4.0 / (x_max - x_min), 0.5 * (x_min + x_max)),
    };
    let mut ceiling = ceiling0;
    let rss_of = |l: f64, k: f64, m: f64| -> f64 {
        x.iter()
            .zip(y)
            .map(|(&xi, &yi)| (yi - logistic(l, k, m, xi)).powi(2))
            .sum()
    };
    let normal_equations = |l: f64, k: f64, m: f64| -> ([[f64; 3]; 3], [f64; 3]) {
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for (&xi, &yi) in x.iter().zip(y) {
            let e = (-k * (xi - m)).exp();
            let denom = 1.0 + e;
            let f = l / denom;
            let d_l = 1.0 / denom;
            let d_k = l * e * (xi - m) / (denom * denom);
            let d_m = -l * e * k / (denom * denom);
            let jac = [d_l, d_k, d_m];
            let r = yi - f;
            for i in 0..3 {
                jtr[i] += jac[i] * r;
                for j in 0..3 {
                    jtj[i][j] += jac[i] * jac[j];
                }
            }
        }
        (jtj, jtr)
    };
    let mut rss = rss_of(ceiling, rate, midpoint);
    let mut lambda = 1e-3;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        let (jtj, jtr) = normal_equations(ceiling, rate, midpoint);
        let mut damped = jtj;
        for (i, row) in damped.iter_mut().enumerate() {
            row[i] += lambda * jtj[i][i].max(1e-12);
        }
        let Some(step) = solve3(damped, jtr) else {
            lambda *= 10.0;
            continue;
        };
        let candidate = (ceiling + step[0], rate + step[1], midpoint + step[2]);
        let candidate_rss = rss_of(candidate.0, candidate.1, candidate.2);
        if candidate_rss.is_finite() && candidate_rss <= rss {
            let improvement = rss - candidate_rss;
            (ceiling, rate, midpoint) = candidate;
            rss = candidate_rss;
            lambda = (lambda / 10.0).max(1e-12);
            if improvement <= 1e-14 * rss.max(f64::MIN_POSITIVE) || rss <= f64::MIN_POSITIVE {
                converged = true;
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e16 {
                // No step reduces the residual: we are at a (local) minimum.
                converged = true;
                break;
            }
        }
    }
    if !converged {
        return Err(FitError::NoConvergence {
            model: "logistic",
            iterations,
        });
    }
    let (jtj, _) = normal_equations(ceiling, rate, midpoint);
    let s2 = if n > 3 { rss / (n - 3) as f64 } else { f64::NAN };
    let standard_errors = invert3(jtj)
        .map(|inv| {
            [
                (s2 * inv[0][0]).sqrt(),
                (s2 * inv[1][1]).sqrt(),
                (s2 * inv[2][2]).sqrt(),
            ]
        })
        .unwrap_or([f64::NAN; 3]);
    let y_mean = y.iter().sum::<f64>() / n as f64;
    let syy: f64 = y.iter().map(|v| (v - y_mean).powi(2)).sum();
    let ln2 = std::f64::consts::LN_2;
    let rate_interval = Interval::bounded(rate - 1.96 * standard_errors[1], rate + 1.96 * standard_errors[1]);
    // Same monotone map as for log10 slopes, with ln 2 in place of log10 2.
    let scale = ln2 / LOG10_2;
    let doubling_log10 = doubling_interval(rate_interval);
    Ok(LogisticFit {
        n,
        ceiling,
        rate,
        midpoint,
        standard_errors,
        r2: if syy > 0.0 { 1.0 - rss / syy } else { 1.0 },
        doubling_time: ln2 / rate,
        doubling_time_ci95: Interval {
            lower: doubling_log10.lower.map(|v| v * scale),
            upper: doubling_log10.upper.map(|v| v * scale),
        },
        iterations,
    })
}

/// One segment of a piecewise log-linear fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// First and last x in the segment.
    pub x_range: (f64, f64),
    /// Points in the segment.
    pub n: usize,
    /// log10 slope per unit x.
    pub slope_log10_per_unit: f64,
    /// Intercept of the segment's line.
    pub intercept: f64,
    /// `log10(2)/slope`.
    pub doubling_time: f64,
}

/// A piecewise log-linear fit: `log10 y` is a separate OLS line on each of `m + 1`
/// x-ordered segments, `m ∈ 0..=max_breaks`. For each `m` the breakpoints minimise the
/// total residual sum of squares (exhaustive search, every segment at least
/// `min_segment` points and two distinct x); `m` is then chosen by the Bayesian
/// information criterion `BIC = n·ln(RSS/n) + p·ln n` with `p = 3m + 2` (two line
/// parameters per segment plus one per breakpoint; Schwarz 1978). The segments are not
/// forced to join, so an era change may also be a jump.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PiecewiseFit {
    /// Points fitted.
    pub n: usize,
    /// Breakpoints in x (midway between the last point of one segment and the first of
    /// the next).
    pub breakpoints: Vec<f64>,
    /// The segments, in x order.
    pub segments: Vec<Segment>,
    /// BIC of the best fit for each number of breakpoints tried (index = m).
    pub bic_by_breaks: Vec<Option<f64>>,
    /// `1 − RSS/Syy` of the chosen fit in log10 space.
    pub r2: f64,
}

/// Prefix sums over x-sorted points, so any contiguous segment's OLS residual sum of
/// squares costs O(1).
struct PrefixSums {
    s: Vec<[f64; 5]>,
}

impl PrefixSums {
    fn new(x: &[f64], y: &[f64]) -> PrefixSums {
        let mut s = Vec::with_capacity(x.len() + 1);
        let mut acc = [0.0; 5];
        s.push(acc);
        for (&xi, &yi) in x.iter().zip(y) {
            acc[0] += xi;
            acc[1] += yi;
            acc[2] += xi * xi;
            acc[3] += xi * yi;
            acc[4] += yi * yi;
            s.push(acc);
        }
        PrefixSums { s }
    }

    /// RSS of the OLS line over points `start..end`, or `None` if x is constant there.
    fn rss(&self, start: usize, end: usize) -> Option<f64> {
        let (a, b) = (&self.s[start], &self.s[end]);
        let n = (end - start) as f64;
        let sx = b[0] - a[0];
        let sy = b[1] - a[1];
        let sxx = b[2] - a[2] - sx * sx / n;
        let sxy = b[3] - a[3] - sx * sy / n;
        let syy = b[4] - a[4] - sy * sy / n;
        if sxx <= 1e-12 {
            return None;
        }
        Some((syy - sxy * sxy / sxx).max(0.0))
    }
}

/// Fits a piecewise log-linear trend; see [`PiecewiseFit`]. Needs `min_segment` points
/// (at least 3) and all `y > 0`.
pub fn piecewise_log_linear(
    x: &[f64],
    y: &[f64],
    max_breaks: usize,
    min_segment: usize,
) -> Result<PiecewiseFit, FitError> {
    let min_segment = min_segment.max(3);
    check_xy(x, y, "piecewise", min_segment)?;
    let log_y = log10_positive(y, "piecewise", "y")?;
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let n = x.len();
    // Centre for numerical stability of the prefix sums.
    let x_mean = x.iter().sum::<f64>() / n as f64;
    let y_mean = log_y.iter().sum::<f64>() / n as f64;
    let xs: Vec<f64> = order.iter().map(|&i| x[i] - x_mean).collect();
    let ys: Vec<f64> = order.iter().map(|&i| log_y[i] - y_mean).collect();
    let sums = PrefixSums::new(&xs, &ys);
    let syy_total: f64 = ys.iter().map(|v| v * v).sum();
    // A break may only fall between distinct x values.
    let can_break = |at: usize| xs[at - 1] < xs[at];
    let nf = n as f64;
    let rss_floor = (syy_total * 1e-12).max(1e-300);
    let bic = |rss: f64, breaks: usize| nf * (rss.max(rss_floor) / nf).ln() + (3 * breaks + 2) as f64 * nf.ln();

    let mut best: Vec<Option<(f64, Vec<usize>)>> = vec![None; max_breaks.min(2) + 1];
    if let Some(rss) = sums.rss(0, n) {
        best[0] = Some((rss, vec![]));
    }
    if max_breaks >= 1 {
        for b1 in min_segment..=n.saturating_sub(min_segment) {
            if !can_break(b1) {
                continue;
            }
            if let (Some(r1), Some(r2)) = (sums.rss(0, b1), sums.rss(b1, n)) {
                let total = r1 + r2;
                if best[1].as_ref().is_none_or(|(r, _)| total < *r) {
                    best[1] = Some((total, vec![b1]));
                }
            }
        }
    }
    if max_breaks >= 2 {
        for b1 in min_segment..=n.saturating_sub(2 * min_segment) {
            if !can_break(b1) {
                continue;
            }
            let Some(r1) = sums.rss(0, b1) else { continue };
            for b2 in b1 + min_segment..=n - min_segment {
                if !can_break(b2) {
                    continue;
                }
                if let (Some(r2), Some(r3)) = (sums.rss(b1, b2), sums.rss(b2, n)) {
                    let total = r1 + r2 + r3;
                    if best[2].as_ref().is_none_or(|(r, _)| total < *r) {
                        best[2] = Some((total, vec![b1, b2]));
                    }
                }
            }
        }
    }
    let bic_by_breaks: Vec<Option<f64>> = best
        .iter()
        .enumerate()
        .map(|(m, entry)| entry.as_ref().map(|(rss, _)| bic(*rss, m)))
        .collect();
    let chosen = bic_by_breaks
        .iter()
        .enumerate()
        .filter_map(|(m, b)| b.map(|v| (m, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(m, _)| m)
        .ok_or(FitError::AllEqualX { n, value: x[0] })?;
    let (rss, cuts) = best[chosen].clone().expect("chosen entry exists");
    let mut bounds = vec![0];
    bounds.extend(&cuts);
    bounds.push(n);
    let mut segments = Vec::new();
    for w in bounds.windows(2) {
        let seg_x: Vec<f64> = order[w[0]..w[1]].iter().map(|&i| x[i]).collect();
        let seg_y: Vec<f64> = order[w[0]..w[1]].iter().map(|&i| log_y[i]).collect();
        let line = ols(&seg_x, &seg_y)?;
        segments.push(Segment {
            x_range: (seg_x[0], seg_x[seg_x.len() - 1]),
            n: seg_x.len(),
            slope_log10_per_unit: line.slope,
            intercept: line.intercept,
            doubling_time: LOG10_2 / line.slope,
        });
    }
    let breakpoints = cuts.iter().map(|&c| 0.5 * (xs[c - 1] + xs[c]) + x_mean).collect();
    Ok(PiecewiseFit {
        n,
        breakpoints,
        segments,
        bic_by_breaks,
        r2: if syy_total > 0.0 { 1.0 - rss / syy_total } else { 1.0 },
    })
}

/// The Theil-Sen estimator (Theil 1950, Sen 1968): slope = median of the pairwise
/// slopes `(yⱼ − yᵢ)/(xⱼ − xᵢ)` over pairs with `xᵢ ≠ xⱼ`; intercept = median of
/// `y − slope·x`. Breakdown point ≈ 29 %: robust to outliers that move OLS.
///
/// Exact for up to 3,000 points (≤ 4.5 M pairs); above that, the median is taken over
/// 4.5 M pairs drawn with a fixed seed, which changes the estimate by far less than
/// its own sampling error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TheilSenFit {
    /// Points fitted.
    pub n: usize,
    /// Median pairwise slope.
    pub slope: f64,
    /// Median intercept.
    pub intercept: f64,
}

/// Theil-Sen line of `y` on `x`; see [`TheilSenFit`].
pub fn theil_sen(x: &[f64], y: &[f64]) -> Result<TheilSenFit, FitError> {
    const EXACT_LIMIT: usize = 3_000;
    const SAMPLED_PAIRS: usize = 4_500_000;
    check_xy(x, y, "theil-sen", 2)?;
    let n = x.len();
    let mut slopes = Vec::new();
    let mut push = |i: usize, j: usize| {
        let dx = x[j] - x[i];
        if dx != 0.0 {
            slopes.push((y[j] - y[i]) / dx);
        }
    };
    if n <= EXACT_LIMIT {
        for i in 0..n {
            for j in i + 1..n {
                push(i, j);
            }
        }
    } else {
        let mut rng = IndexRng::seed_from_u64(0x007e_115e);
        for _ in 0..SAMPLED_PAIRS {
            push(rng.index(n), rng.index(n));
        }
    }
    let slope = median(&slopes).ok_or(FitError::AllEqualX { n, value: x[0] })?;
    let residuals: Vec<f64> = x.iter().zip(y).map(|(&xi, &yi)| yi - slope * xi).collect();
    let intercept = median(&residuals).unwrap_or(f64::NAN);
    Ok(TheilSenFit { n, slope, intercept })
}

/// Theil-Sen on `log10 y`: a robust exponential trend. Returns the fit and its doubling
/// time `log10(2)/slope`.
pub fn theil_sen_exponential(x: &[f64], y: &[f64]) -> Result<(TheilSenFit, f64), FitError> {
    check_xy(x, y, "theil-sen", 2)?;
    let log_y = log10_positive(y, "theil-sen", "y")?;
    let fit = theil_sen(x, &log_y)?;
    Ok((fit, LOG10_2 / fit.slope))
}

/// Each point's Z-score within a window of time, as Sevilla et al. (2022) compute it in
/// their code (`filter_outliers` in the paper's repository, ML-Progress/Compute-Trends):
/// `z_i = (v_i − mean) / sd` over every point with `|x_j − x_i| ≤ half_width`, the point
/// itself included, `sd` the population standard deviation (scipy's `zscore`). `None`
/// where the window holds fewer than two points or they all have the same value. `v` is
/// usually `log10` of the training compute. Cost `O(n²)`.
pub fn window_z_scores(x: &[f64], v: &[f64], half_width: f64) -> Vec<Option<f64>> {
    (0..x.len())
        .map(|i| {
            let window: Vec<f64> = (0..x.len())
                .filter(|&j| (x[j] - x[i]).abs() <= half_width)
                .map(|j| v[j])
                .collect();
            if window.len() < 2 {
                return None;
            }
            let n = window.len() as f64;
            let mean = window.iter().sum::<f64>() / n;
            let sd = (window.iter().map(|o| (o - mean).powi(2)).sum::<f64>() / n).sqrt();
            (sd > 0.0).then(|| (v[i] - mean) / sd)
        })
        .collect()
}

/// The frontier filter: indices of the `k` largest `y` within each calendar year
/// (`floor(x)`), in the original order. Ties keep the earlier point. Use it to see how
/// much restricting a trend to record-setting points moves a doubling time.
pub fn frontier_top_k_per_year(x: &[f64], y: &[f64], k: usize) -> Vec<usize> {
    let mut by_year: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, &xi) in x.iter().enumerate() {
        by_year.entry(xi.floor() as i64).or_default().push(i);
    }
    let mut keep: Vec<usize> = Vec::new();
    for mut indices in by_year.into_values() {
        indices.sort_by(|&a, &b| y[b].total_cmp(&y[a]).then(a.cmp(&b)));
        keep.extend(indices.into_iter().take(k));
    }
    keep.sort_unstable();
    keep
}

/// Epoch's frontier rule (Sevilla & Roldán 2024): whether each point was among the `k`
/// largest `y` when it appeared, i.e. fewer than `k` points with a strictly smaller `x`
/// have a larger `y`. Points of the same `x` do not outrank each other.
pub fn frontier_top_k_at_release(x: &[f64], y: &[f64], k: usize) -> Vec<bool> {
    (0..x.len())
        .map(|i| (0..x.len()).filter(|&j| x[j] < x[i] && y[j] > y[i]).count() < k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn years(n: usize, start: f64, step: f64) -> Vec<f64> {
        (0..n).map(|i| start + step * i as f64).collect()
    }

    #[test]
    fn exact_exponential_recovers_doubling_time() {
        // y doubles every 2 years: log10 y = log10(5) + x·log10(2)/2.
        let x = years(20, 2000.0, 0.5);
        let y: Vec<f64> = x.iter().map(|&t| 5.0 * 2f64.powf((t - 2000.0) / 2.0)).collect();
        let fit = exponential_trend(&x, &y, BootstrapOptions::default()).unwrap();
        assert!((fit.doubling_time - 2.0).abs() < 1e-9, "{}", fit.doubling_time);
        assert!((fit.growth_factor_per_unit - 2f64.sqrt()).abs() < 1e-9);
        assert!((fit.line.r2 - 1.0).abs() < 1e-12);
        let ci = fit.doubling_time_ci95;
        assert!((ci.lower.unwrap() - 2.0).abs() < 1e-6 && (ci.upper.unwrap() - 2.0).abs() < 1e-6);
        let p = fit.predict(2010.0);
        assert!((p.central / (5.0 * 32.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn noisy_exponential_slope_is_within_its_interval() {
        // Known slope 0.3 OOM/yr, log-normal noise σ = 0.2 dex, fixed seed.
        let mut rng = StdRng::seed_from_u64(42);
        let x = years(60, 2010.0, 0.25);
        let y: Vec<f64> = x
            .iter()
            .map(|&t| {
                let noise: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                10f64.powf(1.0 + 0.3 * (t - 2010.0) + 0.2 * noise)
            })
            .collect();
        let fit = exponential_trend(&x, &y, BootstrapOptions::default()).unwrap();
        assert!(fit.slope_ci95.contains(0.3), "{:?}", fit.slope_ci95);
        assert!(fit.slope_ci95_t.contains(0.3));
        // se(b) = σ/√Sxx; Sxx of 60 points spaced 0.25 = 0.0625·60·(60²−1)/12 ≈ 1124.7
        let expected_se = 0.2 / 1124.7f64.sqrt();
        assert!(
            (fit.line.slope_se / expected_se - 1.0).abs() < 0.3,
            "{}",
            fit.line.slope_se
        );
        // Bootstrap and t intervals agree to within a fifth of their width.
        let width = |i: Interval| i.upper.unwrap() - i.lower.unwrap();
        assert!((width(fit.slope_ci95) / width(fit.slope_ci95_t) - 1.0).abs() < 0.2);
        let p = fit.predict(2020.0);
        assert!(p.lower < p.central && p.central < p.upper);
    }

    #[test]
    fn bootstrap_is_reproducible_for_a_seed() {
        let x = years(30, 1990.0, 1.0);
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &t)| 10f64.powf(0.1 * t - 190.0 + 0.05 * ((i * 7 % 5) as f64)))
            .collect();
        let options = BootstrapOptions {
            resamples: 500,
            seed: 9,
            jitter_log10: 0.0,
        };
        let a = exponential_trend(&x, &y, options).unwrap();
        let b = exponential_trend(&x, &y, options).unwrap();
        assert_eq!(a.slope_ci95, b.slope_ci95);
        let c = exponential_trend(
            &x,
            &y,
            BootstrapOptions {
                resamples: 500,
                seed: 10,
                jitter_log10: 0.0,
            },
        )
        .unwrap();
        assert_ne!(a.slope_ci95, c.slope_ci95);
    }

    #[test]
    fn errors_are_specific() {
        assert!(matches!(
            exponential_trend(&[1.0, 2.0], &[1.0, 2.0], BootstrapOptions::default()),
            Err(FitError::TooFewPoints { needed: 3, got: 2, .. })
        ));
        assert!(matches!(
            exponential_trend(&[1.0, 2.0, 3.0], &[1.0, 0.0, 2.0], BootstrapOptions::default()),
            Err(FitError::NonPositive {
                index: 1,
                axis: "y",
                ..
            })
        ));
        assert!(matches!(
            exponential_trend(&[5.0; 4], &[1.0, 2.0, 3.0, 4.0], BootstrapOptions::default()),
            Err(FitError::AllEqualX { n: 4, .. })
        ));
        assert!(matches!(
            power_law(&[0.0, 1.0, 2.0], &[1.0, 2.0, 3.0], BootstrapOptions::default()),
            Err(FitError::NonPositive {
                axis: "x",
                index: 0,
                ..
            })
        ));
        assert!(matches!(
            logistic_fit(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]),
            Err(FitError::TooFewPoints { needed: 4, .. })
        ));
    }

    #[test]
    fn power_law_recovers_cubic_scaling() {
        // GEMM time ∝ n³.
        let x: Vec<f64> = (1..=12).map(|i| 64.0 * i as f64).collect();
        let y: Vec<f64> = x.iter().map(|&n| 2e-9 * n.powi(3)).collect();
        let fit = power_law(&x, &y, BootstrapOptions::default()).unwrap();
        assert!((fit.exponent - 3.0).abs() < 1e-9);
        assert!((fit.prefactor / 2e-9 - 1.0).abs() < 1e-6);
        assert!(fit.exponent_ci95.contains(3.0));
    }

    #[test]
    fn logistic_recovers_parameters() {
        let x = years(40, 1990.0, 1.0);
        let y: Vec<f64> = x.iter().map(|&t| logistic(1e3, 0.35, 2008.0, t)).collect();
        let fit = logistic_fit(&x, &y).unwrap();
        assert!((fit.ceiling / 1e3 - 1.0).abs() < 1e-4, "{fit:?}");
        assert!((fit.rate - 0.35).abs() < 1e-4);
        assert!((fit.midpoint - 2008.0).abs() < 1e-3);
        assert!((fit.doubling_time - std::f64::consts::LN_2 / 0.35).abs() < 1e-3);
    }

    #[test]
    fn piecewise_finds_a_planted_break() {
        // Doubling every 2 years until 2010, every 0.5 years after, small seeded noise.
        let mut rng = StdRng::seed_from_u64(1);
        let x = years(61, 1980.0, 0.75);
        let y: Vec<f64> = x
            .iter()
            .map(|&t| {
                let log = if t < 2010.0 {
                    LOG10_2 / 2.0 * (t - 1980.0)
                } else {
                    LOG10_2 / 2.0 * 30.0 + LOG10_2 / 0.5 * (t - 2010.0)
                };
                10f64.powf(log + 0.02 * (rng.random::<f64>() - 0.5))
            })
            .collect();
        let fit = piecewise_log_linear(&x, &y, 2, 4).unwrap();
        assert_eq!(fit.breakpoints.len(), 1, "{fit:?}");
        assert!((fit.breakpoints[0] - 2010.0).abs() < 1.0);
        assert!((fit.segments[0].doubling_time - 2.0).abs() < 0.1);
        assert!((fit.segments[1].doubling_time - 0.5).abs() < 0.05);
    }

    #[test]
    fn piecewise_prefers_one_line_for_one_trend() {
        let x = years(30, 2000.0, 1.0);
        let y: Vec<f64> = x.iter().map(|&t| 10f64.powf(0.2 * (t - 2000.0))).collect();
        let fit = piecewise_log_linear(&x, &y, 2, 3).unwrap();
        assert!(fit.breakpoints.is_empty(), "{fit:?}");
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        let x = years(21, 0.0, 1.0);
        let mut y: Vec<f64> = x.iter().map(|&t| 2.0 * t + 1.0).collect();
        y[20] = 1e6;
        let fit = theil_sen(&x, &y).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-12);
        assert!((fit.intercept - 1.0).abs() < 1e-12);
        assert!(ols(&x, &y).unwrap().slope > 100.0);
    }

    #[test]
    fn z_scores_take_the_window_with_the_point_itself() {
        let x = [2000.0, 2000.5, 2001.0, 2001.2, 2010.0];
        let v = [1.0, 2.0, 3.0, 7.0, 5.0];
        let z = window_z_scores(&x, &v, 1.0);
        // Point 0's window: 1, 2, 3 (2001.2 is 1.2 yr away): mean 2, population sd √(2/3).
        assert!(
            (z[0].unwrap() - (1.0 - 2.0) / (2.0f64 / 3.0).sqrt()).abs() < 1e-12,
            "{z:?}"
        );
        // Point 3's window: 2, 3, 7 (2000.0 is 1.2 yr away): mean 4, sd √(14/3).
        assert!(
            (z[3].unwrap() - (7.0 - 4.0) / (14.0f64 / 3.0).sqrt()).abs() < 1e-12,
            "{z:?}"
        );
        // Point 1's window: all four early points: mean 3.25, population sd.
        let mean = 3.25;
        let sd = ([1.0f64, 2.0, 3.0, 7.0].iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        assert!((z[1].unwrap() - (2.0 - mean) / sd).abs() < 1e-12, "{z:?}");
        // A point alone in its window has no score.
        assert_eq!(z[4], None);
    }

    #[test]
    fn jitter_widens_the_interval_of_an_exact_trend() {
        let x = years(30, 1990.0, 1.0);
        let y: Vec<f64> = x.iter().map(|t| 10f64.powf(0.3 * (t - 1990.0))).collect();
        let plain = BootstrapOptions {
            resamples: 400,
            seed: 3,
            jitter_log10: 0.0,
        };
        let exact = exponential_trend(&x, &y, plain).unwrap();
        let width = |f: &ExponentialFit| f.slope_ci95.upper.unwrap() - f.slope_ci95.lower.unwrap();
        assert!(width(&exact) < 1e-9, "{:?}", exact.slope_ci95);
        let jittered = BootstrapOptions {
            jitter_log10: LOG10_2,
            ..plain
        };
        let a = exponential_trend(&x, &y, jittered).unwrap();
        assert!(width(&a) > 0.005, "{:?}", a.slope_ci95);
        assert!(a.slope_ci95.contains(0.3), "{:?}", a.slope_ci95);
        // The point estimate is the unjittered OLS; the jitter is seeded.
        assert!((a.slope_log10_per_unit - 0.3).abs() < 1e-12);
        assert_eq!(a.slope_ci95, exponential_trend(&x, &y, jittered).unwrap().slope_ci95);
        assert_eq!(BootstrapOptions::jittered_by_factor_2(3).resamples, 1_000);
    }

    #[test]
    fn frontier_keeps_top_k_per_year() {
        let x = [2000.1, 2000.5, 2000.9, 2001.2, 2001.3];
        let y = [1.0, 5.0, 3.0, 2.0, 2.0];
        assert_eq!(frontier_top_k_per_year(&x, &y, 1), vec![1, 3]);
        assert_eq!(frontier_top_k_per_year(&x, &y, 2), vec![1, 2, 3, 4]);
    }

    #[test]
    fn doubling_interval_handles_zero_crossing() {
        let i = doubling_interval(Interval::bounded(-0.1, 0.2));
        assert_eq!(i.upper, None);
        assert!((i.lower.unwrap() - LOG10_2 / 0.2).abs() < 1e-12);
    }

    proptest::proptest! {
        /// Scaling y by a constant never changes the slope or the doubling time.
        #[test]
        fn slope_is_invariant_to_scaling_y(scale in 1e-6f64..1e6, slope in -0.5f64..0.5) {
            proptest::prop_assume!(slope.abs() > 1e-3);
            let x = years(10, 2000.0, 1.0);
            let y: Vec<f64> = x.iter().enumerate().map(|(i, &t)| 10f64.powf(slope * (t - 2000.0) + 0.01 * (i % 3) as f64)).collect();
            let scaled: Vec<f64> = y.iter().map(|v| v * scale).collect();
            let options = BootstrapOptions { resamples: 50, seed: 1, jitter_log10: 0.0 };
            let a = exponential_trend(&x, &y, options).unwrap();
            let b = exponential_trend(&x, &scaled, options).unwrap();
            proptest::prop_assert!((a.slope_log10_per_unit - b.slope_log10_per_unit).abs() < 1e-9);
        }
    }
}
