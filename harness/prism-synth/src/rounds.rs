//! The loop (issue 28, item 5): features of the pool → clusters → generate a batch → parse and
//! self-consistency → filters → features of the candidates → keep those in sparse clusters →
//! add them to the pool → repeat for R rounds.
//!
//! The loop knows no task and no model: a [`SynthTask`] turns seeds into requests and replies
//! into examples, a [`Featurize`] gives unit gradient features (the proxy's, from the feature
//! store), and a [`Generator`] writes the text. Every round is seeded by the run's seed and its
//! number, and the whole state (rounds done, examples kept) is written atomically after each
//! round, so a killed run continues at its last whole round and a rerun keeps nothing twice.

use crate::formats::{Drop, Parsed};
use crate::generator::{ChatRequest, Finish, GenerationError, Generator, Reply, Tally};

use crate::{ClusterConfig, FilterConfig, Hygiene, PoolClusters, Rejection};
use prism_vendi::Features;
use prism_vendi::matrix::dot;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One example of the growing pool: a starting pool example (round 0) or a kept candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthExample {
    /// Unique in the run (`<run>-r<round>-<n>` for kept candidates).
    pub id: String,
    /// What the proxy's loss is conditioned on (the problem; the NLI prompt).
    pub prompt: String,
    /// What the proxy's loss falls on (the worked solution; the NLI completion).
    pub completion: String,
    /// The text the filters compare (the problem; premise and hypothesis).
    pub text: String,
    /// The task's own fields (question, solution, answer, votes, difficulty; premise,
    /// hypothesis, label), written to the kept table as they are.
    pub fields: serde_json::Value,
    /// The round that kept it; 0 for the starting pool.
    pub round: usize,
    /// The pool cluster it landed in when kept (none for the starting pool).
    pub cluster: Option<usize>,
}

/// What a task contributes to the loop: its requests, its parser and its self-consistency
/// vote. The math and NLI formats implement it.
pub trait SynthTask {
    /// A parsed generation before its vote (a problem; a triple).
    type Draft;

    /// Requests for new drafts: `count` of them, request `i` seeded `seed + i`, each showing
    /// few-shot examples drawn from `seeds` by `rng`.
    fn draft_requests(
        &self,
        seeds: &[&SynthExample],
        count: usize,
        seed: u64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<ChatRequest>;

    /// The drafts in one reply, why the rest of it was dropped, and how many blocks the
    /// model's end of turn closed.
    fn parse(&self, reply: &Reply) -> Parsed<Self::Draft>;

    /// The self-consistency requests of one draft (n solutions; n labellings), seeded from
    /// `seed`, with `examples` (worked pool examples) as few-shot turns where the task uses
    /// them.
    fn check_requests(
        &self,
        draft: &Self::Draft,
        examples: &[&SynthExample],
        seed: u64,
    ) -> Vec<ChatRequest>;

    /// Few-shot examples each check request shows.
    fn check_shots(&self) -> usize;

    /// The example a draft becomes when its checks agree (id, round and cluster are set by
    /// the loop), or why not.
    fn vote(
        &self,
        draft: &Self::Draft,
        replies: &[Result<Reply, GenerationError>],
    ) -> Result<SynthExample, Drop>;

    /// What the checks of an agreed example agreed on (the math answer; the NLI label), as the
    /// replies log records it.
    fn agreed(&self, example: &SynthExample) -> Option<serde_json::Value>;
}

/// Unit gradient features of examples: the proxy's, as G-Vendi uses them.
pub trait Featurize {
    /// One unit row per example, in order.
    fn features(&mut self, examples: &[&SynthExample]) -> anyhow::Result<Features>;
}

/// Which candidates a round keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// Those landing in a sparse cluster of the pool (Prismatic Synthesis).
    Sparse,
    /// Every candidate that passes the filters (naive few-shot synthesis, the comparison arm).
    All,
}

