//! Helpers shared by the runtime's integration tests: start a real server on port 0 and talk
//! raw HTTP/1.1 to it, so each test controls exactly which connection a request uses.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing;
use norikae_runtime::{HttpSettings, Readiness, Server};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Scaled-down timeouts: LB idle 1 s, idle 2 s, drain 1 s, shutdown 2 s, stop 5 s.
pub fn fast_settings() -> HttpSettings {
    HttpSettings {
        port: 0,
        idle_timeout_secs: 2,
        lb_idle_timeout_secs: 1,
        drain_delay_secs: 1,
        shutdown_timeout_secs: 2,
        stop_timeout_secs: 5,
        request_timeout_secs: 10,
        max_body_bytes: 1024,
        max_in_flight: 64,
        metrics_loopback_only: false,
    }
}

/// A router with a fast, a slow (1.5 s), a stuck (60 s) and a panicking endpoint; `/fast`
/// answers any method.
pub fn test_router() -> Router {
    Router::new()
        .route("/fast", routing::any(|| async { "fast" }))
        .route(
            "/panic",
            routing::get(|| async {
                panic!("secret internal state");
                #[allow(unreachable_code)]
                "never"
            }),
        )
        .route(
            "/slow",
            routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "slow"
            }),
        )
        .route(
            "/stuck",
            routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "stuck"
            }),
        )
}

pub struct Running {
    pub address: SocketAddr,
    pub readiness: Readiness,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub fn shut_down(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}

pub async fn spawn(settings: HttpSettings, router: Router) -> Running {
    let server = Server::new("test", settings).expect("valid settings");
    let readiness = server.readiness();
    readiness.set_loaded(true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (sender, receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, router, async move {
        let _ = receiver.await;
    }));
    Running { address, readiness, shutdown: Some(sender), task }
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Sends a GET on an existing connection and reads one response.
pub async fn get_on(
    stream: &mut TcpStream,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> std::io::Result<RawResponse> {
    request_on(stream, "GET", path, extra_headers).await
}

/// Sends a body-less request with any method on an existing connection and reads one response.
pub async fn request_on(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> std::io::Result<RawResponse> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (name, value) in extra_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    read_response(stream).await
}

pub async fn read_response(stream: &mut TcpStream) -> std::io::Result<RawResponse> {
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    if reader.read_line(&mut status_line).await? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(RawResponse { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// One request on a fresh connection.
pub async fn get(address: SocketAddr, path: &str) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect(address).await?;
    get_on(&mut stream, path, &[]).await
}

/// True when the server has closed `stream` (EOF or reset) within `wait`.
pub async fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 64];
    match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}
