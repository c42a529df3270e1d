//! Work that runs on a thread of its own beside the rest of the book, or in turn on this
//! thread when no thread can be had.

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
}
