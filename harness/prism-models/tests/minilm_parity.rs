//! MiniLM in burn against the numpy float64 forward pass of `tests/reference/
//! minilm_reference.py`: same token ids, pooled embeddings within 1e-4.

mod common;

use burn::prelude::*;
use prism_models::EncoderFiles;
use prism_models::bert::mean_pool;
use prism_models::tokenize::Encoded;

fn as_u32(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn minilm_pooled_embeddings_match_numpy_reference() {
    let fixture = common::fixture("minilm_fixture.json");
    let dir = common::model_dir("all-minilm-l6-v2");
    let device = common::backend().device().unwrap();
    let max_len = fixture["max_len"].as_u64().unwrap() as usize;
    let (bert, _, tokenizer) = EncoderFiles::in_dir(&dir)
        .unwrap()
        .load(max_len, &device)
        .unwrap();
    let bert = bert.valid();

    let inputs = fixture["inputs"].as_array().unwrap();
    let mut encoded = Vec::new();
    for input in inputs {
        let e = if let Some(pair) = input.get("pair") {
            let (a, b) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            tokenizer.encode_pairs(&[(a, b)]).unwrap()
        } else {
            tokenizer
                .encode(&[input["text"].as_str().unwrap()])
                .unwrap()
        };
        encoded.extend(e);
    }
    for (i, e) in encoded.iter().enumerate() {
        let expected = Encoded {
            ids: as_u32(&fixture["token_ids"][i]),
            type_ids: as_u32(&fixture["type_ids"][i]),
        };
        assert_eq!(e, &expected, "tokenisation of input {i}");
    }

    let all: Vec<usize> = (0..encoded.len()).collect();
    let batch = tokenizer.batch(&encoded, &all, &device);
    let pooled = mean_pool(bert.forward(&batch), batch.attention_mask.clone());
    let got: Vec<f32> = pooled.into_data().try_into_vec::<f32>().unwrap();
    let want: Vec<f64> = fixture["pooled"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect();
    let diff = common::max_abs_diff(&got, &want);
    assert!(diff < 1e-4, "max abs difference {diff:e} ≥ 1e-4");
    eprintln!(
        "MiniLM pooled embeddings: max abs difference {diff:e} over {} values",
        got.len()
    );
}
