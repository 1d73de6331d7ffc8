//! The catalogue of bundled datasets: each one's file, schema and snapshot, and how a
//! `--data` name or path is resolved to a file.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{load_table, Table};
use crate::error::AnalysisError;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// A real number.
    Number,
    /// A non-negative number (neurons, parameters, FLOP, …).
    Count,
    /// An ISO date `YYYY-MM-DD`, read as a decimal year.
    Date,
    /// `true` / `false`.
    Bool,
}

/// One column of a dataset schema.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ColumnSpec {
    /// Header name (units in the name).
    pub name: &'static str,
    /// What it holds.
    pub kind: ColumnKind,
    /// Whether every row must have a value.
    pub required: bool,
}

/// A bundled dataset: file under the data directory and its schema.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DatasetSpec {
    /// Name usable in `--data`.
    pub name: &'static str,
    /// File name under the data directory.
    pub file: &'static str,
    /// One line on what it holds.
    pub description: &'static str,
    /// The schema; extra columns in the file are allowed and read as text.
    pub columns: &'static [ColumnSpec],
    /// Which version of the source the bundled file holds: `YYYY-MM-DD`, `YYYY-MM` or
    /// `YYYY` (the access date of a live database, the publication of a fixed source, or
    /// the day a compiled table was gathered).
    pub snapshot_date: &'static str,
    /// What that date is a version of.
    pub snapshot_of: &'static str,
}

const fn text(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Text,
        required: false,
    }
}
const fn key(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Text,
        required: true,
    }
}
const fn number(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Number,
        required: false,
    }
}
const fn count(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Count,
        required: false,
    }
}
const fn date(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Date,
        required: false,
    }
}
const fn boolean(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Bool,
        required: false,
    }
}

const HARDWARE_COLUMNS: &[ColumnSpec] = &[
    key("name"),
    text("manufacturer"),
    text("type"),
    date("release_date"),
    text("release_date_precision"),
    count("fp64_FLOP_per_s"),
    count("fp32_FLOP_per_s"),
    count("fp16_FLOP_per_s"),
    count("tf32_FLOP_per_s"),
    count("tensor_fp16_bf16_FLOP_per_s"),
    count("fp8_FLOP_per_s"),
    count("int8_OP_per_s"),
    count("best_float_FLOP_per_s"),
    count("memory_bandwidth_bytes_per_s"),
    count("tdp_W"),
    count("fp32_FLOP_per_J"),
    count("best16_FLOP_per_J"),
    count("release_price_USD"),
    count("fp32_FLOP_per_s_per_USD"),
    text("curation_note"),
    key("source"),
];

