//! Notifications, as pure rules: which conditions are worth telling
//! ([`trigger`], [`change`]), under which deduplication key (so one condition
//! notifies once per period and again only when it gets worse), who receives
//! the e-mail ([`recipients`]), what it says ([`message`]), the webhook
//! envelope and its HMAC signature ([`webhook`], [`signature`]), the retry
//! schedule ([`backoff`]) and which webhook addresses are refused
//! ([`address`]). The server stores what these produce in a durable outbox
//! and delivers it.

pub mod address;
pub mod backoff;
pub mod change;
pub mod event;
pub mod message;
pub mod recipients;
pub mod signature;
pub mod trigger;
pub mod webhook;

pub use event::{EventKind, NewNotification, Subject};
