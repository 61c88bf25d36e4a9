//! MNLI matched dev, vendored (gzip) from the HANS repository (`vendor/mnli/NOTICE.md`).

use super::{eval_example, parse_error, tsv_rows};
use crate::error::DataError;
use crate::table::Example;
use std::io::Read;

/// The vendored file, compiled into the binary so no download is needed.
pub const VENDORED_GZ: &[u8] = include_bytes!("../../vendor/mnli/mnli_matched_dev.tsv.gz");

/// Parses the TSV (`index, premise, hypothesis, gold_label, n_correct`); rows without a gold
/// label are skipped. Fields are split on tabs only: the file does not quote, and some texts
/// contain a lone `"` that a quote-aware CSV reader would treat as the start of a field.
pub fn parse(tsv: &str) -> Result<Vec<Example>, DataError> {
    const SRC: &str = "mnli_matched";
    let mut out = Vec::new();
    for (line, fields) in tsv_rows(tsv) {
        if fields.len() < 4 {
            return Err(parse_error(
                SRC,
                format!("line {line}"),
                format!("expected 5 tab-separated fields, found {}", fields.len()),
            ));
        }
        let label = fields[3].trim();
        if !matches!(label, "entailment" | "neutral" | "contradiction") {
            continue;
        }
        let index: usize = fields[0]
            .trim()
            .parse()
            .map_err(|_| parse_error(SRC, format!("line {line}"), "index is not a number"))?;
        out.push(eval_example(
            SRC, index, fields[1], fields[2], label, "mnli",
        ));
    }
    Ok(out)
}

/// Decompresses and parses the vendored file.
pub fn parse_vendored() -> Result<Vec<Example>, DataError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(VENDORED_GZ)
        .read_to_string(&mut text)
        .map_err(|e| parse_error("mnli_matched", "vendored gzip", e.to_string()))?;
    parse(&text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn vendored_file_has_all_9815_labelled_rows() {
        // MNLI matched dev has 9,815 pairs. A CSV reader that honours quotes merges 101 rows
        // whose text contains a stray `"` into their neighbours (and reports 9,714); fields are
        // tab-separated with no quoting, so we split on tabs only.
        let ex = super::parse_vendored().unwrap();
        assert_eq!(ex.len(), 9815);
        let count = |l: &str| ex.iter().filter(|e| e.label == l).count();
        assert_eq!(
            (
                count("entailment"),
                count("contradiction"),
                count("neutral")
            ),
            (3479, 3213, 3123)
        );
        let quoted = ex.iter().find(|e| e.id == "mnli_matched-00028").unwrap();
        assert_eq!(quoted.premise, "She seemed so different  \"");
    }
}
