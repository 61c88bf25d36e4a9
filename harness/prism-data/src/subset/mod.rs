//! Subsets that vary diversity while scale and quality stay fixed.
//!
//! Every strategy fills the same [`Quotas`]: exact size n, each label's count equal to the
//! pool's proportion (largest-remainder rounding, so within ±1), and within each label the
//! pool's proportions over length-quantile bins. Duplicated (premise, hypothesis) pairs are
//! removed from the pool first, so no subset repeats a pair. Only *which* examples fill the
//! cells differs between strategies, which is the point: diversity varies, controls do not.
//!
//! The controls are then measured on the result ([`controls::Controls`]) and saved beside the
//! id list, so a report can show that they held.

pub mod controls;
pub mod features;
pub mod strategies;

use crate::error::DataError;
use crate::stats::words;
use crate::table::{Example, Table};
use prism_core::config::schema::StrategySpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

pub use controls::Controls;
pub use strategies::{SubsetStrategy, strategy_for};

/// The version of the subset draws: which examples every strategy, quota and length bin
/// picks for given settings. A run's id holds it (see [`with_subsets_version`]), so a change to
/// the draws makes new runs instead of mixing subsets drawn by two codes in one results folder.
/// Bump it whenever `subset_draws_are_pinned` (the strategies' tests) fails for a deliberate
/// change. Version 1 is the code that drew every subset before the version existed.
pub const SUBSETS_VERSION: u32 = 1;

/// `versions` (a task's code versions, a JSON object) with `"subsets": SUBSETS_VERSION` added
/// once the version is past 1: version 1 adds nothing, so the runs drawn before the version
/// existed keep their ids.
pub fn with_subsets_version(mut versions: serde_json::Value) -> serde_json::Value {
    if SUBSETS_VERSION > 1
        && let Some(map) = versions.as_object_mut()
    {
        map.insert("subsets".into(), SUBSETS_VERSION.into());
    }
    versions
}

/// A pool ready for subsetting: deduplicated, with label and length-bin of every example.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Deduplicated examples, in table order.
    pub examples: Vec<Example>,
    /// Label index of each example into [`Pool::labels`].
    pub label_of: Vec<usize>,
    /// Length bin of each example (premise + hypothesis words).
    pub bin_of: Vec<usize>,
    /// Sorted label names.
    pub labels: Vec<String>,
    /// Upper edges (inclusive) of the length bins, in words; the last bin is open.
    pub bin_edges: Vec<usize>,
    /// Rows removed as duplicates of an earlier (premise, hypothesis).
    pub duplicates_removed: usize,
}

impl Pool {
    /// Prepares `table` with `length_bins` quantile bins of premise + hypothesis length.
    pub fn new(table: &Table, length_bins: usize) -> Pool {
        let mut seen = HashSet::new();
        let examples: Vec<Example> = table
            .examples
            .iter()
            .filter(|e| seen.insert((e.premise.as_str(), e.hypothesis.as_str())))
            .cloned()
            .collect();
        let duplicates_removed = table.len() - examples.len();
        let labels: Vec<String> = examples
            .iter()
            .map(|e| e.label.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let label_of = examples
            .iter()
            .map(|e| labels.binary_search(&e.label).expect("label listed"))
            .collect();
        let lengths: Vec<usize> = examples.iter().map(length).collect();
        let bin_edges = quantile_edges(&lengths, length_bins.max(1));
        let bin_of = lengths.iter().map(|l| bin_of(&bin_edges, *l)).collect();
        Pool {
            examples,
            label_of,
            bin_of,
            labels,
            bin_edges,
            duplicates_removed,
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Number of length bins.
    pub fn bins(&self) -> usize {
        self.bin_edges.len() + 1
    }

    /// The (label, bin) cell of example `i`, as one index.
    pub fn cell(&self, i: usize) -> usize {
        self.label_of[i] * self.bins() + self.bin_of[i]
    }

    /// Number of cells (labels × bins).
    pub fn cells(&self) -> usize {
        self.labels.len() * self.bins()
    }

    /// Pool count of every cell.
    pub fn cell_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.cells()];
        for i in 0..self.len() {
            counts[self.cell(i)] += 1;
        }
        counts
    }
}

/// Premise + hypothesis length in words: the length every control matches.
pub fn length(e: &Example) -> usize {
    words(&e.premise) + words(&e.hypothesis)
}

fn quantile_edges(lengths: &[usize], bins: usize) -> Vec<usize> {
    if lengths.is_empty() {
        return vec![];
    }
    let mut sorted = lengths.to_vec();
    sorted.sort_unstable();
    let mut edges: Vec<usize> = (1..bins)
        .map(|b| sorted[(b * sorted.len() / bins).min(sorted.len() - 1)])
        .collect();
    edges.dedup();
    edges
}

fn bin_of(edges: &[usize], length: usize) -> usize {
    edges.iter().take_while(|e| length > **e).count()
}

/// How many examples each (label, bin) cell of a subset of size n must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    /// Target count per cell.
    pub per_cell: Vec<usize>,
}

