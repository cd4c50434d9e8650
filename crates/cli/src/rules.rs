//! `healthpass rules`: test, evaluate and validate CertLogic business rules, and build the
//! mutual-recognition matrix.

use crate::{input, outln};
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Run a folder of rules with their tests (`<CC>/<ID>/rule.json` + `tests/*.json`, as the
    /// EU business-rules test data); prints each failure and `N passed, M failed`.
    Test {
        /// The folder.
        dir: PathBuf,
        /// Print `{"passed":N,"failed":M,"failures":[…]}` instead.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a CertLogic expression on a data context and print the result as JSON.
    Eval {
        /// The expression (a JSON file; a rule file's `Logic` is taken from it).
        #[arg(long, value_name = "FILE")]
        logic: PathBuf,
        /// The data context (a JSON file), e.g. `{"payload": …, "external": …}`.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
    },
    /// Check rule files (or bare CertLogic expressions) without data: schema, gateway
    /// constraints, CertLogic format and affected fields.
    Validate {
        /// Rule files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Which country accepts which certificate: evaluates sample certificates of every vaccine,
    /// dose count, test type and recovery, at several ages, against every country's rules.
    Matrix(MatrixArgs),
}

#[derive(Args)]
pub struct MatrixArgs {
    /// Rules of the countries to compare.
    #[arg(long, value_name = "DIR")]
    pub rules: PathBuf,
    /// Value sets (the vaccine products come from them).
    #[arg(long, value_name = "PATH")]
    pub valuesets: PathBuf,
    /// The moment to judge (RFC 3339). Default: now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: MatrixFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MatrixFormat {
    /// A table for the terminal.
    Text,
    /// Comma-separated values.
    Csv,
    /// JSON.
    Json,
    /// An SVG heat map.
    Svg,
}

pub fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Test { dir, json } => test(&dir, json),
        RulesCommand::Eval { logic, data } => eval(&logic, &data),
        RulesCommand::Validate { paths } => validate(&paths),
        RulesCommand::Matrix(args) => crate::matrix::run(args),
    }
}

fn test(dir: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let run = healthpass_rules::testdata::run_dir(dir)
        .with_context(|| format!("cannot read rules and tests under {}", dir.display()))?;
    if json {
        outln!("{}", serde_json::to_string(&run)?);
    } else {
        for failure in &run.failures {
            let name = failure
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            outln!(
                "FAIL {}/{}{name}: {}",
                failure.rule,
                failure.test,
                failure.message
            );
        }
        outln!("{} passed, {} failed", run.passed, run.failed);
    }
    Ok(if run.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_json(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = input::read_text(path)?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn eval(logic: &std::path::Path, data: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut expr = read_json(logic)?;
    // A whole rule object: evaluate its Logic.
    if let Some(inner) = expr.get("Logic") {
        expr = inner.clone();
    }
    let data = read_json(data)?;
    match healthpass_rules::evaluate(&expr, &data) {
        Ok(value) => {
            outln!("{value}");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: evaluation failed: {err} (a rule in this state is not passed)");
            Ok(ExitCode::from(1))
        }
    }
}

fn validate(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let (mut good, mut bad) = (0, 0);
    for path in paths {
        let (rules, refused) = healthpass_rules::RuleSet::load_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for problem in refused {
            // A bare expression rather than a rule object: validate it as CertLogic.
            if let Ok(json) = read_json(&problem.path)
                && json.get("Identifier").is_none()
            {
                let issues = healthpass_rules::validate(&json);
                if issues.is_empty() {
                    good += 1;
                    outln!("ok   {} (CertLogic expression)", problem.path.display());
                    continue;
                }
                bad += 1;
                for issue in issues {
                    outln!(
                        "FAIL {}: {} in {}",
                        problem.path.display(),
                        issue.message,
                        issue.expr
                    );
                }
                continue;
            }
            bad += 1;
            outln!("FAIL {problem}");
        }
        for rule in rules.rules() {
            let lint = rule.lint();
            if lint.is_empty() {
                good += 1;
                outln!("ok   {} {}", rule.identifier, rule.version);
            } else {
                bad += 1;
                outln!(
                    "FAIL {} {}: {}",
                    rule.identifier,
                    rule.version,
                    lint.join("; ")
                );
            }
        }
    }
    outln!("{good} valid, {bad} invalid");
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