/// Where a prismatic round's few-shot seeds come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeedSource {
    /// The whole pool as it stands (the released code; issue 28: "few-shot problems from the
    /// pool").
    #[default]
    Pool,
    /// The rows of the sparse clusters: the generator is shown the under-populated regions it
    /// is asked to fill (the method's summary: "prompt a generator with seeds from them").
    Sparse,
}

impl SeedSource {
    fn is_pool(&self) -> bool {
        *self == SeedSource::Pool
    }
}

/// Settings of the loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopConfig {
    /// Rounds at most.
    #[serde(default = "LoopConfig::default_rounds")]
    pub rounds: usize,
    /// Draft requests per round.
    #[serde(default = "LoopConfig::default_requests")]
    pub requests_per_round: usize,
    /// Stop once this many candidates are kept (0: run every round).
    #[serde(default)]
    pub grow_to: usize,
    /// Sparse (prismatic) or all (naive).
    #[serde(default = "LoopConfig::default_selection")]
    pub selection: Selection,
    /// Where the prismatic arm's few-shot seeds come from; the naive arm always shows the pool.
    /// Left out of the serialised settings at its default, so runs fingerprinted before the key
    /// existed still resume.
    #[serde(default, skip_serializing_if = "SeedSource::is_pool")]
    pub seeds_from: SeedSource,
    /// Seed of the seeds drawn, the requests and the clustering.
    #[serde(default)]
    pub seed: u64,
    /// How the pool is clustered each round.
    #[serde(default)]
    pub clusters: ClusterConfig,
    /// The quality and hygiene filters.
    #[serde(default)]
    pub filters: FilterConfig,
}

impl LoopConfig {
    fn default_rounds() -> usize {
        3
    }
    fn default_requests() -> usize {
        16
    }
    fn default_selection() -> Selection {
        Selection::Sparse
    }
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            rounds: Self::default_rounds(),
            requests_per_round: Self::default_requests(),
            grow_to: 0,
            selection: Self::default_selection(),
            seeds_from: SeedSource::Pool,
            seed: 0,
            clusters: ClusterConfig::default(),
            filters: FilterConfig::default(),
        }
    }
}

/// What one round did: the yield at every step, the pool it left, and the generator's counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// 1-based.
    pub round: usize,
    /// Clusters of the pool this round, and how many are sparse.
    pub clusters: usize,
    /// Pool rows in the sparse clusters.
    pub pool_rows_in_sparse: usize,
    /// Draft requests sent.
    pub requests: usize,
    /// Drafts parsed from their replies.
    pub parsed: usize,
    /// Blocks the model left open when it ended its turn, read to the end of the reply
    /// (each became a draft or a drop: see [`crate::formats::Parsed`]).
    #[serde(default)]
    pub closed_at_end_of_turn: usize,
    /// Self-consistency replies (solutions, labellings) cut at the token limit. A math
    /// solution cut there does not vote; an NLI labelling is read for its label word as any.
    #[serde(default)]
    pub checks_at_token_limit: usize,
    /// Drafts whose self-consistency checks agreed.
    pub agreed: usize,
    /// Agreed drafts that passed the quality and hygiene filters.
    pub passed_filters: usize,
    /// Of those, how many landed in a sparse cluster.
    pub in_sparse: usize,
    /// Where those landed among the pool's clusters (empty in a state written by older code).
    #[serde(default)]
    pub landing: Landing,
    /// Kept this round.
    pub kept: usize,
    /// Pool size after the round (starting pool + every kept example).
    pub pool_size: usize,
    /// G-Vendi of the pool after the round.
    pub pool_gvendi: f64,
    /// G-Vendi of the kept examples so far (none below 2).
    pub kept_gvendi: Option<f64>,
    /// Drops while parsing and voting, by reason.
    pub drops: BTreeMap<Drop, usize>,
    /// Filter rejections, by reason.
    pub rejections: BTreeMap<Rejection, usize>,
    /// The generator's counts over this round's requests.
    pub generator: Tally,
    /// Wall seconds of clustering and generation (drafts and their checks).
    pub generation_s: f64,
    /// Wall seconds of features, clustering and G-Vendi.
    pub features_s: f64,
}

