//! The floor and verify loaded at the same time, sharing one CPU: the
//! measurement of `bench verify` that the host's changing speed cannot move.
//!
//! Measured one after the other, the two servers meet a shared VM at
//! different speeds: on the 2-core machine here a server's CPU time per
//! request moved by up to 2× between windows a few seconds apart, and one
//! round's throughput ratio ranged from 66 % to 153 % within a single run. Loaded at
//! once, pinned to the same CPU, both run interleaved in scheduler slices of
//! a few milliseconds through the same window, so whatever slows the host
//! slows both alike; the scheduler shares the CPU evenly between their
//! worker threads, and each serves what its share allows. Their ratio of
//! requests served is then verify's throughput relative to the floor's on
//! identical hardware, and its spread over windows is a few percent instead
//! of tens.
//!
//! What it does not give: latency as the issue defines it. Each server's
//! requests also wait out the other's slices, which inflates both p99s alike
//! and pulls their ratio towards 1, so the p99 target is judged on the
//! rounds that load one server at a time.

use std::time::Duration;

use crate::child::Server;
use crate::paired::{Round, Run};
use crate::wrk::Wrk;

/// Both servers loaded at once for `length`: one [`Round`] whose ratios
/// compare what each served in the same window. Each has its own wrk
/// (`wrk` with the connections the bench uses, one thread each).
pub fn window(
    floor: (&Server, &str),
    verify: (&Server, &str),
    wrk: &Wrk,
    length: Duration,
) -> anyhow::Result<Round> {
    let (floor_server, floor_url) = floor;
    let (verify_server, verify_url) = verify;
    let floor_cpu = floor_server.cpu_time()?;
    let verify_cpu = verify_server.cpu_time()?;
    let floor_load = wrk.start(floor_url, length)?;
    let verify_load = wrk.start(verify_url, length)?;
    let floor_figures = floor_load.finish()?;
    let verify_figures = verify_load.finish()?;
    Ok(Round {
        floor: Run::new(
            floor_figures,
            floor_server.cpu_time()?.saturating_sub(floor_cpu),
        ),
        verify: Run::new(
            verify_figures,
            verify_server.cpu_time()?.saturating_sub(verify_cpu),
        ),
    })
}
