//! Batches: JSON Lines or one QR text per line in, one result per line out, in input order, on
//! every core, with bounded memory and a progress bar.

use std::io::BufRead;

use anyhow::Context;
use rayon::prelude::*;

/// Lines handled per parallel chunk: enough to keep every core busy, few enough that a file of
/// any size streams through in bounded memory.
const CHUNK_LINES: usize = 4096;

/// Opens `source` (a path, or `-` for stdin) for reading lines; returns its size when known.
pub fn open(source: &str) -> anyhow::Result<(Box<dyn BufRead>, Option<u64>)> {
    if source == "-" {
        return Ok((Box::new(std::io::stdin().lock()), None));
    }
    let file = std::fs::File::open(source).with_context(|| format!("cannot read {source}"))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(std::io::BufReader::new(file)), size))
}

/// A worker pool of `threads` threads (0 or `None`: one per core).
pub fn pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")
}

/// Maps every line of `reader` with `map(line_number, line)` on `pool`, and hands the results
/// to `sink` in input order. The progress bar advances by the bytes read.
pub fn map_lines<T: Send>(
    reader: Box<dyn BufRead>,
    source: &str,
    pool: &rayon::ThreadPool,
    progress: &indicatif::ProgressBar,
    map: impl Fn(usize, &str) -> T + Sync,
    mut sink: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut lines = reader.lines();
    let mut done = 0usize;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        for line in lines.by_ref().take(CHUNK_LINES) {
            let number = done + chunk.len() + 1;
            chunk.push(line.with_context(|| format!("cannot read line {number} of {source}"))?);
        }
        if chunk.is_empty() {
            return Ok(done);
        }
        let results: Vec<T> = pool.install(|| {
            chunk
                .par_iter()
                .enumerate()
                .map(|(i, line)| map(done + i + 1, line))
                .collect()
        });
        for result in results {
            sink(result)?;
        }
        progress.inc(chunk.iter().map(|l| l.len() as u64 + 1).sum());
        done += chunk.len();
    }
}
