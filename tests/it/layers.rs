//! The house's floors, read from the source: every `use crate::…`, `super::…`, `self::…` and
//! child-module path in `src/` becomes an edge between two files; the test fails on an import
//! cycle between files and on an edge the layers forbid (DESIGN.md, "Layers").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module by its path below the crate root (`["api", "checkout"]`); the root is `[]`.
type Module = Vec<String>;

struct Source {
    modules: BTreeMap<Module, PathBuf>,
}

impl Source {
    fn read() -> Source {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut modules = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(&root).unwrap().with_extension("");
                    let mut module: Module = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                    if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                        module.pop();
                    }
                    // `main.rs` is the binary: a crate of its own that uses the library by name.
                    if rel == Path::new("main") {
                        continue;
                    }
                    modules.insert(module, path);
                }
            }
        }
        Source { modules }
    }

    /// The file module a path lands in: its longest prefix that is a file.
    fn resolve(&self, path: &[String]) -> Option<Module> {
        (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| self.modules.contains_key(m))
    }

    /// Every file a file refers to.
    fn edges(&self) -> BTreeMap<Module, BTreeSet<Module>> {
        let mut edges = BTreeMap::new();
        for (module, file) in &self.modules {
            let code = production_code(&std::fs::read_to_string(file).unwrap());
            let mut targets = BTreeSet::new();
            for path in paths(&code) {
                let absolute = match path[0].as_str() {
                    "crate" => path[1..].to_vec(),
                    "self" => [module.as_slice(), &path[1..]].concat(),
                    "super" => {
                        let ups = path.iter().take_while(|s| *s == "super").count();
                        if ups > module.len() {
                            continue;
                        }
                        [&module[..module.len() - ups], &path[ups..]].concat()
                    }
                    _ => {
                        let child: Module = [module.as_slice(), &path[..1]].concat();
                        if !self.modules.contains_key(&child) {
                            continue;
                        }
                        [module.as_slice(), &path[..]].concat()
                    }
                };
                if let Some(target) = self.resolve(&absolute)
                    && &target != module
                    && !target.is_empty()
                {
                    targets.insert(target);
                }
            }
            edges.insert(module.clone(), targets);
        }
        edges
    }
}

/// The code without comments, string and char literals, and `#[cfg(test)]` items.
fn production_code(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if rest[0] == 'r' && (rest.get(1) == Some(&'"') || rest.get(1) == Some(&'#')) && !prev_is_word(&chars, i)
        {
            // A raw string r"…" or r#"…"#.
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            if rest.get(1 + hashes) != Some(&'"') {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            i += 2 + hashes;
            while i < chars.len()
                && !(chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|c| **c == '#').count() == hashes)
            {
                i += 1;
            }
            i += 1 + hashes;
            out.push_str("\"\"");
        } else if rest[0] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if rest[0] == '\'' && (rest.get(2) == Some(&'\'') || rest.get(1) == Some(&'\\')) {
            // A char literal ('"', '\n', '\u{2212}'); a lifetime has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    without_test_items(&out)
}

fn prev_is_word(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Drops each item marked `#[cfg(test)]`: up to its `;` or its matching `}`.
fn without_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                let mut depth = 0;
                let mut end = item.len();
                for (j, c) in item[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(semi)) => semi + 1,
            _ => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The module paths a file names: each leaf of its `use` trees, and every path written inline
/// (`crate::db::checkouts::get(…)`, `super::view::lines(…)`, `child::f(…)`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let words: Vec<(usize, &str)> = word_spans(code);
    for (k, (at, word)) in words.iter().enumerate() {
        if *word == "use" {
            let start = at + 3;
            if let Some(end) = code[start..].find(';') {
                expand(&[], &code[start..start + end], &mut out);
            }
            continue;
        }
        // An inline path: a word followed by `::`, not itself after `::`.
        let before = code[..*at].trim_end();
        if before.ends_with("::") || !code[at + word.len()..].starts_with("::") {
            continue;
        }
        let _ = k;
        let mut path = vec![word.to_string()];
        let mut cursor = at + word.len();
        while code[cursor..].starts_with("::") {
            cursor += 2;
            let next: String = code[cursor..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if next.is_empty() {
                break;
            }
            cursor += next.len();
            path.push(next);
        }
        out.push(path);
    }
    out
}

fn word_spans(code: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices() {
        let word = c.is_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, &code[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, &code[s..]));
    }
    spans
}

/// Expands a `use` tree (`a::b::{c, d::{e, f as g}, self}`) into its leaf paths.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let base: Vec<String> =
            tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        let base = [prefix, &base].concat();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut part = String::new();
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if c == ',' && depth == 0 {
                expand(&base, &part, out);
                part.clear();
            } else {
                part.push(c);
            }
        }
        expand(&base, &part, out);
        return;
    }
    let name = tree.split(" as ").next().unwrap_or("").trim();
    if name.is_empty() {
        return;
    }
    let mut path: Vec<String> = [prefix.to_vec(), name.split("::").map(|s| s.trim().to_string()).collect()].concat();
    if path.last().is_some_and(|s| s == "self" || s == "*") {
        path.pop();
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// The strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

/// The floor a file stands on: its top folder (`api`, `web`, …) or, for a file at the top, its name.
fn layer(m: &Module) -> &str {
    m.first().map(String::as_str).unwrap_or("lib")
}

/// Why an edge between two floors is forbidden, if it is.
fn forbidden(from: &str, to: &str) -> Option<&'static str> {
    const ADAPTERS: [&str; 3] = ["api", "web", "console"];
    if from == to {
        return None;
    }
    if to == "app" {
        return Some("nothing imports the composition root");
    }
    if from == "domain" {
        return Some("domain imports nothing of ours");
    }
    if from == "db" && to != "domain" {
        return Some("db imports only domain");
    }
    if from == "i18n" && to != "domain" {
        return Some("i18n imports only domain");
    }
    if from == "payments" && to != "domain" {
        return Some("payments imports only domain");
    }
    if from == "services" && (ADAPTERS.contains(&to)) {
        return Some("services never import the adapters");
    }
    if from == "services" && to == "error" {
        return Some("services know no HTTP: they refuse with services::error, the adapters map it");
    }
    if ADAPTERS.contains(&from) && ADAPTERS.contains(&to) {
        return Some("the adapters never import each other");
    }
    None
}

