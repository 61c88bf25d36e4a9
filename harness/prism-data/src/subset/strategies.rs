//! The subset strategies: one struct each behind [`SubsetStrategy`], one registry
//! ([`strategy_for`]).

use super::features;
use super::{Pool, Quotas, fill_in_order, largest_remainder};
use prism_core::config::schema::{FeatureSpec, GreedyObjective, GroupKey, StrategySpec};
use prism_core::once_map::OnceMap;
use prism_vendi::{Features, KMeans};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// What a strategy chose.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Pool indices, in selection order.
    pub indices: Vec<usize>,
    /// Facts worth recording in the manifest.
    pub details: BTreeMap<String, Value>,
}

/// A way of filling the quotas from the pool.
pub trait SubsetStrategy {
    /// Picks exactly `quotas.total()` pool indices meeting every cell quota, or says why not.
    fn select(
        &self,
        pool: &Pool,
        quotas: &Quotas,
        rng: &mut ChaCha8Rng,
        ctx: &Context,
    ) -> Result<Selection, String>;
}

/// The strategy implementing `spec`.
pub fn strategy_for(spec: &StrategySpec) -> Box<dyn SubsetStrategy> {
    match spec.clone() {
        StrategySpec::Random => Box::new(Random),
        StrategySpec::Groups { k, by } => Box::new(Groups { k, by }),
        StrategySpec::Clusters {
            clusters,
            take,
            features,
        } => Box::new(Clusters {
            clusters,
            take,
            features,
        }),
        StrategySpec::MaxDiversity {
            features,
            candidates,
            objective,
        } => Box::new(Greedy {
            features,
            candidates,
            gain: gain_for(objective),
            maximize: true,
        }),
        StrategySpec::MinDiversity {
            features,
            candidates,
            objective,
        } => Box::new(Greedy {
            features,
            candidates,
            gain: gain_for(objective),
            maximize: false,
        }),
        StrategySpec::NovelSelect {
            features,
            candidates,
            neighbors,
            density_power,
            distance_power,
        } => Box::new(Greedy {
            features,
            candidates,
            gain: Box::new(Novelty {
                neighbors,
                density_power,
                distance_power,
            }),
            maximize: true,
        }),
        StrategySpec::Mixture { alpha, k, by } => Box::new(Mixture { alpha, k, by }),
    }
}

/// Per-pool caches shared by all subsets of one `prism subsets` call: features and clusterings
/// are computed once per pool, not once per subset. Shared across the threads that build
/// subsets in parallel; each entry is computed once, and computing one never holds up a thread
/// that needs another.
#[derive(Default)]
pub struct Context {
    features: OnceMap<Features>,
    clusterings: OnceMap<KMeans>,
}

impl Context {
    fn features(&self, pool: &Pool, spec: &FeatureSpec) -> Result<Arc<Features>, String> {
        self.features
            .get_or_compute(format!("{spec:?}"), || features::load(pool, spec))
    }

    fn clustering(&self, pool: &Pool, spec: &FeatureSpec, k: usize) -> Result<Arc<KMeans>, String> {
        self.clusterings
            .get_or_compute(format!("{spec:?}/{k}"), || {
                let f = self.features(pool, spec)?;
                // The partition is a property of the pool, fixed across subset seeds (seed 0); the
                // subset seed only decides which clusters are drawn.
                Ok(prism_vendi::kmeans::cosine_kmeans_sampled(
                    &f, k, 0, 25, 10_000,
                ))
            })
    }
}

fn shuffled(len: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len).collect();
    v.shuffle(rng);
    v
}

/// Uniform within each (label, length-bin) cell.
struct Random;

impl SubsetStrategy for Random {
    fn select(
        &self,
        pool: &Pool,
        quotas: &Quotas,
        rng: &mut ChaCha8Rng,
        _: &Context,
    ) -> Result<Selection, String> {
        let mut remaining = quotas.per_cell.clone();
        let indices = fill_in_order(
            pool,
            shuffled(pool.len(), rng),
            &mut remaining,
            &mut HashSet::new(),
        );
        Ok(Selection {
            indices,
            details: BTreeMap::new(),
        })
    }
}

