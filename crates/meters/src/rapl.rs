//! CPU energy from RAPL through Linux powercap (`intel-rapl`, `amd-rapl`).
//!
//! Zones live under `<sysfs>/class/powercap/`: `intel-rapl:N` is socket N's
//! package (or, named `psys`, the platform), `intel-rapl:N:M` its subdomains
//! (`core`, `uncore`, `dram`). AMD parts appear either under the same
//! `intel-rapl` control type or as `amd-rapl:N`; both are read. The
//! `intel-rapl-mmio` zones duplicate the MSR package zones and are skipped.
//!
//! Every domain is reported, but only `package` and `dram` are *counted* in
//! the total, per socket: `core` and `uncore` are parts of `package` (adding
//! them would count their energy twice) and `psys` spans the whole platform.
//! Where a socket has no `package` zone, its `core` and `uncore` are counted.
//!
//! `energy_uj` wraps at `max_energy_range_uj`. A [`BackgroundSampler`] reads
//! the counters often enough that at most one wrap happens between reads (see
//! [`crate::sampler`] for the interval), and every decrease is undone
//! by adding the range. A decrease whose wrap-corrected increment exceeds half
//! the range cannot be a wrap at that interval, so it is reported as a counter
//! that went backwards; a decrease with no known range cannot be undone. Either
//! way that domain's energy is left empty with the reason, and the run goes on.

use super::sampler::{sampling_interval, Poll, SampledMeter, SampledState};
use super::{DomainEnergy, EnergySource, MeterError, PowerSample, Reading};
use crate::units::{Joules, Seconds, Watts};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reads a sysfs file to a string; replaceable so tests can inject faults
/// (root ignores file modes, so a permission error cannot always be staged on disk).
pub type SysfsReader = Arc<dyn Fn(&Path) -> io::Result<String> + Send + Sync>;

/// The reader that uses the file system.
pub fn fs_reader() -> SysfsReader {
    Arc::new(|path: &Path| std::fs::read_to_string(path))
}

/// What a zone measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainKind {
    /// Whole package (cores, caches, uncore).
    Package,
    /// Cores only (inside package).
    Core,
    /// Uncore/graphics (inside package).
    Uncore,
    /// Memory.
    Dram,
    /// Platform (whole SoC and more).
    Psys,
    /// Anything else, by its name.
    Other(String),
}

impl DomainKind {
    fn from_name(name: &str) -> DomainKind {
        match name {
            n if n.starts_with("package") => DomainKind::Package,
            "core" => DomainKind::Core,
            "uncore" => DomainKind::Uncore,
            "dram" => DomainKind::Dram,
            "psys" => DomainKind::Psys,
            other => DomainKind::Other(other.to_string()),
        }
    }

    fn label(&self) -> &str {
        match self {
            DomainKind::Package => "package",
            DomainKind::Core => "core",
            DomainKind::Uncore => "uncore",
            DomainKind::Dram => "dram",
            DomainKind::Psys => "psys",
            DomainKind::Other(name) => name,
        }
    }
}

/// One powercap zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The zone's directory.
    pub dir: PathBuf,
    /// Socket label, e.g. `package-0` (or `psys`).
    pub unit: String,
    /// What it measures.
    pub kind: DomainKind,
    /// `max_energy_range_uj`, if present and readable.
    pub range_uj: Option<u64>,
    /// Why the range is unknown.
    pub range_note: Option<String>,
    /// Whether the zone enters the total.
    pub counted: bool,
}

impl Zone {
    fn energy_path(&self) -> PathBuf {
        self.dir.join("energy_uj")
    }
}

