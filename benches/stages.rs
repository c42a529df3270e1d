//! Read, layout and write stages measured separately, for a short news article and a
//! generated 100,000-word book (see `gen.rs`; `examples/gen_book.rs` prints the same book).

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use galley::assets::Assets;
use galley::layout::page::LaidOut;
use galley::layout::{self, LayoutOptions};
use galley::model::Document;
use galley::read::{self, Format};
use galley::theme::Theme;
use galley::write::epub::{self, EpubOptions};

mod common;
#[path = "gen.rs"]
mod generator;

fn read(source: &str, format: Format) -> Document {
    read::read_bytes("bench", source.as_bytes(), format)
        .expect("read")
        .document
}

fn write_epub(doc: &Document, assets: &Assets, theme: &Theme) -> Vec<u8> {
    let opts = EpubOptions {
        modified: Some(0),
        toc_depth: 3,
        ..Default::default()
    };
    epub::write(doc, assets, theme, &opts, &mut Vec::new()).expect("epub")
}

fn typeset(doc: &Document, assets: &Assets, theme: &Theme) -> LaidOut {
    let opts = LayoutOptions::default();
    layout::typeset(doc, assets, theme, &opts, &mut Vec::new()).expect("typeset")
}

fn stages(c: &mut Criterion, name: &str, source: &str, format: Format, samples: usize) {
    let theme = Theme::default_theme().expect("theme");
    let doc = read(source, format);
    let assets = Assets::load(&doc, None, "bench", &mut Vec::new());
    let laid = typeset(&doc, &assets, &theme);
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.bench_function("read", |b| b.iter(|| read(black_box(source), format)));
    g.bench_function("epub write", |b| {
        b.iter(|| write_epub(black_box(&doc), &assets, &theme))
    });
    g.bench_function("pdf layout", |b| {
        b.iter(|| typeset(black_box(&doc), &assets, &theme))
    });
    // The writer consumes the layout; cloning it is kept out of the measurement.
    g.bench_function("pdf write", |b| {
        b.iter_batched(
            || laid.clone(),
            |l| common::pdf_bytes(&doc, black_box(l), &assets),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let article = include_str!("../samples/harbour-news.txt");
    stages(c, "article", article, Format::Text, 20);
    let book = generator::book(100_000, 1);
    stages(c, "book-100k", &book, Format::Markdown, 10);
}

criterion_group!(benches, bench);
criterion_main!(benches);
