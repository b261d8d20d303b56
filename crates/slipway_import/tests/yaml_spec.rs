//! The YAML reader on the YAML 1.2.2 spec's own examples (flow collections, block
//! scalars with indicators, anchors, multi-line flow), the merge key type
//! (yaml.org/type/merge.html) and the shapes Docker Compose's parser accepts beyond the
//! spec (a flow collection closed at its key's indentation). Each must parse, and the
//! values are asserted, not just the absence of an error.

use slipway_diagnostics::SourceFile;
use slipway_import::yaml::{parse, Budget, Node, Value};

fn docs(text: &str) -> Vec<Node> {
    match parse(&SourceFile::new("t.yaml", text), Budget::default()) {
        Ok(d) => d,
        Err(e) => panic!("{text}\n-> {} {:?}", e.message, e.span),
    }
}

fn one(text: &str) -> Node {
    let mut d = docs(text);
    assert_eq!(d.len(), 1, "{text}");
    d.remove(0)
}

/// A compact rendering: plain scalars bare, quoted and block scalars in Rust debug
/// quotes, `[a, b]` and `{k: v}`.
fn show(n: &Node) -> String {
    match &n.value {
        Value::Scalar { text, plain: true } => text.clone(),
        Value::Scalar { text, plain: false } => format!("{text:?}"),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A mapping's entries sorted by key, for comparing merges regardless of order.
fn sorted(n: &Node) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = n
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, v)| (show(k), show(v)))
        .collect();
    v.sort();
    v
}

#[test]
fn example_2_5_sequence_of_sequences() {
    let n = one(
        "- [name        , hr, avg  ]\n- [Mark McGwire, 65, 0.278]\n- [Sammy Sosa  , 63, 0.288]\n",
    );
    assert_eq!(
        show(&n),
        "[[name, hr, avg], [Mark McGwire, 65, 0.278], [Sammy Sosa, 63, 0.288]]"
    );
}

#[test]
fn example_2_6_mapping_of_mappings() {
    let n = one(
        "Mark McGwire: {hr: 65, avg: 0.278}\nSammy Sosa: {\n    hr: 63,\n    avg: 0.288,\n }\n",
    );
    assert_eq!(
        show(&n),
        "{Mark McGwire: {hr: 65, avg: 0.278}, Sammy Sosa: {hr: 63, avg: 0.288}}"
    );
}

#[test]
fn example_2_10_anchor_and_alias() {
    let n = one("---\nhr:\n- Mark McGwire\n# Following node labeled SS\n- &SS Sammy Sosa\nrbi:\n- *SS # Subsequent occurrence\n- Ken Griffey\n");
    assert_eq!(
        show(&n),
        "{hr: [Mark McGwire, Sammy Sosa], rbi: [Sammy Sosa, Ken Griffey]}"
    );
}

#[test]
fn example_2_13_and_2_15_literal_and_folded() {
    let n = one("--- |\n  \\//||\\/||\n  // ||  ||__\n");
    assert_eq!(n.as_str(), Some("\\//||\\/||\n// ||  ||__\n"));
    let n = one(">\n Sammy Sosa completed another\n fine season with great stats.\n\n   63 Home Runs\n   0.288 Batting Average\n\n What a year!\n");
    assert_eq!(
        n.as_str(),
        Some("Sammy Sosa completed another fine season with great stats.\n\n  63 Home Runs\n  0.288 Batting Average\n\nWhat a year!\n")
    );
}

#[test]
fn example_8_1_block_scalar_headers() {
    let n = one("- | # Empty header\n literal\n- >1 # Indentation indicator\n  folded\n- |+ # Chomping indicator\n keep\n\n- >1- # Both indicators\n  strip\n");
    let items: Vec<&str> = n
        .as_seq()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert_eq!(items, ["literal\n", " folded\n", "keep\n\n", " strip"]);
}

