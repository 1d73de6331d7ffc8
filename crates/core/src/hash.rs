//! Stable 64-bit mixes: SplitMix64 (seeded inputs, run-id salts). Stable across Rust
//! releases, unlike `DefaultHasher`; FNV-1a for text is [`crate::machine::fnv1a`].

/// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche. `#[inline]`: the
/// kernels call it per element when they fill their inputs.
#[inline]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_published_first_outputs() {
        // Vigna's splitmix64.c with seed 0: the generator adds the constant before mixing,
        // so its first three outputs are these mixes of 1, 2 and 3 times the constant less one.
        let mut state = 0u64;
        let mut next = || {
            let out = splitmix64(state);
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            out
        };
        assert_eq!(next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(next(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(next(), 0x06C4_5D18_8009_454F);
    }
}
