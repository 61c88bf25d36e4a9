//! Declares one module per file in `src/metrics/`, so adding a metric is one new file plus one
//! registry line (docs/adding-a-metric.md).

use std::fmt::Write;

fn main() {
    // Read at run time: a build script compiled in another checkout must not point back there.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(&manifest).join("src/metrics");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/metrics exists")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".rs").map(str::to_string))
        .filter(|stem| stem != "mod")
        .collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let path = dir.join(format!("{name}.rs"));
        writeln!(
            out,
            "#[path = {:?}]\npub mod {name};",
            path.display().to_string()
        )
        .unwrap();
    }
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("metric_modules.rs");
    std::fs::write(dest, out).unwrap();
}
