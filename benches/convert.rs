//! Read + write EPUB and PDF for short sample articles and a generated long document.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use galley::assets::Assets;
use galley::layout::{self, LayoutOptions};
use galley::read::{self, Format};
use galley::theme::Theme;
use galley::write::epub::{self, EpubOptions};

mod common;

/// A deterministic long Markdown document: `chapters` chapters of sections, lists, quotes,
/// tables, code and footnotes (about 3,300 words per chapter).
fn long_markdown(chapters: usize) -> String {
    let words = [
        "harbour", "tide", "lantern", "quay", "north", "weather", "ferry", "island", "morning",
        "council", "stone", "bread", "letter", "signal", "current", "evening",
    ];
    let mut s = String::from(
        "---\ntitle: A Long Generated Book\nauthor: Bench Writer\ndate: 2025-01-01\n---\n\n",
    );
    let mut n = 0usize;
    let mut word = || {
        n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        words[(n >> 16) % words.len()]
    };
    for c in 1..=chapters {
        s.push_str(&format!("# Chapter {c}\n\n"));
        for sec in 1..=5 {
            s.push_str(&format!("## Section {c}.{sec}\n\n"));
            for p in 0..6 {
                let mut para = String::new();
                for w in 0..100 {
                    let wd = word();
                    match w % 29 {
                        3 => para.push_str(&format!("*{wd}* ")),
                        11 => para.push_str(&format!("**{wd}** ")),
                        17 => para.push_str(&format!("[{wd}](https://example.com/{wd}) ")),
                        _ => {
                            para.push_str(wd);
                            para.push(' ');
                        }
                    }
                }
                if p == 2 {
                    para.push_str(&format!("[^n{c}x{sec}]"));
                }
                s.push_str(para.trim_end());
                s.push_str(".\n\n");
            }
            s.push_str(&format!(
                "[^n{c}x{sec}]: A note on {} and {}.\n\n",
                word(),
                word()
            ));
            s.push_str("- first point\n- second point\n  1. nested\n  2. nested again\n\n");
            s.push_str("> A quoted line about the sea and the town.\n\n");
        }
        s.push_str("| Name | Value |\n|:-----|------:|\n| tide | 2.4 |\n| wind | 12 |\n\n");
        s.push_str("```rust\nfn main() {\n    println!(\"hello\");\n}\n```\n\n");
    }
    s
}

fn convert(source: &str, format: Format, theme: &Theme) -> Vec<u8> {
    let src = read::read_bytes("bench", source.as_bytes(), format).expect("read");
    let mut warnings = Vec::new();
    let assets = Assets::load(&src.document, None, "bench", &mut warnings);
    let opts = EpubOptions {
        modified: Some(0),
        toc_depth: 3,
        ..Default::default()
    };
    epub::write(&src.document, &assets, theme, &opts, &mut warnings).expect("write")
}

fn convert_pdf(source: &str, format: Format, theme: &Theme) -> Vec<u8> {
    let src = read::read_bytes("bench", source.as_bytes(), format).expect("read");
    let doc = &src.document;
    let mut warnings = Vec::new();
    let assets = Assets::load(doc, None, "bench", &mut warnings);
    let laid = layout::typeset(
        doc,
        &assets,
        theme,
        &LayoutOptions::default(),
        &mut warnings,
    )
    .expect("typeset");
    common::pdf_bytes(doc, laid, &assets)
}

fn bench(c: &mut Criterion) {
    let theme = Theme::default_theme().expect("theme");
    let article = include_str!("../samples/harbour-news.txt");
    let long = long_markdown(30);
    let mut g = c.benchmark_group("epub");
    g.sample_size(10);
    g.bench_function("news article (text)", |b| {
        b.iter(|| convert(black_box(article), Format::Text, &theme))
    });
    g.bench_function("long document (30 chapters, ~100k words)", |b| {
        b.iter(|| convert(black_box(&long), Format::Markdown, &theme))
    });
    g.bench_function("long document read only", |b| {
        b.iter(|| {
            read::read_bytes("bench", black_box(long.as_bytes()), Format::Markdown).expect("read")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pdf");
    g.sample_size(10);
    g.bench_function("news article (text)", |b| {
        b.iter(|| convert_pdf(black_box(article), Format::Text, &theme))
    });
    let tide = include_str!("../samples/tide-clock.md");
    g.bench_function("markdown article (tide-clock)", |b| {
        b.iter(|| convert_pdf(black_box(tide), Format::Markdown, &theme))
    });
    g.bench_function("long document (30 chapters, ~100k words)", |b| {
        b.iter(|| convert_pdf(black_box(&long), Format::Markdown, &theme))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
