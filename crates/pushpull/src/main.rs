//! `pushpull` — the launcher. Thin on purpose: it turns the command line
//! and environment into each service's config (`cli`), builds the services
//! with `Application::build`, and runs them until Ctrl-C or SIGTERM.
//! `bench` and the hidden `floor-hop` are forwarded to the bench's crate,
//! `bench` with this binary's own path: the bench starts `pushpull store`,
//! `pushpull inventory` and `pushpull floor-hop` from it as processes of
//! their own, so it measures exactly the binary a learner runs.

use anyhow::Context;
use clap::Parser;
use platform::telemetry::LogFormat;

use pushpull::cli::{self, Cli, Command, DemoArgs};
use pushpull::output::{Banner, DEMO_LOGS, SERVICE_LOGS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    platform::telemetry::init(match cli.command {
        None | Some(Command::Demo(_)) => DEMO_LOGS,
        _ => SERVICE_LOGS,
    });
    match cli.command {
        None => demo(cli.demo).await,
        Some(Command::Demo(args)) => demo(args).await,
        Some(Command::Store { shared, store }) => {
            let config = cli::store_config(&shared, &store, None);
            let store_url = config.public_url.clone();
            let app = store::Application::build(config).await?;
            Banner::Store { store_url }.announce(LogFormat::from_env());
            let handle = app.handle();
            tokio::spawn(async move {
                stopped().await;
                handle.stop().await;
            });
            app.run_until_stopped().await.context("running the store")
        }
        Some(Command::Inventory { shared, inventory }) => {
            let config = cli::inventory_config(&shared, &inventory, None);
            let inventory_url = config.public_url.clone();
            let app = inventory::Application::build(config).await?;
            Banner::Inventory { inventory_url }.announce(LogFormat::from_env());
            let handle = app.handle();
            tokio::spawn(async move {
                stopped().await;
                handle.stop().await;
            });
            app.run_until_stopped()
                .await
                .context("running the inventory")
        }
        Some(Command::Bench(args)) => {
            let launcher = std::env::current_exe().context("finding the pushpull binary")?;
            bench::run(args, launcher).await
        }
        Some(Command::FloorHop(args)) => bench::floor::hop::serve(args).await,
        Some(Command::Healthcheck { url }) => healthcheck(&url).await,
    }
}

/// Both services in one process, wired to each other.
async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let store_config = cli::store_config(&args.shared, &args.store, Some(&args.inventory));
    let inventory_config = cli::inventory_config(&args.shared, &args.inventory, Some(&args.store));
    let (store_url, inventory_url) = (
        store_config.public_url.clone(),
        inventory_config.public_url.clone(),
    );

    let store = store::Application::build(store_config).await?;
    let inventory = inventory::Application::build(inventory_config).await?;
    let mode = store::integration::read_mode(&store.state().ctx.db).await?;
    Banner::Demo {
        store_url,
        inventory_url,
        mode,
    }
    .announce(LogFormat::from_env());

    let (store_handle, inventory_handle) = (store.handle(), inventory.handle());
    tokio::spawn(async move {
        stopped().await;
        tracing::info!("stopping");
        inventory_handle.stop().await;
        store_handle.stop().await;
    });
    let (s, i) = tokio::join!(store.run_until_stopped(), inventory.run_until_stopped());
    s.context("running the store")?;
    i.context("running the inventory")?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends).
async fn stopped() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn healthcheck(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        anyhow::bail!("GET {url} answered {}", response.status())
    }
}
