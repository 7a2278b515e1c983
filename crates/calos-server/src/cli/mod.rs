//! The `calos` command line. Logs go to stderr and command output to stdout;
//! every failure prints what failed and exits non-zero.

mod admin;
mod audit;
pub mod bootstrap;
mod invoice;
mod keys;
mod listing;
mod serve;
mod setup;
mod tokens;
mod verify_token;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Config, LogFormat, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "calos",
    version,
    about = "CALOS Enterprise: license, telemetry and customer server"
)]
pub struct Cli {
    /// TOML config file (also CALOS_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// Database URL: sqlite://PATH or postgres://… (also DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Directory for the master key file (also CALOS_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Create the schema, default plans, master key and first admin (and demo data with --demo).
    Setup {
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage admin accounts and API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Inspect licenses.
    #[command(subcommand)]
    License(LicenseCommand),
    /// Inspect plans.
    #[command(subcommand)]
    Plans(PlansCommand),
    /// Manage the keys verdicts are signed with.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Invoices: generate a month's drafts, list, issue, record payments, void.
    #[command(subcommand)]
    Invoice(invoice::InvoiceCommand),
    /// Check a verdict token offline and print its claims; non-zero exit unless valid.
    VerifyToken {
        token: String,
        /// Verify against the JWKS at this URL (http or https) instead of the store's keys.
        #[arg(long, value_name = "URL", conflicts_with = "key_file")]
        jwks: Option<String>,
        /// Also trust this PEM CA certificate for an https --jwks (a private CA or self-signed server).
        #[arg(long, value_name = "PATH", requires = "jwks")]
        ca_cert: Option<PathBuf>,
        /// Verify against a JWKS document in this file.
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; non-zero exit naming the first broken record.
    Verify {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new active signing key; old keys stay published until their tokens run out.
    Rotate,
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Port to listen on (also PORT / CALOS_PORT; default 5001).
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on (default 0.0.0.0).
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Load the demo customers on start (once; later starts find them present).
    #[arg(long)]
    demo: bool,
    /// Serve HTTPS with this PEM certificate chain (also CALOS_TLS_CERT; needs --tls-key).
    #[arg(long, value_name = "PATH")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (also CALOS_TLS_KEY).
    #[arg(long, value_name = "PATH")]
    tls_key: Option<PathBuf>,
    /// Serve /metrics on this address, unauthenticated, instead of the main
    /// port (also CALOS_METRICS_ADDR), e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum Output {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin; the password comes from CALOS_ADMIN_PASSWORD, stdin, or is generated and printed.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a new password (same sources as create).
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Turn off an admin's two-factor authentication (lost authenticator).
    ResetTotp {
        #[arg(long)]
        username: String,
    },
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// API tokens for scripts.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed alone on the last line of stdout.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "admin")]
        username: String,
        #[arg(long)]
        expires_days: Option<u32>,
    },
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum LicenseCommand {
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        tier: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
enum PlansCommand {
    List {
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // vars_os: a non-UTF-8 variable elsewhere in the environment must not crash us.
    let env: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let overrides = Overrides {
        port: match &cli.command {
            Command::Serve(args) => args.port,
            _ => None,
        },
        bind: match &cli.command {
            Command::Serve(args) => args.bind,
            _ => None,
        },
        database_url: cli.database_url.clone(),
        data_dir: cli.data_dir.clone(),
        log_format: cli.log_format,
        tls_cert: match &cli.command {
            Command::Serve(args) => args.tls_cert.clone(),
            _ => None,
        },
        tls_key: match &cli.command {
            Command::Serve(args) => args.tls_key.clone(),
            _ => None,
        },
        metrics_addr: match &cli.command {
            Command::Serve(args) => args.metrics_addr,
            _ => None,
        },
    };
    let config = match Config::load(cli.config.as_deref(), &env, &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: configuration: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    crate::logging::init(config.log_format);
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(dispatch(cli.command, config)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::serve(config, args.demo).await,
        Command::Setup { demo } => setup::setup(config, demo).await,
        Command::Migrate => {
            let store = crate::store::open_store(&config.database_url).await?;
            println!(
                "migrations applied ({} at {})",
                store.backend(),
                crate::store::redact(&config.database_url)
            );
            Ok(())
        }
        Command::Admin(AdminCommand::Create {
            username,
            role,
            email,
        }) => admin::create(&config, &username, &role, email).await,
        Command::Admin(AdminCommand::ResetPassword { username }) => {
            admin::reset_password(&config, &username).await
        }
        Command::Admin(AdminCommand::ResetTotp { username }) => {
            admin::reset_totp(&config, &username).await
        }
        Command::Admin(AdminCommand::List { output }) => admin::list(&config, output).await,
        Command::Admin(AdminCommand::Token(TokenCommand::Create {
            name,
            username,
            expires_days,
        })) => tokens::create(&config, &name, &username, expires_days).await,
        Command::Admin(AdminCommand::Token(TokenCommand::List { output })) => {
            tokens::list(&config, output).await
        }
        Command::Admin(AdminCommand::Token(TokenCommand::Revoke { id })) => {
            tokens::revoke(&config, id).await
        }
        Command::License(LicenseCommand::List {
            status,
            tier,
            output,
        }) => listing::licenses(&config, status, tier, output).await,
        Command::Plans(PlansCommand::List { output }) => listing::plans(&config, output).await,
        Command::Keys(KeysCommand::Rotate) => keys::rotate(&config).await,
        Command::Keys(KeysCommand::List { output }) => keys::list(&config, output).await,
        Command::Audit(AuditCommand::Verify { output }) => audit::verify(&config, output).await,
        Command::Invoice(command) => invoice::run(&config, command).await,
        Command::VerifyToken {
            token,
            jwks,
            ca_cert,
            key_file,
        } => {
            let source = verify_token::KeySource::pick(jwks, ca_cert, key_file);
            verify_token::verify_token(&config, &token, source).await
        }
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// An audit entry for a change made from the command line.
fn cli_audit(
    action: &str,
    target_type: &str,
    target_id: &str,
    after: Option<serde_json::Value>,
) -> calos_core::audit::AuditEntry {
    calos_core::audit::AuditEntry {
        at: chrono::Utc::now(),
        actor: calos_core::audit::Actor::Cli,
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        before: None,
        after,
        ip: None,
    }
}