/// Members of each group (page or claim), groups in sorted order.
fn groups(pool: &Pool, by: GroupKey) -> Vec<Vec<usize>> {
    let mut map: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in pool.examples.iter().enumerate() {
        let key = match by {
            GroupKey::Page => e.group.as_str(),
            GroupKey::Claim => e.hypothesis.as_str(),
        };
        map.entry(key).or_default().push(i);
    }
    map.into_values().collect()
}

/// The groups of each label when every group holds a single label (index = label), or `None`
/// when some group mixes labels.
fn label_pure_groups(pool: &Pool, all: &[Vec<usize>]) -> Option<Vec<Vec<Vec<usize>>>> {
    let mut per_label = vec![Vec::new(); pool.labels.len()];
    for g in all {
        let label = pool.label_of[*g.first()?];
        if g.iter().any(|&i| pool.label_of[i] != label) {
            return None;
        }
        per_label[label].push(g.clone());
    }
    Some(per_label)
}

/// Fills the per-cell `quota` from `k` of `buckets` drawn at random (the buckets in a shuffled
/// order, their members shuffled again), skipping what is `taken`: the shared core of the
/// group-, cluster- and mixture-based strategies. On a shortfall, says how many buckets that
/// order would have needed.
fn fill_from_buckets(
    pool: &Pool,
    buckets: &[Vec<usize>],
    k: usize,
    quota: &[usize],
    taken: &mut HashSet<usize>,
    rng: &mut ChaCha8Rng,
    what: &str,
) -> Result<Vec<usize>, String> {
    let mut buckets: Vec<&Vec<usize>> = buckets.iter().collect();
    buckets.shuffle(rng);
    let mut remaining = quota.to_vec();
    let mut members: Vec<usize> = buckets
        .iter()
        .take(k)
        .flat_map(|b| b.iter().copied())
        .collect();
    members.shuffle(rng);
    let picked = fill_in_order(pool, members, &mut remaining, taken);
    if remaining.iter().any(|r| *r > 0) {
        let mut probe = remaining.to_vec();
        let mut needed = k;
        for b in buckets.iter().skip(k) {
            needed += 1;
            for &i in b.iter() {
                let c = pool.cell(i);
                if probe[c] > 0 && !taken.contains(&i) {
                    probe[c] -= 1;
                }
            }
            if probe.iter().all(|r| *r == 0) {
                break;
            }
        }
        let short: usize = remaining.iter().sum();
        return Err(format!(
            "{k} {what} hold too few examples to meet the label and length quotas ({short} short); this seed needs about {needed} {what}"
        ));
    }
    Ok(picked)
}

/// Only `k` groups (pages or claims): few topics, controls unchanged.
struct Groups {
    k: usize,
    by: GroupKey,
}

