//! Notification settings: the `[notify]` table of the config file and the
//! environment variables that override it.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use calos_core::notify::EventKind;

use crate::config::Secret;

/// The slowest usage scan allowed: a usage crossing 80% of a limit is
/// noticed within 60 s of the telemetry that crossed it (the interface
/// outside tests rely on), and the scan is what notices it.
pub const MAX_SCAN_INTERVAL: Duration = Duration::from_secs(60);

/// How notifications are detected and delivered.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `smtp://host:port` (no TLS), `smtp://…?tls=required` (STARTTLS),
    /// `smtps://host` (TLS); user and password in the URL. `None`: e-mails
    /// are recorded as skipped.
    pub smtp_url: Option<Secret<String>>,
    /// The vendor address that receives every notification (default: the
    /// first admin's e-mail).
    pub notify_email: Option<String>,
    /// The `From` of notification e-mails.
    pub mail_from: String,
    /// Events also e-mailed to the customer's own contact.
    pub customer_events: Vec<EventKind>,
    /// How often usage is checked against plan limits.
    pub scan_interval: Duration,
    /// How often countdowns, silence, health and upsells are checked.
    pub insight_interval: Duration,
    /// How often the delivery worker looks for due deliveries.
    pub deliver_interval: Duration,
    /// First retry delay; doubles per attempt up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub max_attempts: u32,
    /// A webhook request or SMTP conversation that takes longer fails.
    pub delivery_timeout: Duration,
    /// Failed attempts in a row after which an endpoint is switched off.
    pub webhook_disable_after: u32,
    /// Days without contact after which a deployment is "silent" (0: off).
    pub silent_days: u32,
    /// Health score under which the vendor is told (0: off).
    pub health_threshold: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            notify_email: None,
            mail_from: "CALOS Enterprise <calos@localhost>".to_owned(),
            customer_events: Vec::new(),
            scan_interval: Duration::from_secs(15),
            insight_interval: Duration::from_secs(900),
            deliver_interval: Duration::from_secs(2),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            max_attempts: calos_core::notify::backoff::MAX_ATTEMPTS,
            delivery_timeout: Duration::from_secs(10),
            webhook_disable_after: 20,
            silent_days: 7,
            health_threshold: 40,
        }
    }
}

/// The `[notify]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    smtp_url: Option<String>,
    notify_email: Option<String>,
    mail_from: Option<String>,
    customer_events: Option<Vec<String>>,
    scan_interval_secs: Option<u64>,
    insight_interval_secs: Option<u64>,
    deliver_interval_secs: Option<u64>,
    retry_base_secs: Option<u64>,
    retry_cap_secs: Option<u64>,
    max_attempts: Option<u32>,
    delivery_timeout_secs: Option<u64>,
    webhook_disable_after: Option<u32>,
    silent_days: Option<u32>,
    health_threshold: Option<u32>,
}

fn secs(v: Option<u64>) -> Option<Duration> {
    v.map(|s| Duration::from_secs(s.max(1)))
}

fn events(list: &[String]) -> anyhow::Result<Vec<EventKind>> {
    list.iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .map(|e| EventKind::parse(e).map_err(anyhow::Error::from))
        .collect()
}

impl NotifyConfig {
    pub fn apply_file(&mut self, f: NotifyFile) -> anyhow::Result<()> {
        if let Some(url) = f.smtp_url {
            self.smtp_url = Some(Secret::new(url));
        }
        if f.notify_email.is_some() {
            self.notify_email = f.notify_email;
        }
        if let Some(from) = f.mail_from {
            self.mail_from = from;
        }
        if let Some(list) = f.customer_events {
            self.customer_events = events(&list).context("notify.customer_events")?;
        }
        self.set_numbers(
            [
                f.scan_interval_secs,
                f.insight_interval_secs,
                f.deliver_interval_secs,
                f.retry_base_secs,
                f.retry_cap_secs,
                f.delivery_timeout_secs,
            ],
            [
                f.max_attempts,
                f.webhook_disable_after,
                f.silent_days,
                f.health_threshold,
            ],
        );
        Ok(())
    }

    /// Durations in the order of the file's `*_secs` keys, then counts.
    fn set_numbers(&mut self, durations: [Option<u64>; 6], counts: [Option<u32>; 4]) {
        let [scan, insight, deliver, base, cap, timeout] = durations;
        let targets = [
            (&mut self.scan_interval, scan),
            (&mut self.insight_interval, insight),
            (&mut self.deliver_interval, deliver),
            (&mut self.retry_base, base),
            (&mut self.retry_cap, cap),
            (&mut self.delivery_timeout, timeout),
        ];
        for (slot, value) in targets {
            if let Some(d) = secs(value) {
                *slot = d;
            }
        }
        let [attempts, disable_after, silent, health] = counts;
        if let Some(n) = attempts {
            self.max_attempts = n.max(1);
        }
        if let Some(n) = disable_after {
            self.webhook_disable_after = n.max(1);
        }
        if let Some(n) = silent {
            self.silent_days = n;
        }
        if let Some(n) = health {
            self.health_threshold = n.min(100);
        }
    }

