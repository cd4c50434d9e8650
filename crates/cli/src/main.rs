//! `healthpass`: verify, issue and scan health certificates.
//!
//! This binary is glue: it parses flags, reads files, reads the clock, calls the library
//! crates and prints. Exit status: 0 green (or success), 1 yellow or red (or nothing found),
//! 2 usage or I/O error.
#![forbid(unsafe_code)]

mod batch;
mod bench;
mod decode;
mod demo;
mod gateway;
mod gateway_bench;
mod input;
mod issue;
mod keys;
mod log;
mod matrix;
mod network;
mod render;
mod revoke;
mod rules;
mod scale_bench;
mod trust;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: verifying a certificate makes a few dozen
/// short-lived allocations (the payload tree, the report, the common model), and glibc's
/// malloc and free were a tenth of a SMART Health Card's verification beside the signature.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for a usage or I/O error.
pub const EXIT_ERROR: u8 = 2;

/// Prints to stdout like `print!`, but a closed pipe (`healthpass … | head`) ends the program
/// quietly instead of panicking as `print!` does.
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

/// `println!` with the same care as [`out!`].
macro_rules! outln {
    () => { $crate::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};

/// Writes to stdout; exits 0 on a closed pipe, 2 on any other write error.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(i32::from(EXIT_ERROR));
    }
}

#[derive(Parser)]
#[command(
    name = "healthpass",
    version,
    about = "Verify, issue and scan digital health certificates (EU DCC / HC1).",
    after_help = "Exit status: 0 green (or success), 1 yellow or red (or no QR code found), 2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify QR texts: prints a verdict (green/yellow/red) with its reasons.
    Verify(Box<verify::VerifyArgs>),
    /// Show what a QR text holds, in any format, without checking signatures.
    Decode(decode::DecodeArgs),
    /// Issue certificates.
    #[command(subcommand)]
    Issue(issue::IssueCommand),
    /// Manage keys and certificates.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Read the QR text from a PNG or JPEG image.
    Scan {
        /// The image file.
        image: PathBuf,
    },
    /// The trust network's gateway.
    #[command(subcommand)]
    Gateway(gateway::GatewayCommand),
    /// Trust data for verifiers: sync it from a gateway.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Revoke certificates at the gateway, by hash (UVCIs or QR texts never leave this
    /// machine): batches of up to 1,000, signed with the country's upload certificate.
    Revoke(Box<revoke::RevokeArgs>),
    /// The gateway's transparency log: keys, witnessing and auditing.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// The trust network's governance: test networks and onboarding records.
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Business rules: test, evaluate, validate, and the mutual-recognition matrix.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Run the whole path on a test PKI under ./data: make keys, issue, draw, scan, verify.
    Demo(demo::DemoArgs),
    /// Measure verification and issuance speed against the raw signature operations.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => verify::run(*args),
        Command::Decode(args) => decode::run(args),
        Command::Issue(cmd) => issue::run(cmd),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Scan { image } => scan(&image),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Network(cmd) => network::run(cmd),
        Command::Gateway(cmd) => gateway::run(cmd),
        Command::Trust(cmd) => trust::run(cmd),
        Command::Log(cmd) => log::run(cmd),
        Command::Revoke(args) => revoke::run(*args),
        Command::Demo(args) => demo::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn scan(image: &std::path::Path) -> anyhow::Result<ExitCode> {
    let bytes = input::read_file(image)?;
    match healthpass_scan::scan_image(&bytes) {
        Ok(text) => {
            outln!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(healthpass_scan::ScanError::NoCode) => {
            eprintln!(
                "{}: {}",
                image.display(),
                healthpass_scan::ScanError::NoCode
            );
            Ok(ExitCode::from(1))
        }
        Err(err) => Err(anyhow::anyhow!("{}: {err}", image.display())),
    }
}