impl Quotas {
    /// Quotas of a subset of size `n`: labels by largest remainder over the pool's label
    /// proportions, then bins within each label by largest remainder over that label's bin
    /// proportions.
    pub fn new(pool: &Pool, n: usize) -> Result<Quotas, String> {
        if n > pool.len() {
            return Err(format!(
                "size {n} exceeds the deduplicated pool ({} examples)",
                pool.len()
            ));
        }
        let counts = pool.cell_counts();
        let bins = pool.bins();
        let label_totals: Vec<usize> = counts.chunks(bins).map(|c| c.iter().sum()).collect();
        let label_quota = largest_remainder(&label_totals, n);
        let mut per_cell = Vec::with_capacity(counts.len());
        for (l, chunk) in counts.chunks(bins).enumerate() {
            per_cell.extend(largest_remainder(chunk, label_quota[l]));
        }
        Ok(Quotas { per_cell })
    }

    /// Total size.
    pub fn total(&self) -> usize {
        self.per_cell.iter().sum()
    }

    /// The quotas of the `part` of `n` that goes to a sub-part of size `m` (proportional,
    /// largest remainder), e.g. the narrow part of a mixture.
    pub fn split(&self, m: usize) -> (Quotas, Quotas) {
        let first = largest_remainder(&self.per_cell, m.min(self.total()));
        let rest = self
            .per_cell
            .iter()
            .zip(&first)
            .map(|(a, b)| a - b)
            .collect();
        (Quotas { per_cell: first }, Quotas { per_cell: rest })
    }
}

/// Splits `n` over `weights` proportionally: floors first, then the largest remainders (ties
/// to the lower index). Each share is within 1 of its exact value and the sum is exactly `n`;
/// a zero weight gets nothing.
pub fn largest_remainder(weights: &[usize], n: usize) -> Vec<usize> {
    let total: usize = weights.iter().sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| *w as f64 * n as f64 / total as f64)
        .collect();
    let mut shares: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        (exact[*b] - exact[*b].floor())
            .total_cmp(&(exact[*a] - exact[*a].floor()))
            .then(a.cmp(b))
    });
    let short = n - shares.iter().sum::<usize>();
    for &i in order.iter().take(short) {
        shares[i] += 1;
    }
    shares
}

/// Fills `quotas` from `candidates` in order, skipping examples already `taken` or whose cell
/// is full. Returns what was picked; `remaining` is decremented per cell.
pub fn fill_in_order(
    pool: &Pool,
    candidates: impl IntoIterator<Item = usize>,
    remaining: &mut [usize],
    taken: &mut HashSet<usize>,
) -> Vec<usize> {
    let mut picked = Vec::new();
    for i in candidates {
        let cell = pool.cell(i);
        if remaining[cell] > 0 && !taken.contains(&i) {
            remaining[cell] -= 1;
            taken.insert(i);
            picked.push(i);
        }
    }
    picked
}

/// One subset: which examples, and the measured controls.
#[derive(Debug, Clone, Serialize)]
pub struct Subset {
    /// `<strategy label>-n<size>-s<seed>`.
    pub name: String,
    /// The strategy and its parameters.
    pub strategy: StrategySpec,
    /// Requested size.
    pub size: usize,
    /// Seed.
    pub seed: u64,
    /// Ids of the chosen examples, in selection order.
    #[serde(skip)]
    pub ids: Vec<String>,
    /// Strategy-specific facts (groups used, clusters taken, ...).
    pub details: BTreeMap<String, serde_json::Value>,
    /// Measured controls.
    pub controls: Controls,
}

