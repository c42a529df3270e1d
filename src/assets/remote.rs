//! Fetching a document's remote images, a few at a time, results in request order.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::fetch::Fetcher;

/// Parallel downloads; the machine's network, not its cores, is the limit.
const WORKERS: usize = 4;

/// Fetches every URL; element `i` of the result is `urls[i]`'s body or why it failed.
pub(super) fn fetch_all(fetcher: &Fetcher, urls: &[String]) -> Vec<Result<Vec<u8>, String>> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(url) = urls.get(i) else { break };
            let result = fetcher
                .image(url)
                .map(|f| f.body)
                .map_err(|e| format!("could not be fetched ({})", e.reason()));
            done.push((i, result));
        }
        done
    };
    let mut results: Vec<Option<Result<Vec<u8>, String>>> = vec![None; urls.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS.min(urls.len()))
            .map(|_| s.spawn(work))
            .collect();
        for h in handles {
            // A worker that panicked leaves its URLs as failures below.
            for (i, r) in h.join().unwrap_or_default() {
                results[i] = Some(r);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("could not be fetched".into())))
        .collect()
}
