//! galley: articles in, EPUB 3 (and print) out.
//!
//! The pipeline is `read` (source bytes → [`model::Document`]) then `write`
//! (document + [`theme::Theme`] → output files). Readers never write, writers never parse.

pub mod assets;
pub mod batch;
pub(crate) mod beside;
pub mod book;
pub mod bundle;
pub mod convert;
pub mod fetch;
pub mod font;
pub mod layout;
pub mod limits;
pub mod model;
pub mod parallel;
pub mod read;
pub mod theme;
pub mod warm;
pub mod write;
