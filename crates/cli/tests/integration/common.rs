//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// `../shared/corpus/<folder>` beside the checkout, or `None` (with a note) when it is absent.
/// Under CI (`CI` set) a missing corpus is a failure, not a skip.
pub fn corpus_dir(folder: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(folder);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the conformance corpus {} is missing; CI must run with ../shared beside the checkout",
        dir.display()
    );
    eprintln!(
        "skipping: {} is absent (clone the project with ../shared beside it to run the corpus)",
        dir.display()
    );
    None
}

/// Every `*.json` file below `dir`, sorted.
pub fn json_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Sleeps into the next second of the clock. CMS signing times have one-second resolution:
/// two requests with the same content signed in the same second are the same signed
/// statement.
pub fn wait_for_next_second() {
    let now = jiff::Timestamp::now();
    let into = now.subsec_nanosecond();
    let left = 1_000_000_000 - i64::from(into) + 5_000_000;
    std::thread::sleep(std::time::Duration::from_nanos(left as u64));
}

/// Runs the `healthpass` binary with `args` and waits for it.
pub fn healthpass(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_healthpass"))
        .args(args)
        .output()
        .unwrap()
}
