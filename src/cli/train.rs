//! `lifeboat train`: fit models on a CSV file and write the best one.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use sha2::{Digest, Sha256};

use super::table;
use lifeboat::csvfile::{TableReader, TableRow};
use lifeboat::model::file;
use lifeboat::quote::quoted;
use lifeboat::schema::Schema;
use lifeboat::spreadsheet::{self, Separator};
use lifeboat::train::{self, DatasetBuilder, Learner, Progress, Provenance, TrainOptions};

/// Train a model on a CSV file and write it as one self-checking model file.
///
/// Each learner is scored by stratified k-fold cross-validation (every row is
/// predicted by a model that never saw it); the one with the lowest log loss is
/// then fitted on all rows. Without --schema, a schema is drafted from the data
/// and written beside the model for you to edit (labels, help texts, Spanish
/// translations, ranges) and train again with --schema.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  lifeboat train --data train.csv --target Survived --schema examples/titanic/titanic.toml --out titanic.lifeboat"
)]
pub struct TrainArgs {
    /// The training data: a CSV file with a header line.
    #[arg(long, value_name = "CSV")]
    data: PathBuf,
    /// The column to predict (its values become the classes).
    #[arg(long, value_name = "COLUMN")]
    target: String,
    /// A schema in TOML naming the input fields, their kinds, labels and ranges.
    /// Columns of the CSV file that the schema does not name are not used.
    #[arg(long, value_name = "TOML")]
    schema: Option<PathBuf>,
    /// Which learner to fit: auto tries them all and keeps the best by log loss.
    #[arg(long, default_value = "auto", value_parser = learner_names())]
    learner: String,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(2..=train::cv::MAX_FOLDS as i64))]
    folds: u32,
    /// The random seed: the same data, schema, learner and seed give the same file.
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    seed: u64,
    /// Where to write the model file (in a directory that exists). Without
    /// --schema, the drafted schema is written beside it (m.lifeboat:
    /// m.schema.toml) and kept even when training fails, for you to edit.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn learner_names() -> Vec<&'static str> {
    std::iter::once("auto")
        .chain(Learner::ALL.iter().map(|l| l.name()))
        .collect()
}

/// Hashes everything read through it, so the data is fingerprinted in one pass.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    super::refuse_overwriting(&args.data, &args.out, ("--out", "--data"))?;
    if let Some(schema) = &args.schema {
        super::refuse_overwriting(schema, &args.out, ("--out", "--schema"))?;
    } else {
        let draft = draft_path(&args.out);
        super::refuse_overwriting(&args.data, &draft, ("the drafted schema", "--data"))?;
    }
    let learners = match args.learner.as_str() {
        "auto" => Learner::ALL.to_vec(),
        name => vec![Learner::from_name(name).context("unknown learner")?],
    };
    // Before anything is drafted or read: a bad --out would only fail at the end.
    check_out(&args.out, args.schema.is_none())?;
    let (schema, drafted) = match &args.schema {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the schema {}", path.display()))?;
            let schema = Schema::from_toml(&text)
                .with_context(|| format!("the schema {} is not valid", path.display()))?;
            if schema.target.name != args.target {
                bail!(
                    "the schema's target is {} but --target is {}; make them the same",
                    quoted(&schema.target.name),
                    quoted(&args.target)
                );
            }
            (schema, None)
        }
        None => {
            let (schema, path) = draft_schema(&args)?;
            (schema, Some(path))
        }
    };
    // A draft stays when training fails: it is the file to edit (fields,
    // classes) before trying again, so the error says where it is.
    train_and_write(&args, learners, schema).map_err(|e| match drafted {
        Some(path) => anyhow!(
            "{e:#}\nthe schema drafted from the data is kept in {}: edit it and train again with --schema",
            path.display()
        ),
        None => e,
    })
}

