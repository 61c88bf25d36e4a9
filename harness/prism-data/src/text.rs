//! Text helpers shared by subset features and lexical diversity metrics: one tokenizer and one
//! n-gram hashing, so "a word" means the same thing everywhere.

use prism_vendi::Features;

/// Lower-cased alphanumeric word tokens.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The n-grams of `tokens`, each joined by a space.
pub fn ngrams(tokens: &[String], n: usize) -> impl Iterator<Item = String> + '_ {
    tokens.windows(n.max(1)).map(|w| w.join(" "))
}

/// FNV-1a: a fixed, platform-independent 64-bit hash (std's hasher is randomly seeded).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Signed feature hashing (Weinberger et al., 2009) of the n-grams of each text for every n in
/// `orders`, into `dim` columns; rows L2-normalised.
pub fn hashed_ngram_features<S: AsRef<str>>(texts: &[S], orders: &[usize], dim: usize) -> Features {
    let mut data = vec![0f32; texts.len() * dim];
    for (i, text) in texts.iter().enumerate() {
        let row = &mut data[i * dim..(i + 1) * dim];
        let toks = tokens(text.as_ref());
        for &n in orders {
            for gram in ngrams(&toks, n) {
                let h = fnv1a(gram.as_bytes());
                let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
                row[(h % dim as u64) as usize] += sign;
            }
        }
    }
    let mut f = Features::new(data, texts.len(), dim);
    f.l2_normalize();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_ngrams() {
        let t = tokens("The cat, the CAT!");
        assert_eq!(t, vec!["the", "cat", "the", "cat"]);
        assert_eq!(
            ngrams(&t, 2).collect::<Vec<_>>(),
            vec!["the cat", "cat the", "the cat"]
        );
        // FNV-1a test vector.
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
    }
}
