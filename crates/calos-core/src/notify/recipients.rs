//! Who receives a notification's e-mail.
//!
//! * The vendor side receives every notification: the customer's account
//!   owner (a vendor admin or an address, set per customer) for a
//!   notification about that customer, else the vendor address
//!   (`CALOS_NOTIFY_EMAIL`, default the first admin's e-mail). The server
//!   picks that address; it arrives here as [`Audience::vendor`].
//! * Admins who subscribed receive the events they chose.
//! * The customer's own contact receives an event only when the vendor
//!   switched that event on for customers, and only events about the
//!   customer's own license that are fit to show them (never upsells,
//!   health or silence, which are the vendor's sales notes).

use super::event::EventKind;

/// Whether an event may ever be sent to the customer it is about.
pub fn customer_may_receive(event: EventKind) -> bool {
    matches!(
        event,
        EventKind::LicenseCreated
            | EventKind::LicenseSuspended
            | EventKind::LicenseRevoked
            | EventKind::LicenseReactivated
            | EventKind::LicenseTierChanged
            | EventKind::LicenseExpired
            | EventKind::LicenseExpiring
            | EventKind::TrialEnding
            | EventKind::UsageLimitReached
            | EventKind::InvoiceIssued
    )
}

/// What the recipient rule looks at.
#[derive(Debug, Clone, Default)]
pub struct Audience<'a> {
    /// Vendor-side addresses that receive everything (the account owner,
    /// or the vendor address).
    pub vendor: &'a [String],
    /// Admins' addresses with the events each subscribed to.
    pub subscribers: &'a [(String, Vec<EventKind>)],
    /// The customer's contact, when the notification is about a customer.
    pub customer_contact: Option<&'a str>,
    /// Events the vendor chose to send to customers too.
    pub customer_events: &'a [EventKind],
}

/// The e-mail recipients of `event`, without duplicates (compared without
/// case), vendor first.
pub fn recipients(event: EventKind, audience: &Audience<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |address: &str| {
        let address = address.trim();
        if !address.is_empty() && !out.iter().any(|a| a.eq_ignore_ascii_case(address)) {
            out.push(address.to_owned());
        }
    };
    audience.vendor.iter().for_each(|a| add(a));
    audience
        .subscribers
        .iter()
        .filter(|(_, events)| events.contains(&event))
        .for_each(|(a, _)| add(a));
    if customer_may_receive(event) && audience.customer_events.contains(&event) {
        if let Some(contact) = audience.customer_contact {
            add(contact);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_always_customer_only_when_chosen_and_fit() {
        let vendor = vec!["sales@vendor.test".to_owned()];
        let subs = vec![
            ("bob@vendor.test".to_owned(), vec![EventKind::UpsellFound]),
            ("SALES@vendor.test".to_owned(), vec![EventKind::UpsellFound]),
        ];
        let customer_events = [EventKind::UsageLimitReached, EventKind::UpsellFound];
        let a = Audience {
            vendor: &vendor,
            subscribers: &subs,
            customer_contact: Some("ops@globex.test"),
            customer_events: &customer_events,
        };
        assert_eq!(
            recipients(EventKind::UsageLimitReached, &a),
            vec!["sales@vendor.test", "ops@globex.test"]
        );
        // Upsells never go to the customer, even when listed; duplicates merge.
        assert_eq!(
            recipients(EventKind::UpsellFound, &a),
            vec!["sales@vendor.test", "bob@vendor.test"]
        );
        assert_eq!(
            recipients(EventKind::LicenseRevoked, &a),
            vec!["sales@vendor.test"]
        );
    }

    #[test]
    fn nobody_when_nothing_is_configured() {
        assert!(recipients(EventKind::LicenseRevoked, &Audience::default()).is_empty());
    }
}
