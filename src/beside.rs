//! Work that runs on a thread of its own beside the rest of a conversion (a layout's second
//! half, a writer's cover and fonts), or in turn on this thread when no thread can be had; or, for a job that borrows nothing, on the thread
//! keeping the other core awake ([`Handed`]).

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

/// A job that borrows nothing, given to the thread keeping the other core awake (see
/// [`crate::warm::hand`]) when one is, else started with [`Beside`].
pub(crate) struct Handed<'scope, T> {
    result: Receiver<std::thread::Result<T>>,
    thread: Option<Beside<'scope, (), crate::warm::Job>>,
}

impl<'scope, T: Send + 'static> Handed<'scope, T> {
    /// Hands `job` over, or starts it on a thread named `name` in `scope`.
    pub(crate) fn start<'env, F>(scope: &'scope Scope<'scope, 'env>, name: &str, job: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let (sender, result) = sync_channel(1);
        let job: crate::warm::Job = Box::new(move || {
            // A panic comes back with the result, to carry on in `finish`.
            let _ = sender.send(std::panic::catch_unwind(AssertUnwindSafe(job)));
        });
        let thread = match crate::warm::hand(job) {
            Ok(()) => None,
            Err(job) => Some(Beside::start(scope, name, job)),
        };
        Handed { result, thread }
    }

    /// Whether the job runs elsewhere, rather than in `finish`.
    pub(crate) fn on_thread(&self) -> bool {
        self.thread.as_ref().is_none_or(Beside::on_thread)
    }

    /// The job's result, waiting for it (or running it now when it could not be started).
    pub(crate) fn finish(self) -> T {
        if let Some(thread) = self.thread {
            thread.finish();
        }
        match self.result.recv() {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // Whoever takes the job runs it, and it always sends.
            Err(_) => unreachable!("a handed job ran without sending its result"),
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
}
