//! `lifeboat predict`: score a CSV file, streaming.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use lifeboat::batch::{self, BatchError, BatchOptions};
use lifeboat::schema::Lang;
use lifeboat::source;
use lifeboat::spreadsheet::{self, Separator};

/// Failures printed one by one before the rest are only counted.
const PRINT_FAILURES: u64 = 50;

/// Score a CSV file: every input column is kept, and `prediction`, `label` and
/// one `probability_<class>` column per class are added (with --explain, also
/// `base` and one `contribution_<field>` column per field).
///
/// The file is streamed, so memory stays flat however large it is. A row that
/// fails validation is reported with its line number and skipped; the exit
/// code is 1 if any row was skipped (with --strict, the first bad row stops the
/// run with exit code 2).
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  lifeboat predict --input test.csv --output predictions.csv")]
pub struct PredictArgs {
    /// The model: a .lifeboat file, a scikit-learn .pkl/.joblib file, an .onnx file, or
    /// builtin:NAME (default: the built-in Titanic model).
    #[arg(long, env = "LIFEBOAT_MODEL", value_name = "MODEL")]
    model: Option<String>,
    /// For an imported model: a schema (TOML) giving its inputs names, labels
    /// and ranges, e.g. for a model trained on a bare numpy array.
    #[arg(long, env = "LIFEBOAT_SCHEMA", value_name = "TOML")]
    schema: Option<PathBuf>,
    /// The CSV file to score, with a header line ("-" for standard input).
    #[arg(long, value_name = "CSV")]
    input: PathBuf,
    /// Where to write the scored CSV ("-" or omitted: standard output).
    #[arg(long, value_name = "CSV")]
    output: Option<PathBuf>,
    /// Add per-field contributions (why each prediction came out as it did).
    #[arg(long)]
    explain: bool,
    /// Stop at the first row that fails validation.
    #[arg(long)]
    strict: bool,
    /// The language of the label column.
    #[arg(long, default_value = "en", value_parser = ["en", "es"])]
    lang: String,
    /// Threads that score rows (default: one per core; at most 1024). The
    /// output is the same, in the same order, for any number.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
}

pub fn run(args: PredictArgs) -> anyhow::Result<ExitCode> {
    if let Some(output) = args.output.as_deref().filter(|p| p.as_os_str() != "-") {
        super::refuse_overwriting(&args.input, output, ("--output", "--input"))?;
    }
    let loaded = source::load(args.model.as_deref(), args.schema.as_deref())?;
    let (input, size): (Box<dyn Read>, Option<u64>) = if args.input.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 16, f)), size)
    };
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let output: Box<dyn Write> = match &args.output {
        Some(p) if p.as_os_str() != "-" => Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        _ => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let options = BatchOptions {
        explain: args.explain,
        strict: args.strict,
        lang: Lang::from_tag(&args.lang).unwrap_or_default(),
    };
    let bar = match size {
        Some(n) => indicatif::ProgressBar::with_draw_target(Some(n), super::progress_target()),
        None => indicatif::ProgressBar::with_draw_target(None, super::progress_target()),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut printed = 0;
    let threads = match args.threads {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let summary = batch::score_csv_threads(
        &loaded.model,
        input,
        output,
        &options,
        threads,
        &mut |failure| {
            if printed < PRINT_FAILURES {
                bar.suspend(|| eprintln!("line {}: {}", failure.line, failure.message));
            }
            printed += 1;
        },
        &mut |progress| {
            // A recoded file of semicolons can run a little past its size.
            bar.set_position(size.map_or(progress.bytes, |n| progress.bytes.min(n)));
            bar.set_message(format!("{} rows", progress.rows));
        },
    )
    .map_err(|e| match e {
        // As for every command's report: `main` ends quietly when the
        // reader went away (`lifeboat predict ... | head`), and says so
        // when standard output is full.
        BatchError::Write(e) if to_stdout => {
            bar.finish_and_clear();
            anyhow::Error::new(super::StdoutError(e))
        }
        e => anyhow::Error::new(e).context(format!("cannot score {}", args.input.display())),
    })?;
    bar.finish_and_clear();
    if printed > PRINT_FAILURES {
        eprintln!("... and {} more rejected rows", printed - PRINT_FAILURES);
    }
    if summary.windows1252 {
        eprintln!(
            "note: {}; the output is UTF-8",
            spreadsheet::WINDOWS_1252_NOTE
        );
    }
    if summary.separator == Separator::Semicolon {
        eprintln!(
            "note: {}; the output is written the same way",
            spreadsheet::SEMICOLONS_NOTE
        );
    }
    if !summary.unused_columns.is_empty() {
        eprintln!(
            "note: columns the model does not use (copied through): {}",
            lifeboat::quote::name_list(summary.unused_columns.iter().map(String::as_str))
        );
    }
    eprintln!(
        "{} rows: {} predicted, {} rejected",
        summary.rows, summary.predicted, summary.failed
    );
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
