//! A deterministic Markdown book generator for benchmarks and `scripts/compare`.
//!
//! Shared by the criterion benches (through `#[path]`) and `examples/gen_book.rs`, so the
//! book the benches measure is the same one the comparison script feeds to other tools.
//! It uses its own small PRNG: the text must not change when a dependency does.

#![allow(dead_code)]

/// A small xorshift64* generator: fast, seedable and stable across releases.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (zero is remapped: xorshift would stay at zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 33) % n as u64) as usize
    }

    /// A word drawn with a Zipf-like bias toward the start of the list, as in real prose:
    /// a few words are very common, most are rare.
    pub fn word<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let a = self.below(words.len());
        let b = self.below(words.len());
        words[a.min(b)]
    }
}

/// Common words first (the generator favours them), then a long tail of longer ones that
/// exercise hyphenation.
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "it",
    "was",
    "for",
    "on",
    "with",
    "as",
    "his",
    "her",
    "they",
    "at",
    "be",
    "this",
    "from",
    "had",
    "by",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "we",
    "there",
    "can",
    "an",
    "which",
    "their",
    "said",
    "if",
    "do",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "two",
    "like",
    "him",
    "see",
    "time",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "made",
    "over",
    "did",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "water",
    "long",
    "little",
    "very",
    "after",
    "words",
    "called",
    "just",
    "where",
    "most",
    "know",
    "harbour",
    "tide",
    "lantern",
    "quay",
    "north",
    "weather",
    "ferry",
    "island",
    "morning",
    "council",
    "stone",
    "bread",
    "letter",
    "signal",
    "current",
    "evening",
    "village",
    "fisherman",
    "lighthouse",
    "shoreline",
    "cartographer",
    "navigation",
    "breakwater",
    "correspondence",
    "extraordinary",
    "circumstances",
    "unquestionably",
    "responsibility",
    "infrastructure",
    "meteorological",
    "approximately",
    "neighbourhood",
    "administration",
    "understanding",
    "photographs",
    "independently",
    "conversation",
    "particularly",
    "archipelago",
    "harbourmaster",
    "storm",
    "gull",
    "rope",
    "anchor",
    "salt",
    "net",
    "boat",
    "mast",
    "sail",
    "wind",
    "rain",
    "cloud",
    "light",
    "dark",
    "winter",
    "summer",
    "autumn",
    "spring",
    "mother",
    "father",
    "children",
    "school",
    "market",
    "church",
    "bridge",
    "river",
    "valley",
    "mountain",
    "forest",
    "garden",
    "kitchen",
    "window",
    "table",
    "chair",
    "candle",
    "clock",
    "bell",
    "road",
    "train",
    "station",
    "ticket",
    "journey",
    "memory",
    "promise",
    "question",
    "answer",
    "history",
    "mystery",
    "silence",
    "laughter",
    "careful",
    "quiet",
    "bright",
    "heavy",
    "narrow",
    "ancient",
    "familiar",
    "remarkable",
    "impossible",
    "beautiful",
    "dangerous",
    "wonderful",
    "slowly",
    "suddenly",
    "perhaps",
    "already",
    "nevertheless",
    "meanwhile",
    "afterwards",
    "everywhere",
    "somewhere",
];

