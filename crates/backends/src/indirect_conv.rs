//! NHWC convolution without an im2col matrix and without packing the image: an indirect
//! GEMM (the indirection-buffer scheme of Dukhan, "The Indirect Convolution Algorithm",
//! 2019, used by XNNPACK). For AVX-512 machines; elsewhere the caller falls back to im2col.
//!
//! In NHWC the `C` input channels of one pixel are contiguous, so row `(n, p, q)` of the
//! im2col matrix is, tap by tap, a run of `C` values already in memory (or zeros in the
//! padding). The micro-kernel therefore broadcasts its left operand straight from the
//! image through one pointer per row and tap, and only the weights are packed (once per
//! call, `taps·C × K`, a few hundred KiB that stay in L2).
//!
//! Tile: [`ROWS`] = 6 output pixels × 4 vectors of output channels (64 f32 or 32 f64):
//! 24 accumulators, 6 broadcasts and 4 loads per input channel. Against the 12 × 2-vector
//! GEMM tile this loads fewer values per FMA and, for the narrow products convolutions are
//! (64–256 output channels), uses each broadcast pixel value for a whole 64-channel row.
//!
//! Threads: the workers of the current rayon pool each take a contiguous run of 6-pixel
//! blocks (their own rows of the output) and read the shared packed weights.

use super::packed_gemm::{self, PackedGemm};
use crate::kernels::conv2d::Conv2d;
use rayon::prelude::*;

/// Output pixels per micro-tile.
pub const ROWS: usize = 6;

/// Geometry of an NHWC convolution with HWIO weights.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub out_channels: usize,
    pub stride: usize,
    pub pad: usize,
    pub out_h: usize,
    pub out_w: usize,
}

impl From<&Conv2d> for Geometry {
    /// The geometry of an NHWC convolution spec (its layout is not checked: the caller
    /// chooses this path for NHWC only).
    fn from(k: &Conv2d) -> Self {
        Geometry {
            batch: k.batch as usize,
            height: k.height as usize,
            width: k.width as usize,
            channels: k.in_channels as usize,
            kernel_h: k.kernel_h as usize,
            kernel_w: k.kernel_w as usize,
            out_channels: k.out_channels as usize,
            stride: k.stride as usize,
            pad: k.padding as usize,
            out_h: k.out_h() as usize,
            out_w: k.out_w() as usize,
        }
    }
}

/// Element types with an indirect-convolution micro-kernel.
pub trait IndirectConv: PackedGemm {
    /// Output channels per micro-tile (four vectors).
    const TILE_N: usize;
    /// The micro-kernel: for each of `taps` taps, `ptrs[t]` holds one pointer per output
    /// pixel to `channels` input values; `bp` is the packed weight panel (`[t·C + c][TILE_N]`).
    /// Writes rows `0..rows` and columns `0..cols` of the tile at `out` (row stride `ldo`).
    ///
    /// # Safety
    /// AVX-512F is available; every pointer in `ptrs[..taps]` addresses `channels` readable
    /// values; `bp` holds `taps·channels·TILE_N`; `out` addresses `rows` rows of `cols`
    /// writable values, `ldo` apart.
    #[allow(clippy::too_many_arguments)]
    unsafe fn conv_kernel(
        taps: usize,
        ptrs: *const [*const Self; ROWS],
        channels: usize,
        bp: *const Self,
        out: *mut Self,
        ldo: usize,
        rows: usize,
        cols: usize,
    );
}

