//! Knuth–Plass "total fit" line breaking (Knuth & Plass, *Breaking Paragraphs
//! into Lines*, 1981), following TeX's `line_break` closely.
//!
//! A paragraph is a sequence of [`Item`]s; [`break_lines`] chooses the breaks
//! that minimise the paragraph's total demerits and returns one [`Line`] per
//! line. Like TeX it tries up to three passes:
//!
//! 1. without hyphenation (non-forced flagged penalties are not breakpoints),
//!    lines may stretch up to [`Params::pretolerance`];
//! 2. with every breakpoint, up to [`Params::tolerance`];
//! 3. an emergency pass that always succeeds: a line looser than the
//!    tolerance is accepted when it is the fullest possible from its start,
//!    and an overfull one when it is the shortest overfull one, the latter at
//!    enormous demerits growing with the overflow, so the least-bad breaks win.
//!
//! Time is linear in the number of items for realistic text (measured: a
//! 5,000-word paragraph, 20,000 items, takes about 0.6 ms when pass 1
//! succeeds, 3 ms when pass 2 is needed); it grows with the number of
//! breakpoints that fit on one line, so absurdly wide measures are slower.
//!
//! TeX conventions kept here: a glue is a breakpoint only right after a box;
//! a penalty `<= -INFINITY` forces a break and `>= INFINITY` forbids one;
//! glue and penalties after a break are discarded up to the next box. Where
//! TeX would build a line containing no box (e.g. two forced breaks in a row)
//! the second break is ignored instead, so every line holds at least one box.
//!
//! Stretch or shrink of magnitude `>= INFINITY` (including `f32::INFINITY`) is
//! infinite, like TeX's `fil`: a line containing it is set at natural width
//! with the remaining space going to that glue. End paragraphs with
//! `Glue { 0, INFINITY, 0 }` and `Penalty { 0, -INFINITY, false }`; a
//! paragraph whose last item is not a forced break is ended exactly that way.
//!
//! Ragged right, as in TeX's `\raggedright`: separate words with
//! `Glue { 0, s, 0 }`, `Penalty { 0, 0, false }`, `Glue { space, -s, 0 }`
//! (`s` about 3em). Within a line the stretches cancel; at a break the last
//! glue is discarded, leaving `s` of stretch at the line's end only.

use std::ops::Range;

/// Penalty or stretch magnitude treated as infinite: a penalty `>= INFINITY`
/// forbids a break, `<= -INFINITY` forces one; glue stretch or shrink
/// `>= INFINITY` is infinitely flexible.
pub const INFINITY: f32 = 10_000.0;

/// TeX's `inf_bad`: the badness of a line that cannot be set acceptably.
const INF_BAD: f64 = 10_000.0;
/// Slack absorbing rounding in width sums, in points.
const EPSILON: f64 = 1e-4;
/// Bound on any dimension, so sums stay finite and comparable.
const MAX_DIMEN: f64 = 1.0e7;
/// Bound on tolerances, so that an unstretchable line (ratio ∞) stays infeasible.
const MAX_TOLERANCE: f64 = 1.0e6;
/// Emergency pass only: an overfull line costs more than any sensible
/// combination of bad lines, and more the further it sticks out.
const OVERFULL_DEMERITS: f64 = 1.0e10;
const OVERFULL_DEMERITS_PER_PT: f64 = 1.0e8;

/// TeX's fitness classes, numbered so that "adjacent" means a difference <= 1.
const VERY_LOOSE: u8 = 0;
const LOOSE: u8 = 1;
const DECENT: u8 = 2;
const TIGHT: u8 = 3;

/// One element of a paragraph in the Knuth–Plass model. Widths are in points.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<T> {
    /// Unbreakable material (a word, a word fragment, a fixed space).
    Box {
        /// Width of the material; may be negative (kerns).
        width: f32,
        /// Caller's payload, never inspected.
        content: T,
    },
    /// Flexible space; a breakpoint when it directly follows a box.
    Glue {
        /// Natural width.
        width: f32,
        /// How much it may grow at ratio 1; `>= INFINITY` is infinite.
        stretch: f32,
        /// How much it may shrink at ratio -1; `>= INFINITY` is infinite.
        shrink: f32,
    },
    /// A possible breakpoint with a cost.
    Penalty {
        /// Width added to the line if it breaks here (a hyphen), else 0.
        width: f32,
        /// Cost of breaking here; see [`INFINITY`].
        penalty: f32,
        /// Hyphenation point: consecutive flagged breaks cost
        /// [`Params::flagged_demerits`], and pass 1 ignores them.
        flagged: bool,
    },
}

impl<T> Item<T> {
    fn is_box(&self) -> bool {
        matches!(self, Item::Box { .. })
    }
}

/// Measure of each line: `first[i]` for line `i` while there are entries
/// (indents, drop caps, text beside a float), then `rest`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineWidths {
    /// Widths of the first lines, in order.
    pub first: Vec<f32>,
    /// Width of every later line.
    pub rest: f32,
}

impl LineWidths {
    /// The same width for every line.
    pub fn uniform(width: f32) -> Self {
        LineWidths {
            first: Vec::new(),
            rest: width,
        }
    }

    /// Width of line `line` (0-based), as given.
    pub fn get(&self, line: usize) -> f32 {
        self.first.get(line).copied().unwrap_or(self.rest)
    }
}

/// Parameters of [`break_lines`]; [`Params::new`] gives usual values.
///
/// Non-finite or negative values are clamped rather than rejected: widths to
/// `0..`, tolerances to `0..=1e6`, demerits to finite values `>= 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Measure of each line.
    pub line_widths: LineWidths,
    /// Largest adjustment ratio accepted in pass 2 (TeX's `\tolerance`, as a
    /// ratio rather than a badness: 1 ≈ badness 100, 2 ≈ 800).
    pub tolerance: f32,
    /// Largest ratio of pass 1, which does not hyphenate; negative skips it.
    pub pretolerance: f32,
    /// Added to every line's badness before squaring; favours fewer lines.
    pub line_penalty: f32,
    /// Extra demerits for two consecutive lines ending at flagged penalties.
    pub flagged_demerits: f32,
    /// Extra demerits for adjacent lines whose fitness classes (very loose,
    /// loose, decent, tight) are not neighbours.
    pub fitness_demerits: f32,
    /// Desired number of lines more (or fewer, if negative) than optimal;
    /// honoured as far as feasible without exceeding the tolerance, like
    /// TeX's `\looseness` (the emergency pass ignores it).
    pub looseness: i32,
}

impl Params {
    /// Defaults for a uniform measure: tolerance 2, pretolerance 1, line
    /// penalty 10, flagged and fitness demerits 3000, looseness 0.
    pub fn new(width: f32) -> Self {
        Params {
            line_widths: LineWidths::uniform(width),
            tolerance: 2.0,
            pretolerance: 1.0,
            line_penalty: 10.0,
            flagged_demerits: 3000.0,
            fitness_demerits: 3000.0,
            looseness: 0,
        }
    }
}

