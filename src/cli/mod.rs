//! Argument definitions (clap) and dispatch to one module per command.

/// `println!` that returns a [`StdoutError`] instead of panicking when
/// standard output is closed (`lifeboat inspect | head -1`) or full.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::StdoutError)
    }};
}

/// `print!` as [`outln!`] is `println!`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::StdoutError)
    }};
}

mod convert;
mod healthcheck;
mod inspect;
mod predict;
mod schema;
mod serve;
mod table;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const ABOUT: &str = "Put a trained machine-learning model on the web: a form for people, JSON APIs for programs, one small binary.";

const LONG_ABOUT: &str = "\
Put a trained machine-learning model on the web: a form for people, JSON APIs
for programs, one small binary. Every command uses the built-in Titanic
survival model unless you name another with --model.

A typical session:
  lifeboat inspect                        what the built-in model takes and how good it is
  lifeboat predict --input passengers.csv score a CSV file (adds prediction columns)
  lifeboat train --data train.csv --target Survived --out my.lifeboat
                                          train your own model from a CSV file
  lifeboat serve                          put the model on the web at http://localhost:5000";

#[derive(Debug, Parser)]
#[command(name = "lifeboat", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Train(train::TrainArgs),
    Predict(predict::PredictArgs),
    Inspect(inspect::InspectArgs),
    Schema(schema::SchemaArgs),
    Convert(convert::ConvertArgs),
    Serve(serve::ServeArgs),
    Healthcheck(healthcheck::HealthcheckArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Healthcheck(args) => healthcheck::run(args),
    }
}

/// Writing a command's report to standard output failed. `main` ends
/// quietly when the reader went away (a closed pipe), as `grep` or `ls` do,
/// and reports anything else (a full disk).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(pub std::io::Error);

impl StdoutError {
    /// The reader closed the pipe: the output is no longer wanted.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

/// Refuses to write `output` when it is the file `input` (after following
/// links and `..`): creating the output would empty the input before it is
/// read. `what` names both for the message, e.g. `("--output", "--input")`.
fn refuse_overwriting(
    input: &std::path::Path,
    output: &std::path::Path,
    what: (&str, &str),
) -> anyhow::Result<()> {
    let same = match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        anyhow::bail!(
            "{} {} is the same file as {} {}: writing it would destroy what is being read; \
             choose another file for {}",
            what.0,
            output.display(),
            what.1,
            input.display(),
            what.0
        );
    }
    Ok(())
}

/// Whether stderr is a terminal, so progress bars are worth drawing.
fn progress_target() -> indicatif::ProgressDrawTarget {
    indicatif::ProgressDrawTarget::stderr_with_hz(10)
}
