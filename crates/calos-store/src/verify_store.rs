//! Storage for the phone-home path: signing keys, deployment instances and
//! the batched writes the verify endpoint defers (issue 3).

use async_trait::async_trait;

/// Part of [`Store`](crate::Store); kept in its own trait so the phone-home
/// storage can grow without touching the admin-side methods.
#[async_trait]
pub trait VerifyStore: Send + Sync {}
