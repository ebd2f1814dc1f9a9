//! The shape of `src/`: no import cycle between its files. Each file names the items it uses
//! through `crate::`, `super::` or `self::` paths; those make a graph of files, and a strongly
//! connected group of more than one file is a cycle (code that cannot be understood or changed
//! alone). Test modules (`#[cfg(test)] mod ... {`) may reach anywhere and are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file under `src`, by module path (`src/a/mod.rs` and `src/a.rs` are `a`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(src)
                .expect("under src")
                .with_extension("");
            let mut parts: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts == ["main"] {
                continue; // the binary uses the library by its crate name, not crate::
            }
            if parts == ["lib"] {
                parts.clear();
            } else if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The source without comments, string contents and test modules.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            // A char literal ('"', '\'') is not the start of a string; a lifetime has no
            // closing quote.
            '\'' => {
                let ahead: Vec<char> = chars.clone().take(3).collect();
                let skip = match ahead.as_slice() {
                    ['\\', _, '\''] => 3,
                    [_, '\'', ..] => 2,
                    _ => 0,
                };
                for _ in 0..skip {
                    chars.next();
                }
                out.push_str("' '");
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            c => out.push(c),
        }
    }
    match out.find("#[cfg(test)]\nmod ") {
        Some(at) => out[..at].to_owned(),
        None => out,
    }
}

/// `crate::{a::B, c::{D, E}}` -> `crate::a::B`, `crate::c::D`, `crate::c::E`.
fn expand(tree: &str) -> Vec<String> {
    // `X as Y` names X.
    let mut plain = String::new();
    let mut rest = tree;
    while let Some(at) = rest.find(" as ") {
        plain.push_str(&rest[..at]);
        rest = rest[at + 4..].trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
    }
    plain.push_str(rest);
    let tree: String = plain.chars().filter(|c| !c.is_whitespace()).collect();
    fn rec(prefix: &str, t: &str, out: &mut Vec<String>) {
        let Some(open) = t.find('{') else {
            out.push(format!("{prefix}{t}"));
            return;
        };
        let close = t.rfind('}').unwrap_or(t.len());
        let (head, body) = (&t[..open], &t[open + 1..close]);
        let mut depth = 0;
        let mut start = 0;
        for (i, ch) in body.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    rec(&format!("{prefix}{head}"), &body[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if start < body.len() {
            rec(&format!("{prefix}{head}"), &body[start..], out);
        }
    }
    let mut out = Vec::new();
    rec("", &tree, &mut out);
    out
}

/// Every `crate::`/`super::`/`self::` path a file names, in `use` trees and inline.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("use ") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + 4..];
        let end = rest.find(';').unwrap_or(rest.len());
        let tree = rest[..end].trim();
        if ["crate", "super", "self"]
            .iter()
            .any(|r| tree.starts_with(r))
        {
            paths.extend(expand(tree));
        }
    }
    let bytes = code.as_bytes();
    for root in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(root) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut end = at;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b':')
            {
                end += 1;
            }
            paths.push(code[at..end].trim_end_matches(':').to_owned());
        }
    }
    paths
}

/// The file a path names an item of: the longest prefix that is a module.
fn resolve(from: &Module, path: &str, modules: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    let (mut base, mut rest) = match parts.first()? {
        &"crate" => (Vec::new(), &parts[1..]),
        &"super" | &"self" => (from.clone(), &parts[..]),
        _ => return None,
    };
    while let Some(first) = rest.first() {
        match *first {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut best = modules.contains_key(&base).then(|| base.clone());
    for part in rest {
        base.push((*part).to_owned());
        if modules.contains_key(&base) {
            best = Some(base.clone());
        }
    }
    best
}

/// Groups of more than one file that depend on each other (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>, nodes: &[Module]) -> Vec<Vec<Module>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on: BTreeSet<Module>,
        out: Vec<Vec<Module>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &Module) {
            let i = self.index.len();
            self.index.insert(v.clone(), i);
            self.low.insert(v.clone(), i);
            self.stack.push(v.clone());
            self.on.insert(v.clone());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.on.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = &w == v;
                    group.push(w);
                    if done {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.out.push(group);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn graph(
    src: &Path,
) -> (
    BTreeMap<Module, PathBuf>,
    BTreeMap<Module, BTreeSet<Module>>,
) {
    let modules = modules(src);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, path) in &modules {
        let code = code_of(&std::fs::read_to_string(path).expect("read source"));
        for p in paths_in(&code) {
            if let Some(target) = resolve(module, &p, &modules).filter(|t| t != module) {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    (modules, edges)
}

#[test]
fn src_has_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (modules, edges) = graph(&src);
    assert!(modules.len() > 10, "src/ was read: {} files", modules.len());
    let nodes: Vec<Module> = modules.keys().cloned().collect();
    let found = cycles(&edges, &nodes);
    let shown: Vec<String> = found
        .iter()
        .map(|group| {
            let files: Vec<String> = group
                .iter()
                .map(|m| modules[m].strip_prefix(&src).unwrap().display().to_string())
                .collect();
            let ties: Vec<String> = group
                .iter()
                .flat_map(|a| {
                    edges[a]
                        .iter()
                        .filter(|b| group.contains(b))
                        .map(move |b| format!("  {} -> {}", a.join("::"), b.join("::")))
                })
                .collect();
            format!(
                "{} files: {}\n{}",
                files.len(),
                files.join(", "),
                ties.join("\n")
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "import cycles in src/ (each file may use only the layers below it; see README's Code map):\n{}",
        shown.join("\n")
    );
}

#[test]
fn the_checker_finds_a_cycle_it_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir(src.join("b")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::{x::Thing, Other as Renamed};\nuse crate::c as cases;\n",
    )
    .unwrap();
    std::fs::write(src.join("b/mod.rs"), "pub mod x;\npub struct Other;\n").unwrap();
    std::fs::write(
        src.join("b/x.rs"),
        "// use crate::c::Nothing;\npub fn f() { let _ = \"crate::c\"; crate::a::g(); }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("c.rs"),
        "pub fn h() {}\n#[cfg(test)]\nmod tests { use crate::a::*; }\n",
    )
    .unwrap();
    let (modules, edges) = graph(src);
    let nodes: Vec<Module> = modules.keys().cloned().collect();
    let found = cycles(&edges, &nodes);
    assert_eq!(found.len(), 1, "{edges:?}");
    let mut group: Vec<String> = found[0].iter().map(|m| m.join("::")).collect();
    group.sort();
    assert_eq!(
        group,
        ["a", "b::x"],
        "comments, strings and test modules do not count"
    );
}
