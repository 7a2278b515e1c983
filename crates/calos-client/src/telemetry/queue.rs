//! The in-memory event queue: bounded; when full the oldest event is dropped
//! and counted, so a deployment that cannot reach the server never grows
//! without limit.

use std::collections::VecDeque;

use calos_core::protocol::WireEvent;

#[derive(Debug)]
pub struct BoundedQueue {
    events: VecDeque<WireEvent>,
    capacity: usize,
    dropped: u64,
}

impl BoundedQueue {
    pub fn new(capacity: usize) -> Self {
        Self {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    pub fn push(&mut self, event: WireEvent) {
        while self.events.len() >= self.capacity {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    /// Puts events back at the front (e.g. read back from disk), oldest
    /// first, within the capacity: what does not fit is dropped and counted.
    pub fn push_front_all(&mut self, events: Vec<WireEvent>) {
        for event in events.into_iter().rev() {
            if self.events.len() >= self.capacity {
                self.dropped += 1;
                continue;
            }
            self.events.push_front(event);
        }
    }

    pub fn pop_front(&mut self) -> Option<WireEvent> {
        self.events.pop_front()
    }

    pub fn front(&self) -> Option<&WireEvent> {
        self.events.front()
    }

    pub fn drain_all(&mut self) -> Vec<WireEvent> {
        self.events.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
