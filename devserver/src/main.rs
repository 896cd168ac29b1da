//! The development server: serves the reference host and the built plugin, and hosts the
//! provider emulators (Google OAuth and People API) on loopback only.
//!
//! ```text
//! devserver serve [--port P] [--www DIR] [--manifest FILE] [--google-port P] [--google-seed demo|empty]
//! ```
//! Prints one line `READY {"host": "http://127.0.0.1:P", "google": "http://127.0.0.1:Q" | null}`
//! once listening (tests parse it), then serves until killed.

use devserver::static_site::{self, SiteConfig};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: devserver serve [--port P] [--www DIR] [--manifest FILE] [--google-port P] [--google-seed demo|empty]
  --port P          port of the host site on 127.0.0.1 (default 8080; 0 = a free port)
  --www DIR         folder holding host/ and plugin/ (default: www of this repository)
  --manifest FILE   plugin.json to serve as /plugin/plugin.json (default: the repository's)
  --google-port P   also start the Google emulator on this port (0 = a free port)
  --google-seed S   emulator data: demo (sample contacts, default) or empty";

struct Options {
    port: u16,
    www: PathBuf,
    manifest: PathBuf,
    google_port: Option<u16>,
    google_seed: String,
}

/// The repository root: the current folder when it holds plugin.json, else the folder
/// this binary was built from (so `cargo run -p devserver` works from anywhere).
fn repo_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    if cwd.join("plugin.json").is_file() {
        return cwd;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or(cwd)
}

fn parse(args: &[String]) -> Result<Options, String> {
    let root = repo_root();
    let mut o = Options {
        port: 8080,
        www: root.join("www"),
        manifest: root.join("plugin.json"),
        google_port: None,
        google_seed: "demo".into(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let port = |v: String| v.parse::<u16>().map_err(|_| format!("{flag}: \"{v}\" is not a port"));
        match flag.as_str() {
            "--port" => o.port = port(value()?)?,
            "--www" => o.www = PathBuf::from(value()?),
            "--manifest" => o.manifest = PathBuf::from(value()?),
            "--google-port" => o.google_port = Some(port(value()?)?),
            "--google-seed" => {
                o.google_seed = value()?;
                if o.google_seed != "demo" && o.google_seed != "empty" {
                    return Err(format!("--google-seed: \"{}\" is neither demo nor empty", o.google_seed));
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !o.www.join("host").is_dir() && !o.www.join("plugin").is_dir() {
        return Err(format!("{} holds neither host/ nor plugin/", o.www.display()));
    }
    if !o.manifest.is_file() {
        return Err(format!("{} not found", o.manifest.display()));
    }
    Ok(o)
}

fn serve(o: Options) -> Result<(), String> {
    let google = match o.google_port {
        Some(port) => {
            let config = if o.google_seed == "empty" {
                devserver::google::EmulatorConfig::empty()
            } else {
                devserver::google::EmulatorConfig::demo()
            };
            Some(devserver::google::start(port, config)?)
        }
        None => None,
    };
    let google_url = google.as_ref().map(|g| g.url().to_string());
    let site = static_site::start(o.port, SiteConfig { www: o.www, manifest: o.manifest, google_url: google_url.clone() })?;
    let ready = serde_json::json!({ "host": site.url(), "google": google_url });
    let mut out = std::io::stdout();
    // The one line tests wait for; flushed at once because stdout is a pipe for them.
    let _ = writeln!(out, "READY {ready}");
    let _ = out.flush();
    eprintln!("Reference host: {}/host/", site.url());
    site.wait();
    drop(google);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("serve", &[][..]),
    };
    let result = match command {
        "serve" => parse(rest).and_then(serve),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devserver: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
