//! A Dockerfile parser that keeps positions: logical instructions (line
//! continuations joined, heredoc bodies attached), their stage, and comments.

use slipway_diagnostics::{SourceFile, Span};

#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper-cased keyword (`RUN`, `FROM`, ...).
    pub keyword: String,
    /// The arguments as one line (continuations joined with a space).
    pub args: String,
    /// From the keyword to the end of the last physical line.
    pub span: Span,
    /// Span of the keyword alone.
    pub keyword_span: Span,
    /// 1-based first line.
    pub line: usize,
    /// Index of the stage this instruction belongs to (`None` before the first FROM).
    pub stage: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub image: String,
    pub name: Option<String>,
    /// Index of its FROM instruction.
    pub from: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// `(1-based line, text after '#')` for comment lines.
    pub comments: Vec<(usize, String)>,
}

impl Dockerfile {
    /// The instructions of one stage.
    pub fn stage_instructions(&self, stage: usize) -> impl Iterator<Item = &Instruction> {
        self.instructions
            .iter()
            .filter(move |i| i.stage == Some(stage))
    }

    /// Flags such as `--from=build` or `--mount=type=cache` at the start of `args`.
    #[must_use]
    pub fn flags(args: &str) -> Vec<(&str, &str)> {
        args.split_whitespace()
            .take_while(|w| w.starts_with("--"))
            .map(|w| w[2..].split_once('=').unwrap_or((&w[2..], "")))
            .collect()
    }

    /// `args` without its leading `--flag` words.
    #[must_use]
    pub fn without_flags(args: &str) -> &str {
        let mut rest = args.trim_start();
        while rest.starts_with("--") {
            rest = rest
                .split_once(char::is_whitespace)
                .map_or("", |(_, r)| r.trim_start());
        }
        rest
    }
}

/// Parses `file`. Unknown keywords are kept (a rule may report them); nothing fails.
#[must_use]
pub fn parse(file: &SourceFile) -> Dockerfile {
    let text = &file.text;
    let mut df = Dockerfile::default();
    let lines: Vec<(usize, &str)> = {
        let mut out = Vec::new();
        let mut offset = 0;
        for l in text.split_inclusive('\n') {
            out.push((offset, l.trim_end_matches(['\n', '\r'])));
            offset += l.len();
        }
        out
    };
    let mut i = 0;
    while i < lines.len() {
        let (start, raw) = lines[i];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() {
            i += 1;
            continue;
        }
        if let Some(c) = trimmed.strip_prefix('#') {
            df.comments.push((i + 1, c.trim().to_string()));
            i += 1;
            continue;
        }
        let first_line = i + 1;
        let indent = raw.len() - trimmed.len();
        let kw_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let keyword = trimmed[..kw_len].to_ascii_uppercase();
        let mut args = trimmed[kw_len..].trim().to_string();
        let mut end = start + raw.len();
        // Line continuations (comment lines inside them are skipped, as Docker does).
        while args.ends_with('\\') && i + 1 < lines.len() {
            i += 1;
            let (s, next) = lines[i];
            if next.trim_start().starts_with('#') || next.trim().is_empty() {
                continue;
            }
            args.pop();
            args = format!("{} {}", args.trim_end(), next.trim());
            end = s + next.len();
        }
        // Heredocs: `<<EOF` / `<<-EOF` / `<<"EOF"`; the body belongs to the instruction.
        if let Some(pos) = args.find("<<") {
            let marker: String = args[pos + 2..]
                .trim_start_matches('-')
                .trim_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !marker.is_empty() {
                while i + 1 < lines.len() {
                    i += 1;
                    let (s, body) = lines[i];
                    end = s + body.len();
                    if body.trim() == marker {
                        break;
                    }
                    args.push('\n');
                    args.push_str(body);
                }
            }
        }
        let kw_start = start + indent;
        if keyword == "FROM" {
            let words: Vec<&str> = Dockerfile::without_flags(&args)
                .split_whitespace()
                .collect();
            let name = (words.len() >= 3 && words[1].eq_ignore_ascii_case("as"))
                .then(|| words[2].to_string());
            df.stages.push(Stage {
                image: words.first().copied().unwrap_or("").to_string(),
                name,
                from: df.instructions.len(),
            });
        }
        let stage = df.stages.len().checked_sub(1);
        df.instructions.push(Instruction {
            keyword,
            args,
            span: Span::new(kw_start, end),
            keyword_span: Span::new(kw_start, kw_start + kw_len),
            line: first_line,
            stage,
        });
        i += 1;
    }
    df
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stages_continuations_heredocs() {
        let text = "# top\nARG V=1\nFROM python:3.12 AS base\nRUN apt-get update \\\n    # inside\n    && apt-get install -y x\nFROM base\nCOPY --from=base /a /b\nRUN <<EOF\necho hi\nEOF\nCMD [\"x\"]\n";
        let f = SourceFile::new("Dockerfile", text);
        let df = parse(&f);
        let kws: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(kws, ["ARG", "FROM", "RUN", "FROM", "COPY", "RUN", "CMD"]);
        assert_eq!(
            df.instructions[2].args,
            "apt-get update && apt-get install -y x"
        );
        assert_eq!(df.instructions[2].line, 4);
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].name.as_deref(), Some("base"));
        assert_eq!(df.instructions[0].stage, None);
        assert_eq!(
            Dockerfile::flags(&df.instructions[4].args),
            vec![("from", "base")]
        );
        assert!(df.instructions[5].args.contains("echo hi"));
        assert_eq!(df.instructions[6].line, 12);
        assert_eq!(
            &text[df.instructions[6].keyword_span.start..df.instructions[6].keyword_span.end],
            "CMD"
        );
    }
}