const DATASETS: &[DatasetSpec] = &[
    DatasetSpec {
        name: "species",
        file: "species.csv",
        description: "neurons, synapses and brain power of animals (one row per species; human_round = the seed report's round numbers)",
        columns: &[
            key("id"),
            key("species"),
            text("common_name"),
            text("scope"),
            count("neurons_count"),
            count("synapses_count"),
            count("synapses_per_neuron_whole_brain_ratio"),
            count("synapses_per_neuron_cortical_ratio"),
            count("brain_power_W"),
            boolean("for_fitting"),
            key("source"),
            text("source_synapses"),
            text("source_synapses_per_neuron"),
            text("source_power"),
        ],
        snapshot_date: "2026-11-30",
        snapshot_of: "counts compiled from the papers named in each row",
    },
    DatasetSpec {
        name: "brain_compute",
        file: "brain_compute.csv",
        description: "brain-equivalent compute estimates, low/central/high FLOP/s (Carlsmith, Moravec, Kurzweil, WBE roadmap)",
        columns: &[
            key("id"),
            key("author_year"),
            key("quantity"),
            count("low_FLOP_per_s"),
            count("central_FLOP_per_s"),
            count("high_FLOP_per_s"),
            text("units_as_published"),
            text("method"),
            text("confidence"),
            key("source"),
        ],
        snapshot_date: "2026-11-30",
        snapshot_of: "estimates compiled from the sources named in each row",
    },
    DatasetSpec {
        name: "networks",
        file: "networks.csv",
        description: "historical networks of Goodfellow et al. Figs 1.10-1.11: year, neurons, connections per neuron, parameters (digitized)",
        columns: &[
            text("label"),
            key("network"),
            text("citation"),
            number("citation_year"),
            number("year"),
            count("neurons_count"),
            count("connections_per_neuron_ratio"),
            count("parameters_count"),
            count("neurons_count_from_paper"),
            boolean("in_fig11_trend_fit"),
            key("source"),
        ],
        snapshot_date: "2016",
        snapshot_of: "Goodfellow, Bengio & Courville, Deep Learning, Figs 1.10-1.11, digitized",
    },
    DatasetSpec {
        name: "training_compute",
        file: "training_compute.csv",
        description: "Epoch AI notable models with a training-compute estimate (515 models, 1950-2025)",
        columns: &[
            key("model"),
            text("organization"),
            date("publication_date"),
            text("domain"),
            count("parameters_count"),
            count("training_compute_FLOP"),
            text("confidence"),
            boolean("frontier_model"),
            key("source"),
        ],
        snapshot_date: "2026-01-26",
        snapshot_of: "Epoch AI Notable AI Models",
    },
    DatasetSpec {
        name: "sevilla_2022",
        file: "sevilla_2022.csv",
        description: "Sevilla et al. (2022)'s own dataset: the 123 milestone systems with a training-compute estimate their paper fitted (February 2022)",
        columns: &[
            key("system"),
            date("publication_date"),
            count("parameters_count"),
            count("training_compute_FLOP"),
            text("note"),
            key("source"),
        ],
        snapshot_date: "2022-02",
        snapshot_of: "Sevilla et al. (2022)'s dataset of milestone ML systems",
    },
    DatasetSpec {
        name: "training_compute_2024",
        file: "training_compute_2024.csv",
        description: "Epoch AI notable models with a training-compute estimate as the database stood on 2024-05-26 (the data of Sevilla & Roldán 2024)",
        columns: &[
            key("model"),
            text("organization"),
            date("publication_date"),
            text("domain"),
            count("parameters_count"),
            count("training_compute_FLOP"),
            key("source"),
        ],
        snapshot_date: "2024-05-26",
        snapshot_of: "Epoch AI All ML Systems (notable models)",
    },
    DatasetSpec {
        name: "landmark_models",
        file: "landmark_models.csv",
        description: "landmark models with training FLOP, costs and superseded estimates (e.g. AlphaGo Zero's 2022 Epoch value)",
        columns: &[
            key("model"),
            text("organization"),
            date("publication_date"),
            count("parameters_count"),
            count("training_compute_FLOP"),
            text("epoch_confidence"),
            count("cost_2023USD_epoch"),
            count("cost_USD_other"),
            text("cost_other_basis"),
            key("source"),
        ],
        snapshot_date: "2026-01-26",
        snapshot_of: "Epoch AI Notable AI Models and the papers' own values",
    },
    DatasetSpec {
        name: "openai_2018",
        file: "openai_2018.csv",
        description: "every training-compute figure printed in OpenAI's \"AI and Compute\" (2018)",
        columns: &[
            key("system"),
            date("date"),
            text("date_precision"),
            count("training_compute_FLOP"),
            count("training_compute_pfs_days"),
            text("method"),
            boolean("in_main_chart"),
            key("source"),
        ],
        snapshot_date: "2018-05-16",
        snapshot_of: "OpenAI, \"AI and Compute\", figures as printed",
    },
    DatasetSpec {
        name: "hardware",
        file: "hardware.csv",
        description: "curated accelerators, CPUs, older GPUs and neuromorphic chips: peak FLOP/s by precision, bandwidth, TDP, FLOP/J",
        columns: HARDWARE_COLUMNS,
        snapshot_date: "2025-12",
        snapshot_of: "Epoch AI Machine Learning Hardware, K. Rupp's CPU/GPU table, neuromorphic chips",
    },
    DatasetSpec {
        name: "ml_hardware",
        file: "ml_hardware.csv",
        description: "the whole Epoch AI ML-hardware table (170 chips) in the same columns as `hardware`",
        columns: HARDWARE_COLUMNS,
        snapshot_date: "2025-12",
        snapshot_of: "Epoch AI Machine Learning Hardware",
    },
    DatasetSpec {
        name: "koomey",
        file: "koomey.csv",
        description: "Koomey et al. 2011: computations per kWh of 80 machines, 1946-2009",
        columns: &[
            key("machine"),
            number("year"),
            count("power_W"),
            count("computations_per_s"),
            count("computations_per_kWh"),
            boolean("measured_power"),
            key("source"),
        ],
        snapshot_date: "2011",
        snapshot_of: "Koomey et al., spreadsheet v36",
    },
    DatasetSpec {
        name: "microcircuit_benchmarks",
        file: "microcircuit_benchmarks.csv",
        description: "published full-scale Potjans-Diesmann microcircuit simulations (Senk et al. 2026): real-time factor and J per synaptic event by platform",
        columns: &[
            key("id"),
            key("study"),
            number("year"),
            key("simulator"),
            key("platform"),
            text("system"),
            count("nodes_count"),
            count("process_node_nm"),
            key("input"),
            count("real_time_factor"),
            count("J_per_synaptic_event"),
            key("source"),
        ],
        snapshot_date: "2026-12-06",
        snapshot_of: "Senk et al. (2026) performance table",
    },
];

