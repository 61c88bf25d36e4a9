//! Gradient features on the tiny random Qwen2 (q/k/v biases, untied head) and Llama-3 (tied
//! head) checkpoints of `tests/reference/tiny-lm`: the factored projection equals the dense
//! matrix built as the Kronecker product, a gradient taken inside a batch equals the one taken
//! alone, autodiff gradients match finite differences, and the store resumes bit-identically.

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use prism_features::featurize::flat_gradient;
use prism_features::*;
use prism_models::LanguageModel;
use prism_models::lm_tokenizer::ChatTokens;
use std::path::PathBuf;

fn tiny(name: &str, mode: Mode) -> LanguageModel {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/reference/tiny-lm")
        .join(name);
    let device = prism_models::Backend::Flex.device().unwrap();
    load_proxy(&dir, &device, mode).unwrap()
}

/// Token sequences of different lengths with the completion at the end.
fn chats() -> Vec<ChatTokens> {
    [
        (vec![3, 5, 11, 4, 20, 6, 13, 2], 5),
        (vec![12, 4, 7, 19, 2], 3),
        (vec![3, 3, 14, 15, 9, 21, 22, 23, 17, 2], 7),
        (vec![25, 26, 6, 2], 2),
    ]
    .into_iter()
    .map(|(ids, completion_start)| ChatTokens {
        ids,
        completion_start,
    })
    .collect()
}

/// Shards of `shard_size`, batches of `batch_size` and at most `max_batch_tokens` padded tokens.
fn batching(shard_size: usize, batch_size: usize, max_batch_tokens: usize) -> Batching {
    Batching {
        shard_size,
        batch_size,
        max_batch_tokens,
        workers: 1,
    }
}

fn rel_diff(a: &[f32], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64 - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

#[test]
fn factored_equals_the_kronecker_built_dense_projection() {
    for name in ["llama3", "qwen2"] {
        let (k, d, seed) = (3, 40, 7);
        let frozen = tiny(name, Mode::Factored);
        let factored = FactoredFeatures::new(&frozen, k, d, seed);
        let got = factored.featurize(&frozen, &chats()).unwrap();

        // The same projection as one dense matrix M = Rᵀ·blockdiag(P_u ⊗ P_v)/k, applied to
        // each example's full gradient (taken alone, all parameters requiring gradients).
        let full = tiny(name, Mode::Dense);
        let blocks = full.model.grad_blocks();
        let m = factored.projector().matrices(seed);
        let mut rows: Vec<Vec<f64>> = Vec::new(); // one row of blockdiag(...) per z coordinate
        let flat_len: usize = blocks.iter().map(|b| b.rows * b.cols).sum();
        let mut offset = 0;
        for (i, b) in blocks.iter().enumerate() {
            for a in 0..k {
                for c in 0..k {
                    let mut row = vec![0f64; flat_len];
                    for r in 0..b.rows {
                        for s in 0..b.cols {
                            row[offset + r * b.cols + s] =
                                (m.p_u[i][r * k + a] * m.p_v[i][s * k + c]) as f64 / k as f64;
                        }
                    }
                    rows.push(row);
                }
            }
            offset += b.rows * b.cols;
        }
        for (chat, g) in chats().iter().zip(&got) {
            let (flat, loss) = flat_gradient(&full, chat).unwrap();
            let flat = &flat[..flat_len]; // the RMSNorm gains come last and are not tapped
            let z: Vec<f64> = rows
                .iter()
                .map(|row| row.iter().zip(flat).map(|(p, x)| p * *x as f64).sum())
                .collect();
            let want: Vec<f64> = (0..d)
                .map(|j| {
                    z.iter()
                        .enumerate()
                        .map(|(t, v)| m.last[t * d + j] as f64 * v)
                        .sum::<f64>()
                        / (d as f64).sqrt()
                })
                .collect();
            let err = rel_diff(&g.projected, &want);
            assert!(
                err < 1e-5,
                "{name}: factored vs Kronecker-dense relative error {err:e}"
            );
            assert!(
                (g.loss - loss).abs() < 1e-5,
                "{name}: loss {} vs {loss}",
                g.loss
            );
        }
    }
}

#[test]
fn a_gradient_inside_a_batch_equals_the_one_taken_alone() {
    for name in ["llama3", "qwen2"] {
        let lm = tiny(name, Mode::Factored);
        let proj = FactoredFeatures::new(&lm, 4, 64, 0);
        let batched = proj.featurize(&lm, &chats()).unwrap();
        for (chat, b) in chats().iter().zip(&batched) {
            let alone = proj.featurize(&lm, std::slice::from_ref(chat)).unwrap();
            let want: Vec<f64> = alone[0].projected.iter().map(|v| *v as f64).collect();
            let err = rel_diff(&b.projected, &want);
            assert!(
                err <= 1e-5,
                "{name}: batched vs alone relative error {err:e}"
            );
        }
    }
}

/// Adds `delta` to coordinate `coord` of the `index`-th parameter (in visiting order).
struct Nudge {
    index: usize,
    seen: usize,
    coord: usize,
    delta: f32,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let i = self.seen;
        self.seen += 1;
        if i != self.index {
            return param;
        }
        let (coord, delta) = (self.coord, self.delta);
        param.map(move |t| {
            let shape = t.shape();
            let mut v = vec![0f32; shape.num_elements()];
            v[coord] = delta;
            let device = t.device();
            t + Tensor::from_data(TensorData::new(v, shape), &device)
        })
    }
}

