//! Statistics across ranks: the time of a sample is the mean of the ranks' times for that
//! sample (nccl-tests averages over ranks too); the per-rank medians' spread is kept; a
//! benchmark a rank did not report is failed.

use crate::measure::stats;
use crate::measure::Status;

/// Mean over ranks of each sample index the reporting ranks all have.
fn rank_mean(per_rank: &[&[f64]]) -> Vec<f64> {
    let len = per_rank.iter().map(|s| s.len()).min().unwrap_or(0);
    (0..len)
        .map(|i| per_rank.iter().map(|s| s[i]).sum::<f64>() / per_rank.len() as f64)
        .collect()
}

/// The merged status of a benchmark: failed when a rank that should report did not.
pub(super) fn merged_status(
    statuses: &[Status],
    reasons: &[Option<String>],
    missing: &[usize],
) -> (Status, Option<String>) {
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(usize::to_string).collect();
        return (
            Status::Failed,
            Some(format!(
                "incomplete: rank(s) {} did not report this benchmark (died?); figures are from the ranks that did",
                list.join(",")
            )),
        );
    }
    let status = if statuses.contains(&Status::Failed) {
        Status::Failed
    } else if statuses.contains(&Status::Skipped) {
        Status::Skipped
    } else {
        Status::Ok
    };
    (status, reasons.iter().flatten().next().cloned())
}

pub(super) struct Merged {
    pub samples: Vec<f64>,
    pub summary: Option<stats::Summary>,
    pub rank_medians: Vec<f64>,
}

pub(super) fn merge_samples(per_rank: &[&[f64]], seed: u64) -> Merged {
    let samples = rank_mean(per_rank);
    let summary = (!samples.is_empty()).then(|| stats::summarize(&samples, 2000, seed));
    let rank_medians = per_rank
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| stats::median(s))
        .collect();
    Merged {
        samples,
        summary,
        rank_medians,
    }
}

pub(super) fn min_max(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    (xs.iter().copied().reduce(f64::min), xs.iter().copied().reduce(f64::max))
}
