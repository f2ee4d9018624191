//! A TCP proxy for tests and benchmarks that makes the link between a client
//! and a server as bad as a post's: high latency, little bandwidth, lost
//! packets (as retransmission stalls), connections cut at a chosen byte in
//! either direction, resets in the middle of a response, and no network at
//! all. `tc netem` is not available on our machines; this runs anywhere.
//!
//! Faults are consumed one per connection, in order; once the list is empty,
//! connections are clean, so a client that retries correctly always gets
//! through in the end.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How the link behaves when nothing breaks.
#[derive(Debug, Clone, Copy)]
pub struct LinkProfile {
    /// One-way delay added to every chunk.
    pub latency: Duration,
    /// Bits per second in each direction; `None` is unlimited.
    pub bandwidth_bps: Option<u64>,
    /// Chance that a chunk is "lost" and stalls for `retransmit` (what a
    /// lossy link looks like above TCP).
    pub loss: f64,
    pub retransmit: Duration,
}

impl LinkProfile {
    pub const CLEAN: LinkProfile = LinkProfile {
        latency: Duration::ZERO,
        bandwidth_bps: None,
        loss: 0.0,
        retransmit: Duration::from_millis(200),
    };

    /// A 2G/VSAT-like link: 64 kbit/s, 600 ms round trip, 2% loss.
    pub fn satellite() -> LinkProfile {
        LinkProfile {
            latency: Duration::from_millis(300),
            bandwidth_bps: Some(64_000),
            loss: 0.02,
            retransmit: Duration::from_millis(1000),
        }
    }
}

/// What goes wrong on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: a clean connection.
    None,
    /// Close both sides after this many bytes from client to server.
    CutUp(u64),
    /// Close both sides after this many bytes from server to client.
    CutDown(u64),
    /// Reset (RST) after this many bytes from server to client.
    ResetDown(u64),
    /// Accept, then reset at once: a server that is there but not answering.
    Refuse,
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    faults_fired: AtomicU64,
}

/// What crossed the proxy so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub faults_fired: u64,
}

