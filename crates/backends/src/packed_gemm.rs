//! The CPU backend's own matrix product for AVX-512 machines: the Goto/BLIS algorithm
//! (Goto & van de Geijn 2008; Van Zee & van de Geijn 2015) with a register-blocked
//! AVX-512 micro-kernel, dispatched at run time. Where AVX-512 is absent (older CPUs, or
//! under valgrind, which does not emulate it) the caller falls back to the `gemm` crate.
//!
//! Why not only the `gemm` crate: on this project's reference machine (a KVM guest that
//! reports the host's 480 MiB L3) it reached 0.19–0.24x of OpenBLAS, whose blocking this
//! file copies (issue 2's peer comparison, `scripts/compare-peers.sh`).
//!
//! Computes row-major `C (m×n) = β·A·B` (or `C += β·A·B` when `accumulate`), `A` m×k
//! row-major, `B` k×n given by element strides (`b[p·rs + j·cs]`, so Bᵀ works too).
//!
//! Blocking, written for the row-major orientation (the BLIS loops on Cᵀ = Bᵀ·Aᵀ):
//! - the micro-kernel updates an `MR × NR` tile of C, `NR` = two 512-bit vectors along a
//!   row of C and `MR` = 12 rows: 24 accumulators, 2 loads and 12 broadcasts per step of k;
//! - a packed `MR × KC` micro-panel of A stays in L1 while the kernel sweeps the packed
//!   `KC × NC` block of B, which stays in L2;
//! - the packed `MC × KC` block of A (up to `MC` rows) stays in the last-level cache.
//!
//! Threads: each worker of the current rayon pool takes its own contiguous rows of C (its
//! own columns when there are fewer than 4 micro-panels of rows per worker) and runs the
//! whole loop nest on them with its own packed blocks of A and B, so the workers meet only
//! at the end. Packing buffers are kept per thread and reused; the only steady-state
//! allocation is the narrow path's per-worker panel buffer.
//!
//! The operands should sit on huge pages (the CPU backend allocates them through
//! [`crate::kernels::inputs::zeroed_vec`]): C's and A's rows are far apart in memory, and on
//! 4 KiB pages a large product spends a measurable share of its time in TLB misses.
//!
//! Narrow products (`n ≤ NC`, e.g. a convolution with 64 output channels, where each row
//! of A meets only two micro-tiles) skip the packed block of A: each worker packs one
//! micro-panel right before using it, so it never leaves L1 ([`narrow`]).
//!
//! Packing A is a transpose (`MR` rows to depth-major order); [`pack_rows`] does it 16 (f32)
//! or 8 (f64) depths at a time in AVX-512 registers.

use crate::kernels::Real;
use rayon::prelude::*;
use std::cell::RefCell;

/// Rows of the micro-tile (and of a packed A micro-panel).
pub const MR: usize = 12;

/// Where the rows of A come from. The product packs A one `MR × kc` micro-panel at a time
/// through this, so A need not exist as a matrix (an implicit im2col, for instance, can pack
/// its rows straight from an image). The backend's own products pack a stored matrix; its
/// NHWC convolution goes through `indirect_conv`, which packs no rows at all.
pub trait PackA<T>: Sync {
    /// Writes rows `i0..i0 + rows` (`rows` ≤ [`MR`]) and depths `pc..pc + kc` of A into
    /// `dst` laid out depth-major (`dst[p·MR + i]`), rows `rows..MR` zero.
    fn pack(&self, i0: usize, rows: usize, pc: usize, kc: usize, dst: &mut [T]);
}

/// A stored row-major with row stride `lda`.
struct RowMajor<'a, T> {
    a: &'a [T],
    lda: usize,
}

impl<T: PackedGemm> PackA<T> for RowMajor<'_, T> {
    fn pack(&self, i0: usize, rows: usize, pc: usize, kc: usize, dst: &mut [T]) {
        pack_a(self.a, self.lda, i0, rows, pc, kc, dst);
    }
}

/// Element types with an AVX-512 micro-kernel.
pub trait PackedGemm: Real {
    /// Columns of the micro-tile (two vectors).
    const NR: usize;
    /// Depth of a packed block.
    const KC: usize;
    /// Columns of the packed block of B (a multiple of `NR`).
    const NC: usize;
    /// Rows of the packed block of A (a multiple of `MR`).
    const MC: usize;
    /// The micro-kernel: `tile (MR×NR, row stride ldc) (+)= β·Ap·Bp` over `kc` steps.
    ///
    /// # Safety
    /// AVX-512F must be available; `ap` holds `kc·MR`, `bp` holds `kc·NR` elements and
    /// `c` addresses an `MR × NR` tile with row stride `ldc`.
    unsafe fn kernel(
        kc: usize,
        ap: *const Self,
        bp: *const Self,
        c: *mut Self,
        ldc: usize,
        beta: Self,
        accumulate: bool,
    );
    /// Per-thread packing buffers.
    fn with_buffers<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;
    /// The AVX-512 transposing packer behind [`pack_rows`].
    ///
    /// # Safety
    /// AVX-512F must be available; each non-null `rows[i]` addresses `len` readable
    /// elements and `dst` addresses `len·MR` writable ones.
    unsafe fn pack_rows_simd(rows: &[*const Self; MR], len: usize, dst: *mut Self);
}

