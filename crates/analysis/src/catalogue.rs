//! Every quantitative claim of the seed report (CICC 2021, "AI十年展望(一):底层模拟人脑,算力
//! 决定上限"), as data: `data/seed_claims.csv` lists each with its place in the report, its
//! wording, the source the report draws on, and the checks that decide it against the
//! bundled tables. [`judge_catalogue`] applies one rubric ([`rubric`]) to every entry.
//!
//! A check is one of:
//! * `computed:ID`: judged by [`crate::claims`], whose fits and comparisons need code;
//! * `year:TABLE:KEY_COLUMN=KEY:DATE_COLUMN:YEAR`: a dated event; holds when the row's
//!   date falls in the claimed calendar year;
//! * `value:TABLE:KEY_COLUMN=KEY:COLUMN:VALUE:FACTOR`: a number; holds when the row's
//!   value is within a factor `FACTOR` of the claimed one (the claim's own precision:
//!   1.05 for an exact figure, 1.5 for "about", 2-3 for a round order of magnitude);
//! * `trend:TABLE:X:Y:FROM:TO`: "grew exponentially"; holds when the exponential fit of `Y`
//!   on `X` over `[FROM, TO]` has a 95 % bootstrap interval on its slope above zero;
//! * `outside:WHAT`: outside braingap's data; `WHAT` says which data would decide it.
//!
//! Several checks are joined by ` && `.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::claims::{Claim, ClaimVerdict};
use crate::datasets::{load_bundled, Table};
use crate::error::AnalysisError;

/// The catalogue's file name in the data directory.
pub const CATALOGUE_FILE: &str = "seed_claims.csv";

/// One check of a catalogue entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// Judged by the code in [`crate::claims`].
    Computed {
        /// The claim's id there.
        claim: String,
    },
    /// A dated event.
    Year {
        /// Bundled table.
        table: String,
        /// Column holding the key.
        key_column: String,
        /// The row's key.
        key: String,
        /// Date or year column.
        date_column: String,
        /// The year the claim gives.
        claimed: i32,
    },
    /// A number.
    Value {
        /// Bundled table.
        table: String,
        /// Column holding the key.
        key_column: String,
        /// The row's key.
        key: String,
        /// Value column.
        column: String,
        /// The value the claim gives.
        claimed: f64,
        /// Largest ratio (≥ 1) between the data and the claim that still agrees.
        tolerance: f64,
    },
    /// Sustained exponential growth over a period.
    Trend {
        /// Bundled table.
        table: String,
        /// x column (a date or year).
        x: String,
        /// y column.
        y: String,
        /// First decimal year.
        from: f64,
        /// Last decimal year.
        to: f64,
    },
    /// Outside braingap's data.
    Outside {
        /// The data that would decide it.
        needs: String,
    },
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Computed { claim } => write!(f, "computed:{claim}"),
            Check::Year {
                table,
                key_column,
                key,
                date_column,
                claimed,
            } => write!(f, "year:{table}:{key_column}={key}:{date_column}:{claimed}"),
            Check::Value {
                table,
                key_column,
                key,
                column,
                claimed,
                tolerance,
            } => write!(f, "value:{table}:{key_column}={key}:{column}:{claimed}:{tolerance}"),
            Check::Trend { table, x, y, from, to } => write!(f, "trend:{table}:{x}:{y}:{from}:{to}"),
            Check::Outside { needs } => write!(f, "outside:{needs}"),
        }
    }
}