/// The name of the subset of `spec`, size `n` and `seed`: `<strategy label>-n<size>-s<seed>`.
pub fn subset_name(spec: &StrategySpec, n: usize, seed: u64) -> String {
    spec.subset_name(n, seed)
}

/// Builds one subset of `pool` with `spec`, size `n` and `seed`.
pub fn build(
    pool: &Pool,
    spec: &StrategySpec,
    n: usize,
    seed: u64,
    ctx: &strategies::Context,
) -> Result<Subset, DataError> {
    let err = |message: String| DataError::Subset {
        strategy: spec.label(),
        size: n,
        message,
    };
    let quotas = Quotas::new(pool, n).map_err(err)?;
    let strategy = strategy_for(spec);
    // One stream per (strategy, size, seed), so adding a strategy does not shift the others.
    let stream = prism_core::hash::keyed_u64(seed, &[&spec.label(), &n.to_string()]);
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    let selection = strategy.select(pool, &quotas, &mut rng, ctx).map_err(err)?;
    let controls = Controls::measure(pool, &quotas, &selection.indices);
    let ids = selection
        .indices
        .iter()
        .map(|i| pool.examples[*i].id.clone())
        .collect();
    Ok(Subset {
        name: subset_name(spec, n, seed),
        strategy: spec.clone(),
        size: n,
        seed,
        ids,
        details: selection.details,
        controls,
    })
}

/// How much the subsets of one strategy and size, drawn with different seeds, share. A study's
/// n subsets are n independent points only when its seeds draw different examples: a greedy
/// strategy on a large share of the pool can return nearly the same subset for every seed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeedOverlap {
    /// Strategy label.
    pub strategy: String,
    /// Subset size.
    pub size: usize,
    /// Seeds drawn.
    pub seeds: usize,
    /// Mean, over pairs of seeds, of the share of one subset's examples the other holds.
    pub mean: f64,
    /// The largest such share.
    pub max: f64,
    /// What two independent uniform draws of this size from the pool share on average
    /// (size / pool size): the reference for `mean`.
    pub random: f64,
}

/// The seed overlap of every (strategy, size) with two or more seeds among `subsets`, in
/// first-seen order.
pub fn seed_overlaps(subsets: &[Subset], pool_len: usize) -> Vec<SeedOverlap> {
    // (strategy label, size) → each seed's ids, in first-seen order.
    type IdSets<'a> = Vec<HashSet<&'a str>>;
    let mut groups: Vec<((String, usize), IdSets)> = Vec::new();
    for s in subsets {
        let key = (s.strategy.label(), s.size);
        let ids: HashSet<&str> = s.ids.iter().map(String::as_str).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, sets)) => sets.push(ids),
            None => groups.push((key, vec![ids])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, sets)| sets.len() >= 2)
        .map(|((strategy, size), sets)| {
            let mut shares = Vec::new();
            for (i, a) in sets.iter().enumerate() {
                for b in &sets[i + 1..] {
                    shares.push(a.intersection(b).count() as f64 / size.max(1) as f64);
                }
            }
            SeedOverlap {
                strategy,
                size,
                seeds: sets.len(),
                mean: shares.iter().sum::<f64>() / shares.len() as f64,
                max: shares.iter().copied().fold(0.0, f64::max),
                random: size as f64 / pool_len.max(1) as f64,
            }
        })
        .collect()
}

/// One subset to build: strategy, size and seed.
pub type SubsetRequest<'a> = (&'a StrategySpec, usize, u64);

