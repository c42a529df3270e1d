//! Side jobs of a conversion (a layout's second half, a writer's cover and fonts): on the
//! thread keeping the other core awake when it is free ([`Handed`], [`along`]), else on a
//! thread of their own ([`Beside`]), or in turn on this thread when no thread can be had.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{Scope, ScopedJoinHandle};

/// A job started by [`Beside::start`], whose result [`Beside::finish`] waits for.
pub(crate) struct Beside<'scope, T, F> {
    /// The job, until whichever thread runs it takes it out.
    job: Arc<Mutex<Option<F>>>,
    /// The thread and where it sends the job's result.
    thread: Option<(ScopedJoinHandle<'scope, ()>, Receiver<T>)>,
}

impl<'scope, T, F> Beside<'scope, T, F>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + 'scope,
{
    /// Starts `job` on a thread named `name` in `scope`; if the system has no thread to
    /// give, the job waits for `finish` and runs there.
    pub(crate) fn start<'env>(scope: &'scope Scope<'scope, 'env>, name: &str, job: F) -> Self {
        let job = Arc::new(Mutex::new(Some(job)));
        let theirs = Arc::clone(&job);
        // The result comes back over a channel rather than through `join`: a thread's
        // exit (its allocator's clean-up, its stack) took a third of a millisecond, which
        // the scope's own join at its end overlaps with the rest of the work.
        let (sender, receiver) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn_scoped(scope, move || {
                // This core is awake now; the other needs no more keeping awake.
                crate::warm::done();
                let job = theirs.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(job) = job {
                    // Only `finish` receives, and it waits for this result.
                    let _ = sender.send(job());
                }
            })
            .ok()
            .map(|handle| (handle, receiver));
        if thread.is_none() {
            // The job runs in `finish`, on this core: nothing to keep the other awake for.
            crate::warm::done();
        }
        Beside { job, thread }
    }

    /// Whether the job runs on a thread of its own, rather than in `finish`.
    pub(crate) fn on_thread(&self) -> bool {
        self.thread.is_some()
    }

    /// The job's result, waiting for its thread or running it now. A panic on the
    /// thread carries on here.
    pub(crate) fn finish(self) -> T {
        let done = self
            .thread
            .and_then(|(handle, receiver)| match receiver.recv() {
                Ok(result) => Some(result),
                // No result: the thread panicked, or never took the job.
                Err(_) => match handle.join() {
                    Ok(()) => None,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
            });
        match done {
            Some(result) => result,
            None => {
                let job = self
                    .job
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                match job {
                    Some(job) => job(),
                    // Only the thread takes the job, and then it sent a result or panicked.
                    None => unreachable!("a job taken by its thread gave a result"),
                }
            }
        }
    }
}

/// A result owed by a job on the thread keeping the other core awake. Dropped (or asked
/// for), it takes the job back if that thread has not started it, else waits for it to
/// end: a job may borrow data that must outlive it.
struct Owed<T> {
    ticket: crate::warm::Ticket,
    result: Receiver<std::thread::Result<T>>,
    settled: bool,
    /// Whether the job borrows, and so must end before this is dropped.
    borrows: bool,
}

impl<T> Owed<T> {
    /// The job's result: run here if the awake thread has not started it yet. A panic in
    /// the job carries on here.
    fn finish(mut self) -> T {
        self.settled = true;
        if let Some(job) = crate::warm::take_back(self.ticket) {
            job();
        }
        received(&self.result)
    }
}

impl<T> Drop for Owed<T> {
    fn drop(&mut self) {
        if !self.settled {
            // Not wanted any more (unwinding, or a guess that missed): dropped unrun, or
            // left to finish unless it borrows what is about to go.
            drop(crate::warm::take_back(self.ticket));
            if self.borrows {
                let _ = self.result.recv();
            }
        }
    }
}

/// The result a job sent, its panic carried on here.
fn received<T>(result: &Receiver<std::thread::Result<T>>) -> T {
    match result.recv() {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // A job taken is run, and it always sends; only `Owed`'s drop discards one.
        Err(_) => unreachable!("a job ended without sending its result"),
    }
}

