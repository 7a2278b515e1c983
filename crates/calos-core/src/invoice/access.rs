//! Who may do what with invoices. Owners and admins may do everything;
//! sales prepares invoices (generates, edits drafts, issues them) but does
//! not record payments, void or change the billing profile; support and
//! viewers only read (lists, details, PDFs, CSV).

use crate::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    Read,
    /// Generate drafts, edit drafts, issue.
    Prepare,
    /// Mark paid, void (and so credit).
    Settle,
    EditBillingProfile,
}

pub fn allows(role: Role, action: InvoiceAction) -> bool {
    match role {
        Role::Owner | Role::Admin => true,
        Role::Sales => matches!(action, InvoiceAction::Read | InvoiceAction::Prepare),
        Role::Support | Role::Viewer => action == InvoiceAction::Read,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_table() {
        use InvoiceAction::*;
        let row = |role| {
            [Read, Prepare, Settle, EditBillingProfile]
                .map(|a| if allows(role, a) { 'Y' } else { '-' })
                .iter()
                .collect::<String>()
        };
        assert_eq!(row(Role::Owner), "YYYY");
        assert_eq!(row(Role::Admin), "YYYY");
        assert_eq!(row(Role::Sales), "YY--");
        assert_eq!(row(Role::Support), "Y---");
        assert_eq!(row(Role::Viewer), "Y---");
    }
}
