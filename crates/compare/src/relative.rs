//! Relative statements within one run, as criterion and hyperfine users read them: between
//! benchmarks that differ in one thing only (a convolution's memory layout, a kernel's element
//! type), "conv2d_nhwc ran 2.97× faster than conv2d_nchw".

use crate::measure::Status;
use crate::store::SummaryRow;

/// What two related benchmarks differ in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// The memory layout (`conv2d_nchw` against `conv2d_nhwc`).
    Layout,
    /// The element type (`gemm/f32` against `gemm/f64`).
    Dtype,
}

impl Axis {
    /// The word used in the statement.
    pub fn as_str(self) -> &'static str {
        match self {
            Axis::Layout => "layout",
            Axis::Dtype => "dtype",
        }
    }
}

/// One statement: `faster` took `1 / ratio` of `slower`'s time per call.
#[derive(Debug, Clone, PartialEq)]
pub struct Relative {
    /// What the two differ in.
    pub axis: Axis,
    /// The faster benchmark's full name.
    pub faster: String,
    /// The slower benchmark's full name.
    pub slower: String,
    /// Slower median ÷ faster median (≥ 1).
    pub ratio: f64,
    /// Whether the two medians' 95 % CIs overlap: then the difference is within noise.
    pub overlapping: bool,
}

/// The layout suffix of a kernel's name (`conv2d_nchw` → (`conv2d`, `nchw`)).
fn layout(kernel: &str) -> Option<(&str, &str)> {
    kernel
        .rsplit_once('_')
        .filter(|(_, suffix)| matches!(*suffix, "nchw" | "nhwc" | "ncdhw" | "ndhwc"))
}

/// Every pair of finished rows of `rows` that differ in layout only, or in dtype only (same
/// kernel, same parameters), faster first, in the rows' order.
pub fn relative_statements(rows: &[SummaryRow]) -> Vec<Relative> {
    let ok: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.status == Status::Ok && r.median_s.is_some_and(|m| m > 0.0))
        .collect();
    let mut out = Vec::new();
    for (i, a) in ok.iter().enumerate() {
        for b in &ok[i + 1..] {
            if a.backend != b.backend || a.threads != b.threads || a.params != b.params {
                continue;
            }
            let axis = match (layout(&a.kernel), layout(&b.kernel)) {
                (Some((ka, la)), Some((kb, lb))) if ka == kb && la != lb && a.dtype == b.dtype => Axis::Layout,
                _ if a.kernel == b.kernel && a.dtype != b.dtype => Axis::Dtype,
                _ => continue,
            };
            let (Some(ma), Some(mb)) = (a.median_s, b.median_s) else {
                continue;
            };
            let (faster, slower) = if ma <= mb { (a, b) } else { (b, a) };
            let overlapping = match (faster.ci_high_s, slower.ci_low_s) {
                (Some(high), Some(low)) => high >= low,
                _ => true,
            };
            out.push(Relative {
                axis,
                faster: faster.benchmark.clone(),
                slower: slower.benchmark.clone(),
                ratio: ma.max(mb) / ma.min(mb),
                overlapping,
            });
        }
    }
    out
}

/// The statement in words, with `name` giving each benchmark's display name.
pub fn sentence(r: &Relative, name: &dyn Fn(&str) -> String) -> String {
    if r.overlapping {
        format!(
            "{} and {} ({}): no clear difference ({:.2}×, the 95 % CIs overlap)",
            name(&r.faster),
            name(&r.slower),
            r.axis.as_str(),
            r.ratio
        )
    } else {
        format!(
            "{} ran {:.2}× faster than {} ({})",
            name(&r.faster),
            r.ratio,
            name(&r.slower),
            r.axis.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kernel: &str, dtype: &str, params: &str, median: f64, half: f64) -> SummaryRow {
        SummaryRow {
            benchmark: format!("{kernel}/{dtype}/{params}"),
            kernel: kernel.into(),
            backend: braingap_core::backend_kind::BackendKind::Cpu,
            dtype: dtype.parse().unwrap(),
            threads: 2,
            params: params.into(),
            median_s: Some(median),
            ci_low_s: Some(median - half),
            ci_high_s: Some(median + half),
            status: Status::Ok,
            ..SummaryRow::default()
        }
    }

    #[test]
    fn layouts_and_dtypes_of_the_same_work_are_compared() {
        let rows = vec![
            row("conv2d_nchw", "f32", "c=64", 2.97e-3, 1e-5),
            row("conv2d_nhwc", "f32", "c=64", 1.0e-3, 1e-5),
            row("gemm", "f32", "m=512", 1.0e-3, 2e-4),
            row("gemm", "f64", "m=512", 1.1e-3, 2e-4),
            // Different work: never compared.
            row("gemm", "f64", "m=1024", 8.0e-3, 1e-5),
            row("conv2d_nhwc", "f64", "c=64", 9.0e-3, 1e-5),
        ];
        let found = relative_statements(&rows);
        assert_eq!(found.len(), 3, "{found:?}");
        let layout = &found[0];
        assert_eq!(layout.axis, Axis::Layout);
        assert_eq!(
            (layout.faster.as_str(), layout.slower.as_str()),
            ("conv2d_nhwc/f32/c=64", "conv2d_nchw/f32/c=64")
        );
        assert!((layout.ratio - 2.97).abs() < 1e-12 && !layout.overlapping);
        assert_eq!(
            sentence(layout, &|n| n.to_string()),
            "conv2d_nhwc/f32/c=64 ran 2.97× faster than conv2d_nchw/f32/c=64 (layout)"
        );
        let conv = &found[1];
        assert_eq!((conv.axis, conv.faster.as_str()), (Axis::Dtype, "conv2d_nhwc/f32/c=64"));
        assert!((conv.ratio - 9.0).abs() < 1e-12);
        let gemm = &found[2];
        assert_eq!((gemm.axis, gemm.faster.as_str()), (Axis::Dtype, "gemm/f32/m=512"));
        assert!(gemm.overlapping, "1.0 ± 0.2 and 1.1 ± 0.2 ms overlap");
        assert!(sentence(gemm, &|n| n.to_string()).contains("no clear difference (1.10×"));
    }

    #[test]
    fn failed_rows_and_other_backends_are_left_out() {
        let mut failed = row("conv2d_nchw", "f32", "c=64", 2e-3, 1e-5);
        failed.status = Status::Failed;
        let mut torch = row("conv2d_nhwc", "f32", "c=64", 1e-3, 1e-5);
        torch.backend = braingap_core::backend_kind::BackendKind::Torch;
        let rows = vec![failed, row("conv2d_nhwc", "f32", "c=64", 1e-3, 1e-5), torch];
        assert!(relative_statements(&rows).is_empty());
    }
}
