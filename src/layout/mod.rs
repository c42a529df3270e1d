//! The typesetting engine: fonts, shaping, hyphenation, line breaking and pages.
//!
//! Pure Rust and free of PDF syntax: it turns the document model and a theme into
//! pages of positioned glyphs, rules and images ([`page`]), which `write::pdf` serialises.

pub mod fonts;
pub mod hyphen;
pub mod linebreak;
pub mod page;
pub mod shape;