/// One line chosen by [`break_lines`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// First item on the line: 0 for the first line, else the first box after
    /// the previous break (the glue and penalties before it are discarded).
    pub start: usize,
    /// Index of the break item, excluded from the line (its width is added
    /// when it is a penalty, i.e. a hyphen); `items.len()` for an implicit
    /// paragraph end.
    pub end: usize,
    /// Adjustment ratio for finite glue: `width + ratio * stretch` if
    /// positive, `width + ratio * shrink` if negative. 0 when the line holds
    /// infinite glue (which takes the slack) or has nothing to stretch; -1
    /// when overfull.
    pub ratio: f32,
    /// The line ends at a flagged penalty (show a hyphen).
    pub hyphenated: bool,
    /// Even fully shrunk, the line is wider than its measure.
    pub overfull: bool,
}

impl Line {
    /// Indices of the items set on this line (penalties inside it have no width).
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The items set on this line; empty if `items` is not the slice broken.
    pub fn items<'a, T>(&self, items: &'a [Item<T>]) -> &'a [Item<T>] {
        items.get(self.range()).unwrap_or(&[])
    }

    /// Width of a glue on this line after adjustment. Infinite glue keeps its
    /// natural width here; the line's leftover space is its to take.
    pub fn glue_width(&self, width: f32, stretch: f32, shrink: f32) -> f32 {
        let flex = if self.ratio >= 0.0 { stretch } else { shrink };
        if flex.is_finite() && flex.abs() < INFINITY {
            width + self.ratio * flex
        } else {
            width
        }
    }
}

/// Breaks `items` into lines of `params.line_widths`, minimising total
/// demerits. Never panics; returns no lines when there is no box. Every line
/// holds a box, and lines are in order, disjoint and cover every box.
pub fn break_lines<T>(items: &[Item<T>], params: &Params) -> Vec<Line> {
    let paragraph = Paragraph::new(items);
    if paragraph.next_box.first().is_none_or(|&b| b >= paragraph.n) {
        return Vec::new();
    }
    let settings = Settings::new(params);
    [Pass::Plain, Pass::Full, Pass::Emergency]
        .into_iter()
        .find_map(|pass| paragraph.run(&settings, pass))
        .unwrap_or_else(|| paragraph.single_line(&settings))
}

/// Parameters made finite and non-negative where that matters.
struct Settings {
    first: Vec<f64>,
    rest: f64,
    tolerance: f64,
    pretolerance: Option<f64>,
    line_penalty: f64,
    flagged_demerits: f64,
    fitness_demerits: f64,
    looseness: i32,
}

impl Settings {
    fn new(p: &Params) -> Self {
        let tolerance = |t: f32| {
            if t.is_nan() {
                2.0
            } else {
                f64::from(t).clamp(0.0, MAX_TOLERANCE)
            }
        };
        let demerits = |d: f32| {
            if d.is_nan() {
                0.0
            } else {
                f64::from(d).clamp(0.0, 1.0e12)
            }
        };
        let rest = measure(p.line_widths.rest);
        let mut first: Vec<f64> = p.line_widths.first.iter().map(|&w| measure(w)).collect();
        // Trailing widths equal to `rest` would only split node classes and
        // disable the uniform-measure shortcut.
        while first.last() == Some(&rest) {
            first.pop();
        }
        Settings {
            first,
            rest,
            tolerance: tolerance(p.tolerance),
            // A NaN pretolerance is as meaningless as a negative one: skip.
            pretolerance: (p.pretolerance >= 0.0).then(|| tolerance(p.pretolerance)),
            line_penalty: if p.line_penalty.is_nan() {
                0.0
            } else {
                f64::from(p.line_penalty).clamp(-INF_BAD, INF_BAD)
            },
            flagged_demerits: demerits(p.flagged_demerits),
            fitness_demerits: demerits(p.fitness_demerits),
            looseness: p.looseness,
        }
    }

    /// Largest ratio accepted in `pass`; `None` if the pass is skipped.
    fn tolerance(&self, pass: Pass) -> Option<f64> {
        match pass {
            Pass::Plain => self.pretolerance,
            Pass::Full | Pass::Emergency => Some(self.tolerance),
        }
    }

    fn width(&self, line: usize) -> f64 {
        self.first.get(line).copied().unwrap_or(self.rest)
    }

    /// Nodes whose future lines all have the same widths are interchangeable
    /// (TeX's `easy_line`), unless looseness needs exact line counts.
    fn class(&self, line: usize) -> usize {
        if self.looseness == 0 {
            line.min(self.first.len())
        } else {
            line
        }
    }
}

fn measure(w: f32) -> f64 {
    if w.is_nan() {
        0.0
    } else {
        f64::from(w).clamp(0.0, MAX_DIMEN)
    }
}

fn dimen(w: f32) -> f64 {
    if w.is_nan() {
        0.0
    } else {
        f64::from(w).clamp(-MAX_DIMEN, MAX_DIMEN)
    }
}

/// Splits a stretch or shrink into (finite part, infinite order count).
fn flex(x: f32) -> (f64, f64) {
    if x.is_nan() {
        (0.0, 0.0)
    } else if x.abs() >= INFINITY {
        (0.0, f64::from(x.signum()))
    } else {
        (f64::from(x), 0.0)
    }
}

/// Running totals of widths and flexibility over a prefix of the items.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    width: f64,
    stretch: f64,
    fill: f64,
    shrink: f64,
    fill_shrink: f64,
}

/// A legal breakpoint.
#[derive(Debug, Clone, Copy)]
struct Break {
    pos: usize,
    penalty: f64,
    width: f64,
    flagged: bool,
    forced: bool,
    /// Infinite stretch of the implicit paragraph end.
    fill: f64,
}

/// Everything about the items the passes need, computed once.
struct Paragraph {
    n: usize,
    /// `sums[i]` covers `items[..i]`.
    sums: Vec<Sums>,
    /// `next_box[i]`: first box at or after `i`, or `n`.
    next_box: Vec<usize>,
    /// `irregular[i] == irregular[j]` for line starts `i <= j` guarantees
    /// that no line start in between gives a wider or more stretchable line.
    irregular: Vec<usize>,
    breaks: Vec<Break>,
}

/// How a line from some breakpoint to another sets.
#[derive(Debug, Clone, Copy)]
struct Fit {
    /// Adjustment ratio; +∞ when short with nothing to stretch.
    ratio: f64,
    badness: f64,
    overfull: bool,
    /// Width beyond the measure after full shrinking.
    excess: f64,
}

impl Fit {
    const EXACT: Fit = Fit {
        ratio: 0.0,
        badness: 0.0,
        overfull: false,
        excess: 0.0,
    };

    fn fitness(&self) -> u8 {
        if self.overfull {
            TIGHT
        } else if self.ratio < 0.0 {
            if self.badness > 12.0 { TIGHT } else { DECENT }
        } else if self.badness > 99.0 {
            VERY_LOOSE
        } else if self.badness > 12.0 {
            LOOSE
        } else {
            DECENT
        }
    }

    /// Ratio to report: finite, and -1 (fully shrunk) when overfull.
    fn reported_ratio(&self) -> f32 {
        if self.overfull {
            -1.0
        } else if self.ratio.is_finite() {
            // Stretch can be tiny enough to overflow f32; clamping keeps the
            // ratio usable (it only matters for such degenerate glue).
            self.ratio.min(f64::from(f32::MAX)) as f32
        } else {
            0.0
        }
    }
}

