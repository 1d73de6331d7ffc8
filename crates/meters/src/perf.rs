//! Hardware counters through `perf_event_open` (crate `perf-event2`).
//!
//! Counted for every thread of this process, user space only (which
//! `perf_event_paranoid` ≤ 2 allows): instructions, cycles, last-level cache
//! misses (`PERF_COUNT_HW_CACHE_MISSES`, which Intel and AMD map to LLC
//! misses), and on Intel the `FP_ARITH_INST_RETIRED` raw events, weighted by
//! their lanes into measured FLOPs (the hardware counts an FMA twice, which is
//! METHODS.md's convention).
//!
//! Counters are opened per existing thread (`/proc/self/task`) at each
//! `start` rather than inherited, because a thread pool (rayon) exists before
//! the meter does and inheritance only reaches threads created later; threads
//! created inside a region are not counted. Each counter is scaled by
//! time-enabled / time-running when the kernel multiplexes it.
//!
//! Memory-controller traffic (uncore `cas_count_*`) is read by [`super::imc`], as
//! system-wide counters; [`summarize`] folds its counters into measured bytes.
//!
//! On most VMs the PMU is not exposed and opening a hardware event fails with
//! `ENOENT`; the meter is then unavailable with `hardware events not supported
//! (ENOENT; ...)`.

use super::{CounterValue, HardwareCounters, Meter, MeterError, Reading, Unavailable};
use crate::units::Flops;
use perf_event::events::{Hardware, Raw};
use perf_event::{Builder, Counter};
use std::collections::HashSet;
use std::io;
use std::path::Path;

/// Intel's `FP_ARITH_INST_RETIRED` event code.
const FP_ARITH: u64 = 0xC7;

/// One event braingap asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventSpec {
    /// Stored name.
    pub name: &'static str,
    /// A generic hardware event, or a raw config.
    pub event: EventKind,
    /// FLOPs per count, for floating-point events.
    pub flops_per_count: Option<f64>,
    /// Vendor required (`GenuineIntel`), if any.
    pub vendor: Option<&'static str>,
}

/// The event's encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// `PERF_TYPE_HARDWARE`.
    Hardware(Hardware),
    /// `PERF_TYPE_RAW` with this config (umask << 8 | event).
    Raw(u64),
}

fn fp(name: &'static str, umask: u64, lanes: f64) -> EventSpec {
    EventSpec {
        name,
        event: EventKind::Raw(umask << 8 | FP_ARITH),
        flops_per_count: Some(lanes),
        vendor: Some("GenuineIntel"),
    }
}

/// The events braingap asks for, in order.
pub fn event_specs() -> Vec<EventSpec> {
    let hw = |name, event| EventSpec {
        name,
        event: EventKind::Hardware(event),
        flops_per_count: None,
        vendor: None,
    };
    vec![
        hw("instructions", Hardware::INSTRUCTIONS),
        hw("cycles", Hardware::CPU_CYCLES),
        hw("llc_misses", Hardware::CACHE_MISSES),
        // Umask groupings as Intel's event lists name them (SCALAR, 4_FLOPS, 8_FLOPS).
        fp("fp_arith_scalar", 0x03, 1.0),
        fp("fp_arith_128b_packed_double", 0x04, 2.0),
        fp("fp_arith_4_flops", 0x18, 4.0),
        fp("fp_arith_8_flops", 0x60, 8.0),
        fp("fp_arith_512b_packed_single", 0x80, 16.0),
    ]
}

fn builder(spec: &EventSpec) -> Builder<'static> {
    match spec.event {
        EventKind::Hardware(event) => Builder::new(event),
        EventKind::Raw(config) => Builder::new(Raw::new(config)),
    }
}

fn errno_name(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ENOENT) => "ENOENT".into(),
        Some(libc::ENODEV) => "ENODEV".into(),
        Some(libc::EOPNOTSUPP) => "EOPNOTSUPP".into(),
        Some(libc::EACCES) => "EACCES".into(),
        Some(libc::EPERM) => "EPERM".into(),
        Some(libc::EINVAL) => "EINVAL".into(),
        Some(libc::EMFILE) => "EMFILE".into(),
        _ => error.to_string(),
    }
}

/// Turns a `perf_event_open` failure into a reason.
pub fn open_error(event: &str, error: &io::Error, paranoid: Option<i32>) -> MeterError {
    match error.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => MeterError::PerfParanoid {
            level: paranoid.unwrap_or(-99),
            event: event.to_string(),
            errno: errno_name(error),
        },
        Some(libc::ENOENT) | Some(libc::ENODEV) | Some(libc::EOPNOTSUPP) => MeterError::PerfUnsupported {
            event: event.to_string(),
            errno: errno_name(error),
            paranoid,
        },
        _ => MeterError::Perf {
            event: event.to_string(),
            message: error.to_string(),
        },
    }
}

