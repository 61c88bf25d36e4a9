//! Task formats: how a task's seeds become generation prompts, how replies are parsed
//! (strictly: every dropped generation is counted with its reason), and how a candidate's
//! answer or label is checked by self-consistency.
//!
//! - [`math`]: few-shot problems → new problems → n solutions each → majority answer;
//! - [`nli`]: few-shot premise / hypothesis / label triples → n labellings → majority label.

pub mod math;
pub mod nli;

use serde::{Deserialize, Serialize};

/// Why a generation or a candidate was dropped before the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drop {
    /// The request produced no text (the generator's tally says why).
    GenerationFailed,
    /// The reply holds no block in the asked format.
    NoBlock,
    /// A block was opened and never closed.
    Unterminated,
    /// A block is empty or lacks a field.
    Incomplete,
    /// More blocks than asked for (the extra ones are dropped).
    Extra,
    /// A label outside the task's labels.
    BadLabel,
    /// No solution or labelling gave a parseable answer.
    NoAnswer,
    /// No answer or label reached the vote threshold, or the top two tied.
    NoAgreement,
}

/// The blocks between `open` and `close` tags in `reply`, in order, each trimmed, with the
/// reasons for what could not be read. Text outside the blocks is ignored.
pub(crate) fn tagged_blocks(reply: &str, open: &str, close: &str) -> (Vec<String>, Vec<Drop>) {
    let mut blocks = Vec::new();
    let mut drops = Vec::new();
    let mut rest = reply;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        // A block ends at its closing tag, or is cut short by the next opening tag.
        let end = after.find(close);
        let next_open = after.find(open);
        match end {
            Some(e) if next_open.is_none_or(|o| e < o) => {
                let body = after[..e].trim();
                if body.is_empty() {
                    drops.push(Drop::Incomplete);
                } else {
                    blocks.push(body.to_string());
                }
                rest = &after[e + close.len()..];
            }
            _ => {
                drops.push(Drop::Unterminated);
                match next_open {
                    Some(o) => rest = &after[o..],
                    None => break,
                }
            }
        }
    }
    if blocks.is_empty() && drops.is_empty() {
        drops.push(Drop::NoBlock);
    }
    (blocks, drops)
}

/// The most frequent of `votes` when it has at least `min_votes` and no other value has as
/// many; the values in first-seen order break nothing (a tie is no agreement).
pub(crate) fn plurality<T: PartialEq + Clone>(
    votes: &[T],
    min_votes: usize,
) -> Result<(T, usize), Drop> {
    if votes.is_empty() {
        return Err(Drop::NoAnswer);
    }
    let mut counts: Vec<(T, usize)> = Vec::new();
    for v in votes {
        match counts.iter_mut().find(|(u, _)| u == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v.clone(), 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max().expect("non-empty");
    let mut top = counts.into_iter().filter(|(_, n)| *n == best);
    let winner = top.next().expect("one has the maximum");
    if top.next().is_some() || best < min_votes.max(1) {
        return Err(Drop::NoAgreement);
    }
    Ok(winner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_read_strictly() {
        let (b, d) = tagged_blocks("x <p> one </p> y <p>two</p>", "<p>", "</p>");
        assert_eq!((b, d), (vec!["one".to_string(), "two".into()], vec![]));
        let (b, d) = tagged_blocks("<p>one <p>two</p><p>  </p><p>three", "<p>", "</p>");
        assert_eq!(b, ["two"]);
        assert_eq!(
            d,
            [Drop::Unterminated, Drop::Incomplete, Drop::Unterminated]
        );
        assert_eq!(tagged_blocks("no tags", "<p>", "</p>").1, [Drop::NoBlock]);
    }

    #[test]
    fn plurality_needs_the_threshold_and_no_tie() {
        assert_eq!(plurality(&[1, 2, 1], 2), Ok((1, 2)));
        assert_eq!(plurality(&[1, 2, 3], 2), Err(Drop::NoAgreement));
        assert_eq!(
            plurality(&[1, 2, 3], 1),
            Err(Drop::NoAgreement),
            "a three-way tie"
        );
        assert_eq!(plurality(&[1, 1, 2, 2], 2), Err(Drop::NoAgreement));
        assert_eq!(plurality(&[5], 1), Ok((5, 1)));
        assert_eq!(plurality::<u8>(&[], 1), Err(Drop::NoAnswer));
    }
}
