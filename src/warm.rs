//! Keeping a second core awake for the side jobs a conversion is about to start, and
//! running those handed to it.
//!
//! On the 2-vCPU virtual machines galley is measured on, a core with nothing to run halts,
//! and a thread started on it waits for the hypervisor to wake it; the kernel also packs new
//! threads onto the busy core (`sched_vcpu_pack`), where they wait for the thread that
//! spawned them. A thread that stays runnable from the start of a conversion keeps the other
//! core awake: a side thread started meanwhile begins sooner (the cover's thread, the
//! layout's second half), and a job that borrows nothing is better handed to it ([`hand`]),
//! which runs it at once (a layout's second half, a PDF's font programs, an EPUB's cover).
//! It yields on every turn, so a thread that wants its core gets it at the next turn, and it
//! gives up after [`LIMIT`] without a job. Session 10 measured it: 8.3 ms of CPU per article
//! EPUB with it and without, half a millisecond sooner on an idle host.
//!
//! The thread is pinned to the cores other than the one its starter is on: left to
//! itself, the kernel queued it on the starter's core, where it ran only when the starter
//! waited, and a handed job ran there too while the other core idled (session 12: an article
//! EPUB 8.4 → 7.5 ms).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
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

/// A job handed to the awake thread (see [`hand`]).
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Names a handed job, to take it back unrun (see [`take_back`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ticket(u64);

/// What [`hand`] and the awake thread share: which round's thread takes jobs, the job
/// waiting for it, and whether it is running one.
struct Desk {
    taking: usize,
    job: Option<(Ticket, Job)>,
    running: bool,
    handed: u64,
}

static DESK: Mutex<Desk> = Mutex::new(Desk {
    taking: 0,
    job: None,
    running: false,
    handed: 0,
});
/// A job waits on the desk: the awake thread looks here on every turn, without the lock.
static WAITING: AtomicBool = AtomicBool::new(false);

fn desk() -> std::sync::MutexGuard<'static, Desk> {
    DESK.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Desk {
    /// The job waiting here, if any, no longer waiting.
    fn take_job(&mut self) -> Option<Job> {
        WAITING.store(false, Ordering::Relaxed);
        self.job.take().map(|(_, job)| job)
    }

    /// Ends `round`'s taking of jobs, if it is still the one taking them; the job handed
    /// to it meanwhile, which its caller then runs.
    fn close(&mut self, round: usize) -> Option<Job> {
        if self.taking != round {
            return None;
        }
        self.taking = 0;
        self.take_job()
    }
}

/// Gives `job` to the thread keeping the other core awake, which runs it at once: a
/// thread started now would often wait a millisecond for a core (this machine's scheduler
/// packs new threads onto the busy core). Gives the job back if no thread is awake or the
/// thread is busy with another; the caller then runs it some other way.
pub fn hand(job: Job) -> Result<Ticket, Job> {
    let mut d = desk();
    if d.taking == 0 || d.running || d.job.is_some() {
        return Err(job);
    }
    d.handed += 1;
    let ticket = Ticket(d.handed);
    d.job = Some((ticket, job));
    WAITING.store(true, Ordering::Release);
    Ok(ticket)
}

/// The job handed with `ticket`, if the awake thread has not started it yet: a caller
/// that needs the result now runs it itself rather than wait for a thread that may not
/// be on a core.
pub fn take_back(ticket: Ticket) -> Option<Job> {
    let mut d = desk();
    match &d.job {
        Some((t, _)) if *t == ticket => d.take_job(),
        _ => None,
    }
}

/// The job on the desk, if any, marked running.
fn take() -> Option<Job> {
    let mut d = desk();
    let job = d.take_job();
    d.running = job.is_some();
    job
}

/// Runs a job taken from the desk, marking the thread free again after.
fn run(job: Job) {
    job();
    desk().running = false;
}

/// Starts the thread, unless the system has only one core (or no thread to give); the
/// caller need not wait for it. It runs one handed job after another, each restarting its
/// wait, so one start serves all of a conversion's side jobs.
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
    desk().taking = round;
    let thread = std::thread::Builder::new()
        .name("warm".into())
        .spawn(move || {
            let mut begun = Instant::now();
            loop {
                if WAITING.load(Ordering::Acquire)
                    && let Some(job) = take()
                {
                    run(job);
                    // More side jobs may follow; the wait for them starts now.
                    begun = Instant::now();
                }
                if WANTED.load(Ordering::Relaxed) != round || begun.elapsed() >= limit {
                    break;
                }
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
                std::thread::yield_now();
            }
            // No more jobs for this thread; one handed meanwhile still runs here.
            let last = desk().close(round);
            if let Some(job) = last {
                job();
            }
        });
    match &thread {
        Ok(thread) => pin_apart(thread),
        // Nobody will take jobs for this round; one handed meanwhile runs here.
        Err(_) => {
            if let Some(job) = desk().close(round) {
                job();
            }
        }
    }
    // Without the thread, conversion goes on as before, only without the head start.
    thread.ok()
}

/// Keeps `thread` off the core the caller is on, when the caller may use another.
#[cfg(target_os = "linux")]
fn pin_apart(thread: &JoinHandle<()>) {
    use std::os::unix::thread::JoinHandleExt;
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: plain system calls on a zeroed, correctly sized CPU set; the thread handle is
    // live (its JoinHandle is borrowed), so its pthread_t is valid.
    unsafe {
        let Ok(here) = usize::try_from(libc::sched_getcpu()) else {
            return;
        };
        let mut cores: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut cores) != 0 {
            return;
        }
        libc::CPU_CLR(here, &mut cores);
        if libc::CPU_COUNT(&cores) > 0 {
            // Failing leaves the thread where the kernel put it: slower, not wrong.
            let _ = libc::pthread_setaffinity_np(thread.as_pthread_t(), size, &cores);
        }
    }
}

/// Elsewhere the thread goes where the system puts it.
#[cfg(not(target_os = "linux"))]
fn pin_apart(_thread: &JoinHandle<()>) {}

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

    #[cfg(target_os = "linux")]
    #[test]
    fn the_thread_keeps_off_the_starters_core() {
        let Some(thread) = spawn(Duration::from_millis(50)) else {
            return; // one core: no thread
        };
        use std::os::unix::thread::JoinHandleExt;
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: system calls on zeroed, correctly sized CPU sets; the thread's handle is
        // held, so its pthread_t is valid.
        let (allowed, theirs, asked) = unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            let mut theirs: libc::cpu_set_t = std::mem::zeroed();
            libc::sched_getaffinity(0, size, &mut allowed);
            let asked = libc::pthread_getaffinity_np(thread.as_pthread_t(), size, &mut theirs);
            (libc::CPU_COUNT(&allowed), libc::CPU_COUNT(&theirs), asked)
        };
        done();
        let _ = thread.join();
        // Which core this thread was on at the pinning is not known any more (it may have
        // moved since), but the thread may use every allowed core but that one. (A start
        // in another test may have ended the thread before it was asked.)
        if allowed > 1 && asked == 0 {
            assert_eq!(theirs, allowed - 1);
        }
    }
}