fn name(m: &Module) -> String {
    if m.is_empty() { "lib".into() } else { m.join("/") }
}

#[test]
fn no_file_sits_in_an_import_cycle_and_no_floor_reaches_a_forbidden_one() {
    let source = Source::read();
    assert!(source.modules.len() > 50, "src/ was not found: {}", source.modules.len());
    let edges = source.edges();
    let cycles = cycles(&edges);
    let in_cycles: usize = cycles.iter().map(Vec::len).sum();
    let mut forbidden_edges = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if let Some(why) = forbidden(layer(from), layer(to)) {
                forbidden_edges.push(format!("{} -> {}: {why}", name(from), name(to)));
            }
        }
    }
    let report = format!(
        "cycles:\n{}\nforbidden edges:\n{}",
        cycles.iter().map(|c| c.iter().map(name).collect::<Vec<_>>().join(", ")).collect::<Vec<_>>().join("\n"),
        forbidden_edges.join("\n")
    );
    assert!(forbidden_edges.is_empty(), "{} forbidden edges:\n{report}", forbidden_edges.len());
    assert_eq!(in_cycles, 0, "{in_cycles} files in import cycles:\n{report}");
}

#[test]
fn the_reader_sees_use_trees_inline_paths_and_ignores_strings_comments_and_tests() {
    let code = production_code(
        "use crate::a::{b, c::{d, e as f}, self};\n// use crate::comment::x;\nlet s = \"crate::string::y\";\n\
         let c = '\"'; fn g<'a>() { super::h::i(); kid::j(); }\n#[cfg(test)]\nmod tests { use crate::tested::z; }\n",
    );
    let found = paths(&code);
    let has = |p: &str| found.iter().any(|f| f.join("::") == p);
    assert!(has("crate::a::b") && has("crate::a::c::d") && has("crate::a::c::e") && has("crate::a"), "{found:?}");
    assert!(has("super::h::i") && has("kid::j"), "{found:?}");
    assert!(!found.iter().any(|f| f.iter().any(|s| s == "comment" || s == "string" || s == "tested")), "{found:?}");
    let edges = BTreeMap::from([
        (vec!["a".to_string()], BTreeSet::from([vec!["b".to_string()]])),
        (vec!["b".to_string()], BTreeSet::from([vec!["a".to_string()]])),
        (vec!["c".to_string()], BTreeSet::from([vec!["a".to_string()]])),
    ]);
    assert_eq!(cycles(&edges), vec![vec![vec!["a".to_string()], vec!["b".to_string()]]]);
    assert_eq!(forbidden("db", "api"), Some("db imports only domain"));
    assert_eq!(forbidden("services", "db"), None);
    assert!(forbidden("services", "error").is_some());
}