#[test]
fn gradient_coordinates_match_finite_differences() {
    // The model runs in f32, so take ε = 1e-2 on the coordinates with the largest gradients
    // and allow 2% relative error: a wrong backward (a sign, a missing term) is far off.
    let lm = tiny("llama3", Mode::Dense);
    let chat = &chats()[0];
    let (flat, _) = flat_gradient(&lm, chat).unwrap();
    let blocks = lm.model.grad_blocks();
    // Flat layout: block 0 is the embedding `vocab × hidden` (burn's layout too: parameter 0);
    // block 1 is layer 0's q_proj `out × in` (burn stores it `in × out`: parameter 2, after
    // layer 0's input norm).
    let emb = blocks[0].rows * blocks[0].cols;
    let q = (blocks[1].rows, blocks[1].cols);
    let largest = |range: std::ops::Range<usize>| -> Vec<usize> {
        let mut idx: Vec<usize> = range.collect();
        idx.sort_by(|&a, &b| flat[b].abs().total_cmp(&flat[a].abs()));
        idx.truncate(3);
        idx
    };
    let mut cases: Vec<(usize, usize, usize)> =
        largest(0..emb).into_iter().map(|c| (c, 0, c)).collect();
    for c in largest(emb..emb + q.0 * q.1) {
        let (r, s) = ((c - emb) / q.1, (c - emb) % q.1);
        cases.push((c, 2, s * q.0 + r));
    }
    let eps = 1e-2f32;
    for (c, param, coord) in cases {
        let loss_at = |delta: f32| -> f64 {
            let mut m = tiny("llama3", Mode::Factored);
            m.model.decoder = m.model.decoder.map(&mut Nudge {
                index: param,
                seen: 0,
                coord,
                delta,
            });
            let (ids, mask) = m.loss_batch(std::slice::from_ref(chat));
            m.model.masked_loss(ids, mask).into_scalar::<f32>() as f64
        };
        let fd = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps as f64);
        let g = flat[c] as f64;
        eprintln!("coordinate {c}: autodiff {g:.6}, finite difference {fd:.6}");
        assert!(
            (fd - g).abs() <= 0.02 * g.abs() + 1e-4,
            "coordinate {c}: autodiff {g} vs finite difference {fd}"
        );
    }
}