impl Check {
    /// Parses one spec (see the module docs).
    pub fn parse(spec: &str) -> Result<Check, String> {
        let spec = spec.trim();
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| format!("check `{spec}` has no kind (computed:, year:, value:, trend:, outside:)"))?;
        let key_of = |text: &str| -> Result<(String, String), String> {
            text.split_once('=')
                .map(|(c, k)| (c.to_string(), k.to_string()))
                .ok_or_else(|| format!("check `{spec}`: `{text}` is not KEY_COLUMN=KEY"))
        };
        match kind {
            "computed" if !rest.is_empty() => Ok(Check::Computed { claim: rest.into() }),
            "outside" if !rest.trim().is_empty() => Ok(Check::Outside {
                needs: rest.trim().into(),
            }),
            "year" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let [table, key, date_column, year] = parts[..] else {
                    return Err(format!(
                        "check `{spec}`: expected year:TABLE:KEY_COLUMN=KEY:DATE_COLUMN:YEAR"
                    ));
                };
                let (key_column, key) = key_of(key)?;
                Ok(Check::Year {
                    table: table.into(),
                    key_column,
                    key,
                    date_column: date_column.into(),
                    claimed: year
                        .parse()
                        .map_err(|_| format!("check `{spec}`: `{year}` is not a year"))?,
                })
            }
            "value" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let [table, key, column, value, tolerance] = parts[..] else {
                    return Err(format!(
                        "check `{spec}`: expected value:TABLE:KEY_COLUMN=KEY:COLUMN:VALUE:FACTOR"
                    ));
                };
                let (key_column, key) = key_of(key)?;
                let claimed: f64 = value
                    .parse()
                    .map_err(|_| format!("check `{spec}`: `{value}` is not a number"))?;
                let tolerance: f64 = tolerance
                    .parse()
                    .map_err(|_| format!("check `{spec}`: `{tolerance}` is not a number"))?;
                if !(claimed.is_finite() && claimed != 0.0) {
                    return Err(format!("check `{spec}`: the claimed value must be finite and non-zero"));
                }
                if !(tolerance.is_finite() && tolerance >= 1.0) {
                    return Err(format!("check `{spec}`: the tolerance factor must be at least 1"));
                }
                Ok(Check::Value {
                    table: table.into(),
                    key_column,
                    key,
                    column: column.into(),
                    claimed,
                    tolerance,
                })
            }
            "trend" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let [table, x, y, from, to] = parts[..] else {
                    return Err(format!("check `{spec}`: expected trend:TABLE:X:Y:FROM:TO"));
                };
                let year = |t: &str| -> Result<f64, String> {
                    t.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| format!("check `{spec}`: `{t}` is not a year"))
                };
                let (from, to) = (year(from)?, year(to)?);
                if from >= to {
                    return Err(format!("check `{spec}`: FROM must be before TO"));
                }
                Ok(Check::Trend {
                    table: table.into(),
                    x: x.into(),
                    y: y.into(),
                    from,
                    to,
                })
            }
            _ => Err(format!(
                "check `{spec}`: unknown or empty kind `{kind}` (computed:, year:, value:, trend:, outside:)"
            )),
        }
    }
}

/// One claim of the seed report, as the catalogue lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueEntry {
    /// Running number, in the report's order.
    pub entry: usize,
    /// Claim id; a claim made again elsewhere in the report keeps its id.
    pub id: String,
    /// Section and line of the report's text.
    pub location: String,
    /// The report's wording.
    pub quote_zh: String,
    /// The claim in English.
    pub claim_en: String,
    /// number, rate, date-event, count, cost, market, forecast, qualitative-with-number.
    pub kind: String,
    /// The source the report draws on, or `none named`.
    pub attributed_to: String,
    /// The checks that decide it.
    pub checks: Vec<Check>,
    /// Notes: the report contradicting itself, revised estimates.
    pub note: String,
    /// CSV line.
    pub line: usize,
}

/// Reads `data_dir/seed_claims.csv`. A malformed line is an error naming it.
pub fn load_catalogue(data_dir: &Path) -> Result<Vec<CatalogueEntry>, AnalysisError> {
    let path = data_dir.join(CATALOGUE_FILE);
    let mut reader = csv::Reader::from_path(&path).map_err(|e| AnalysisError::Csv {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| AnalysisError::Csv {
            path: path.clone(),
            message: e.to_string(),
        })?
        .clone();
    let column = |name: &str| -> Result<usize, AnalysisError> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| AnalysisError::MissingColumn {
                path: path.clone(),
                column: name.to_string(),
            })
    };
    let names = [
        "entry",
        "id",
        "location",
        "quote_zh",
        "claim_en",
        "kind",
        "attributed_to",
        "checks",
        "note",
    ];
    let at: Vec<usize> = names.iter().map(|n| column(n)).collect::<Result<_, _>>()?;
    let mut entries = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| AnalysisError::Csv {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let bad = |message: String| AnalysisError::BadCatalogueEntry {
            path: path.clone(),
            line,
            message,
        };
        let field = |i: usize| record.get(at[i]).unwrap_or("").trim().to_string();
        let entry = field(0)
            .parse()
            .map_err(|_| bad(format!("entry `{}` is not a number", field(0))))?;
        for (i, name) in names.iter().enumerate().take(8) {
            if field(i).is_empty() {
                return Err(bad(format!("column `{name}` must not be empty")));
            }
        }
        let checks = field(7)
            .split(" && ")
            .map(Check::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        entries.push(CatalogueEntry {
            entry,
            id: field(1),
            location: field(2),
            quote_zh: field(3),
            claim_en: field(4),
            kind: field(5),
            attributed_to: field(6),
            checks,
            note: field(8),
            line,
        });
    }
    Ok(entries)
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The check.
    pub check: Check,
    /// Whether it holds; `None` when it cannot be decided with the bundled data.
    pub holds: Option<bool>,
    /// What the data say, with the numbers.
    pub finding: String,
}