/// `/proc/sys/kernel/perf_event_paranoid`, if readable.
pub fn paranoid_level(proc_root: &Path) -> Option<i32> {
    std::fs::read_to_string(proc_root.join("sys/kernel/perf_event_paranoid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The `vendor_id` of the first CPU in `cpuinfo`.
pub fn cpu_vendor(proc_root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(proc_root.join("cpuinfo")).ok()?;
    text.lines()
        .find(|l| l.starts_with("vendor_id"))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.trim().to_string())
}

struct OpenCounter {
    spec: usize,
    counter: Counter,
    /// (count, time enabled ns, time running ns) at `start`.
    base: (u64, u64, u64),
}

fn read_triple(counter: &mut Counter) -> io::Result<(u64, u64, u64)> {
    let data = counter.read_full()?;
    Ok((
        data.count(),
        data.time_enabled().map_or(0, |d| d.as_nanos() as u64),
        data.time_running().map_or(0, |d| d.as_nanos() as u64),
    ))
}

/// The perf meter: the events that opened, per thread.
pub struct PerfMeter {
    specs: Vec<EventSpec>,
    counters: Vec<OpenCounter>,
    threads: HashSet<i32>,
    paranoid: Option<i32>,
    open_failures: Vec<String>,
    started: bool,
}

impl PerfMeter {
    /// Tries each event on the calling thread. Returns the meter if any event
    /// opened, and a reason for each event that did not.
    pub fn detect(proc_root: &Path) -> (Option<PerfMeter>, Vec<Unavailable>) {
        let paranoid = paranoid_level(proc_root);
        let vendor = cpu_vendor(proc_root).unwrap_or_else(|| "unknown".into());
        let mut working = Vec::new();
        let mut missing = Vec::new();
        for spec in event_specs() {
            if let Some(needs) = spec.vendor {
                if needs != vendor {
                    missing.push(Unavailable::new(
                        &format!("perf:{}", spec.name),
                        &MeterError::WrongVendor {
                            event: spec.name.into(),
                            needs: needs.into(),
                            found: vendor.clone(),
                        },
                    ));
                    continue;
                }
            }
            match builder(&spec).build() {
                Ok(_) => working.push(spec),
                Err(error) => {
                    missing.push(Unavailable::new(
                        &format!("perf:{}", spec.name),
                        &open_error(spec.name, &error, paranoid),
                    ));
                }
            }
        }
        if working.is_empty() {
            // The meter-level reason is the first event's.
            if let Some(first) = missing.first().cloned() {
                missing.insert(
                    0,
                    Unavailable {
                        meter: "perf".into(),
                        reason: first.reason,
                    },
                );
            }
            return (None, missing);
        }
        let meter = PerfMeter {
            specs: working,
            counters: Vec::new(),
            threads: HashSet::new(),
            paranoid,
            open_failures: Vec::new(),
            started: false,
        };
        (Some(meter), missing)
    }

    /// Opens counters on threads not yet observed.
    fn attach_new_threads(&mut self) {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return;
        };
        let tids: Vec<i32> = tasks
            .filter_map(|t| t.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        for tid in tids {
            if !self.threads.insert(tid) {
                continue;
            }
            for (index, spec) in self.specs.iter().enumerate() {
                let opened = builder(spec)
                    .observe_pid(tid)
                    .enabled(true)
                    .build()
                    .and_then(|mut counter| {
                        let base = read_triple(&mut counter)?;
                        Ok(OpenCounter {
                            spec: index,
                            counter,
                            base,
                        })
                    });
                match opened {
                    Ok(counter) => self.counters.push(counter),
                    // A thread that exited meanwhile (ESRCH) is simply gone.
                    Err(error) if error.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(error) => self.open_failures.push(format!(
                        "thread {tid}: {}",
                        open_error(spec.name, &error, self.paranoid)
                    )),
                }
            }
        }
    }

    fn collect(&mut self) -> Reading {
        let mut sums: Vec<(f64, f64, Option<String>)> = vec![(0.0, 1.0, None); self.specs.len()];
        for open in &mut self.counters {
            let sum = &mut sums[open.spec];
            match read_triple(&mut open.counter) {
                Ok((count, enabled, running)) => {
                    let d_count = count.saturating_sub(open.base.0) as f64;
                    let d_enabled = enabled.saturating_sub(open.base.1) as f64;
                    let d_running = running.saturating_sub(open.base.2) as f64;
                    if d_running > 0.0 {
                        sum.0 += d_count * (d_enabled / d_running).max(1.0);
                        sum.1 = sum.1.min(d_running / d_enabled.max(d_running));
                    } else if d_enabled > 0.0 {
                        // Enabled but never scheduled on the PMU: nothing to scale.
                        sum.1 = 0.0;
                    }
                }
                Err(error) => sum.2 = Some(format!("read failed: {error}")),
            }
        }
        let counters = self
            .specs
            .iter()
            .zip(sums)
            .map(|(spec, (value, fraction, error))| {
                let (value, reason) = match error {
                    Some(reason) => (None, Some(reason)),
                    None if fraction == 0.0 => (None, Some("never scheduled on the PMU (multiplexed out)".into())),
                    None => (Some(value), None),
                };
                CounterValue {
                    name: spec.name.to_string(),
                    value,
                    running_fraction: Some(fraction),
                    reason,
                }
            })
            .collect();
        Reading {
            domains: Vec::new(),
            counters,
            timeline: Vec::new(),
        }
    }
}

/// Folds raw counters into the record's summary (measured FLOPs only when
/// every floating-point event was read).
pub fn summarize(counters: &[CounterValue]) -> HardwareCounters {
    let value = |name: &str| counters.iter().find(|c| c.name == name).and_then(|c| c.value);
    let specs = event_specs();
    let fp_specs: Vec<&EventSpec> = specs.iter().filter(|s| s.flops_per_count.is_some()).collect();
    let fp_values: Option<Vec<f64>> = fp_specs
        .iter()
        .map(|s| value(s.name).map(|v| v * s.flops_per_count.unwrap_or(0.0)))
        .collect();
    HardwareCounters {
        instructions: value("instructions"),
        cycles: value("cycles"),
        llc_misses: value("llc_misses"),
        measured_flops: fp_values.map(|v| Flops(v.iter().sum())),
        // Read plus write traffic of every memory controller, when both were read.
        measured_bytes: value("imc_read_bytes")
            .zip(value("imc_write_bytes"))
            .map(|(r, w)| crate::units::Bytes(r + w)),
        counters: counters.to_vec(),
        reason: None,
    }
}

impl Meter for PerfMeter {
    fn name(&self) -> &'static str {
        "perf"
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self.specs.iter().map(|s| s.name).collect();
        format!("{} (per thread, user space)", names.join(", "))
    }

    fn start(&mut self) -> Result<(), MeterError> {
        self.attach_new_threads();
        for open in &mut self.counters {
            if let Ok(base) = read_triple(&mut open.counter) {
                open.base = base;
            }
        }
        self.started = true;
        Ok(())
    }

    fn read(&mut self) -> Result<Reading, MeterError> {
        if !self.started {
            return Err(MeterError::NotStarted("perf"));
        }
        Ok(self.collect())
    }

    fn stop(&mut self) -> Result<Reading, MeterError> {
        if !self.started {
            return Err(MeterError::NotStarted("perf"));
        }
        self.started = false;
        let mut reading = self.collect();
        if self.counters.is_empty() {
            let why = self
                .open_failures
                .first()
                .cloned()
                .unwrap_or_else(|| "no thread could be observed".into());
            for counter in &mut reading.counters {
                counter.value = None;
                counter.reason = Some(why.clone());
            }
        }
        Ok(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_reasons() {
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(
            open_error("cycles", &enoent, Some(2)).to_string(),
            "hardware events not supported (ENOENT; cycles; perf_event_paranoid=2)"
        );
        let eacces = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(
            open_error("cycles", &eacces, Some(3)).to_string(),
            "perf_event_paranoid=3 (cycles: EACCES)"
        );
    }

    #[test]
    fn flops_are_weighted_by_lanes() {
        let counters: Vec<CounterValue> = event_specs()
            .iter()
            .map(|s| CounterValue {
                name: s.name.into(),
                value: Some(10.0),
                running_fraction: Some(1.0),
                reason: None,
            })
            .collect();
        let summary = summarize(&counters);
        // 10 · (1 + 2 + 4 + 8 + 16)
        assert_eq!(summary.measured_flops, Some(Flops(310.0)));
        assert_eq!(summary.instructions, Some(10.0));
        // One FP event missing: no measured FLOPs rather than an undercount.
        let partial: Vec<CounterValue> = counters.into_iter().filter(|c| c.name != "fp_arith_4_flops").collect();
        assert_eq!(summarize(&partial).measured_flops, None);
    }

    #[test]
    fn detect_never_panics_and_explains() {
        let (meter, missing) = PerfMeter::detect(Path::new("/proc"));
        if meter.is_none() {
            assert_eq!(missing[0].meter, "perf");
            assert!(!missing[0].reason.is_empty());
        }
    }

    #[test]
    fn memory_traffic_becomes_measured_bytes_only_when_both_directions_read() {
        let counter = |name: &str, value: Option<f64>| CounterValue {
            name: name.into(),
            value,
            running_fraction: Some(1.0),
            reason: None,
        };
        let both = [
            counter("imc_read_bytes", Some(640.0)),
            counter("imc_write_bytes", Some(64.0)),
        ];
        assert_eq!(summarize(&both).measured_bytes, Some(crate::units::Bytes(704.0)));
        let one = [counter("imc_read_bytes", Some(640.0)), counter("imc_write_bytes", None)];
        assert_eq!(summarize(&one).measured_bytes, None);
    }
}
