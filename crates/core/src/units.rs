//! Quantities as newtypes whose names carry their unit, with SI-prefixed `Display`.
//!
//! Arithmetic is deliberately sparse: only the operations the measurement code needs
//! (rates, ratios, sums) are provided, so that mixing units does not compile.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign};

/// Formats `value` with an SI prefix (n, µ, m, -, k, M, G, T, P, E) and `unit`.
pub fn si(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("{value} {unit}");
    }
    if value == 0.0 {
        return format!("0 {unit}");
    }
    const PREFIXES: [(f64, &str); 11] = [
        (1e18, "E"),
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
    ];
    let magnitude = value.abs();
    let (scale, prefix) = PREFIXES
        .iter()
        .copied()
        .find(|(scale, _)| magnitude >= *scale)
        .unwrap_or((1e-12, "p"));
    let scaled = value / scale;
    let digits = if scaled.abs() >= 100.0 {
        1
    } else if scaled.abs() >= 10.0 {
        2
    } else {
        3
    };
    format!("{scaled:.digits$} {prefix}{unit}")
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// The unit symbol this quantity is displayed in.
            pub const UNIT: &'static str = $unit;
            /// The raw value in base units.
            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&si(self.0, $unit))
            }
        }

        impl Add for $name {
            type Output = $name;
            fn add(self, rhs: $name) -> $name {
                $name(self.0 + rhs.0)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: $name) {
                self.0 += rhs.0;
            }
        }

        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(iter: I) -> $name {
                $name(iter.map(|q| q.0).sum())
            }
        }
    };
}

quantity!(
    /// A duration in seconds.
    Seconds, "s"
);
quantity!(
    /// A count of floating-point operations (an FMA is 2).
    Flops, "FLOP"
);
quantity!(
    /// A count of bytes moved.
    Bytes, "B"
);
quantity!(
    /// Energy in joules.
    Joules, "J"
);
quantity!(
    /// Power in watts.
    Watts, "W"
);
quantity!(
    /// A rate of floating-point operations per second.
    FlopsPerSecond, "FLOP/s"
);
quantity!(
    /// A rate of bytes per second.
    BytesPerSecond, "B/s"
);
quantity!(
    /// A clock frequency in hertz.
    Hertz, "Hz"
);

impl Flops {
    /// Work per unit time.
    pub fn per(self, time: Seconds) -> FlopsPerSecond {
        FlopsPerSecond(self.0 / time.0)
    }
    /// FLOP per byte of compulsory traffic.
    pub fn intensity(self, traffic: Bytes) -> Option<f64> {
        (traffic.0 > 0.0).then(|| self.0 / traffic.0)
    }
}

impl Bytes {
    /// Traffic per unit time.
    pub fn per(self, time: Seconds) -> BytesPerSecond {
        BytesPerSecond(self.0 / time.0)
    }
}

impl Joules {
    /// Average power over `time`.
    pub fn over(self, time: Seconds) -> Watts {
        Watts(self.0 / time.0)
    }
}

impl Watts {
    /// Energy spent at this power for `time`.
    pub fn times(self, time: Seconds) -> Joules {
        Joules(self.0 * time.0)
    }
}

impl Seconds {
    /// Converts from a `std::time::Duration`.
    pub fn from_duration(duration: std::time::Duration) -> Seconds {
        Seconds(duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes_pick_the_largest_fitting_scale() {
        assert_eq!(si(1.5e9, "FLOP/s"), "1.500 GFLOP/s");
        assert_eq!(si(123.0e12, "B/s"), "123.0 TB/s");
        assert_eq!(si(2.5e-6, "s"), "2.500 µs");
        assert_eq!(si(0.0, "J"), "0 J");
        assert_eq!(si(42.0, "W"), "42.00 W");
    }

    #[test]
    fn rates_and_intensity() {
        let flops = Flops(2.0e9);
        assert_eq!(flops.per(Seconds(0.5)), FlopsPerSecond(4.0e9));
        assert_eq!(flops.intensity(Bytes(1.0e9)), Some(2.0));
        assert_eq!(flops.intensity(Bytes(0.0)), None);
        assert_eq!(Joules(10.0).over(Seconds(2.0)), Watts(5.0));
        assert_eq!(Watts(20.0).times(Seconds(3.0)), Joules(60.0));
        assert_eq!(format!("{}", Joules(1500.0)), "1.500 kJ");
    }
}