impl RoundRecord {
    /// The yield at each step, in order: requests, parsed, agreed, passed filters, in sparse,
    /// kept (what every rounds table prints).
    pub fn funnel(&self) -> [(&'static str, usize); 6] {
        [
            ("requests", self.requests),
            ("parsed", self.parsed),
            ("agreed", self.agreed),
            ("passed filters", self.passed_filters),
            ("in sparse", self.in_sparse),
            ("kept", self.kept),
        ]
    }
}

/// Where a round's candidates landed among the pool's clusters: what says why a prismatic arm
/// keeps few (candidates drawn to the large clusters) or many.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Landing {
    /// Pool rows per cluster, in cluster order.
    pub cluster_sizes: Vec<usize>,
    /// Whether each cluster is sparse.
    pub sparse: Vec<bool>,
    /// Each candidate's cluster (those that passed the filters, in order).
    pub candidates: Vec<usize>,
    /// Each candidate's cosine with its cluster's centre (f32, as the features: a value read
    /// back from `state.json` is the same bits, so a resumed run equals a straight one).
    #[serde(default)]
    pub similarity: Vec<f32>,
    /// The pool rows' mean cosine with their own cluster's centre: how near a member sits, to
    /// read `similarity` against.
    #[serde(default)]
    pub pool_similarity: f32,
}

impl Landing {
    /// Each candidate's cluster's rank by pool size (1: the largest; equal sizes ranked in
    /// cluster order) and whether it is sparse.
    pub fn size_ranks(&self) -> Vec<(usize, bool)> {
        let mut order: Vec<usize> = (0..self.cluster_sizes.len()).collect();
        order.sort_by_key(|&c| std::cmp::Reverse(self.cluster_sizes[c]));
        let mut rank = vec![0; order.len()];
        for (r, &c) in order.iter().enumerate() {
            rank[c] = r + 1;
        }
        self.candidates
            .iter()
            .map(|&c| (rank[c], self.sparse[c]))
            .collect()
    }

    /// How many candidates landed in a sparse cluster.
    pub fn in_sparse(&self) -> usize {
        self.candidates.iter().filter(|&&c| self.sparse[c]).count()
    }

    /// The size ranks, smallest rank first, a sparse one marked `*`, then the candidates'
    /// mean cosine with their centres against the pool rows': `1 1 2 9*; cos 0.41 (pool 0.62)`.
    pub fn describe(&self) -> String {
        let mut ranks = self.size_ranks();
        ranks.sort_unstable();
        let mut text = ranks
            .iter()
            .map(|&(r, sparse)| format!("{r}{}", if sparse { "*" } else { "" }))
            .collect::<Vec<_>>()
            .join(" ");
        if !self.similarity.is_empty() {
            let mean = self.similarity.iter().sum::<f32>() / self.similarity.len() as f32;
            text.push_str(&format!(
                "; cos {mean:.2} (pool {:.2})",
                self.pool_similarity
            ));
        }
        text
    }
}

/// Everything a run has done: written after every round (`state.json`), read to resume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SynthState {
    /// Settings the run was started with; a resume with other settings is refused.
    pub fingerprint: String,
    /// G-Vendi of the starting pool.
    pub start_gvendi: f64,
    /// Size of the starting pool.
    pub start_size: usize,
    /// Rounds done, in order.
    pub rounds: Vec<RoundRecord>,
    /// Examples kept, in the order kept.
    pub kept: Vec<SynthExample>,
}