/// Packs a depth run of up to [`MR`] rows into micro-panel order: `dst[p·MR + i] =
/// rows[i][p]` for `p < len`, zeros where `rows[i]` is `None`. This is the one gather every
/// [`PackA`] does; with AVX-512 it loads 16 (f32) or 8 (f64) depths of every row and
/// transposes them in registers instead of writing element by element `MR` apart.
pub fn pack_rows<T: PackedGemm>(rows: &[Option<&[T]>; MR], len: usize, dst: &mut [T]) {
    assert!(
        dst.len() >= len * MR,
        "pack_rows: destination holds {} < {}",
        dst.len(),
        len * MR
    );
    let mut ptrs = [std::ptr::null::<T>(); MR];
    for (ptr, row) in ptrs.iter_mut().zip(rows) {
        if let Some(row) = row {
            assert!(row.len() >= len, "pack_rows: a row holds {} < {len}", row.len());
            *ptr = row.as_ptr();
        }
    }
    if available() {
        // SAFETY: AVX-512F detected; the asserts above bound every row and `dst`.
        unsafe { T::pack_rows_simd(&ptrs, len, dst.as_mut_ptr()) };
    } else {
        for (i, row) in rows.iter().enumerate() {
            for p in 0..len {
                dst[p * MR + i] = row.map_or(T::default(), |r| r[p]);
            }
        }
    }
}