/// One catalogue entry with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgedEntry {
    /// The entry.
    pub entry: CatalogueEntry,
    /// The rubric's verdict.
    pub verdict: ClaimVerdict,
    /// Why, in one sentence.
    pub finding: String,
    /// Each check's result.
    pub outcomes: Vec<Outcome>,
}

/// How many judged entries got each verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    /// Entries judged.
    pub total: usize,
    /// Supported.
    pub supported: usize,
    /// Partly.
    pub partly: usize,
    /// Not supported.
    pub not_supported: usize,
    /// Cannot be checked.
    pub cannot_be_checked: usize,
}

impl VerdictCounts {
    /// Counts the verdicts of `judged`.
    pub fn of(judged: &[JudgedEntry]) -> VerdictCounts {
        let count = |v: ClaimVerdict| judged.iter().filter(|j| j.verdict == v).count();
        VerdictCounts {
            total: judged.len(),
            supported: count(ClaimVerdict::Supported),
            partly: count(ClaimVerdict::Partly),
            not_supported: count(ClaimVerdict::NotSupported),
            cannot_be_checked: count(ClaimVerdict::CannotBeChecked),
        }
    }
}

/// The rubric, applied to the outcomes of an entry's own checks (not `computed:` ones,
/// whose verdict comes from [`crate::claims`]):
///
/// * **supported**: every check holds, like for like within the claim's stated precision;
/// * **partly**: some checks hold and others fail or cannot be decided; the finding names
///   which hold;
/// * **not supported**: every decidable check fails; the finding gives the data's figure;
/// * **cannot be checked**: no check can be decided with the bundled data; the finding says
///   which data are missing.
pub fn rubric(outcomes: &[Outcome]) -> (ClaimVerdict, String) {
    let held: Vec<&Outcome> = outcomes.iter().filter(|o| o.holds == Some(true)).collect();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.holds == Some(false)).collect();
    let open: Vec<&Outcome> = outcomes.iter().filter(|o| o.holds.is_none()).collect();
    let join = |list: &[&Outcome]| list.iter().map(|o| o.finding.as_str()).collect::<Vec<_>>().join("; ");
    match (held.is_empty(), failed.is_empty(), open.is_empty()) {
        (_, _, _) if outcomes.is_empty() => (ClaimVerdict::CannotBeChecked, "no check listed".into()),
        (true, true, false) => (ClaimVerdict::CannotBeChecked, join(&open)),
        (false, true, true) => (ClaimVerdict::Supported, join(&held)),
        (true, false, _) => {
            let mut text = join(&failed);
            if !open.is_empty() {
                text = format!("{text}; not decidable here: {}", join(&open));
            }
            (ClaimVerdict::NotSupported, text)
        }
        _ => {
            let mut parts = vec![format!("holds: {}", join(&held))];
            if !failed.is_empty() {
                parts.push(format!("does not hold: {}", join(&failed)));
            }
            if !open.is_empty() {
                parts.push(format!("not decidable here: {}", join(&open)));
            }
            (ClaimVerdict::Partly, parts.join("; "))
        }
    }
}