/// Checks that `--out` can name a new model file (and, when a schema will be
/// drafted, that the draft's path is free to write), so that a mistake there
/// stops the command before anything is drafted, read or trained.
fn check_out(out: &Path, drafting: bool) -> anyhow::Result<()> {
    let text = out.as_os_str().to_string_lossy();
    if out.is_dir() || text.ends_with(std::path::MAIN_SEPARATOR) || out.file_name().is_none() {
        bail!(
            "--out {} is a directory, not a file name; give the model file's name, such as {}",
            out.display(),
            out.join("model.lifeboat").display()
        );
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!(
            "--out {}: the directory {} does not exist; create it first, or write the model elsewhere",
            out.display(),
            parent.display()
        );
    }
    let draft = draft_path(out);
    if drafting && draft.is_dir() {
        bail!(
            "the schema drafted for --out {} would be written to {}, which is a directory; \
             choose another --out, or pass a schema with --schema",
            out.display(),
            draft.display()
        );
    }
    Ok(())
}

/// Reads the data through `schema`, trains, and writes the model to `--out`.
fn train_and_write(
    args: &TrainArgs,
    learners: Vec<Learner>,
    schema: Schema,
) -> anyhow::Result<ExitCode> {
    let file = File::open(&args.data)
        .with_context(|| format!("cannot open the training data {}", args.data.display()))?;
    let mut hashing = Hashing {
        inner: BufReader::new(file),
        hasher: Sha256::new(),
    };
    let dataset = {
        let cannot_read = || format!("cannot read {}", args.data.display());
        let mut table = TableReader::new(&mut hashing).with_context(cannot_read)?;
        if table.separator() == Separator::Semicolon {
            eprintln!("note: {}", spreadsheet::SEMICOLONS_NOTE);
        }
        let header: Vec<&str> = table.header().iter().map(String::as_str).collect();
        let mut builder = DatasetBuilder::new(&schema, &header)
            .with_context(|| format!("{} does not fit the schema", args.data.display()))?;
        while let Some(row) = table.next_row().with_context(cannot_read)? {
            match row {
                TableRow::Cells(cells) => builder.push(cells.line, |i| cells.get(i)),
                TableRow::Rejected { line, reason } => builder.skip(line, reason),
            }
        }
        if table.windows1252() {
            eprintln!("note: {}", spreadsheet::WINDOWS_1252_NOTE);
        }
        builder.finish()
    };
    // Read any bytes the CSV reader left, so the fingerprint covers the whole file.
    std::io::copy(&mut hashing, &mut std::io::sink())?;
    let data_sha256 = file::hex(&hashing.hasher.finalize());

    report_skipped(&dataset);
    report_classes_without_rows(&schema, &dataset);
    if !dataset.unused_columns.is_empty() {
        eprintln!(
            "note: columns not in the schema, so not used: {}",
            lifeboat::quote::name_list(dataset.unused_columns.iter().map(String::as_str))
        );
    }

    let options = TrainOptions {
        learners,
        folds: args.folds as usize,
        seed: args.seed,
    };
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(train::progress_steps(&options)),
        super::progress_target(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let provenance = Provenance {
        data_file: file_name(&args.data),
        data_sha256,
        created: created_time()?,
    };
    let model = train::train(schema, &dataset, &options, provenance, &mut |p| {
        match p {
            Progress::Fold {
                learner,
                fold,
                folds,
            } => {
                bar.set_message(format!("{}: fold {}/{folds}", learner.name(), fold + 1));
            }
            Progress::Final { learner } => {
                bar.set_message(format!("{}: fitting on all rows", learner.name()));
            }
            Progress::Skipped {
                learner,
                reason,
                folds_not_run,
            } => {
                bar.suspend(|| {
                    eprintln!(
                        "note: {} is left out, and the other learners compared: {reason}",
                        learner.description()
                    )
                });
                bar.inc(folds_not_run as u64);
                return;
            }
        }
        bar.inc(1);
    })
    .context("training failed")?;
    bar.finish_and_clear();

    let bytes = file::to_bytes(&model);
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write the model to {}", args.out.display()))?;

    if let Some(cv) = &model.report.cross_validation {
        outln!(
            "{} rows, {}-fold stratified cross-validation (seed {}):\n",
            dataset.rows.len(),
            cv.folds,
            args.seed
        )?;
        let classes: Vec<&str> = model
            .schema
            .classes()
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        out!("{}", table::cross_validation(cv, &classes).render())?;
        outln!()?;
    }
    outln!(
        "kept: {} -> wrote {} ({} bytes)",
        model.report.learner,
        args.out.display(),
        bytes.len()
    )?;
    if args.schema.is_none() {
        outln!(
            "the schema was drafted from the data; edit {} and train again with --schema",
            draft_path(&args.out).display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report_skipped(dataset: &train::Dataset) {
    if dataset.skipped == 0 {
        return;
    }
    eprintln!(
        "skipped {} row(s) that cannot be used for training:",
        dataset.skipped
    );
    for s in &dataset.skipped_examples {
        eprintln!("  line {}: {}", s.line, s.reason);
    }
    let shown = dataset.skipped_examples.len() as u64;
    if dataset.skipped > shown {
        eprintln!("  ... and {} more", dataset.skipped - shown);
    }
}

/// Warns about classes the schema lists but no row has: the model would give
/// them a probability near 0 for every input, whatever the input.
fn report_classes_without_rows(schema: &Schema, dataset: &train::Dataset) {
    let classes = schema.classes();
    let missing: Vec<String> = dataset
        .classes_without_rows()
        .into_iter()
        .filter_map(|i| classes.get(i))
        .map(|c| quoted(&c.value).to_string())
        .collect();
    if missing.is_empty() {
        return;
    }
    let (noun, verb, them) = if missing.len() == 1 {
        ("class", "has", "it")
    } else {
        ("classes", "have", "them")
    };
    eprintln!(
        "warning: the {noun} {} of {} {verb} no rows in the data, so the model will give \
         {them} a probability near 0 for every input; remove {them} from the schema's classes, \
         or add rows that have {them}",
        missing.join(", "),
        quoted(&schema.target.name),
    );
}

/// Drafts a schema from the data and writes it beside the model; returns it
/// and where it was written.
fn draft_schema(args: &TrainArgs) -> anyhow::Result<(Schema, PathBuf)> {
    let name = args
        .out
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model")
        .to_string();
    let schema = super::schema::infer(&args.data, &args.target, &name, true)?;
    let path = draft_path(&args.out);
    let toml = schema.to_toml();
    // A schema the user has edited is their work: never write over it.
    if let Ok(existing) = std::fs::read_to_string(&path)
        && existing != toml
    {
        bail!(
            "{path} already exists and is not the schema this data drafts (was it edited?); \
             train with it: --schema {path}, or delete it to draft a new one",
            path = path.display()
        );
    }
    std::fs::write(&path, toml)
        .with_context(|| format!("cannot write the drafted schema to {}", path.display()))?;
    eprintln!("drafted a schema from the data: {}", path.display());
    Ok((schema, path))
}

fn draft_path(out: &Path) -> PathBuf {
    out.with_extension("schema.toml")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The training time, or SOURCE_DATE_EPOCH when set (reproducible builds).
fn created_time() -> anyhow::Result<String> {
    let time = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => {
            let secs: i64 = s.trim().parse().with_context(|| {
                format!(
                    "SOURCE_DATE_EPOCH={} is not a number of seconds",
                    quoted(&s)
                )
            })?;
            time::OffsetDateTime::from_unix_timestamp(secs)
                .with_context(|| format!("SOURCE_DATE_EPOCH={s} is out of range"))?
        }
        Err(_) => time::OffsetDateTime::now_utc(),
    };
    Ok(time.format(&time::format_description::well_known::Rfc3339)?)
}