/// `job` boxed to send its result (or its panic) to the returned receiver.
fn sending<'a, T: Send + 'a>(
    job: impl FnOnce() -> T + Send + 'a,
) -> (
    Box<dyn FnOnce() + Send + 'a>,
    Receiver<std::thread::Result<T>>,
) {
    let (sender, result) = sync_channel(1);
    let job = Box::new(move || {
        let _ = sender.send(std::panic::catch_unwind(AssertUnwindSafe(job)));
    });
    (job, result)
}

/// A job not handed over, and the receiver its result will come to.
type Unhanded<T> = (crate::warm::Job, Receiver<std::thread::Result<T>>);

/// `job` handed to the awake thread, its result owed; or given back unrun, with the
/// receiver its result will come to.
fn hand_over<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<Owed<T>, Unhanded<T>> {
    let (job, result) = sending(job);
    hand_sending(job, result, false)
}

/// [`hand_over`] for a job already boxed by [`sending`]; `borrows` as in [`Owed`].
fn hand_sending<T>(
    job: crate::warm::Job,
    result: Receiver<std::thread::Result<T>>,
    borrows: bool,
) -> Result<Owed<T>, Unhanded<T>> {
    match crate::warm::hand(job) {
        Ok(ticket) => Ok(Owed {
            ticket,
            result,
            settled: false,
            borrows,
        }),
        Err(job) => Err((job, result)),
    }
}

/// A job that borrows nothing, given to the thread keeping the other core awake (see
/// [`crate::warm::hand`]) when it is free, else started with [`Beside`] or kept for
/// `finish`.
pub(crate) struct Handed<'scope, T> {
    way: Way<'scope, T>,
}

/// Where a [`Handed`] job runs.
enum Way<'scope, T> {
    Awake(Owed<T>),
    Thread(
        Beside<'scope, (), crate::warm::Job>,
        Receiver<std::thread::Result<T>>,
    ),
    Later(crate::warm::Job, Receiver<std::thread::Result<T>>),
}

impl<'scope, T: Send + 'static> Handed<'scope, T> {
    /// Hands `job` over, or starts it on a thread named `name` in `scope`.
    pub(crate) fn start<'env, F>(scope: &'scope Scope<'scope, 'env>, name: &str, job: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let way = match hand_over(job) {
            Ok(owed) => Way::Awake(owed),
            Err((job, result)) => Way::Thread(Beside::start(scope, name, job), result),
        };
        Handed { way }
    }

    /// Hands `job` over, or keeps it to run in `finish` on the caller's thread: for a job
    /// that would only compete for a core with work already under way.
    pub(crate) fn or_later<F>(job: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let way = match hand_over(job) {
            Ok(owed) => Way::Awake(owed),
            Err((job, result)) => Way::Later(job, result),
        };
        Handed { way }
    }

    /// Whether the job runs elsewhere, rather than in `finish`.
    pub(crate) fn on_thread(&self) -> bool {
        match &self.way {
            Way::Awake(_) => true,
            Way::Thread(thread, _) => thread.on_thread(),
            Way::Later(..) => false,
        }
    }

    /// The job's result, waiting for it (or running it now when it could not be started).
    pub(crate) fn finish(self) -> T {
        match self.way {
            Way::Awake(owed) => owed.finish(),
            Way::Thread(thread, result) => {
                thread.finish();
                received(&result)
            }
            Way::Later(job, result) => {
                job();
                received(&result)
            }
        }
    }
}

