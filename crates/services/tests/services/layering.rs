//! The direction of the architecture, checked on the manifests: the use
//! cases depend on no adapter framework and on no adapter crate, and the web
//! adapter on no command-line crate. (Cargo forbids cycles; this keeps the
//! adapters' frameworks out of the layer below them.)

use std::path::Path;

/// The names in a manifest's `[dependencies]` table (not dev-dependencies).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("reading {}: {e}", manifest.display()));
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim().trim_end_matches(".workspace").to_string();
                if !name.is_empty() && !name.starts_with('#') {
                    names.push(name);
                }
            }
        }
    }
    assert!(
        !names.is_empty(),
        "{} lists no dependencies",
        manifest.display()
    );
    names
}

#[test]
fn services_depend_on_no_adapter_and_web_on_no_cli() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let services = dependencies(&crates.join("services/Cargo.toml"));
    for banned in [
        "axum",
        "askama",
        "clap",
        "indicatif",
        "tower-http",
        "tower",
        "rapport-web",
        "rapport",
    ] {
        assert!(
            !services.iter().any(|d| d == banned),
            "rapport-services must not depend on {banned}: {services:?}"
        );
    }
    assert!(
        services.iter().any(|d| d == "rapport-store"),
        "{services:?}"
    );
    let web = dependencies(&crates.join("web/Cargo.toml"));
    for banned in ["clap", "indicatif", "rapport"] {
        assert!(
            !web.iter().any(|d| d == banned),
            "rapport-web must not depend on {banned}: {web:?}"
        );
    }
    assert!(web.iter().any(|d| d == "rapport-services"), "{web:?}");
}
