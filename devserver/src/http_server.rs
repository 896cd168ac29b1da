//! A small HTTP/1.1 server on 127.0.0.1: one thread per connection, keep-alive with an idle
//! timeout, requests parsed by `httparse`.
//!
//! Why not tiny_http: its connection pool queues a new connection behind kept-alive ones
//! when several arrive at once, so a browser loading two dozen modules over six sockets
//! could wait forever for one of them. Here every connection has its own thread, and an
//! idle connection is closed after a few seconds.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request head (request line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// A kept-alive connection with no new request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// One request, read whole.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Upper-case method, e.g. `GET`.
    pub method: String,
    /// Path and query as sent, e.g. `/v1/people/me/connections?pageSize=10`.
    pub target: String,
    /// Header names and values as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// HTTP/1.0 (the connection closes after the answer unless the client asked to keep it).
    pub http10: bool,
}

impl HttpRequest {
    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A response; `Content-Length` and `Connection` are added here.
    Response {
        /// HTTP status.
        status: u16,
        /// Headers (a `Content-Length` or `Connection` given here is ignored).
        headers: Vec<(String, String)>,
        /// The body (sent even for HEAD only if the handler put one there).
        body: Vec<u8>,
    },
    /// Write these raw bytes and close the connection (fault injection).
    Raw(Vec<u8>),
}

type Handler = dyn Fn(HttpRequest) -> Reply + Send + Sync + 'static;

/// A running server. Dropping it stops accepting connections.
pub struct HttpServer {
    port: u16,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops accepting connections (also done on drop). Open connections end when their
    /// client closes them or after the idle timeout.
    pub fn stop(&mut self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the acceptor blocked in accept().
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }

    /// Blocks until the server stops.
    pub fn wait(mut self) {
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Listens on `127.0.0.1:port` (0 picks a free port) and answers every request with `handler`.
pub fn start<F>(port: u16, name: &str, handler: F) -> Result<HttpServer, String>
where
    F: Fn(HttpRequest) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("cannot bind 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr().map_err(|e| format!("no local address: {e}"))?.port();
    let stopping = Arc::new(AtomicBool::new(false));
    let handler: Arc<Handler> = Arc::new(handler);
    let stop_flag = stopping.clone();
    let thread_name = name.to_string();
    let acceptor = std::thread::Builder::new()
        .name(format!("{name}-accept"))
        .spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let handler = handler.clone();
                let stop_flag = stop_flag.clone();
                let _ = std::thread::Builder::new()
                    .name(format!("{thread_name}-conn"))
                    .spawn(move || serve_connection(stream, &*handler, &stop_flag));
            }
        })
        .map_err(|e| format!("cannot spawn the acceptor: {e}"))?;
    Ok(HttpServer { port, stopping, acceptor: Some(acceptor) })
}

fn serve_connection(stream: TcpStream, handler: &Handler, stopping: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else { return };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    while !stopping.load(Ordering::SeqCst) {
        let request = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(status) => {
                let _ = write_response(&mut writer, status, &[], b"", false);
                break;
            }
        };
        let connection = request.header("Connection").map(str::to_ascii_lowercase).unwrap_or_default();
        let keep_alive = if request.http10 { connection.contains("keep-alive") } else { !connection.contains("close") };
        match handler(request) {
            Reply::Response { status, headers, body } => {
                if write_response(&mut writer, status, &headers, &body, keep_alive).is_err() || !keep_alive {
                    break;
                }
            }
            Reply::Raw(bytes) => {
                let _ = writer.write_all(&bytes);
                let _ = writer.flush();
                break;
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// Reads one request. `Ok(None)`: the client closed (or went idle) between requests.
/// `Err(status)`: a request this server refuses (400, 413, 431).
fn read_request(reader: &mut BufReader<TcpStream>) -> Result<Option<HttpRequest>, u16> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match reader.read_until(b'\n', &mut head) {
            Ok(0) => return if head.is_empty() { Ok(None) } else { Err(400) },
            Ok(_) => {}
            Err(e) if head.is_empty() && is_idle(&e) => return Ok(None),
            Err(_) => return if head.is_empty() { Ok(None) } else { Err(400) },
        }
        // Blank lines before a request line are tolerated (RFC 9112 §2.2).
        if before == 0 && (head == b"\r\n" || head == b"\n") {
            head.clear();
            continue;
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > MAX_HEAD {
            return Err(431);
        }
    }
    let mut header_slots = [httparse::EMPTY_HEADER; 96];
    let mut parsed = httparse::Request::new(&mut header_slots);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(400),
    }
    let method = parsed.method.ok_or(400u16)?.to_ascii_uppercase();
    let target = parsed.path.ok_or(400u16)?.to_string();
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
        .collect();
    let http10 = parsed.version == Some(0);
    let mut request = HttpRequest { method, target, headers, body: Vec::new(), http10 };
    let chunked = request.header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        request.body = read_chunked(reader)?;
    } else if let Some(len) = request.header("Content-Length") {
        let len: usize = len.trim().parse().map_err(|_| 400u16)?;
        if len > MAX_BODY {
            return Err(413);
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).map_err(|_| 400u16)?;
        request.body = body;
    }
    Ok(Some(request))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, u16> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|_| 400u16)?;
        let size_text = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16).map_err(|_| 400u16)?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut trailer = String::new();
                let n = reader.read_line(&mut trailer).map_err(|_| 400u16)?;
                if n == 0 || trailer.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(413);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|_| 400u16)?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).map_err(|_| 400u16)?;
    }
}

fn is_idle(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::ConnectionReset)
}

fn write_response(w: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8], keep_alive: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("connection") || k.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        // Header injection is impossible by construction, but a value from a handler with a
        // line break would corrupt the stream: drop such a header.
        if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
            continue;
        }
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    head.push_str(if keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    w.write_all(head.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_server() -> HttpServer {
        start(0, "test", |r: HttpRequest| Reply::Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("{} {} {}", r.method, r.target, String::from_utf8_lossy(&r.body)).into_bytes(),
        })
        .unwrap()
    }

    fn exchange(stream: &mut TcpStream, raw: &str) -> String {
        stream.write_all(raw.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    #[test]
    fn many_kept_alive_connections_are_all_answered() {
        let server = echo_server();
        // More idle kept-alive sockets than any pool would hold, then one more request.
        let mut idle: Vec<TcpStream> = (0..16).map(|_| TcpStream::connect(("127.0.0.1", server.port())).unwrap()).collect();
        for s in &mut idle {
            assert!(exchange(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n").ends_with("GET /a "));
        }
        let mut fresh = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        fresh.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        assert!(exchange(&mut fresh, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n").ends_with("GET /b "));
    }

    #[test]
    fn keep_alive_serves_several_requests_and_reads_bodies() {
        let server = echo_server();
        let mut s = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        let first = exchange(&mut s, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        assert!(first.starts_with("HTTP/1.1 200 OK") && first.ends_with("POST /x hello"), "{first}");
        let second = exchange(&mut s, "PUT /y HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert!(second.ends_with("PUT /y abcde"), "{second}");
    }

    #[test]
    fn a_garbled_request_gets_400_and_the_server_keeps_working() {
        let server = echo_server();
        let mut s = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        let answer = exchange(&mut s, "NOT A REQUEST\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let mut again = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        assert!(exchange(&mut again, "GET /ok HTTP/1.1\r\n\r\n").ends_with("GET /ok "));
    }
}
