#![cfg(not(target_arch = "wasm32"))]
//! The engine is sans-IO: no file under src/engine/ may name a JS binding crate.

#[test]
fn engine_sources_name_no_js_binding_crate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut offenders = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("src/engine exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).expect("readable source");
        for banned in ["wasm_bindgen", "wasm-bindgen", "js_sys", "js-sys", "web_sys", "web-sys", "gloo"] {
            if text.contains(banned) {
                offenders.push(format!("{} mentions {banned}", path.display()));
            }
        }
    }
    assert!(seen >= 10, "expected the engine's modules under {}", dir.display());
    assert!(offenders.is_empty(), "{offenders:?}");
}