impl SubsetStrategy for Groups {
    fn select(
        &self,
        pool: &Pool,
        quotas: &Quotas,
        rng: &mut ChaCha8Rng,
        _: &Context,
    ) -> Result<Selection, String> {
        let all = groups(pool, self.by);
        let mut details = BTreeMap::from([
            ("groups_drawn".into(), json!(self.k)),
            ("groups_in_pool".into(), json!(all.len())),
        ]);
        let Some(per_label) = label_pure_groups(pool, &all) else {
            let indices = fill_from_buckets(
                pool,
                &all,
                self.k,
                &quotas.per_cell,
                &mut HashSet::new(),
                rng,
                "groups",
            )?;
            return Ok(Selection { indices, details });
        };
        // Every group holds one label (a math template fixes its difficulty): k groups drawn
        // at random would miss a label's quota by chance, so the k are spread over the labels
        // in proportion to their quotas (largest remainder), at least one per label that has a
        // quota (taken from the label with the most).
        let bins = pool.bins();
        let label_quota: Vec<usize> = quotas
            .per_cell
            .chunks(bins)
            .map(|c| c.iter().sum())
            .collect();
        let wanted = label_quota.iter().filter(|q| **q > 0).count();
        if self.k < wanted {
            return Err(format!(
                "k = {} groups cannot cover the {wanted} labels with a quota: every group holds one label",
                self.k
            ));
        }
        let mut drawn = largest_remainder(&label_quota, self.k);
        while let Some(empty) = (0..drawn.len()).find(|&l| label_quota[l] > 0 && drawn[l] == 0) {
            let largest = (0..drawn.len())
                .max_by_key(|&l| (drawn[l], usize::MAX - l))
                .expect("labels");
            drawn[largest] -= 1;
            drawn[empty] += 1;
        }
        let mut taken = HashSet::new();
        let mut indices = Vec::with_capacity(quotas.total());
        for (l, label_groups) in per_label.iter().enumerate() {
            drawn[l] = drawn[l].min(label_groups.len());
            if label_quota[l] == 0 {
                continue;
            }
            let mut quota = vec![0; quotas.per_cell.len()];
            quota[l * bins..(l + 1) * bins]
                .copy_from_slice(&quotas.per_cell[l * bins..(l + 1) * bins]);
            let what = format!("groups of label `{}`", pool.labels[l]);
            indices.extend(fill_from_buckets(
                pool,
                label_groups,
                drawn[l],
                &quota,
                &mut taken,
                rng,
                &what,
            )?);
        }
        details.insert(
            "groups_per_label".into(),
            json!(
                pool.labels
                    .iter()
                    .zip(&drawn)
                    .map(|(l, d)| (l.clone(), json!(d)))
                    .collect::<serde_json::Map<_, _>>()
            ),
        );
        Ok(Selection { indices, details })
    }
}

/// `take` of `clusters` k-means clusters of a feature matrix.
struct Clusters {
    clusters: usize,
    take: usize,
    features: FeatureSpec,
}

impl SubsetStrategy for Clusters {
    fn select(
        &self,
        pool: &Pool,
        quotas: &Quotas,
        rng: &mut ChaCha8Rng,
        ctx: &Context,
    ) -> Result<Selection, String> {
        if self.take == 0 || self.take > self.clusters {
            return Err(format!(
                "take = {} must be in 1..={}",
                self.take, self.clusters
            ));
        }
        let km = ctx.clustering(pool, &self.features, self.clusters)?;
        let mut buckets = vec![Vec::new(); km.centroids.n()];
        for (i, c) in km.assignment.iter().enumerate() {
            buckets[*c].push(i);
        }
        let indices = fill_from_buckets(
            pool,
            &buckets,
            self.take,
            &quotas.per_cell,
            &mut HashSet::new(),
            rng,
            "clusters",
        )?;
        let details = BTreeMap::from([
            ("clusters".into(), json!(km.centroids.n())),
            ("clusters_taken".into(), json!(self.take)),
            ("kmeans_inertia".into(), json!(km.inertia)),
        ]);
        Ok(Selection { indices, details })
    }
}

/// A candidate's state in a greedy pass: a running value, and the history of what was chosen
/// for the gains that need it.
#[derive(Debug, Clone)]
pub struct GainState {
    /// A running value (a minimum, a sum).
    pub value: f64,
    /// Per chosen example, a weighted distance, kept sorted ascending.
    pub sorted: Vec<f64>,
}

/// A diversity measure for greedy selection: how much a candidate would add to the chosen set,
/// kept up to date incrementally as examples are chosen. Higher means more diverse.
pub trait DiversityGain {
    /// Neighbours K and power β of the local density that weights each pair (NovelSelect), if
    /// the measure uses one.
    fn density(&self) -> Option<(usize, f64)> {
        None
    }
    /// Initial state of every candidate (nothing chosen yet).
    fn initial(&self) -> f64;
    /// Updates a candidate's state after an example with cosine similarity `sim` to it was
    /// chosen; `pair_density` is the candidate's density plus the chosen example's (1 when the
    /// measure uses none).
    fn update(&self, state: &mut GainState, sim: f64, pair_density: f64);
    /// The candidate's diversity contribution given its state.
    fn gain(&self, state: &GainState) -> f64;
}

