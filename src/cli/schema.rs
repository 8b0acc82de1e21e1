//! `lifeboat schema`: draft a schema from a CSV file, for a person to edit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use lifeboat::schema::Schema;
use lifeboat::schema::infer::SchemaDraft;

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
    #[arg(long, default_value = "model")]
    name: String,
    /// Where to write the draft (default: standard output).
    #[arg(long, value_name = "TOML")]
    out: Option<PathBuf>,
}

pub fn run(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let schema = infer(&args.data, &args.target, &args.name, false)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, schema.to_toml())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{}", schema.to_toml()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the whole CSV once and drafts a schema, printing what was left out.
/// With `classifier`, a target that is not a column of classes is an error.
pub fn infer(data: &Path, target: &str, name: &str, classifier: bool) -> anyhow::Result<Schema> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(data)
        .with_context(|| format!("cannot open {}", data.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("cannot read the header of {}", data.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut draft = SchemaDraft::new(header, target)?;
    for record in reader.records() {
        let record = record.with_context(|| format!("{} is not valid CSV", data.display()))?;
        draft.observe(record.iter());
    }
    let (schema, left_out) = if classifier {
        draft.finish_classifier(name)?
    } else {
        draft.finish(name)?
    };
    for l in &left_out {
        eprintln!("note: column {:?} left out: {}", l.column, l.why);
    }
    Ok(schema)
}
