//! The shape of the bot crate, checked from its source: no import cycles
//! between files, no file over 400 lines of non-test code, no grab-bag
//! modules, and serenity and poise only under `src/discord/`.
//!
//! The import graph is read as text: an edge A → B when A names a module
//! path (`crate::…` or `super::…`, in a `use` or in code) whose longest
//! prefix is the module of file B. A `mod.rs` also depends on the child
//! modules it re-exports. Code after `#[cfg(test)]` is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Lines of non-test code a file may have (STYLE.md: "files under ~400 lines").
const MAX_LINES: usize = 400;

struct Crate {
    /// Module path (`["chat", "turn"]`) to the file that holds it.
    files: BTreeMap<Vec<String>, PathBuf>,
}

impl Crate {
    fn read() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = BTreeMap::new();
        collect(&root, &root, &mut files);
        Self { files }
    }

    /// The file's code before its tests, without comments.
    fn code(path: &Path) -> String {
        let text = std::fs::read_to_string(path).expect("a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let comment = Regex::new(r"//.*").unwrap();
        comment.replace_all(code, "").into_owned()
    }

    fn resolve(&self, segments: &[String]) -> Option<&PathBuf> {
        (1..=segments.len())
            .rev()
            .find_map(|n| self.files.get(&segments[..n]))
    }

    /// Every file's imports of other files of the crate.
    fn edges(&self) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let path_pattern =
            Regex::new(r"\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)").unwrap();
        let grouped = Regex::new(r"\buse\s+(crate|super)((?:::\w+)*)::\{([^;]*)\};").unwrap();
        let child_use = Regex::new(r"\b(?:pub\s+)?use\s+(?:self::)?([a-z_][a-z0-9_]*)::").unwrap();
        let mut edges = BTreeMap::new();
        for (module, path) in &self.files {
            let mut code = Self::code(path);
            let expanded: Vec<String> = grouped
                .captures_iter(&code)
                .flat_map(|caps| {
                    let base = format!("{}{}", &caps[1], &caps[2]);
                    caps[3]
                        .split(',')
                        .map(|item| item.split(" as ").next().unwrap_or("").trim().to_string())
                        .filter(|item| !item.is_empty())
                        .map(move |item| format!("\nuse {base}::{item};"))
                        .collect::<Vec<_>>()
                })
                .collect();
            code.extend(expanded);
            let is_parent = is_parent_file(path);
            let mut out = BTreeSet::new();
            if is_parent {
                for caps in child_use.captures_iter(&code) {
                    let mut child = module.clone();
                    child.push(caps[1].to_string());
                    if let Some(target) = self.files.get(&child) {
                        out.insert(target.clone());
                    }
                }
            }
            for caps in path_pattern.captures_iter(&code) {
                let mut rest: Vec<String> = caps[2]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                let segments = if &caps[1] == "crate" {
                    rest
                } else {
                    // `super` in a file `a/b.rs` (module a::b) is module `a`;
                    // in `a/mod.rs` (module a) it is the crate root.
                    let mut base = module.clone();
                    base.pop();
                    while rest.first().is_some_and(|s| s == "super") {
                        base.pop();
                        rest.remove(0);
                    }
                    base.extend(rest);
                    base
                };
                if let Some(target) = self.resolve(&segments)
                    && target != path
                {
                    out.insert(target.clone());
                }
            }
            edges.insert(path.clone(), out);
        }
        edges
    }
}

fn is_parent_file(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs")
    )
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<Vec<String>, PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap().with_extension("");
        let mut module: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        if module == ["lib"] {
            module.clear();
        }
        if module == ["main"] {
            // The binary is a crate of its own; it only imports `duet::…`.
            continue;
        }
        files.insert(module, path);
    }
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a PathBuf) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.edges[v] {
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
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_two_files_of_the_bot_import_each_other_even_through_a_cycle() {
    let krate = Crate::read();
    let edges = krate.edges();
    let found: Vec<String> = cycles(&edges)
        .into_iter()
        .map(|files| {
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            names.join(" ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let (a, b, c) = (PathBuf::from("a"), PathBuf::from("b"), PathBuf::from("c"));
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone(), c.clone()])),
        (c.clone(), BTreeSet::new()),
    ]);
    let found = cycles(&edges);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 2);
}

#[test]
fn no_file_of_the_bot_has_more_than_400_lines_before_its_tests() {
    let krate = Crate::read();
    let long: Vec<String> = krate
        .files
        .values()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let lines = text
                .lines()
                .take_while(|line| !line.contains("#[cfg(test)]"))
                .count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

#[test]
fn no_module_is_a_grab_bag() {
    let krate = Crate::read();
    let bags: Vec<&PathBuf> = krate
        .files
        .iter()
        .filter(|(module, _)| {
            module
                .iter()
                .any(|m| matches!(m.as_str(), "utils" | "util" | "helpers" | "misc" | "common"))
        })
        .map(|(_, path)| path)
        .collect();
    assert!(bags.is_empty(), "grab-bag modules: {bags:?}");
}

#[test]
fn only_the_discord_frontend_imports_serenity_or_poise() {
    let krate = Crate::read();
    let discord = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/discord");
    let outside: Vec<&PathBuf> = krate
        .files
        .values()
        .filter(|path| !path.starts_with(&discord))
        .filter(|path| {
            let code = Crate::code(path);
            code.contains("serenity::") || code.contains("poise::")
        })
        .collect();
    assert!(
        outside.is_empty(),
        "serenity or poise outside src/discord: {outside:?}"
    );
}
