//! Final answers of math problems, compared as exact rationals.
//!
//! A solution's final answer is the text after its last `#### ` marker, else inside its last
//! `\boxed{…}`, else its last number. Two answers agree when both parse to the same rational:
//! thousands separators, a leading `+`, currency signs, trailing zeros (`3.50` = `3.5`),
//! fractions (`6/8` = `3/4` = `0.75`), mixed numbers (`1 1/2`), percent (`50%` = `1/2`) and
//! LaTeX `\frac{a}{b}` / `$…$` wrappers are all understood. Text that holds no number is
//! compared as trimmed, case-folded text.

use num_rational::BigRational;
use num_traits::Zero;

/// An answer reduced to what comparison needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Answer {
    /// An exact number.
    Number(BigRational),
    /// Anything else, trimmed and lower-cased.
    Text(String),
}

impl Answer {
    /// Parses one answer string (already extracted from its solution).
    pub fn parse(text: &str) -> Self {
        let cleaned = clean(text);
        match parse_number(&cleaned) {
            Some(n) => Answer::Number(n),
            None => Answer::Text(cleaned.to_lowercase()),
        }
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Number(n) if n.is_integer() => write!(f, "{}", n.numer()),
            Answer::Number(n) => write!(f, "{}/{}", n.numer(), n.denom()),
            Answer::Text(t) => f.write_str(t),
        }
    }
}

/// Whether two answer strings denote the same answer.
pub fn same_answer(a: &str, b: &str) -> bool {
    Answer::parse(a) == Answer::parse(b)
}

/// The final answer a solution gives: after the last `#### `, else inside the last
/// `\boxed{…}`, else its last number; `None` when it has none of these.
pub fn final_answer(solution: &str) -> Option<String> {
    if let Some(i) = solution.rfind("####") {
        let rest = solution[i + 4..].trim();
        let line = rest.lines().next().unwrap_or("").trim();
        if !line.is_empty() {
            return Some(line.to_string());
        }
    }
    if let Some(inner) = last_boxed(solution) {
        return Some(inner);
    }
    last_number(solution)
}

/// The normalised final answer of `solution` (see [`final_answer`]).
pub fn solution_answer(solution: &str) -> Option<Answer> {
    final_answer(solution).map(|a| Answer::parse(&a))
}

