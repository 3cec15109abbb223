//! The `kasse` command: serve, demo, seed-demo, migrate, company and api-key administration.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use kasse::app::App;
use kasse::clock::Clock;
use kasse::config::Config;
use kasse::db::{self, Db};
use kasse::state::AppState;
use kasse::{demo, ops};

#[derive(Parser)]
#[command(name = "kasse", version, about = "Self-hosted hosted checkout")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// sqlite://PATH (created if missing) or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://kasse.db", global = true)]
    database_url: String,
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// HOST:PORT to listen on
    #[arg(long, env = "KASSE_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The origin customers reach Kasse at (default: derived from --bind)
    #[arg(long, env = "KASSE_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the store and serve.
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Seed a demo merchant (once), print how to try it, and serve.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Seed the demo merchant (once) and print its ids as one JSON object.
    SeedDemo {
        /// Print JSON (the only format).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Apply pending migrations and exit.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage companies (tenants).
    Company {
        #[command(subcommand)]
        action: CompanyAction,
    },
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
}

#[derive(Subcommand)]
enum CompanyAction {
    /// Create a company and print its id.
    Create {
        #[arg(long)]
        name: String,
        /// Default currency (ISO 4217)
        #[arg(long, default_value = "USD")]
        currency: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Choose who collects a company's card payments: `sandbox` (test cards) or `stripe`.
    SetProvider {
        #[arg(long)]
        company: String,
        #[arg(long)]
        provider: String,
        /// Stripe only: also offer SEPA Direct Debit for euros (activate it in Stripe first).
        #[arg(long)]
        sepa_debit: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum ApiKeyAction {
    /// Create an API key for a company and print it (shown once; only its hash is stored).
    Create {
        #[arg(long)]
        company: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO).with_target("sqlx", tracing::Level::WARN));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(filter)
        .init();
}

async fn open(store: &StoreArgs) -> Result<Db, String> {
    let db = Db::connect(&store.database_url).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    Ok(db)
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve { serve, store } => {
            let config = Config::new(&serve.bind, &store.database_url, serve.public_url.as_deref())
                .map_err(|e| e.to_string())?;
            let db = open(&store).await?;
            let app = App::build(&config, db, Clock::default()).await.map_err(|e| e.to_string())?;
            tracing::info!(url = %app.state().public_url, "Kasse is listening");
            app.run_until_stopped(ops::shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Command::Demo { serve, store } => {
            let config = Config::new(&serve.bind, &store.database_url, serve.public_url.as_deref())
                .map_err(|e| e.to_string())?;
            let db = open(&store).await?;
            let app = App::build(&config, db, Clock::default()).await.map_err(|e| e.to_string())?;
            let seed = demo::seed(app.state()).await.map_err(|e| e.to_string())?;
            let checkout = demo::checkout(app.state(), &seed).await.map_err(|e| e.to_string())?;
            let link = demo::link(app.state(), &seed).await.map_err(|e| e.to_string())?;
            let contract = demo::contract(app.state(), &seed).await.map_err(|e| e.to_string())?;
            let invoice = demo::invoice(app.state(), &seed).await.map_err(|e| e.to_string())?;
            print_demo(&app.state().public_url, &seed, &checkout, &link, &contract, &invoice);
            app.run_until_stopped(ops::shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Command::SeedDemo { json: _, store } => {
            let db = open(&store).await?;
            let config = Config::new("127.0.0.1:8080", &store.database_url, None).map_err(|e| e.to_string())?;
            let state = AppState::new(&db, Clock::default(), "http://127.0.0.1:8080".into(), &config)
                .await
                .map_err(|e| e.to_string())?;
            let seed = demo::seed(&state).await.map_err(|e| e.to_string())?;
            db.close().await;
            println!("{}", serde_json::to_string(&seed).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Migrate { store } => {
            let db = open(&store).await?;
            db.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Company { action: CompanyAction::Create { name, currency, store } } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 200 {
                return Err("--name must be 1 to 200 characters".into());
            }
            let currency = kasse::domain::money::Currency::parse(&currency)
                .map_err(|_| format!("--currency '{currency}' is not an ISO 4217 code"))?;
            let db = open(&store).await?;
            let new = db::companies::NewCompany {
                name,
                currency: currency.code(),
                legal_name: None,
                brand_color: None,
                logo_url: None,
                support_email: None,
            };
            let company = db::companies::create(&db, &new, chrono::Utc::now()).await.map_err(|e| e.to_string())?;
            db.close().await;
            println!("{}", company.id);
            Ok(())
        }
        Command::Company { action: CompanyAction::SetProvider { company, provider, sepa_debit, store } } => {
            if !matches!(provider.as_str(), "sandbox" | "stripe") {
                return Err(format!("--provider '{provider}' must be 'sandbox' or 'stripe'"));
            }
            if provider == "stripe" && !cfg!(feature = "stripe") {
                return Err("this build has no Stripe support (built without the `stripe` feature)".into());
            }
            let db = open(&store).await?;
            if sepa_debit && provider != "stripe" {
                return Err("--sepa-debit needs --provider stripe".into());
            }
            let found = db::companies::set_payment_methods(&db, &company, &provider, sepa_debit, chrono::Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            db.close().await;
            if !found {
                return Err(format!("no company with id '{company}'"));
            }
            eprintln!("company {company} now collects card payments with {provider}");
            Ok(())
        }
        Command::ApiKey { action: ApiKeyAction::Create { company, store } } => {
            let db = open(&store).await?;
            if db::companies::get(&db, &company).await.map_err(|e| e.to_string())?.is_none() {
                return Err(format!("no company with id '{company}'"));
            }
            let key =
                db::companies::create_api_key(&db, &company, chrono::Utc::now()).await.map_err(|e| e.to_string())?;
            db.close().await;
            println!("{key}");
            Ok(())
        }
    }
}

fn print_demo(url: &str, seed: &demo::DemoSeed, checkout: &str, link: &str, contract: &str, invoice: &str) {
    let team = seed.product_pricing_ids.get("Team").map(String::as_str).unwrap_or("pp_…");
    println!(
        "\nKasse demo is running.\n\n  Checkout: {checkout}\n            (test card 4242 4242 4242 4242, any future expiry, any CVC)\n  Link:     {link}\n            (a reusable link: every visit starts a fresh checkout)\n  Contract: {contract}\n            (Ada Lovelace's signing link: sign, then pay with the test card)\n  Invoice:  {invoice}\n            (an open invoice for one-time charges: pay it with the test card, or print it)\n  Open:     {url}/\n  API key:  {key}\n  Company:  {company}\n  Promo:    {promo}\n\n\
         Price 12 seats of the Team plan with the promo code:\n\n  curl -s {url}/api/v1/companies/{company}/pricing/preview \\\n    \
         -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n    \
         -d '{{\"product_pricing_ids\": [\"{team}\"], \"config_items\": [{{\"product_pricing_id\": \"{team}\", \"num_licenses\": 12}}], \"promo_code\": \"{promo}\"}}'\n\n\
         API description: {url}/api/openapi.json   Stop with Ctrl-C.\n",
        key = seed.api_key,
        company = seed.company_id,
        promo = demo::PROMO_CODE,
    );
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
