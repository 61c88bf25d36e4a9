//! Task formats: how a task's seeds become generation prompts, how replies are parsed
//! (strictly: every dropped generation is counted with its reason), and how a candidate's
//! answer or label is checked by self-consistency.
//!
//! - [`math`]: few-shot problems → new problems → n solutions each → majority answer;
//! - [`nli`]: few-shot premise / hypothesis / label triples → n labellings → majority label.

pub mod math;
pub mod nli;

use crate::generator::{Finish, Reply};
use serde::{Deserialize, Serialize};

/// Why a generation or a candidate was dropped before the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drop {
    /// The request produced no text (the generator's tally says why).
    GenerationFailed,
    /// The reply holds no block in the asked format.
    NoBlock,
    /// A block was opened and never closed: cut short by the next opening tag, or by the end
    /// of a reply the model did not end itself (the token limit, or an unknown finish).
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

/// What one reply held: the drafts read from it, why the rest was dropped, and how many of
/// its blocks were left open by a model that ended its turn (read as closed, and counted so
/// that a researcher can hold them apart).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<D> {
    /// Drafts read from the reply, in order.
    pub drafts: Vec<D>,
    /// Why the rest was dropped.
    pub drops: Vec<Drop>,
    /// Blocks opened and never closed in a reply whose model ended its turn
    /// ([`Finish::EndOfTurn`]): read up to the end of the reply, as if closed there.
    pub closed_at_end_of_turn: usize,
}

/// The blocks between `open` and `close` tags in `reply`, in order, each trimmed (the drafts
/// are the blocks' bodies), with the reasons for what could not be read. Text outside the
/// blocks is ignored. A last block left open is read to the end of the reply when the model
/// ended its turn there, and is unterminated when the reply was cut at the token limit or its
/// finish is unknown.
pub(crate) fn tagged_blocks(reply: &Reply, open: &str, close: &str) -> Parsed<String> {
    let mut parsed = Parsed {
        drafts: Vec::new(),
        drops: Vec::new(),
        closed_at_end_of_turn: 0,
    };
    fn push(parsed: &mut Parsed<String>, body: &str) {
        let body = body.trim();
        if body.is_empty() {
            parsed.drops.push(Drop::Incomplete);
        } else {
            parsed.drafts.push(body.to_string());
        }
    }
    let mut rest = reply.text.as_str();
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        // A block ends at its closing tag, or is cut short by the next opening tag.
        let end = after.find(close);
        let next_open = after.find(open);
        match (end, next_open) {
            (Some(e), o) if o.is_none_or(|o| e < o) => {
                push(&mut parsed, &after[..e]);
                rest = &after[e + close.len()..];
            }
            (_, Some(o)) => {
                parsed.drops.push(Drop::Unterminated);
                rest = &after[o..];
            }
            (_, None) if reply.finish == Finish::EndOfTurn => {
                parsed.closed_at_end_of_turn += 1;
                push(&mut parsed, after);
                break;
            }
            (_, None) => {
                parsed.drops.push(Drop::Unterminated);
                break;
            }
        }
    }
    if parsed.drafts.is_empty() && parsed.drops.is_empty() {
        parsed.drops.push(Drop::NoBlock);
    }
    parsed
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

    fn blocks(text: &str, finish: Finish) -> (Vec<String>, Vec<Drop>, usize) {
        let p = tagged_blocks(&Reply::new(text, finish), "<p>", "</p>");
        (p.drafts, p.drops, p.closed_at_end_of_turn)
    }

    #[test]
    fn blocks_are_read_strictly() {
        let (b, d, _) = blocks("x <p> one </p> y <p>two</p>", Finish::Unknown);
        assert_eq!((b, d), (vec!["one".to_string(), "two".into()], vec![]));
        let (b, d, _) = blocks("<p>one <p>two</p><p>  </p><p>three", Finish::Unknown);
        assert_eq!(b, ["two"]);
        assert_eq!(
            d,
            [Drop::Unterminated, Drop::Incomplete, Drop::Unterminated]
        );
        assert_eq!(blocks("no tags", Finish::EndOfTurn).1, [Drop::NoBlock]);
    }

    #[test]
    fn a_block_left_open_is_closed_by_the_end_of_the_turn_only() {
        let reply = "<p>one</p> <p>two <p> three\n";
        // Cut at the token limit, or with no finish reported: the last block is truncated.
        for finish in [Finish::TokenLimit, Finish::Unknown] {
            let (b, d, closed) = blocks(reply, finish);
            assert_eq!(b, ["one"], "{finish:?}");
            assert_eq!(d, [Drop::Unterminated, Drop::Unterminated], "{finish:?}");
            assert_eq!(closed, 0);
        }
        // The model ended its turn: the last block runs to the end of the reply; a block cut
        // short by the next opening tag is still unterminated.
        let (b, d, closed) = blocks(reply, Finish::EndOfTurn);
        assert_eq!(b, ["one", "three"]);
        assert_eq!(d, [Drop::Unterminated]);
        assert_eq!(closed, 1);
        // An open block with nothing in it is incomplete, whatever ended the turn.
        let (b, d, closed) = blocks("<p>  ", Finish::EndOfTurn);
        assert!(b.is_empty());
        assert_eq!((d, closed), (vec![Drop::Incomplete], 1));
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
