//! Argument definitions (clap) and dispatch to one module per command.

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

/// Whether stderr is a terminal, so progress bars are worth drawing.
fn progress_target() -> indicatif::ProgressDrawTarget {
    indicatif::ProgressDrawTarget::stderr_with_hz(10)
}
