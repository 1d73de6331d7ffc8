//! Fixture-tree tests for the meter set: RAPL sysfs trees in temp dirs, the
//! fake NVML, and the model fallback.

use super::nvml::{FakeGpu, FakeNvml, NvmlApi};
use super::rapl::{RaplMeter, SysfsReader};
use super::*;
use crate::units::{Bytes, Flops, Seconds};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu avx2 fma avx512f amx_tile\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 fma avx512f amx_tile\n";

/// A sysfs + procfs tree in a temp dir.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sys/class/powercap")).unwrap();
        std::fs::create_dir_all(dir.path().join("proc/sys/kernel")).unwrap();
        std::fs::write(dir.path().join("proc/cpuinfo"), CPUINFO).unwrap();
        std::fs::write(dir.path().join("proc/sys/kernel/perf_event_paranoid"), "2\n").unwrap();
        Fixture { dir }
    }

    /// A fixture with no powercap directory at all.
    fn bare() -> Fixture {
        let fixture = Fixture::new();
        std::fs::remove_dir_all(fixture.dir.path().join("sys/class/powercap")).unwrap();
        fixture
    }

    fn sysfs(&self) -> std::path::PathBuf {
        self.dir.path().join("sys")
    }

    fn zone_dir(&self, zone: &str) -> std::path::PathBuf {
        self.sysfs().join("class/powercap").join(zone)
    }

    fn zone(&self, zone: &str, name: &str, energy_uj: u64, range_uj: Option<u64>) {
        let dir = self.zone_dir(zone);
        std::fs::create_dir_all(&dir).unwrap();
        self.write(zone, "name", &format!("{name}\n"));
        self.write(zone, "energy_uj", &format!("{energy_uj}\n"));
        if let Some(range) = range_uj {
            self.write(zone, "max_energy_range_uj", &format!("{range}\n"));
        }
    }

    /// Atomic, so the background sampler never sees a half-written file.
    fn write(&self, zone: &str, file: &str, content: &str) {
        let path = self.zone_dir(zone).join(file);
        let temporary = self.zone_dir(zone).join(format!(".{file}.tmp"));
        std::fs::write(&temporary, content).unwrap();
        std::fs::rename(temporary, path).unwrap();
    }

    fn energy(&self, zone: &str, energy_uj: u64) {
        self.write(zone, "energy_uj", &format!("{energy_uj}\n"));
    }

    fn config(&self) -> MeterConfig {
        MeterConfig {
            sysfs_root: Some(self.sysfs()),
            proc_root: Some(self.dir.path().join("proc")),
            skip_nvml: true,
            skip_perf: true,
            ..MeterConfig::default()
        }
    }

    fn meters(&self) -> MeterSet {
        MeterSet::detect_with_nvml(&self.config(), None)
    }
}

const WORK: WorkDone = WorkDone {
    elapsed: Seconds(2.0),
    flops: Flops(1e12),
    bytes: Bytes(1e9),
};

fn joules(record: &EnergyRecord) -> f64 {
    record
        .energy
        .unwrap_or_else(|| panic!("no energy: {:?}", record.reason))
        .get()
}

#[test]
fn one_domain() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 1_000_000, Some(262_143_328_850));
    let mut meters = fixture.meters();
    assert_eq!(meters.energy_source(), EnergySource::Rapl);
    meters.start();
    fixture.energy("intel-rapl:0", 31_000_000);
    let record = meters.stop(&WORK);
    assert_eq!(record.source, EnergySource::Rapl);
    assert!((joules(&record) - 30.0).abs() < 1e-9);
    assert!((record.avg_power.unwrap().get() - 15.0).abs() < 1e-9);
    assert_eq!(record.model, None, "measured records carry no model");
    assert_eq!(record.domains.len(), 1);
    assert_eq!(record.domains[0].unit, "package-0");
}