/// Errors of the loop.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    /// `state.json` was made with other settings.
    #[error(
        "{path}: this run folder was started with other settings (fingerprint {found}, now {expected}); \
         use another folder or delete it"
    )]
    Fingerprint {
        /// The state file.
        path: PathBuf,
        /// Its fingerprint.
        found: String,
        /// The settings' fingerprint now.
        expected: String,
    },
    /// `state.json` cannot be read or written.
    #[error("{path}: {message}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Features, clustering or G-Vendi failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Version of what a round does (prompts, parsing, votes, filters, selection): part of every
/// run's fingerprint, so a run folder made by older code is not resumed with newer rounds.
/// 3 (2026-12-04): a block left open by a model that ended its turn is read as closed.
/// 4 (2026-12-04): a math solution cut at the token limit does not vote.
pub const LOOP_VERSION: u32 = 4;

/// G-Vendi (order 1) of unit rows.
pub fn gvendi(features: &Features) -> anyhow::Result<f64> {
    let v = prism_vendi::vendi_score(features, prism_vendi::Order::Finite(1.0), true)
        .map_err(|e| anyhow::anyhow!("G-Vendi: {e}"))?;
    Ok(v.vendi)
}

/// The run: a starting pool, evaluation texts to decontaminate against, and a folder.
pub struct SynthRun<'a> {
    /// The starting pool.
    pub pool: &'a [SynthExample],
    /// Every ID and OOD text of the task (10-gram decontamination).
    pub eval_texts: &'a [String],
    /// Where `state.json` lives.
    pub dir: &'a Path,
    /// Prefix of kept examples' ids.
    pub name: &'a str,
    /// What identifies the settings (generator, task format, loop): a resume must match it.
    pub fingerprint: String,
}

