//! Fonts: subsetting for embedding in EPUB and PDF.
pub mod subset;
