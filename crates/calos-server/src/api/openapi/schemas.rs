//! Schemas the OpenAPI document needs that no handler type carries: the
//! error body every failure shares, and the shapes of answers built from
//! third-party types (JWKs) or with `json!` in the handlers. The latter
//! mirror those `json!` calls field for field (camelCase, `null` where the
//! handler can put `null`); the contract tests check them against real
//! answers.

use serde::Serialize;
use utoipa::ToSchema;

/// Every error: `{"error":{"code","message"}}` (see [`crate::error::ApiError`]).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code (`unauthenticated`, `not_found`, `invalid_field`, …).
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` (with status 503) when the store does not answer.
    pub status: String,
    /// The store backend: `sqlite` or `postgres`.
    pub store: String,
}

/// `GET /.well-known/jwks.json`: a JWK set of Ed25519 public keys.
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One OKP/Ed25519 public key (RFC 8037).
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Key id, the `kid` in verdict tokens' headers.
    pub kid: String,
    /// `EdDSA`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

use calos_core::branding::{BrandSettings, BrandView, BrandingLevel, UploadedLogo};
use calos_core::notify::EventKind;
use calos_store::{AccountOwner, Admin, ApiToken, DeliveryView, PortalUser, WebhookEndpoint};
use chrono::{DateTime, Utc};

/// `{"success": true}` and nothing else (logout, removing a domain).
#[derive(Serialize, ToSchema)]
pub struct Done {
    /// Always `true`.
    pub success: bool,
}

/// `{"success", "id"}`: what was revoked or deleted.
#[derive(Serialize, ToSchema)]
pub struct DoneWithId {
    pub success: bool,
    pub id: i64,
}

/// `POST /api/auth/login` and `/api/auth/login/totp`: the admin and the
/// session's CSRF token, or (`success: false`) the TOTP step to take.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// `false` only when the TOTP step is still needed.
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<Admin>,
    /// Send it in the `X-CSRF-Token` header with every cookie-authenticated mutation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// Present (and `true`) when the TOTP step is still needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_required: Option<bool>,
    /// Pass to `POST /api/auth/login/totp` with the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// `POST /api/auth/password`: the new session's CSRF token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    pub success: bool,
    pub csrf_token: String,
}

/// `GET /api/auth/me`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub success: bool,
    pub admin: Admin,
    /// `session` or `token`.
    pub via: String,
    pub totp_enabled: bool,
}

/// `POST /api/auth/totp/enrol`: the secret to add to an authenticator app.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpEnrolment {
    pub success: bool,
    pub otpauth_uri: String,
    /// Base32.
    pub secret: String,
}

/// `POST /api/auth/totp/confirm` and `/disable`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpState {
    pub success: bool,
    pub totp_enabled: bool,
}

/// `GET /api/enterprise/admins`.
#[derive(Serialize, ToSchema)]
pub struct AdminList {
    pub success: bool,
    pub admins: Vec<Admin>,
}

/// An admin created or changed; `password` only when the server made one
/// (create without a password, reset-password), shown this once.
#[derive(Serialize, ToSchema)]
pub struct AdminResult {
    pub success: bool,
    pub admin: Admin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `GET /api/enterprise/tokens`.
#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub success: bool,
    pub tokens: Vec<ApiToken>,
}

/// `POST /api/enterprise/tokens`: the secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub success: bool,
    pub token: ApiToken,
    /// `calos_at_…`.
    pub secret: String,
}

/// `GET`/`PUT /api/enterprise/customers/{install_id}/owner`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountOwnerResult {
    pub success: bool,
    pub customer_id: i64,
    /// `null`: nobody owns the customer.
    pub owner: Option<AccountOwner>,
}

/// One page of notification deliveries.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// `GET /api/enterprise/notifications`.
#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub success: bool,
    pub notifications: DeliveryPage,
}

/// `POST /api/enterprise/notifications/{id}/resend`.
#[derive(Serialize, ToSchema)]
pub struct NotificationResult {
    pub success: bool,
    pub notification: DeliveryView,
}

/// `GET /api/enterprise/notifications/subscriptions`.
#[derive(Serialize, ToSchema)]
pub struct Subscriptions {
    pub success: bool,
    pub events: Vec<EventKind>,
    /// Every event one can subscribe to.
    pub available: Vec<EventKind>,
    /// Where the e-mails go; `null`: the admin has no address.
    pub email: Option<String>,
}

/// `PUT /api/enterprise/notifications/subscriptions`.
#[derive(Serialize, ToSchema)]
pub struct SubscriptionsSaved {
    pub success: bool,
    pub events: Vec<EventKind>,
}

/// `GET /api/enterprise/webhooks`.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub success: bool,
    pub webhooks: Vec<WebhookEndpoint>,
}

/// A webhook endpoint created or replaced; `secret` (the signing secret)
/// only when it was made or rotated, shown this once.
#[derive(Serialize, ToSchema)]
pub struct WebhookResult {
    pub success: bool,
    pub webhook: WebhookEndpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `GET /api/enterprise/webhooks/{id}`: the endpoint and its latest deliveries.
#[derive(Serialize, ToSchema)]
pub struct WebhookDetail {
    pub success: bool,
    pub webhook: WebhookEndpoint,
    pub deliveries: DeliveryPage,
}

/// `POST /api/enterprise/webhooks/{id}/test`.
#[derive(Serialize, ToSchema)]
pub struct WebhookTestResult {
    pub success: bool,
    pub test: WebhookTest,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookTest {
    /// `test_…`, the delivery id the endpoint saw.
    pub id: String,
    pub delivered: bool,
    /// The endpoint's HTTP status; `null` when it could not be reached.
    #[schema(required)]
    pub status: Option<u16>,
    /// Why it was not delivered; `null` when it was.
    #[schema(required)]
    pub error: Option<String>,
}

/// A license's domain and its DNS ownership check.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainStatus {
    pub domain: String,
    pub verified: bool,
    #[schema(required)]
    pub verified_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub checked_at: Option<DateTime<Utc>>,
    /// Where the TXT record goes: `_calos.<domain>`.
    pub txt_name: String,
    /// What the TXT record must say (`calos-verify=…`); `null` before the first check.
    #[schema(required)]
    pub txt_value: Option<String>,
    /// After a check: why it did not verify (`null` when it did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/enterprise/customers/{install_id}/domains`.
