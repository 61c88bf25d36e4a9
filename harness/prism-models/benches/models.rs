//! `just bench models`: throughput of the student's training step and of the proxy's
//! forward+backward, on every backend compiled in, with PyTorch (CPU) measured in the same run
//! where it is installed. Ratios are printed and written to `results/bench/models.json`.
//!
//! Environment: `PRISM_CACHE` (models), `BENCH_STEPS` (timed steps, default 5), `PRISM_PYTHON`
//! (the Python with torch; default `.cache/torch-venv/bin/python` if present, else `python3`).

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use prism_models::bert::{BertConfig, EncoderBatch};
use prism_models::dropout::keep_mask;
use prism_models::language_model::resolve_model;
use prism_models::tokenize::PairBatch;
use prism_models::{Backend, Classifier, EncoderFiles, LanguageModel};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BATCH: usize = 32;
const LEN: usize = 64;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cache() -> PathBuf {
    std::env::var_os("PRISM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/prism"))
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PRISM_PYTHON") {
        return p.into();
    }
    let venv = root().join(".cache/torch-venv/bin/python");
    if venv.is_file() {
        venv
    } else {
        "python3".into()
    }
}

fn steps() -> usize {
    std::env::var("BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

/// A `[b, len]` batch of random token ids (no padding), fixed by a simple LCG.
fn token_batch(device: &Device, b: usize, len: usize, vocab: i64) -> Tensor<2, Int> {
    let mut state = 12345u64;
    let ids: Vec<i64> = (0..b * len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            1000 + ((state >> 33) as i64 % (vocab - 1000))
        })
        .collect();
    Tensor::from_data(TensorData::new(ids, [b, len]), device)
}

/// Examples per second of `run` (one batch of `batch` examples per call): one warm-up call,
/// then `n` timed calls, the device synchronised before the clock stops.
fn examples_per_second(device: &Device, batch: usize, n: usize, mut run: impl FnMut()) -> f64 {
    run();
    let start = Instant::now();
    for _ in 0..n {
        run();
    }
    device.sync().unwrap();
    (n * batch) as f64 / start.elapsed().as_secs_f64()
}

/// The student (MiniLM-L6 + 3-way head) on `backend` with autodiff, seeded with 0.
fn student(backend: Backend) -> (Classifier, BertConfig, Device) {
    let device = backend.device().unwrap().autodiff();
    let dir = cache().join("models/all-minilm-l6-v2");
    let (bert, config, _) = EncoderFiles::in_dir(&dir)
        .unwrap()
        .load(LEN, &device)
        .unwrap();
    let model = prism_models::device::seeded_module(&device, 0, || {
        Classifier::new(bert, &config, 3, &device)
    });
    (model, config, device)
}

/// A full `[BATCH, LEN]` student batch of random ids on `device`.
fn student_batch(device: &Device, config: &BertConfig) -> PairBatch {
    PairBatch::Joint(EncoderBatch {
        input_ids: token_batch(device, BATCH, LEN, config.vocab_size as i64),
        token_type_ids: Tensor::zeros([BATCH, LEN], device),
        attention_mask: Tensor::ones([BATCH, LEN], device),
    })
}

/// Student train steps per second × batch, on `backend`.
fn student_train(backend: Backend) -> f64 {
    let (model, config, device) = student(backend);
    let mut optim = AdamWConfig::new().with_weight_decay(0.01).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let batch = student_batch(&device, &config);
    let targets = Tensor::<1, Int>::from_data(
        TensorData::new(
            (0..BATCH as i64).map(|i| i % 3).collect::<Vec<_>>(),
            [BATCH],
        ),
        &device,
    );
    let mut model = Some(model);
    examples_per_second(&device, BATCH, steps(), || {
        let m = model
            .take()
            .expect("the model is put back after every step");
        let loss = loss_fn.forward(m.forward(&batch), targets.clone());
        let _ = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        model = Some(optim.step(5e-5, m, grads));
    })
}

/// Where the flex student step spends its time: dropout masks, forward only (no autodiff) and
/// forward+backward; examples/s of each. (A forward on the autodiff device that is never
/// followed by a backward costs several times a normal one in burn 0.22, so it is not timed
/// alone: the trainer always runs the backward.)
fn student_breakdown(backend: Backend) -> [(&'static str, f64); 3] {
    let (model, config, device) = student(backend);
    let plain = device.clone().without_autodiff();
    let time = |on: &Device, f: &dyn Fn()| examples_per_second(on, BATCH, steps(), f);
    let valid = model.valid();
    let plain_batch = student_batch(&plain, &config);
    let forward = time(&plain, &|| {
        let _ = valid.forward(&plain_batch).sum().into_scalar::<f32>();
    });
    let ad_batch = student_batch(&device, &config);
    let forward_backward = time(&device, &|| {
        let loss = model.forward(&ad_batch).sum();
        let _ = GradientsParams::from_grads(loss.backward(), &model);
    });
    // The dropout masks one training step draws (prism's host stream, `dropout.rs`), counted
    // on a real step: attention probabilities, two hidden dropouts per block, embeddings.
    model.seed_dropout(0);
    drop(model.forward(&ad_batch).sum().backward());
    let per_step = model.dropout_values_drawn() as usize;
    assert!(per_step > 0, "a training step drew no dropout masks");
    let mut call = 0;
    let masks = examples_per_second(&device, BATCH, steps(), || {
        call += 1;
        std::hint::black_box(keep_mask(0, call, per_step, 0.9));
    });
    [
        ("dropout masks only", masks),
        ("forward, inference", forward),
        ("forward+backward", forward_backward),
    ]
}

/// The same training step in PyTorch on the CPU, if `python3 -c "import torch"` works.
fn torch_student_train() -> Option<f64> {
    let script = root().join("tests/reference/bench_minilm_torch.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(cache().join("models/all-minilm-l6-v2"))
        .arg(BATCH.to_string())
        .arg(LEN.to_string())
        .arg(steps().to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "PyTorch reference not run: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Proxy LM forward+backward examples/s at `batch` sequences of `len` tokens.
fn proxy_forward_backward(backend: Backend, batch: usize, len: usize) -> f64 {
    let device = backend.device().unwrap().autodiff();
    let path = resolve_model("smollm2-135m-instruct", &cache().join("models")).unwrap();
    let lm = LanguageModel::load_path(&path, &device).unwrap();
    let vocab = lm.model.config.vocab_size as i64;
    let ids = token_batch(&device, batch, len, vocab);
    let mask = Tensor::<2>::ones([batch, len], &device);
    examples_per_second(&device, batch, steps().min(3), || {
        let loss = lm.model.masked_loss(ids.clone(), mask.clone()).sum();
        drop(loss.backward());
    })
}

fn main() {
    prism_models::allocator::tune_for_tensors();
    // `cargo bench` passes `--bench`; nothing else is parsed.
    let mut report = serde_json::Map::new();
    let mut lines = Vec::new();
    let compiled: Vec<Backend> = [Backend::Flex, Backend::Tch]
        .into_iter()
        .filter(|b| b.is_compiled())
        .collect();
    let mut train_rates = Vec::new();
    for &b in &compiled {
        let eps = student_train(b);
        train_rates.push((b, eps));
        lines.push(format!(
            "student train step (MiniLM-L6 + head, batch {BATCH}, length {LEN}) on {b}: {eps:.1} examples/s"
        ));
        report.insert(format!("student_train_{b}_examples_per_s"), eps.into());
    }
    for (what, eps) in student_breakdown(Backend::Flex) {
        lines.push(format!("  flex student {what}: {eps:.1} examples/s"));
        report.insert(
            format!(
                "student_flex_{}_examples_per_s",
                what.replace([',', ' ', '+'], "_")
            ),
            eps.into(),
        );
    }
    match torch_student_train() {
        Some(torch) => {
            lines.push(format!(
                "same step in PyTorch {} (CPU): {torch:.1} examples/s",
                torch_version().unwrap_or_default(),
            ));
            report.insert("student_train_pytorch_examples_per_s".into(), torch.into());
            for &(b, eps) in &train_rates {
                lines.push(format!("  {b} / PyTorch = {:.2} (goal ≥ 0.8)", eps / torch));
                report.insert(
                    format!("student_train_{b}_over_pytorch"),
                    (eps / torch).into(),
                );
            }
        }
        None => lines.push("PyTorch is not installed: no PyTorch ratio in this run".into()),
    }
    for &b in &compiled {
        for (batch, len) in [(1, 100), (8, 100)] {
            let eps = proxy_forward_backward(b, batch, len);
            lines.push(format!(
                "SmolLM2-135M forward+backward, batch {batch} × {len} tokens on {b}: {eps:.2} examples/s"
            ));
            report.insert(
                format!("proxy_fwd_bwd_{b}_b{batch}_l{len}_examples_per_s"),
                eps.into(),
            );
        }
    }
    report.insert(
        "threads".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .into(),
    );
    for l in &lines {
        println!("{l}");
    }
    let out = root().join("results/bench/models.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("written: {}", out.display());
}

fn torch_version() -> Option<String> {
    let out = Command::new(python())
        .args(["-c", "import torch; print(torch.__version__)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
