//! `healthpass gateway serve`: the trust network's gateway on HTTP.

use anyhow::Context;
use clap::{Args, Subcommand};
use healthpass_gateway::server::{Gateway, router};
use healthpass_gateway::store::Store;
use healthpass_network::Network;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Run the gateway. Mutual TLS for country uploads is not wired yet (issue 4): until it is,
    /// uploads are refused with 401 and the gateway serves onboarding and the trust list.
    Serve(ServeArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "HEALTHPASS_LISTEN")]
    listen: String,
    /// Data folder: the SQLite database lives here unless --database says otherwise.
    #[arg(long, default_value = "data", env = "HEALTHPASS_DATA")]
    data: PathBuf,
    /// Database URL: sqlite://FILE or postgres://… (default: sqlite under --data).
    #[arg(long, env = "HEALTHPASS_DATABASE")]
    database: Option<String>,
    /// The network definition (`healthpass network init` writes one).
    #[arg(long, value_name = "FILE", env = "HEALTHPASS_NETWORK")]
    network: PathBuf,
}

pub fn run(command: GatewayCommand) -> anyhow::Result<ExitCode> {
    let GatewayCommand::Serve(args) = command;
    let network = Network::from_json(&crate::input::read_text(&args.network)?)
        .with_context(|| args.network.display().to_string())?;
    let url = match &args.database {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&args.data)
                .with_context(|| format!("cannot create {}", args.data.display()))?;
            format!("sqlite://{}", args.data.join("gateway.db").display())
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = Store::open(&url)
            .await
            .context("cannot open the database")?;
        let gateway = Gateway::open(network, store).await?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        eprintln!("gateway listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router(gateway))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("server error")?;
        Ok(ExitCode::SUCCESS)
    })
}
