//! corr2cause from the `evals` wheel: chat-format JSONL, `"Premise: ... Hypothesis: ..."` in the
//! user message, `ideal` = `"Answer: <label>"`.

use super::{eval_example, parse_error};
use crate::error::DataError;
use crate::table::Example;
use serde::Deserialize;

/// Path of the JSONL inside the `evals` wheel.
pub const MEMBER: &str = "evals/registry/data/corr2cause/corr2cause.jsonl";

#[derive(Deserialize)]
struct Row {
    input: Vec<Message>,
    ideal: String,
}

#[derive(Deserialize)]
struct Message {
    role: String,
    content: String,
}

/// Parses the JSONL, one example per line.
pub fn parse(bytes: &[u8]) -> Result<Vec<Example>, DataError> {
    const SRC: &str = "corr2cause";
    let text = std::str::from_utf8(bytes).map_err(|e| parse_error(SRC, "file", e.to_string()))?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("line {}", i + 1);
        let row: Row =
            serde_json::from_str(line).map_err(|e| parse_error(SRC, at(), e.to_string()))?;
        let user = row
            .input
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .ok_or_else(|| parse_error(SRC, at(), "no user message"))?;
        let body = user.content.trim();
        let body = body
            .strip_prefix("Premise:")
            .ok_or_else(|| parse_error(SRC, at(), "no `Premise:`"))?;
        let (premise, hypothesis) = body
            .rsplit_once(" Hypothesis:")
            .ok_or_else(|| parse_error(SRC, at(), "no `Hypothesis:`"))?;
        let label = row
            .ideal
            .trim()
            .strip_prefix("Answer:")
            .unwrap_or(&row.ideal)
            .trim();
        if !matches!(label, "entailment" | "neutral" | "contradiction") {
            return Err(parse_error(SRC, at(), format!("unknown label `{label}`")));
        }
        out.push(eval_example(SRC, i, premise, hypothesis, label, SRC));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_a_row() {
        let line = r#"{"input": [{"role": "system", "content": "Respond"}, {"role": "user", "content": "Premise: A correlates with B. Hypothesis: A directly affects B."}], "ideal": "Answer: neutral"}"#;
        let ex = super::parse(line.as_bytes()).unwrap();
        assert_eq!(ex[0].premise, "A correlates with B.");
        assert_eq!(ex[0].hypothesis, "A directly affects B.");
        assert_eq!(ex[0].label, "neutral");
        let bad = super::parse(b"{\"input\": [], \"ideal\": \"x\"}\n")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("line 1"), "{bad}");
    }
}
