//! The app calling its api over `https://`: a stand-in api behind TLS with a certificate for
//! `localhost` from a CA made for the test. Trusting that CA (`upstream.api_ca_file`), the
//! app's suggestions come through; without it the certificate is refused and the page says
//! the api is unreachable, before any request reaches the stand-in.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A listener that completes a TLS handshake before handing the connection to axum, counting
/// the handshakes that failed.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    failed_handshakes: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else { continue };
            match self.acceptor.accept(stream).await {
                Ok(tls) => return (tls, peer),
                Err(_) => {
                    self.failed_handshakes.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The stand-in api over TLS: its base URL, the CA's certificate (PEM), the requests it got
/// and the TLS handshakes that failed.
struct HttpsApi {
    url: String,
    ca_pem: String,
    requests: Arc<AtomicUsize>,
    failed_handshakes: Arc<AtomicUsize>,
}

async fn start_https_api() -> HttpsApi {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Norikae test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");
    let server_key = rcgen::KeyPair::generate().expect("server key");
    let server_cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &ca)
        .expect("server certificate");

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .expect("server TLS config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];

    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let router = Router::new().route(
        "/v1/stations",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                axum::Json(json!({"query": "tenjin", "results": [{
                    "id": "fukuoka:8", "name": "天神", "reading": "てんじん", "label": "地下鉄",
                    "lat": 33.59, "lon": 130.40, "lines": ["空港線"], "agencies": ["福岡市地下鉄"]
                }]}))
            }
        }),
    );
    let failed_handshakes = Arc::new(AtomicUsize::new(0));
    let listener = TlsListener {
        tcp: TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        acceptor: TlsAcceptor::from(Arc::new(config)),
        failed_handshakes: failed_handshakes.clone(),
    };
    let port = listener.tcp.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    HttpsApi {
        url: format!("https://localhost:{port}"),
        ca_pem: ca.pem(),
        requests,
        failed_handshakes,
    }
}

async fn start_app(upstream: norikae_app::UpstreamSettings) -> String {
    common::start_app(norikae_app::Config { upstream, ..norikae_app::Config::default() }).await
}

#[tokio::test]
async fn the_app_reaches_an_https_api_whose_ca_it_trusts_and_refuses_one_it_does_not() {
    let api = start_https_api().await;
    let dir = tempfile::tempdir().expect("temporary folder");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &api.ca_pem).expect("CA file");

    let trusting = start_app(norikae_app::UpstreamSettings {
        api_url: api.url.clone(),
        api_ca_file: Some(ca_file),
        timeout_ms: 3_000,
        ..norikae_app::UpstreamSettings::default()
    })
    .await;
    let (status, body) = common::suggest(&trusting).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["name"], "天神", "{body}");
    assert_eq!(api.requests.load(Ordering::SeqCst), 1);

    // The system's roots alone do not know the test CA: no request gets through.
    let not_trusting = start_app(norikae_app::UpstreamSettings {
        api_url: api.url.clone(),
        timeout_ms: 3_000,
        ..norikae_app::UpstreamSettings::default()
    })
    .await;
    let (status, body) = common::suggest(&not_trusting).await;
    assert!(matches!(status, 502 | 503), "{status} {body}");
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(api.requests.load(Ordering::SeqCst), 1, "nothing got past the handshake");
    assert!(api.failed_handshakes.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn an_unusable_ca_file_stops_the_app_at_start_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let not_pem = dir.path().join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello").expect("file");
    for path in [dir.path().join("missing.pem"), not_pem] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let config = norikae_app::Config {
            upstream: norikae_app::UpstreamSettings {
                api_url: "https://localhost:1".to_owned(),
                api_ca_file: Some(path.clone()),
                ..norikae_app::UpstreamSettings::default()
            },
            ..norikae_app::Config::default()
        };
        let error = norikae_app::run(config, listener, std::future::ready(()))
            .await
            .expect_err("a CA file that cannot be used");
        let message = format!("{error:#}");
        assert!(message.contains("upstream.api_ca_file"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
}
