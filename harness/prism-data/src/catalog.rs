//! The datasets prism knows, with their role in an experiment.

use serde::Serialize;

/// What a dataset is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The training pool subsets are drawn from.
    Pool,
    /// The in-distribution test (held-out pages of the pool's source).
    IdTest,
    /// An out-of-distribution benchmark.
    Ood,
}

/// A dataset's name, role and the labels it uses.
#[derive(Debug, Clone, Copy)]
pub struct DatasetInfo {
    /// Table name: `<cache>/data/<name>.parquet`.
    pub name: &'static str,
    /// Role in an experiment.
    pub role: Role,
    /// `true` for `entailment|non-entailment`, `false` for three-way.
    pub two_way: bool,
    /// One line on where it comes from.
    pub origin: &'static str,
}

/// Every dataset `prism data fetch` writes, pool first.
pub const DATASETS: &[DatasetInfo] = &[
    DatasetInfo {
        name: "vitaminc",
        role: Role::Pool,
        two_way: false,
        origin: "BIG-bench vitaminc_fact_verification, pages not held out",
    },
    DatasetInfo {
        name: "vitaminc_id_test",
        role: Role::IdTest,
        two_way: false,
        origin: "BIG-bench vitaminc_fact_verification, held-out pages",
    },
    DatasetInfo {
        name: "hans",
        role: Role::Ood,
        two_way: true,
        origin: "HANS regenerated from its MIT template generator",
    },
    DatasetInfo {
        name: "mnli_matched",
        role: Role::Ood,
        two_way: false,
        origin: "MNLI matched dev (vendored from tommccoy1/hans)",
    },
    DatasetInfo {
        name: "presuppositions_as_nli",
        role: Role::Ood,
        two_way: false,
        origin: "BIG-bench presuppositions_as_nli",
    },
    DatasetInfo {
        name: "epistemic_reasoning",
        role: Role::Ood,
        two_way: true,
        origin: "BIG-bench epistemic_reasoning",
    },
    DatasetInfo {
        name: "corr2cause",
        role: Role::Ood,
        two_way: false,
        origin: "openai evals corr2cause",
    },
    DatasetInfo {
        name: "analytic_entailment",
        role: Role::Ood,
        two_way: true,
        origin: "BIG-bench analytic_entailment (pairs that split on '. So')",
    },
    DatasetInfo {
        name: "ipa_nli",
        role: Role::Ood,
        two_way: false,
        origin: "BIG-bench international_phonetic_alphabet_nli",
    },
    DatasetInfo {
        name: "entailed_polarity",
        role: Role::Ood,
        two_way: true,
        origin: "BIG-bench entailed_polarity",
    },
];

/// The in-distribution test every student is scored on (the held-out pages of the pool's
/// source): the one dataset with [`Role::IdTest`], so that its name is spelt in one place.
pub fn id_test() -> &'static str {
    DATASETS
        .iter()
        .find(|d| d.role == Role::IdTest)
        .map(|d| d.name)
        .expect("the catalog has an ID test")
}

/// Looks a dataset up by name.
pub fn dataset(name: &str) -> Option<&'static DatasetInfo> {
    DATASETS.iter().find(|d| d.name == name)
}

/// Three-way labels, in the order classifiers use.
pub const THREE_WAY: [&str; 3] = ["entailment", "neutral", "contradiction"];
/// Two-way labels.
pub const TWO_WAY: [&str; 2] = ["entailment", "non-entailment"];
