//! The HTML reader never panics, extracting the article or keeping the whole body
//! (the first byte chooses), with charset sniffing from `<meta>`.
#![no_main]

use galley::read::{ReadOptions, WebPage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, page)) = data.split_first() else {
        return;
    };
    let opts = ReadOptions {
        no_extract: mode & 1 == 1,
        ..ReadOptions::default()
    };
    let web = WebPage {
        url: "https://example.com/a/page.html",
        bytes: page,
        charset: None,
        media_type: Some("text/html"),
    };
    let _ = galley::read::read_web(&web, &opts);
});