/// Compact number for findings: `8.61e10`, `7000`, `0.5`.
fn number(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-2) {
        format!("{v:.3e}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

/// The tables the checks read, loaded once each.
struct Tables<'a> {
    data_dir: &'a Path,
    loaded: BTreeMap<String, Table>,
}

impl Tables<'_> {
    fn get(&mut self, name: &str) -> Result<&Table, String> {
        if !self.loaded.contains_key(name) {
            let table = load_bundled(name, self.data_dir).map_err(|e| e.to_string())?;
            self.loaded.insert(name.to_string(), table);
        }
        Ok(&self.loaded[name])
    }

    /// How a row is named in findings: its key, and the row's name where the key is a
    /// number (`networks.csv label 10, Deep belief network`).
    fn name(&mut self, table: &str, key_column: &str, key: &str, row: usize) -> String {
        let named = ["network", "model", "name", "machine", "system", "species"]
            .iter()
            .filter(|c| **c != key_column)
            .find_map(|c| self.get(table).ok()?.text(c).ok()?.get(row).cloned().flatten());
        match named {
            Some(name) if name != key => format!("{key_column} {key} ({name})"),
            _ => key.to_string(),
        }
    }

    /// The row's name for findings and its number (a date as a decimal year) in `column`.
    fn cell(
        &mut self,
        table: &str,
        key_column: &str,
        key: &str,
        column: &str,
    ) -> Result<(String, Option<f64>), String> {
        let row = self.row(table, key_column, key)?;
        let value = self.get(table)?.numbers(column).map_err(|e| e.to_string())?[row];
        Ok((self.name(table, key_column, key, row), value))
    }

    /// The index of the one row whose `key_column` is `key`.
    fn row(&mut self, name: &str, key_column: &str, key: &str) -> Result<usize, String> {
        let table = self.get(name)?;
        let keys = table.text(key_column).map_err(|e| e.to_string())?;
        let rows: Vec<usize> = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.as_deref() == Some(key))
            .map(|(i, _)| i)
            .collect();
        match rows[..] {
            [one] => Ok(one),
            [] => Err(format!("{name}.csv has no row with {key_column} = `{key}`")),
            _ => Err(format!(
                "{name}.csv has {} rows with {key_column} = `{key}`",
                rows.len()
            )),
        }
    }
}

fn outcome(check: &Check, tables: &mut Tables<'_>) -> Result<Outcome, String> {
    let (holds, finding) = match check {
        Check::Computed { claim } => return Err(format!("`computed:{claim}` cannot be mixed with other checks")),
        Check::Outside { needs } => (None, format!("outside braingap's data (needs {needs})")),
        Check::Trend { table, x, y, from, to } => {
            let mut request = crate::trend::FitRequest::new(table, x, y);
            request.from = Some(*from);
            request.to = Some(*to);
            let fit = crate::trend::run_fit_request(&request, tables.data_dir).map_err(|e| e.to_string())?;
            let grows = fit.slope_ci95[0].is_some_and(|low| low > 0.0);
            let [lo, hi] = fit.doubling_time_ci95;
            let side = |v: Option<f64>| v.map_or("unbounded".to_string(), |v| format!("{v:.2}"));
            (
                Some(grows),
                format!(
                    "{y} in {table}.csv, {from}-{to}: {} (doubling {:.2} years, 95 % CI {}-{}, n = {})",
                    if grows {
                        "grows exponentially"
                    } else {
                        "no sustained exponential growth"
                    },
                    fit.doubling_time_years.unwrap_or(f64::NAN),
                    side(lo),
                    side(hi),
                    fit.n
                ),
            )
        }
        Check::Year {
            table,
            key_column,
            key,
            date_column,
            claimed,
        } => {
            let (key, value) = tables.cell(table, key_column, key, date_column)?;
            match value {
                None => (None, format!("{key} has no {date_column} in {table}.csv")),
                Some(year) => {
                    let year = year.floor() as i32;
                    let holds = year == *claimed;
                    (
                        Some(holds),
                        if holds {
                            format!("{key}: {year} ({table}.csv {date_column}), as claimed")
                        } else {
                            format!("{key}: {year} ({table}.csv {date_column}), not {claimed}")
                        },
                    )
                }
            }
        }
        Check::Value {
            table,
            key_column,
            key,
            column,
            claimed,
            tolerance,
        } => {
            let (key, value) = tables.cell(table, key_column, key, column)?;
            match value {
                None => (None, format!("{key} has no {column} in {table}.csv")),
                Some(v) => {
                    let ratio = v / claimed;
                    let holds = ratio > 0.0 && ratio <= *tolerance && ratio >= 1.0 / tolerance;
                    (
                        Some(holds),
                        format!(
                            "{key} {column} = {} ({table}.csv), {} the claimed {} (ratio {:.3}; agreement needs a factor {tolerance})",
                            number(v),
                            if holds { "within a factor of" } else { "outside a factor of" },
                            number(*claimed),
                            ratio
                        ),
                    )
                }
            }
        }
    };
    Ok(Outcome {
        check: check.clone(),
        holds,
        finding,
    })
}