struct Shared {
    upstream: SocketAddr,
    profile: Mutex<LinkProfile>,
    faults: Mutex<VecDeque<Fault>>,
    down: AtomicBool,
    counters: Counters,
    rng: Mutex<u64>,
}

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream`.
    pub async fn start(
        upstream: SocketAddr,
        profile: LinkProfile,
        faults: Vec<Fault>,
    ) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            profile: Mutex::new(profile),
            faults: Mutex::new(faults.into()),
            down: AtomicBool::new(false),
            counters: Counters::default(),
            rng: Mutex::new(0x2545_F491_4F6C_DD1D),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = handle(client, s).await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// No network: every connection is reset at once until set back, new
    /// ones when they open and open ones at their next byte.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    pub fn set_profile(&self, profile: LinkProfile) {
        *self.shared.profile.lock().unwrap() = profile;
    }

    /// Queue faults for the next connections.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.faults.lock().unwrap().extend(faults);
    }

    /// Faults still waiting for a connection.
    pub fn pending_faults(&self) -> usize {
        self.shared.faults.lock().unwrap().len()
    }

    pub fn seed(&self, seed: u64) {
        *self.shared.rng.lock().unwrap() = seed | 1;
    }

    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            connections: c.connections.load(Ordering::SeqCst),
            bytes_up: c.bytes_up.load(Ordering::SeqCst),
            bytes_down: c.bytes_down.load(Ordering::SeqCst),
            faults_fired: c.faults_fired.load(Ordering::SeqCst),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A random fault schedule: `n` faulty connections with cuts at offsets
/// below `max_offset`, from a seed (so a failing case can be replayed).
pub fn random_schedule(seed: u64, n: usize, max_offset: u64) -> Vec<Fault> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let at = next() % max_offset.max(1);
            match next() % 5 {
                0 => Fault::CutUp(at),
                1 => Fault::CutDown(at),
                2 => Fault::ResetDown(at),
                3 => Fault::Refuse,
                _ => Fault::None,
            }
        })
        .collect()
}

fn roll(shared: &Shared) -> f64 {
    let mut x = shared.rng.lock().unwrap();
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    (*x >> 11) as f64 / (1u64 << 53) as f64
}

#[allow(deprecated)] // set_linger: the only way to send an RST from tokio
fn reset(stream: &TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
}

async fn handle(client: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    shared.counters.connections.fetch_add(1, Ordering::SeqCst);
    if shared.down.load(Ordering::SeqCst) {
        reset(&client);
        return Ok(());
    }
    let fault = shared
        .faults
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Fault::None);
    if fault == Fault::Refuse {
        shared.counters.faults_fired.fetch_add(1, Ordering::SeqCst);
        reset(&client);
        return Ok(());
    }
    let server = match TcpStream::connect(shared.upstream).await {
        Ok(s) => s,
        Err(_) => {
            reset(&client);
            return Ok(());
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let (up_limit, down_limit, down_reset) = match fault {
        Fault::CutUp(n) => (Some(n), None, false),
        Fault::CutDown(n) => (None, Some(n), false),
        Fault::ResetDown(n) => (None, Some(n), true),
        _ => (None, None, false),
    };
    let up = pump(cr, sw, shared.clone(), up_limit, false, true);
    let down = pump(sr, cw, shared.clone(), down_limit, down_reset, false);
    tokio::pin!(up);
    tokio::pin!(down);
    // When either direction ends because of a fault, the whole connection
    // goes: the other direction is dropped with its halves, so both sockets
    // close (with an RST where the fault is a reset) and neither end waits
    // for bytes that will never come. A clean end of one direction lets the
    // other finish.
    let cut = tokio::select! {
        u = &mut up => matches!(u, Ok(true)) || matches!(down.await, Ok(true)),
        d = &mut down => matches!(d, Ok(true)) || matches!(up.await, Ok(true)),
    };
    if cut {
        shared.counters.faults_fired.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}

/// Forward one direction. Returns Ok(true) when a fault cut it.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    shared: Arc<Shared>,
    limit: Option<u64>,
    reset_on_cut: bool,
    upward: bool,
) -> std::io::Result<bool> {
    // Reader stamps chunks as they arrive; writer delivers each one after
    // the latency and at the bandwidth, so latency is paid once per chunk
    // in flight, not once per chunk in sequence.
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(64);
    let reader = async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if tx.send((Instant::now(), buf[..n].to_vec())).await.is_err() {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let s = shared;
    let writer = async move {
        let mut sent = 0u64;
        let mut free_at = Instant::now();
        while let Some((arrived, mut chunk)) = rx.recv().await {
            if s.down.load(Ordering::SeqCst) {
                // The network went while this connection was open (a
                // pooled keep-alive one, say): it breaks like the others.
                let _ = to.shutdown().await;
                return Ok(true);
            }
            let profile = *s.profile.lock().unwrap();
            let mut due = arrived + profile.latency;
            if profile.loss > 0.0 && roll(&s) < profile.loss {
                due += profile.retransmit;
            }
            let mut cut = false;
            if let Some(limit) = limit {
                let room = limit.saturating_sub(sent) as usize;
                if chunk.len() >= room {
                    chunk.truncate(room);
                    cut = true;
                }
            }
            if let Some(bps) = profile.bandwidth_bps {
                let on_wire = Duration::from_secs_f64(chunk.len() as f64 * 8.0 / bps as f64);
                due = due.max(free_at) + on_wire;
                free_at = due;
            }
            tokio::time::sleep_until(due).await;
            if !chunk.is_empty() {
                to.write_all(&chunk).await?;
                sent += chunk.len() as u64;
                let c = if upward {
                    &s.counters.bytes_up
                } else {
                    &s.counters.bytes_down
                };
                c.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            if cut {
                if reset_on_cut {
                    // Linger 0 and no FIN: the close is a reset.
                    reset(to.as_ref());
                    to.forget();
                } else {
                    let _ = to.shutdown().await;
                }
                return Ok(true);
            }
        }
        let _ = to.shutdown().await;
        Ok::<_, std::io::Error>(false)
    };
    tokio::pin!(reader);
    tokio::pin!(writer);
    // The writer decides: when it cuts, the reader is dropped with it.
    tokio::select! {
        w = &mut writer => w,
        r = &mut reader => {
            r?;
            writer.await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn round_trip(proxy: &FaultProxy, payload: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(proxy.addr()).await?;
        s.write_all(payload).await?;
        s.shutdown().await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok(out)
    }

    #[tokio::test]
    async fn clean_link_forwards_everything() {
        let up = echo_server().await;
        let p = FaultProxy::start(up, LinkProfile::CLEAN, vec![])
            .await
            .unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        assert_eq!(round_trip(&p, &data).await.unwrap(), data);
        assert_eq!(p.stats().bytes_up, 100_000);
        assert_eq!(p.stats().bytes_down, 100_000);
    }

    #[tokio::test]
    async fn cuts_at_the_given_byte_then_recovers() {
        let up = echo_server().await;
        let p = FaultProxy::start(
            up,
            LinkProfile::CLEAN,
            vec![Fault::CutDown(1000), Fault::CutUp(10)],
        )
        .await
        .unwrap();
        let data = vec![7u8; 5000];
        let got = round_trip(&p, &data).await.unwrap_or_default();
        assert!(
            got.len() <= 1000,
            "got {} bytes past a cut at 1000",
            got.len()
        );
        let got = round_trip(&p, &data).await.unwrap_or_default();
        assert!(
            got.len() <= 10,
            "upstream cut at 10 let {} bytes back",
            got.len()
        );
        // Faults used up: the link is clean again.
        assert_eq!(round_trip(&p, &data).await.unwrap(), data);
        assert_eq!(p.stats().faults_fired, 2);
    }

    #[tokio::test]
    async fn down_and_refused_connections_fail() {
        let up = echo_server().await;
        let p = FaultProxy::start(up, LinkProfile::CLEAN, vec![Fault::Refuse])
            .await
            .unwrap();
        assert!(round_trip(&p, b"hi").await.unwrap_or_default().is_empty());
        p.set_down(true);
        assert!(round_trip(&p, b"hi").await.unwrap_or_default().is_empty());
        p.set_down(false);
        assert_eq!(round_trip(&p, b"hi").await.unwrap(), b"hi");
    }

    /// A server that answers once the client has sent `want` bytes, and
    /// keeps its connection open: only the proxy can end it.
    async fn patient_server(want: usize, answer: &'static [u8]) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut got = vec![0u8; want];
                    if s.read_exact(&mut got).await.is_ok() {
                        let _ = s.write_all(answer).await;
                    }
                    let mut rest = Vec::new();
                    let _ = s.read_to_end(&mut rest).await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_reset_mid_answer_reaches_a_client_that_keeps_its_side_open() {
        let up = patient_server(4, b"0123456789").await;
        let p = FaultProxy::start(up, LinkProfile::CLEAN, vec![Fault::ResetDown(3)])
            .await
            .unwrap();
        let mut s = TcpStream::connect(p.addr()).await.unwrap();
        s.write_all(b"GET!").await.unwrap();
        // The client does not close its side (it waits for the answer, as
        // an HTTP client does): the reset must still arrive.
        let mut got = Vec::new();
        let res = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut got)).await;
        let ended = res.expect("the connection was left hanging");
        assert!(ended.is_err() || got.len() <= 3, "{ended:?} {got:?}");
        assert!(got.len() <= 3, "bytes past the reset: {got:?}");
    }

    #[tokio::test]
    async fn going_down_breaks_open_connections_too() {
        let up = echo_server().await;
        let p = FaultProxy::start(up, LinkProfile::CLEAN, vec![])
            .await
            .unwrap();
        let mut s = TcpStream::connect(p.addr()).await.unwrap();
        s.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        p.set_down(true);
        let _ = s.write_all(b"more").await;
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
        assert!(rest.is_empty(), "nothing crosses a link that is down");
    }

    #[tokio::test(start_paused = true)]
    async fn latency_and_bandwidth_slow_the_link() {
        let up = echo_server().await;
        let profile = LinkProfile {
            latency: Duration::from_millis(300),
            bandwidth_bps: Some(64_000),
            loss: 0.0,
            retransmit: Duration::ZERO,
        };
        let p = FaultProxy::start(up, profile, vec![]).await.unwrap();
        let t = Instant::now();
        let data = vec![1u8; 8000]; // 1 s on the wire each way at 64 kbit/s
        assert_eq!(round_trip(&p, &data).await.unwrap(), data);
        let took = t.elapsed();
        // At least one direction's wire time plus latency both ways (the
        // echo streams back while the upload is still going).
        assert!(took >= Duration::from_millis(1600), "took {took:?}");
        p.set_profile(LinkProfile::CLEAN);
        let t = Instant::now();
        round_trip(&p, &data).await.unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(100),
            "clean took {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn random_schedules_replay() {
        assert_eq!(random_schedule(5, 20, 1000), random_schedule(5, 20, 1000));
        assert_ne!(random_schedule(5, 20, 1000), random_schedule(6, 20, 1000));
    }
}
