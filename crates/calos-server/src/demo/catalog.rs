//! Real-world strings the demo events carry: full user agents as browsers,
//! HTTP clients and our SDK send them, API paths and error messages.

pub const MAC_CHROME_120: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
pub const WINDOWS_FIREFOX_121: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
pub const IPHONE_SAFARI_17: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
pub const IPAD_SAFARI_17: &str = "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
pub const MAC_SAFARI_17: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15";
pub const WINDOWS_CHROME_120: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
pub const WINDOWS_EDGE_120: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
pub const LINUX_FIREFOX_121: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
pub const ANDROID_CHROME_120: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";

pub const CURL: &str = "curl/8.5.0";
pub const PYTHON_REQUESTS: &str = "python-requests/2.31.0";
pub const CALOS_CLIENT_RUST: &str = "calos-client-rust/0.1.0";
pub const NODE_AXIOS: &str = "axios/1.6.2";

/// The API path a feature's calls go to (parameterised, as the SDK reports them).
pub fn endpoint(feature: &str) -> &'static str {
    match feature {
        "pos" => "/api/v1/pos/transactions",
        "transcripts" => "/api/v1/transcripts",
        "quickbooks" => "/api/v1/quickbooks/sync",
        "reports" => "/api/v1/reports/:id",
        "dashboard" => "/api/v1/dashboard/summary",
        "crypto" => "/api/v1/crypto/charges",
        "locations" => "/api/v1/locations",
        "inventory" => "/api/v1/inventory/items",
        "scheduling" => "/api/v1/schedule/slots",
        "messaging" => "/api/v1/messages",
        "students" => "/api/v1/students/:id",
        "settings" => "/api/v1/settings",
        _ => "/api/v1/status",
    }
}

/// The page a feature lives on.
pub fn page(feature: &str) -> String {
    format!("/app/{feature}")
}

/// HTTP status and message of an error event (PII-free, as the SDK strips it).
pub const ERRORS: [(u16, &str); 8] = [
    (400, "ValidationError: amount must be greater than zero"),
    (404, "NotFound: record no longer exists"),
    (409, "Conflict: record was changed by another user"),
    (422, "ValidationError: date range ends before it starts"),
    (429, "RateLimited: too many requests, retry later"),
    (500, "DatabaseError: connection reset by peer"),
    (502, "UpstreamError: payment gateway did not answer"),
    (
        503,
        "ServiceUnavailable: QuickBooks sync temporarily unavailable",
    ),
];
