//! The one leniency Docker Compose's YAML parser has that the YAML 1.2 spec does not:
//! go-yaml (a libyaml port) and PyYAML do not check indentation inside a flow
//! collection or a multi-line quoted scalar, so
//!
//! ```yaml
//! services:
//!   web:
//!     command: [
//!       "serve",
//!     ]
//! ```
//!
//! is accepted there, while the spec (8.2.3: "flow nodes must be indented by at least
//! one more space than the parent block collection") and yaml-rust2's scanner refuse
//! the `]`. This module re-indents such continuation lines so the strict scanner
//! accepts them. It changes no value: leading white space on a continuation line
//! inside a flow collection or a quoted scalar is folded away by every YAML parser.
//! [`Shifts`] maps offsets in the re-indented text back to the user's text, so every
//! span and error still points at what the user wrote.
//!
//! Pure text work: no parser state, no I/O. The caller (`yaml.rs`) decides where a
//! region starts, from the scanner's tokens.

use std::collections::BTreeMap;

/// Spaces inserted at line starts, keyed by the line's offset in the original text.
#[derive(Debug, Default, Clone)]
pub(super) struct Shifts {
    /// `(offset in the relaxed text where the run starts, run length, bytes inserted
    /// before it)`, sorted.
    runs: Vec<(usize, usize, usize)>,
    by_original: BTreeMap<usize, usize>,
}

impl Shifts {
    /// The original offset of relaxed offset `i` (inside an inserted run: the line start).
    pub(super) fn to_original(&self, i: usize) -> usize {
        let at = self.runs.partition_point(|(start, _, _)| *start <= i);
        let Some(&(start, len, before)) = at.checked_sub(1).and_then(|k| self.runs.get(k)) else {
            return i;
        };
        if i < start + len {
            start - before
        } else {
            i - before - len
        }
    }

    /// Records one round of insertions: `(relaxed offset of a line start, spaces)`,
    /// offsets taken in the text as it was before the round. One rebuild per round,
    /// so a region of many lines costs `n log n`, not `n²`.
    fn record(&mut self, inserts: &[(usize, usize)]) {
        for &(at, count) in inserts {
            let original = self.to_original(at);
            *self.by_original.entry(original).or_default() += count;
        }
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let mut before = 0;
        self.runs = self
            .by_original
            .iter()
            .map(|(&orig, &len)| {
                let run = (orig + before, len, before);
                before += len;
                run
            })
            .collect();
    }
}

/// Lexer state inside a region.
#[derive(Clone, Copy, PartialEq)]
enum In {
    Flow,
    Double,
    Single,
}

/// Whether `b` at `i` can start a flow collection or a quoted scalar: at the start of a
/// node (after `: `, `- `, `? `, a flow indicator, or only white space on the line).
fn starts_node(bytes: &[u8], i: usize) -> bool {
    let mut j = i;
    while j > 0 && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    if j == 0 || bytes[j - 1] == b'\n' {
        return true;
    }
    let before_ws = j < i;
    match bytes[j - 1] {
        b'[' | b'{' | b',' => true,
        b':' | b'-' | b'?' => before_ws,
        _ => false,
    }
}

