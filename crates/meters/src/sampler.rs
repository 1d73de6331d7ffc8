//! Background sampling thread shared by meters whose counters must be read
//! between `start` and `stop` (RAPL wraparound, NVML power integration, power
//! timelines).
//!
//! # Choosing the interval
//!
//! A RAPL `energy_uj` counter wraps at `max_energy_range_uj`. Between two reads
//! the counter may wrap at most once, or the energy is lost without trace; and
//! to tell a wrap from a counter that went backwards (see
//! [`crate::rapl`]) less than *half* a range may accrue between reads.
//! So the interval is at most `range / (4 · P_max)`, a 2x margin over that
//! bound, with `P_max` = [`MAX_DOMAIN_POWER`] (1 kW, above any single CPU
//! package or DRAM domain shipped today). For Intel's usual range of
//! 262,143,328,850 µJ that is 65 s; for a 32-bit µJ range (4,294 J, seen on
//! some AMD parts) it is 1.07 s. The interval is also capped at
//! [`MAX_INTERVAL`] (1 s), so a thread starved for a few periods still cannot
//! miss a wrap, and shortened to the timeline period when a power timeline is
//! requested.
//!
//! Each poll reads a handful of sysfs files (tens of µs in all), so at the
//! 100 ms timeline period the thread uses well under 0.1% of one core and at the
//! [`MIN_INTERVAL`] floor about 0.3%; `cargo bench --bench meters` measures both
//! (the sampler thread's CPU time per second, and a workload with and without it).

use crate::units::{Joules, Watts};
use crate::{Meter, MeterError, Reading};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Highest power assumed for one RAPL domain when sizing the interval.
pub const MAX_DOMAIN_POWER: Watts = Watts(1000.0);
/// Longest interval between polls, whatever the range.
pub const MAX_INTERVAL: Duration = Duration::from_secs(1);
/// Shortest interval between polls (keeps a tiny range from spinning the thread). At this
/// floor one poll of a fixture powercap tree cost about 30 µs of CPU here, so the thread
/// takes ~0.3% of one core (`cargo bench --bench meters`, `sampler_cpu_share`); the floor
/// only binds for ranges under 40 J, far below any shipped RAPL counter (≥ 4,294 J).
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// The polling interval for a counter of `range` that must not be missed at
/// up to [`MAX_DOMAIN_POWER`], optionally shortened to a timeline period.
pub fn sampling_interval(range: Option<Joules>, timeline: Option<Duration>) -> Duration {
    let wrap_safe = match range {
        Some(range) if range.get() > 0.0 => Duration::from_secs_f64(range.get() / (4.0 * MAX_DOMAIN_POWER.get())),
        _ => MAX_INTERVAL,
    };
    let mut interval = wrap_safe.min(MAX_INTERVAL);
    if let Some(period) = timeline {
        interval = interval.min(period);
    }
    interval.max(MIN_INTERVAL)
}

/// Something a background thread polls.
pub trait Poll: Send + 'static {
    /// Reads the counters once; errors are recorded inside, never thrown.
    fn poll(&mut self);
}

/// A thread that calls [`Poll::poll`] on a shared state every interval until
/// dropped.
#[derive(Debug)]
pub struct BackgroundSampler {
    stop: Option<Sender<()>>,
    handle: Option<JoinHandle<()>>,
    interval: Duration,
}

impl BackgroundSampler {
    /// Starts polling `state` every `interval`.
    pub fn spawn<P: Poll>(name: &str, state: Arc<Mutex<P>>, interval: Duration) -> std::io::Result<BackgroundSampler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name(format!("braingap-{name}-sampler"))
            .spawn(move || loop {
                match stopped.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => {
                        // A poisoned lock means a poll panicked; the owner sees
                        // the poison on its next read, so just stop here.
                        match state.lock() {
                            Ok(mut state) => state.poll(),
                            Err(_) => return,
                        }
                    }
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            })?;
        Ok(BackgroundSampler {
            stop: Some(stop),
            handle: Some(handle),
            interval,
        })
    }

    /// The polling interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl Drop for BackgroundSampler {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// The state of a meter whose counters are read when a region starts, by a background
/// thread while it runs, and when it is read or stopped: RAPL (wrap-safe counters) and NVML
/// (an energy counter, or integrated power). [`SampledMeter`] is the one [`Meter`] over it.
pub trait SampledState: Poll {
    /// The meter's name: `rapl`, `nvml`.
    const NAME: &'static str;
    /// Opens a region: reads each counter's starting value.
    fn begin(&mut self);
    /// Whether a region is open.
    fn is_active(&self) -> bool;
    /// Reads the counters now (at a read and at the stop).
    fn sample_now(&mut self);
    /// Closes the region after its last sample.
    fn end(&mut self);
    /// What accrued since [`SampledState::begin`].
    fn reading(&self) -> Reading;
}

/// A meter over a [`SampledState`], with the background thread that polls it (none where
/// the counters need no polling: `interval` is `None`).
pub struct SampledMeter<S: SampledState> {
    state: Arc<Mutex<S>>,
    sampler: Option<BackgroundSampler>,
    description: String,
}

impl<S: SampledState> SampledMeter<S> {
    /// Shares `state` with a thread polling it every `interval`, if any.
    pub(crate) fn spawn(state: S, interval: Option<Duration>, description: String) -> Result<Self, MeterError> {
        let state = Arc::new(Mutex::new(state));
        let sampler = interval
            .map(|interval| BackgroundSampler::spawn(S::NAME, state.clone(), interval))
            .transpose()
            .map_err(|e| MeterError::Thread(e.to_string()))?;
        Ok(SampledMeter {
            state,
            sampler,
            description,
        })
    }