/// Distance to the nearest chosen example.
struct MinDistance;

impl DiversityGain for MinDistance {
    fn initial(&self) -> f64 {
        f64::INFINITY
    }
    fn update(&self, state: &mut GainState, sim: f64, _: f64) {
        state.value = state.value.min(1.0 - sim);
    }
    fn gain(&self, state: &GainState) -> f64 {
        state.value
    }
}

/// Mean distance to the chosen examples (state: the sum of similarities; the count is the same
/// for every candidate, so ranking by −sum ranks by mean distance).
struct MeanDistance;

impl DiversityGain for MeanDistance {
    fn initial(&self) -> f64 {
        0.0
    }
    fn update(&self, state: &mut GainState, sim: f64, _: f64) {
        state.value += sim;
    }
    fn gain(&self, state: &GainState) -> f64 {
        -state.value
    }
}

/// NovelSelect's novelty (UmeanNever/NovelSum `novelselect.py` @ b594962): the candidate's
/// cosine distances to the chosen examples, each times the sum of the two examples' local
/// densities, sorted ascending, weighted by 1 / rankᵅ, and averaged over the chosen examples.
struct Novelty {
    neighbors: usize,
    density_power: f64,
    distance_power: f64,
}

impl DiversityGain for Novelty {
    fn density(&self) -> Option<(usize, f64)> {
        Some((self.neighbors, self.density_power))
    }
    fn initial(&self) -> f64 {
        0.0
    }
    fn update(&self, state: &mut GainState, sim: f64, pair_density: f64) {
        let d = (1.0 - sim) * pair_density;
        let at = state.sorted.partition_point(|x| *x < d);
        state.sorted.insert(at, d);
    }
    fn gain(&self, state: &GainState) -> f64 {
        let total: f64 = state
            .sorted
            .iter()
            .enumerate()
            .map(|(r, d)| d / ((r + 1) as f64).powf(self.distance_power))
            .sum();
        total / state.sorted.len().max(1) as f64
    }
}

/// The one registry of greedy objectives.
fn gain_for(objective: GreedyObjective) -> Box<dyn DiversityGain> {
    match objective {
        GreedyObjective::MinDistance => Box::new(MinDistance),
        GreedyObjective::MeanDistance => Box::new(MeanDistance),
    }
}

/// Greedy selection on a feature matrix, within the quotas: each step adds the open candidate
/// with the highest (`maximize`) or lowest gain.
struct Greedy {
    features: FeatureSpec,
    candidates: usize,
    gain: Box<dyn DiversityGain>,
    maximize: bool,
}

impl SubsetStrategy for Greedy {
    fn select(
        &self,
        pool: &Pool,
        quotas: &Quotas,
        rng: &mut ChaCha8Rng,
        ctx: &Context,
    ) -> Result<Selection, String> {
        let f = ctx.features(pool, &self.features)?;
        let n = quotas.total();
        // A stratified random candidate set, `factor` times the quotas, bounds the cost.
        let wanted = self.candidates.max(3 * n).min(pool.len());
        let factor = wanted as f64 / n.max(1) as f64;
        let counts = pool.cell_counts();
        let mut cand_quota: Vec<usize> = quotas
            .per_cell
            .iter()
            .zip(&counts)
            .map(|(q, c)| ((*q as f64 * factor).ceil() as usize).min(*c))
            .collect();
        let candidates = fill_in_order(
            pool,
            shuffled(pool.len(), rng),
            &mut cand_quota,
            &mut HashSet::new(),
        );

        let cells: Vec<usize> = candidates.iter().map(|&c| pool.cell(c)).collect();
        let first = rng.random_range(0..candidates.len());
        let indices = greedy_pass(
            &f,
            &candidates,
            &cells,
            quotas.per_cell.clone(),
            first,
            self.gain.as_ref(),
            self.maximize,
        )?;
        let details = BTreeMap::from([
            ("candidates".into(), json!(candidates.len())),
            ("maximize".into(), json!(self.maximize)),
        ]);
        Ok(Selection { indices, details })
    }
}