/// Judges every catalogue entry: `computed:` entries take the verdict of the claim of that
/// id in `computed` (which must exist); the others go through [`rubric`]. A check naming
/// a table, column or row that does not exist is an error naming the catalogue line.
pub fn judge_catalogue(data_dir: &Path, computed: &[Claim]) -> Result<Vec<JudgedEntry>, AnalysisError> {
    let path: PathBuf = data_dir.join(CATALOGUE_FILE);
    let mut tables = Tables {
        data_dir,
        loaded: BTreeMap::new(),
    };
    load_catalogue(data_dir)?
        .into_iter()
        .map(|entry| {
            let bad = |message: String| AnalysisError::BadCatalogueEntry {
                path: path.clone(),
                line: entry.line,
                message,
            };
            if let [Check::Computed { claim }] = &entry.checks[..] {
                let found = computed
                    .iter()
                    .find(|c| c.id == claim)
                    .ok_or_else(|| bad(format!("no computed claim `{claim}`")))?;
                return Ok(JudgedEntry {
                    verdict: found.verdict,
                    finding: format!("judged by `braingap claims` ({}): {}", found.id, found.finding),
                    outcomes: Vec::new(),
                    entry,
                });
            }
            let outcomes = entry
                .checks
                .iter()
                .map(|c| outcome(c, &mut tables))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?;
            let (verdict, finding) = rubric(&outcomes);
            Ok(JudgedEntry {
                entry,
                verdict,
                finding,
                outcomes,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::bundled_data_dir;

    fn o(holds: Option<bool>, finding: &str) -> Outcome {
        Outcome {
            check: Check::Outside { needs: "x".into() },
            holds,
            finding: finding.into(),
        }
    }

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        assert_eq!(
            Check::parse("year:networks:label=10:year:2006").unwrap(),
            Check::Year {
                table: "networks".into(),
                key_column: "label".into(),
                key: "10".into(),
                date_column: "year".into(),
                claimed: 2006
            }
        );
        let v = Check::parse("value:species:id=human:neurons_count:1e11:1.5").unwrap();
        assert!(matches!(v, Check::Value { claimed, tolerance, .. } if claimed == 1e11 && tolerance == 1.5));
        assert_eq!(
            Check::parse("outside: layer counts: not in the tables").unwrap(),
            Check::Outside {
                needs: "layer counts: not in the tables".into()
            }
        );
        assert_eq!(
            Check::parse("computed:c_elegans_302_7000").unwrap().to_string(),
            "computed:c_elegans_302_7000"
        );
        assert_eq!(
            Check::parse("trend:training_compute:publication_date:parameters_count:1950:2021")
                .unwrap()
                .to_string(),
            "trend:training_compute:publication_date:parameters_count:1950:2021"
        );
        for (bad, says) in [
            (
                "trend:koomey:year:computations_per_kWh:2009:1946",
                "FROM must be before TO",
            ),
            ("year:networks:label=10:year:twenty", "is not a year"),
            ("value:species:id=human:neurons_count:1e11:0.5", "at least 1"),
            ("value:species:human:neurons_count:1e11:2", "KEY_COLUMN=KEY"),
            ("guess:whatever", "unknown or empty kind"),
            ("outside:", "unknown or empty kind"),
            ("no kind at all", "has no kind"),
        ] {
            let e = Check::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_rubric_gives_each_verdict() {
        assert_eq!(
            rubric(&[o(Some(true), "a"), o(Some(true), "b")]).0,
            ClaimVerdict::Supported
        );
        let (v, text) = rubric(&[o(Some(true), "date ok"), o(None, "depth missing")]);
        assert_eq!(v, ClaimVerdict::Partly);
        assert!(
            text.contains("holds: date ok") && text.contains("not decidable here: depth missing"),
            "{text}"
        );
        let (v, text) = rubric(&[o(Some(true), "a"), o(Some(false), "b is 3x off")]);
        assert_eq!(v, ClaimVerdict::Partly);
        assert!(text.contains("does not hold: b is 3x off"), "{text}");
        let (v, text) = rubric(&[o(Some(false), "1981, not 1987"), o(None, "n")]);
        assert_eq!(v, ClaimVerdict::NotSupported);
        assert!(text.starts_with("1981, not 1987"), "{text}");
        let (v, text) = rubric(&[o(None, "needs market data")]);
        assert_eq!(v, ClaimVerdict::CannotBeChecked);
        assert_eq!(text, "needs market data");
        assert_eq!(rubric(&[]).0, ClaimVerdict::CannotBeChecked);
    }

    /// A catalogue in a scratch data directory, beside copies of two bundled tables.
    fn scratch(catalogue: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for table in ["species.csv", "koomey.csv"] {
            std::fs::copy(bundled_data_dir().join(table), dir.path().join(table)).unwrap();
        }
        std::fs::write(dir.path().join(CATALOGUE_FILE), catalogue).unwrap();
        dir
    }

    const HEADER: &str = "entry,id,location,quote_zh,claim_en,kind,attributed_to,checks,note\n";

    #[test]
    fn year_and_value_checks_read_the_bundled_rows() {
        let dir = scratch(&format!(
            "{HEADER}1,pc,\"§ a, line 59\",个人电脑,IBM PC in 1987,date-event,none named,year:koomey:machine=IBM PC:year:1987,\n\
             2,human,\"§ b, line 181\",人脑,1e11 neurons and 20 W,count,none named,value:species:id=human:neurons_count:1e11:1.5 && value:species:id=human:brain_power_W:20:1.1 && outside:whole-brain synapse census,\n\
             3,apple,\"§ a, line 59\",苹果,Apple II in 1977,date-event,none named,year:koomey:machine=Apple II:year:1977,\n\
             4,koomey,\"§ c, line 1\",能效,efficiency grew exponentially 1946-2009,rate,Koomey,trend:koomey:year:computations_per_kWh:1946:2009,\n"
        ));
        let judged = judge_catalogue(dir.path(), &[]).unwrap();
        assert_eq!(judged[0].verdict, ClaimVerdict::NotSupported, "{:?}", judged[0]);
        assert!(judged[0].finding.contains("not 1987"), "{}", judged[0].finding);
        assert_eq!(judged[1].verdict, ClaimVerdict::Partly, "{:?}", judged[1]);
        assert_eq!(judged[1].outcomes.iter().filter(|o| o.holds == Some(true)).count(), 2);
        assert_eq!(judged[2].verdict, ClaimVerdict::Supported, "{:?}", judged[2]);
        assert_eq!(judged[3].verdict, ClaimVerdict::Supported, "{:?}", judged[3]);
        assert!(
            judged[3].finding.contains("doubling 1.57 years"),
            "{}",
            judged[3].finding
        );
    }

    #[test]
    fn a_check_on_a_missing_row_or_column_names_the_catalogue_line() {
        for (spec, says) in [
            ("year:koomey:machine=IBM XT:year:1983", "no row with machine = `IBM XT`"),
            ("value:species:id=human:wingspan:1:2", "wingspan"),
            ("value:galaxies:id=human:neurons_count:1:2", "galaxies"),
            ("computed:nope", "no computed claim `nope`"),
        ] {
            let dir = scratch(&format!("{HEADER}1,a,l,q,c,count,none named,{spec},\n"));
            let e = judge_catalogue(dir.path(), &[]).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("seed_claims.csv:2"), "{text}");
            assert!(text.contains(says), "{spec}: {text}");
        }
        let dir = scratch(&format!("{HEADER}1,a,l,q,c,count,,outside:x,\n"));
        let e = load_catalogue(dir.path()).unwrap_err().to_string();
        assert!(e.contains("seed_claims.csv:2") && e.contains("attributed_to"), "{e}");
    }

    /// The bundled catalogue: every entry is judged, entries run 1..N in the report's
    /// order, and every claim `braingap claims` computes has an entry.
    #[test]
    fn the_bundled_catalogue_covers_the_computed_claims() {
        let dir = bundled_data_dir();
        let computed = crate::claims::check_claims(&dir).unwrap();
        let judged = judge_catalogue(&dir, &computed).unwrap();
        assert!(judged.len() >= 100, "{}", judged.len());
        for (i, j) in judged.iter().enumerate() {
            assert_eq!(j.entry.entry, i + 1);
        }
        for claim in &computed {
            assert!(
                judged.iter().any(|j| j.entry.checks
                    == [Check::Computed {
                        claim: claim.id.to_string()
                    }]),
                "{} has no catalogue entry",
                claim.id
            );
        }
        for verdict in [
            ClaimVerdict::Supported,
            ClaimVerdict::NotSupported,
            ClaimVerdict::CannotBeChecked,
        ] {
            assert!(judged.iter().any(|j| j.verdict == verdict), "{verdict}");
        }
    }
}