#[test]
fn the_store_resumes_after_losing_a_shard_with_identical_features() {
    let lm = tiny("qwen2", Mode::Factored);
    let proj = FactoredFeatures::new(&lm, 4, 32, 0);
    let examples: Vec<GradientExample> = (0..10)
        .map(|i| GradientExample {
            id: format!("ex-{i}"),
            prompt: "a b c ".repeat(i + 1),
            completion: "d".into(),
        })
        .collect();
    let meta = StoreMeta {
        proxy: "tiny-qwen2".into(),
        proxy_sha256: "test".into(),
        mode: "factored".into(),
        dim: 32,
        seed: 0,
        factor_dim: 4,
        version: 1,
        batch_of_one: false,
    };
    let run_with = |root: &std::path::Path, workers: usize| {
        let store = FeatureStore::open(root, meta.clone()).unwrap();
        let mut reported = Vec::new();
        let s = featurize_into_store(
            &lm,
            &proj,
            &examples,
            &store,
            Batching {
                workers,
                ..batching(4, 3, 40)
            },
            &mut |done, _| reported.push(done),
        )
        .unwrap();
        assert_eq!(
            reported.last(),
            Some(&s.computed),
            "progress reaches the end"
        );
        (store, s)
    };
    let run = |root: &std::path::Path| run_with(root, 1);
    let whole = tempfile::tempdir().unwrap();
    let (store, first) = run(whole.path());
    assert_eq!(first.computed, 10);
    assert_eq!(
        run(whole.path()).1.computed,
        0,
        "a rerun recomputes nothing"
    );

    // Simulate a kill after two shards: drop the last shard's index (its commit mark) and
    // leave a torn safetensors file behind.
    let resumed = tempfile::tempdir().unwrap();
    let (partial, _) = run(resumed.path());
    fs_err::remove_file(partial.dir().join("shard-000002.parquet")).unwrap();
    fs_err::write(partial.dir().join("shard-000002.safetensors"), b"torn").unwrap();
    let (partial, again) = run(resumed.path());
    assert_eq!(again.computed, 2);
    let (a, ia) = store.load_all().unwrap();
    let (b, ib) = partial.load_all().unwrap();
    assert_eq!(ia, ib);
    assert_eq!(
        a.as_slice(),
        b.as_slice(),
        "bit-identical features after the resume"
    );

    // Batches run three at a time store the same bits, in the same shards.
    let parallel = tempfile::tempdir().unwrap();
    let (three, s) = run_with(parallel.path(), 3);
    assert_eq!(s.computed, 10);
    let (c, ic) = three.load_all().unwrap();
    assert_eq!(ia, ic);
    assert_eq!(a.as_slice(), c.as_slice(), "bit-identical with 3 workers");
    for shard in 0..3 {
        let name = format!("shard-{shard:06}.safetensors");
        assert_eq!(
            fs_err::read(store.dir().join(&name)).unwrap(),
            fs_err::read(three.dir().join(&name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn two_writers_on_one_store_take_turns() {
    let examples: Vec<GradientExample> = (0..12)
        .map(|i| GradientExample {
            id: format!("ex-{i}"),
            prompt: "a b ".repeat(i + 1),
            completion: "c".into(),
        })
        .collect();
    let meta = StoreMeta {
        proxy: "tiny-llama3".into(),
        proxy_sha256: "test".into(),
        mode: "factored".into(),
        dim: 16,
        seed: 0,
        factor_dim: 2,
        version: 1,
        batch_of_one: false,
    };
    let root = tempfile::tempdir().unwrap();
    let computed: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (examples, meta, root) = (&examples, meta.clone(), root.path());
                s.spawn(move || {
                    let lm = tiny("llama3", Mode::Factored);
                    let proj = FactoredFeatures::new(&lm, 2, 16, 0);
                    let store = FeatureStore::open(root, meta).unwrap();
                    featurize_into_store(
                        &lm,
                        &proj,
                        examples,
                        &store,
                        batching(4, 4, 0),
                        &mut |_, _| {},
                    )
                    .unwrap()
                    .computed
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        computed.iter().sum::<usize>(),
        12,
        "each example computed once: {computed:?}"
    );
    let store = FeatureStore::open(root.path(), meta).unwrap();
    let (features, index) = store.load_all().unwrap();
    assert_eq!(index.len(), 12);
    assert_eq!(features.n(), 12);
}

/// SmolLM2-135M-Instruct from the cache (`just fetch`).
fn smollm2() -> LanguageModel {
    let cache = std::env::var_os("PRISM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/prism"));
    let dir = cache.join("models/smollm2-135m-instruct");
    assert!(
        dir.is_dir(),
        "{} is missing: run `just fetch`",
        dir.display()
    );
    let path = prism_models::language_model::resolve_model(dir.to_str().unwrap(), &dir).unwrap();
    load_proxy(
        &path,
        &prism_models::Backend::Flex.device().unwrap(),
        Mode::Factored,
    )
    .unwrap()
}

/// What `gvendi.batch_size = 1` buys: on the real proxy a feature taken amid other examples
/// differs in its last bits from the one taken alone (the loss does not: the backward pass
/// does), while features of batches of one are the same whatever else the store holds. The
/// tiny checkpoints do not show the effect, so this needs the real one.
#[test]
#[ignore = "needs SmolLM2 from `just fetch`; run by `just test-data`"]
fn on_smollm2_only_batches_of_one_make_a_feature_independent_of_its_partners() {
    let lm = smollm2();
    let proj = FactoredFeatures::new(&lm, 32, 1024, 0);
    let chat = |len: usize, salt: u32| ChatTokens {
        ids: (0..len as u32)
            .map(|i| 3 + (i * 7 + salt * 13) % 49_000)
            .collect(),
        completion_start: len / 2,
    };
    let (a, b, c) = (chat(40, 1), chat(40, 2), chat(60, 3));
    let alone = &proj.featurize(&lm, std::slice::from_ref(&a)).unwrap()[0];
    let batched = &proj.featurize(&lm, &[a.clone(), b, c]).unwrap()[0];
    assert_eq!(
        alone.loss.to_bits(),
        batched.loss.to_bits(),
        "the forward pass is batch-invariant"
    );
    let differing = alone
        .projected
        .iter()
        .zip(&batched.projected)
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    assert!(
        differing > 0,
        "batched features now equal the lone ones bit for bit: batch_of_one stores are no longer needed"
    );

    // Two stores holding `shared` among different partners, at the default batch size.
    let examples = |others: &[&str]| -> Vec<GradientExample> {
        std::iter::once("The cat sat on the mat.")
            .chain(others.iter().copied())
            .enumerate()
            .map(|(i, p)| GradientExample {
                id: format!("ex-{i}"),
                prompt: p.to_string(),
                completion: "A claim about it.".into(),
            })
            .collect()
    };
    let meta = StoreMeta {
        proxy: "smollm2".into(),
        proxy_sha256: "test".into(),
        mode: "factored".into(),
        dim: 1024,
        seed: 0,
        factor_dim: 32,
        version: prism_features::store::FEATURES_VERSION,
        batch_of_one: true,
    };
    let shared = |others: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let store = FeatureStore::open(dir.path(), meta.clone()).unwrap();
        featurize_into_store(
            &lm,
            &proj,
            &examples(others),
            &store,
            batching(256, 1, 1024),
            &mut |_, _| {},
        )
        .unwrap();
        let (features, index) = store.load_all().unwrap();
        let row = index.iter().position(|r| r.id == "ex-0").unwrap();
        features.row(row).to_vec()
    };
    let one = shared(&["A dog ran.", "Blue is not red, and the sky is blue today."]);
    let other = shared(&["The weather was warm in the city of Paris all week long."]);
    assert!(
        one.iter()
            .zip(&other)
            .all(|(x, y)| x.to_bits() == y.to_bits()),
        "a batch-of-one feature changed with the store's other examples"
    );
}
