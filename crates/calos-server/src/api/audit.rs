//! `GET /api/enterprise/audit?targetType=&targetId=&limit=`: newest first.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_store::AuditQuery;

use super::views::AuditView;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditParams {
    target_type: Option<String>,
    target_id: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
pub struct AuditResponse {
    success: bool,
    audit: serde_json::Value,
}

pub async fn list(
    user: AdminUser,
    State(state): State<AppState>,
    Query(params): Query<AuditParams>,
) -> ApiResult<Json<AuditResponse>> {
    user.require(Permission::Read)?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let limit = match blank(params.limit) {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::InvalidQuery(format!(
                    "limit must be 1 to {MAX_LIMIT}, not {raw:?}"
                )))
            }
        },
    };
    let query = AuditQuery {
        target_type: blank(params.target_type),
        target_id: blank(params.target_id),
        limit,
    };
    let records = state.store.list_audit(&query).await?;
    let views: Vec<AuditView<'_>> = records.iter().map(AuditView::new).collect();
    Ok(Json(AuditResponse {
        success: true,
        audit: serde_json::to_value(views).map_err(ApiError::internal)?,
    }))
}
