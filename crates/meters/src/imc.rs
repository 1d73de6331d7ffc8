//! Memory-controller traffic from Intel's uncore IMC PMUs (`uncore_imc_N`), read through
//! `perf_event_open` as system-wide counters on the CPU each PMU's `cpumask` names.
//!
//! Each PMU is described in sysfs under `bus/event_source/devices/uncore_imc_N/`: its
//! `type`, the `cpumask` to open it on, the event strings `events/cas_count_read` and
//! `events/cas_count_write` (e.g. `event=0x04,umask=0x03`, decoded with the PMU's
//! `format/` files by `perf-event2`'s dynamic builder), and each event's `.scale` and `.unit`
//! (6.103515625e-5 MiB, i.e. one 64-byte line per CAS). Measured bytes are
//! `Σ_pmu Σ_event Δcount × scale × unit`, read and write summed, stored beside the analytic
//! byte count (`measured_bytes`).
//!
//! These counters are system-wide: they count every core's traffic, not only the
//! benchmark's, and they need `perf_event_paranoid` ≤ 0 or `CAP_PERFMON`. Where no IMC PMU
//! exists (AMD, most VMs, this project's KVM guest) the meter is unavailable with the
//! reason. The sysfs root follows the meter configuration's (`BRAINGAP_SYSFS_ROOT` for the CLI), so discovery is tested on fixture
//! trees; opening the counters needs the hardware.

use super::{CounterValue, Meter, MeterError, Reading, Unavailable};
use perf_event::events::Dynamic;
use perf_event::{Builder, Counter};
use std::path::{Path, PathBuf};

/// The CAS events read, and the counter name each becomes.
const EVENTS: [(&str, &str); 2] = [
    ("cas_count_read", "imc_read_bytes"),
    ("cas_count_write", "imc_write_bytes"),
];

/// One event of one IMC PMU, as found in sysfs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImcEvent {
    /// The PMU's sysfs directory.
    pub pmu: PathBuf,
    /// The event file name (`cas_count_read`).
    pub event: &'static str,
    /// The counter it adds to (`imc_read_bytes`).
    pub counter: &'static str,
    /// The CPU to open it on (first in `cpumask`).
    pub cpu: usize,
    /// Bytes per count (`scale` × `unit`).
    pub bytes_per_count: f64,
}