impl SynthRun<'_> {
    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The state written by an earlier invocation (checked against this run's settings), or
    /// none.
    pub fn load_state(&self) -> Result<Option<SynthState>, LoopError> {
        let path = self.state_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(LoopError::State {
                    path,
                    message: e.to_string(),
                });
            }
        };
        let state: SynthState = serde_json::from_slice(&bytes).map_err(|e| LoopError::State {
            path: path.clone(),
            message: format!("not a synthesis state: {e}"),
        })?;
        if state.fingerprint != self.fingerprint {
            return Err(LoopError::Fingerprint {
                path,
                found: state.fingerprint,
                expected: self.fingerprint.clone(),
            });
        }
        Ok(Some(state))
    }

    fn save(&self, state: &SynthState) -> Result<(), LoopError> {
        let path = self.state_path();
        std::fs::create_dir_all(self.dir)
            .and_then(|_| prism_core::atomic::write_json_atomic(&path, state))
            .map_err(|e| LoopError::State {
                path,
                message: e.to_string(),
            })
    }

    /// Runs the rounds not yet done, saving the state after each; `on_round` sees every
    /// finished round (to print it or draw the curve).
    pub fn run<T: SynthTask>(
        &self,
        config: &LoopConfig,
        task: &T,
        generator: &dyn Generator,
        featurizer: &mut dyn Featurize,
        on_round: &mut dyn FnMut(&SynthState),
    ) -> Result<SynthState, LoopError> {
        let pool_refs: Vec<&SynthExample> = self.pool.iter().collect();
        let pool_features = featurizer.features(&pool_refs)?;
        let mut state = match self.load_state()? {
            Some(s) => s,
            None => {
                let s = SynthState {
                    fingerprint: self.fingerprint.clone(),
                    start_gvendi: gvendi(&pool_features)?,
                    start_size: self.pool.len(),
                    ..Default::default()
                };
                self.save(&s)?;
                s
            }
        };
        while state.rounds.len() < config.rounds
            && (config.grow_to == 0 || state.kept.len() < config.grow_to)
        {
            let round = state.rounds.len() + 1;
            let record = self.round(
                round,
                config,
                task,
                generator,
                featurizer,
                &pool_features,
                &mut state,
            )?;
            state.rounds.push(record);
            self.save(&state)?;
            on_round(&state);
        }
        Ok(state)
    }

    #[allow(clippy::too_many_arguments)]
    fn round<T: SynthTask>(
        &self,
        round: usize,
        config: &LoopConfig,
        task: &T,
        generator: &dyn Generator,
        featurizer: &mut dyn Featurize,
        pool_features: &Features,
        state: &mut SynthState,
    ) -> Result<RoundRecord, LoopError> {
        let started = Instant::now();
        let round_seed = config
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(round as u64 * 1_000_003);
        let mut rng = ChaCha8Rng::seed_from_u64(round_seed);
        let tally_before = generator.tally();

        // The pool as it stands: the starting pool and everything kept so far.
        let current: Vec<&SynthExample> = self.pool.iter().chain(&state.kept).collect();
        let kept_refs: Vec<&SynthExample> = state.kept.iter().collect();
        let kept_features = featurizer.features(&kept_refs)?;
        let features = Features::stack(&[pool_features, &kept_features]);
        let clusters = PoolClusters::fit(
            &features,
            &ClusterConfig {
                seed: config.clusters.seed.wrapping_add(round as u64),
                ..config.clusters.clone()
            },
        )
        .map_err(anyhow::Error::from)?;

        // Generate drafts, parse them, and vote.
        let mut drops: BTreeMap<Drop, usize> = BTreeMap::new();
        let seeds = few_shot_pool(
            &current,
            config,
            &clusters.kmeans.assignment,
            &clusters.sparse,
        );
        let requests = task.draft_requests(
            &seeds,
            config.requests_per_round,
            round_seed.wrapping_mul(1_000),
            &mut rng,
        );
        let mut drafts = Vec::new();
        let mut closed_at_end_of_turn = 0;
        let mut replies_log = String::new();
        let mut log = |stage: &str,
                       request: &ChatRequest,
                       reply: &Result<Reply, GenerationError>,
                       outcome: serde_json::Value| {
            let line = serde_json::json!({
                "stage": stage,
                "seed": request.sampling.seed,
                "ask": request.messages.last().map(|m| m.content.as_str()),
                "reply": reply.as_ref().ok().map(|r| r.text.as_str()),
                "finish": reply.as_ref().ok().map(|r| r.finish),
                "error": reply.as_ref().err().map(|e| e.to_string()),
                "outcome": outcome,
            });
            replies_log.push_str(&line.to_string());
            replies_log.push('\n');
        };
        for (request, reply) in requests.iter().zip(generator.generate(&requests)) {
            let outcome = match &reply {
                Ok(reply) => {
                    let parsed = task.parse(reply);
                    let outcome = serde_json::json!({
                        "parsed": parsed.drafts.len(),
                        "dropped": parsed.drops,
                        "closed_at_end_of_turn": parsed.closed_at_end_of_turn,
                    });
                    drafts.extend(parsed.drafts);
                    closed_at_end_of_turn += parsed.closed_at_end_of_turn;
                    for d in parsed.drops {
                        *drops.entry(d).or_default() += 1;
                    }
                    outcome
                }
                Err(_) => {
                    *drops.entry(Drop::GenerationFailed).or_default() += 1;
                    serde_json::json!({ "dropped": [Drop::GenerationFailed] })
                }
            };
            log("draft", request, &reply, outcome);
        }
        let mut check_requests = Vec::new();
        let mut spans = Vec::new();
        for (i, draft) in drafts.iter().enumerate() {
            // Worked examples come from the starting pool, whose solutions are known good.
            let shots: Vec<&SynthExample> = (0..task.check_shots())
                .map(|_| &self.pool[rng.random_range(0..self.pool.len())])
                .collect();
            let reqs = task.check_requests(
                draft,
                &shots,
                round_seed.wrapping_mul(7).wrapping_add(100 * i as u64),
            );
            spans.push(check_requests.len()..check_requests.len() + reqs.len());
            check_requests.extend(reqs);
        }
        let check_replies = generator.generate(&check_requests);
        let checks_at_token_limit = check_replies
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|r| r.finish == Finish::TokenLimit))
            .count();
        let mut agreed = Vec::new();
        for (draft, span) in drafts.iter().zip(spans) {
            let outcome = match task.vote(draft, &check_replies[span.clone()]) {
                Ok(example) => {
                    let answer = task.agreed(&example);
                    agreed.push(example);
                    serde_json::json!({ "agreed": answer })
                }
                Err(d) => {
                    *drops.entry(d).or_default() += 1;
                    serde_json::json!({ "dropped": [d] })
                }
            };
            for i in span {
                log(
                    "check",
                    &check_requests[i],
                    &check_replies[i],
                    outcome.clone(),
                );
            }
        }
        // Every request and reply of the round, for reading what the generator wrote.
        std::fs::create_dir_all(self.dir)
            .and_then(|_| {
                prism_core::atomic::write_atomic(
                    &self.dir.join(format!("replies-r{round}.jsonl")),
                    replies_log.as_bytes(),
                )
            })
            .map_err(|e| LoopError::State {
                path: self.dir.join(format!("replies-r{round}.jsonl")),
                message: e.to_string(),
            })?;
        let generation_s = started.elapsed().as_secs_f64();

        // Filters against the current pool and the evaluation sets.
        let texts: Vec<&str> = current.iter().map(|e| e.text.as_str()).collect();
        let mut hygiene = Hygiene::new(config.filters.clone(), &texts, self.eval_texts);
        let mut rejections: BTreeMap<Rejection, usize> = BTreeMap::new();
        let mut passed = Vec::new();
        for example in agreed.iter() {
            match hygiene.admit(&example.text) {
                Ok(()) => passed.push(example.clone()),
                Err(r) => *rejections.entry(r).or_default() += 1,
            }
        }

        // Place the survivors and keep the sparse ones (or all, for the naive arm).
        let features_started = Instant::now();
        let passed_count = passed.len();
        let candidate_features = featurizer.features(&passed.iter().collect::<Vec<_>>())?;
        let placed = if passed.is_empty() {
            Vec::new()
        } else {
            clusters.place(&candidate_features)
        };
        let centres = &clusters.kmeans.centroids;
        let landing = Landing {
            cluster_sizes: clusters.sizes.clone(),
            sparse: clusters.sparse.clone(),
            similarity: placed
                .iter()
                .enumerate()
                .map(|(row, &c)| dot(candidate_features.row(row), centres.row(c)) as f32)
                .collect(),
            candidates: placed,
            pool_similarity: (1.0 - clusters.kmeans.inertia / features.n().max(1) as f64) as f32,
        };
        let in_sparse = landing.in_sparse();
        let mut kept_now = 0;
        // Candidate rows kept this round, so the kept set's features are extended, not
        // computed again.
        let mut kept_rows = Vec::new();
        for (row, (mut example, &cluster)) in
            passed.into_iter().zip(&landing.candidates).enumerate()
        {
            let keep = match config.selection {
                Selection::Sparse => clusters.sparse[cluster],
                Selection::All => true,
            };
            if !keep || (config.grow_to > 0 && state.kept.len() >= config.grow_to) {
                continue;
            }
            example.id = format!("{}-r{round}-{kept_now}", self.name);
            example.round = round;
            example.cluster = Some(cluster);
            state.kept.push(example);
            kept_rows.push(row);
            kept_now += 1;
        }

        let kept_features =
            Features::stack(&[&kept_features, &candidate_features.select(&kept_rows)]);
        let pool_gvendi = gvendi(&Features::stack(&[pool_features, &kept_features]))?;
        let kept_gvendi = if state.kept.len() >= 2 {
            Some(gvendi(&kept_features)?)
        } else {
            None
        };
        let generator_counts = generator.tally().since(&tally_before);
        Ok(RoundRecord {
            round,
            clusters: clusters.k(),
            pool_rows_in_sparse: clusters.rows_in_sparse(),
            requests: requests.len(),
            parsed: drafts.len(),
            closed_at_end_of_turn,
            checks_at_token_limit,
            agreed: agreed.len(),
            passed_filters: passed_count,
            in_sparse,
            landing,
            kept: kept_now,
            pool_size: self.pool.len() + state.kept.len(),
            pool_gvendi,
            kept_gvendi,
            drops,
            rejections,
            generator: generator_counts,
            generation_s,
            features_s: features_started.elapsed().as_secs_f64(),
        })
    }
}

