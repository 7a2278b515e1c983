//! The signing-secret salt of a webhook endpoint, for its test event: the
//! salt it was created with, the new one after a rotation, the old one kept
//! by an update without rotation, and nothing for an unknown endpoint.

use std::sync::Arc;

use super::support::{audit, now};
use crate::{Store, WebhookSettings};

fn settings(salt: Option<Vec<u8>>) -> WebhookSettings {
    WebhookSettings {
        url: "https://hooks.example.com/calos".to_owned(),
        description: None,
        events: Vec::new(),
        enabled: true,
        allow_private: false,
        secret_salt: salt,
        now: now(),
    }
}

pub async fn webhook_secret_salt_follows_rotation(store: Arc<dyn Store>) {
    assert_eq!(
        store.webhook_secret_salt(987_654).await.expect("salt"),
        None
    );
    let hook = store
        .create_webhook(
            &settings(Some(vec![1; 16])),
            &audit("webhook.create", "webhook", "?"),
        )
        .await
        .expect("create");
    assert_eq!(
        store.webhook_secret_salt(hook.id).await.expect("salt"),
        Some(vec![1; 16])
    );
    store
        .update_webhook(
            hook.id,
            &settings(None),
            &audit("webhook.update", "webhook", "1"),
        )
        .await
        .expect("update keeps the salt");
    assert_eq!(
        store.webhook_secret_salt(hook.id).await.expect("salt"),
        Some(vec![1; 16])
    );
    store
        .update_webhook(
            hook.id,
            &settings(Some(vec![2; 16])),
            &audit("webhook.update", "webhook", "1"),
        )
        .await
        .expect("rotate");
    assert_eq!(
        store.webhook_secret_salt(hook.id).await.expect("salt"),
        Some(vec![2; 16])
    );
}
