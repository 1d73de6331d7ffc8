//! The bundled reference datasets and CSV loading: the one module that imports polars.
//!
//! Files are scanned lazily by polars with every column read as text, then checked
//! against the dataset's schema cell by cell, so that a bad value is reported with its
//! file, line and column instead of becoming a null or a panic. `--filter` clauses are
//! evaluated on the checked columns, so that each value is compared as what its column
//! holds (number, date, boolean or text) and a value of the wrong kind, or a clause that
//! matches nothing, is reported with the values the column does hold. Selections leave
//! out rows marked not for fitting and count every row they drop ([`RowAccount`]).

mod catalogue;
mod filter;
mod selection;
mod table;

pub use catalogue::{
    bundled_data_dir, bundled_datasets, find_dataset, load_bundled, resolve_dataset, ColumnKind, ColumnSpec,
    DatasetSpec,
};
pub use filter::{Clause, CompareOp, Filter};
pub use selection::{select_series, RowAccount, Selection, Series, FOR_FITTING};
pub use table::{decimal_year, load_table, parse_decimal_year, ColumnData, Table};

/// Helpers shared by the submodules' tests.
#[cfg(test)]
mod test_support {
    use std::io::Write;
    use std::path::PathBuf;

    pub(super) fn data_dir() -> PathBuf {
        super::bundled_data_dir()
    }

    pub(super) fn write_temp(contents: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(contents.as_bytes())
            .unwrap();
        (dir, path)
    }
}