    /// The background thread's polling interval, if one runs.
    pub fn interval(&self) -> Option<Duration> {
        self.sampler.as_ref().map(BackgroundSampler::interval)
    }

    /// Whether a background thread runs.
    pub fn is_sampling(&self) -> bool {
        self.sampler.is_some()
    }

    /// Polls once now, as the background thread does (tests drive wraps with it).
    pub fn poll_now(&self) -> Result<(), MeterError> {
        self.lock()?.poll();
        Ok(())
    }

    fn lock(&self) -> Result<MutexGuard<'_, S>, MeterError> {
        self.state
            .lock()
            .map_err(|_| MeterError::Other(format!("{} sampler panicked", S::NAME)))
    }

    fn active(&self) -> Result<MutexGuard<'_, S>, MeterError> {
        let state = self.lock()?;
        if state.is_active() {
            Ok(state)
        } else {
            Err(MeterError::NotStarted(S::NAME))
        }
    }
}

impl<S: SampledState> Meter for SampledMeter<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn start(&mut self) -> Result<(), MeterError> {
        self.lock()?.begin();
        Ok(())
    }

    fn read(&mut self) -> Result<Reading, MeterError> {
        let mut state = self.active()?;
        state.sample_now();
        Ok(state.reading())
    }

    fn stop(&mut self) -> Result<Reading, MeterError> {
        let mut state = self.active()?;
        state.sample_now();
        state.end();
        Ok(state.reading())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_wrap_safe_and_capped() {
        // Intel's usual range: capped at 1 s.
        let intel = sampling_interval(Some(Joules(262_143.328_85)), None);
        assert_eq!(intel, MAX_INTERVAL);
        // A 32-bit µJ range: 4294.97 J / 4 kW = 1.07 s -> still capped.
        assert_eq!(sampling_interval(Some(Joules(4_294.967_295)), None), MAX_INTERVAL);
        // A small range forces a shorter period: 400 J / 4 kW = 100 ms.
        let small = sampling_interval(Some(Joules(400.0)), None);
        assert!((small.as_secs_f64() - 0.1).abs() < 1e-9);
        // A timeline shortens it further.
        let timeline = sampling_interval(Some(Joules(400.0)), Some(Duration::from_millis(20)));
        assert_eq!(timeline, Duration::from_millis(20));
        // Unknown range: the cap.
        assert_eq!(sampling_interval(None, None), MAX_INTERVAL);
        // Never zero.
        assert_eq!(sampling_interval(Some(Joules(1e-9)), None), MIN_INTERVAL);
    }

    struct Count(usize);
    impl Poll for Count {
        fn poll(&mut self) {
            self.0 += 1;
        }
    }

    #[test]
    fn thread_polls_and_stops_on_drop() {
        let state = Arc::new(Mutex::new(Count(0)));
        let sampler = BackgroundSampler::spawn("test", state.clone(), Duration::from_millis(1)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while state.lock().unwrap().0 < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(sampler);
        let after = state.lock().unwrap().0;
        assert!(after >= 3);
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(state.lock().unwrap().0, after, "no polls after drop");
    }

    /// A counter that advances by one at each sample.
    #[derive(Default)]
    struct Ticks {
        active: bool,
        ticks: u32,
        ended: u32,
    }
    impl Poll for Ticks {
        fn poll(&mut self) {}
    }
    impl SampledState for Ticks {
        const NAME: &'static str = "ticks";
        fn begin(&mut self) {
            self.active = true;
            self.ticks = 0;
        }
        fn is_active(&self) -> bool {
            self.active
        }
        fn sample_now(&mut self) {
            self.ticks += 1;
        }
        fn end(&mut self) {
            self.active = false;
            self.ended += 1;
        }
        fn reading(&self) -> Reading {
            Reading {
                domains: Vec::new(),
                counters: Vec::new(),
                timeline: vec![crate::PowerSample {
                    t: crate::units::Seconds(f64::from(self.ticks)),
                    domain: "ticks".into(),
                    power: Watts(0.0),
                }],
            }
        }
    }

    #[test]
    fn a_sampled_meter_reads_only_inside_a_region_and_samples_at_read_and_stop() {
        let mut meter = SampledMeter::spawn(Ticks::default(), None, "two ticks".into()).unwrap();
        assert_eq!(meter.name(), "ticks");
        assert_eq!(meter.describe(), "two ticks");
        assert!(!meter.is_sampling() && meter.interval().is_none());
        assert!(matches!(meter.read(), Err(MeterError::NotStarted("ticks"))));
        meter.start().unwrap();
        assert_eq!(meter.read().unwrap().timeline[0].t.0, 1.0);
        assert_eq!(meter.stop().unwrap().timeline[0].t.0, 2.0, "stop samples once more");
        assert_eq!(meter.state.lock().unwrap().ended, 1);
        assert!(
            matches!(meter.stop(), Err(MeterError::NotStarted("ticks"))),
            "a stopped region is closed"
        );
        let polled = SampledMeter::spawn(Ticks::default(), Some(Duration::from_millis(5)), String::new()).unwrap();
        assert_eq!(polled.interval(), Some(Duration::from_millis(5)));
    }
}
