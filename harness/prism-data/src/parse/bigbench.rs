//! BIG-bench task JSONs: VitaminC (the pool) and the NLI-type OOD tasks.
//!
//! Each `task.json` holds `examples: [{input, target_scores: {label: 0|1}}]`; the gold label is
//! the key scored 1. Each task has its own rule for splitting `input` into premise and
//! hypothesis (`../shared/data-sources.md` A1).

use super::{eval_example, parse_error};
use crate::error::DataError;
use crate::table::Example;
use prism_core::hash::keyed_u64;
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Path of a task's JSON inside the `bigbench-1.0.0` sdist.
pub fn task_member(task: &str) -> String {
    format!("bigbench-1.0.0/bigbench/benchmark_tasks/{task}/task.json")
}

#[derive(Deserialize)]
struct TaskFile {
    examples: Vec<TaskExample>,
}

/// One example of a BIG-bench task.
#[derive(Deserialize)]
pub(crate) struct TaskExample {
    pub(crate) input: String,
    /// The gold answer of a generative task (`arithmetic`), absent in multiple-choice ones.
    #[serde(default)]
    pub(crate) target: Option<String>,
    pub(crate) target_scores: BTreeMap<String, f64>,
}

/// How one BIG-bench NLI task maps onto the normalised schema.
#[derive(Debug, Clone, Copy)]
pub struct TaskRule {
    /// Folder under `benchmark_tasks/`.
    pub task: &'static str,
    /// Normalised dataset name.
    pub name: &'static str,
    /// Regex with two groups: premise, hypothesis.
    pub pattern: &'static str,
    /// Raw label → normalised label.
    pub labels: &'static [(&'static str, &'static str)],
    /// Whether inputs that do not match are skipped (true) or an error (false).
    pub skip_unparsed: bool,
}

/// The OOD tasks taken from BIG-bench.
pub const OOD_TASKS: &[TaskRule] = &[
    TaskRule {
        task: "presuppositions_as_nli",
        name: "presuppositions_as_nli",
        pattern: r"(?s)^Sentence 1: (.*?)\nSentence 2: (.*?)\n",
        labels: &[
            ("entailment", "entailment"),
            ("neutral", "neutral"),
            ("contradiction", "contradiction"),
        ],
        skip_unparsed: false,
    },
    TaskRule {
        task: "epistemic_reasoning",
        name: "epistemic_reasoning",
        pattern: r"(?s)^Premise: (.*) Hypothesis: (.*)$",
        labels: &[
            ("entailment", "entailment"),
            ("non-entailment", "non-entailment"),
        ],
        skip_unparsed: false,
    },
    TaskRule {
        task: "analytic_entailment",
        name: "analytic_entailment",
        pattern: r"(?s)^(.*?\.) So,? (.*)$",
        labels: &[
            ("entailment", "entailment"),
            ("no-entailment", "non-entailment"),
        ],
        skip_unparsed: true,
    },
    TaskRule {
        task: "international_phonetic_alphabet_nli",
        name: "ipa_nli",
        pattern: r"(?s)^Sentence 1: (.*?)\nSentence 2: (.*?)$",
        labels: &[
            ("entailment", "entailment"),
            ("neutral", "neutral"),
            ("contradiction", "contradiction"),
        ],
        skip_unparsed: false,
    },
    TaskRule {
        task: "entailed_polarity",
        name: "entailed_polarity",
        pattern: r"(?s)^Fact: (.*) Q: (.*)$",
        labels: &[("yes", "entailment"), ("no", "non-entailment")],
        skip_unparsed: false,
    },
];

/// The examples of one task's JSON; an error names the task and the line.
pub(crate) fn load(task: &str, bytes: &[u8]) -> Result<Vec<TaskExample>, DataError> {
    let file: TaskFile = serde_json::from_slice(bytes)
        .map_err(|e| parse_error(task, format!("line {}", e.line()), e.to_string()))?;
    Ok(file.examples)
}

fn gold_label<'a>(task: &str, index: usize, ex: &'a TaskExample) -> Result<&'a str, DataError> {
    let mut gold = ex
        .target_scores
        .iter()
        .filter(|(_, s)| **s == 1.0)
        .map(|(k, _)| k.as_str());
    match (gold.next(), gold.next()) {
        (Some(label), None) => Ok(label),
        _ => Err(parse_error(
            task,
            format!("example {index}"),
            "expected exactly one target scored 1",
        )),
    }
}

/// Parses one OOD task by its rule.
pub fn parse_task(rule: &TaskRule, bytes: &[u8]) -> Result<Vec<Example>, DataError> {
    let re = Regex::new(rule.pattern).expect("task patterns are valid");
    let labels: HashMap<&str, &str> = rule.labels.iter().copied().collect();
    let mut out = Vec::new();
    for (i, ex) in load(rule.task, bytes)?.iter().enumerate() {
        let raw = gold_label(rule.task, i, ex)?;
        let label = *labels.get(raw).ok_or_else(|| {
            parse_error(
                rule.task,
                format!("example {i}"),
                format!("unknown label `{raw}`"),
            )
        })?;
        let Some(caps) = re.captures(&ex.input) else {
            if rule.skip_unparsed {
                continue;
            }
            return Err(parse_error(
                rule.task,
                format!("example {i}"),
                format!("input does not match `{}`", rule.pattern),
            ));
        };
        out.push(eval_example(
            rule.name, i, &caps[1], &caps[2], label, rule.task,
        ));
    }
    Ok(out)
}

/// VitaminC, split by page into the pool and the in-distribution test.
#[derive(Debug, Clone)]
pub struct VitaminC {
    /// Examples whose page is not held out (split `train`).
    pub pool: Vec<Example>,
    /// Examples of the held-out pages (split `test`).
    pub id_test: Vec<Example>,
}

