//! `calos audit verify`: walks the audit log's hash chain oldest first and
//! fails naming the first record that was changed, removed, inserted or
//! reordered.

use serde_json::json;

use calos_core::audit::chain::ChainVerifier;

use super::{print_json, Output};
use crate::config::Config;
use crate::store::open_store;

/// Records read per query: bounded memory on any size of log.
const PAGE: u32 = 1000;

pub async fn verify(config: &Config, output: Output) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    let broken = 'walk: loop {
        let page = store.audit_chain(after, PAGE).await?;
        let Some(last) = page.last() else {
            break None;
        };
        after = last.id;
        for record in &page {
            if let Err(b) = verifier.push(record) {
                break 'walk Some(b);
            }
        }
    };
    let report = verifier.finish();
    match output {
        Output::Json => print_json(&json!({
            "ok": broken.is_none(),
            "checked": report.checked,
            "unchained": report.unchained,
            "head": report.head,
            "brokenAt": broken,
        }))?,
        Output::Table => match &broken {
            None => {
                println!(
                    "audit chain intact: {} records checked, {} from before the chain",
                    report.checked, report.unchained
                );
                if let Some(head) = &report.head {
                    println!("head hash {head} (keep it to detect records cut off the end)");
                }
            }
            Some(b) => println!(
                "audit chain BROKEN at record {}: {} ({} records before it are intact)",
                b.id, b.reason, report.checked
            ),
        },
    }
    match broken {
        None => Ok(()),
        Some(b) => anyhow::bail!("audit chain broken at record {}: {}", b.id, b.reason),
    }
}