#[test]
fn several_domains_count_package_and_dram_only() {
    let fixture = Fixture::new();
    let range = Some(262_143_328_850);
    fixture.zone("intel-rapl:0", "package-0", 0, range);
    fixture.zone("intel-rapl:0:0", "core", 0, range);
    fixture.zone("intel-rapl:0:1", "uncore", 0, range);
    fixture.zone("intel-rapl:0:2", "dram", 0, range);
    fixture.zone("intel-rapl:1", "psys", 0, range);
    fixture.zone("intel-rapl-mmio:0", "package-0", 0, range);
    let mut meters = fixture.meters();
    meters.start();
    fixture.energy("intel-rapl:0", 10_000_000);
    fixture.energy("intel-rapl:0:0", 6_000_000);
    fixture.energy("intel-rapl:0:1", 1_000_000);
    fixture.energy("intel-rapl:0:2", 2_000_000);
    fixture.energy("intel-rapl:1", 50_000_000);
    let record = meters.stop(&WORK);
    // package 10 J + dram 2 J; core and uncore are inside package; psys spans the platform.
    assert!((joules(&record) - 12.0).abs() < 1e-9);
    let labels: Vec<(String, bool)> = record
        .domains
        .iter()
        .map(|d| (format!("{}/{}", d.unit, d.domain), d.counted))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("package-0/package".to_string(), true),
            ("package-0/core".to_string(), false),
            ("package-0/uncore".to_string(), false),
            ("package-0/dram".to_string(), true),
            ("psys/psys".to_string(), false),
        ],
        "mmio zone skipped"
    );
}

#[test]
fn two_sockets_are_summed() {
    let fixture = Fixture::new();
    let range = Some(262_143_328_850);
    fixture.zone("intel-rapl:0", "package-0", 0, range);
    fixture.zone("intel-rapl:0:0", "dram", 0, range);
    fixture.zone("intel-rapl:1", "package-1", 0, range);
    fixture.zone("intel-rapl:1:0", "dram", 0, range);
    let mut meters = fixture.meters();
    meters.start();
    fixture.energy("intel-rapl:0", 10_000_000);
    fixture.energy("intel-rapl:0:0", 1_000_000);
    fixture.energy("intel-rapl:1", 20_000_000);
    fixture.energy("intel-rapl:1:0", 2_000_000);
    let record = meters.stop(&WORK);
    assert!((joules(&record) - 33.0).abs() < 1e-9);
    let units: Vec<&str> = record.domains.iter().map(|d| d.unit.as_str()).collect();
    assert_eq!(units, ["package-0", "package-0", "package-1", "package-1"]);
}

#[test]
fn amd_rapl_zones_are_read() {
    let fixture = Fixture::new();
    fixture.zone("amd-rapl:0", "package-0", 5, Some(4_294_967_295));
    let mut meters = fixture.meters();
    meters.start();
    fixture.energy("amd-rapl:0", 2_000_005);
    assert!((joules(&meters.stop(&WORK)) - 2.0).abs() < 1e-9);
}

#[test]
fn wraparound_inside_a_benchmark_deterministic() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 900_000, Some(1_000_000));
    let mut meter = RaplMeter::detect(&fixture.sysfs(), None).unwrap();
    meter.start().unwrap();
    fixture.energy("intel-rapl:0", 990_000);
    meter.poll_now().unwrap();
    fixture.energy("intel-rapl:0", 50_000); // wrapped
    meter.poll_now().unwrap();
    fixture.energy("intel-rapl:0", 450_000);
    meter.poll_now().unwrap();
    fixture.energy("intel-rapl:0", 850_000);
    meter.poll_now().unwrap();
    fixture.energy("intel-rapl:0", 20_000); // wrapped again
    let reading = meter.stop().unwrap();
    // 90_000 + 60_000 + 400_000 + 400_000 + 170_000 µJ
    let energy = reading.domains[0].energy.unwrap().get();
    assert!((energy - 1.12).abs() < 1e-9, "{energy}");
}

