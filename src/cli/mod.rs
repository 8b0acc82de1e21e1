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

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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

/// Parses the command line, exiting with clap's message on a mistake. A bad
/// value that came from an environment variable (`PORT=abc lifeboat serve`)
/// is reported against the variable, which is where it has to be fixed;
/// clap names only the flag.
pub fn parse() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => match from_environment(&err, &args) {
            Some(better) => better.exit(),
            None => err.exit(),
        },
    }
}

/// When `err` is about a value that came from an environment variable, the
/// same error naming the variable and the flag it stands for.
///
/// clap's error does not say where the value came from, so the arguments
/// are parsed again with every value that can come from the environment
/// taken as it is ([`accepting_any_value`]), and asked for the source of
/// the one the error names.
fn from_environment(err: &clap::Error, args: &[OsString]) -> Option<clap::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use clap::parser::ValueSource;

    if !matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(named)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let value = match err.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) => v.clone(),
        _ => return None,
    };
    let matches = accepting_any_value(Cli::command())
        .try_get_matches_from(args)
        .ok()?;
    let (name, sub) = matches.subcommand()?;
    let mut cli = Cli::command();
    cli.build(); // an argument is written as in the error only once built
    let command = cli.find_subcommand(name)?;
    let arg = command.get_arguments().find(|a| a.to_string() == *named)?;
    if sub.value_source(arg.get_id().as_str()) != Some(ValueSource::EnvVariable) {
        return None;
    }
    let var = arg.get_env()?.to_string_lossy().into_owned();
    let flag = format!("--{}", arg.get_long()?);
    let why = match err.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => format!("use one of {}", valid.join(", ")),
        _ => std::error::Error::source(err).map_or_else(String::new, ToString::to_string),
    };
    let mut message = format!("invalid value '{value}' in environment variable {var} (for {flag})");
    if !why.is_empty() {
        message = format!("{message}: {why}");
    }
    // As clap ends its own: a hint, and no usage line (the value is not in it).
    message.push_str("\n\nFor more information, try '--help'.\n");
    Some(clap::Error::raw(err.kind(), message).with_cmd(&cli))
}

/// `command` with every value that may come from the environment accepted as
/// it is, and no argument required, so that parsing succeeds wherever the
/// value came from and [`clap::ArgMatches::value_source`] can tell.
fn accepting_any_value(command: clap::Command) -> clap::Command {
    command.mut_subcommands(|sub| {
        sub.mut_args(|arg| {
            let arg = arg.required(false);
            if arg.get_env().is_some() && !matches!(arg.get_action(), clap::ArgAction::Count) {
                arg.value_parser(clap::builder::ValueParser::os_string())
            } else {
                arg
            }
        })
    })
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
