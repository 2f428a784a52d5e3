//! The mock's sockets: the accept loop, HTTP/1.1 and h2 serving, TLS with
//! an rcgen CA, and connections that a fault can reset.

use super::*;

/// Per-connection flag a handler sets to reset its connection.
#[derive(Clone)]
pub(super) struct ConnReset(pub(super) Arc<AtomicBool>);

pub(super) async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    state: Arc<MockState>,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else { continue };
        // Like real API servers: without it, Nagle holds the answer's second
        // small write until the client's delayed ACK (tens of milliseconds).
        let _ = tcp.set_nodelay(true);
        state.connections.fetch_add(1, Ordering::SeqCst);
        let reset = ConnReset(Arc::new(AtomicBool::new(false)));
        let io = ResettableIo {
            tcp,
            reset: reset.0.clone(),
        };
        let app = app.clone().layer(Extension(reset));
        let (tls, cancel) = (tls.clone(), cancel.clone());
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(io).await {
                        serve(TokioIo::new(stream), app, cancel).await;
                    }
                }
                None => serve(TokioIo::new(io), app, cancel).await,
            }
        });
    }
}

pub(super) async fn serve<I>(io: I, app: Router, cancel: CancellationToken)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(io, TowerToHyperService::new(app));
    tokio::select! {
        _ = connection => {}
        _ = cancel.cancelled() => {}
    }
}

/// A TCP stream that, once its flag is set, fails every read and write after
/// setting SO_LINGER to 0, so closing it sends a RST (a "connection reset").
pub(super) struct ResettableIo {
    tcp: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ResettableIo {
    fn check(&self) -> io::Result<()> {
        if !self.reset.load(Ordering::SeqCst) {
            return Ok(());
        }
        #[expect(
            deprecated,
            reason = "linger 0 does not block; it is how a RST is sent"
        )]
        let _ = self.tcp.set_linger(Some(Duration::ZERO));
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "mock reset"))
    }
}

impl AsyncRead for ResettableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

pub(super) fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls::{self, pki_types};

    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "duet mock CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "duet mock LLM");
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("server certificate");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_der =
        pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)
        .expect("server TLS config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}

// ---------------------------------------------------------------- handlers

pub(super) type Mock = State<Arc<MockState>>;