/// Finds every IMC PMU and its CAS events under `sysfs`.
pub fn discover(sysfs: &Path) -> Result<Vec<ImcEvent>, String> {
    let devices = sysfs.join("bus/event_source/devices");
    let mut pmus: Vec<PathBuf> = std::fs::read_dir(&devices)
        .map_err(|e| format!("{}: {e}", devices.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("uncore_imc"))
        .map(|e| e.path())
        .collect();
    if pmus.is_empty() {
        return Err(format!("no uncore_imc PMU under {}", devices.display()));
    }
    pmus.sort();
    let mut found = Vec::new();
    for pmu in pmus {
        let cpumask = pmu.join("cpumask");
        let cpu = std::fs::read_to_string(&cpumask)
            .map_err(|e| format!("{}: {e}", cpumask.display()))
            .and_then(|text| first_cpu(&text).ok_or_else(|| format!("{}: no CPU in {text:?}", cpumask.display())))?;
        for (event, counter) in EVENTS {
            let file = pmu.join("events").join(event);
            if !file.is_file() {
                return Err(format!("{} missing", file.display()));
            }
            let scale = read_number(&pmu.join("events").join(format!("{event}.scale"))).unwrap_or(1.0);
            let unit_path = pmu.join("events").join(format!("{event}.unit"));
            let unit = match std::fs::read_to_string(&unit_path) {
                Ok(text) => {
                    unit_bytes(text.trim()).ok_or_else(|| format!("{}: unknown unit {text:?}", unit_path.display()))?
                }
                Err(_) => 1.0,
            };
            found.push(ImcEvent {
                pmu: pmu.clone(),
                event,
                counter,
                cpu,
                bytes_per_count: scale * unit,
            });
        }
    }
    Ok(found)
}

fn read_number(path: &Path) -> Option<f64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// First CPU of a cpumask list such as `0`, `0,56` or `0-3`.
fn first_cpu(text: &str) -> Option<usize> {
    text.trim().split([',', '-']).next()?.trim().parse().ok()
}

/// Bytes in one `unit` as sysfs writes it.
fn unit_bytes(unit: &str) -> Option<f64> {
    match unit {
        "" | "B" | "Bytes" | "bytes" => Some(1.0),
        "KiB" => Some(1024.0),
        "MiB" => Some(1024.0 * 1024.0),
        "GiB" => Some(1024.0 * 1024.0 * 1024.0),
        _ => None,
    }
}

struct OpenEvent {
    spec: ImcEvent,
    counter: Counter,
    base: u64,
}

/// The IMC meter: system-wide CAS counters of every memory controller.
pub struct ImcMeter {
    open: Vec<OpenEvent>,
    started: bool,
}

impl ImcMeter {
    /// Discovers and opens the counters; `Err` with the reason when any cannot be.
    pub fn detect(sysfs: &Path, paranoid: Option<i32>) -> Result<ImcMeter, Unavailable> {
        let unavailable = |reason: String| Unavailable {
            meter: "perf:memory_traffic".into(),
            reason,
        };
        let specs = discover(sysfs).map_err(unavailable)?;
        let mut open = Vec::new();
        for spec in specs {
            let counter = Dynamic::builder(&spec.pmu)
                .and_then(|mut b| {
                    b.event(spec.event)?;
                    b.build().map_err(std::io::Error::other)
                })
                .and_then(|event| Builder::new(event).any_pid().one_cpu(spec.cpu).enabled(true).build())
                .map_err(|e| {
                    let hint = match paranoid {
                        Some(p) if p > 0 => {
                            format!(" (perf_event_paranoid={p}; uncore counters need 0 or CAP_PERFMON)")
                        }
                        _ => String::new(),
                    };
                    unavailable(format!("{}/{}: {e}{hint}", spec.pmu.display(), spec.event))
                })?;
            open.push(OpenEvent { spec, counter, base: 0 });
        }
        Ok(ImcMeter { open, started: false })
    }

    fn collect(&mut self) -> Reading {
        let mut counters: Vec<CounterValue> = EVENTS
            .iter()
            .map(|(_, name)| CounterValue {
                name: (*name).to_string(),
                value: Some(0.0),
                running_fraction: Some(1.0),
                reason: None,
            })
            .collect();
        for open in &mut self.open {
            let slot = counters
                .iter_mut()
                .find(|c| c.name == open.spec.counter)
                .expect("known counter");
            match open.counter.read() {
                Ok(count) => {
                    if let Some(v) = slot.value.as_mut() {
                        *v += count.saturating_sub(open.base) as f64 * open.spec.bytes_per_count;
                    }
                }
                Err(e) => {
                    slot.value = None;
                    slot.reason = Some(format!("{}: read failed: {e}", open.spec.pmu.display()));
                }
            }
        }
        Reading {
            counters,
            ..Reading::default()
        }
    }
}

impl Meter for ImcMeter {
    fn name(&self) -> &'static str {
        "imc"
    }

    fn describe(&self) -> String {
        let mut pmus: Vec<String> = self
            .open
            .iter()
            .map(|o| {
                o.spec
                    .pmu
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        pmus.dedup();
        format!("CAS read/write bytes, system-wide, from {}", pmus.join(", "))
    }

    fn start(&mut self) -> Result<(), MeterError> {
        for open in &mut self.open {
            open.base = open.counter.read().unwrap_or(0);
        }
        self.started = true;
        Ok(())
    }

    fn read(&mut self) -> Result<Reading, MeterError> {
        if !self.started {
            return Err(MeterError::NotStarted("imc"));
        }
        Ok(self.collect())
    }

    fn stop(&mut self) -> Result<Reading, MeterError> {
        if !self.started {
            return Err(MeterError::NotStarted("imc"));
        }
        self.started = false;
        Ok(self.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pmu(root: &Path, name: &str, cpumask: &str, unit: Option<&str>) {
        let dir = root.join("bus/event_source/devices").join(name);
        std::fs::create_dir_all(dir.join("events")).unwrap();
        std::fs::create_dir_all(dir.join("format")).unwrap();
        std::fs::write(dir.join("type"), "4242\n").unwrap();
        std::fs::write(dir.join("cpumask"), cpumask).unwrap();
        std::fs::write(dir.join("format/event"), "config:0-7\n").unwrap();
        std::fs::write(dir.join("format/umask"), "config:8-15\n").unwrap();
        for (event, umask) in [("cas_count_read", "0x0f"), ("cas_count_write", "0x30")] {
            std::fs::write(dir.join("events").join(event), format!("event=0x04,umask={umask}\n")).unwrap();
            std::fs::write(dir.join("events").join(format!("{event}.scale")), "6.103515625e-5\n").unwrap();
            if let Some(unit) = unit {
                std::fs::write(dir.join("events").join(format!("{event}.unit")), format!("{unit}\n")).unwrap();
            }
        }
    }

    #[test]
    fn finds_every_controller_and_scales_to_cache_lines() {
        let tmp = tempfile::tempdir().unwrap();
        pmu(tmp.path(), "uncore_imc_0", "0\n", Some("MiB"));
        pmu(tmp.path(), "uncore_imc_1", "0,56\n", Some("MiB"));
        std::fs::create_dir_all(tmp.path().join("bus/event_source/devices/cpu")).unwrap();
        let found = discover(tmp.path()).unwrap();
        assert_eq!(found.len(), 4);
        assert!(found.iter().all(|e| e.cpu == 0));
        // 6.103515625e-5 MiB = 64 bytes: one cache line per CAS.
        assert!(found.iter().all(|e| (e.bytes_per_count - 64.0).abs() < 1e-9));
        assert_eq!(found[0].counter, "imc_read_bytes");
        assert_eq!(found[1].counter, "imc_write_bytes");
        assert!(found[2].pmu.ends_with("uncore_imc_1"));
    }

    #[test]
    fn reasons_name_what_is_missing() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("bus/event_source/devices/cpu")).unwrap();
        assert!(discover(tmp.path()).unwrap_err().starts_with("no uncore_imc PMU under"));

        pmu(tmp.path(), "uncore_imc_0", "\n", Some("MiB"));
        assert!(discover(tmp.path()).unwrap_err().contains("no CPU"));

        let other = tempfile::tempdir().unwrap();
        pmu(other.path(), "uncore_imc_0", "3\n", Some("furlongs"));
        assert!(discover(other.path()).unwrap_err().contains("unknown unit"));

        let missing = tempfile::tempdir().unwrap();
        pmu(missing.path(), "uncore_imc_0", "0\n", None);
        std::fs::remove_file(
            missing
                .path()
                .join("bus/event_source/devices/uncore_imc_0/events/cas_count_write"),
        )
        .unwrap();
        assert!(discover(missing.path())
            .unwrap_err()
            .contains("cas_count_write missing"));
    }

    #[test]
    fn cpumask_forms() {
        assert_eq!(first_cpu("0\n"), Some(0));
        assert_eq!(first_cpu("28,84"), Some(28));
        assert_eq!(first_cpu("4-7"), Some(4));
        assert_eq!(first_cpu(""), None);
    }

    #[test]
    fn opening_on_a_fixture_fails_with_a_reason_not_a_panic() {
        // PMU type 4242 exists on no machine: the meter comes back unavailable, naming the
        // PMU, the event and the paranoid level.
        let tmp = tempfile::tempdir().unwrap();
        pmu(tmp.path(), "uncore_imc_0", "0\n", Some("MiB"));
        let Err(u) = ImcMeter::detect(tmp.path(), Some(2)) else {
            panic!("a counter of PMU type 4242 opened");
        };
        assert_eq!(u.meter, "perf:memory_traffic");
        assert!(u.reason.contains("uncore_imc_0/cas_count_read"), "{}", u.reason);
        assert!(u.reason.contains("perf_event_paranoid=2"), "{}", u.reason);
    }
}
