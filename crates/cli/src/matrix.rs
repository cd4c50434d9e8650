//! `healthpass rules matrix`: renders the mutual-recognition matrix as a text table, CSV,
//! JSON or an SVG heat map. Rows are the sample certificates, columns each country at each age
//! (countries are few, certificate kinds many: this way the table fits a screen).

use crate::input;
use crate::rules::{MatrixArgs, MatrixFormat};
use healthpass_rules::matrix::{Cell, Matrix, build};
use std::fmt::Write;
use std::process::ExitCode;

pub fn run(args: MatrixArgs) -> anyhow::Result<ExitCode> {
    let rules = input::rule_set(&args.rules)?;
    if rules.is_empty() {
        anyhow::bail!("no rules found under {}", args.rules.display());
    }
    let value_sets = input::value_sets(&args.valuesets)?;
    if value_sets.get("vaccines-covid-19-names").is_none() {
        anyhow::bail!(
            "{} has no vaccines-covid-19-names value set: the matrix takes its vaccines from it",
            args.valuesets.display()
        );
    }
    let at = input::time_or_now(args.at.as_deref())?;
    let matrix = build(&rules, &value_sets, at);
    let text = match args.format {
        MatrixFormat::Text => text(&matrix),
        MatrixFormat::Csv => csv(&matrix),
        MatrixFormat::Json => serde_json::to_string_pretty(&matrix)? + "\n",
        MatrixFormat::Svg => svg(&matrix),
    };
    match &args.out {
        Some(path) => input::write_atomic(path, text.as_bytes())?,
        None => crate::out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn symbol(cell: &Cell) -> &'static str {
    match cell {
        Cell::Accepted => "+",
        Cell::Rejected { .. } => "x",
        Cell::Open { .. } => "?",
        Cell::NoRules => "-",
    }
}

fn word(cell: &Cell) -> &'static str {
    match cell {
        Cell::Accepted => "accepted",
        Cell::Rejected { .. } => "rejected",
        Cell::Open { .. } => "undecided",
        Cell::NoRules => "no rules",
    }
}

fn text(m: &Matrix) -> String {
    let label_width = m
        .samples
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let group_width = m.ages.len() * 3 + 1;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Mutual recognition at {}: which country accepts which certificate",
        m.at
    );
    let _ = writeln!(
        out,
        "Columns: country, then the holder's age ({}).",
        join_ages(m)
    );
    let _ = writeln!(
        out,
        "+ accepted   x rejected by a rule   ? a rule could not decide   - no rules for this type"
    );
    let _ = writeln!(out);
    let _ = write!(out, "{:label_width$}", "");
    for country in &m.countries {
        let _ = write!(out, "{country:<group_width$}");
    }
    let _ = writeln!(out);
    let _ = write!(out, "{:label_width$}", "");
    for _ in &m.countries {
        for age in &m.ages {
            let _ = write!(out, "{age:<3}");
        }
        let _ = write!(out, " ");
    }
    let _ = writeln!(out);
    let mut kind = "";
    for (sample, row) in m.samples.iter().zip(&m.cells) {
        if sample.kind != kind {
            kind = sample.kind;
            let _ = writeln!(out, "[{kind}]");
        }
        let _ = write!(out, "{:label_width$}", sample.label);
        for country in row {
            for cell in country {
                let _ = write!(out, "{:<3}", symbol(cell));
            }
            let _ = write!(out, " ");
        }
        let _ = writeln!(out);
    }
    out
}

fn join_ages(m: &Matrix) -> String {
    m.ages
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv(m: &Matrix) -> String {
    let mut out = String::from("certificate,kind,product");
    for country in &m.countries {
        for age in &m.ages {
            let _ = write!(out, ",{country} age {age}");
        }
    }
    out.push('\n');
    for (sample, row) in m.samples.iter().zip(&m.cells) {
        let _ = write!(
            out,
            "{},{},{}",
            csv_field(&sample.label),
            sample.kind,
            csv_field(sample.product.as_deref().unwrap_or(""))
        );
        for cell in row.iter().flatten() {
            let _ = write!(out, ",{}", word(cell));
        }
        out.push('\n');
    }
    out
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG heat map: one row per certificate, one column per country and age, coloured like
/// the verdicts; hovering a cell names the rules that decided it.
fn svg(m: &Matrix) -> String {
    const CELL: usize = 16;
    const ROW: usize = 18;
    const LABEL: usize = 330;
    const GAP: usize = 10;
    let header = 70;
    let group_width = m.ages.len() * CELL + GAP;
    let kinds = {
        let mut k: Vec<&str> = m.samples.iter().map(|s| s.kind).collect();
        k.dedup();
        k.len()
    };
    let width = LABEL + m.countries.len() * group_width + 20;
    let height = header + (m.samples.len() + kinds) * ROW + 60;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">Which country accepts which certificate, at {}</text>"#,
        m.at
    );
    let _ = writeln!(
        out,
        r#"<text x="10" y="38">Columns: each country at the holder's age of {} years. Hover a cell for the rules that decided it.</text>"#,
        join_ages(m)
    );
    for (i, country) in m.countries.iter().enumerate() {
        let x = LABEL + i * group_width;
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-weight="bold" text-anchor="middle">{}</text>"#,
            x + m.ages.len() * CELL / 2,
            header - 16,
            escape_xml(country)
        );
        for (j, age) in m.ages.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="9">{age}</text>"#,
                x + j * CELL + CELL / 2,
                header - 4
            );
        }
    }
    let mut y = header;
    let mut kind = "";
    for (sample, row) in m.samples.iter().zip(&m.cells) {
        if sample.kind != kind {
            kind = sample.kind;
            let _ = writeln!(
                out,
                r#"<text x="10" y="{}" font-weight="bold">{}</text>"#,
                y + ROW - 5,
                escape_xml(&kind.to_uppercase())
            );
            y += ROW;
        }
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LABEL - 8,
            y + ROW - 6,
            escape_xml(&sample.label)
        );
        for (i, (country, cells)) in m.countries.iter().zip(row).enumerate() {
            for (j, (age, cell)) in m.ages.iter().zip(cells).enumerate() {
                let (fill, rules) = match cell {
                    Cell::Accepted => ("#2e7d32", String::new()),
                    Cell::Rejected { rules } => ("#c62828", format!(": {}", rules.join(", "))),
                    Cell::Open { rules } => ("#f9a825", format!(": {}", rules.join(", "))),
                    Cell::NoRules => ("#bdbdbd", String::new()),
                };
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>{} in {country}, age {age}: {}{}</title></rect>"#,
                    LABEL + i * group_width + j * CELL,
                    y + 2,
                    CELL - 2,
                    ROW - 4,
                    escape_xml(&sample.label),
                    word(cell),
                    escape_xml(&rules)
                );
            }
        }
        y += ROW;
    }
    y += 20;
    for (i, (fill, label)) in [
        ("#2e7d32", "accepted"),
        ("#c62828", "rejected by a rule"),
        ("#f9a825", "a rule could not decide"),
        ("#bdbdbd", "no rules for this type"),
    ]
    .into_iter()
    .enumerate()
    {
        let x = 10 + i * 170;
        let _ = writeln!(
            out,
            r#"<rect x="{x}" y="{y}" width="14" height="14" fill="{fill}"/>"#
        );
        let _ = writeln!(out, r#"<text x="{}" y="{}">{label}</text>"#, x + 20, y + 11);
    }
    out.push_str("</svg>\n");
    out
}