#[test]
fn example_8_4_to_8_6_chomping() {
    let n = one("strip: |-\n  text\nclip: |\n  text\nkeep: |+\n  text\n");
    assert_eq!(
        show(&n),
        r#"{strip: "text", clip: "text\n", keep: "text\n"}"#
    );
    let n = one("strip: >-\n\nclip: >\n\nkeep: |+\n\n");
    assert_eq!(show(&n), r#"{strip: "", clip: "", keep: "\n"}"#);
}

#[test]
fn example_7_14_flow_sequence_entries() {
    let n = one("[\n\"double\n quoted\", 'single\n           quoted',\nplain\n text, [ nested ],\nsingle: pair,\n]\n");
    assert_eq!(
        show(&n),
        r#"["double quoted", "single quoted", plain text, [nested], {single: pair}]"#
    );
}

#[test]
fn example_7_15_flow_mappings() {
    let n = one("- { one : two , three: four , }\n- {five: six,seven : eight}\n");
    assert_eq!(
        show(&n),
        "[{one: two, three: four}, {five: six, seven: eight}]"
    );
}

#[test]
fn example_7_23_flow_content() {
    let n = one("- [ a, b ]\n- { a: b }\n- \"a\"\n- 'b'\n- c\n");
    assert_eq!(show(&n), r#"[[a, b], {a: b}, "a", "b", c]"#);
}

#[test]
fn tags_str_makes_a_string() {
    let n = one("a: !!str 16\nb: 16\n");
    assert_eq!(n.get("a").unwrap().as_str(), Some("16"));
    assert_eq!(n.get("b").unwrap().as_str(), None);
}

/// yaml.org/type/merge.html: "All the following maps are equal".
#[test]
fn merge_key_type_examples_are_equal() {
    let n = one("---
- &CENTER { x: 1, y: 2 }
- &LEFT { x: 0, y: 2 }
- &BIG { r: 10 }
- &SMALL { r: 1 }

# All the following maps are equal:

- # Explicit keys
  x: 1
  y: 2
  r: 10
  label: center/big

- # Merge one map
  << : *CENTER
  r: 10
  label: center/big

- # Merge multiple maps
  << : [ *CENTER, *BIG ]
  label: center/big

- # Override
  << : [ *BIG, *LEFT, *SMALL ]
  x: 1
  label: center/big
");
    let maps = n.as_seq().unwrap();
    let explicit = sorted(&maps[4]);
    assert_eq!(explicit.len(), 4);
    for m in &maps[5..] {
        assert_eq!(sorted(m), explicit, "{}", show(m));
    }
}

#[test]
fn compose_style_merge_keeps_explicit_keys() {
    let text = "x-common: &common\n  restart: always\n  environment: {A: \"1\"}\nservices:\n  api:\n    <<: *common\n    restart: \"no\"\n    image: x\n";
    let n = one(text);
    let api = n.get("services").unwrap().get("api").unwrap();
    assert_eq!(api.get("restart").unwrap().as_str(), Some("no"));
    assert_eq!(show(api.get("environment").unwrap()), r#"{A: "1"}"#);
    assert!(api.get("<<").is_none());
    // A merged key points at where it is written: the anchored mapping.
    let (k, _) = api
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_scalar() == Some("environment"))
        .unwrap();
    assert_eq!(&text[k.span.start..k.span.end], "environment");
    assert_eq!(k.span.start, text.find("environment").unwrap());
}

#[test]
fn quoted_merge_key_is_an_ordinary_key() {
    let n = one("base: &b {a: 1}\nm:\n  \"<<\": *b\n");
    assert_eq!(show(n.get("m").unwrap()), r#"{"<<": {a: 1}}"#);
}

#[test]
fn merge_of_a_scalar_is_a_located_error() {
    let text = "m:\n  <<: 1\n";
    let e = parse(&SourceFile::new("t.yaml", text), Budget::default()).unwrap_err();
    assert_eq!(e.rule_id, "SPEC001");
    assert!(e.message.contains("merge key"), "{}", e.message);
    let s = e.span.unwrap();
    assert_eq!(&text[s.start..s.end], "1");
}

#[test]
fn a_repeated_key_is_a_located_error() {
    let text = "services:\n  a:\n    image: x\n    image: y\n";
    let e = parse(&SourceFile::new("t.yaml", text), Budget::default()).unwrap_err();
    assert!(e.message.contains("`image` appears twice"), "{}", e.message);
    assert_eq!(e.span.unwrap().start, text.rfind("image").unwrap());
}

/// Docker Compose (go-yaml), PyYAML and ruamel accept a flow collection whose closing
/// bracket, or whose entries, sit at (or left of) the parent key's indentation.
#[test]
fn flow_collections_closed_at_the_parent_indentation() {
    let text = "services:\n  web:\n    command: [\n      \"serve\",\n      \"--port\", \"80\"\n    ]\n    environment: {\n      A: 1,\n    B: \"two\n  lines\"\n    }\n    image: x\n";
    let n = one(text);
    let web = n.get("services").unwrap().get("web").unwrap();
    assert_eq!(
        show(web.get("command").unwrap()),
        r#"["serve", "--port", "80"]"#
    );
    assert_eq!(
        show(web.get("environment").unwrap()),
        r#"{A: 1, B: "two lines"}"#
    );
    // Spans still point into the user's text, after the re-indented lines too.
    let image = web.get("image").unwrap();
    assert_eq!(&text[image.span.start..image.span.end], "x");
    assert_eq!(image.span.start, text.rfind('x').unwrap());
    let cmd = web.get("command").unwrap();
    assert_eq!(cmd.span.start, text.find('[').unwrap());
}

#[test]
fn flow_entries_at_column_zero_and_nested() {
    // yaml-test-suite 9C9N, which go-yaml and PyYAML accept.
    let n = one("---\nflow: [a,\nb,\nc]\n");
    assert_eq!(show(&n), "{flow: [a, b, c]}");
    let n = one("a:\n  - [\n  1, {x: [\n2]},\n  ]\n  - b\n");
    assert_eq!(show(&n), "{a: [[1, {x: [2]}], b]}");
}

#[test]
fn a_multi_line_quoted_scalar_left_of_its_key() {
    let n = one("a:\n  b: \"one\ntwo\"\n  c: d\n");
    assert_eq!(show(&n), r#"{a: {b: "one two", c: d}}"#);
}

#[test]
fn brackets_inside_block_scalars_are_left_alone() {
    let text = "a:\n  script: |\n    echo [\n  b: [\n  1\n  ]\n";
    let n = one(text);
    let a = n.get("a").unwrap();
    assert_eq!(a.get("script").unwrap().as_str(), Some("echo [\n"));
    assert_eq!(show(a.get("b").unwrap()), "[1]");
}

#[test]
fn an_error_after_a_relaxed_region_is_located_in_the_users_text() {
    let text = "a: [\n1\n]\nb: [2\nc: 3\n";
    let e = parse(&SourceFile::new("t.yaml", text), Budget::default()).unwrap_err();
    let s = e.span.unwrap();
    assert!(s.start >= text.find("b:").unwrap(), "{s:?} {}", e.message);
    assert!(s.end <= text.len());
}

#[test]
fn anchors_keep_their_budget_through_merges() {
    let mut text = String::from("a: &a {k0: [x, x, x, x, x, x, x, x, x, x]}\n");
    let mut prev = 'a';
    for c in 'b'..='j' {
        let refs = (0..10)
            .map(|i| format!("m{i}: *{prev}"))
            .collect::<Vec<_>>()
            .join(", ");
        text = format!("{text}{c}: &{c} {{<<: *{prev}, {refs}}}\n");
        prev = c;
    }
    let err = parse(&SourceFile::new("t.yaml", text), Budget::default()).unwrap_err();
    assert!(err.message.contains("YAML nodes"), "{}", err.message);
}

fn no_merge_key_left(n: &Node) {
    match &n.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                assert!(
                    !matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<"),
                    "{:?}",
                    k.span
                );
                no_merge_key_left(v);
            }
        }
        Value::Seq(items) => items.iter().for_each(no_merge_key_left),
        Value::Scalar { .. } => {}
    }
}

/// The YAML fuzz target's seeds for merge keys, anchors and Compose-style flow
/// indentation, replayed: the valid ones parse with every merge applied, the broken
/// ones are refused with a span inside the text. (The whole corpus is also replayed
/// for spans and determinism in `spec_robustness.rs`.)
#[test]
fn fuzz_seeds_for_merges_and_flows_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/yaml_spans");
    let refused = ["seed-merge-bad", "seed-duplicate-key", "seed-flow-unclosed"];
    let mut seen = 0;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [
                "seed-merge-",
                "seed-flow-",
                "seed-anchor-",
                "seed-quoted-",
                "seed-block-",
                "seed-duplicate-",
            ]
            .iter()
            .any(|p| n.starts_with(p))
        })
        .collect();
    names.sort();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let got = parse(
            &SourceFile::new(name.as_str(), text.as_str()),
            Budget::default(),
        );
        seen += 1;
        if refused.contains(&name.as_str()) {
            let e = got.expect_err(name);
            let s = e.span.unwrap();
            assert!(s.start <= s.end && s.end <= text.len(), "{name}: {s:?}");
        } else {
            let docs = got.unwrap_or_else(|e| panic!("{name}: {} {:?}", e.message, e.span));
            docs.iter().for_each(no_merge_key_left);
        }
    }
    assert!(seen >= 15, "only {seen} seeds");
}

/// Every line of one long flow list sits at column 0: one re-indenting round covers
/// them all, and spans still point at the user's lines.
#[test]
fn a_long_flow_list_left_of_its_key_parses_whole() {
    let count = 20_000;
    let mut text = String::from("list: [\n");
    for i in 0..count {
        text.push_str("item");
        text.push_str(&i.to_string());
        text.push_str(",\n");
    }
    text.push_str("]\nafter: 1\n");
    let doc = one(&text);
    let list = doc.get("list").unwrap().as_seq().unwrap();
    assert_eq!(list.len(), count);
    let final_item = &list[count - 1];
    assert_eq!(
        &text[final_item.span.start..final_item.span.end],
        format!("item{}", count - 1)
    );
    let after = doc.get("after").unwrap();
    assert_eq!(after.span.start, text.rfind('1').unwrap());
}
