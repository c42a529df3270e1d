//! What the benches share: writing a laid-out document as PDF with fixed metadata.

use galley::assets::Assets;
use galley::layout::page::LaidOut;
use galley::model::Document;
use galley::write::pdf::{PdfInfo, write_pdf};

/// PDF bytes for `laid`, with the document's title, authors and tags and a fixed date.
pub fn pdf_bytes(doc: &Document, laid: LaidOut, assets: &Assets) -> Vec<u8> {
    let info = PdfInfo {
        title: doc.meta.title.as_deref().unwrap_or("Untitled"),
        authors: &doc.meta.authors,
        subject: None,
        keywords: &doc.meta.tags,
        language: "en",
        created: 0,
    };
    write_pdf(laid, assets.items(), &info, &mut Vec::new()).expect("pdf")
}