/// Content of the last `\boxed{…}`, braces balanced.
fn last_boxed(text: &str) -> Option<String> {
    let start = text.rfind("\\boxed{")? + "\\boxed{".len();
    let mut depth = 1usize;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(text[start..start + i].trim().to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// The last number-like token (digits with optional sign, separators, decimals, fraction or
/// percent) of `text`.
fn last_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut end = chars.len();
    while end > 0 && !chars[end - 1].is_ascii_digit() {
        end -= 1;
    }
    if end == 0 {
        return None;
    }
    let mut start = end;
    while start > 0 {
        let c = chars[start - 1];
        let inside_digits = start >= 2 && chars[start - 2].is_ascii_digit();
        if c.is_ascii_digit() || (matches!(c, ',' | '.' | '/') && inside_digits) {
            start -= 1;
        } else {
            break;
        }
    }
    if start > 0 && chars[start - 1] == '-' {
        start -= 1;
    }
    let percent = chars.get(end) == Some(&'%');
    let mut token: String = chars[start..end].iter().collect();
    if percent {
        token.push('%');
    }
    Some(token)
}

/// Strips wrappers that never change the value: `$`, `\(…\)`, `\text{…}`, currency signs,
/// spaces inside digit groups, a trailing full stop.
fn clean(text: &str) -> String {
    let mut s = text.trim().to_string();
    for wrapper in ["\\(", "\\)", "\\[", "\\]", "$", "\\!", "\\,", "\\%"] {
        s = s.replace(wrapper, if wrapper == "\\%" { "%" } else { "" });
    }
    if let Some(inner) = s.strip_prefix("\\text{").and_then(|r| r.strip_suffix('}')) {
        s = inner.to_string();
    }
    s = s.replace(['£', '€', '¥'], "");
    let s = s.trim().trim_end_matches('.').trim();
    s.to_string()
}

/// An exact rational for `s`, or `None` when it is not a plain number.
fn parse_number(s: &str) -> Option<BigRational> {
    let s = s.trim();
    if let Some(body) = s.strip_suffix('%') {
        return parse_number(body).map(|n| n / BigRational::from_integer(100.into()));
    }
    if let Some(rest) = s
        .strip_prefix("\\frac{")
        .or_else(|| s.strip_prefix("\\dfrac{"))
    {
        let (num, rest) = rest.split_once('}')?;
        let den = rest.strip_prefix('{')?.strip_suffix('}')?;
        return divide(parse_number(num)?, parse_number(den)?);
    }
    if let Some(rest) = s.strip_prefix('-') {
        return parse_number(rest).map(|n| -n);
    }
    if let Some(rest) = s.strip_prefix('+') {
        return parse_number(rest);
    }
    // A mixed number: `1 1/2`.
    if let Some((whole, frac)) = s.split_once(' ')
        && frac.contains('/')
        && !whole.contains('/')
    {
        return Some(parse_number(whole)? + parse_number(frac)?);
    }
    if let Some((num, den)) = s.split_once('/') {
        return divide(parse_number(num)?, parse_number(den)?);
    }
    parse_decimal(s)
}

fn divide(num: BigRational, den: BigRational) -> Option<BigRational> {
    (!den.is_zero()).then(|| num / den)
}

/// `1,234.500` → 1234.5; digits with at most one point and well-placed thousands commas.
fn parse_decimal(s: &str) -> Option<BigRational> {
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    let well_grouped = groups.len() == 1
        || (groups[0].len() <= 3
            && !groups[0].is_empty()
            && groups[1..].iter().all(|g| g.len() == 3));
    if !well_grouped {
        return None;
    }
    let digits: String = groups.concat();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let all = format!("{digits}{frac_part}");
    let numer: num_bigint::BigInt = if all.is_empty() {
        return None;
    } else {
        all.parse().ok()?
    };
    let denom = num_bigint::BigInt::from(10u32).pow(frac_part.len() as u32);
    Some(BigRational::new(numer, denom))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_final_answer_by_marker_box_or_last_number() {
        assert_eq!(final_answer("2+2=4\n#### 4").as_deref(), Some("4"));
        assert_eq!(
            final_answer("so #### 3 is wrong\nThen 5*2=10\n#### 1,000").as_deref(),
            Some("1,000")
        );
        assert_eq!(
            final_answer("we get \\boxed{\\frac{3}{4}} in the end").as_deref(),
            Some("\\frac{3}{4}")
        );
        assert_eq!(
            final_answer("He pays $12.50 and then 7 more, so 19.50.").as_deref(),
            Some("19.50")
        );
        assert_eq!(final_answer("a loss of -3 dollars").as_deref(), Some("-3"));
        assert_eq!(final_answer("about 45% of them").as_deref(), Some("45%"));
        assert_eq!(final_answer("no numbers here"), None);
    }

    #[test]
    fn numbers_compare_as_exact_rationals() {
        for (a, b) in [
            ("1,000", "1000"),
            ("3.50", "3.5"),
            ("3.0", "3"),
            ("6/8", "0.75"),
            ("\\frac{3}{4}", "3/4"),
            ("50%", "1/2"),
            ("1 1/2", "1.5"),
            ("-0.5", "-1/2"),
            ("+7", "7"),
            ("$244/607$", "244/607"),
            ("£28080", "28080"),
            ("12.", "12"),
            ("\\boxed", "\\boxed"),
        ] {
            assert!(same_answer(a, b), "{a} should equal {b}");
        }
        for (a, b) in [
            ("1,00", "100"),
            ("0.333", "1/3"),
            ("3/4", "4/3"),
            ("10", "100"),
            ("1/0", "0"),
        ] {
            assert!(!same_answer(a, b), "{a} should differ from {b}");
        }
    }

    #[test]
    fn text_answers_fold_case_and_whitespace() {
        assert!(same_answer(" Yes ", "yes"));
        assert!(!same_answer("yes", "no"));
        assert_eq!(Answer::parse("1/0"), Answer::Text("1/0".into()));
    }

    #[test]
    fn displays_integers_and_reduced_fractions() {
        assert_eq!(Answer::parse("6/8").to_string(), "3/4");
        assert_eq!(Answer::parse("1,200.00").to_string(), "1200");
    }
}
