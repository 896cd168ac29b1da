//! Static serving of the reference host and the plugin, as a strict host would serve them.
//!
//! Routes: `/` → redirect to `/host/`; `/host/*` from `www/host`; `/plugin/plugin.json`
//! from the manifest file; `/plugin/*` from `www/plugin` (with the generated `pkg/`);
//! `/dev-config.json` tells the page where the emulators listen. Every answer carries a
//! strict Content-Security-Policy (no inline script, `'wasm-unsafe-eval'` for the wasm)
//! and `Cache-Control: no-store`, so the page tests see what a locked-down CRM enforces
//! and a rebuilt plugin is never served stale. Paths are decoded and confined to their
//! root: no `..`, no hidden files, no symlink escapes.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::http_server::{self, HttpRequest, HttpServer};

/// The policy every response carries.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'";

/// What the site serves.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// The `www/` folder (with `host/` and `plugin/`).
    pub www: PathBuf,
    /// The manifest served as `/plugin/plugin.json`.
    pub manifest: PathBuf,
    /// Base URL of the Google emulator, when one runs.
    pub google_url: Option<String>,
}

/// An HTTP answer, built without I/O so routing is testable.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers besides the common ones.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn redirect(to: &str) -> Reply {
        Reply { status: 302, headers: vec![("Location".into(), to.into())], body: Vec::new() }
    }

    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The MIME type for a file name; unknown types are served as bytes.
pub fn mime_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("json") | Some("map") => "application/json",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("txt") | Some("md") => "text/plain; charset=utf-8",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Decodes `%XX` escapes; None on a malformed escape or invalid UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'%') => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            Some(&b) => {
                out.push(b);
                i += 1;
            }
            None => break,
        }
    }
    String::from_utf8(out).ok()
}

/// Resolves `rel` (already decoded) inside `root`, or None when it would leave the root,
/// names a hidden file, or does not exist.
fn confine(root: &Path, rel: &str) -> Option<PathBuf> {
    if rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut path = root.to_path_buf();
    for segment in rel.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') {
            return None;
        }
        match Path::new(segment).components().next() {
            Some(Component::Normal(_)) => path.push(segment),
            _ => return None,
        }
    }
    // Symlinks must not lead outside the root either.
    let real = path.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    real.starts_with(&real_root).then_some(real)
}

fn serve_file(path: &Path) -> Reply {
    match fs::read(path) {
        Ok(body) => Reply { status: 200, headers: vec![("Content-Type".into(), mime_type(path).into())], body },
        Err(_) => Reply::text(404, "Not found"),
    }
}

fn serve_under(root: &Path, rel: &str, url_path: &str) -> Reply {
    let Some(found) = confine(root, rel) else {
        return Reply::text(404, "Not found");
    };
    if found.is_dir() {
        if !url_path.ends_with('/') {
            return Reply::redirect(&format!("{url_path}/"));
        }
        return match confine(&found, "index.html") {
            Some(index) => serve_file(&index),
            None => Reply::text(404, "Not found"),
        };
    }
    serve_file(&found)
}

/// Answers one request (GET or HEAD) without touching the network.
pub fn route(config: &SiteConfig, method: &str, url: &str) -> Reply {
    if method != "GET" && method != "HEAD" {
        let mut reply = Reply::text(405, "Method not allowed");
        reply.headers.push(("Allow".into(), "GET, HEAD".into()));
        return reply;
    }
    let raw_path = url.split(['?', '#']).next().unwrap_or("/");
    let Some(path) = percent_decode(raw_path) else {
        return Reply::text(400, "Bad path");
    };
    match path.as_str() {
        "/" | "" => Reply::redirect("/host/"),
        "/dev-config.json" => {
            let body = serde_json::json!({ "googleEmulator": config.google_url }).to_string();
            Reply { status: 200, headers: vec![("Content-Type".into(), "application/json".into())], body: body.into_bytes() }
        }
        "/plugin/plugin.json" => match fs::read(&config.manifest) {
            Ok(body) => Reply { status: 200, headers: vec![("Content-Type".into(), "application/json".into())], body },
            Err(_) => Reply::text(404, "plugin.json not found"),
        },
        "/host" => Reply::redirect("/host/"),
        "/plugin" => Reply::redirect("/plugin/"),
        p => {
            if let Some(rel) = p.strip_prefix("/host/") {
                serve_under(&config.www.join("host"), rel, p)
            } else if let Some(rel) = p.strip_prefix("/plugin/") {
                serve_under(&config.www.join("plugin"), rel, p)
            } else {
                Reply::text(404, "Not found")
            }
        }
    }
}

/// Headers every response carries.
pub fn common_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]
}

/// A running static server. Dropping it stops the server.
pub struct StaticServer {
    server: HttpServer,
}

impl StaticServer {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Blocks until the server stops (the `serve` command runs until killed).
    pub fn wait(self) {
        self.server.wait()
    }

    /// Stops the server (also done on drop).
    pub fn stop(&mut self) {
        self.server.stop()
    }
}

fn answer(config: &SiteConfig, request: HttpRequest) -> http_server::Reply {
    let reply = route(config, &request.method, &request.target);
    let body = if request.method == "HEAD" { Vec::new() } else { reply.body };
    let headers = common_headers()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(reply.headers)
        .collect();
    http_server::Reply::Response { status: reply.status, headers, body }
}