thread_local! {
    static BUF_F32: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    static BUF_F64: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Whether [`gemm`] can run here (AVX-512F detected at run time).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `C = β·A·B` (or `C += β·A·B`), split over the workers of the current rayon pool.
/// Returns false without touching anything when AVX-512 is not available.
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: PackedGemm>(
    m: usize,
    n: usize,
    k: usize,
    c: &mut [T],
    a: &[T],
    b: &[T],
    b_rs: usize,
    b_cs: usize,
    beta: T,
    accumulate: bool,
) -> bool {
    if !available() {
        return false;
    }
    assert!(a.len() >= m * k);
    gemm_from(m, n, k, c, &RowMajor { a, lda: k }, b, b_rs, b_cs, beta, accumulate)
}

/// [`gemm`] with the rows of A produced by `a` (see [`PackA`]).
#[allow(clippy::too_many_arguments)]
pub fn gemm_from<T: PackedGemm, A: PackA<T>>(
    m: usize,
    n: usize,
    k: usize,
    c: &mut [T],
    a: &A,
    b: &[T],
    b_rs: usize,
    b_cs: usize,
    beta: T,
    accumulate: bool,
) -> bool {
    if !available() {
        return false;
    }
    assert!(c.len() >= m * n);
    if m == 0 || n == 0 {
        return true;
    }
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    if k == 0 {
        if !accumulate {
            c[..m * n].iter_mut().for_each(|x| *x = T::default());
        }
        return true;
    }
    let c = SharedMut(c.as_mut_ptr());
    let (nr, nc_max) = (T::NR, T::NC);
    let parts = rayon::current_num_threads().max(1);
    if n <= nc_max {
        narrow(m, n, k, &c, a, b, b_rs, b_cs, beta, accumulate, parts);
        return true;
    }
    // Each worker computes its own block of C (a run of rows, or of columns when there
    // are too few rows) with its own packed blocks of A and B, so the workers never wait
    // for each other before the end: on a shared VM a worker that loses its core for a
    // moment would otherwise hold up the other at every block (an earlier version split
    // each block's packing and sweep between the workers, with a barrier after each).
    // Packing B twice costs each worker about one copy per `2·m/parts` FLOPs of its own.
    let split_rows = m.div_ceil(MR) >= 4 * parts;
    let (len, step) = if split_rows { (m, MR) } else { (n, nr) };
    let per = len.div_ceil(step).div_ceil(parts) * step;
    (0..len.div_ceil(per)).into_par_iter().for_each(|t| {
        let part = t * per..((t + 1) * per).min(len);
        let (rows, cols) = if split_rows { (part, 0..n) } else { (0..m, part) };
        blocked(rows, cols, n, k, &c, a, b, b_rs, b_cs, beta, accumulate);
    });
    true
}

/// One worker's share of the product: rows `rows` and columns `cols` of C (row stride
/// `n`), by the Goto loops on the calling thread, with its packing buffers.
#[allow(clippy::too_many_arguments)]
fn blocked<T: PackedGemm, A: PackA<T>>(
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    n: usize,
    k: usize,
    c: &SharedMut<T>,
    a: &A,
    b: &[T],
    b_rs: usize,
    b_cs: usize,
    beta: T,
    accumulate: bool,
) {
    let (nr, kc_max, nc_max) = (T::NR, T::KC, T::NC);
    // Row blocks of at most `MC` rows, of equal height (a 2,048-row share is two blocks
    // of 1,024 rather than 1,536 + 512, whose short block would sweep all of B for little).
    let mc_max = rows.len().div_ceil(rows.len().div_ceil(T::MC)).div_ceil(MR) * MR;
    T::with_buffers(|apack, bpack| {
        let nc_cap = nc_max.min(cols.len()).div_ceil(nr) * nr;
        let kc_cap = kc_max.min(k);
        if apack.len() < mc_max * kc_cap {
            apack.resize(mc_max * kc_cap, T::default());
        }
        if bpack.len() < nc_cap * kc_cap {
            bpack.resize(nc_cap * kc_cap, T::default());
        }
        for ic in rows.clone().step_by(mc_max) {
            let mc = mc_max.min(rows.end - ic);
            let a_panels = mc.div_ceil(MR);
            for pc in (0..k).step_by(kc_max) {
                let kc = kc_max.min(k - pc);
                let acc = accumulate || pc > 0;
                let apack = &mut apack[..a_panels * MR * kc];
                for (panel, dst) in apack.chunks_mut(MR * kc).enumerate() {
                    a.pack(ic + panel * MR, MR.min(mc - panel * MR), pc, kc, dst);
                }
                let apack = &*apack;
                for jc in cols.clone().step_by(nc_max) {
                    let nc = nc_max.min(cols.end - jc);
                    let b_panels = nc.div_ceil(nr);
                    let bpack = &mut bpack[..b_panels * nr * kc];
                    pack_b_panels(b, b_rs, b_cs, pc, kc, jc, jc + nc, nr, bpack);
                    let bpack = &*bpack;
                    for panel in 0..a_panels {
                        // SAFETY: rows ic.., columns jc..jc+nc of C lie in this worker's
                        // block, which no other worker writes.
                        unsafe { macro_panel(c, n, apack, panel, mc, ic, bpack, nc, jc, kc, beta, acc) };
                    }
                }
            }
        }
    });
}

/// The product when all of B's columns fit one packed block (`n ≤ NC`, e.g. a convolution's
/// output channels): each A micro-panel is then used once per depth block, so it is packed
/// right before use into a per-worker buffer that stays in L1, instead of packing an
/// `MC`-row block of A that would round-trip through the last-level cache.
#[allow(clippy::too_many_arguments)]
fn narrow<T: PackedGemm, A: PackA<T>>(
    m: usize,
    n: usize,
    k: usize,
    c: &SharedMut<T>,
    a: &A,
    b: &[T],
    b_rs: usize,
    b_cs: usize,
    beta: T,
    accumulate: bool,
    parts: usize,
) {
    let nr = T::NR;
    // Depth blocks as deep as an L1-resident panel allows (24 KiB of A: fewer passes over
    // C), split evenly so that no short remainder pass is left.
    let cap = (24 * 1024 / (MR * std::mem::size_of::<T>())).max(T::KC);
    let kc_max = k.div_ceil(k.div_ceil(cap));
    let b_panels = n.div_ceil(nr);
    let a_panels = m.div_ceil(MR);
    let per = a_panels.div_ceil(parts);
    T::with_buffers(|_, bpack| {
        let kc_cap = kc_max.min(k);
        if bpack.len() < b_panels * nr * kc_cap {
            bpack.resize(b_panels * nr * kc_cap, T::default());
        }
        for pc in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - pc);
            let acc = accumulate || pc > 0;
            let bpack = &mut bpack[..b_panels * nr * kc];
            pack_b_block(b, b_rs, b_cs, pc, kc, 0, n, nr, bpack, parts);
            let bpack = &*bpack;
            (0..a_panels.div_ceil(per)).into_par_iter().for_each(|t| {
                let mut panel_buf = vec![T::default(); MR * kc];
                for panel in t * per..((t + 1) * per).min(a_panels) {
                    let i0 = panel * MR;
                    a.pack(i0, MR.min(m - i0), pc, kc, &mut panel_buf);
                    // SAFETY: rows i0..i0+MR of C belong to this worker's panels alone.
                    unsafe { macro_panel(c, n, &panel_buf, 0, m - i0, i0, bpack, n, 0, kc, beta, acc) };
                }
            });
        }
    });
}

