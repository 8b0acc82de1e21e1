//! `lifeboat schema`: draft a schema from a CSV file, for a person to edit.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use lifeboat::csvfile::{TableReader, TableRow};
use lifeboat::quote::quoted;
use lifeboat::schema::Schema;
use lifeboat::schema::infer::SchemaDraft;
use lifeboat::spreadsheet::{self, Separator};

/// Draft a schema (TOML) from a CSV file: which columns are numbers and which
/// categories, their observed ranges and values, and which columns were left
/// out and why. Edit the draft (labels, help, Spanish texts, ranges, defaults),
/// then pass it to `lifeboat train --schema`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  lifeboat schema --data train.csv --target Survived --out titanic.toml"
)]
pub struct SchemaArgs {
    /// A CSV file with a header line.
    #[arg(long, value_name = "CSV")]
    data: PathBuf,
    /// The column the model will predict.
    #[arg(long, value_name = "COLUMN")]
    target: String,
    /// The model's machine name (used in URLs).
    #[arg(long, default_value = "model", value_parser = machine_name)]
    name: String,
    /// Where to write the draft (default: standard output).
    #[arg(long, value_name = "TOML")]
    out: Option<PathBuf>,
}

fn machine_name(name: &str) -> Result<String, String> {
    if lifeboat::schema::is_machine_name(name) {
        Ok(name.to_string())
    } else {
        Err(lifeboat::schema::SchemaError::BadName(name.to_string()).to_string())
    }
}

/// Rows that cannot be read, shown with their reasons before the rest are only counted.
const SHOW_SKIPPED: usize = 20;

pub fn run(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        super::refuse_overwriting(&args.data, out, ("--out", "--data"))?;
    }
    let schema = infer(&args.data, &args.target, &args.name, false)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, schema.to_toml())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => out!("{}", schema.to_toml())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the whole CSV once and drafts a schema, printing what was left out
/// and notes on bad cells. `for_training`: the draft of a classifier (a target
/// that is not a column of classes is an error), and the rows that cannot be
/// read are left for training to report; otherwise they are reported here.
pub fn infer(data: &Path, target: &str, name: &str, for_training: bool) -> anyhow::Result<Schema> {
    let file = File::open(data).with_context(|| format!("cannot open {}", data.display()))?;
    let mut table = TableReader::new(BufReader::new(file))
        .with_context(|| format!("cannot read {}", data.display()))?;
    if !for_training && table.separator() == Separator::Semicolon {
        eprintln!("note: {}", spreadsheet::SEMICOLONS_NOTE);
    }
    let mut draft = SchemaDraft::new(table.header().to_vec(), target)?;
    let mut skipped = Vec::new();
    let mut n_skipped = 0u64;
    while let Some(row) = table
        .next_row()
        .with_context(|| format!("cannot read {}", data.display()))?
    {
        match row {
            TableRow::Cells(cells) => draft.observe(cells.line, cells.iter()),
            TableRow::Rejected { line, reason } => {
                n_skipped += 1;
                if skipped.len() < SHOW_SKIPPED {
                    skipped.push(format!("  line {line}: {reason}"));
                }
            }
        }
    }
    if !for_training && table.windows1252() {
        eprintln!("note: {}", spreadsheet::WINDOWS_1252_NOTE);
    }
    if !for_training && n_skipped > 0 {
        eprintln!("skipped {n_skipped} row(s) that cannot be read:");
        for s in &skipped {
            eprintln!("{s}");
        }
        if n_skipped > skipped.len() as u64 {
            eprintln!("  ... and {} more", n_skipped - skipped.len() as u64);
        }
    }
    let drafted = if for_training {
        draft.finish_classifier(name)?
    } else {
        draft.finish(name)?
    };
    for l in &drafted.left_out {
        eprintln!("note: column {} left out: {}", quoted(&l.column), l.why);
    }
    for note in &drafted.notes {
        eprintln!("note: {note}");
    }
    Ok(drafted.schema)
}
