//! [`TcpProxy`]: a loopback TCP proxy in front of a real server (PostgreSQL,
//! Redis) that a test can cut and restore, to see what duet does when the
//! server is lost while it runs and when it comes back.
//!
//! [`TcpProxy::cut`] closes every open connection and refuses new ones (a
//! new connection is accepted and closed at once, as a restarting server
//! would); [`TcpProxy::restore`] lets connections through again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct State {
    cut: AtomicBool,
    /// Cancelled by a cut: every connection open then closes.
    open: Mutex<CancellationToken>,
    accepted: AtomicUsize,
}

/// Stops forwarding when dropped.
pub struct TcpProxy {
    address: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State {
            cut: AtomicBool::new(false),
            open: Mutex::new(CancellationToken::new()),
            accepted: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, upstream, Arc::clone(&state)));
        TcpProxy {
            address,
            state,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.address
    }

    /// Connections accepted so far (refused ones included).
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// Closes every open connection and refuses new ones until [`Self::restore`].
    pub fn cut(&self) {
        let mut open = self.state.open.lock().unwrap_or_else(|e| e.into_inner());
        self.state.cut.store(true, Ordering::SeqCst);
        open.cancel();
        *open = CancellationToken::new();
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, state: Arc<State>) {
    while let Ok((client, _)) = listener.accept().await {
        state.accepted.fetch_add(1, Ordering::SeqCst);
        // Checked under the lock a cut takes, so none slips through a cut.
        let closed = {
            let open = state.open.lock().unwrap_or_else(|e| e.into_inner());
            (!state.cut.load(Ordering::SeqCst)).then(|| open.clone())
        };
        match closed {
            Some(closed) => drop(tokio::spawn(forward(client, upstream, closed))),
            None => drop(client),
        }
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, closed: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        () = closed.cancelled() => {}
    }
}