#[test]
fn wraparound_caught_by_background_sampler() {
    let fixture = Fixture::new();
    // A 1 J range wraps fast enough that the sampler polls every millisecond.
    fixture.zone("intel-rapl:0", "package-0", 900_000, Some(1_000_000));
    let mut meters = fixture.meters();
    meters.start();
    let mut expected = 0u64;
    let mut raw = 900_000u64;
    for _ in 0..6 {
        let step = 300_000;
        raw = (raw + step) % 1_000_000;
        expected += step;
        fixture.energy("intel-rapl:0", raw);
        std::thread::sleep(Duration::from_millis(60));
    }
    let record = meters.stop(&WORK);
    assert!((joules(&record) - expected as f64 * 1e-6).abs() < 1e-5, "{record:?}");
}

fn denying(target: &'static str) -> SysfsReader {
    Arc::new(move |path: &Path| {
        if path.ends_with(target) {
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        } else {
            std::fs::read_to_string(path)
        }
    })
}

#[test]
fn permission_error_makes_rapl_unavailable_with_reason() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, Some(1_000_000_000));
    let error = RaplMeter::detect_with_reader(&fixture.sysfs(), None, denying("intel-rapl:0/energy_uj"))
        .err()
        .unwrap();
    let reason = Unavailable::new("rapl", &error).reason;
    assert!(reason.starts_with("permission denied on "), "{reason}");
    assert!(reason.ends_with("intel-rapl:0/energy_uj"), "{reason}");
}

#[test]
fn permission_error_on_one_domain_empties_the_total() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, Some(1_000_000_000));
    fixture.zone("intel-rapl:0:0", "dram", 0, Some(1_000_000_000));
    let meter = RaplMeter::detect_with_reader(&fixture.sysfs(), None, denying("intel-rapl:0:0/energy_uj")).unwrap();
    let mut meters = MeterSet::from_meters(
        vec![Box::new(meter)],
        Vec::new(),
        EnergyModel::default(),
        EnergyTarget::Auto,
    );
    meters.start();
    fixture.energy("intel-rapl:0", 1_000_000);
    let record = meters.stop(&WORK);
    assert_eq!(record.energy, None);
    assert_eq!(record.source, EnergySource::Unavailable);
    let reason = record.reason.clone().unwrap();
    assert!(
        reason.starts_with("rapl: package-0/dram: permission denied"),
        "{reason}"
    );
    // The readable domain is still reported.
    assert_eq!(record.domains[0].energy, Some(Joules(1.0)));
}

#[test]
fn real_permission_error_when_not_root() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, Some(1_000_000_000));
    let file = fixture.zone_dir("intel-rapl:0").join("energy_uj");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_to_string(&file).is_ok() {
        return; // running as root: file modes do not apply; covered by the injected reader
    }
    let meters = fixture.meters();
    let reason = &meters.unavailable()[0].reason;
    assert!(reason.starts_with("permission denied on "), "{reason}");
}

#[test]
fn missing_max_energy_range_is_measured_until_a_wrap() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 100, None);
    let mut meters = fixture.meters();
    assert!(meters.active()[0].detail.contains("wrap cannot be undone"));
    meters.start();
    fixture.energy("intel-rapl:0", 5_000_100);
    assert!((joules(&meters.stop(&WORK)) - 5.0).abs() < 1e-9);

    meters.start();
    fixture.energy("intel-rapl:0", 10);
    let record = meters.stop(&WORK);
    assert_eq!(record.energy, None);
    assert!(
        record
            .reason
            .as_deref()
            .unwrap()
            .contains("max_energy_range_uj is missing"),
        "{record:?}"
    );
}

#[test]
fn counter_going_backwards_without_wrap() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 600_000_000, Some(1_000_000_000));
    let mut meters = fixture.meters();
    meters.start();
    fixture.energy("intel-rapl:0", 599_000_000);
    let record = meters.stop(&WORK);
    assert_eq!(record.energy, None);
    assert_eq!(record.source, EnergySource::Unavailable);
    assert!(record
        .reason
        .as_deref()
        .unwrap()
        .contains("went backwards without a wrap"));
}

