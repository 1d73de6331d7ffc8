//! Fuzz targets (proptest) for every reader of the store and of the data files: `summary.csv`,
//! `samples.csv`, `meta.json` (through the run-directory loader), the energy calibration
//! file, a rank file of a distributed run, and a bundled data CSV (through its schema).
//!
//! Each target starts from a valid file and applies random mutations: bytes flipped, ranges
//! cut, lines doubled, swapped or cut short, and tokens that readers trip on (`NaN`, `-1`,
//! `inf`, quotes, separators, non-UTF-8 bytes) inserted. The property: the reader never
//! panics, and a rejection names the file it rejects.
//!
//! A test run does `PROPTEST_CASES` executions per target (512 when unset); the million-case
//! figures in docs/store-checks.md come from
//! `PROPTEST_CASES=1000000 cargo test --test fuzz_readers -- --exact TARGET --test-threads 1`.

use braingap::analysis::datasets;
use braingap::collectives::{Collective, RankRecord, RankSink};
use braingap::comm::launch::LaunchInfo;
use braingap::measure::Status;
use braingap::meters::model::{Calibration, CalibrationPoint, JoulesPerByte, JoulesPerFlop, ModelCoefficients};
use braingap::meters::{EnergySource, WorkDone};
use braingap::ranks::{self, RankWriter};
use braingap::store::{self, rows};
use braingap::units::{Bytes, Flops, Seconds, Watts};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// Executions per target: `PROPTEST_CASES`, or 512.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // a failure is shrunk and printed; no regression file is written into the tree
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Tokens that readers of numbers, CSV and JSON trip on.
const TOKENS: &[&[u8]] = &[
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"-1",
    b"-0",
    b"0",
    b"1e309",
    b"-1e309",
    b"99999999999999999999999",
    b"",
    b",",
    b",,",
    b"\"",
    b"\"\"",
    b"\n",
    b"\r\n",
    b"\r",
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"true",
    b":",
    b"ok",
    b"failed",
    b"skipped",
    b"complete",
    b"running",
    b"\0",
    b"\xff\xfe",
    b"\xc3",
    b"1.5",
    b"2",
];

/// One mutation of a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Cut { at: usize, len: usize },
    Insert { at: usize, token: usize },
    ReplaceField { at: usize, token: usize },
    DoubleLine { line: usize },
    SwapLines { a: usize, b: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (at, 1usize..24).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (at, 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (at, 0..TOKENS.len()).prop_map(|(at, token)| Mutation::ReplaceField { at, token }),
        any::<usize>().prop_map(|line| Mutation::DoubleLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        at.prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..4)
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

/// Applies `mutations` to `seed`.
fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in mutations {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Flip { at, bit } => {
                if !bytes.is_empty() {
                    bytes[at % n] ^= 1 << bit;
                }
            }
            Mutation::Cut { at, len } => {
                let start = (at % n).min(bytes.len());
                let end = (start + len).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Insert { at, token } => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, TOKENS[token].iter().copied());
            }
            Mutation::ReplaceField { at, token } => {
                // the field (between separators) around `at` becomes the token
                let at = (at % n).min(bytes.len());
                let is_sep = |b: &u8| matches!(b, b',' | b'\n' | b':' | b'{' | b'}' | b'[' | b']');
                let start = bytes[..at].iter().rposition(is_sep).map_or(0, |i| i + 1);
                let end = bytes[at..].iter().position(is_sep).map_or(bytes.len(), |i| at + i);
                bytes.splice(start..end, TOKENS[token].iter().copied());
            }
            Mutation::DoubleLine { line } => {
                let mut ls = lines(&bytes);
                if !ls.is_empty() {
                    let i = line % ls.len();
                    let copy = ls[i].clone();
                    ls.insert(i, copy);
                    bytes = ls.concat();
                }
            }
            Mutation::SwapLines { a, b } => {
                let mut ls = lines(&bytes);
                if !ls.is_empty() {
                    let len = ls.len();
                    ls.swap(a % len, b % len);
                    bytes = ls.concat();
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % n),
        }
    }
    bytes
}