/// `y = conv(x, w)` for NHWC `x`, HWIO `w` and NHWC `y`, on the current rayon pool.
/// `wpack` is scratch for the packed weights (kept by the caller so calls reuse it).
/// Returns false without touching anything when AVX-512 is not available.
pub fn conv_nhwc<T: IndirectConv>(g: &Geometry, x: &[T], w: &[T], y: &mut [T], wpack: &mut Vec<T>) -> bool {
    if !packed_gemm::available() {
        return false;
    }
    let taps = g.kernel_h * g.kernel_w;
    let depth = taps * g.channels;
    let n = g.out_channels;
    let m = g.batch * g.out_h * g.out_w;
    assert!(
        x.len() >= g.batch * g.height * g.width * g.channels,
        "conv_nhwc: input too short"
    );
    assert!(w.len() >= depth * n, "conv_nhwc: weights too short");
    assert!(y.len() >= m * n, "conv_nhwc: output too short");
    if m == 0 || n == 0 {
        return true;
    }
    let tile = T::TILE_N;
    let panels = n.div_ceil(tile);
    // Weights, HWIO = row-major (taps·C) × K, into panels of TILE_N columns, zero-padded.
    wpack.clear();
    wpack.resize(panels * depth * tile, T::default());
    wpack.par_chunks_mut(depth * tile).enumerate().for_each(|(panel, dst)| {
        let j0 = panel * tile;
        let cols = tile.min(n - j0);
        for (d, row) in dst.chunks_exact_mut(tile).enumerate() {
            row[..cols].copy_from_slice(&w[d * n + j0..d * n + j0 + cols]);
        }
    });
    let wpack = &wpack[..];
    let zeros = vec![T::default(); g.channels.max(1)];
    let blocks = m.div_ceil(ROWS);
    let parts = rayon::current_num_threads().max(1);
    let per = blocks.div_ceil(parts);
    let out = SharedMut(y.as_mut_ptr());
    (0..blocks.div_ceil(per)).into_par_iter().for_each(|t| {
        let mut ptrs = vec![[zeros.as_ptr(); ROWS]; taps];
        for block in t * per..((t + 1) * per).min(blocks) {
            let i0 = block * ROWS;
            let rows = ROWS.min(m - i0);
            #[allow(clippy::needless_range_loop)] // `i` indexes the inner array of every tap
            for i in 0..ROWS {
                let row = i0 + i.min(rows - 1); // past the end: repeat the last pixel, not stored
                let (img, p, q) = (row / (g.out_h * g.out_w), (row / g.out_w) % g.out_h, row % g.out_w);
                for r in 0..g.kernel_h {
                    let h = (p * g.stride + r) as isize - g.pad as isize;
                    for s in 0..g.kernel_w {
                        let wc = (q * g.stride + s) as isize - g.pad as isize;
                        ptrs[r * g.kernel_w + s][i] =
                            if h < 0 || wc < 0 || h >= g.height as isize || wc >= g.width as isize {
                                zeros.as_ptr()
                            } else {
                                let base = ((img * g.height + h as usize) * g.width + wc as usize) * g.channels;
                                x[base..base + g.channels].as_ptr()
                            };
                    }
                }
            }
            for panel in 0..panels {
                let j0 = panel * tile;
                // SAFETY: AVX-512F checked above; each pointer addresses `channels` values
                // of `x` or of `zeros`; the panel holds depth·TILE_N values; rows i0..i0+rows
                // of the output belong to this worker alone and columns j0..j0+cols lie in it.
                unsafe {
                    T::conv_kernel(
                        taps,
                        ptrs.as_ptr(),
                        g.channels,
                        wpack[panel * depth * tile..].as_ptr(),
                        out.ptr().add(i0 * n + j0),
                        n,
                        rows,
                        tile.min(n - j0),
                    )
                };
            }
        }
    });
    true
}

/// The output's base pointer, shared by workers that write disjoint rows.
struct SharedMut<T>(*mut T);

impl<T> SharedMut<T> {
    /// Through a method, so that closures capture the (Sync) wrapper, not the raw pointer.
    fn ptr(&self) -> *mut T {
        self.0
    }
}
// SAFETY: workers write disjoint rows of the output, which outlives the parallel loop.
unsafe impl<T: Send> Sync for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SharedMut<T> {}

macro_rules! indirect_kernel {
    ($name:ident, $t:ty, $lanes:expr, $mask:ty, $zero:ident, $load:ident, $bcast:ident, $fmadd:ident,
     $mstore:ident, [$(($p:ident, $c0:ident, $c1:ident, $c2:ident, $c3:ident)),*]) => {
        /// AVX-512 micro-kernel: 6 pixels × 4 vectors of accumulators, written out so that
        /// they stay in registers.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name(
            taps: usize,
            ptrs: *const [*const $t; ROWS],
            channels: usize,
            bp: *const $t,
            out: *mut $t,
            ldo: usize,
            rows: usize,
            cols: usize,
        ) {
            use std::arch::x86_64::*;
            const L: usize = $lanes;
            const W: usize = 4 * L;
            $( let (mut $c0, mut $c1, mut $c2, mut $c3) = ($zero(), $zero(), $zero(), $zero()); )*
            let mut b = bp;
            for t in 0..taps {
                // SAFETY (whole loop): the caller's contract bounds every pointer.
                let [$($p),*] = unsafe { *ptrs.add(t) };
                for ch in 0..channels {
                    unsafe {
                        let b0 = $load(b);
                        let b1 = $load(b.add(L));
                        let b2 = $load(b.add(2 * L));
                        let b3 = $load(b.add(3 * L));
                        $(
                            let a = $bcast(*$p.add(ch));
                            $c0 = $fmadd(a, b0, $c0);
                            $c1 = $fmadd(a, b1, $c1);
                            $c2 = $fmadd(a, b2, $c2);
                            $c3 = $fmadd(a, b3, $c3);
                        )*
                        b = b.add(W);
                    }
                }
            }
            let lane_mask = |v: usize| -> $mask {
                let valid = cols.saturating_sub(v * L).min(L);
                if valid == L {
                    !0
                } else {
                    ((1u32 << valid) - 1) as $mask
                }
            };
            let masks = [lane_mask(0), lane_mask(1), lane_mask(2), lane_mask(3)];
            let tile = [$([$c0, $c1, $c2, $c3]),*];
            for (i, row) in tile.iter().enumerate().take(rows) {
                for (v, acc) in row.iter().enumerate() {
                    // SAFETY: masked lanes are not written; the rest lie in the caller's tile.
                    unsafe { $mstore(out.add(i * ldo + v * L), masks[v], *acc) };
                }
            }
        }
    };
}