/// Parses VitaminC: `"<Page>: <evidence>\nClaim: <claim>"`; `True/False/Neither` map to
/// `entailment/contradiction/neutral`; `group` is the page.
///
/// Whole pages are held out for the ID test: pages are ordered by a seeded hash of their name
/// and taken until they hold at least `id_test_fraction` of the examples, so the split does not
/// depend on file order and the test shares no page with the pool.
pub fn parse_vitaminc(
    bytes: &[u8],
    id_test_fraction: f64,
    split_seed: u64,
) -> Result<VitaminC, DataError> {
    const TASK: &str = "vitaminc_fact_verification";
    let mut all = Vec::new();
    for (i, ex) in load(TASK, bytes)?.iter().enumerate() {
        let label = match gold_label(TASK, i, ex)? {
            "True" => "entailment",
            "False" => "contradiction",
            "Neither" => "neutral",
            other => {
                return Err(parse_error(
                    TASK,
                    format!("example {i}"),
                    format!("unknown label `{other}`"),
                ));
            }
        };
        let (evidence, claim) = ex.input.split_once("\nClaim: ").ok_or_else(|| {
            parse_error(TASK, format!("example {i}"), "no `\\nClaim: ` separator")
        })?;
        let page = evidence
            .split_once(':')
            .map(|(p, _)| p.trim())
            .unwrap_or("");
        all.push(Example {
            id: format!("vitaminc-{i:05}"),
            premise: evidence.trim().to_string(),
            hypothesis: claim.trim().to_string(),
            label: label.to_string(),
            source: "vitaminc".to_string(),
            group: page.to_string(),
            split: "train".to_string(),
        });
    }
    let held_out = held_out_groups(&all, id_test_fraction, split_seed);
    let (mut id_test, pool): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|e| held_out.contains(&e.group));
    for ex in &mut id_test {
        ex.split = "test".to_string();
    }
    Ok(VitaminC { pool, id_test })
}

fn held_out_groups(
    examples: &[Example],
    fraction: f64,
    seed: u64,
) -> std::collections::HashSet<String> {
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for ex in examples {
        *sizes.entry(ex.group.as_str()).or_default() += 1;
    }
    let mut groups: Vec<(&str, usize)> = sizes.into_iter().collect();
    groups.sort_by_key(|(g, _)| keyed_u64(seed, &[g]));
    let target = (fraction * examples.len() as f64).ceil() as usize;
    let mut taken = 0;
    let mut held = std::collections::HashSet::new();
    for (group, size) in groups {
        if taken >= target {
            break;
        }
        taken += size;
        held.insert(group.to_string());
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_json(examples: &[(&str, &str)]) -> Vec<u8> {
        let ex: Vec<_> = examples
            .iter()
            .map(|(input, label)| serde_json::json!({"input": input, "target_scores": {*label: 1, "other": 0}}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"canary": "x", "examples": ex})).unwrap()
    }

    #[test]
    fn vitaminc_parses_labels_pages_and_holds_out_whole_pages() {
        let mut rows = Vec::new();
        for page in 0..40 {
            for j in 0..5 {
                let label = ["True", "False", "Neither"][j % 3];
                rows.push((
                    format!("Page {page}: evidence {j} about it.\nClaim: claim {j}."),
                    label,
                ));
            }
        }
        let rows_ref: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        let v = parse_vitaminc(&task_json(&rows_ref), 0.1, 0).unwrap();
        assert_eq!(v.pool.len() + v.id_test.len(), 200);
        assert!(
            v.id_test.len() >= 20 && v.id_test.len() < 30,
            "{}",
            v.id_test.len()
        );
        let test_pages: std::collections::HashSet<_> = v.id_test.iter().map(|e| &e.group).collect();
        assert!(v.pool.iter().all(|e| !test_pages.contains(&e.group)));
        let first = v
            .pool
            .iter()
            .chain(&v.id_test)
            .find(|e| e.id == "vitaminc-00000")
            .unwrap();
        assert_eq!(first.group, "Page 0");
        assert_eq!(first.premise, "Page 0: evidence 0 about it.");
        assert_eq!(first.hypothesis, "claim 0.");
        assert_eq!(first.label, "entailment");
        // Another seed holds out other pages.
        let w = parse_vitaminc(&task_json(&rows_ref), 0.1, 1).unwrap();
        let other: std::collections::HashSet<_> = w.id_test.iter().map(|e| &e.group).collect();
        assert_ne!(test_pages, other);
    }

    #[test]
    fn ood_rules_parse_their_formats() {
        let epi = &OOD_TASKS[1];
        let ex = parse_task(
            epi,
            &task_json(&[("Premise: A saw B. Hypothesis: B was seen.", "entailment")]),
        )
        .unwrap();
        assert_eq!(
            (ex[0].premise.as_str(), ex[0].hypothesis.as_str()),
            ("A saw B.", "B was seen.")
        );
        let pol = &OOD_TASKS[4];
        let ex = parse_task(
            pol,
            &task_json(&[("Fact: He managed to go. Q: Did he go?", "yes")]),
        )
        .unwrap();
        assert_eq!(ex[0].label, "entailment");
        let ana = &OOD_TASKS[2];
        let ex = parse_task(
            ana,
            &task_json(&[
                ("A is a dog. So A is an animal.", "entailment"),
                ("no split here", "no-entailment"),
            ]),
        )
        .unwrap();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].hypothesis, "A is an animal.");
        let bad = parse_task(epi, &task_json(&[("garbage", "entailment")]))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("example 0"), "{bad}");
    }
}