#[test]
fn malformed_file_mid_run_then_recovery() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, Some(1_000_000_000));
    let mut meters = fixture.meters();
    meters.start();
    fixture.write("intel-rapl:0", "energy_uj", "not a number\n");
    let record = meters.stop(&WORK);
    assert_eq!(record.energy, None);
    let reason = record.reason.clone().unwrap();
    assert!(reason.contains("malformed"), "{reason}");
    assert!(reason.contains("\"not a number\""), "{reason}");

    // The run goes on: the next benchmark is measured again.
    fixture.energy("intel-rapl:0", 1_000_000);
    meters.start();
    fixture.energy("intel-rapl:0", 3_000_000);
    assert!((joules(&meters.stop(&WORK)) - 2.0).abs() < 1e-9);
}

#[test]
fn malformed_range_is_noted_not_fatal() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, None);
    fixture.write("intel-rapl:0", "max_energy_range_uj", "lots\n");
    let meters = fixture.meters();
    let detail = &meters.active()[0].detail;
    assert!(detail.contains("malformed"), "{detail}");
}

#[test]
fn no_powercap_falls_back_to_the_model_visibly() {
    let fixture = Fixture::bare();
    let mut meters = fixture.meters();
    assert_eq!(meters.energy_source(), EnergySource::Modeled);
    let rapl = &meters.unavailable()[0];
    assert_eq!(rapl.meter, "rapl");
    assert!(rapl.reason.starts_with("no powercap in sysfs ("), "{}", rapl.reason);

    meters.start();
    let record = meters.stop(&WORK);
    assert_eq!(record.source, EnergySource::Modeled);
    let model = record.model.expect("coefficients recorded");
    let expected = model.idle_power.get() * 2.0 + model.joules_per_flop.0 * 1e12 + model.joules_per_byte.0 * 1e9;
    assert!((joules(&record) - expected).abs() < 1e-12);

    let meta = serde_json::to_value(meters.meta()).unwrap();
    assert_eq!(meta["energy_source"], "modeled");
    assert_eq!(meta["model"]["basis"]["kind"], "published");
    assert!(meta["model"]["coefficients"]["idle_power"].as_f64().unwrap() > 0.0);
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["source"], "modeled");
}

#[test]
fn empty_powercap_dir_is_no_powercap() {
    let fixture = Fixture::new();
    let meters = fixture.meters();
    assert!(meters.unavailable()[0].reason.starts_with("no powercap in sysfs"));
}

#[test]
fn sysfs_root_is_the_configured_one_else_sys() {
    let config = MeterConfig {
        sysfs_root: Some("/fixture".into()),
        ..MeterConfig::default()
    };
    assert_eq!(config.sysfs_root(), std::path::PathBuf::from("/fixture"));
    assert_eq!(MeterConfig::default().sysfs_root(), std::path::PathBuf::from("/sys"));
    assert_eq!(MeterConfig::default().proc_root(), std::path::PathBuf::from("/proc"));
}

fn fake_gpu(energy_mj: Option<u64>, power_mw: Option<u32>) -> FakeGpu {
    FakeGpu {
        name: "Fake GPU".into(),
        energy_mj,
        power_mw,
        failing: false,
    }
}

#[test]
fn nvml_counter_is_the_source_without_rapl() {
    let fixture = Fixture::bare();
    let fake = FakeNvml::new(vec![fake_gpu(Some(5_000), Some(250_000))]);
    let api: Box<dyn NvmlApi> = Box::new(fake.clone());
    let mut meters = MeterSet::detect_with_nvml(&fixture.config(), Some(Ok(api)));
    assert_eq!(meters.energy_source(), EnergySource::Nvml);
    meters.start();
    fake.update(0, |g| g.energy_mj = Some(505_000));
    let record = meters.stop(&WORK);
    assert_eq!(record.source, EnergySource::Nvml);
    assert!((joules(&record) - 500.0).abs() < 1e-9);
    assert_eq!(record.domains[0].method, "counter");
}