/// Runs `job` beside `here`, which runs on this thread: on the thread keeping the other
/// core awake if it is free, else on a thread named `name` of its own (or after `here`,
/// if none can be had). Returns both results; a panic in either carries on here. `job`
/// may borrow: it has run, or been dropped, before this returns or unwinds.
pub(crate) fn along<'a, T, R>(
    name: &str,
    job: impl FnOnce() -> T + Send + 'a,
    here: impl FnOnce() -> R,
) -> (T, R)
where
    T: Send + 'a,
{
    let (job, result) = sending(job);
    // SAFETY: only the lifetime changes. The job leaves this frame only for the awake
    // thread, and `Owed` (finished below, or dropped when `here` unwinds) takes it back
    // unrun or waits until it has run and been dropped (its result sender, which it owns,
    // hangs up only then) before this frame, and with it 'a, can end.
    let job: crate::warm::Job =
        unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, crate::warm::Job>(job) };
    match hand_sending(job, result, true) {
        Ok(owed) => {
            let mine = here();
            (owed.finish(), mine)
        }
        Err((job, result)) => {
            // Back to its own lifetime: it runs within the scope below.
            let job: Box<dyn FnOnce() + Send + 'a> = job;
            std::thread::scope(|scope| {
                let side = Beside::start(scope, name, job);
                let mine = here();
                side.finish();
                (received(&result), mine)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_of_asking() {
        let data = vec![1, 2, 3];
        let (a, b) = std::thread::scope(|scope| {
            let sum = Beside::start(scope, "sum", || data.iter().sum::<i32>());
            let owned = data.clone();
            let count = Beside::start(scope, "count", move || owned.len());
            (count.finish(), sum.finish())
        });
        assert_eq!((a, b), (3, 6));
    }

    #[test]
    fn a_panic_on_the_thread_carries_on_in_finish() {
        let outcome = std::panic::catch_unwind(|| {
            std::thread::scope(|scope| {
                let job = Beside::start(scope, "boom", || -> i32 { panic!("job failed") });
                job.finish()
            })
        });
        let panic = outcome.expect_err("the job's panic reaches the caller");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"job failed"));
    }

    #[test]
    fn a_handed_job_gives_its_result_or_its_panic() {
        let _ = crate::warm::start();
        let (a, b) = std::thread::scope(|scope| {
            let a = Handed::start(scope, "a", || 40 + 2);
            let b = Handed::start(scope, "b", || "b".repeat(2));
            (a.finish(), b.finish())
        });
        assert_eq!((a, b.as_str()), (42, "bb"));
        let outcome = std::panic::catch_unwind(|| {
            std::thread::scope(|scope| {
                Handed::start(scope, "boom", || -> i32 { panic!("handed job failed") }).finish()
            })
        });
        let panic = outcome.expect_err("the job's panic reaches the caller");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"handed job failed"));
    }

    #[test]
    fn a_job_run_along_may_borrow_and_gives_its_result() {
        let _ = crate::warm::start();
        let words = ["two", "halves"];
        let (count, joined) = along("count", || words.len(), || words.join(" "));
        assert_eq!((count, joined.as_str()), (2, "two halves"));
        // Without an awake thread the job still runs, on a thread of its own.
        crate::warm::done();
        let (sum, n) = along("sum", || words.iter().map(|w| w.len()).sum::<usize>(), || 7);
        assert_eq!((sum, n), (9, 7));
    }

    #[test]
    fn a_job_run_along_outlives_no_borrow_when_this_side_panics() {
        use std::sync::atomic::{AtomicU8, Ordering};
        for _ in 0..20 {
            let _ = crate::warm::start();
            // 1: the job began; 2: it ended. Checked after the unwinding, when the data it
            // borrows is about to go: a job that began must have ended.
            let state = AtomicU8::new(0);
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                along(
                    "slow",
                    || {
                        state.store(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        state.store(2, Ordering::SeqCst);
                    },
                    || panic!("this side failed"),
                )
            }));
            assert!(outcome.is_err(), "the panic reaches the caller");
            assert_ne!(state.load(Ordering::SeqCst), 1, "the job was still running");
        }
        crate::warm::done();
    }

    #[test]
    fn a_job_kept_for_later_runs_in_finish() {
        let job = Handed::or_later(|| (1..=4).product::<u32>());
        assert_eq!(job.finish(), 24);
        let outcome = std::panic::catch_unwind(|| {
            Handed::or_later(|| -> u32 { panic!("kept job failed") }).finish()
        });
        let panic = outcome.expect_err("the job's panic reaches the caller");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"kept job failed"));
    }
}
