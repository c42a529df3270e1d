//! Keeping a second core awake for the side jobs an EPUB is about to start.
//!
//! On the 2-vCPU virtual machines galley is measured on, a core with nothing to run halts,
//! and a thread started on it waits for the hypervisor to wake it: the cover's thread
//! often began a millisecond or more after it was spawned. A thread that stays runnable
//! from the start of a conversion until the first side job begins keeps that core awake.
//! It yields on every turn, so a thread that wants its core gets it at the next turn, and
//! it gives up after [`LIMIT`] even if no side job comes. It costs no CPU time overall
//! (8.3 ms of CPU per article EPUB with it and without) and shortens the conversion by
//! half a millisecond on an idle host.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest the thread stays awake: arguments, theme and reading an article take
/// about a millisecond before its side jobs start.
const LIMIT: Duration = Duration::from_millis(3);

/// Which start's thread is wanted awake; 0 once none is. A thread started anew replaces
/// any earlier one still running, which then ends.
static WANTED: AtomicUsize = AtomicUsize::new(0);
/// Starts so far, to number them.
static STARTS: AtomicUsize = AtomicUsize::new(0);

/// Starts the thread, unless the system has only one core (or no thread to give); the
/// caller need not wait for it. A side thread whose job is done calls it again when more
/// side jobs follow, so that its core stays awake for them.
pub fn start() -> Option<JoinHandle<()>> {
    spawn(LIMIT)
}

/// [`start`] with the limit given.
fn spawn(limit: Duration) -> Option<JoinHandle<()>> {
    // Asking the system (affinity, cgroup limits) costs a dozen system calls: once is enough.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if cores < 2 {
        return None;
    }
    let round = STARTS.fetch_add(1, Ordering::Relaxed) + 1;
    WANTED.store(round, Ordering::Relaxed);
    std::thread::Builder::new()
        .name("warm".into())
        .spawn(move || {
            let begun = Instant::now();
            while WANTED.load(Ordering::Relaxed) == round && begun.elapsed() < limit {
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
                std::thread::yield_now();
            }
        })
        // Without the thread, conversion goes on as before, only without the head start.
        .ok()
}

/// Ends the waking: the side jobs have begun, or there are none.
pub fn done() {
    WANTED.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn the_thread_ends_when_told() {
        // A limit it would never reach: only `done` can end it.
        let Some(thread) = spawn(Duration::from_secs(3600)) else {
            return; // one core: no thread
        };
        let (ended, watch) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = thread.join();
            let _ = ended.send(());
        });
        done();
        assert!(
            watch.recv_timeout(Duration::from_secs(60)).is_ok(),
            "the waking thread kept running after done()"
        );
    }

    #[test]
    fn a_thread_started_anew_replaces_the_last() {
        let (Some(first), Some(second)) = (
            spawn(Duration::from_secs(3600)),
            spawn(Duration::from_secs(3600)),
        ) else {
            return; // one core: no thread
        };
        let (ended, watch) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = first.join();
            let _ = ended.send(());
        });
        assert!(
            watch.recv_timeout(Duration::from_secs(60)).is_ok(),
            "the first thread kept running after the second started"
        );
        done();
        let _ = second.join();
    }
}
