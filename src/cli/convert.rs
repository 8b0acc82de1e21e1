//! `lifeboat convert`: turn a model made by another tool into a `.lifeboat` file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use lifeboat::model::file;
use lifeboat::source;

/// Convert a scikit-learn model (a pickle or joblib file) or an ONNX model
/// into a .lifeboat model file.
///
/// The pickle is read without executing it: only the scikit-learn and numpy
/// classes lifeboat supports are accepted, and anything else (such as a
/// payload that would run a command) stops the conversion with an error
/// naming it. The result predicts exactly as scikit-learn does, carries a
/// schema (from the model's feature names and encoder categories, or from
/// --schema) and self-checks at every load; serving it needs no import code.
///
/// An ONNX model keeps its graph inside the .lifeboat file (serving it needs
/// a lifeboat built with the `onnx` feature); an operator lifeboat cannot run
/// is named here, not when the model is served.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  lifeboat convert titanic_model.pkl --schema examples/tutorial/titanic_tutorial.toml --out titanic.lifeboat"
)]
pub struct ConvertArgs {
    /// The model to convert: .pkl or .pickle (pickle protocols 2 to 5), .joblib or .onnx.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// A schema (TOML) naming the inputs, with labels, ranges and translations;
    /// needed to give names to a model trained on a bare numpy array.
    #[arg(long, value_name = "TOML")]
    schema: Option<PathBuf>,
    /// Where to write the .lifeboat file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    super::refuse_overwriting(&args.file, &args.out, ("--out", "the model"))?;
    if let Some(schema) = &args.schema {
        super::refuse_overwriting(schema, &args.out, ("--out", "--schema"))?;
    }
    let path = args.file.to_string_lossy().into_owned();
    let loaded = source::load(Some(&path), args.schema.as_deref())?;
    let bytes = file::to_bytes(&loaded.model);
    // Read it back as a server would, so a file that would not load is never written.
    file::from_bytes(&bytes).context("the converted model does not load back")?;
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let model = &loaded.model;
    let fields: Vec<&str> = model.schema.field_names().collect();
    outln!(
        "{}: {} [{}]",
        args.file.display(),
        model.report.learner,
        model.estimator.family()
    )?;
    outln!(
        "inputs: {}",
        lifeboat::quote::name_list(fields.iter().copied())
    )?;
    let classes: Vec<&str> = model
        .schema
        .classes()
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    if !classes.is_empty() {
        outln!(
            "classes: {}",
            lifeboat::quote::name_list(classes.iter().copied())
        )?;
    }
    outln!("wrote {} ({} bytes)", args.out.display(), bytes.len())?;
    Ok(ExitCode::SUCCESS)
}
