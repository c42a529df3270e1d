//! Running heads and feet: the theme's templates filled in per page and set in the margins.

use super::blocks::{Ctx, shift_item};
use super::fonts::Role;
use super::page::{Item, Page};
use super::paragraph::{self, Align, ParaSpec, TextLook};
use crate::model::Inline;
use crate::theme::EdgeAlign;
use crate::theme::check::fill;

/// What the templates can show on one page, and where the text block is.
pub(crate) struct Frame<'a> {
    /// 1-based page number.
    pub number: usize,
    /// Document title.
    pub title: &'a str,
    /// Current section.
    pub section: &'a str,
    /// Authors, joined.
    pub author: &'a str,
    /// Text block left edge.
    pub left: f32,
    /// Text block width.
    pub width: f32,
    /// Text block top.
    pub top: f32,
    /// Text block bottom.
    pub bottom: f32,
    /// Bottom margin height.
    pub margin_bottom: f32,
}

/// Adds the running head and foot to `page` (never called for the first page).
pub(crate) fn decorate(ctx: &mut Ctx, page: &mut Page, f: &Frame) {
    let theme = ctx.theme;
    let recto = f.number % 2 == 1;
    let pg = &theme.page;
    let (head_t, foot_t) = if recto {
        (&pg.header_recto, &pg.footer_recto)
    } else {
        (&pg.header_verso, &pg.footer_verso)
    };
    let number = f.number.to_string();
    let values = [
        ("title", f.title),
        ("section", f.section),
        ("author", f.author),
        ("page", number.as_str()),
    ];
    let align = match (pg.header_align, recto) {
        (EdgeAlign::Center, _) => Align::Center,
        (EdgeAlign::Outside, true) | (EdgeAlign::Inside, false) => Align::Right,
        (EdgeAlign::Outside, false) | (EdgeAlign::Inside, true) => Align::Left,
    };
    let size = theme.text.size;
    let look = TextLook {
        role: Role::Body,
        size: size * 0.85,
        bold: false,
        italic: true,
        color: ctx.palette.text,
        tracking: 0.02,
    };
    let head = fill(head_t, &values);
    let head_base = f.top - size * 1.8;
    if !head.is_empty() {
        let items = one_line(ctx, &head, &look, f.width, align);
        page.items.extend(items.into_iter().map(|mut it| {
            shift_item(&mut it, f.left, head_base);
            it
        }));
        if pg.header_rule {
            let y = head_base + size * 0.55;
            page.items.push(Item::Line {
                x1: f.left,
                y1: y,
                x2: f.left + f.width,
                y2: y,
                thickness: 0.4,
                color: ctx.palette.rule,
            });
        }
    }
    let foot = fill(foot_t, &values);
    if !foot.is_empty() {
        let foot_look = TextLook {
            italic: false,
            tracking: 0.0,
            ..look
        };
        let base = f.bottom + (f.margin_bottom * 0.5).min(size * 2.4);
        let items = one_line(ctx, &foot, &foot_look, f.width, align);
        page.items.extend(items.into_iter().map(|mut it| {
            shift_item(&mut it, f.left, base);
            it
        }));
    }
}

/// A single line of `text`, shortened with an ellipsis if too long; items relative to the
/// baseline at the measure's left edge.
pub(crate) fn one_line(
    ctx: &mut Ctx,
    text: &str,
    look: &TextLook,
    width: f32,
    align: Align,
) -> Vec<Item> {
    let spec = ParaSpec {
        look: *look,
        leading: look.size * 1.2,
        align,
        hyphenate: false,
        indent: 0.0,
        width,
    };
    let all: Vec<&str> = text.split_whitespace().collect();
    // No glyph is narrower than a fifth of an em, so no line holds more characters than
    // this: longer text is cut before it is set. Then the longest prefix of words that fits
    // is found by bisection. Taking one word off at a time re-set the whole text each time,
    // which took seconds per page for a title of a thousand words.
    let max_chars = (width / (look.size * 0.2)).max(0.0) as usize + 1;
    let mut upper = 0;
    let mut chars = 0;
    for w in &all {
        if chars > max_chars {
            break;
        }
        chars += w.chars().count() + 1;
        upper += 1;
    }
    let set = |ctx: &mut Ctx, k: usize| {
        let mut t = all[..k].join(" ");
        if k < all.len() {
            t.push('…');
        }
        paragraph::set_lines(ctx, &[Inline::text(t)], &spec)
    };
    let mut lines = set(ctx, upper);
    if lines.len() > 1 && upper > 1 {
        // Invariant: `lo` words fit on a line (or `lo` is 1), `hi` words do not.
        let (mut lo, mut hi) = (1, upper);
        let mut best = None;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let attempt = set(ctx, mid);
            if attempt.len() <= 1 {
                lo = mid;
                best = Some(attempt);
            } else {
                hi = mid;
            }
        }
        lines = match best {
            Some(fit) => fit,
            None => set(ctx, lo),
        };
    }
    lines
        .into_iter()
        .next()
        .map(|l| {
            l.items
                .into_iter()
                .filter(|i| matches!(i, Item::Glyphs(_)))
                .collect()
        })
        .unwrap_or_default()
}