/// One A micro-panel against a packed block of B: the micro-kernel over each `NR`-wide
/// column panel, edge tiles through a scratch tile.
///
/// # Safety
/// AVX-512F is available; rows `ic + panel·MR ..` of C, columns `jc..jc+nc`, belong to the
/// caller alone; `apack`/`bpack` hold the packed blocks for depth `kc`.
#[allow(clippy::too_many_arguments)]
unsafe fn macro_panel<T: PackedGemm>(
    c: &SharedMut<T>,
    n: usize,
    apack: &[T],
    panel: usize,
    mc: usize,
    ic: usize,
    bpack: &[T],
    nc: usize,
    jc: usize,
    kc: usize,
    beta: T,
    acc: bool,
) {
    let nr = T::NR;
    let mut tile = [T::default(); MR * 32];
    let ir = panel * MR;
    let mr = MR.min(mc - ir);
    let ap = apack[ir * kc..].as_ptr();
    for jr in (0..nc).step_by(nr) {
        let w = nr.min(nc - jr);
        let bp = bpack[jr * kc..].as_ptr();
        let (row0, col0) = (ic + ir, jc + jr);
        if mr == MR && w == nr {
            // SAFETY: (caller) AVX-512F; the packed panels hold kc·MR and kc·NR elements;
            // the tile lies inside C, in rows and columns only this caller writes.
            unsafe { T::kernel(kc, ap, bp, c.0.add(row0 * n + col0), n, beta, acc) };
        } else {
            // Edge tile: compute into a scratch tile, copy the valid part.
            // SAFETY: as above, on the MR×NR scratch tile.
            unsafe { T::kernel(kc, ap, bp, tile.as_mut_ptr(), nr, beta, false) };
            for i in 0..mr {
                // SAFETY: row `row0 + i`, columns col0..col0+w lie in C and belong to
                // this caller.
                let dst = unsafe { std::slice::from_raw_parts_mut(c.0.add((row0 + i) * n + col0), w) };
                let src = &tile[i * nr..i * nr + w];
                if acc {
                    dst.iter_mut().zip(src).for_each(|(d, s)| *d = *d + *s);
                } else {
                    dst.copy_from_slice(src);
                }
            }
        }
    }
}

/// C's base pointer, shared by workers that write disjoint rows.
struct SharedMut<T>(*mut T);
// SAFETY: workers write disjoint rows of C (see `gemm`), and C outlives the parallel loop.
unsafe impl<T: Send> Sync for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SharedMut<T> {}

/// Packs rows `i0..i0+rows` (at most `MR`), depths `pc..pc+kc` of row-major `a` (row
/// stride `lda`) into one micro-panel laid out depth-major (`[p][i]`), zero-padded.
fn pack_a<T: PackedGemm>(a: &[T], lda: usize, i0: usize, rows: usize, pc: usize, kc: usize, dst: &mut [T]) {
    let srcs: [Option<&[T]>; MR] =
        std::array::from_fn(|i| (i < rows).then(|| &a[(i0 + i) * lda + pc..(i0 + i) * lda + pc + kc]));
    pack_rows(&srcs, kc, dst);
}

/// Packs depths `pc..pc+kc`, columns `jc..jc+nc` of `b` into `nc / nr` (rounded up)
/// micro-panels, split over `parts` workers by groups of panels. Each worker walks its
/// columns row by row of B, so it reads B sequentially (each row's run of columns is
/// contiguous when `cs == 1`) instead of one short run per row per panel, which leaves the
/// hardware prefetchers nothing to follow when B's rows are far apart.
#[allow(clippy::too_many_arguments)]
fn pack_b_block<T: Real>(
    b: &[T],
    rs: usize,
    cs: usize,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    nr: usize,
    bpack: &mut [T],
    parts: usize,
) {
    let panels = nc.div_ceil(nr);
    let per = panels.div_ceil(parts.max(1));
    bpack[..panels * nr * kc]
        .par_chunks_mut(per * nr * kc)
        .enumerate()
        .for_each(|(group, dst)| {
            let j0 = jc + group * per * nr;
            let j1 = (j0 + per * nr).min(jc + nc);
            pack_b_panels(b, rs, cs, pc, kc, j0, j1, nr, dst);
        });
}