/// The examples a round may show the generator as few-shot seeds: the whole pool, or for a
/// prismatic arm with [`SeedSource::Sparse`] the rows whose cluster (`assignment`, aligned with
/// `current`) is sparse.
fn few_shot_pool<'a>(
    current: &[&'a SynthExample],
    config: &LoopConfig,
    assignment: &[usize],
    sparse: &[bool],
) -> Vec<&'a SynthExample> {
    match (config.selection, config.seeds_from) {
        (Selection::Sparse, SeedSource::Sparse) => current
            .iter()
            .zip(assignment)
            .filter(|(_, cluster)| sparse[**cluster])
            .map(|(example, _)| *example)
            .collect(),
        _ => current.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(id: &str) -> SynthExample {
        SynthExample {
            id: id.into(),
            prompt: String::new(),
            completion: String::new(),
            text: String::new(),
            fields: serde_json::Value::Null,
            round: 0,
            cluster: None,
        }
    }

    #[test]
    fn sparse_seeds_are_the_sparse_clusters_rows_for_the_prismatic_arm_only() {
        let pool: Vec<SynthExample> = ["a", "b", "c", "d"].map(example).into();
        let current: Vec<&SynthExample> = pool.iter().collect();
        let (assignment, sparse) = ([0, 1, 1, 2], [false, true, false]);
        let ids = |config: &LoopConfig| -> Vec<String> {
            few_shot_pool(&current, config, &assignment, &sparse)
                .iter()
                .map(|e| e.id.clone())
                .collect()
        };
        let prismatic = LoopConfig {
            seeds_from: SeedSource::Sparse,
            ..LoopConfig::default()
        };
        assert_eq!(ids(&prismatic), ["b", "c"]);
        let naive = LoopConfig {
            selection: Selection::All,
            ..prismatic.clone()
        };
        assert_eq!(ids(&naive), ["a", "b", "c", "d"], "naive shows the pool");
        assert_eq!(ids(&LoopConfig::default()), ["a", "b", "c", "d"]);
        // The default is left out of the settings, so older fingerprints hold.
        let json = serde_json::to_string(&LoopConfig::default()).unwrap();
        assert!(!json.contains("seeds_from"), "{json}");
        assert!(
            serde_json::to_string(&prismatic)
                .unwrap()
                .contains("\"seeds_from\":\"sparse\"")
        );
    }

    #[test]
    fn landing_ranks_clusters_by_pool_size() {
        let landing = Landing {
            // Ranks by size: cluster 1 (9) is 1st, 0 and 3 (5 each) 2nd and 3rd in cluster
            // order, 2 (1) 4th.
            cluster_sizes: vec![5, 9, 1, 5],
            sparse: vec![false, false, true, true],
            candidates: vec![2, 1, 3, 1, 0],
            ..Landing::default()
        };
        assert_eq!(
            landing.size_ranks(),
            vec![(4, true), (1, false), (3, true), (1, false), (2, false)]
        );
        assert_eq!(landing.describe(), "1 1 2 3* 4*");
        let with_cosines = Landing {
            similarity: vec![0.5, 0.25, 0.5, 0.25, 0.5],
            pool_similarity: 0.625,
            ..landing
        };
        assert_eq!(with_cosines.describe(), "1 1 2 3* 4*; cos 0.40 (pool 0.62)");
        assert_eq!(Landing::default().describe(), "");
    }
}
