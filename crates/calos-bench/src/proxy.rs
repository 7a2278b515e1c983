//! The load-balancing step of `bench scale`: a TCP proxy on loopback that
//! hands each new client connection to the next `calos serve` node in turn
//! (round robin) and copies bytes both ways until either side closes. That
//! is what an L4 balancer in front of stateless nodes does; keep-alive
//! connections stay on the node they were given, as behind HAProxy in TCP
//! mode.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running proxy; stops accepting when dropped.
pub struct RoundRobin {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    accept: JoinHandle<()>,
}

impl RoundRobin {
    /// Listens on a free loopback port in front of `nodes` (`http://host:port`).
    pub async fn start(nodes: &[String]) -> anyhow::Result<RoundRobin> {
        let backends: Vec<SocketAddr> = nodes
            .iter()
            .map(|base| {
                base.trim_start_matches("http://")
                    .parse::<SocketAddr>()
                    .with_context(|| format!("node address {base:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        anyhow::ensure!(!backends.is_empty(), "no nodes to balance");
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let backends = Arc::new(backends);
        let next = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
                tokio::spawn(pipe(client, target));
            }
        });
        Ok(RoundRobin { base, accept })
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// One client connection to one node; a failed node closes the client's
/// connection, which the load generator counts as an error.
async fn pipe(mut client: TcpStream, target: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Three echo-with-name servers: consecutive connections reach each in turn.
    #[tokio::test]
    async fn connections_go_round_robin() {
        let mut nodes = Vec::new();
        for name in [b'a', b'b', b'c'] {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            nodes.push(format!("http://{}", l.local_addr().unwrap()));
            tokio::spawn(async move {
                while let Ok((mut s, _)) = l.accept().await {
                    let mut buf = [0u8; 1];
                    if s.read_exact(&mut buf).await.is_ok() {
                        let _ = s.write_all(&[name, buf[0]]).await;
                    }
                }
            });
        }
        let proxy = RoundRobin::start(&nodes).await.unwrap();
        let addr = proxy.base.trim_start_matches("http://").to_owned();
        let mut seen = Vec::new();
        for i in 0..6u8 {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            s.write_all(&[i]).await.unwrap();
            let mut reply = [0u8; 2];
            s.read_exact(&mut reply).await.unwrap();
            assert_eq!(reply[1], i, "bytes go through both ways");
            seen.push(reply[0]);
        }
        assert_eq!(seen, b"abcabc");
        assert!(RoundRobin::start(&[]).await.is_err());
    }
}
