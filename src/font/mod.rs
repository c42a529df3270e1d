//! Fonts: subsetting for embedding in EPUB and PDF, and naming scripts for warnings.
pub mod script;
pub mod sfnt;
pub mod subset;