/// The greedy pass over `candidates` (rows of `f`, unit length): starts with candidate
/// `first`, then adds the open candidate with the highest (`maximize`) or lowest gain whose
/// cell (`cells[j]`) still has room in `remaining`, until the quotas are met; returns the chosen
/// rows in order. Ties go to the earlier candidate.
fn greedy_pass(
    f: &prism_vendi::Features,
    candidates: &[usize],
    cells: &[usize],
    mut remaining: Vec<usize>,
    first: usize,
    gain: &dyn DiversityGain,
    maximize: bool,
) -> Result<Vec<usize>, String> {
    let n: usize = remaining.iter().sum();
    let mut open = vec![true; candidates.len()];
    let mut state = vec![
        GainState {
            value: gain.initial(),
            sorted: Vec::new(),
        };
        candidates.len()
    ];
    // Each candidate's local density among all rows of `f`, when the measure weights by it.
    let density: Vec<f64> = match gain.density() {
        Some((neighbors, power)) => {
            let rows = f.select(candidates);
            prism_vendi::density::local_density(&rows, f, neighbors, power)
        }
        None => vec![0.5; candidates.len()],
    };
    let sign = if maximize { 1.0 } else { -1.0 };
    let mut indices = Vec::with_capacity(n);
    let mut next = first;
    while indices.len() < n {
        let chosen = candidates[next];
        open[next] = false;
        remaining[cells[next]] -= 1;
        indices.push(chosen);
        let row = f.row(chosen);
        for (j, &c) in candidates.iter().enumerate() {
            if !open[j] {
                continue;
            }
            let sim = prism_vendi::matrix::dot(f.row(c), row);
            gain.update(&mut state[j], sim, density[j] + density[next]);
        }
        let score = |j: usize| sign * gain.gain(&state[j]);
        let best = (0..candidates.len())
            .filter(|j| open[*j] && remaining[cells[*j]] > 0)
            .max_by(|a, b| score(*a).total_cmp(&score(*b)).then(b.cmp(a)));
        match best {
            Some(j) => next = j,
            None if indices.len() < n => {
                return Err("the candidate set ran out before the quotas were met".into());
            }
            None => break,
        }
    }
    Ok(indices)
}

/// A fraction `alpha` from `k` groups, the rest uniformly random.
struct Mixture {
    alpha: f64,
    k: usize,
    by: GroupKey,
}

impl SubsetStrategy for Mixture {
    fn select(
        &self,
        pool: &Pool,
        quotas: &Quotas,
        rng: &mut ChaCha8Rng,
        _: &Context,
    ) -> Result<Selection, String> {
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(format!("alpha = {} must be in [0, 1]", self.alpha));
        }
        let narrow_n = (self.alpha * quotas.total() as f64).round() as usize;
        let (narrow, rest) = quotas.split(narrow_n);
        let all = groups(pool, self.by);
        let mut taken = HashSet::new();
        let mut indices = fill_from_buckets(
            pool,
            &all,
            self.k,
            &narrow.per_cell,
            &mut taken,
            rng,
            "groups",
        )?;
        let mut remaining = rest.per_cell.clone();
        indices.extend(fill_in_order(
            pool,
            shuffled(pool.len(), rng),
            &mut remaining,
            &mut taken,
        ));
        let details = BTreeMap::from([
            ("narrow_examples".into(), json!(narrow_n)),
            ("groups_drawn".into(), json!(self.k)),
        ]);
        Ok(Selection { indices, details })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::toy_pool;
    use super::super::{Quotas, build};
    use super::*;
    use crate::table::{Example, Table};
    use std::collections::HashMap;

