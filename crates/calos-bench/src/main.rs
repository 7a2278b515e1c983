//! `bench`: load scenarios over real HTTP on loopback. Each scenario prints
//! its figures; BENCHMARKS.md records them with the command that made them.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("no scenario yet")
}
