//! Test support for the CardDAV tests and benchmark: a real Radicale on a free loopback
//! port (temp storage, htpasswd Basic auth, CORS headers), stopped when dropped; a native
//! [`Fetch`] over ureq; and a small HTTP proxy in front of Radicale that counts requests
//! and can rename hrefs the way some servers do.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod driver;

use contact_sync::crm::NewCrmContact;
use contact_sync::providers::carddav::{CardDavError, Fetch, HttpRequest, HttpResponse};

/// The Radicale installed by scripts/setup.sh from requirements-test.txt.
pub fn radicale_binary() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join(".venv/bin/radicale");
    bin.exists().then_some(bin)
}

/// Starts Radicale, or prints why the test is skipped and returns None.
pub fn radicale_or_skip(test: &str) -> Option<Radicale> {
    match radicale_binary() {
        Some(_) => Some(Radicale::start()),
        None => {
            eprintln!(
                "SKIPPED {test}: .venv/bin/radicale is missing; run scripts/setup.sh (installs requirements-test.txt)"
            );
            None
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("carddav-{tag}-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A free loopback port (bound then released; Radicale binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A running Radicale. The user `alice` / `wonderland` (and `bob` / `builder`) may log in.
pub struct Radicale {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Radicale's log file (info level: one line per request).
    pub log: PathBuf,
}

pub const USER: &str = "alice";
pub const PASSWORD: &str = "wonderland";

impl Radicale {
    /// Starts Radicale and waits until it accepts connections.
    pub fn start() -> Radicale {
        let bin = radicale_binary().expect("radicale installed");
        let dir = temp_dir("radicale");
        let port = free_port();
        let users = dir.join("users");
        std::fs::write(&users, format!("{USER}:{PASSWORD}\nbob:builder\n")).expect("write htpasswd");
        let config = dir.join("config");
        std::fs::write(
            &config,
            format!(
                "[server]\nhosts = 127.0.0.1:{port}\n\
                 [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n\
                 [rights]\ntype = owner_only\n\
                 [storage]\nfilesystem_folder = {storage}\n\
                 [headers]\nAccess-Control-Allow-Origin = *\n\
                 Access-Control-Allow-Methods = GET, PUT, DELETE, PROPFIND, REPORT, OPTIONS, MKCOL\n\
                 Access-Control-Allow-Headers = Authorization, Content-Type, Depth, If-Match, If-None-Match\n\
                 Access-Control-Expose-Headers = ETag, Location\n\
                 [logging]\nlevel = info\nmask_passwords = True\n",
                users = users.display(),
                storage = dir.join("collections").display(),
            ),
        )
        .expect("write config");
        let log = dir.join("radicale.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bin)
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn radicale");
        let radicale = Radicale { child, dir, url: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "radicale did not start: {}", radicale.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
        radicale
    }

    /// Radicale's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Creates the address book `name` of `alice` and returns its URL (ends with '/').
    pub fn create_address_book(&self, name: &str) -> String {
        let fetch = UreqFetch::new();
        let auth = basic(USER, PASSWORD);
        // Radicale creates the principal collection on the first authenticated PROPFIND.
        let _ = fetch.send("PROPFIND", &format!("{}/{USER}/", self.url), &auth, &[("depth", "0")], "");
        let url = format!("{}/{USER}/{name}/", self.url);
        let body = contact_sync::providers::carddav::xml::mkcol_addressbook_body(name);
        let r = fetch.send("MKCOL", &url, &auth, &[("content-type", "application/xml")], &body).expect("MKCOL");
        assert_eq!(r.status, 201, "MKCOL {url}: {} {}", r.status, r.body);
        url
    }

    /// Writes a card straight to the server (as another client would), returning its etag.
    pub fn put_card(&self, book_url: &str, name: &str, vcard: &str) -> String {
        let fetch = UreqFetch::new();
        let r = fetch
            .send("PUT", &format!("{book_url}{name}"), &basic(USER, PASSWORD), &[("content-type", "text/vcard")], vcard)
            .expect("PUT");
        assert!(matches!(r.status, 201 | 204), "PUT {name}: {} {}", r.status, r.body);
        r.header("etag").unwrap_or_default().to_string()
    }

    /// Reads a card straight from the server.
    pub fn get_card(&self, href: &str) -> Option<String> {
        let fetch = UreqFetch::new();
        let url = if href.starts_with("http") { href.to_string() } else { format!("{}{href}", self.url) };
        let r = fetch.send("GET", &url, &basic(USER, PASSWORD), &[], "").expect("GET");
        (r.status == 200).then_some(r.body)
    }

    /// Deletes a card straight on the server.
    pub fn delete_card(&self, href: &str) {
        let fetch = UreqFetch::new();
        let url = if href.starts_with("http") { href.to_string() } else { format!("{}{href}", self.url) };
        let r = fetch.send("DELETE", &url, &basic(USER, PASSWORD), &[], "").expect("DELETE");
        assert!(matches!(r.status, 200 | 204), "DELETE {href}: {}", r.status);
    }

    /// HTTP requests Radicale has logged so far (one `<METHOD> request for '…'` line each).
    pub fn request_count(&self) -> usize {
        self.log_text().lines().filter(|l| l.contains(" request for '")).count()
    }

    /// The folder of `alice`'s address book `book` in Radicale's storage.
    pub fn book_folder(&self, book: &str) -> PathBuf {
        self.dir.join("collections/collection-root").join(USER).join(book)
    }

    /// A scratch folder inside the server's temp dir (removed with it).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }

    /// Every `.vcf` name in an address book folder on disk, sorted.
    pub fn stored_names(&self, book: &str) -> Vec<String> {
        let folder = self.dir.join("collections/collection-root").join(USER).join(book);
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .map(|it| {
                it.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".vcf"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A native [`Fetch`] over ureq: no redirects followed, any status returned as is.
pub struct UreqFetch {
    agent: ureq::Agent,
    /// Requests sent through it.
    pub requests: AtomicU64,
}

impl UreqFetch {
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(600)))
            .build();
        UreqFetch { agent: config.into(), requests: AtomicU64::new(0) }
    }

    fn send(&self, method: &str, url: &str, auth: &str, headers: &[(&str, &str)], body: &str) -> Result<HttpResponse, String> {
        let mut builder = ureq::http::Request::builder().method(method).uri(url).header("authorization", auth);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder.body(body.to_string()).map_err(|e| e.to_string())?;
        self.run(request)
    }

    fn run(&self, request: ureq::http::Request<String>) -> Result<HttpResponse, String> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let mut response = self.agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response.body_mut().with_config().limit(512 * 1024 * 1024).read_to_string().map_err(|e| e.to_string())?;
        Ok(HttpResponse { status, headers, body })
    }
}

impl Fetch for UreqFetch {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
        for (k, v) in &request.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let req = builder.body(request.body).map_err(|e| CardDavError::network(e.to_string()))?;
        self.run(req).map_err(|e| CardDavError::network(format!("{} {}: {e}", request.method, request.url)))
    }
}

/// What the proxy does to requests.
#[derive(Default)]
pub struct ProxyRules {
    /// Store PUTs of new cards under `srv-<name>` and answer with a Location header and no ETag.
    pub rename_on_create: AtomicBool,
    /// Requests seen: method and path.
    pub seen: Mutex<Vec<(String, String)>>,
}

/// A loopback HTTP/1.1 proxy in front of Radicale that counts requests and can rename.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub rules: Arc<ProxyRules>,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let rules = Arc::new(ProxyRules::default());
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_string();
        let (r, s) = (rules.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let fetch = Arc::new(UreqFetch::new());
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // One thread per connection: clients may keep several connections open.
                let (upstream, fetch, rules) = (upstream.clone(), fetch.clone(), r.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &fetch, &rules);
                });
            }
        });
        Proxy { url: format!("http://127.0.0.1:{port}"), rules, stop, port, thread: Some(thread) }
    }

    /// Requests seen so far.
    pub fn count(&self) -> usize {
        self.rules.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Requests seen, as (method, path).
    pub fn seen(&self) -> Vec<(String, String)> {
        self.rules.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Forgets the requests seen.
    pub fn reset(&self) {
        if let Ok(mut s) = self.rules.seen.lock() {
            s.clear();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves one keep-alive connection.
fn serve(mut stream: TcpStream, upstream: &str, fetch: &UreqFetch, rules: &ProxyRules) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read the head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 65536];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or("");
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_string();
        let mut path = parts.next().unwrap_or("/").to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut length = 0usize;
        for line in lines {
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                }
                if !matches!(k.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
                    headers.push((k, v));
                }
            }
        }
        let body_start = head_end + 4;
        while buf.len() < body_start + length {
            let mut chunk = [0u8; 65536];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[body_start..body_start + length]).into_owned();
        buf.drain(..body_start + length);
        if let Ok(mut seen) = rules.seen.lock() {
            seen.push((method.clone(), path.clone()));
        }
        let creating = method == "PUT" && headers.iter().any(|(k, v)| k == "if-none-match" && v == "*");
        let renamed = creating && rules.rename_on_create.load(Ordering::SeqCst);
        if renamed {
            if let Some(i) = path.rfind('/') {
                path = format!("{}srv-{}", &path[..=i], &path[i + 1..]);
            }
        }
        let mut builder = ureq::http::Request::builder().method(method.as_str()).uri(format!("{upstream}{path}"));
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let response = match builder.body(body).map_err(|e| e.to_string()).and_then(|r| fetch.run(r)) {
            Ok(r) => r,
            Err(e) => HttpResponse { status: 502, headers: vec![], body: e },
        };
        let mut out = format!("HTTP/1.1 {} X\r\n", response.status);
        for (k, v) in &response.headers {
            let k_l = k.to_ascii_lowercase();
            if matches!(k_l.as_str(), "content-length" | "transfer-encoding" | "connection" | "content-encoding") {
                continue;
            }
            if renamed && k_l == "etag" {
                continue;
            }
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if renamed && (200..300).contains(&response.status) {
            out.push_str(&format!("Location: {path}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
        stream.write_all(out.as_bytes())?;
        stream.write_all(response.body.as_bytes())?;
        stream.flush()?;
    }
}

/// A plain vCard 3.0 with a name and one e-mail.
pub fn card(uid: &str, given: &str, family: &str, email: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {family}\r\nN:{family};{given};;;\r\nEMAIL;TYPE=INTERNET:{email}\r\nEND:VCARD\r\n")
}

/// A CRM contact with a name and one primary work e-mail.
pub fn crm_contact(first: &str, last: &str, email: &str) -> NewCrmContact {
    let mut fields = serde_json::Map::new();
    fields.insert("firstName".into(), serde_json::json!(first));
    fields.insert("lastName".into(), serde_json::json!(last));
    fields.insert("emails".into(), serde_json::json!([{ "value": email, "type": "work", "primary": true }]));
    NewCrmContact { fields, ..NewCrmContact::default() }
}
