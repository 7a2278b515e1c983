//! [`VerifyStore`] for postgres: signing keys, instances, deferred verify writes.

use async_trait::async_trait;
use calos_store::VerifyStore;

use crate::PostgresStore;

#[async_trait]
impl VerifyStore for PostgresStore {}