/// Starts serving on `127.0.0.1:port` (0 picks a free port).
pub fn start(port: u16, config: SiteConfig) -> Result<StaticServer, String> {
    let config = Arc::new(config);
    let server = http_server::start(port, "static", move |request| answer(&config, request))?;
    Ok(StaticServer { server })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// A temporary folder, removed when the test drops it.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A www/ tree in a fresh temporary folder, with a secret file beside it.
    fn site() -> (TempDir, SiteConfig) {
        let base = std::env::temp_dir().join(format!("devserver-static-{}-{}", std::process::id(), rand_suffix()));
        let www = base.join("www");
        fs::create_dir_all(www.join("host")).unwrap();
        fs::create_dir_all(www.join("plugin/pkg")).unwrap();
        fs::write(www.join("host/index.html"), "<!doctype html><title>CRM</title>").unwrap();
        fs::write(www.join("host/app.js"), "export const x = 1;").unwrap();
        fs::write(www.join("host/style.css"), "body{}").unwrap();
        fs::write(www.join("host/.env"), "hidden").unwrap();
        fs::write(www.join("plugin/pkg/contact_sync_bg.wasm"), [0u8, 97, 115, 109]).unwrap();
        fs::write(www.join("plugin/index.js"), "export function activate() {}").unwrap();
        fs::write(base.join("secret.txt"), "top secret").unwrap();
        fs::write(base.join("plugin.json"), "{\"id\":\"contact-sync\"}").unwrap();
        let config = SiteConfig { www, manifest: base.join("plugin.json"), google_url: Some("http://127.0.0.1:9999".into()) };
        (TempDir(base), config)
    }

    fn rand_suffix() -> u128 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    }

    #[test]
    fn files_are_served_with_their_mime_types() {
        let (_base, c) = site();
        let cases = [
            ("/host/", "text/html; charset=utf-8"),
            ("/host/index.html", "text/html; charset=utf-8"),
            ("/host/app.js", "text/javascript; charset=utf-8"),
            ("/host/style.css", "text/css; charset=utf-8"),
            ("/plugin/pkg/contact_sync_bg.wasm", "application/wasm"),
            ("/plugin/plugin.json", "application/json"),
            ("/dev-config.json", "application/json"),
        ];
        for (url, mime) in cases {
            let r = route(&c, "GET", url);
            assert_eq!(r.status, 200, "{url}");
            assert_eq!(r.header("Content-Type"), Some(mime), "{url}");
        }
        assert_eq!(mime_type(Path::new("a.png")), "image/png");
        assert_eq!(mime_type(Path::new("a.svg")), "image/svg+xml");
    }

    #[test]
    fn the_manifest_and_dev_config_come_from_the_configuration() {
        let (_base, c) = site();
        assert_eq!(route(&c, "GET", "/plugin/plugin.json").body, b"{\"id\":\"contact-sync\"}");
        let dev: serde_json::Value = serde_json::from_slice(&route(&c, "GET", "/dev-config.json").body).unwrap();
        assert_eq!(dev["googleEmulator"], "http://127.0.0.1:9999");
        let none = SiteConfig { google_url: None, ..c };
        let dev: serde_json::Value = serde_json::from_slice(&route(&none, "GET", "/dev-config.json").body).unwrap();
        assert!(dev["googleEmulator"].is_null());
    }

    #[test]
    fn the_root_redirects_to_the_host() {
        let (_base, c) = site();
        let r = route(&c, "GET", "/");
        assert_eq!((r.status, r.header("Location")), (302, Some("/host/")));
        assert_eq!(route(&c, "GET", "/host").header("Location"), Some("/host/"));
    }

    #[test]
    fn paths_cannot_leave_their_root() {
        let (_base, c) = site();
        for url in [
            "/host/../../secret.txt",
            "/host/%2e%2e/%2e%2e/secret.txt",
            "/host/..%2f..%2fsecret.txt",
            "/plugin/../host/index.html",
            "/host/.env",
            "/host/..\\..\\secret.txt",
            "/host/%00",
            "/host/%zz",
            "/secret.txt",
        ] {
            let r = route(&c, "GET", url);
            assert!(r.status == 404 || r.status == 400, "{url} answered {}", r.status);
            assert!(!String::from_utf8_lossy(&r.body).contains("top secret"), "{url}");
        }
    }

    #[test]
    fn only_reads_are_allowed() {
        let (_base, c) = site();
        assert_eq!(route(&c, "POST", "/host/").status, 405);
        assert_eq!(route(&c, "HEAD", "/host/").status, 200);
    }

    fn get(url: &str, path: &str) -> String {
        let addr = url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn every_response_over_http_carries_the_csp_and_no_store() {
        let (_base, c) = site();
        let server = start(0, c).unwrap();
        for path in ["/host/", "/plugin/pkg/contact_sync_bg.wasm", "/nope"] {
            let raw = get(&server.url(), path);
            let head = raw.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
            assert!(head.contains(&format!("content-security-policy: {}", CONTENT_SECURITY_POLICY.to_ascii_lowercase())), "{path}: {head}");
            assert!(head.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}");
            assert!(head.contains("cache-control: no-store"), "{path}");
        }
        let raw = get(&server.url(), "/plugin/pkg/contact_sync_bg.wasm");
        assert!(raw.to_ascii_lowercase().contains("content-type: application/wasm"));
        assert!(raw.starts_with("HTTP/1.0 200") || raw.starts_with("HTTP/1.1 200"), "{raw}");
    }
}