/// The valid run of the bare-machine fixture: (its directory, its id).
fn fixture_run() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bare-machine/results/runs/20261206T120000.000Z-ba5e")
}

/// A copy of the fixture run in a temporary store (the directory keeps the run's id).
fn scratch_run() -> (tempfile::TempDir, PathBuf) {
    // In memory where the machine has a tmpfs: rewriting a file on ext4 flushes it on close
    // (auto_da_alloc), some milliseconds per case.
    let tmp = match Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap()),
        false => tempfile::tempdir().unwrap(),
    };
    let run = tmp.path().join("runs").join(fixture_run().file_name().unwrap());
    std::fs::create_dir_all(&run).unwrap();
    for file in ["meta.json", "summary.csv", "samples.csv"] {
        std::fs::copy(fixture_run().join(file), run.join(file)).unwrap();
    }
    (tmp, run)
}

/// One scratch directory per target, made once: a case only rewrites the file it mutates
/// (a million executions should time the reader, not `mkdir`).
struct Scratch {
    _tmp: tempfile::TempDir,
    run: PathBuf,
    calibration: PathBuf,
    rank: PathBuf,
    data: PathBuf,
}

fn scratch() -> Scratch {
    let (tmp, run) = scratch_run();
    let calibration = tmp.path().join("energy-calibration.json");
    let rank_dir = tmp.path().join("rank");
    std::fs::create_dir_all(&rank_dir).unwrap();
    let rank = rank_seed(&rank_dir);
    let data = data_seed_dir(tmp.path(), None);
    Scratch {
        _tmp: tmp,
        run,
        calibration,
        rank,
        data,
    }
}

thread_local! {
    static SCRATCH: Scratch = scratch();
    static SEEDS: Seeds = seeds();
}

/// The valid files each target mutates.
struct Seeds {
    summary: Vec<u8>,
    samples: Vec<u8>,
    meta: Vec<u8>,
    calibration: Vec<u8>,
    rank: Vec<u8>,
    koomey: Vec<u8>,
}

fn seeds() -> Seeds {
    let tmp = tempfile::tempdir().unwrap();
    Seeds {
        summary: std::fs::read(fixture_run().join("summary.csv")).unwrap(),
        samples: std::fs::read(fixture_run().join("samples.csv")).unwrap(),
        meta: std::fs::read(fixture_run().join("meta.json")).unwrap(),
        calibration: calibration_seed(),
        rank: std::fs::read(rank_seed(tmp.path())).unwrap(),
        koomey: std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/koomey.csv")).unwrap(),
    }
}

/// Writes `bytes` to `path` and restores the run's other files to their seeds, runs `read`.
fn with_file<T>(
    pick: impl Fn(&Scratch, &Seeds) -> (PathBuf, Vec<u8>),
    m: &[Mutation],
    read: impl Fn(&Scratch, &Path) -> T,
) -> T {
    SCRATCH.with(|scratch| {
        SEEDS.with(|seeds| {
            let (path, seed) = pick(scratch, seeds);
            std::fs::write(&path, mutate(&seed, m)).unwrap();
            let result = read(scratch, &path);
            std::fs::write(&path, &seed).unwrap();
            result
        })
    })
}

/// An error message must name the file: its path, or at least its file name.
fn names_file(message: &str, path: &Path) -> bool {
    message.contains(&path.display().to_string()) || message.contains(path.file_name().unwrap().to_str().unwrap())
}

