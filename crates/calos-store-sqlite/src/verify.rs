//! [`VerifyStore`] for sqlite: signing keys, instances, deferred verify writes.

use async_trait::async_trait;
use calos_store::VerifyStore;

use crate::SqliteStore;

#[async_trait]
impl VerifyStore for SqliteStore {}
