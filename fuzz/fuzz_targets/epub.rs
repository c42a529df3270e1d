//! Read → EPUB never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::render(data, galley::convert::OutputFormat::Epub);
});