#[test]
fn nvml_power_integration_is_recorded_as_such() {
    let fixture = Fixture::bare();
    let fake = FakeNvml::new(vec![fake_gpu(None, Some(200_000))]);
    let api: Box<dyn NvmlApi> = Box::new(fake);
    let mut meters = MeterSet::detect_with_nvml(&fixture.config(), Some(Ok(api)));
    meters.start();
    std::thread::sleep(Duration::from_millis(200));
    let record = meters.stop(&WORK);
    assert_eq!(record.domains[0].method, "integrated-power");
    // 200 W for ~0.2 s (the region's own wall time, not WORK's).
    let energy = joules(&record);
    assert!(energy > 30.0 && energy < 200.0, "{energy}");
}

#[test]
fn nvml_missing_is_a_typed_reason_and_gpu_target_is_unavailable() {
    let fixture = Fixture::bare();
    let missing = Err(MeterError::NvmlNotFound {
        detail: "libnvidia-ml.so: cannot open shared object file".into(),
    });
    let mut meters = MeterSet::detect_with_nvml(&fixture.config(), Some(missing));
    let nvml = meters.unavailable().iter().find(|u| u.meter == "nvml").unwrap();
    assert!(nvml.reason.starts_with("NVML library not found"));
    meters.set_target(EnergyTarget::Gpu);
    meters.start();
    let record = meters.stop(&WORK);
    assert_eq!(record.source, EnergySource::Unavailable);
    assert!(record.reason.unwrap().starts_with("nvml: NVML library not found"));
}

#[test]
fn nvml_failing_mid_run_keeps_the_run_going() {
    let fixture = Fixture::bare();
    let fake = FakeNvml::new(vec![fake_gpu(Some(0), None)]);
    let api: Box<dyn NvmlApi> = Box::new(fake.clone());
    let mut meters = MeterSet::detect_with_nvml(&fixture.config(), Some(Ok(api)));
    meters.start();
    fake.update(0, |g| g.failing = true);
    let record = meters.stop(&WORK);
    assert_eq!(record.energy, None);
    assert!(record.reason.unwrap().contains("fallen off the bus"));
    fake.update(0, |g| g.failing = false);
    meters.start();
    fake.update(0, |g| g.energy_mj = Some(1_000));
    assert!((joules(&meters.stop(&WORK)) - 1.0).abs() < 1e-9);
}

#[test]
fn power_timeline_is_sampled() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, Some(262_143_328_850));
    let mut config = fixture.config();
    config.power_timeline = true;
    config.timeline_interval = Some(Duration::from_millis(5));
    let mut meters = MeterSet::detect_with_nvml(&config, None);
    meters.start();
    for step in 1..=5u64 {
        fixture.energy("intel-rapl:0", step * 1_000_000);
        std::thread::sleep(Duration::from_millis(20));
    }
    let record = meters.stop(&WORK);
    assert!(record.timeline.len() >= 2, "{:?}", record.timeline);
    assert!(record
        .timeline
        .iter()
        .all(|s| s.domain == "package-0/package" && s.power.get() >= 0.0));
    let ts: Vec<f64> = record.timeline.iter().map(|s| s.t.get()).collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(meters.meta().timeline_interval, Some(Seconds(0.005)));
}