/// Packs depths `pc..pc+kc`, columns `j0..j1` of `b` into consecutive `nr`-wide
/// micro-panels (the last zero-padded), walking B row by row when its rows are contiguous.
#[allow(clippy::too_many_arguments)]
fn pack_b_panels<T: Real>(
    b: &[T],
    rs: usize,
    cs: usize,
    pc: usize,
    kc: usize,
    j0: usize,
    j1: usize,
    nr: usize,
    dst: &mut [T],
) {
    let count = (j1 - j0).div_ceil(nr);
    if cs != 1 {
        for (i, panel) in dst[..count * nr * kc].chunks_mut(nr * kc).enumerate() {
            let c0 = j0 + i * nr;
            pack_b(b, rs, cs, pc, kc, c0, nr.min(j1 - c0), nr, panel);
        }
        return;
    }
    for p in 0..kc {
        let row = &b[(pc + p) * rs..];
        for i in 0..count {
            let c0 = j0 + i * nr;
            let cols = nr.min(j1 - c0);
            let out = &mut dst[i * nr * kc + p * nr..i * nr * kc + (p + 1) * nr];
            out[..cols].copy_from_slice(&row[c0..c0 + cols]);
            out[cols..].iter_mut().for_each(|v| *v = T::default());
        }
    }
}

/// Packs depths `pc..pc+kc`, columns `j0..j0+cols` (at most `nr`) of `b` (element `(p, j)`
/// at `b[p·rs + j·cs]`) into one micro-panel laid out `[p][j]`, zero-padded to `nr`.
#[allow(clippy::too_many_arguments)]
fn pack_b<T: Real>(
    b: &[T],
    rs: usize,
    cs: usize,
    pc: usize,
    kc: usize,
    j0: usize,
    cols: usize,
    nr: usize,
    dst: &mut [T],
) {
    for p in 0..kc {
        let row = &mut dst[p * nr..(p + 1) * nr];
        let base = (pc + p) * rs + j0 * cs;
        if cs == 1 {
            row[..cols].copy_from_slice(&b[base..base + cols]);
        } else {
            for (j, r) in row[..cols].iter_mut().enumerate() {
                *r = b[base + j * cs];
            }
        }
        row[cols..].iter_mut().for_each(|r| *r = T::default());
    }
}

