//! Browsers, operating systems, API clients and SDK languages. Browsers and
//! systems come from the `woothee` parser (one browser per user agent: a
//! Chrome user agent is Chrome, not also Safari). HTTP clients and our SDKs
//! are named by the user agent's leading product token, matched exactly.
//! Only names from the parser or the table below reach the output, never the
//! customer's own strings.

use std::collections::BTreeMap;

use woothee::parser::Parser;

use super::input::MAX_USER_AGENTS;
use super::math::round_to;
use super::profile::{Share, TechStack};

/// Leading product token (lower case) → (client, language).
const CLIENTS: [(&str, &str, &str); 16] = [
    ("python-requests", "python-requests", "Python"),
    ("python-urllib", "urllib", "Python"),
    ("python-httpx", "httpx", "Python"),
    ("aiohttp", "aiohttp", "Python"),
    ("axios", "axios", "JavaScript"),
    ("node-fetch", "node-fetch", "JavaScript"),
    ("undici", "undici", "JavaScript"),
    ("got", "got", "JavaScript"),
    ("go-http-client", "Go net/http", "Go"),
    ("okhttp", "OkHttp", "Java/Kotlin"),
    ("java", "Java HttpClient", "Java/Kotlin"),
    ("apache-httpclient", "Apache HttpClient", "Java/Kotlin"),
    ("reqwest", "reqwest", "Rust"),
    ("curl", "curl", "Shell"),
    ("wget", "Wget", "Shell"),
    ("guzzlehttp", "Guzzle", "PHP"),
];

/// Languages our SDK (`calos-client-<lang>`) reports.
const SDK_LANGUAGES: [(&str, &str); 8] = [
    ("rust", "Rust"),
    ("python", "Python"),
    ("node", "JavaScript"),
    ("js", "JavaScript"),
    ("go", "Go"),
    ("java", "Java/Kotlin"),
    ("ruby", "Ruby"),
    ("php", "PHP"),
];

/// What one user agent is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agent {
    Browser {
        name: String,
        os: String,
        category: String,
    },
    Client {
        name: &'static str,
        language: &'static str,
    },
    Crawler,
    Unknown,
}

/// Classifies one user agent.
pub fn classify(parser: &Parser, ua: &str) -> Agent {
    let token = ua
        .split(['/', ' '])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Some(lang) = token.strip_prefix("calos-client-") {
        if let Some((_, language)) = SDK_LANGUAGES.iter().find(|(l, _)| *l == lang) {
            return Agent::Client {
                name: "calos-client",
                language,
            };
        }
    }
    if let Some((_, name, language)) = CLIENTS.iter().find(|(t, _, _)| *t == token) {
        return Agent::Client { name, language };
    }
    match parser.parse(ua) {
        Some(r) if r.category == "crawler" => Agent::Crawler,
        Some(r) if r.browser_type == "browser" && r.name != "UNKNOWN" => Agent::Browser {
            name: r.name.to_owned(),
            os: r.os.to_owned(),
            category: r.category.to_owned(),
        },
        _ => Agent::Unknown,
    }
}

pub fn analyze(user_agents: &[(String, i64)], all_events: i64, api_calls: i64) -> TechStack {
    let parser = Parser::new();
    let mut top: Vec<&(String, i64)> = user_agents.iter().filter(|(_, n)| *n > 0).collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    top.truncate(MAX_USER_AGENTS);

    let mut browsers = BTreeMap::new();
    let mut systems = BTreeMap::new();
    let mut devices = BTreeMap::new();
    let mut clients = BTreeMap::new();
    let mut languages = BTreeMap::new();
    let mut stack = TechStack::default();
    for (ua, n) in top {
        match classify(&parser, ua) {
            Agent::Browser { name, os, category } => {
                *browsers.entry(name).or_insert(0) += n;
                if os != "UNKNOWN" {
                    *systems.entry(os).or_insert(0) += n;
                }
                *devices.entry(category).or_insert(0) += n;
            }
            Agent::Client { name, language } => {
                *clients.entry(name.to_owned()).or_insert(0) += n;
                *languages.entry(language.to_owned()).or_insert(0) += n;
            }
            Agent::Crawler => stack.crawlers += n,
            Agent::Unknown => stack.unrecognised += n,
        }
    }
    stack.browsers = shares(browsers);
    stack.operating_systems = shares(systems);
    stack.device_categories = shares(devices);
    stack.api_clients = shares(clients);
    stack.sdk_languages = shares(languages);
    stack.api_call_share = if all_events > 0 {
        round_to(api_calls as f64 / all_events as f64, 4)
    } else {
        0.0
    };
    stack
}

fn shares(counts: BTreeMap<String, i64>) -> Vec<Share> {
    let total: i64 = counts.values().sum();
    let mut out: Vec<Share> = counts
        .into_iter()
        .map(|(name, events)| Share {
            name,
            events,
            share: if total > 0 {
                round_to(events as f64 / total as f64, 4)
            } else {
                0.0
            },
        })
        .collect();
    out.sort_by(|a, b| b.events.cmp(&a.events).then(a.name.cmp(&b.name)));
    out
}
