//! What the reference-fixture tests share: reading a fixture that a script under
//! `tests/reference/` wrote.

/// The JSON fixture `name` of `tests/reference/`.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../../tests/reference/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}