macro_rules! micro_kernel {
    ($name:ident, $t:ty, $lanes:expr, $zero:ident, $load:ident, $load1:ident, $bcast:ident, $set1:ident,
     $fmadd:ident, $mul:ident, $storeu:ident, [$(($ra:ident, $rb:ident, $i:expr)),*]) => {
        /// AVX-512 micro-kernel: 12 rows × 2 vectors of accumulators, written out so that
        /// they stay in registers (no arrays, no bounds or alignment checks in the loop).
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $name(kc: usize, ap: *const $t, bp: *const $t, c: *mut $t, ldc: usize, beta: $t, accumulate: bool) {
            use std::arch::x86_64::*;
            const L: usize = $lanes;
            $( let mut $ra = $zero(); let mut $rb = $zero(); )*
            // Bring the C tile towards L1 while the products run (its rows are `ldc` apart).
            $(
                _mm_prefetch::<_MM_HINT_T0>(c.add($i * ldc) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(c.add($i * ldc + 2 * L - 1) as *const i8);
            )*
            let mut a = ap;
            let mut b = bp;
            // One step of k: two vectors of B, twelve broadcasts of A, 24 FMAs. `$pf` steps
            // ahead the B stream (from L2) is prefetched into L1.
            macro_rules! step {
                ($off:expr) => {{
                    let b0 = $load(b.add($off * 2 * L));
                    let b1 = $load(b.add($off * 2 * L + L));
                    $(
                        let ai = $bcast($load1(a.add($off * MR + $i)));
                        $ra = $fmadd(ai, b0, $ra);
                        $rb = $fmadd(ai, b1, $rb);
                    )*
                }};
            }
            let mut left = kc;
            while left >= 4 {
                _mm_prefetch::<_MM_HINT_T0>(b.add(16 * L) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(b.add(18 * L) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(b.add(20 * L) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(b.add(22 * L) as *const i8);
                step!(0);
                step!(1);
                step!(2);
                step!(3);
                a = a.add(4 * MR);
                b = b.add(8 * L);
                left -= 4;
            }
            while left > 0 {
                step!(0);
                a = a.add(MR);
                b = b.add(2 * L);
                left -= 1;
            }
            let vb = $set1(beta);
            $(
                let p = c.add($i * ldc);
                if accumulate {
                    $storeu(p, $fmadd(vb, $ra, $load(p)));
                    $storeu(p.add(L), $fmadd(vb, $rb, $load(p.add(L))));
                } else {
                    $storeu(p, $mul(vb, $ra));
                    $storeu(p.add(L), $mul(vb, $rb));
                }
            )*
        }
    };
}

micro_kernel!(
    kernel_f32,
    f32,
    16,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm_load_ss,
    _mm512_broadcastss_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_mul_ps,
    _mm512_storeu_ps,
    [
        (r0a, r0b, 0),
        (r1a, r1b, 1),
        (r2a, r2b, 2),
        (r3a, r3b, 3),
        (r4a, r4b, 4),
        (r5a, r5b, 5),
        (r6a, r6b, 6),
        (r7a, r7b, 7),
        (r8a, r8b, 8),
        (r9a, r9b, 9),
        (r10a, r10b, 10),
        (r11a, r11b, 11)
    ]
);
micro_kernel!(
    kernel_f64,
    f64,
    8,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm_load_sd,
    _mm512_broadcastsd_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_mul_pd,
    _mm512_storeu_pd,
    [
        (r0a, r0b, 0),
        (r1a, r1b, 1),
        (r2a, r2b, 2),
        (r3a, r3b, 3),
        (r4a, r4b, 4),
        (r5a, r5b, 5),
        (r6a, r6b, 6),
        (r7a, r7b, 7),
        (r8a, r8b, 8),
        (r9a, r9b, 9),
        (r10a, r10b, 10),
        (r11a, r11b, 11)
    ]
);

/// Transposes 16 rows of 16 f32 (`r[i]` lane `p`) so that `r[p]` lane `i` holds them:
/// unpack 32-bit, unpack 64-bit, then two rounds of 128-bit lane shuffles.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn transpose_16x16(r: &mut [std::arch::x86_64::__m512; 16]) {
    use std::arch::x86_64::*;
    let mut t = [_mm512_setzero_ps(); 16];
    for g in 0..8 {
        t[2 * g] = _mm512_unpacklo_ps(r[2 * g], r[2 * g + 1]);
        t[2 * g + 1] = _mm512_unpackhi_ps(r[2 * g], r[2 * g + 1]);
    }
    // u[4g + c], 128-bit lane L: rows 4g..4g+4 of column 4L + c.
    let mut u = [_mm512_setzero_ps(); 16];
    for g in 0..4 {
        let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
        let (a, b, c, d) = (
            _mm512_castps_pd(a),
            _mm512_castps_pd(b),
            _mm512_castps_pd(c),
            _mm512_castps_pd(d),
        );
        u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    let mut v = [_mm512_setzero_ps(); 16];
    for h in 0..2 {
        for c in 0..4 {
            let (a, b) = (u[8 * h + c], u[8 * h + 4 + c]);
            v[8 * h + c] = _mm512_shuffle_f32x4::<0x88>(a, b);
            v[8 * h + 4 + c] = _mm512_shuffle_f32x4::<0xdd>(a, b);
        }
    }
    for k in 0..8 {
        r[k] = _mm512_shuffle_f32x4::<0x88>(v[k], v[k + 8]);
        r[k + 8] = _mm512_shuffle_f32x4::<0xdd>(v[k], v[k + 8]);
    }
}

/// Transposes 8 rows of 8 f64 (`r[i]` lane `p` → `r[p]` lane `i`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn transpose_8x8(r: &mut [std::arch::x86_64::__m512d; 8]) {
    use std::arch::x86_64::*;
    let mut t = [_mm512_setzero_pd(); 8];
    for g in 0..4 {
        t[2 * g] = _mm512_unpacklo_pd(r[2 * g], r[2 * g + 1]);
        t[2 * g + 1] = _mm512_unpackhi_pd(r[2 * g], r[2 * g + 1]);
    }
    let u = [
        _mm512_shuffle_f64x2::<0x88>(t[0], t[2]),
        _mm512_shuffle_f64x2::<0x88>(t[1], t[3]),
        _mm512_shuffle_f64x2::<0x88>(t[4], t[6]),
        _mm512_shuffle_f64x2::<0x88>(t[5], t[7]),
        _mm512_shuffle_f64x2::<0xdd>(t[0], t[2]),
        _mm512_shuffle_f64x2::<0xdd>(t[1], t[3]),
        _mm512_shuffle_f64x2::<0xdd>(t[4], t[6]),
        _mm512_shuffle_f64x2::<0xdd>(t[5], t[7]),
    ];
    r[0] = _mm512_shuffle_f64x2::<0x88>(u[0], u[2]);
    r[4] = _mm512_shuffle_f64x2::<0xdd>(u[0], u[2]);
    r[1] = _mm512_shuffle_f64x2::<0x88>(u[1], u[3]);
    r[5] = _mm512_shuffle_f64x2::<0xdd>(u[1], u[3]);
    r[2] = _mm512_shuffle_f64x2::<0x88>(u[4], u[6]);
    r[6] = _mm512_shuffle_f64x2::<0xdd>(u[4], u[6]);
    r[3] = _mm512_shuffle_f64x2::<0x88>(u[5], u[7]);
    r[7] = _mm512_shuffle_f64x2::<0xdd>(u[5], u[7]);
}

/// [`pack_rows`] for f32: 16 depths at a time, masked loads at the end of the run (masked
/// lanes are not read), 12 lanes of each transposed vector stored.
///
/// # Safety
/// As [`PackedGemm::pack_rows_simd`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pack_rows_f32(rows: &[*const f32; MR], len: usize, dst: *mut f32) {
    use std::arch::x86_64::*;
    const STORE: __mmask16 = (1 << MR) - 1;
    let mut p0 = 0;
    while p0 < len {
        let w = (len - p0).min(16);
        let load: __mmask16 = if w == 16 { !0 } else { (1 << w) - 1 };
        let mut r = [_mm512_setzero_ps(); 16];
        for (v, &row) in r.iter_mut().zip(rows) {
            if !row.is_null() {
                // SAFETY: lanes p0..p0+w of the row are in bounds (caller); masked lanes
                // are not accessed. The prefetch (never faults) runs 512 bytes ahead: the
                // rows are far apart, so the hardware prefetchers see short runs only.
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(p0 + 128) as *const i8);
                    *v = _mm512_maskz_loadu_ps(load, row.add(p0));
                }
            }
        }
        transpose_16x16(&mut r);
        for (p, v) in r.iter().enumerate().take(w) {
            // SAFETY: MR lanes at depth p0 + p < len of `dst` (caller).
            unsafe { _mm512_mask_storeu_ps(dst.add((p0 + p) * MR), STORE, *v) };
        }
        p0 += 16;
    }
}

