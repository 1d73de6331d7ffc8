//! Typed errors of the measurement core and the results store.
//!
//! Each variant carries the file, line, argument or benchmark involved, so the CLI can
//! print one line that names the culprit. Bad input maps to exit status 2.

use std::path::PathBuf;

/// Errors raised by braingap's library code (the CLI wraps them with `anyhow`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line argument or configuration value is invalid.
    #[error("invalid argument {arg}: {reason}")]
    InvalidArgument {
        /// The argument, e.g. `--threads`.
        arg: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A benchmark needs more memory than is available.
    #[error(
        "benchmark {benchmark} needs {needed_gib:.3} GiB of buffers but only {available_gib:.3} GiB of memory is available"
    )]
    InsufficientMemory {
        /// The benchmark name.
        benchmark: String,
        /// Bytes needed, in GiB.
        needed_gib: f64,
        /// Bytes available, in GiB.
        available_gib: f64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A results file is malformed.
    #[error("{path}:{line}: {reason}")]
    Corrupt {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number (0 when the whole file is at fault).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Hardware or a run-time library the run needs is not on this machine (exit status 2,
    /// before anything is written).
    #[error("{what} cannot run here: {reason}")]
    Unavailable {
        /// What was asked for, e.g. `--backend nccl`.
        what: String,
        /// The first missing piece, named.
        reason: String,
    },
    /// A call into a device library (CUDA driver, NCCL) failed during a run.
    #[error("{call} failed: {reason}")]
    DeviceCall {
        /// The call and device, e.g. `cuMemAlloc on cuda:1`.
        call: String,
        /// The library's error.
        reason: String,
    },
    /// A run id or directory that does not exist.
    #[error("no run {id} in {results}")]
    NoSuchRun {
        /// The id asked for.
        id: String,
        /// The results directory searched.
        results: PathBuf,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