#[test]
fn calibration_file_replaces_the_defaults_for_its_machine() {
    let fixture = Fixture::bare();
    let path = fixture.dir.path().join(model::CALIBRATION_FILE);
    let c = ModelCoefficients {
        idle_power: Watts(30.0),
        joules_per_flop: JoulesPerFlop(5e-11),
        joules_per_byte: JoulesPerByte(1e-10),
    };
    let points: Vec<CalibrationPoint> = [(1.0, 1e12, 1e9), (2.0, 5e11, 8e9), (0.5, 2e12, 1e8)]
        .iter()
        .map(|&(t, f, b)| {
            let work = WorkDone {
                elapsed: Seconds(t),
                flops: Flops(f),
                bytes: Bytes(b),
            };
            CalibrationPoint {
                elapsed: work.elapsed,
                flops: work.flops,
                bytes: work.bytes,
                energy: c.energy(&work),
            }
        })
        .collect();
    Calibration::fit("host-a", EnergySource::Rapl, points)
        .unwrap()
        .save(&path)
        .unwrap();

    let mut config = fixture.config();
    config.calibration = Some(path.clone());
    config.machine_id = Some("host-a".into());
    let meters = MeterSet::detect_with_nvml(&config, None);
    assert!(matches!(meters.model().basis, ModelBasis::Calibrated { .. }));
    assert!((meters.model().coefficients.idle_power.get() - 30.0).abs() < 1e-6);

    config.machine_id = Some("host-b".into());
    let meters = MeterSet::detect_with_nvml(&config, None);
    assert!(matches!(meters.model().basis, ModelBasis::Published { .. }));
    assert!(meters.meta().notes[0].contains("is for machine host-a"));

    // A calibration that does not exist yet is silently skipped.
    config.calibration = Some(fixture.dir.path().join("absent.json"));
    assert!(MeterSet::detect_with_nvml(&config, None).meta().notes.is_empty());
}

#[test]
fn measured_records_become_calibration_points_modeled_do_not() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 0, Some(262_143_328_850));
    let mut meters = fixture.meters();
    meters.start();
    fixture.energy("intel-rapl:0", 7_000_000);
    let record = meters.stop(&WORK);
    let point = record.calibration_point(&WORK).unwrap();
    assert_eq!(point.energy, Joules(7.0));
    assert!((record.gflops_per_joule(WORK.flops).unwrap() - 1000.0 / 7.0).abs() < 1e-9);

    let mut modeled = Fixture::bare().meters();
    modeled.start();
    assert_eq!(modeled.stop(&WORK).calibration_point(&WORK), None);
}

#[test]
fn none_set_reports_no_energy() {
    let mut meters = MeterSet::none();
    meters.start();
    let record = meters.stop(&WORK);
    assert_eq!(record.source, EnergySource::Unavailable);
    assert_eq!(record.reason.as_deref(), Some("no energy meter attached"));
    assert_eq!(record.energy, None);
}

#[test]
fn a_counter_that_does_not_advance_is_no_measurement() {
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 5_000_000, Some(262_143_328_850));
    let mut meters = fixture.meters();
    meters.start();
    // two seconds of work, and the counter stands still
    let record = meters.stop(&WORK);
    assert_eq!(
        record.energy, None,
        "0 J over 2 s of work is a stopped meter, not a measurement"
    );
    assert_eq!(record.source, EnergySource::Unavailable);
    let reason = record.reason.clone().unwrap();
    assert!(
        reason.contains("package-0") && reason.contains("did not advance over 2.00 s"),
        "{reason}"
    );
    assert!(record.calibration_point(&WORK).is_none(), "never a calibration point");
}

#[test]
fn a_counter_that_does_not_advance_over_a_blink_is_still_read() {
    // shorter than the counters' update period, zero is a reading, not a stop
    let fixture = Fixture::new();
    fixture.zone("intel-rapl:0", "package-0", 5_000_000, Some(262_143_328_850));
    let mut meters = fixture.meters();
    meters.start();
    let blink = WorkDone {
        elapsed: Seconds(0.01),
        ..WORK
    };
    let record = meters.stop(&blink);
    assert_eq!(record.source, EnergySource::Rapl);
    assert_eq!(joules(&record), 0.0);
}
