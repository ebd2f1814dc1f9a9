//! The command examples of README.md and docs/*.md run here, with their output checked, so they
//! cannot go stale. A ```console block is a shell session in trycmd's notation: a `$ ` line
//! (with `\` continuations) is a command, the lines after it are its expected stdout (`...` on a
//! line of its own: any lines; `[..]` in a line: any text), and `? N` its exit status (0 when
//! absent). Each block runs in one bash, in an empty folder, with this build's binary first on
//! PATH, against the real local provider: the environment is what a user's `.env` would hold
//! for it (`OAUTH_ISSUER`, `CLIENT_ID`, `CLIENT_SECRET`, `PORT=0`), and the placeholders the
//! examples use (`https://idp.example.com`, `my-service`, `"$SECRET"`, ...) stand for the test
//! provider's issuer, clients and test user. ```sh blocks are not run: they need a provider or
//! a server of yours the tests cannot stand for (say Clerk's hosts).
//! trycmd itself runs no shell (no `|`, no `>`, no `VAR=value cmd`), which these examples need.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::signin::{PASSWORD, USER};
use crate::support::provider::{CONFIDENTIAL_ID, CONFIDENTIAL_SECRET, LocalProvider};

/// One `$` command of a console block, and what the block says it prints.
#[derive(Debug)]
struct Example {
    file: String,
    line: usize,
    command: String,
    expected: Vec<String>,
    status: i32,
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The console blocks of one Markdown text, each as its list of examples.
fn blocks(file: &str, text: &str) -> Vec<Vec<Example>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let mut block: Vec<Example> = Vec::new();
        let mut continuing = false;
        for (n, line) in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            if continuing {
                let last = block.last_mut().expect("a command");
                last.command.push('\n');
                last.command.push_str(line);
                continuing = line.ends_with('\\');
            } else if let Some(command) = line.strip_prefix("$ ") {
                block.push(Example {
                    file: file.to_owned(),
                    line: n + 1,
                    command: command.to_owned(),
                    expected: Vec::new(),
                    status: 0,
                });
                continuing = command.ends_with('\\');
            } else if let Some(status) = line.strip_prefix("? ") {
                let last = block.last_mut().expect("a command before `? N`");
                last.status = status.trim().parse().expect("`? N`: N is an exit status");
            } else {
                let last = block.last_mut().expect("a command before its output");
                last.expected.push(line.to_owned());
            }
        }
        blocks.push(block);
    }
    blocks
}

/// `actual` matches `expected`, with `...` lines and `[..]` spans as wildcards.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            !actual.is_empty() && line_matches(first, actual[0]) && matches(rest, &actual[1..])
        }
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// What the examples' placeholders stand for here.
fn placeholders(provider: &LocalProvider) -> Vec<(&'static str, String)> {
    vec![
        ("https://idp.example.com", provider.issuer.clone()),
        ("my-service-secret", "test-machine-secret".to_owned()),
        ("my-service", "test-machine".to_owned()),
        ("my-cli-secret", "test-device-secret".to_owned()),
        ("my-cli", "test-device".to_owned()),
    ]
}

/// Runs one block's commands in one bash; returns each command's stdout and exit status.
fn run_block(block: &[Example], provider: &LocalProvider, dir: &Path) -> Vec<(String, i32)> {
    let mut script = String::from("set +e\n");
    for (i, example) in block.iter().enumerate() {
        let mut command = example.command.clone();
        for (placeholder, value) in placeholders(provider) {
            command = command.replace(placeholder, &value);
        }
        script.push_str(&format!(
            "printf '\\n@@begin {i}\\n'\n{command}\nprintf '\\n@@end {i} %s\\n' \"$?\"\n"
        ));
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_oauth-test-client"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("OAUTH_ISSUER", &provider.issuer)
        .env("CLIENT_ID", CONFIDENTIAL_ID)
        .env("CLIENT_SECRET", CONFIDENTIAL_SECRET)
        .env("PORT", "0")
        .env("OAUTH_NO_BROWSER", "1")
        .env("OAUTH_TIMEOUT", "90")
        .env("SECRET", PASSWORD)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    (0..block.len())
        .map(|i| {
            let begin = format!("\n@@begin {i}\n");
            let end = format!("\n@@end {i} ");
            let start = stdout.find(&begin).map(|at| at + begin.len());
            let stop = stdout.find(&end);
            match (start, stop) {
                (Some(start), Some(stop)) if start <= stop + 1 => {
                    let status = stdout[stop + end.len()..]
                        .lines()
                        .next()
                        .and_then(|s| s.trim().parse().ok())
                        .unwrap_or(-1);
                    (stdout[start..stop.max(start)].to_owned(), status)
                }
                _ => panic!("example {i} did not finish; stdout:\n{stdout}\nstderr:\n{stderr}"),
            }
        })
        .collect()
}

#[test]
fn the_markdown_reader_finds_commands_outputs_and_statuses() {
    let text = "x\n```console\n$ a \\\n  b\none\n...\n? 2\n$ c\n```\n```sh\n$ not run\n```\n";
    let found = blocks("t.md", text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 2);
    assert_eq!(found[0][0].command, "a \\\n  b");
    assert_eq!(found[0][0].expected, ["one", "..."]);
    assert_eq!(found[0][0].status, 2);
    assert_eq!((found[0][1].command.as_str(), found[0][1].status), ("c", 0));
    let expected: Vec<String> = ["a [..] c", "...", "end"].map(String::from).into();
    assert!(matches(&expected, &["a b c", "x", "y", "end"]));
    assert!(matches(&expected, &["a  c", "end"]));
    assert!(!matches(&expected, &["a b d", "end"]));
    assert!(!matches(&expected, &["a b c"]));
}

#[test]
fn every_console_example_in_the_readme_and_the_docs_runs_and_prints_what_it_says() {
    let files = doc_files();
    let mut all = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        all.extend(blocks(&name, &text));
    }
    let count: usize = all.iter().map(Vec::len).sum();
    assert!(
        count >= 8,
        "only {count} console examples found in README.md and docs/"
    );
    let provider = LocalProvider::start();
    let mut failures = Vec::new();
    for block in &all {
        let dir = tempfile::tempdir().unwrap();
        let results = run_block(block, &provider, dir.path());
        for (example, (stdout, status)) in block.iter().zip(results) {
            let actual: Vec<&str> = stdout.lines().collect();
            if status != example.status || !matches(&example.expected, &actual) {
                failures.push(format!(
                    "{}:{}: $ {}\nexpected (exit {}):\n{}\ngot (exit {status}):\n{stdout}",
                    example.file,
                    example.line,
                    example.command,
                    example.status,
                    example.expected.join("\n"),
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The test user of the examples is the provider's (USER); nothing else stands for it.
    assert_eq!(USER, "ci@example.com");
}
