//! What a notification's e-mail says: subject, headline and fact lines,
//! from the event and its data. The server pours these into its HTML and
//! plain-text templates in the vendor's branding.

use serde_json::Value;

use super::event::EventKind;

/// The words of one e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub headline: String,
    /// Label and value pairs shown as a small table.
    pub facts: Vec<(String, String)>,
}

fn text(data: &Value, path: &[&str]) -> String {
    let mut v = data;
    for key in path {
        v = v.get(key).unwrap_or(&Value::Null);
    }
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The customer's name, with the company when it says more.
fn who(data: &Value) -> String {
    let name = text(data, &["customer", "name"]);
    let company = text(data, &["customer", "company"]);
    if company.is_empty() || company == name {
        name
    } else {
        format!("{name} ({company})")
    }
}

/// Composes the e-mail for `event` with `data`, prefixed by the vendor's
/// `product` name.
pub fn compose(event: EventKind, data: &Value, product: &str) -> EmailContent {
    let who = who(data);
    let plan = text(data, &["plan"]);
    let headline = match event {
        EventKind::LicenseCreated => format!("New license for {who}"),
        EventKind::LicenseSuspended => format!("License of {who} suspended"),
        EventKind::LicenseRevoked => format!("License of {who} revoked"),
        EventKind::LicenseReactivated => format!("License of {who} reactivated"),
        EventKind::LicenseTierChanged => format!(
            "{who} moved from {} to {plan}",
            text(data, &["previousPlan"])
        ),
        EventKind::LicenseExpired => format!("License of {who} expired"),
        EventKind::LicenseExpiring => format!(
            "License of {who} ends in {} days",
            text(data, &["daysLeft"])
        ),
        EventKind::TrialEnding => {
            format!("Trial of {who} ends in {} days", text(data, &["daysLeft"]))
        }
        EventKind::UsageLimitReached => format!(
            "{who} reached {}% of the {} limit",
            text(data, &["level"]),
            text(data, &["meter"]).replace('_', " ")
        ),
        EventKind::UpsellFound => format!("Upsell opportunity: {who}"),
        EventKind::DeploymentSilent => format!(
            "{who} has been silent for {} days",
            text(data, &["silentDays"])
        ),
        EventKind::HealthDropped => format!("Health of {who} fell to {}", text(data, &["score"])),
        EventKind::InvoiceIssued => format!("Invoice {} issued to {who}", text(data, &["number"])),
        EventKind::WebhookDisabled => {
            format!("Webhook endpoint {} was switched off", text(data, &["url"]))
        }
    };
    let mut facts: Vec<(String, String)> = Vec::new();
    let mut fact = |label: &str, value: String| {
        if !value.is_empty() {
            facts.push((label.to_owned(), value));
        }
    };
    fact("Customer", who.clone());
    fact("E-mail", text(data, &["customer", "email"]));
    fact("Install id", text(data, &["installId"]));
    fact("Plan", plan);
    match event {
        EventKind::UsageLimitReached => {
            fact("Meter", text(data, &["meter"]));
            fact(
                "Used",
                format!("{} of {}", text(data, &["used"]), text(data, &["limit"])),
            );
        }
        EventKind::LicenseSuspended | EventKind::LicenseRevoked => {
            fact("Reason", text(data, &["reason"]));
        }
        EventKind::LicenseExpiring | EventKind::TrialEnding => {
            fact("Ends", text(data, &["endsAt"]));
        }
        EventKind::UpsellFound => {
            fact("Opportunity", text(data, &["message"]));
            fact("Proposed plan", text(data, &["targetPlan"]));
        }
        EventKind::DeploymentSilent => fact("Last seen", text(data, &["lastSeenAt"])),
        EventKind::HealthDropped => {
            fact("Score", text(data, &["score"]));
            fact("Threshold", text(data, &["threshold"]));
        }
        EventKind::WebhookDisabled => {
            fact("Endpoint", text(data, &["url"]));
            fact("Consecutive failures", text(data, &["failures"]));
            fact("Last error", text(data, &["lastError"]));
        }
        _ => {}
    }
    fact("Changed by", text(data, &["actor"]));
    EmailContent {
        subject: format!("[{product}] {headline}"),
        headline,
        facts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_mail_names_customer_meter_and_level() {
        let data = json!({
            "installId": "i-1", "plan": "pro",
            "customer": {"name": "Globex", "email": "ops@globex.test", "company": "Globex Corp"},
            "meter": "api_requests", "used": 80, "limit": 100, "level": 80
        });
        let m = compose(EventKind::UsageLimitReached, &data, "Acme POS");
        assert_eq!(
            m.subject,
            "[Acme POS] Globex (Globex Corp) reached 80% of the api requests limit"
        );
        assert!(m.facts.contains(&("Used".into(), "80 of 100".into())));
        assert!(m.facts.contains(&("Install id".into(), "i-1".into())));
    }

    #[test]
    fn empty_facts_are_left_out() {
        let data = json!({"customer": {"name": "Initech"}, "reason": null});
        let m = compose(EventKind::LicenseRevoked, &data, "P");
        assert_eq!(m.subject, "[P] License of Initech revoked");
        assert!(m.facts.iter().all(|(_, v)| !v.is_empty()));
        assert!(!m.facts.iter().any(|(l, _)| l == "Reason"));
    }
}