/// The outermost flow collection or quoted scalar that is open at `end`, lexing from
/// `from` (where no region is open). `None` when nothing is open there.
pub(super) fn open_region(text: &str, from: usize, end: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let end = end.min(bytes.len());
    let mut i = from.min(end);
    while i < end {
        match bytes[i] {
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                while i < end && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'[' | b'{' | b'"' | b'\'' if starts_node(bytes, i) => match region_end(bytes, i) {
                Some(close) if close < end => i = close,
                _ => return Some(i),
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the byte that closes the region opening at `start`.
fn region_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut state = match bytes[start] {
        b'"' => In::Double,
        b'\'' => In::Single,
        _ => In::Flow,
    };
    let quoted_only = state != In::Flow;
    let mut depth = 0usize;
    let mut i = start + usize::from(quoted_only);
    while i < bytes.len() {
        let b = bytes[i];
        match state {
            In::Double => match b {
                b'\\' => i += 1,
                b'"' if quoted_only => return Some(i),
                b'"' => state = In::Flow,
                _ => {}
            },
            In::Single => match b {
                b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 1,
                b'\'' if quoted_only => return Some(i),
                b'\'' => state = In::Flow,
                _ => {}
            },
            In::Flow => match b {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i);
                    }
                }
                b'"' if starts_node(bytes, i) => state = In::Double,
                b'\'' if starts_node(bytes, i) => state = In::Single,
                b'#' if matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// The column a continuation line of a region opened on the line holding `start` must
/// reach: one past the line's indentation and its `- ` / `? ` indicators.
fn needed_column(bytes: &[u8], start: usize) -> usize {
    let line_start = bytes[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let mut i = line_start;
    loop {
        while i < start && bytes[i] == b' ' {
            i += 1;
        }
        if i + 1 < start && matches!(bytes[i], b'-' | b'?') && bytes[i + 1] == b' ' {
            i += 1;
        } else {
            break;
        }
    }
    i - line_start + 1
}

/// Re-indents every continuation line of the region opening at relaxed offset `start`
/// that sits left of the column the strict scanner needs. Returns `false` when no line
/// needed it (the error at hand is then a real one).
pub(super) fn widen(text: &mut String, shifts: &mut Shifts, start: usize) -> bool {
    let bytes = text.as_bytes();
    if start >= bytes.len() {
        return false;
    }
    let need = needed_column(bytes, start);
    let end = region_end(bytes, start).unwrap_or(bytes.len());
    let mut inserts = Vec::new();
    let mut line = bytes[start..end]
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| start + p + 1);
    while let Some(ls) = line.filter(|&ls| ls <= end) {
        let indent = bytes[ls..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let blank = matches!(bytes.get(ls + indent), None | Some(b'\n' | b'\r'));
        if !blank && indent < need {
            inserts.push((ls, need - indent));
        }
        line = bytes[ls..end]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| ls + p + 1);
    }
    if inserts.is_empty() {
        return false;
    }
    // One pass over the text, not one `insert_str` per line.
    let mut out = String::with_capacity(text.len() + inserts.iter().map(|i| i.1).sum::<usize>());
    let mut from = 0;
    for &(at, count) in &inserts {
        out.push_str(&text[from..at]);
        out.extend(std::iter::repeat_n(' ', count));
        from = at;
    }
    out.push_str(&text[from..]);
    *text = out;
    shifts.record(&inserts);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_bracket_is_moved_right_and_offsets_map_back() {
        let original = "a:\n  b: [\n    x\n  ]\nc: 1\n";
        let mut text = original.to_string();
        let mut shifts = Shifts::default();
        let start = original.find('[').unwrap();
        assert!(widen(&mut text, &mut shifts, start));
        assert_eq!(text, "a:\n  b: [\n    x\n   ]\nc: 1\n");
        let relaxed_c = text.find("c:").unwrap();
        assert_eq!(shifts.to_original(relaxed_c), original.find("c:").unwrap());
        let relaxed_close = text.find(']').unwrap();
        assert_eq!(
            shifts.to_original(relaxed_close),
            original.find(']').unwrap()
        );
        let again = text.find('[').unwrap();
        assert!(!widen(&mut text, &mut shifts, again));
    }

    #[test]
    fn brackets_in_quotes_and_comments_do_not_count() {
        let text = "a: [ \"]\", '[' # ]\n  , x ]\nb: 2\n";
        assert_eq!(
            region_end(text.as_bytes(), 3),
            text.rfind(" ]\n").map(|p| p + 1)
        );
        assert_eq!(open_region(text, 0, text.len()), None);
        assert_eq!(open_region("k: v[1]\nm: [\n", 0, 12), Some(11));
    }

    #[test]
    fn sequence_entries_count_as_indentation() {
        assert_eq!(needed_column(b"  - - [", 6), 7);
        assert_eq!(needed_column(b"  key: [", 7), 3);
    }
}