fn badness(ratio: f64) -> f64 {
    (100.0 * ratio.abs().powi(3)).min(INF_BAD)
}

/// An active breakpoint: the best way found to end a line at `pos`.
#[derive(Debug, Clone, Copy)]
struct Node {
    pos: usize,
    /// Where the following line starts.
    start: usize,
    /// First box of the following line, `n` if none: no line may end before it.
    first_box: usize,
    /// Lines ending at or before this node.
    line: usize,
    /// Width of the following line.
    measure: f64,
    fitness: u8,
    flagged: bool,
    total: f64,
    prev: Option<usize>,
    /// Of the line ending here.
    ratio: f32,
    overfull: bool,
}

/// A possible new node at the breakpoint being examined.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    class: usize,
    fitness: u8,
    total: f64,
    prev: usize,
    ratio: f32,
    overfull: bool,
}

/// TeX's passes: without hyphenation, with it, and the one that cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Plain,
    Full,
    Emergency,
}

impl Paragraph {
    fn new<T>(items: &[Item<T>]) -> Self {
        let n = items.len();
        let mut sums = Vec::with_capacity(n + 1);
        let mut acc = Sums::default();
        sums.push(acc);
        for item in items {
            match *item {
                Item::Box { width, .. } => acc.width += dimen(width),
                Item::Glue {
                    width,
                    stretch,
                    shrink,
                } => {
                    let (st, fill) = flex(stretch);
                    let (sh, fill_shrink) = flex(shrink);
                    acc.width += dimen(width);
                    acc.stretch += st;
                    acc.fill += fill;
                    acc.shrink += sh;
                    acc.fill_shrink += fill_shrink;
                }
                Item::Penalty { .. } => {}
            }
            sums.push(acc);
        }

        // Lines start at 0 or at a box. Count the stretches between such
        // anchors that lose width or stretchability (negative kerns, the
        // raggedright glue triple does not).
        let mut irregular = vec![0; n + 1];
        let (mut count, mut anchor) = (0, 0);
        for i in 1..=n {
            if i == n || items[i].is_box() {
                let (a, b) = (sums[anchor], sums[i]);
                if b.width < a.width || b.stretch < a.stretch || b.fill < a.fill {
                    count += 1;
                }
                anchor = i;
            }
            irregular[i] = count;
        }

        let mut next_box = vec![n; n + 1];
        for i in (0..n).rev() {
            next_box[i] = if items[i].is_box() {
                i
            } else {
                next_box[i + 1]
            };
        }

        let mut breaks = Vec::new();
        for (pos, item) in items.iter().enumerate() {
            let brk = match *item {
                Item::Glue { .. } if pos > 0 && items[pos - 1].is_box() => Break {
                    pos,
                    penalty: 0.0,
                    width: 0.0,
                    flagged: false,
                    forced: false,
                    fill: 0.0,
                },
                Item::Penalty {
                    width,
                    penalty,
                    flagged,
                } if penalty < INFINITY || penalty.is_nan() => Break {
                    pos,
                    penalty: if penalty.is_nan() {
                        0.0
                    } else {
                        f64::from(penalty)
                    },
                    width: dimen(width),
                    flagged,
                    forced: penalty <= -INFINITY,
                    fill: 0.0,
                },
                _ => continue,
            };
            // Ending a line where only discardable items follow would leave
            // the paragraph without its proper (forced) end.
            if brk.forced || next_box[pos + 1] < n {
                breaks.push(brk);
            }
        }
        // The implicit end; unreachable (no box) if the items end with a
        // forced break, otherwise it supplies the missing `\parfillskip`.
        breaks.push(Break {
            pos: n,
            penalty: f64::NEG_INFINITY,
            width: 0.0,
            flagged: false,
            forced: true,
            fill: 1.0,
        });

        Paragraph {
            n,
            sums,
            next_box,
            irregular,
            breaks,
        }
    }

    /// How the items from `start` up to `brk` set in `width`. A line looser
    /// than `limit` gets ratio +∞ without computing it: most lines tried are
    /// hopelessly short, and skipping the division halves the running time.
    #[inline]
    fn fit(&self, start: usize, brk: &Break, width: f64, limit: f64) -> Fit {
        let (s, e) = (self.sums[start], self.sums[brk.pos]);
        let natural = e.width - s.width + brk.width;
        let diff = width - natural;
        if diff > EPSILON {
            if e.fill - s.fill + brk.fill > 0.0 {
                return Fit::EXACT;
            }
            let stretch = e.stretch - s.stretch;
            let ratio = if stretch > 0.0 && diff <= limit * stretch {
                diff / stretch
            } else {
                f64::INFINITY
            };
            Fit {
                ratio,
                badness: badness(ratio),
                overfull: false,
                excess: 0.0,
            }
        } else if diff < -EPSILON {
            if e.fill_shrink - s.fill_shrink > 0.0 {
                return Fit::EXACT;
            }
            let excess = -diff;
            let shrink = (e.shrink - s.shrink).max(0.0);
            if excess <= shrink + EPSILON {
                let ratio = -(excess / shrink).min(1.0);
                Fit {
                    ratio,
                    badness: badness(ratio),
                    overfull: false,
                    excess: 0.0,
                }
            } else {
                Fit {
                    ratio: -1.0,
                    badness: INF_BAD,
                    overfull: true,
                    excess: excess - shrink,
                }
            }
        } else {
            Fit::EXACT
        }
    }

    /// TeX's demerits for the line `fit` ending at `brk` after node `prev`.
    fn demerits(&self, s: &Settings, fit: &Fit, brk: &Break, prev: &Node) -> f64 {
        let base = (s.line_penalty + fit.badness).abs().min(INF_BAD);
        let mut d = base * base;
        if brk.penalty > 0.0 {
            d += brk.penalty * brk.penalty;
        } else if !brk.forced {
            d -= brk.penalty * brk.penalty;
        }
        if brk.flagged && prev.flagged {
            d += s.flagged_demerits;
        }
        if fit.fitness().abs_diff(prev.fitness) > 1 {
            d += s.fitness_demerits;
        }
        if fit.overfull {
            d += OVERFULL_DEMERITS + OVERFULL_DEMERITS_PER_PT * fit.excess;
        }
        d
    }

    /// The new node a line from `node` to `breaks[k]` would give, if the
    /// pass accepts that line (`prev` is left for the caller to fill in).
    fn candidate(
        &self,
        s: &Settings,
        pass: Pass,
        breaks: &[&Break],
        k: usize,
        node: &Node,
        mut fit: Fit,
    ) -> Option<Candidate> {
        let brk = breaks.get(k)?;
        let tolerance = s.tolerance(pass)?;
        let emergency = pass == Pass::Emergency;
        let feasible = if fit.overfull {
            emergency
        } else if fit.ratio <= tolerance {
            true
        } else if emergency
            && (brk.forced
                || breaks
                    .get(k + 1)
                    .is_none_or(|next| self.fit(node.start, next, node.measure, 0.0).overfull))
        {
            // In an emergency, a too-loose line is only worth trying as the
            // fullest one from `node`; this also keeps the active list short.
            fit = self.fit(node.start, brk, node.measure, f64::INFINITY);
            true
        } else {
            false
        };
        feasible.then(|| Candidate {
            class: s.class(node.line + 1),
            fitness: fit.fitness(),
            total: node.total + self.demerits(s, &fit, brk, node),
            prev: 0,
            ratio: fit.reported_ratio(),
            overfull: fit.overfull,
        })
    }

