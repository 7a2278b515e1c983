//! The "Account owner" panel of a customer's page: who on the vendor's side
//! looks after the customer (and receives its notifications), and — for
//! admins allowed to change it — a form that `account_owner.js` saves
//! through `PUT /api/enterprise/customers/{installId}/owner`.

use calos_core::customer::CustomerId;
use calos_store::{Store, StoreResult};

/// One admin the owner can be picked from.
pub struct OwnerOption {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

/// What the panel shows.
pub struct OwnerPanel {
    /// "carol <carol@vendor.example.com>", an address, or empty (none).
    pub current: String,
    /// Why notifications do not reach the owner, when they do not.
    pub warning: String,
    /// The owner's address when it is not an admin (prefills the form).
    pub email: String,
    pub admins: Vec<OwnerOption>,
    pub may_edit: bool,
}

/// Loads the panel of customer `customer_id` (none: a license whose
/// customer is missing shows an empty panel).
pub async fn panel(
    store: &dyn Store,
    customer_id: Option<CustomerId>,
    may_edit: bool,
) -> StoreResult<OwnerPanel> {
    let owner = match customer_id {
        Some(id) => store.account_owner(id).await?,
        None => None,
    };
    let admins = if may_edit {
        store.list_admins().await?
    } else {
        Vec::new()
    };
    let admin_id = owner.as_ref().and_then(|o| o.admin_id);
    let (current, warning, email) = match &owner {
        None => (String::new(), String::new(), String::new()),
        Some(o) => match (&o.admin_username, &o.email) {
            (Some(name), Some(mail)) => (format!("{name} <{mail}>"), String::new(), String::new()),
            (Some(name), None) if o.admin_disabled => (
                name.clone(),
                "This admin is disabled: the vendor address receives the notifications.".to_owned(),
                String::new(),
            ),
            (Some(name), None) => (
                name.clone(),
                "This admin has no e-mail: the vendor address receives the notifications."
                    .to_owned(),
                String::new(),
            ),
            (None, mail) => {
                let mail = mail.clone().unwrap_or_default();
                (mail.clone(), String::new(), mail)
            }
        },
    };
    Ok(OwnerPanel {
        current,
        warning,
        email,
        admins: admins
            .into_iter()
            .filter(|a| !a.disabled || Some(a.id) == admin_id)
            .map(|a| OwnerOption {
                selected: Some(a.id) == admin_id,
                label: match &a.email {
                    Some(e) if !e.is_empty() => format!("{} <{e}>", a.username),
                    _ => format!("{} (no e-mail)", a.username),
                },
                id: a.id,
            })
            .collect(),
        may_edit,
    })
}
