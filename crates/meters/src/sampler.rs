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
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
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
}