    fn specs() -> Vec<StrategySpec> {
        vec![
            StrategySpec::Random,
            StrategySpec::Groups {
                k: 30,
                by: GroupKey::Page,
            },
            StrategySpec::Clusters {
                clusters: 8,
                take: 7,
                features: FeatureSpec::Lexical,
            },
            StrategySpec::MaxDiversity {
                features: FeatureSpec::Lexical,
                candidates: 400,
                objective: GreedyObjective::MinDistance,
            },
            StrategySpec::MinDiversity {
                features: FeatureSpec::Lexical,
                candidates: 400,
                objective: GreedyObjective::MeanDistance,
            },
            StrategySpec::MaxDiversity {
                features: FeatureSpec::Lexical,
                candidates: 400,
                objective: GreedyObjective::MeanDistance,
            },
            StrategySpec::NovelSelect {
                features: FeatureSpec::Lexical,
                candidates: 400,
                neighbors: 10,
                density_power: 0.5,
                distance_power: 1.0,
            },
            StrategySpec::Mixture {
                alpha: 0.5,
                k: 8,
                by: GroupKey::Page,
            },
        ]
    }

    /// The greedy pass with NovelSelect's novelty picks, step by step, what the reference
    /// `novelselect.py` (UmeanNever/NovelSum @ b594962, transcribed in float64 by
    /// `tests/reference/diversity_reference.py`) picks: 30 of 120 unit rows, one cell, the same
    /// first center, β ∈ {0, 0.5} × α ∈ {0, 1, 2}.
    #[test]
    fn novelselect_follows_the_reference_selection() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/reference/diversity_fixture.json"
        );
        let fx: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let f = prism_vendi::Features::from_json_rows(&fx["novelselect"]["rows"]).unwrap();
        let candidates: Vec<usize> = (0..f.n()).collect();
        let cells = vec![0; f.n()];
        for sel in fx["novelselect"]["selections"].as_array().unwrap() {
            let order: Vec<usize> = sel["order"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let gain = Novelty {
                neighbors: sel["neighbors"].as_u64().unwrap() as usize,
                density_power: sel["density_power"].as_f64().unwrap(),
                distance_power: sel["distance_power"].as_f64().unwrap(),
            };
            let first = sel["first"].as_u64().unwrap() as usize;
            let ours = greedy_pass(
                &f,
                &candidates,
                &cells,
                vec![order.len()],
                first,
                &gain,
                true,
            )
            .unwrap();
            assert_eq!(ours, order, "{sel}");
        }
    }

    /// The novelty of one candidate, by hand: distances 0.2 and 0.6 to the chosen two, pair
    /// densities 2 and 1, so weighted 0.4 and 0.6; sorted, weights 1 and 1/2 (α = 1): (0.4 +
    /// 0.3) / 2.
    #[test]
    fn novelty_weights_sorted_density_scaled_distances_by_rank() {
        let gain = Novelty {
            neighbors: 10,
            density_power: 0.5,
            distance_power: 1.0,
        };
        let mut state = GainState {
            value: gain.initial(),
            sorted: Vec::new(),
        };
        gain.update(&mut state, 0.4, 1.0); // distance 0.6, pair density 1
        gain.update(&mut state, 0.8, 2.0); // distance 0.2, pair density 2
        assert!((state.sorted[0] - 0.4).abs() < 1e-12 && (state.sorted[1] - 0.6).abs() < 1e-12);
        assert!((gain.gain(&state) - 0.35).abs() < 1e-12);
    }

    #[test]
    fn every_strategy_meets_the_controls_and_is_deterministic() {
        let pool = toy_pool();
        let ctx = Context::default();
        for spec in specs() {
            for n in [60, 150] {
                let a = build(&pool, &spec, n, 3, &ctx).unwrap_or_else(|e| panic!("{e}"));
                assert!(a.controls.held, "{}: {:?}", a.name, a.controls);
                assert_eq!(a.ids.len(), n);
                let b = build(&pool, &spec, n, 3, &Context::default()).unwrap();
                assert_eq!(a.ids, b.ids, "{} is not deterministic", a.name);
                let c = build(&pool, &spec, n, 4, &ctx).unwrap();
                assert_ne!(a.ids, c.ids, "{}: seed has no effect", a.name);
            }
        }
    }

    #[test]
    fn building_in_parallel_gives_what_building_alone_gives() {
        let pool = toy_pool();
        let specs = specs();
        let requests: Vec<_> = specs
            .iter()
            .flat_map(|s| [(s, 60, 0), (s, 150, 1), (s, 60, 2)])
            .collect();
        let many = super::super::build_many(&pool, &requests, &Context::default());
        assert_eq!(many.len(), requests.len());
        for ((spec, n, seed), (built, seconds)) in requests.iter().zip(many) {
            let built = built.unwrap_or_else(|e| panic!("{e}"));
            let alone = build(&pool, spec, *n, *seed, &Context::default()).unwrap();
            assert_eq!((&built.name, &built.ids), (&alone.name, &alone.ids));
            assert!(seconds >= 0.0);
        }
    }

    #[test]
    fn narrow_strategies_are_narrower() {
        let pool = toy_pool();
        let ctx = Context::default();
        let groups = |spec: StrategySpec| {
            build(&pool, &spec, 120, 0, &ctx)
                .unwrap()
                .controls
                .distinct_groups
        };
        let random = groups(StrategySpec::Random);
        let narrow = groups(StrategySpec::Groups {
            k: 12,
            by: GroupKey::Page,
        });
        assert_eq!(narrow, 12);
        assert!(random > 40, "{random}");
        // Farthest-point picks are further apart than nearest-centroid picks.
        let f = features::lexical(&pool);
        let mean_sim = |spec: StrategySpec| {
            let s = build(&pool, &spec, 120, 0, &ctx).unwrap();
            let idx: Vec<usize> = s
                .ids
                .iter()
                .map(|id| pool.examples.iter().position(|e| &e.id == id).unwrap())
                .collect();
            let mut total = 0.0;
            for a in &idx {
                for b in &idx {
                    total += prism_vendi::matrix::dot(f.row(*a), f.row(*b));
                }
            }
            total / (idx.len() * idx.len()) as f64
        };
        let max = mean_sim(StrategySpec::MaxDiversity {
            features: FeatureSpec::Lexical,
            candidates: 600,
            objective: GreedyObjective::MinDistance,
        });
        let min = mean_sim(StrategySpec::MinDiversity {
            features: FeatureSpec::Lexical,
            candidates: 600,
            objective: GreedyObjective::MeanDistance,
        });
        assert!(
            max < min,
            "max-div mean similarity {max} should be below min-div {min}"
        );
    }

    /// A pool whose groups each hold one label, as math templates each fix a difficulty:
    /// 40 groups of 20, labels a/b/c/d on 16/12/8/4 of them.
    fn label_pure_pool() -> Pool {
        let mut examples = Vec::new();
        for g in 0..40 {
            let label = match g {
                0..16 => "a",
                16..28 => "b",
                28..36 => "c",
                _ => "d",
            };
            for j in 0..20 {
                examples.push(Example {
                    id: format!("t{g}-{j}"),
                    premise: format!("template {g} problem {j} {}", "x ".repeat(j % 7)),
                    hypothesis: format!("solution {g} {j}"),
                    label: label.into(),
                    source: "toy".into(),
                    group: format!("template-{g}"),
                    split: "train".into(),
                });
            }
        }
        // Struct literal: `Table::new` checks NLI labels, these are strata.
        Pool::new(&Table { examples }, 2)
    }

    /// The draws of every strategy on the two toy pools, at two sizes and two seeds, pinned by
    /// their hash. When this fails for a deliberate change to a strategy, a quota or the length
    /// bins, bump [`super::super::SUBSETS_VERSION`] (so sweeps draw their subsets again under
    /// new run ids) and put the new hash here; when it fails otherwise, the draws changed by
    /// accident.
    #[test]
    fn subset_draws_are_pinned() {
        let mut specs = specs();
        specs.push(StrategySpec::Groups {
            k: 8,
            by: GroupKey::Page,
        });
        let mut drawn = String::new();
        for (pool, sizes) in [(toy_pool(), [60, 150]), (label_pure_pool(), [40, 100])] {
            // A context caches one pool's features.
            let ctx = Context::default();
            for spec in &specs {
                for n in sizes {
                    for seed in [0, 1] {
                        let line = match build(&pool, spec, n, seed, &ctx) {
                            Ok(s) => format!("{} {}\n", s.name, s.ids.join(",")),
                            Err(e) => format!("{}-n{n}-s{seed} error: {e}\n", spec.label()),
                        };
                        drawn.push_str(&line);
                    }
                }
            }
        }
        let hash = prism_core::hash::sha256_hex(drawn.as_bytes());
        assert_eq!(
            (super::super::SUBSETS_VERSION, hash.as_str()),
            (
                1,
                "c6ebe94ae9b3406cfee167b678037ce1f22fabf8024cd3dab5b9d59161f873a9"
            ),
            "the subset draws changed: if on purpose, bump SUBSETS_VERSION and pin the new hash"
        );
    }

    #[test]
    fn label_pure_groups_are_spread_over_the_labels_by_quota() {
        let pool = label_pure_pool();
        for seed in 0..20 {
            for (k, expected) in [(4, [1, 1, 1, 1]), (8, [3, 2, 2, 1]), (20, [8, 6, 4, 2])] {
                let spec = StrategySpec::Groups {
                    k,
                    by: GroupKey::Page,
                };
                let s = build(&pool, &spec, 40, seed, &Context::default()).unwrap();
                // The labels' quotas are met exactly (the controls), from exactly k groups.
                let quotas = Quotas::new(&pool, 40).unwrap();
                let mut counts = vec![0; pool.cells()];
                let row: HashMap<&str, usize> = pool
                    .examples
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.id.as_str(), i))
                    .collect();
                let mut used_groups = HashSet::new();
                for id in &s.ids {
                    let i = row[id.as_str()];
                    counts[pool.cell(i)] += 1;
                    used_groups.insert(pool.examples[i].group.clone());
                }
                assert_eq!(counts, quotas.per_cell, "k={k} seed={seed}");
                assert!(
                    used_groups.len() <= k,
                    "k={k}: {} groups",
                    used_groups.len()
                );
                let per_label = &s.details["groups_per_label"];
                let drawn: Vec<u64> = ["a", "b", "c", "d"]
                    .iter()
                    .map(|l| per_label[l].as_u64().unwrap())
                    .collect();
                assert_eq!(drawn, expected.map(|e| e as u64), "k={k}");
                let again = build(&pool, &spec, 40, seed, &Context::default()).unwrap();
                assert_eq!(s.ids, again.ids);
            }
        }
        let err = build(
            &pool,
            &StrategySpec::Groups {
                k: 3,
                by: GroupKey::Page,
            },
            40,
            0,
            &Context::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cannot cover the 4 labels"), "{err}");
    }

    #[test]
    fn too_few_groups_is_a_clear_error() {
        let pool = toy_pool();
        let err = build(
            &pool,
            &StrategySpec::Groups {
                k: 2,
                by: GroupKey::Page,
            },
            300,
            0,
            &Context::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("too few") && err.contains("needs about"),
            "{err}"
        );
        let q = Quotas::new(&pool, 10).unwrap();
        let (a, b) = q.split(4);
        assert_eq!((a.total(), b.total()), (4, 6));
    }
}
