//! `lifeboat inspect`: what a model takes, what it answers, where it came
//! from and how good it is.

use std::process::ExitCode;

use clap::Args;

use super::table::{self, Table};
use lifeboat::card;
use lifeboat::model::report::Origin;
use lifeboat::schema::{FieldKind, Lang};
use lifeboat::source;

/// Show a model's inputs, classes, learner, cross-validation metrics and
/// provenance (with --json, the same as one JSON document).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  lifeboat inspect\n  lifeboat inspect my.lifeboat --json")]
pub struct InspectArgs {
    /// The model: a .lifeboat file, a scikit-learn .pkl/.joblib file, an .onnx file, or
    /// builtin:NAME (default: the built-in Titanic model).
    #[arg(value_name = "MODEL")]
    model: Option<String>,
    /// For an imported model: a schema (TOML) giving its inputs names, labels and ranges.
    #[arg(long, value_name = "TOML")]
    schema: Option<std::path::PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let loaded = source::load(args.model.as_deref(), args.schema.as_deref())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&card::card(&loaded))?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let model = &loaded.model;
    let schema = &model.schema;
    let report = &model.report;
    outln!("{} ({})", schema.title.en, schema.name)?;
    if !schema.description.is_empty() {
        outln!("{}", schema.description.en)?;
    }
    outln!()?;
    outln!("model     {}", source::describe(args.model.as_deref()))?;
    outln!("version   {} (sha256 {})", loaded.version(), loaded.sha256)?;
    outln!(
        "learner   {} [{}]",
        report.learner,
        model.estimator.family()
    )?;
    let params: Vec<String> = report
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !params.is_empty() {
        outln!("settings  {}", params.join(", "))?;
    }
    if let Some(baseline) = card::explanation_baseline(model) {
        let cells: Vec<String> = baseline.iter().map(|(f, v)| format!("{f}={v}")).collect();
        outln!(
            "explains  each field's share of the change from the answer for the baseline input {}",
            cells.join(", ")
        )?;
    }
    outln!(
        "created   {} by lifeboat {}",
        report.created,
        report.lifeboat_version
    )?;
    match &report.origin {
        Origin::Trained {
            data_file,
            data_sha256,
            rows,
            skipped_rows,
            seed,
        } => outln!(
            "trained   on {data_file} (sha256 {data_sha256}): {rows} rows used, {skipped_rows} skipped, seed {seed}"
        )?,
        Origin::Imported {
            format,
            file_name,
            file_sha256,
            producer,
        } => outln!(
            "imported  from {file_name} ({format}{}, sha256 {file_sha256})",
            producer
                .as_ref()
                .map(|p| format!(", made by {p}"))
                .unwrap_or_default()
        )?,
    }
    outln!()?;
    let classes: Vec<String> = schema
        .classes()
        .iter()
        .map(|c| {
            format!(
                "{} = {}",
                lifeboat::quote::name(&c.value),
                lifeboat::quote::name(&c.label.en)
            )
        })
        .collect();
    outln!(
        "predicts  {}: {}",
        schema.target.name,
        if classes.is_empty() {
            "a number".into()
        } else {
            classes.join(", ")
        }
    )?;
    outln!()?;
    let mut inputs = Table::new(&["input", "kind", "accepts", "missing", "default", "label"]);
    for f in &schema.fields {
        let (kind, accepts) = match &f.kind {
            FieldKind::Number(s) | FieldKind::Integer(s) => (
                if matches!(f.kind, FieldKind::Integer(_)) {
                    "integer"
                } else {
                    "number"
                },
                format!(
                    "{} to {}{}",
                    s.min.map_or("-inf".into(), |v| v.to_string()),
                    s.max.map_or("+inf".into(), |v| v.to_string()),
                    s.unit
                        .as_ref()
                        .map(|u| format!(" {}", u.en))
                        .unwrap_or_default()
                ),
            ),
            FieldKind::Category(s) => (
                "category",
                s.values
                    .iter()
                    .map(|c| {
                        if c.label.en == c.value {
                            c.value.clone()
                        } else {
                            format!("{} ({})", c.value, c.label.en)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
                    + if s.open { ", or any other" } else { "" },
            ),
            FieldKind::Boolean => ("boolean", "true, false".into()),
        };
        inputs.row(vec![
            f.name.clone(),
            kind.into(),
            accepts,
            if f.optional { "imputed" } else { "required" }.into(),
            f.default.clone().unwrap_or_default(),
            format!("{} / {}", f.label.en, f.label.get(Lang::Es)),
        ]);
    }
    out!("{}", inputs.render())?;
    if let Some(cv) = &report.cross_validation {
        outln!("\n{}-fold stratified cross-validation:", cv.folds)?;
        let classes: Vec<&str> = schema.classes().iter().map(|c| c.value.as_str()).collect();
        out!("{}", table::cross_validation(cv, &classes).render())?;
    }
    if !report.field_importance.is_empty() {
        outln!(
            "\nimportance (mean absolute contribution, {}):",
            model.units().describe()
        )?;
        let max = report.field_importance.iter().copied().fold(0.0, f64::max);
        let mut t = Table::new(&["", "", ""]);
        for (f, v) in schema.fields.iter().zip(&report.field_importance) {
            let bar = if max > 0.0 {
                "#".repeat(((v / max) * 30.0).round() as usize)
            } else {
                String::new()
            };
            t.row(vec![f.name.clone(), format!("{v:.4}"), bar]);
        }
        out!(
            "{}",
            t.render()
                .lines()
                .skip(1)
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
