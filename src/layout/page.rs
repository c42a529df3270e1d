//! What the layout engine produces: pages of positioned items, in points.
//!
//! Coordinates have their origin at the top-left corner of the page and y grows
//! downwards, as in a book designer's head; the PDF writer flips them.

use compact_str::CompactString;
use std::borrow::Cow;

/// A colour as RGB bytes.
pub type Rgb = [u8; 3];

/// A typeset document: pages, the fonts they use, and the outline.
#[derive(Debug, Clone, Default)]
pub struct LaidOut {
    /// Pages in order.
    pub pages: Vec<Page>,
    /// Font faces referenced by [`GlyphRun::face`], by index.
    pub faces: Vec<FaceData>,
    /// Nested bookmarks (book → article → section).
    pub outline: Vec<OutlineEntry>,
}

/// One font face used in the document.
#[derive(Debug, Clone)]
pub struct FaceData {
    /// PostScript-style name without spaces, e.g. `EBGaramond-Italic`.
    pub name: String,
    /// The complete original font file (the PDF writer subsets it).
    pub data: Cow<'static, [u8]>,
}

/// One page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
    /// What is drawn, in painting order.
    pub items: Vec<Item>,
}

/// Something drawn on a page.
#[derive(Debug, Clone)]
pub enum Item {
    /// Shaped text on one baseline.
    Glyphs(GlyphRun),
    /// A horizontal or vertical line from (x1, y1) to (x2, y2).
    Line {
        /// Start x.
        x1: f32,
        /// Start y.
        y1: f32,
        /// End x.
        x2: f32,
        /// End y.
        y2: f32,
        /// Stroke width.
        thickness: f32,
        /// Stroke colour.
        color: Rgb,
    },
    /// A filled rectangle (code block backgrounds, table shading).
    Rect {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        width: f32,
        /// Height.
        height: f32,
        /// Fill colour.
        color: Rgb,
    },
    /// An image scaled into a box.
    Image {
        /// Index into the document's `Assets::items()`.
        asset: usize,
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Drawn width.
        width: f32,
        /// Drawn height.
        height: f32,
    },
    /// A clickable area.
    Link {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        width: f32,
        /// Height.
        height: f32,
        /// Where it goes.
        target: LinkTarget,
    },
    /// A named destination (heading, footnote) that links and the outline jump to.
    Dest {
        /// Unique name.
        name: String,
        /// Top of the destination.
        y: f32,
    },
}

/// Where a link goes.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkTarget {
    /// An external URL.
    Uri(String),
    /// A named destination inside the document.
    Internal(String),
}

/// Glyphs of one face and size on one baseline.
#[derive(Debug, Clone)]
pub struct GlyphRun {
    /// Index into [`LaidOut::faces`].
    pub face: usize,
    /// Font size in points.
    pub size: f32,
    /// Pen position of the first glyph.
    pub x: f32,
    /// Baseline.
    pub y: f32,
    /// Fill colour.
    pub color: Rgb,
    /// The glyphs, left to right.
    pub glyphs: Vec<PositionedGlyph>,
}

/// One glyph with its final advance (including kerning and justification).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionedGlyph {
    /// Glyph id in the original font.
    pub id: u16,
    /// Distance to the next glyph's pen position, in points.
    pub advance: f32,
    /// Horizontal offset from the pen position, in points.
    pub x_offset: f32,
    /// Vertical offset from the baseline, in points (positive = up).
    pub y_offset: f32,
    /// The text this glyph stands for (several characters for a ligature; empty for
    /// the second and later glyphs of one cluster). Inline up to 24 bytes: a book has
    /// hundreds of thousands of glyphs, and a heap string each was a tenth of its layout time.
    pub text: CompactString,
}

/// A bookmark.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineEntry {
    /// Title shown in the viewer's sidebar.
    pub title: String,
    /// Page index (0-based).
    pub page: usize,
    /// Top of the target on that page.
    pub y: f32,
    /// Nested entries.
    pub children: Vec<OutlineEntry>,
}
