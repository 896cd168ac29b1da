//! Injected faults: a fraction of requests, or the next N, matching a path prefix get an
//! error status, latency, a dropped connection, or a malformed/truncated JSON body.

use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum FaultKind {
    /// Answer with this status and Google's error envelope, without handling the request.
    Status { status: u16 },
    /// Sleep before handling the request normally.
    Latency { ms: u64 },
    /// Close the connection without a valid HTTP response (request not handled).
    Drop,
    /// Handle the request, then replace the body with invalid JSON.
    Malformed,
    /// Handle the request, then cut the JSON body in half.
    Truncated,
}

/// A fault rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// Requests whose path starts with this (e.g. `/v1/people`, `/token`).
    #[serde(default = "default_path")]
    pub path_prefix: String,
    /// Only this HTTP method, if set.
    #[serde(default)]
    pub method: Option<String>,
    /// Applies to the next `count` matching requests, then disappears...
    #[serde(default)]
    pub count: Option<u32>,
    /// ... or to this fraction (0..1) of matching requests, indefinitely.
    #[serde(default)]
    pub fraction: Option<f64>,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn default_path() -> String {
    "/".into()
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// Picks the fault to apply to a request, consuming counted faults. `roll` gives a number
/// in [0,1) for fractional faults.
pub fn pick(faults: &mut Vec<Fault>, method: &str, path: &str, mut roll: impl FnMut() -> f64) -> Option<FaultKind> {
    let mut chosen = None;
    for (i, f) in faults.iter_mut().enumerate() {
        if !f.matches(method, path) {
            continue;
        }
        if let Some(n) = f.count.as_mut() {
            if *n > 0 {
                *n -= 1;
                chosen = Some((i, f.kind.clone()));
                break;
            }
        } else if let Some(p) = f.fraction {
            if roll() < p {
                chosen = Some((i, f.kind.clone()));
                break;
            }
        }
    }
    faults.retain(|f| f.count != Some(0));
    chosen.map(|(_, k)| k)
}