#[test]
fn seeds_are_valid() {
    // the property below is only as good as its seeds: each must read
    let (_tmp, run) = scratch_run();
    let info = store::load_run_dir(&run).expect("fixture run reads");
    assert!(!info.summary.is_empty());
    assert!(!info.samples().expect("fixture samples read").is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("energy-calibration.json");
    std::fs::write(&path, calibration_seed()).unwrap();
    Calibration::load(&path).expect("calibration seed reads");
    let rank = rank_seed(tmp.path());
    assert!(ranks::read_rank_file(&rank).unwrap().is_some());
    datasets::load_bundled("koomey", &data_seed_dir(tmp.path(), None)).expect("koomey reads");
}

fn calibration_seed() -> Vec<u8> {
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
    let calibration = Calibration::fit("fingerprint", EnergySource::Rapl, points).unwrap();
    serde_json::to_vec_pretty(&calibration).unwrap()
}

/// Writes a finished rank file of a two-rank all-reduce under `dir`; returns its path.
fn rank_seed(dir: &Path) -> PathBuf {
    let layout = Collective::AllReduce.layout(1 << 20, 2).unwrap();
    let launch = LaunchInfo {
        host: "node1".into(),
        pid: 1000,
        local_rank: Some(0),
        local_size: None,
        slurm: None,
    };
    let mut writer = RankWriter::create(dir, "20260101T000000.000Z-abcd", 0, 2, launch).unwrap();
    let record = RankRecord {
        benchmark: layout.name(),
        collective: layout.collective,
        bytes: layout.bytes(),
        ranks: layout.ranks,
        send_len: layout.send_len,
        recv_len: layout.recv_len,
        iters_per_sample: 10,
        samples_s: vec![1e-3, 2e-3, 3e-3],
        status: Status::Ok,
        reason: None,
        verification: Some("exact".into()),
        started_at: "2026-01-01T00:00:00.000Z".into(),
        finished_at: "2026-01-01T00:00:01.000Z".into(),
    };
    writer.record(0, &record).unwrap();
    writer.finish().unwrap();
    ranks::rank_file_path(dir, 0)
}

/// A data directory under `dir` holding the bundled `koomey.csv`, or `bytes` in its place.
fn data_seed_dir(dir: &Path, bytes: Option<&[u8]>) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/koomey.csv");
    match bytes {
        Some(b) => std::fs::write(data.join("koomey.csv"), b).unwrap(),
        None => {
            std::fs::copy(bundled, data.join("koomey.csv")).unwrap();
        }
    }
    data
}

/// The property: `result` is `Ok`, or an error whose message names `path`.
fn check<T, E: std::fmt::Display>(result: Result<T, E>, path: &Path) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let message = e.to_string();
        prop_assert!(names_file(&message, path), "{message}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn summary_csv(m in mutations()) {
        with_file(|s, d| (s.run.join("summary.csv"), d.summary.clone()), &m, |_, path| {
            check(rows::read_summary(path), path)
        })?;
    }

    #[test]
    fn samples_csv(m in mutations()) {
        // read through the run, so the check against summary.csv is fuzzed as well
        with_file(|s, d| (s.run.join("samples.csv"), d.samples.clone()), &m, |s, path| {
            check(store::load_run_dir(&s.run).unwrap().samples(), path)
        })?;
    }

    #[test]
    fn meta_json(m in mutations()) {
        with_file(|s, d| (s.run.join("meta.json"), d.meta.clone()), &m, |s, path| {
            check(store::load_run_dir(&s.run), path)
        })?;
    }

    #[test]
    fn calibration_file(m in mutations()) {
        with_file(|s, d| (s.calibration.clone(), d.calibration.clone()), &m, |_, path| {
            check(Calibration::load(path), path)
        })?;
    }

    #[test]
    fn rank_file(m in mutations()) {
        with_file(|s, d| (s.rank.clone(), d.rank.clone()), &m, |_, path| {
            check(ranks::read_rank_file(path), path)
        })?;
    }

    #[test]
    fn data_csv(m in mutations()) {
        with_file(|s, d| (s.data.join("koomey.csv"), d.koomey.clone()), &m, |s, path| {
            check(datasets::load_bundled("koomey", &s.data), path)
        })?;
    }
}
