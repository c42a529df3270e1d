//! The Markdown reader never panics: any bytes (decoded as galley decodes files).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = galley::read::read_bytes("fuzz.md", data, galley::read::Format::Markdown);
});