/// [`pack_rows`] for f64: 8 depths at a time, rows 0..8 and 8..12 transposed as two 8×8
/// blocks.
///
/// # Safety
/// As [`PackedGemm::pack_rows_simd`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pack_rows_f64(rows: &[*const f64; MR], len: usize, dst: *mut f64) {
    use std::arch::x86_64::*;
    const HIGH: __mmask8 = (1 << (MR - 8)) - 1;
    let mut p0 = 0;
    while p0 < len {
        let w = (len - p0).min(8);
        let load: __mmask8 = if w == 8 { !0 } else { (1 << w) - 1 };
        let mut lo = [_mm512_setzero_pd(); 8];
        let mut hi = [_mm512_setzero_pd(); 8];
        for (i, &row) in rows.iter().enumerate() {
            if !row.is_null() {
                // SAFETY: as in `pack_rows_f32`.
                let v = unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(p0 + 64) as *const i8);
                    _mm512_maskz_loadu_pd(load, row.add(p0))
                };
                if i < 8 {
                    lo[i] = v;
                } else {
                    hi[i - 8] = v;
                }
            }
        }
        transpose_8x8(&mut lo);
        transpose_8x8(&mut hi);
        for p in 0..w {
            // SAFETY: MR lanes at depth p0 + p < len of `dst` (caller).
            unsafe {
                let d = dst.add((p0 + p) * MR);
                _mm512_storeu_pd(d, lo[p]);
                _mm512_mask_storeu_pd(d.add(8), HIGH, hi[p]);
            }
        }
        p0 += 8;
    }
}

macro_rules! impl_packed_gemm {
    ($t:ty, $nr:expr, $mc:expr, $kernel:ident, $pack_rows:ident, $buf:ident) => {
        impl PackedGemm for $t {
            const NR: usize = $nr;
            const KC: usize = 256;
            const NC: usize = 480;
            const MC: usize = $mc;

            unsafe fn kernel(
                kc: usize,
                ap: *const $t,
                bp: *const $t,
                c: *mut $t,
                ldc: usize,
                beta: $t,
                accumulate: bool,
            ) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    $kernel(kc, ap, bp, c, ldc, beta, accumulate)
                }
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("packed_gemm::available() is false off x86_64")
            }

            unsafe fn pack_rows_simd(rows: &[*const $t; MR], len: usize, dst: *mut $t) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    $pack_rows(rows, len, dst)
                }
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("packed_gemm::available() is false off x86_64")
            }

            fn with_buffers<R>(f: impl FnOnce(&mut Vec<$t>, &mut Vec<$t>) -> R) -> R {
                $buf.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut bufs) => {
                        let (a, b) = &mut *bufs;
                        f(a, b)
                    }
                    // A product started on this thread is still running (a rayon worker
                    // steals work while it waits): use fresh buffers for this nested one.
                    Err(_) => f(&mut Vec::new(), &mut Vec::new()),
                })
            }
        }
    };
}

