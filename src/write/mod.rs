//! Writers: the document model to output files.

pub mod cover;
pub mod epub;
pub mod links;
pub mod output;
pub mod pdf;
pub(crate) mod pdf_tidy;
pub mod raw_html;
pub(crate) mod spill;