/// The bundled datasets, in the order `braingap datasets` lists them.
pub fn bundled_datasets() -> &'static [DatasetSpec] {
    DATASETS
}

/// Looks a bundled dataset up by name (with or without `.csv`).
pub fn find_dataset(name: &str) -> Option<&'static DatasetSpec> {
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    DATASETS.iter().find(|d| d.name == stem)
}

/// The bundled data directory: the repository's `data/`. (The CLI lets `$BRAINGAP_DATA_DIR`
/// name another; the library reads no environment.)
pub fn bundled_data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// Resolves `--data`: anything that names an existing file is that file, read without a
/// schema (a user's own `koomey.csv` is not held to the bundled `koomey` table's
/// columns); otherwise a bundled dataset name (with or without `.csv`) is looked up in
/// `data_dir` and checked against its schema.
pub fn resolve_dataset(
    name_or_path: &str,
    data_dir: &Path,
) -> Result<(PathBuf, Option<&'static DatasetSpec>), AnalysisError> {
    let as_path = Path::new(name_or_path);
    if as_path.is_file() {
        return Ok((as_path.to_path_buf(), None));
    }
    match find_dataset(name_or_path) {
        Some(spec) => Ok((data_dir.join(spec.file), Some(spec))),
        None if name_or_path.contains('/') || name_or_path.ends_with(".csv") => Err(AnalysisError::Io {
            path: as_path.to_path_buf(),
            message: "no such file".to_string(),
        }),
        None => Err(AnalysisError::UnknownDataset {
            name: name_or_path.to_string(),
            available: DATASETS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Loads a bundled dataset by name from `data_dir`, checked against its schema (never a
/// file of that name in the working directory).
pub fn load_bundled(name: &str, data_dir: &Path) -> Result<Table, AnalysisError> {
    let spec = find_dataset(name).ok_or_else(|| AnalysisError::UnknownDataset {
        name: name.to_string(),
        available: DATASETS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
    })?;
    load_table(&data_dir.join(spec.file), Some(spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::test_support::{data_dir, write_temp};

    #[test]
    fn every_bundled_dataset_loads_against_its_schema() {
        for spec in bundled_datasets() {
            let table = load_bundled(spec.name, &data_dir()).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert!(!table.is_empty(), "{} is empty", spec.name);
            let sources = table.text("source").unwrap();
            assert!(
                sources.iter().all(|s| s.as_deref().is_some_and(|s| !s.is_empty())),
                "{}: row without source",
                spec.name
            );
        }
    }

    #[test]
    fn an_existing_file_is_read_without_a_bundled_schema() {
        let (_d, path) = write_temp("name,year,value\na,2000,1\n", "koomey.csv");
        let (resolved, spec) = resolve_dataset(path.to_str().unwrap(), &data_dir()).unwrap();
        assert_eq!(resolved, path);
        assert!(spec.is_none());
        let (resolved, spec) = resolve_dataset("koomey", &data_dir()).unwrap();
        assert_eq!(resolved, data_dir().join("koomey.csv"));
        assert_eq!(spec.map(|s| s.name), Some("koomey"));
    }
}
