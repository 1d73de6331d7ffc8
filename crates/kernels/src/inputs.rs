//! Deterministic, seeded input data.
//!
//! Element `i` of a buffer is a pure function of `(seed, i)` (SplitMix64), so buffers can be
//! filled in parallel, regenerated element by element by a reference check, and are the
//! same whatever the thread count.

use super::Real;
use rayon::prelude::*;

pub use braingap_core::hash::splitmix64;

/// Uniform value in [0, 1) for element `index` of stream `seed` (53 random bits).
pub fn unit(seed: u64, index: u64) -> f64 {
    let bits = splitmix64(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ index);
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform value in [lo, hi) for element `index` of stream `seed`.
pub fn uniform(seed: u64, index: u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(seed, index)
}

/// Fills `buf` with uniform values in [lo, hi), in parallel, deterministically.
pub fn fill_uniform<T: Real>(buf: &mut [T], seed: u64, lo: f64, hi: f64) {
    const CHUNK: usize = 1 << 14;
    buf.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk, part)| {
        let base = (chunk * CHUNK) as u64;
        for (offset, slot) in part.iter_mut().enumerate() {
            *slot = T::from_f64(uniform(seed, base + offset as u64, lo, hi));
        }
    });
}

/// Buffers of at least this many bytes are backed by transparent huge pages where the
/// kernel allows it (numpy's threshold for the same advice).
pub const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// A zeroed buffer of `len` elements, not yet touched. When it spans at least
/// [`HUGE_PAGE_MIN_BYTES`], its pages are advised `MADV_HUGEPAGE` before the first touch,
/// as numpy does for its arrays: with transparent huge pages in `madvise` mode (the common
/// default) a large operand otherwise sits on 4 KiB pages, and a product that walks it with
/// a large row stride spends its time in TLB misses (twice as costly under a hypervisor's
/// nested paging). The advice is a hint: where THP is off, or on other systems, the buffer
/// is an ordinary one.
pub fn zeroed_vec<T: Real>(len: usize) -> Vec<T> {
    // `vec![0.0; len]` allocates zeroed memory (calloc: fresh, untouched pages when large).
    let buf = vec![T::default(); len];
    if std::mem::size_of_val(buf.as_slice()) >= HUGE_PAGE_MIN_BYTES {
        advise_huge_pages(&buf);
    }
    buf
}

/// Advises `MADV_HUGEPAGE` for the whole 4 KiB pages inside `buf` (see [`zeroed_vec`]);
/// only 2 MiB-aligned stretches of them can become huge pages. Best effort: errors are
/// ignored, and it does nothing off Linux.
pub fn advise_huge_pages<T>(buf: &[T]) {
    let bytes = std::mem::size_of_val(buf);
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (buf.as_ptr() as usize).div_ceil(PAGE) * PAGE;
        let end = (buf.as_ptr() as usize + bytes) / PAGE * PAGE;
        if end > start {
            // SAFETY: the range lies inside `buf`'s allocation; MADV_HUGEPAGE changes no
            // contents, only how later faults are backed.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

/// Allocates and fills a buffer of `len` uniform values in [lo, hi).
pub fn uniform_vec<T: Real>(len: usize, seed: u64, lo: f64, hi: f64) -> Vec<T> {
    let mut buf = zeroed_vec(len);
    fill_uniform(&mut buf, seed, lo, hi);
    buf
}

/// `count` distinct-ish sample positions in `0..len` (seeded; duplicates possible, harmless).
pub fn sample_positions(len: usize, count: usize, seed: u64) -> Vec<usize> {
    if len <= count {
        return (0..len).collect();
    }
    (0..count as u64)
        .map(|i| (splitmix64(seed ^ (i << 20) ^ 0xA5A5) % len as u64) as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_deterministic_and_in_range() {
        let a: Vec<f64> = uniform_vec(100_000, 7, -1.0, 1.0);
        let b: Vec<f64> = uniform_vec(100_000, 7, -1.0, 1.0);
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| (-1.0..1.0).contains(&x)));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        let c: Vec<f64> = uniform_vec(10, 8, -1.0, 1.0);
        assert_ne!(a[..10], c[..]);
        assert_eq!(a[12345], uniform(7, 12345, -1.0, 1.0));
    }

    #[test]
    fn sample_positions_stay_in_bounds() {
        assert_eq!(sample_positions(5, 10, 1), vec![0, 1, 2, 3, 4]);
        let s = sample_positions(1000, 64, 3);
        assert_eq!(s.len(), 64);
        assert!(s.iter().all(|&i| i < 1000));
    }

    /// The `VmFlags` line of the mapping in `/proc/self/smaps` that holds `addr`.
    #[cfg(target_os = "linux")]
    fn vm_flags(addr: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = range.split_once('-') {
                if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16)) {
                    inside = (lo..hi).contains(&addr);
                    continue;
                }
            }
            if inside && line.starts_with("VmFlags:") {
                return Some(line.to_string());
            }
        }
        None
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn large_buffers_are_advised_onto_huge_pages() {
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
        if !thp.contains("[madvise]") && !thp.contains("[always]") {
            braingap_core::diag!("transparent huge pages are off here ({}): nothing to check", thp.trim());
            return;
        }
        let buf: Vec<f64> = zeroed_vec(HUGE_PAGE_MIN_BYTES / 8 * 2);
        assert!(buf.iter().all(|&x| x == 0.0));
        // The first page may hold the allocator's header and is left out of the advice.
        let inner = buf.as_ptr() as usize + 2 * 4096;
        let flags = vm_flags(inner).expect("the buffer's mapping is in /proc/self/smaps");
        assert!(
            flags.split_whitespace().any(|f| f == "hg"),
            "not advised MADV_HUGEPAGE: {flags}"
        );
        // uniform_vec allocates through zeroed_vec.
        let filled: Vec<f32> = uniform_vec(HUGE_PAGE_MIN_BYTES / 4 * 2, 5, -1.0, 1.0);
        let flags = vm_flags(filled.as_ptr() as usize + 2 * 4096).expect("mapping listed");
        assert!(
            flags.split_whitespace().any(|f| f == "hg"),
            "not advised MADV_HUGEPAGE: {flags}"
        );
    }
}
