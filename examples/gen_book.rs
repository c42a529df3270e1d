//! Prints a deterministic generated Markdown book: `gen_book [WORDS] [SEED]`
//! (defaults 100000 and 1). Used by `scripts/compare` and for profiling.

#[path = "../benches/gen.rs"]
mod generator;

fn main() {
    let mut args = std::env::args().skip(1);
    let words = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    print!("{}", generator::book(words, seed));
}