/// Builds many subsets of `pool` in parallel (rayon), sharing `ctx`'s caches; results come
/// back in the order of `requests`, each with its build time in seconds, and every subset is
/// identical to what `build` gives alone (its random stream depends only on its request).
pub fn build_many(
    pool: &Pool,
    requests: &[SubsetRequest<'_>],
    ctx: &strategies::Context,
) -> Vec<(Result<Subset, DataError>, f64)> {
    use rayon::prelude::*;
    requests
        .par_iter()
        .with_max_len(1)
        .map(|&(spec, n, seed)| {
            let start = std::time::Instant::now();
            let subset = build(pool, spec, n, seed, ctx);
            (subset, start.elapsed().as_secs_f64())
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A synthetic pool: 60 pages, 3 labels, varied lengths and vocabulary.
    pub(crate) fn toy_pool() -> Pool {
        let mut examples = Vec::new();
        let topics = ["river", "music", "football", "election", "volcano", "film"];
        for i in 0..1200 {
            let page = i / 20;
            let topic = topics[page % topics.len()];
            let extra = "word ".repeat(i % 17);
            examples.push(Example {
                id: format!("ex-{i:05}"),
                premise: format!(
                    "Page{page}: the {topic} item {i} has {extra} facts number {}",
                    i * 7 % 13
                ),
                hypothesis: format!("the {topic} claim {}", i % 5),
                label: ["entailment", "contradiction", "neutral", "entailment"][i % 4].into(),
                source: "toy".into(),
                group: format!("Page{page}"),
                split: "train".into(),
            });
        }
        // A duplicate pair that must be dropped.
        let mut dup = examples[3].clone();
        dup.id = "dup".into();
        examples.push(dup);
        Pool::new(&Table::new(examples).unwrap(), 4)
    }

    #[test]
    fn seed_overlap_is_the_shared_share_of_each_pair_of_seeds() {
        let pool = toy_pool();
        let ctx = strategies::Context::default();
        let subsets: Vec<Subset> = (0..3)
            .map(|seed| build(&pool, &StrategySpec::Random, 150, seed, &ctx).unwrap())
            .collect();
        // By brute force over the id lists.
        let shared = |a: &Subset, b: &Subset| {
            a.ids.iter().filter(|id| b.ids.contains(id)).count() as f64 / 150.0
        };
        let pairs = [
            shared(&subsets[0], &subsets[1]),
            shared(&subsets[0], &subsets[2]),
            shared(&subsets[1], &subsets[2]),
        ];
        let got = seed_overlaps(&subsets, pool.len());
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].strategy.as_str(), got[0].size, got[0].seeds),
            ("random", 150, 3)
        );
        assert!((got[0].mean - pairs.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        assert_eq!(got[0].max, pairs.iter().copied().fold(0.0, f64::max));
        assert_eq!(got[0].random, 150.0 / pool.len() as f64);
        // Independent uniform draws share about size / pool.
        assert!((got[0].mean - got[0].random).abs() < 0.06, "{got:?}");
        let same = vec![subsets[0].clone(), subsets[0].clone()];
        assert_eq!(seed_overlaps(&same, pool.len())[0].max, 1.0);
        assert!(
            seed_overlaps(&subsets[..1], pool.len()).is_empty(),
            "one seed: nothing to compare"
        );
    }

    #[test]
    fn the_subsets_version_enters_run_ids_only_past_1() {
        let versions = serde_json::json!({"features": 3});
        let with = with_subsets_version(versions.clone());
        if SUBSETS_VERSION == 1 {
            assert_eq!(with, versions, "version 1 keeps the ids runs always had");
        } else {
            assert_eq!(with["subsets"], SUBSETS_VERSION);
            assert_eq!(with["features"], 3);
        }
    }

    #[test]
    fn largest_remainder_is_exact_and_within_one() {
        let w = [27242, 20169, 7257];
        for n in [1, 2, 3, 7, 100, 999, 1000, 54668] {
            let s = largest_remainder(&w, n);
            assert_eq!(s.iter().sum::<usize>(), n);
            let total: usize = w.iter().sum();
            for (share, weight) in s.iter().zip(w) {
                let exact = weight as f64 * n as f64 / total as f64;
                assert!(
                    (*share as f64 - exact).abs() < 1.0,
                    "n={n}: {share} vs {exact}"
                );
            }
        }
        assert_eq!(largest_remainder(&[0, 5], 3), vec![0, 3]);
    }

    #[test]
    fn pool_dedups_and_bins() {
        let pool = toy_pool();
        assert_eq!(pool.duplicates_removed, 1);
        assert_eq!(pool.len(), 1200);
        assert_eq!(pool.labels, vec!["contradiction", "entailment", "neutral"]);
        assert!(pool.bins() >= 3);
        let quotas = Quotas::new(&pool, 100).unwrap();
        assert_eq!(quotas.total(), 100);
        assert!(Quotas::new(&pool, 5000).is_err());
    }
}
