//! A tiny licensed product: `CALOS_SERVER`, `CALOS_INSTALL_ID` and
//! `CALOS_LICENSE_KEY` from the environment (optional `CALOS_DATA_DIR`),
//! then: start, print the state, check a feature, track a few events, shut down.
//!
//! `cargo run -p calos-client --example licensed-app`

use std::time::Duration;

use calos_client::{Client, Event, EventType, LicenseState};
use calos_core::plan::Meter;

#[tokio::main]
async fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let mut builder = Client::builder()
        .server(&var("CALOS_SERVER"))
        .install_id(&var("CALOS_INSTALL_ID"))
        .license_key(&var("CALOS_LICENSE_KEY"))
        .product_version(env!("CARGO_PKG_VERSION"))
        .startup_timeout(Duration::from_secs(3));
    if let Ok(dir) = std::env::var("CALOS_DATA_DIR") {
        builder = builder.data_dir(dir);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("licensed-app: {e} (set CALOS_SERVER, CALOS_INSTALL_ID, CALOS_LICENSE_KEY)");
            std::process::exit(2);
        }
    };
    client.start().await;

    match client.state() {
        LicenseState::Licensed { tier, expires, .. } => {
            println!("licensed: tier {tier}, offline lease until {expires}")
        }
        LicenseState::Grace { until, .. } => {
            println!("grace: server unreachable, working until {until}")
        }
        LicenseState::Unlicensed { code } => println!("unlicensed: {code:?}"),
    }
    let diag = client.diagnostics();
    if let Some(error) = diag.last_error {
        println!("last error: {error}");
    }
    println!("crypto allowed: {}", client.allows("crypto"));

    let user = client.hash_user("alice@example.com");
    client.track(
        Event::new(EventType::SessionStart)
            .user(&user)
            .session("s-1"),
    );
    client.track(Event::feature_used("pos").user(&user).duration_ms(42.0));
    client.track(Event::usage(Meter::PosTransactions, 1).amount(1_250, "EUR"));
    client.shutdown().await;
    let t = client.diagnostics().telemetry;
    println!(
        "telemetry: {} sent, {} queued, {} dropped",
        t.sent, t.queued, t.dropped
    );
}