/// Parses `intel-rapl:0`, `amd-rapl:1:2` into (socket zone, subzone).
fn parse_zone_name(name: &str) -> Option<(u32, Option<u32>)> {
    let rest = name
        .strip_prefix("intel-rapl:")
        .or_else(|| name.strip_prefix("amd-rapl:"))?;
    let mut parts = rest.split(':');
    let top = parts.next()?.parse().ok()?;
    let sub = match parts.next() {
        Some(sub) => Some(sub.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((top, sub))
}

fn io_error(path: &Path, error: &io::Error) -> MeterError {
    match error.kind() {
        io::ErrorKind::PermissionDenied => MeterError::PermissionDenied {
            path: path.to_path_buf(),
        },
        _ => MeterError::Read {
            path: path.to_path_buf(),
            message: error.to_string(),
        },
    }
}

fn read_trimmed(reader: &SysfsReader, path: &Path) -> Result<String, MeterError> {
    reader(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| io_error(path, &e))
}

fn read_u64(reader: &SysfsReader, path: &Path) -> Result<u64, MeterError> {
    let text = read_trimmed(reader, path)?;
    text.parse().map_err(|_| MeterError::Malformed {
        path: path.to_path_buf(),
        content: text.chars().take(40).collect(),
    })
}

/// Finds the RAPL zones under `sysfs`.
pub fn discover(sysfs: &Path, reader: &SysfsReader) -> Result<Vec<Zone>, MeterError> {
    let class = sysfs.join("class").join("powercap");
    let entries = std::fs::read_dir(&class).map_err(|_| MeterError::NoPowercap { path: class.clone() })?;
    let mut found: Vec<(u32, Option<u32>, PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let (top, sub) = parse_zone_name(&name)?;
            Some((top, sub, entry.path()))
        })
        .collect();
    if found.is_empty() {
        return Err(MeterError::NoPowercap { path: class });
    }
    found.sort();

    let mut zones = Vec::new();
    let mut units: Vec<(u32, String)> = Vec::new();
    for (top, sub, dir) in found {
        // A zone without a readable name is still measured, under its directory name.
        let name = read_trimmed(reader, &dir.join("name")).unwrap_or_else(|_| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let kind = DomainKind::from_name(&name);
        let unit = match sub {
            None => {
                let unit = name.clone();
                units.push((top, unit.clone()));
                unit
            }
            Some(_) => units
                .iter()
                .find(|(t, _)| *t == top)
                .map(|(_, u)| u.clone())
                .unwrap_or_else(|| format!("package-{top}")),
        };
        let (range_uj, range_note) = match read_u64(reader, &dir.join("max_energy_range_uj")) {
            Ok(range) if range > 0 => (Some(range), None),
            Ok(_) => (None, Some("max_energy_range_uj is 0".to_string())),
            Err(error) => (None, Some(error.to_string())),
        };
        zones.push(Zone {
            dir,
            unit,
            kind,
            range_uj,
            range_note,
            counted: false,
        });
    }
    mark_counted(&mut zones);
    Ok(zones)
}

/// Package and DRAM count; core and uncore only where their socket has no package.
fn mark_counted(zones: &mut [Zone]) {
    let with_package: Vec<String> = zones
        .iter()
        .filter(|z| z.kind == DomainKind::Package)
        .map(|z| z.unit.clone())
        .collect();
    for zone in zones.iter_mut() {
        zone.counted = match zone.kind {
            DomainKind::Package | DomainKind::Dram => true,
            DomainKind::Core | DomainKind::Uncore => !with_package.contains(&zone.unit),
            DomainKind::Psys | DomainKind::Other(_) => false,
        };
    }
}

/// Accumulates a wrapping µJ counter. Pure: fed raw readings, no I/O.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterTrack {
    range: Option<u64>,
    last: u64,
    accumulated_uj: u128,
}

impl CounterTrack {
    /// Starts at `first` for a counter wrapping at `range`.
    pub fn new(first: u64, range: Option<u64>) -> CounterTrack {
        CounterTrack {
            range,
            last: first,
            accumulated_uj: 0,
        }
    }

    /// Takes the next raw reading; returns the increment in µJ.
    pub fn advance(&mut self, current: u64, path: &Path) -> Result<u64, MeterError> {
        if let Some(range) = self.range {
            if current > range {
                return Err(MeterError::Malformed {
                    path: path.to_path_buf(),
                    content: format!("{current} exceeds max_energy_range_uj {range}"),
                });
            }
        }
        let delta = if current >= self.last {
            current - self.last
        } else {
            let Some(range) = self.range else {
                return Err(MeterError::WrapWithoutRange {
                    path: path.to_path_buf(),
                    previous: self.last,
                    current,
                });
            };
            let wrapped = range - self.last + current;
            if wrapped > range / 2 {
                return Err(MeterError::CounterWentBackwards {
                    path: path.to_path_buf(),
                    previous: self.last,
                    current,
                    range,
                });
            }
            wrapped
        };
        self.last = current;
        self.accumulated_uj += u128::from(delta);
        Ok(delta)
    }

    /// Energy accumulated so far.
    pub fn energy(&self) -> Joules {
        Joules(self.accumulated_uj as f64 * 1e-6)
    }
}

struct ZoneState {
    zone: Zone,
    track: Option<CounterTrack>,
    fault: Option<MeterError>,
    /// Accumulated energy at the last timeline point.
    timeline_mark: Joules,
}

/// The zones of a [`RaplMeter`] and what they accrued in the open region.
pub struct RaplState {
    zones: Vec<ZoneState>,
    reader: SysfsReader,
    active: bool,
    region_start: Instant,
    timeline: Option<Vec<PowerSample>>,
    timeline_mark: Instant,
}

impl RaplState {
    fn begin(&mut self) {
        let now = Instant::now();
        self.active = true;
        self.region_start = now;
        self.timeline_mark = now;
        if let Some(timeline) = &mut self.timeline {
            timeline.clear();
        }
        for state in &mut self.zones {
            state.timeline_mark = Joules(0.0);
            match read_u64(&self.reader, &state.zone.energy_path()) {
                Ok(raw) => {
                    state.track = Some(CounterTrack::new(raw, state.zone.range_uj));
                    state.fault = None;
                }
                Err(error) => {
                    state.track = None;
                    state.fault = Some(error);
                }
            }
        }
    }

    fn sample(&mut self) {
        for state in &mut self.zones {
            if state.fault.is_some() {
                continue;
            }
            let Some(track) = &mut state.track else {
                continue;
            };
            let path = state.zone.energy_path();
            let result = read_u64(&self.reader, &path).and_then(|raw| track.advance(raw, &path));
            if let Err(error) = result {
                state.fault = Some(error);
            }
        }
    }

    fn timeline_point(&mut self, now: Instant) {
        let Some(timeline) = &mut self.timeline else {
            return;
        };
        let dt = now.duration_since(self.timeline_mark).as_secs_f64();
        if dt <= 0.0 {
            return;
        }
        let t = Seconds(now.duration_since(self.region_start).as_secs_f64());
        for state in &mut self.zones {
            let (Some(track), None) = (&state.track, &state.fault) else {
                continue;
            };
            let energy = track.energy();
            timeline.push(PowerSample {
                t,
                domain: format!("{}/{}", state.zone.unit, state.zone.kind.label()),
                power: Watts((energy.get() - state.timeline_mark.get()) / dt),
            });
            state.timeline_mark = energy;
        }
        self.timeline_mark = now;
    }

    fn reading(&self) -> Reading {
        let domains = self
            .zones
            .iter()
            .map(|state| {
                let (energy, reason) = match (&state.fault, &state.track) {
                    (Some(fault), _) => (None, Some(fault.to_string())),
                    (None, Some(track)) => (Some(track.energy()), None),
                    (None, None) => (None, Some("not started".to_string())),
                };
                DomainEnergy {
                    source: EnergySource::Rapl,
                    unit: state.zone.unit.clone(),
                    domain: state.zone.kind.label().to_string(),
                    method: "counter".into(),
                    counted: state.zone.counted,
                    energy,
                    reason,
                }
            })
            .collect();
        Reading {
            domains,
            counters: Vec::new(),
            timeline: self.timeline.clone().unwrap_or_default(),
        }
    }
}

impl Poll for RaplState {
    fn poll(&mut self) {
        if self.active {
            self.sample();
            self.timeline_point(Instant::now());
        }
    }
}

impl SampledState for RaplState {
    const NAME: &'static str = "rapl";

    fn begin(&mut self) {
        RaplState::begin(self);
    }

    fn is_active(&self) -> bool {
        self.active
    }

    fn sample_now(&mut self) {
        self.sample();
    }

    fn end(&mut self) {
        self.timeline_point(Instant::now());
        self.active = false;
    }

    fn reading(&self) -> Reading {
        RaplState::reading(self)
    }
}

/// The RAPL meter: zones plus the background sampler that keeps them unwrapped.
pub type RaplMeter = SampledMeter<RaplState>;

impl RaplMeter {
    /// Finds the zones under `sysfs` and starts the sampler; fails when no
    /// zone can be read.
    pub fn detect(sysfs: &Path, timeline: Option<Duration>) -> Result<RaplMeter, MeterError> {
        RaplMeter::detect_with_reader(sysfs, timeline, fs_reader())
    }

    /// [`RaplMeter::detect`] with a given file reader (fault injection in tests).
    pub fn detect_with_reader(
        sysfs: &Path,
        timeline: Option<Duration>,
        reader: SysfsReader,
    ) -> Result<RaplMeter, MeterError> {
        let zones = discover(sysfs, &reader)?;
        // At least one counter must be readable, else the meter is unavailable
        // with the first zone's reason (typically the energy_uj permission).
        let mut first_error = None;
        let readable = zones
            .iter()
            .filter(|zone| match read_u64(&reader, &zone.energy_path()) {
                Ok(_) => true,
                Err(error) => {
                    first_error.get_or_insert(error);
                    false
                }
            })
            .count();
        if readable == 0 {
            return Err(first_error.unwrap_or(MeterError::NoPowercap {
                path: sysfs.join("class/powercap"),
            }));
        }
        let smallest_range = zones
            .iter()
            .filter_map(|z| z.range_uj)
            .min()
            .map(|uj| Joules(uj as f64 * 1e-6));
        let interval = sampling_interval(smallest_range, timeline);
        let description = describe_zones(&zones, interval);
        let now = Instant::now();
        let state = RaplState {
            zones: zones
                .into_iter()
                .map(|zone| ZoneState {
                    zone,
                    track: None,
                    fault: None,
                    timeline_mark: Joules(0.0),
                })
                .collect(),
            reader,
            active: false,
            region_start: now,
            timeline: timeline.map(|_| Vec::new()),
            timeline_mark: now,
        };
        SampledMeter::spawn(state, Some(interval), description)
    }
}

fn describe_zones(zones: &[Zone], interval: Duration) -> String {
    let list: Vec<String> = zones
        .iter()
        .map(|z| {
            let mut s = format!("{}/{}", z.unit, z.kind.label());
            if !z.counted {
                s.push_str(" (shown, not summed)");
            }
            if let Some(note) = &z.range_note {
                s.push_str(&format!(" (wrap cannot be undone: {note})"));
            }
            s
        })
        .collect();
    format!("{}; sampled every {:.3} s", list.join(", "), interval.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zone_names() {
        assert_eq!(parse_zone_name("intel-rapl:0"), Some((0, None)));
        assert_eq!(parse_zone_name("intel-rapl:1:2"), Some((1, Some(2))));
        assert_eq!(parse_zone_name("amd-rapl:0:0"), Some((0, Some(0))));
        assert_eq!(parse_zone_name("intel-rapl-mmio:0"), None);
        assert_eq!(parse_zone_name("intel-rapl"), None);
        assert_eq!(parse_zone_name("intel-rapl:0:1:2"), None);
    }

    #[test]
    fn wrap_is_undone() {
        let path = Path::new("energy_uj");
        let mut track = CounterTrack::new(900, Some(1000));
        assert_eq!(track.advance(950, path).unwrap(), 50);
        assert_eq!(track.advance(30, path).unwrap(), 80);
        assert!((track.energy().get() - 130e-6).abs() < 1e-12);
    }

    #[test]
    fn backwards_without_wrap_is_an_error() {
        let path = Path::new("energy_uj");
        let mut track = CounterTrack::new(500, Some(1000));
        let error = track.advance(400, path).unwrap_err();
        assert!(matches!(error, MeterError::CounterWentBackwards { .. }));
        assert!(error.to_string().contains("went backwards without a wrap"));
    }

    #[test]
    fn decrease_without_range_cannot_be_undone() {
        let mut track = CounterTrack::new(500, None);
        assert_eq!(track.advance(600, Path::new("e")).unwrap(), 100);
        let error = track.advance(10, Path::new("e")).unwrap_err();
        assert!(error.to_string().contains("max_energy_range_uj is missing"));
    }

    #[test]
    fn value_above_range_is_malformed() {
        let mut track = CounterTrack::new(5, Some(1000));
        assert!(matches!(
            track.advance(1001, Path::new("e")),
            Err(MeterError::Malformed { .. })
        ));
    }

    proptest! {
        /// Any sequence of increments below half the range, fed as wrapped raw
        /// readings, is recovered exactly.
        #[test]
        fn unwrapping_recovers_increments(
            range in 1_000u64..1_000_000_000,
            start_fraction in 0.0f64..1.0,
            steps in proptest::collection::vec(0.0f64..0.5, 0..50),
        ) {
            let start = ((range as f64) * start_fraction) as u64;
            let mut track = CounterTrack::new(start, Some(range));
            let mut raw = start;
            let mut total: u128 = 0;
            for step in steps {
                let inc = ((range as f64) * step) as u64;
                raw = (raw + inc) % (range + 1);
                // The model of the hardware: counts 0..=range then wraps to 0,
                // so one wrap loses 1 µJ relative to `range - last + current`.
                let got = track.advance(raw, Path::new("e")).unwrap();
                prop_assert!(got.abs_diff(inc) <= 1);
                total += u128::from(got);
            }
            prop_assert!((track.energy().get() - total as f64 * 1e-6).abs() < 1e-6);
        }
    }
}
