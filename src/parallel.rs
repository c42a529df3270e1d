//! Mapping work on all cores only where it pays: starting the thread pool costs more than
//! a few small jobs, so callers decide, and get the same results in the same order either
//! way.

use rayon::iter::{IntoParallelIterator, ParallelIterator};

/// `f` over `items`, on all cores when `parallel`, else in turn here; results in order.
pub fn map_in_order<I, R>(
    items: I,
    parallel: bool,
    f: impl Fn(<I as IntoIterator>::Item) -> R + Sync + Send,
) -> Vec<R>
where
    I: IntoIterator + IntoParallelIterator<Item = <I as IntoIterator>::Item>,
    R: Send,
{
    if parallel {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_give_the_same_results_in_order() {
        let items: Vec<u32> = (0..1000).collect();
        let square = |x: &u32| x * x;
        let one = map_in_order(&items, false, square);
        assert_eq!(one, map_in_order(&items, true, square));
        assert_eq!(one[999], 998_001);
    }
}