    pub fn apply_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        let get = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let num = |name: &str| -> anyhow::Result<Option<u64>> {
            get(name)
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name} must be a number"))
                })
                .transpose()
        };
        let count = |name: &str| -> anyhow::Result<Option<u32>> {
            Ok(num(name)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
        };
        if let Some(url) = get("SMTP_URL") {
            self.smtp_url = Some(Secret::new(url.to_owned()));
        }
        if let Some(v) = get("CALOS_NOTIFY_EMAIL") {
            self.notify_email = Some(v.to_owned());
        }
        if let Some(v) = get("CALOS_MAIL_FROM") {
            self.mail_from = v.to_owned();
        }
        if let Some(v) = get("CALOS_NOTIFY_CUSTOMER_EVENTS") {
            let list: Vec<String> = v.split(',').map(str::to_owned).collect();
            self.customer_events = events(&list).context("CALOS_NOTIFY_CUSTOMER_EVENTS")?;
        }
        self.set_numbers(
            [
                num("CALOS_NOTIFY_SCAN_INTERVAL_SECS")?,
                num("CALOS_NOTIFY_INSIGHT_INTERVAL_SECS")?,
                num("CALOS_NOTIFY_DELIVER_INTERVAL_SECS")?,
                num("CALOS_NOTIFY_RETRY_BASE_SECS")?,
                num("CALOS_NOTIFY_RETRY_CAP_SECS")?,
                num("CALOS_NOTIFY_TIMEOUT_SECS")?,
            ],
            [
                count("CALOS_NOTIFY_MAX_ATTEMPTS")?,
                count("CALOS_WEBHOOK_DISABLE_AFTER")?,
                count("CALOS_NOTIFY_SILENT_DAYS")?,
                count("CALOS_NOTIFY_HEALTH_THRESHOLD")?,
            ],
        );
        self.check()
    }

    /// Refuses an SMTP URL or From address the mailer could not use, so a
    /// typo fails at start instead of at the first notification, and a usage
    /// scan slower than [`MAX_SCAN_INTERVAL`] (which would break the promise
    /// that a crossing is noticed within 60 s).
    pub fn check(&self) -> anyhow::Result<()> {
        if self.scan_interval > MAX_SCAN_INTERVAL {
            anyhow::bail!(
                "CALOS_NOTIFY_SCAN_INTERVAL_SECS (scan_interval_secs) must be at most {} so a \
                 usage crossing is noticed within a minute",
                MAX_SCAN_INTERVAL.as_secs()
            );
        }
        super::email::Mailer::from_config(self).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let mut c = NotifyConfig::default();
        assert!(
            c.scan_interval <= Duration::from_secs(30),
            "usage seen within 60 s"
        );
        let env: HashMap<String, String> = [
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("CALOS_NOTIFY_EMAIL", "sales@vendor.test"),
            (
                "CALOS_NOTIFY_CUSTOMER_EVENTS",
                "usage.limit_reached, trial.ending",
            ),
            ("CALOS_NOTIFY_SCAN_INTERVAL_SECS", "5"),
            ("CALOS_WEBHOOK_DISABLE_AFTER", "0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        c.apply_env(&env).unwrap();
        assert_eq!(c.smtp_url.unwrap().expose(), "smtp://127.0.0.1:2525");
        assert_eq!(c.notify_email.as_deref(), Some("sales@vendor.test"));
        assert_eq!(
            c.customer_events,
            vec![EventKind::UsageLimitReached, EventKind::TrialEnding]
        );
        assert_eq!(c.scan_interval, Duration::from_secs(5));
        assert_eq!(c.webhook_disable_after, 1);
    }

    #[test]
    fn usage_scan_is_never_slower_than_a_minute() {
        let mut c = NotifyConfig::default();
        assert!(c.scan_interval <= MAX_SCAN_INTERVAL);
        c.check().unwrap();
        let at = |secs: &str| -> HashMap<String, String> {
            [(
                "CALOS_NOTIFY_SCAN_INTERVAL_SECS".to_owned(),
                secs.to_owned(),
            )]
            .into()
        };
        c.apply_env(&at("60")).unwrap();
        assert_eq!(c.scan_interval, Duration::from_secs(60));
        let err = c.apply_env(&at("61")).unwrap_err().to_string();
        assert!(err.contains("at most 60"), "{err}");
        let mut f = NotifyConfig::default();
        f.apply_file(toml::from_str("scan_interval_secs = 300").unwrap())
            .unwrap();
        assert!(f.check().is_err(), "the file's value is checked too");
    }

    #[test]
    fn bad_values_are_errors() {
        let mut c = NotifyConfig::default();
        let env: HashMap<String, String> =
            [("CALOS_NOTIFY_CUSTOMER_EVENTS".to_owned(), "nope".to_owned())].into();
        assert!(c.apply_env(&env).is_err());
        let env: HashMap<String, String> =
            [("CALOS_NOTIFY_SCAN_INTERVAL_SECS".to_owned(), "x".to_owned())].into();
        assert!(c.apply_env(&env).is_err());
        let file: NotifyFile =
            toml::from_str("smtp_url = \"smtps://mail.test\"\nsilent_days = 3").unwrap();
        c.apply_file(file).unwrap();
        assert_eq!(c.silent_days, 3);
        assert!(toml::from_str::<NotifyFile>("smtp = 1").is_err());
    }
}
