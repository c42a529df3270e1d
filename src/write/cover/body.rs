//! Sizing the title and subtitle to the space between the cover's top band and byline.

use super::text::{Face, Pen, balance, cap_height, truncate_lines, wrap};
use super::{
    SUBTITLE_MAX_LINES, TITLE_HARD_MAX_LINES, TITLE_MAX_LINES, TITLE_MAX_SIZE, TITLE_MIN_SIZE,
    WORD_BREAK_SIZE,
};

/// The title and subtitle block: sizes, leading and lines, with heights in pixels from the
/// block's top.
pub(super) struct Body {
    pub(super) height: f32,
    pub(super) title_size: f32,
    pub(super) title_lead: f32,
    pub(super) title_cap: f32,
    pub(super) title_lines: Vec<String>,
    pub(super) subtitle_size: f32,
    pub(super) subtitle_lead: f32,
    pub(super) subtitle_cap: f32,
    pub(super) subtitle_top: f32,
    pub(super) subtitle_lines: Vec<String>,
}

/// Sizes the title (and the subtitle with it) to the largest size at which both fit
/// `available` pixels of height within `text_w`, balancing the title's lines.
pub(super) fn layout_body(
    title_font: &Face,
    text_font: &Face,
    title: &str,
    subtitle: Option<&str>,
    text_w: f32,
    available: f32,
) -> Body {
    let title_lines_h = |n: usize, cap: f32, lead: f32| {
        if n == 0 {
            0.0
        } else {
            cap + lead * (n - 1) as f32
        }
    };
    // The subtitle size only takes a few distinct values, so reuse its wrap.
    let mut sub_cache: Option<(f32, Vec<String>)> = None;
    // Widths scale linearly with size, so one measurement rules out sizes at
    // which the title cannot possibly fit in the allowed lines, skipping
    // pointless wraps of very long titles.
    let mut flat = Pen::default();
    flat.push_str(title_font, TITLE_MAX_SIZE, title);
    let mut size = TITLE_MAX_SIZE;
    loop {
        let at_min = size <= TITLE_MIN_SIZE;
        if !at_min && flat.width * size / TITLE_MAX_SIZE > text_w * TITLE_MAX_LINES as f32 {
            size = (size * 0.93).max(TITLE_MIN_SIZE);
            continue;
        }
        let greedy = wrap(title_font, size, title, text_w);
        let n = greedy.lines.len();
        // Shrinking to fit one monster word would make the whole title tiny, so
        // below a floor we accept breaking it instead.
        let title_ok = n <= TITLE_MAX_LINES && (!greedy.broke_word || size <= WORD_BREAK_SIZE);
        let title_lead = size * 0.88;
        let title_cap = cap_height(title_font, size);

        // The subtitle tracks the title so that a small title doesn't sit on a
        // subtitle of nearly the same size.
        let sub_size = (size * 0.42).clamp(50.0, 72.0);
        let sub_lead = sub_size * 1.22;
        let sub_cap = cap_height(text_font, sub_size);
        let sub_lines = match (&sub_cache, subtitle) {
            (Some((cached, lines)), _) if *cached == sub_size => lines.clone(),
            (_, Some(s)) => {
                let w = wrap(text_font, sub_size, s, text_w).lines;
                let lines = truncate_lines(text_font, sub_size, w, SUBTITLE_MAX_LINES, text_w);
                sub_cache = Some((sub_size, lines.clone()));
                lines
            }
            (_, None) => Vec::new(),
        };
        let sub_gap = if n == 0 { 0.0 } else { size * 0.55 + 40.0 };
        let sub_h = if sub_lines.is_empty() {
            0.0
        } else {
            sub_gap + title_lines_h(sub_lines.len(), sub_cap, sub_lead)
        };
        let fits = title_lines_h(n, title_cap, title_lead) + sub_h + size * 0.3 <= available;

        if (title_ok && fits) || at_min {
            let lines = if fits && n <= TITLE_HARD_MAX_LINES {
                balance(title_font, size, title, text_w, greedy).lines
            } else {
                // Only pathological titles get here: cut to what fits.
                let room = available - sub_h - title_cap - size * 0.3;
                let max_lines =
                    (1 + (room / title_lead).max(0.0) as usize).min(TITLE_HARD_MAX_LINES);
                truncate_lines(title_font, size, greedy.lines, max_lines, text_w)
            };
            let title_h = title_lines_h(lines.len(), title_cap, title_lead);
            return Body {
                height: title_h + sub_h,
                title_size: size,
                title_lead,
                title_cap,
                subtitle_top: title_h + sub_gap,
                title_lines: lines,
                subtitle_size: sub_size,
                subtitle_lead: sub_lead,
                subtitle_cap: sub_cap,
                subtitle_lines: sub_lines,
            };
        }
        size = (size * 0.93).max(TITLE_MIN_SIZE);
    }
}