impl_packed_gemm!(f32, 32, 3072, kernel_f32, pack_rows_f32, BUF_F32);
impl_packed_gemm!(f64, 16, 1536, kernel_f64, pack_rows_f64, BUF_F64);

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], rs: usize, cs: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * rs + j * cs]).sum();
            }
        }
        c
    }

    fn check<T: PackedGemm>(m: usize, n: usize, k: usize, threads: usize, transposed: bool, tol: f64) {
        let a64: Vec<f64> = (0..m * k).map(|i| ((i * 7 + 3) % 13) as f64 / 13.0 - 0.5).collect();
        let b64: Vec<f64> = (0..k * n).map(|i| ((i * 5 + 1) % 11) as f64 / 11.0 - 0.5).collect();
        let (rs, cs) = if transposed { (1, k) } else { (n, 1) };
        let a: Vec<T> = a64.iter().map(|&x| T::from_f64(x)).collect();
        let b: Vec<T> = b64.iter().map(|&x| T::from_f64(x)).collect();
        let want = naive(m, n, k, &a64, &b64, rs, cs);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut c = vec![T::from_f64(f64::NAN); m * n];
        let ran = pool.install(|| gemm(m, n, k, &mut c, &a, &b, rs, cs, T::from_f64(2.0), false));
        if !ran {
            return; // no AVX-512 here; the gemm-crate fallback is tested through the backend
        }
        for (i, (&got, &w)) in c.iter().zip(&want).enumerate() {
            assert!(
                (got.to_f64() - 2.0 * w).abs() <= tol * (1.0 + w.abs()),
                "{m}x{n}x{k} [{i}]: {got:?} vs {}",
                2.0 * w
            );
        }
        // accumulate: C += 2AB → 4AB
        pool.install(|| gemm(m, n, k, &mut c, &a, &b, rs, cs, T::from_f64(2.0), true));
        for (&got, &w) in c.iter().zip(&want) {
            assert!((got.to_f64() - 4.0 * w).abs() <= 2.0 * tol * (1.0 + w.abs()));
        }
    }

    #[test]
    fn matches_naive_on_odd_and_blocked_shapes() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 33, 1),
            (13, 17, 5),
            (25, 65, 400),
            (37, 500, 3),
            (50, 31, 777),
        ] {
            for threads in [1, 2, 3] {
                for transposed in [false, true] {
                    check::<f32>(m, n, k, threads, transposed, 1e-4 * k as f64);
                    check::<f64>(m, n, k, threads, transposed, 1e-12 * k as f64);
                }
            }
        }
    }

    #[test]
    fn spans_several_row_and_column_blocks() {
        check::<f64>(1600, 500, 300, 2, false, 1e-10);
        check::<f32>(100, 1000, 400, 2, false, 1e-2);
        // Each of 2 workers takes 1,608 rows: two row blocks apiece.
        check::<f64>(3216, 490, 40, 2, false, 1e-11);
        // Too few rows to split them: the workers split the columns, several column and
        // depth blocks each (and an odd share with 3 workers).
        for threads in [2, 3] {
            check::<f32>(30, 1100, 600, threads, false, 1e-2);
            check::<f64>(30, 1100, 600, threads, true, 1e-10);
        }
    }

    fn check_pack_rows<T: PackedGemm>() {
        for len in [0, 1, 5, 8, 15, 16, 17, 33, 64, 250] {
            for present in [0usize, 1, 7, 8, 9, 12] {
                let data: Vec<Vec<T>> = (0..MR)
                    .map(|i| (0..len).map(|p| T::from_f64((i * 1000 + p) as f64)).collect())
                    .collect();
                // rows present: the first `present`, and row 10 always absent
                let rows: [Option<&[T]>; MR] = std::array::from_fn(|i| (i < present && i != 10).then(|| &data[i][..]));
                let mut dst = vec![T::from_f64(-1.0); len * MR + 3];
                pack_rows(&rows, len, &mut dst);
                for p in 0..len {
                    for i in 0..MR {
                        let want = if i < present && i != 10 {
                            (i * 1000 + p) as f64
                        } else {
                            0.0
                        };
                        assert_eq!(
                            dst[p * MR + i].to_f64(),
                            want,
                            "len {len} present {present} p {p} i {i}"
                        );
                    }
                }
                assert!(
                    dst[len * MR..].iter().all(|v| v.to_f64() == -1.0),
                    "wrote past the panel"
                );
            }
        }
    }

    #[test]
    fn pack_rows_transposes_every_length_and_row_set() {
        check_pack_rows::<f32>();
        check_pack_rows::<f64>();
    }

    #[test]
    fn empty_depth_zeroes_or_keeps() {
        let mut c = vec![1.0f32; 6];
        if gemm::<f32>(2, 3, 0, &mut c, &[], &[0.0], 3, 1, 1.0, false) {
            assert_eq!(c, vec![0.0; 6]);
        }
    }
}