#[derive(Serialize, ToSchema)]
pub struct DomainList {
    pub success: bool,
    pub domains: Vec<DomainStatus>,
}

/// `POST /api/enterprise/customers/{install_id}/domains`.
#[derive(Serialize, ToSchema)]
pub struct DomainAdded {
    pub success: bool,
    pub domain: DomainStatus,
}

/// `POST …/domains/{domain}/verify`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainChecked {
    pub success: bool,
    pub verified_now: bool,
    pub domain: DomainStatus,
}

/// `GET /api/enterprise/customers/{install_id}/portal-users`.
#[derive(Serialize, ToSchema)]
pub struct PortalUserList {
    pub success: bool,
    pub users: Vec<PortalUser>,
}

/// `POST /api/enterprise/customers/{install_id}/portal-users`: the one-time
/// link that sets the password.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalInvited {
    pub success: bool,
    pub user: PortalUser,
    pub set_password_path: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A stored brand (default or one customer's).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredBranding {
    pub settings: BrandSettings,
    pub version: u64,
    #[schema(required)]
    pub logo: Option<UploadedLogo>,
    /// The uploaded logo's path, or the settings' `logoUrl`.
    #[schema(required)]
    pub logo_url: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /api/enterprise/branding/default`.
#[derive(Serialize, ToSchema)]
pub struct DefaultBranding {
    pub success: bool,
    /// `null`: never set; the built-in brand applies.
    #[schema(required)]
    pub branding: Option<StoredBranding>,
    pub builtin: BrandSettings,
}

/// `GET /api/enterprise/customers/{install_id}/branding`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBranding {
    pub success: bool,
    pub install_id: String,
    pub level: BrandingLevel,
    /// The customer's own settings; `null`: none, the default applies.
    #[schema(required)]
    pub branding: Option<StoredBranding>,
    /// What the customer's deployment shows.
    pub effective: BrandView,
}

/// A brand saved, or its logo stored or removed.
#[derive(Serialize, ToSchema)]
pub struct BrandingSaved {
    pub success: bool,
    /// `null` after removing the logo of a brand that was never set.
    #[schema(required)]
    pub branding: Option<StoredBranding>,
}