indirect_kernel!(
    kernel_f32,
    f32,
    16,
    u16,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_mask_storeu_ps,
    [
        (p0, c00, c01, c02, c03),
        (p1, c10, c11, c12, c13),
        (p2, c20, c21, c22, c23),
        (p3, c30, c31, c32, c33),
        (p4, c40, c41, c42, c43),
        (p5, c50, c51, c52, c53)
    ]
);
indirect_kernel!(
    kernel_f64,
    f64,
    8,
    u8,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_mask_storeu_pd,
    [
        (p0, c00, c01, c02, c03),
        (p1, c10, c11, c12, c13),
        (p2, c20, c21, c22, c23),
        (p3, c30, c31, c32, c33),
        (p4, c40, c41, c42, c43),
        (p5, c50, c51, c52, c53)
    ]
);

macro_rules! impl_indirect {
    ($t:ty, $lanes:expr, $kernel:ident) => {
        impl IndirectConv for $t {
            const TILE_N: usize = 4 * $lanes;

            unsafe fn conv_kernel(
                taps: usize,
                ptrs: *const [*const $t; ROWS],
                channels: usize,
                bp: *const $t,
                out: *mut $t,
                ldo: usize,
                rows: usize,
                cols: usize,
            ) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    $kernel(taps, ptrs, channels, bp, out, ldo, rows, cols)
                }
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("packed_gemm::available() is false off x86_64")
            }
        }
    };
}

impl_indirect!(f32, 16, kernel_f32);
impl_indirect!(f64, 8, kernel_f64);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv2d::Layout;

    fn check<T: IndirectConv>(conv: &Conv2d, threads: usize, tol: f64) {
        let g = Geometry::from(conv);
        let (x, w) = conv.inputs::<T>();
        let want: Vec<f64> = (0..conv.output_len() as usize)
            .map(|i| {
                let (n, k, p, q) = conv.output_coords(i);
                conv.reference_element(&x, &w, n, k, p, q).0
            })
            .collect();
        let mut y = vec![T::from_f64(f64::NAN); want.len() + 5];
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut wpack = Vec::new();
        if !pool.install(|| conv_nhwc(&g, &x, &w, &mut y, &mut wpack)) {
            return; // no AVX-512 here: the im2col path is tested through the backend
        }
        for (i, (&got, &w)) in y.iter().zip(&want).enumerate() {
            assert!(
                (got.to_f64() - w).abs() <= tol * (1.0 + w.abs()),
                "{g:?} [{i}]: {got:?} vs {w}"
            );
        }
        assert!(
            y[want.len()..].iter().all(|v| v.to_f64().is_nan()),
            "wrote past the output"
        );
    }

    #[test]
    fn matches_naive_on_odd_shapes_tiles_and_padding() {
        for &(batch, (height, width), c, k, r, stride, padding) in &[
            (1, (1, 1), 1, 1, 1, 1, 0),
            (1, (5, 4), 3, 7, 3, 1, 1),
            (2, (9, 7), 5, 64, 3, 2, 1),
            (1, (6, 6), 16, 65, 1, 1, 0),
            (2, (8, 9), 8, 130, 5, 1, 2),
            (1, (11, 3), 2, 33, 3, 3, 0),
        ] {
            let conv = Conv2d {
                layout: Layout::Nhwc,
                batch,
                in_channels: c,
                height,
                width,
                out_channels: k,
                kernel_h: r,
                kernel_w: r,
                stride,
                padding,
            };
            for threads in [1, 2, 3] {
                check::<f32>(&conv, threads, 1e-5 * (r * r * c) as f64);
                check::<f64>(&conv, threads, 1e-13 * (r * r * c) as f64);
            }
        }
    }
}