/// A book of about `words` words in 30 chapters, each with sections of paragraphs carrying
/// emphasis, links and footnotes, a list, a block quote, a table and a code block. The same
/// `words` and `seed` always give the same text.
pub fn book(words: usize, seed: u64) -> String {
    const CHAPTERS: usize = 30;
    const SECTIONS: usize = 4;
    let mut rng = Rng::new(seed);
    let mut s = String::with_capacity(words * 8);
    s.push_str("---\ntitle: The Harbour Almanac\nauthor: Bench Writer\ndate: 2025-01-01\nlang: en\n---\n\n");
    // Paragraph text dominates; lists, quotes, tables and code add a fixed ~150 words per
    // section, which the paragraph budget leaves room for.
    let per_section = (words / (CHAPTERS * SECTIONS)).max(40);
    let mut note = 0usize;
    for c in 1..=CHAPTERS {
        s.push_str(&format!("# Chapter {c}: {}\n\n", title(&mut rng)));
        for sec in 1..=SECTIONS {
            s.push_str(&format!("## {c}.{sec} {}\n\n", title(&mut rng)));
            let mut budget = per_section.saturating_sub(60);
            let mut para_no = 0;
            while budget > 0 {
                let len = (40 + rng.below(120)).min(budget.max(20));
                let mut notes = Vec::new();
                paragraph(&mut s, &mut rng, len, &mut note, &mut notes);
                s.push_str("\n\n");
                for (n, text) in notes {
                    s.push_str(&format!("[^{n}]: {text}\n\n"));
                }
                budget = budget.saturating_sub(len);
                para_no += 1;
                if para_no == 2 {
                    s.push_str("> ");
                    sentence(&mut s, &mut rng, 12, 20);
                    s.push_str("\n>\n> — ");
                    s.push_str(&title(&mut rng));
                    s.push_str("\n\n");
                    budget = budget.saturating_sub(25);
                }
            }
            if sec % 2 == 1 {
                for i in 0..4 {
                    s.push_str("- ");
                    sentence(&mut s, &mut rng, 4, 8);
                    s.push('\n');
                    if i == 1 {
                        s.push_str("  1. ");
                        sentence(&mut s, &mut rng, 3, 5);
                        s.push_str("\n  2. ");
                        sentence(&mut s, &mut rng, 3, 5);
                        s.push('\n');
                    }
                }
                s.push('\n');
            } else {
                for i in 1..=3 {
                    s.push_str(&format!("{i}. "));
                    sentence(&mut s, &mut rng, 5, 8);
                    s.push('\n');
                }
                s.push('\n');
            }
        }
        s.push_str("| Port | High water | Range (m) | Notes |\n|:-----|:----------:|----------:|:------|\n");
        for _ in 0..5 {
            let port = capitalised(rng.word(WORDS));
            let (h, m) = (rng.below(24), rng.below(60));
            let range = 1.0 + rng.below(60) as f64 / 10.0;
            let notes = format!("{} {}", rng.word(WORDS), rng.word(WORDS));
            s.push_str(&format!(
                "| {port} | {h:02}:{m:02} | {range:.1} | {notes} |\n"
            ));
        }
        s.push('\n');
        s.push_str(&format!(
            "```rust\n/// Tide height at `t` hours for chapter {c}.\nfn tide(t: f64) -> f64 {{\n    let range = {}.{};\n    range / 2.0 * (t * std::f64::consts::TAU / 12.42).cos()\n}}\n```\n\n",
            1 + rng.below(5),
            rng.below(10)
        ));
    }
    s
}

fn capitalised(w: &str) -> String {
    let mut cs = w.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

fn title(rng: &mut Rng) -> String {
    let n = 2 + rng.below(4);
    (0..n)
        .map(|_| capitalised(rng.word(&WORDS[90..])))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Appends a sentence of `min` to `min + spread - 1` words: capitalised, with the odd comma,
/// ending in a full stop.
fn sentence(s: &mut String, rng: &mut Rng, min: usize, spread: usize) {
    let n = min + rng.below(spread);
    for i in 0..n {
        let w = rng.word(WORDS);
        if i == 0 {
            s.push_str(&capitalised(w));
        } else {
            s.push(' ');
            s.push_str(w);
        }
        if i + 1 < n && rng.below(9) == 0 {
            s.push(',');
        }
    }
    s.push('.');
}

/// Appends a paragraph of about `n` words with inline markup; footnotes it references are
/// pushed to `notes` to be defined after the paragraph.
fn paragraph(
    s: &mut String,
    rng: &mut Rng,
    n: usize,
    note: &mut usize,
    notes: &mut Vec<(usize, String)>,
) {
    let mut left = n;
    let mut first = true;
    while left > 0 {
        let len = (6 + rng.below(18)).min(left);
        if !first {
            s.push(' ');
        }
        first = false;
        let mut words: Vec<String> = (0..len).map(|_| rng.word(WORDS).to_string()).collect();
        words[0] = capitalised(&words[0]);
        if len > 3 {
            let i = 1 + rng.below(len - 2);
            match rng.below(6) {
                0 => words[i] = format!("*{}*", words[i]),
                1 => words[i] = format!("**{}**", words[i]),
                2 => words[i] = format!("[{0}](https://example.org/{0})", words[i]),
                3 => words[i] = format!("`{}`", words[i]),
                _ => {}
            }
        }
        s.push_str(&words.join(" "));
        s.push('.');
        if rng.below(25) == 0 {
            *note += 1;
            s.push_str(&format!("[^{note}]"));
            let mut text = String::new();
            sentence(&mut text, rng, 6, 10);
            notes.push((*note, text));
        }
        left -= len;
    }
}

/// Words in `text` as `wc -w` counts them.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}
