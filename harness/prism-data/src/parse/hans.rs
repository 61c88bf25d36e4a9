//! HANS, regenerated with the authors' MIT template generator (vendored in `vendor/hans/`) and
//! a fixed seed. The generator runs under the machine's `python3`; numpy is not needed.

use super::{eval_example, parse_error, tsv_rows};
use crate::error::DataError;
use crate::table::Example;
use std::path::Path;
use std::process::Command;

const FILES: &[(&str, &str)] = &[
    (
        "templates.py",
        include_str!("../../vendor/hans/templates.py"),
    ),
    (
        "corpus_generator.py",
        include_str!("../../vendor/hans/corpus_generator.py"),
    ),
    (
        "generate_hans.py",
        include_str!("../../vendor/hans/generate_hans.py"),
    ),
];

/// Runs the vendored generator with `seed` in a scratch folder and returns its TSV.
pub fn generate(seed: u64, scratch: &Path) -> Result<String, DataError> {
    for (name, text) in FILES {
        fs_err::write(scratch.join(name), text).map_err(DataError::io(scratch.join(name)))?;
    }
    let out = scratch.join("hans.tsv");
    let command = format!("python3 generate_hans.py hans.tsv {seed}");
    let result = Command::new("python3")
        .arg(scratch.join("generate_hans.py"))
        .arg(&out)
        .arg(seed.to_string())
        .current_dir(scratch)
        .output()
        .map_err(|e| DataError::Tool {
            command: command.clone(),
            message: format!("{e} (is python3 installed?)"),
        })?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(DataError::Tool {
            command,
            message: tail,
        });
    }
    fs_err::read_to_string(&out).map_err(DataError::io(out))
}

/// Parses the generator's MNLI-style TSV; `group` is `heuristic/subcase`.
pub fn parse(tsv: &str) -> Result<Vec<Example>, DataError> {
    let mut out = Vec::new();
    for (line, f) in tsv_rows(tsv) {
        if f.len() != 11 {
            return Err(parse_error(
                "hans",
                format!("line {line}"),
                format!("expected 11 fields, found {}", f.len()),
            ));
        }
        let label = match f[0] {
            "entailment" => "entailment",
            "non-entailment" => "non-entailment",
            other => {
                return Err(parse_error(
                    "hans",
                    format!("line {line}"),
                    format!("unknown label `{other}`"),
                ));
            }
        };
        out.push(eval_example(
            "hans",
            line - 2,
            f[5],
            f[6],
            label,
            &format!("{}/{}", f[8], f[9]),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_generator_rows() {
        let tsv = "gold_label\ta\tb\tc\td\tsentence1\tsentence2\tpairID\theuristic\tsubcase\ttemplate\n\
                   non-entailment\tx\tx\tx\tx\tThe doctor saw the judge .\tThe judge saw the doctor .\tex0\tlexical_overlap\tln_subject/object_swap\ttemp1\n";
        let ex = super::parse(tsv).unwrap();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].id, "hans-00000");
        assert_eq!(ex[0].group, "lexical_overlap/ln_subject/object_swap");
        assert_eq!(ex[0].label, "non-entailment");
    }
}
