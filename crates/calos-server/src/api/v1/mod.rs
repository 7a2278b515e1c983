//! The public API deployments call (`/api/v1/...`) and the key set they
//! verify answers with. No admin authentication: deployments prove
//! themselves with their install id and license key.

pub mod branding;
pub mod jwks;
pub mod telemetry;
pub mod verify;
