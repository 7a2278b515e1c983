//! Notifications (issue 10): the server side of the outbox. Pure rules
//! live in `calos_core::notify`; here are the SMTP mailer and its templates,
//! the webhook sender with its address checks, the delivery of claimed
//! outbox rows, and the scans that find periodic conditions. The workers
//! that run them are `workers::notify_deliver` and `workers::notify_scan`.

mod config;
pub mod deliver;
pub mod email;
pub mod scan;
pub mod secret;
pub mod webhook;

pub use config::{NotifyConfig, NotifyFile};
