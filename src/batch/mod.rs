//! Many articles, one book: reading lists and book manifests.
//!
//! This module only works out *what* goes into a book: [`read_list`] reads a reading list
//! (`--from-list`, or `@FILE` in a manifest) and [`load`] a `book.toml` manifest, both into
//! [`InputRef`]s in book order. Fetching, reading and bundling the articles is the job of
//! [`crate::convert`] and [`crate::bundle`].
//!
//! Everything that can be checked without fetching is checked here (files exist, globs
//! match, dates parse), so mistakes are reported with their file and line up front.

pub mod error;
pub mod input;
pub mod list;
pub mod manifest;

pub use error::BatchError;
pub use input::{InputRef, dedup};
pub use list::read_list;
pub use manifest::{Manifest, ThemeRef, example, load};
