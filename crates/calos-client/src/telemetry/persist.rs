//! Unsent events kept in the data directory between runs. Re-sending an
//! event that did reach the server is harmless: its `eventId` is the same.

use calos_core::protocol::WireEvent;

use crate::datadir::{DataDir, TELEMETRY};

/// The events saved by the last shutdown (none when the file is missing or unreadable).
pub fn load(dir: &DataDir) -> Vec<WireEvent> {
    match dir.read(TELEMETRY) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "calos: unreadable saved telemetry ignored");
            Vec::new()
        }),
        Ok(None) => Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "calos: saved telemetry could not be read");
            Vec::new()
        }
    }
}

/// Saves `events` (or removes the file when there are none).
pub fn save(dir: &DataDir, events: &[WireEvent]) -> std::io::Result<()> {
    if events.is_empty() {
        return dir.remove(TELEMETRY);
    }
    let bytes = serde_json::to_vec(events).map_err(std::io::Error::other)?;
    dir.write_atomic(TELEMETRY, &bytes)
}
