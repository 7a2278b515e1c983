//! The SDK's notion of "now": the local clock, never allowed to run
//! backwards. A clock set back (to stretch an offline lease) is absorbed into
//! an offset, so time keeps moving forward from the latest moment seen and
//! nothing is extended; a large step back is reported.

/// Differences up to this much between clocks are normal and tolerated.
pub const SKEW_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Default)]
pub struct TimeBase {
    offset: i64,
    watermark: i64,
    /// The largest backward step seen beyond the tolerance.
    moved_back: Option<i64>,
}

impl TimeBase {
    /// Starts from a floor: the latest persisted watermark and the cached
    /// token's signed `iat`.
    pub fn with_floor(floor: i64) -> Self {
        Self {
            offset: 0,
            watermark: floor,
            moved_back: None,
        }
    }

    /// The effective time for a local clock reading.
    pub fn observe(&mut self, now: i64) -> i64 {
        let mut eff = now.saturating_add(self.offset);
        if eff < self.watermark {
            let step = self.watermark - eff;
            if step > SKEW_TOLERANCE_SECS {
                self.moved_back = Some(self.moved_back.map_or(step, |m| m.max(step)));
            }
            self.offset = self.offset.saturating_add(step);
            eff = self.watermark;
        }
        self.watermark = eff;
        eff
    }

    /// A fresh signed answer tells the server's time: trust the local clock
    /// again, but never run behind the server (a local clock that is behind
    /// would otherwise stretch the lease).
    pub fn sync_to_server(&mut self, now: i64, iat: i64) {
        self.offset = (iat - now).max(0);
        self.watermark = now + self.offset;
        self.moved_back = None;
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    pub fn moved_back(&self) -> Option<i64> {
        self.moved_back
    }
}