    /// One pass of the algorithm; `None` if it finds no acceptable breaks
    /// (never for the emergency pass).
    fn run(&self, s: &Settings, pass: Pass) -> Option<Vec<Line>> {
        let tolerance = s.tolerance(pass)?;
        let emergency = pass == Pass::Emergency;
        let breaks: Vec<&Break> = self
            .breaks
            .iter()
            .filter(|b| pass != Pass::Plain || b.forced || !b.flagged)
            .collect();

        let first_box = *self.next_box.first()?;
        let mut nodes = vec![Node {
            pos: 0,
            start: 0,
            first_box,
            line: 0,
            measure: s.width(0),
            fitness: DECENT,
            flagged: false,
            total: 0.0,
            prev: None,
            ratio: 0.0,
            overfull: false,
        }];
        let mut active: Vec<usize> = vec![0];
        let mut candidates: Vec<Candidate> = Vec::new();

        for (k, &brk) in breaks.iter().enumerate() {
            candidates.clear();
            // Active nodes are in order of position. Once the line from one
            // is too loose, lines from later ones (with the same measure)
            // are too, unless `irregular` says otherwise: skipping them is
            // the main speed-up. Only where loose lines decide nothing.
            let skip_loose = !emergency && !brk.forced;
            let mut loose: Option<(usize, f64)> = None;
            // Nodes differing only in fitness class share their line.
            let mut last: Option<(usize, f64, Fit)> = None;
            let mut kept = 0;
            let mut i = 0;
            while i < active.len() {
                let a = active[i];
                i += 1;
                let node = &nodes[a];
                let keep = if node.first_box >= brk.pos {
                    // No box yet: not a line; a forced break here is ignored.
                    true
                } else if loose.is_some_and(|(start, measure)| {
                    skip_loose
                        && measure == node.measure
                        && self.irregular[start] == self.irregular[node.start]
                }) {
                    true
                } else {
                    let fit = match last {
                        Some((start, w, fit)) if start == node.start && w == node.measure => fit,
                        _ => self.fit(node.start, brk, node.measure, tolerance),
                    };
                    last = Some((node.start, node.measure, fit));
                    if !fit.overfull && fit.ratio > tolerance {
                        loose = Some((node.start, node.measure));
                    }
                    if let Some(c) = self.candidate(s, pass, &breaks, k, node, fit) {
                        let c = Candidate { prev: a, ..c };
                        match candidates
                            .iter_mut()
                            .find(|o| o.class == c.class && o.fitness == c.fitness)
                        {
                            Some(o) if c.total < o.total => *o = c,
                            Some(_) => {}
                            None => candidates.push(c),
                        }
                    }
                    // Lines from here can only get longer (or must end here).
                    !(fit.overfull || brk.forced)
                };
                if keep {
                    active[kept] = a;
                    kept += 1;
                }
                // With one measure for all, nothing after a loose line needs
                // looking at (irregular counts only grow along the list).
                if let (Some((start, _)), Some(&tail)) = (loose, active.last())
                    && skip_loose
                    && s.first.is_empty()
                    && self.irregular[start] == self.irregular[nodes[tail].start]
                {
                    active.copy_within(i.., kept);
                    kept += active.len() - i;
                    break;
                }
            }
            active.truncate(kept);

            let start = if brk.pos < self.n {
                self.next_box[brk.pos + 1]
            } else {
                self.n
            };
            for c in &candidates {
                // Within a class only the fitness of the previous line
                // affects the future, by at most `fitness_demerits`.
                let best = candidates
                    .iter()
                    .filter(|o| o.class == c.class)
                    .map(|o| o.total)
                    .fold(f64::INFINITY, f64::min);
                if c.total <= best + s.fitness_demerits {
                    let line = nodes[c.prev].line + 1;
                    nodes.push(Node {
                        pos: brk.pos,
                        start,
                        first_box: start,
                        line,
                        measure: s.width(line),
                        fitness: c.fitness,
                        flagged: brk.flagged,
                        total: c.total,
                        prev: Some(c.prev),
                        ratio: c.ratio,
                        overfull: c.overfull,
                    });
                    active.push(nodes.len() - 1);
                }
            }
            if active.is_empty() {
                return None;
            }
        }

        let finals: Vec<&Node> = active
            .iter()
            .map(|&a| &nodes[a])
            .filter(|node| node.first_box >= self.n)
            .collect();
        let mut best = *finals.iter().min_by(|a, b| a.total.total_cmp(&b.total))?;
        // Looseness is best effort in pass 2, as in TeX without emergency
        // stretch; the emergency pass ignores it rather than overfill lines.
        if s.looseness != 0 && !emergency {
            let optimum = best.line as i64;
            let target = i64::from(s.looseness);
            let (lo, hi) = (target.min(0), target.max(0));
            // Move towards the requested line count, never beyond it.
            best = *finals
                .iter()
                .filter(|node| (lo..=hi).contains(&(node.line as i64 - optimum)))
                .min_by(|a, b| {
                    let off = |node: &Node| (node.line as i64 - optimum - target).abs();
                    off(a).cmp(&off(b)).then(a.total.total_cmp(&b.total))
                })?;
            if pass == Pass::Plain && best.line as i64 - optimum != target {
                return None;
            }
        }

        let mut lines = Vec::with_capacity(best.line);
        let mut node = best;
        while let Some(prev) = node.prev {
            let from = &nodes[prev];
            lines.push(Line {
                start: from.start,
                end: node.pos,
                ratio: node.ratio,
                hyphenated: node.flagged,
                overfull: node.overfull,
            });
            node = from;
        }
        lines.reverse();
        Some(lines)
    }

