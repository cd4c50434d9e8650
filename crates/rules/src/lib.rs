//! Business rules as data: CertLogic, the JsonLogic dialect in which EU countries publish which
//! certificates they accept, and the EU rule objects that carry it.
//!
//! - [`Expr`] compiles and evaluates CertLogic exactly as its specification (1.3.3) says:
//!   strict truthiness, integer-only arithmetic, UTC calendar arithmetic for `plusTime`, and
//!   errors as values ([`EvalError`]), never panics.
//! - [`validate()`] finds every format problem of an expression before any data is seen;
//!   [`data_accesses`] lists the fields it reads.
//! - [`Rule`] is the EU rule object, checked on load; [`RuleSet`] holds many and selects the
//!   ones that apply to a certificate as the EU verifier apps do; [`evaluate_rules`] runs them.
//! - [`ValueSets`] reads the EU value sets that rules consult.
//!
//! Nothing here reads the clock or the file system except the explicit loaders
//! ([`RuleSet::load_dir`], [`ValueSets::load`]); the validation clock is a parameter.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod datetime;
mod engine;
mod expr;
pub mod matrix;
mod rule;
pub mod testdata;
mod validate;
mod value;
mod valuesets;

pub use datetime::{DateTime, DateTimeError, TimeUnit};
pub use engine::{
    CertificateContext, RuleOutcome, RuleResult, Selection, SkipReason, evaluate_rules,
};
pub use expr::{Comparison, EvalError, Expr, InvalidExpression, PathFragment, extract_from_uvci};
pub use rule::{
    CertificateType, Description, ENGINE_VERSION, Rule, RuleError, RuleLoadError, RuleLoadProblem,
    RuleSet, RuleType, SemVer,
};
pub use validate::{ValidationIssue, data_accesses, validate};
pub use value::{ArrayItems, Value};
pub use valuesets::{ValueSet, ValueSetEntry, ValueSets, ValueSetsError};

/// Evaluates a CertLogic expression given as JSON on a data context: compile and run in one
/// call, for tools and tests. Rules compile once ([`Rule`]) and should use [`Expr`] directly.
pub fn evaluate(
    expr: &serde_json::Value,
    data: &serde_json::Value,
) -> Result<serde_json::Value, EvalError> {
    let compiled = Expr::compile(expr);
    compiled
        .evaluate(&Value::from_json(data))
        .map(|v| v.to_json())
}