    /// Last resort should the emergency pass ever fail: everything on one line.
    fn single_line(&self, s: &Settings) -> Vec<Line> {
        let end = self.breaks.last().copied().unwrap_or(Break {
            pos: self.n,
            penalty: 0.0,
            width: 0.0,
            flagged: false,
            forced: true,
            fill: 1.0,
        });
        let fit = self.fit(0, &end, s.width(0), f64::INFINITY);
        vec![Line {
            start: 0,
            end: self.n,
            ratio: fit.reported_ratio(),
            hyphenated: false,
            overfull: fit.overfull,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type It = Item<()>;

    fn bx(width: f32) -> It {
        Item::Box { width, content: () }
    }
    fn glue(width: f32, stretch: f32, shrink: f32) -> It {
        Item::Glue {
            width,
            stretch,
            shrink,
        }
    }
    fn pen(width: f32, penalty: f32, flagged: bool) -> It {
        Item::Penalty {
            width,
            penalty,
            flagged,
        }
    }
    fn space() -> It {
        glue(10.0, 5.0, 3.0)
    }
    fn finish(items: &mut Vec<It>) {
        items.push(glue(0.0, INFINITY, 0.0));
        items.push(pen(0.0, -INFINITY, false));
    }
    /// Words of the given widths separated by spaces, TeX-finished.
    fn words(widths: &[f32]) -> Vec<It> {
        let mut items = Vec::new();
        for (i, &w) in widths.iter().enumerate() {
            if i > 0 {
                items.push(space());
            }
            items.push(bx(w));
        }
        finish(&mut items);
        items
    }
    fn ends(lines: &[Line]) -> Vec<usize> {
        lines.iter().map(|l| l.end).collect()
    }

    fn is_box(item: &It) -> bool {
        matches!(item, Item::Box { .. })
    }
    /// Number of boxes on each line.
    fn boxes_per_line(items: &[It], lines: &[Line]) -> Vec<usize> {
        lines
            .iter()
            .map(|l| l.items(items).iter().filter(|i| is_box(i)).count())
            .collect()
    }

    #[test]
    fn no_boxes_no_lines() {
        let p = Params::new(100.0);
        assert!(break_lines::<()>(&[], &p).is_empty());
        let mut items = vec![glue(10.0, 1.0, 1.0), pen(0.0, 0.0, false)];
        finish(&mut items);
        assert!(break_lines(&items, &p).is_empty());
    }

    #[test]
    fn total_fit_beats_first_fit() {
        // Measure 100, spaces 10 ± (5, 3). First fit packs five words on
        // line 1 (110 shrunk by 10 of 12, tight) and leaves "20 50" (80,
        // ratio 4: infeasible). Total fit sets four words at ratio 2/3, then
        // "10 20 50" exactly, then "60".
        let items = words(&[20.0, 20.0, 10.0, 10.0, 10.0, 20.0, 50.0, 60.0]);
        let lines = break_lines(&items, &Params::new(100.0));
        assert_eq!(ends(&lines), [7, 13, 16]);
        assert_eq!(lines[0].start, 0);
        assert_eq!(lines[1].start, 8);
        assert_eq!(lines[2].start, 14);
        assert!((lines[0].ratio - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(lines[1].ratio, 0.0);
        assert!(lines.iter().all(|l| !l.overfull && !l.hyphenated));
    }

    #[test]
    fn forced_breaks_are_taken_and_never_make_empty_lines() {
        let mut items = vec![bx(20.0), space(), bx(20.0), pen(0.0, -INFINITY, false)];
        // A second forced break right away would make an empty line: ignored.
        items.push(pen(0.0, -INFINITY, false));
        items.extend([bx(20.0), space(), bx(20.0)]);
        finish(&mut items);
        let lines = break_lines(&items, &Params::new(100.0));
        assert_eq!(ends(&lines), [3, 9]);
        assert_eq!(lines[1].start, 5);
        // Without `\parfillskip` the forced line is justified: ratio 50/5.
        assert_eq!(lines[0].ratio, 10.0);
        assert_eq!(lines[1].ratio, 0.0);

        // A forced break followed only by discardables ends the paragraph.
        let items = vec![
            bx(20.0),
            pen(0.0, -INFINITY, false),
            glue(0.0, INFINITY, 0.0),
        ];
        let lines = break_lines(&items, &Params::new(100.0));
        assert_eq!(ends(&lines), [1]);
    }

    #[test]
    fn consecutive_hyphens_cost_flagged_demerits() {
        // Seven words, each hyphenable in the middle (hyphen 5 wide, penalty 50).
        let halves = [
            (30.0, 10.0),
            (30.0, 20.0),
            (40.0, 30.0),
            (10.0, 30.0),
            (10.0, 20.0),
            (10.0, 10.0),
            (30.0, 50.0),
        ];
        let mut items = Vec::new();
        for (i, &(a, b)) in halves.iter().enumerate() {
            if i > 0 {
                items.push(space());
            }
            items.extend([bx(a), pen(5.0, 50.0, true), bx(b)]);
        }
        finish(&mut items);
        // Pass 1 (no hyphens) fails: "4030" alone cannot stretch.
        let mut params = Params::new(100.0);
        params.flagged_demerits = 0.0;
        let free = break_lines(&items, &params);
        // Line 3 "30 1020 10-" (ratio 1/2, loose) follows the very loose
        // line 2; ending it at a space instead would be decent next to very
        // loose, costing 3000 fitness demerits.
        assert_eq!(ends(&free), [7, 13, 21, 28]);
        assert!(free[1].hyphenated && free[2].hyphenated);

        let costly = break_lines(&items, &Params::new(100.0));
        assert_eq!(ends(&costly), [7, 13, 23, 28]);
        assert!(costly[1].hyphenated && !costly[2].hyphenated);
    }

    #[test]
    fn first_pass_does_not_hyphenate_when_it_can_avoid_it() {
        let mut items = vec![bx(45.0), space(), bx(20.0), pen(5.0, 0.0, true)];
        items.extend([bx(20.0), space(), bx(45.0)]);
        finish(&mut items);
        // "45 20-" is 80 (ratio 3), "45 2020" is 95 (ratio 1): pass 1 wins.
        let lines = break_lines(&items, &Params::new(100.0));
        assert_eq!(ends(&lines), [5, 8]);
        assert!(!lines[0].hyphenated);
    }

    #[test]
    fn negative_kerns_do_not_fool_the_loose_line_shortcut() {
        let g = || glue(10.0, 10.0, 0.0);
        let items = vec![
            bx(20.0),
            g(),
            bx(20.0),
            g(),
            bx(40.0),
            pen(0.0, 0.0, false), // 5: full line from the start
            bx(30.0),
            bx(-50.0),
            pen(0.0, 1000.0, false), // 8: 80 wide, ratio 1
            bx(40.0),
            g(),
            bx(50.0),
            pen(0.0, 0.0, false), // 12: 100 wide from 8, 80 from 5
            bx(30.0),
            glue(0.0, INFINITY, 0.0),
            pen(0.0, -INFINITY, false),
        ];
        // At 12 the line from 5 is too loose; the line from 8, which starts
        // later but is wider thanks to the kern, must still be tried. (Else
        // the emergency pass would prefer the costly penalty-free 5, 12, 15.)
        let mut params = Params::new(100.0);
        params.tolerance = 1.0;
        let lines = break_lines(&items, &params);
        assert_eq!(ends(&lines), [8, 12, 15]);
        assert_eq!(lines[0].ratio, 1.0);
    }

    #[test]
    fn last_line_is_not_stretched() {
        for fill in [INFINITY, f32::INFINITY, 1.0e6] {
            let mut items = vec![bx(28.0), space(), bx(28.0), space(), bx(28.0)];
            items.extend([space(), bx(28.0), space(), bx(28.0)]);
            items.extend([glue(0.0, fill, 0.0), pen(0.0, -INFINITY, false)]);
            let lines = break_lines(&items, &Params::new(100.0));
            assert_eq!(ends(&lines), [5, 10]);
            let last = lines[1];
            assert_eq!(last.ratio, 0.0);
            assert_eq!(last.glue_width(10.0, 5.0, 3.0), 10.0);
            assert_eq!(last.glue_width(0.0, fill, 0.0), 0.0);
        }
        // Without any ending, the paragraph is finished as if by TeX.
        let items = vec![
            bx(28.0),
            space(),
            bx(28.0),
            space(),
            bx(28.0),
            space(),
            bx(28.0),
        ];
        let lines = break_lines(&items, &Params::new(100.0));
        assert_eq!(ends(&lines), [5, 7]);
        assert_eq!(lines[1].ratio, 0.0);
    }

    #[test]
    fn overfull_lines_are_reported_and_isolated() {
        let items = words(&[30.0, 150.0, 30.0, 40.0]);
        let lines = break_lines(&items, &Params::new(100.0));
        assert_eq!(boxes_per_line(&items, &lines), [1, 1, 2]);
        let overfull: Vec<bool> = lines.iter().map(|l| l.overfull).collect();
        assert_eq!(overfull, [false, true, false]);
        assert_eq!(lines[1].ratio, -1.0);

        // A column narrower than every word: one word a line, all overfull.
        let items = words(&[30.0; 6]);
        let lines = break_lines(&items, &Params::new(10.0));
        assert_eq!(boxes_per_line(&items, &lines), [1; 6]);
        assert!(lines.iter().all(|l| l.overfull));
    }

    #[test]
    fn ragged_right() {
        // TeX's \raggedright: stretch at line ends only; interword spaces
        // cancel it out and never stretch.
        let widths = [
            30.0, 45.0, 20.0, 60.0, 15.0, 35.0, 50.0, 25.0, 40.0, 10.0, 55.0, 30.0, 20.0,
        ];
        let mut items = Vec::new();
        for (i, &w) in widths.iter().enumerate() {
            if i > 0 {
                items.extend([
                    glue(0.0, 60.0, 0.0),
                    pen(0.0, 0.0, false),
                    glue(10.0, -60.0, 0.0),
                ]);
            }
            items.push(bx(w));
        }
        finish(&mut items);
        let lines = break_lines(&items, &Params::new(150.0));
        assert!(lines.len() >= 3);
        let mut naturals = Vec::new();
        for line in &lines {
            assert!(!line.overfull && line.ratio >= 0.0 && line.ratio <= 2.0);
            let mut natural = 0.0;
            let mut set = 0.0;
            for item in line.items(&items) {
                match *item {
                    Item::Box { width, .. } => {
                        natural += width;
                        set += width;
                    }
                    Item::Glue {
                        width,
                        stretch,
                        shrink,
                    } => {
                        natural += width;
                        set += line.glue_width(width, stretch, shrink);
                    }
                    Item::Penalty { .. } => {}
                }
            }
            naturals.push(natural);
            if line.end < items.len() - 1 {
                // Interior spaces are set at their natural 10pt; the line's
                // slack goes to its final stretch glue.
                let trailing = line.glue_width(0.0, 60.0, 0.0);
                assert!((set - natural - trailing).abs() < 1e-3);
                assert!((natural + trailing - 150.0).abs() < 1e-3);
            }
        }
        let (lo, hi) = naturals
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &w| (lo.min(w), hi.max(w)));
        assert!(hi - lo > 10.0, "lines should be ragged: {naturals:?}");
        assert!(naturals.iter().all(|&w| w <= 150.0));
    }

    #[test]
    fn first_lines_can_have_other_widths() {
        let items = words(&[25.0; 12]);
        let mut params = Params::new(100.0);
        params.line_widths = LineWidths {
            first: vec![60.0, 60.0],
            rest: 100.0,
        };
        let lines = break_lines(&items, &params);
        assert_eq!(boxes_per_line(&items, &lines), [2, 2, 3, 3, 2]);
        assert!(lines.iter().all(|l| !l.overfull));
        assert_eq!(params.line_widths.get(1), 60.0);
        assert_eq!(params.line_widths.get(7), 100.0);
    }

    #[test]
    fn looseness_adds_a_line_when_feasible() {
        let items: Vec<It> = {
            let mut items = Vec::new();
            for i in 0..20 {
                if i > 0 {
                    items.push(glue(10.0, 10.0, 3.0));
                }
                items.push(bx(15.0));
            }
            finish(&mut items);
            items
        };
        let mut params = Params::new(100.0);
        assert_eq!(break_lines(&items, &params).len(), 5);
        params.looseness = 1;
        let looser = break_lines(&items, &params);
        assert_eq!(looser.len(), 6);
        assert!(looser.iter().all(|l| !l.overfull && l.ratio <= 2.0));
        // Four lines would need five words a line: overfull, so not done.
        params.looseness = -1;
        assert_eq!(break_lines(&items, &params).len(), 5);
    }

    #[test]
    fn garbage_parameters_are_tolerated() {
        let mut items = words(&[30.0, f32::NAN, 40.0, f32::INFINITY, -20.0, 30.0]);
        items.insert(3, pen(f32::NAN, f32::NAN, true));
        items.insert(5, glue(f32::NEG_INFINITY, f32::NAN, -f32::INFINITY));
        for width in [f32::NAN, -50.0, 0.0, f32::INFINITY, 1.0e30] {
            let params = Params {
                line_widths: LineWidths {
                    first: vec![f32::NAN, -1.0],
                    rest: width,
                },
                tolerance: f32::NAN,
                pretolerance: f32::INFINITY,
                line_penalty: f32::NEG_INFINITY,
                flagged_demerits: f32::NAN,
                fitness_demerits: -1.0,
                looseness: i32::MIN,
            };
            let lines = break_lines(&items, &params);
            let boxes: usize = boxes_per_line(&items, &lines).iter().sum();
            assert_eq!(boxes, items.iter().filter(|i| is_box(i)).count());
        }
    }

    /// Words of pseudo-random widths with hyphenation points.
    fn long_paragraph(words: usize) -> Vec<It> {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1000) as f32 / 1000.0
        };
        let mut items = Vec::new();
        for i in 0..words {
            if i > 0 {
                items.push(glue(3.0, 1.5, 1.0));
            }
            let syllables = 1 + (next() * 3.0) as usize;
            for s in 0..syllables {
                if s > 0 {
                    items.push(pen(3.5, 50.0, true));
                }
                items.push(bx(6.0 + next() * 14.0));
            }
            if next() < 0.05 {
                items.push(pen(0.0, -100.0, false));
            }
        }
        finish(&mut items);
        items
    }

    #[test]
    fn long_paragraphs_are_handled() {
        let items = long_paragraph(5000);
        assert!(items.len() > 10_000);
        for width in [300.0, 30.0, 3.0, 1.0e6] {
            let lines = break_lines(&items, &Params::new(width));
            check(&items, &Params::new(width), &lines).unwrap();
        }
    }

    // ---- property tests -------------------------------------------------

    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Checks every invariant `break_lines` promises.
    fn check(items: &[It], params: &Params, lines: &[Line]) -> Result<(), TestCaseError> {
        let n = items.len();
        let has_box = |r: Range<usize>| items[r].iter().any(is_box);
        if !has_box(0..n) {
            prop_assert!(lines.is_empty());
            return Ok(());
        }
        prop_assert!(!lines.is_empty());
        prop_assert_eq!(lines[0].start, 0);
        let mut previous_end = None;
        for (i, line) in lines.iter().enumerate() {
            prop_assert!(line.start < line.end && line.end <= n, "{:?}", line);
            if let Some(end) = previous_end {
                prop_assert!(line.start > end);
                prop_assert!(!has_box(end..line.start), "box dropped before {:?}", line);
                prop_assert!(is_box(&items[line.start]));
            }
            previous_end = Some(line.end);
            prop_assert!(has_box(line.range()), "line without a box: {:?}", line);
            match items.get(line.end) {
                None => {}
                Some(Item::Box { .. }) => prop_assert!(false, "break at a box"),
                Some(Item::Glue { .. }) => prop_assert!(is_box(&items[line.end - 1])),
                Some(Item::Penalty { penalty, .. }) => {
                    prop_assert!(*penalty < INFINITY || penalty.is_nan())
                }
            }
            let flagged = matches!(
                items.get(line.end),
                Some(Item::Penalty { flagged: true, .. })
            );
            prop_assert_eq!(line.hyphenated, flagged);
            prop_assert!(line.ratio.is_finite());
            for j in line.range() {
                if let Item::Penalty { penalty, .. } = items[j]
                    && penalty <= -INFINITY
                {
                    prop_assert!(!has_box(line.start..j), "forced break inside {:?}", line);
                }
            }
            // Fit, computed independently in f64 (finite inputs only).
            let mut natural = match items.get(line.end) {
                Some(Item::Penalty { width, .. }) => f64::from(*width),
                _ => 0.0,
            };
            let mut shrink = 0.0;
            for item in line.items(items) {
                match *item {
                    Item::Box { width, .. } => natural += f64::from(width),
                    Item::Glue {
                        width, shrink: s, ..
                    } => {
                        natural += f64::from(width);
                        shrink += f64::from(s);
                    }
                    Item::Penalty { .. } => {}
                }
            }
            let measure = f64::from(params.line_widths.get(i).max(0.0));
            if natural.is_finite() && shrink.abs() < f64::from(INFINITY) {
                let tight = natural - shrink.max(0.0);
                if line.overfull {
                    prop_assert!(tight > measure - 1e-3, "falsely overfull {:?}", line);
                } else {
                    prop_assert!(tight <= measure + 1e-3, "unreported overfull {:?}", line);
                }
            }
        }
        if let Some(end) = previous_end {
            prop_assert!(end >= n || !has_box(end..n), "boxes after the last line");
        }
        Ok(())
    }

    fn item() -> impl Strategy<Value = It> {
        prop_oneof![
            5 => (0.0f32..60.0).prop_map(bx),
            1 => (-15.0f32..10.0).prop_map(bx),
            4 => (-2.0f32..15.0, -2.0f32..10.0, -1.0f32..6.0)
                .prop_map(|(w, st, sh)| glue(w, st, sh)),
            1 => Just(glue(0.0, INFINITY, 0.0)),
            2 => (
                0.0f32..8.0,
                prop_oneof![
                    Just(-INFINITY),
                    Just(INFINITY),
                    Just(0.0),
                    -2000.0f32..2000.0
                ],
                any::<bool>()
            )
                .prop_map(|(w, p, f)| pen(w, p, f)),
        ]
    }

    fn paragraph(len: usize) -> impl Strategy<Value = Vec<It>> {
        (prop::collection::vec(item(), 0..len), any::<bool>()).prop_map(|(mut items, end)| {
            if end {
                finish(&mut items);
            }
            items
        })
    }

    /// Text-like paragraphs: words separated by spaces, some hyphenable,
    /// some followed by a negative kern or a penalty; justified or ragged.
    fn text(words: usize) -> impl Strategy<Value = Vec<It>> {
        let word = (
            5.0f32..40.0,
            prop::option::of((5.0f32..30.0, 0.0f32..6.0, -100.0f32..200.0)),
            (4.0f32..12.0, 0.0f32..10.0, 0.0f32..4.0),
            prop::option::weighted(0.2, -500.0f32..500.0),
            prop::option::weighted(0.15, -40.0f32..-1.0),
        );
        let shape = (
            prop::collection::vec(word, 1..words),
            any::<bool>(),
            any::<bool>(),
        );
        shape.prop_map(|(words, end, ragged)| {
            let mut items = Vec::new();
            for (i, (width, hyphen, space, penalty, kern)) in words.into_iter().enumerate() {
                if i > 0 && ragged {
                    let flex = 4.0 * space.1;
                    items.extend([
                        glue(0.0, flex, 0.0),
                        pen(0.0, 0.0, false),
                        glue(space.0, -flex, 0.0),
                    ]);
                } else if i > 0 {
                    items.push(glue(space.0, space.1, space.2));
                }
                items.push(bx(width));
                if let Some((rest, hyphen_width, cost)) = hyphen {
                    items.extend([pen(hyphen_width, cost, true), bx(rest)]);
                }
                items.extend(kern.map(bx));
                if let Some(p) = penalty {
                    items.push(pen(0.0, p, false));
                }
            }
            if end {
                finish(&mut items);
            }
            items
        })
    }

    fn params() -> impl Strategy<Value = Params> {
        (
            prop::collection::vec(-20.0f32..250.0, 0..3),
            -20.0f32..250.0,
            0.0f32..5.0,
            -1.0f32..2.0,
            (0.0f32..50.0, 0.0f32..5000.0, 0.0f32..5000.0),
            -1i32..=1,
        )
            .prop_map(
                |(first, rest, tolerance, pretolerance, demerits, looseness)| Params {
                    line_widths: LineWidths { first, rest },
                    tolerance,
                    pretolerance,
                    line_penalty: demerits.0,
                    flagged_demerits: demerits.1,
                    fitness_demerits: demerits.2,
                    looseness,
                },
            )
    }

    /// Adjustment ratio of `items[start..end]` (plus the break's width),
    /// computed directly in f64; `None` when overfull.
    fn line_ratio(items: &[It], start: usize, end: usize, measure: f64) -> Option<f64> {
        let (mut natural, mut stretch, mut shrink) = match items.get(end) {
            Some(Item::Penalty { width, .. }) => (f64::from(*width), 0.0, 0.0),
            _ => (0.0, 0.0, 0.0),
        };
        let mut fill = end == items.len();
        for item in &items[start..end] {
            match *item {
                Item::Box { width, .. } => natural += f64::from(width),
                Item::Glue {
                    width,
                    stretch: st,
                    shrink: sh,
                } => {
                    natural += f64::from(width);
                    if st >= INFINITY {
                        fill = true;
                    } else {
                        stretch += f64::from(st);
                    }
                    shrink += f64::from(sh);
                }
                Item::Penalty { .. } => {}
            }
        }
        if natural < measure - EPSILON {
            Some(if fill {
                0.0
            } else if stretch > 0.0 {
                (measure - natural) / stretch
            } else {
                f64::INFINITY
            })
        } else if natural > measure + EPSILON {
            let shrink = shrink.max(0.0);
            (natural - measure <= shrink + EPSILON)
                .then(|| -((natural - measure) / shrink).min(1.0))
        } else {
            Some(0.0)
        }
    }

    /// TeX's demerits and the fitness class of a line, straight from the book.
    fn line_demerits(
        params: &Params,
        ratio: f64,
        brk: Option<&It>,
        previous: (u8, bool),
    ) -> (f64, u8) {
        let bad = (100.0 * ratio.abs().powi(3)).min(10_000.0);
        let fitness: u8 = match (ratio < 0.0, bad) {
            (true, b) if b > 12.0 => 3,
            (false, b) if b > 99.0 => 0,
            (false, b) if b > 12.0 => 1,
            _ => 2,
        };
        let base = (f64::from(params.line_penalty) + bad).abs().min(10_000.0);
        let mut d = base * base;
        if let Some(Item::Penalty {
            penalty, flagged, ..
        }) = brk
        {
            let p = f64::from(*penalty);
            if p > 0.0 {
                d += p * p;
            } else if p > -f64::from(INFINITY) {
                d -= p * p;
            }
            if *flagged && previous.1 {
                d += f64::from(params.flagged_demerits);
            }
        }
        if fitness.abs_diff(previous.0) > 1 {
            d += f64::from(params.fitness_demerits);
        }
        (d, fitness)
    }

    fn measure(params: &Params, line: usize) -> f64 {
        f64::from(params.line_widths.get(line).max(0.0))
    }

    /// Reference optimum by exhaustive search under pass-2 rules (no
    /// pretolerance pass, looseness 0): the minimal total demerits over all
    /// feasible break sequences, or `None` if there are none.
    fn brute_force(items: &[It], params: &Params) -> Option<f64> {
        let n = items.len();
        let box_after = |i: usize| items[i..].iter().any(is_box);
        // (position, forced); n is the implicit end.
        let mut breaks = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match *item {
                Item::Glue { .. } if i > 0 && is_box(&items[i - 1]) && box_after(i) => {
                    breaks.push((i, false));
                }
                Item::Penalty { penalty, .. } if penalty < INFINITY => {
                    let forced = penalty <= -INFINITY;
                    if forced || box_after(i) {
                        breaks.push((i, forced));
                    }
                }
                _ => {}
            }
        }
        breaks.push((n, true));

        struct Search<'a> {
            items: &'a [It],
            params: &'a Params,
            breaks: Vec<(usize, bool)>,
            best: Option<f64>,
        }
        impl Search<'_> {
            fn go(&mut self, start: usize, from: usize, line: usize, prev: (u8, bool), cost: f64) {
                let items = self.items;
                if !items[start..].iter().any(is_box) {
                    self.best = Some(self.best.map_or(cost, |b| b.min(cost)));
                    return;
                }
                for k in from..self.breaks.len() {
                    let (pos, forced) = self.breaks[k];
                    if pos <= start || !items[start..pos].iter().any(is_box) {
                        continue;
                    }
                    // Overfull: no longer line from `start` is considered.
                    let Some(ratio) = line_ratio(items, start, pos, measure(self.params, line))
                    else {
                        break;
                    };
                    if ratio <= f64::from(self.params.tolerance) {
                        let (d, fitness) = line_demerits(self.params, ratio, items.get(pos), prev);
                        let flagged =
                            matches!(items.get(pos), Some(Item::Penalty { flagged: true, .. }));
                        let next = items[(pos + 1).min(items.len())..]
                            .iter()
                            .position(is_box)
                            .map_or(items.len(), |o| pos + 1 + o);
                        self.go(next, k + 1, line + 1, (fitness, flagged), cost + d);
                    }
                    if forced {
                        break;
                    }
                }
            }
        }
        let mut search = Search {
            items,
            params,
            breaks,
            best: None,
        };
        search.go(0, 0, 0, (DECENT, false), 0.0);
        search.best
    }

    /// Total demerits of `lines` under pass-2 rules, `None` if a line is
    /// outside the tolerance.
    fn cost(items: &[It], params: &Params, lines: &[Line]) -> Option<f64> {
        let mut total = 0.0;
        let mut prev = (DECENT, false);
        for (i, line) in lines.iter().enumerate() {
            let ratio = line_ratio(items, line.start, line.end, measure(params, i))?;
            if ratio > f64::from(params.tolerance) {
                return None;
            }
            let (d, fitness) = line_demerits(params, ratio, items.get(line.end), prev);
            total += d;
            prev = (fitness, line.hyphenated);
        }
        Some(total)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn invariants_hold(items in paragraph(60), params in params()) {
            let lines = break_lines(&items, &params);
            check(&items, &params, &lines)?;
            prop_assert_eq!(&lines, &break_lines(&items, &params));
        }

        #[test]
        fn never_panics_on_wild_values(
            raw in prop::collection::vec((0u8..3, any::<f32>(), any::<f32>(), any::<f32>()), 0..40),
            widths in prop::collection::vec(any::<f32>(), 1..4),
            tolerance in any::<f32>(),
        ) {
            let items: Vec<It> = raw
                .into_iter()
                .map(|(kind, a, b, c)| match kind {
                    0 => bx(a),
                    1 => glue(a, b, c),
                    _ => pen(a, b, c > 0.0),
                })
                .collect();
            let mut params = Params::new(widths[0]);
            params.line_widths.first = widths[1..].to_vec();
            params.tolerance = tolerance;
            let lines = break_lines(&items, &params);
            let boxes: usize = boxes_per_line(&items, &lines).iter().sum();
            prop_assert_eq!(boxes, items.iter().filter(|i| is_box(i)).count());
            prop_assert!(lines.iter().all(|l| l.ratio.is_finite()));
        }
    }

    proptest! {
        // Subtle mistakes (pruning, demerits) only show in a few percent of
        // cases: run many.
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn optimal_against_exhaustive_search(
            (items, mut params, narrow) in (
                prop_oneof![1 => paragraph(16), 3 => text(12)],
                params(),
                prop::collection::vec(60.0f32..160.0, 1..4),
            ),
        ) {
            // Integral widths keep both computations exact.
            let items: Vec<It> = items
                .into_iter()
                .map(|item| match item {
                    Item::Box { width, .. } => bx(width.round()),
                    Item::Glue { width, stretch, shrink } => {
                        glue(width.round(), stretch.round(), shrink.round())
                    }
                    Item::Penalty { width, penalty, flagged } => {
                        pen(width.round(), penalty.round(), flagged)
                    }
                })
                .collect();
            params.pretolerance = -1.0;
            params.looseness = 0;
            // Narrow enough for several lines.
            params.line_widths.first = narrow[1..].to_vec();
            params.line_widths.rest = narrow[0];
            params.line_widths.rest = params.line_widths.rest.round();
            for w in &mut params.line_widths.first {
                *w = w.round();
            }
            let lines = break_lines(&items, &params);
            check(&items, &params, &lines)?;
            let reference = brute_force(&items, &params);
            // Pass 2 alone, so that the emergency pass cannot cover its mistakes.
            let pass2 = Paragraph::new(&items).run(&Settings::new(&params), Pass::Full);
            match (reference, &pass2) {
                (Some(r), Some(found)) => {
                    prop_assert_eq!(found, &lines);
                    let ours = cost(&items, &params, found);
                    prop_assert!(
                        ours.is_some_and(|o| (r - o).abs() <= 1e-9 * r.abs().max(1.0)),
                        "optimum {} but got {:?} for {:?}", r, ours, found
                    );
                }
                (None, Some(found)) => prop_assert!(false, "{:?} but nothing is feasible", found),
                (Some(r), None) => prop_assert!(false, "missed a solution of cost {}", r),
                (None, None) => prop_assert!(cost(&items, &params, &lines).is_none()),
            }
        }
    }
}
