//! A run-length PNG encoder for 8-bit indexed-colour images made mostly of flat runs.
//!
//! A generated cover is 1600×2560 pixels of which most rows are a single background
//! index and the rest a few anti-aliased glyph edges between long flat runs. A general
//! deflate encoder still looks at every one of its 4 MB; this one works per run: each
//! run becomes one literal plus distance-1 matches under deflate's fixed Huffman codes,
//! and the zlib Adler-32 is advanced per run in closed form. Blank rows are O(1) to
//! append, and other rows cost a word-at-a-time scan for run ends plus one bit write
//! per run (runs up to 259 long fit one write).

/// Why an image could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum RlePngError {
    /// PNG has no empty images, and caps each dimension at 2^31 - 1.
    #[error("image size {width}x{height} is not allowed in PNG (each side 1..=2147483647)")]
    BadSize {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// PNG's PLTE chunk holds 1..=256 colours.
    #[error("palette has {0} entries; PNG allows 1..=256")]
    BadPalette(usize),
    /// Rows are stored back to back, so a short or long one would shift every later pixel.
    #[error("row has {got} pixels; the image is {expected} wide")]
    RowLength {
        /// The image width.
        expected: u32,
        /// The length of the row given.
        got: usize,
    },
    /// PNG makes indices past the palette's end an error, and decoders may reject them.
    #[error("pixel index {index} is outside the {len}-entry palette")]
    IndexOutOfPalette {
        /// The first offending index in the row.
        index: u8,
        /// The palette size.
        len: usize,
    },
    /// More rows were appended than the header declared.
    #[error("more than {height} rows given")]
    TooManyRows {
        /// The image height.
        height: u32,
    },
    /// A band outside the image, or bands that do not follow each other.
    #[error("rows {start}..{end} are not the next band of an image {height} high")]
    BadBand {
        /// First row of the band.
        start: u32,
        /// One past its last row.
        end: u32,
        /// The image height.
        height: u32,
    },
    /// `finish` was called before all the declared rows were appended.
    #[error("{got} rows given for an image {expected} high")]
    RowCount {
        /// The image height.
        expected: u32,
        /// The rows appended.
        got: u32,
    },
}

/// PNG's limit on either dimension.
const MAX_SIDE: u32 = (1 << 31) - 1;
/// IDAT chunk size. Any split is valid; a fixed one keeps the output deterministic.
const IDAT_MAX: usize = 1 << 20;
/// Adler-32's modulus.
const ADLER_MOD: u64 = 65521;
/// Rows are coded in pieces of this many pixels, the Adler sums reduced before each, so
/// runs add to them without divisions. Between reductions at most this many bytes plus
/// a few open runs of up to 259 (longer ones reduce) are added, so a stays below 2^25
/// and b below 2^42: far from u64 overflow, here or in `adler_run`.
const ADLER_CHUNK: usize = 1 << 16;
/// The longest run coded by one literal and one match, and so in one bit write.
const SHORT_RUN: u64 = 259;

/// A deflate code ready for the LSB-first bit writer: Huffman codes already reversed,
/// extra bits in place after them.
#[derive(Clone, Copy)]
struct Code {
    bits: u32,
    len: u32,
}

/// Huffman codes are defined most-significant bit first, but deflate packs the stream
/// from each byte's least-significant bit.
const fn reverse(code: u32, len: u32) -> u32 {
    let mut out = 0;
    let mut i = 0;
    while i < len {
        out = (out << 1) | ((code >> i) & 1);
        i += 1;
    }
    out
}

/// The fixed literal/length code of `sym` (RFC 1951 §3.2.6).
const fn fixed_code(sym: u32) -> Code {
    let (code, len) = if sym < 144 {
        (0x30 + sym, 8)
    } else if sym < 256 {
        (0x190 + sym - 144, 9)
    } else if sym < 280 {
        (sym - 256, 7)
    } else {
        (0xC0 + sym - 280, 8)
    };
    Code {
        bits: reverse(code, len),
        len,
    }
}

/// `b` written after `a`; the caller keeps the total within 32 bits.
const fn concat(a: Code, b: Code) -> Code {
    Code {
        bits: a.bits | (b.bits << a.len),
        len: a.len + b.len,
    }
}

/// Base match length of length symbols 257..=285 (RFC 1951 §3.2.5).
const LEN_BASE: [u32; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
/// Extra bits after each length symbol.
const LEN_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// A whole match of `len` (3..=258) at distance 1: length symbol, its extra bits, and
/// distance code 0, so a match is a single write of at most 18 bits.
const fn match_code(len: u32) -> Code {
    // 258 must take symbol 285: some inflaters reject 284 with all extra bits set.
    let mut i = 28;
    while LEN_BASE[i] > len {
        i -= 1;
    }
    let sym = fixed_code(257 + i as u32);
    // Distance 1 is distance code 0: five zero bits and no extra bits, so nothing to OR in.
    Code {
        bits: sym.bits | ((len - LEN_BASE[i]) << sym.len),
        len: sym.len + LEN_EXTRA[i] + 5,
    }
}

/// `SHORT[k - 1][v]` is `k` (1..=3) literals `v`: at most 27 bits.
const fn short_table() -> [[Code; 256]; 3] {
    let mut t = [[Code { bits: 0, len: 0 }; 256]; 3];
    let mut v = 0;
    while v < 256 {
        let lit = fixed_code(v as u32);
        t[0][v] = lit;
        t[1][v] = concat(lit, lit);
        t[2][v] = concat(t[1][v], lit);
        v += 1;
    }
    t
}

/// Indexed by match length minus 3.
const fn match_table() -> [Code; 256] {
    let mut t = [Code { bits: 0, len: 0 }; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match_code(i as u32 + 3);
        i += 1;
    }
    t
}

static SHORT: [[Code; 256]; 3] = short_table();
static MATCHES: [Code; 256] = match_table();
const MATCH_258: Code = match_code(258);
/// Two 258-byte matches in one write: long runs are emitted at 516 bytes per write.
const MATCH_516: Code = concat(MATCH_258, MATCH_258);
/// End-of-block, symbol 256: seven zero bits.
const END_OF_BLOCK: Code = fixed_code(256);

/// The encoder's position in the zlib stream: the bit accumulator, the Adler-32 sums
/// and the open run. It is `Copy` so `row` can work on a copy in registers and commit
/// it only once the row is known to be valid.
#[derive(Clone, Copy)]
struct Stream {
    /// Deflate's LSB-first bits not yet spilled to the output.
    acc: u64,
    /// Bits held in `acc`; always below 32 between writes.
    nbits: u32,
    /// Adler-32 sums, reduced lazily: see `ADLER_CHUNK`.
    adler_a: u64,
    adler_b: u64,
    /// The run of equal bytes not yet coded, kept open because the next bytes may
    /// extend it: a row's filter byte is 0, so blank rows and rows ending in zeros
    /// merge into one run. Length 0 only before the first row.
    run_byte: u8,
    run_len: u64,
}

impl Stream {
    /// `code.len` must be at most 32, which every code here is. Spilling 32 bits at a
    /// time keeps most writes to a shift, an OR and an add.
    #[inline(always)]
    fn put(&mut self, out: &mut Vec<u8>, code: Code) {
        self.acc |= u64::from(code.bits) << self.nbits;
        self.nbits += code.len;
        if self.nbits >= 32 {
            out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.nbits -= 32;
        }
    }

    /// Pads to a byte boundary, as the zlib trailer must be byte-aligned.
    fn align(&mut self, out: &mut Vec<u8>) {
        while self.nbits > 0 {
            out.push(self.acc as u8);
            self.acc >>= 8;
            self.nbits = self.nbits.saturating_sub(8);
        }
    }

    /// Appends `len` copies of `byte` to the uncompressed stream.
    #[inline(always)]
    fn push(&mut self, out: &mut Vec<u8>, byte: u8, len: u64) {
        if byte == self.run_byte {
            self.run_len += len;
        } else {
            self.flush(out);
            self.run_byte = byte;
            self.run_len = len;
        }
    }

    /// Codes the open run.
    #[inline(always)]
    fn flush(&mut self, out: &mut Vec<u8>) {
        let (v, n) = (self.run_byte, self.run_len);
        self.emit(out, v, n);
    }

    /// Codes a run of `n` bytes `v`. The byte before it differs (or there is none), so
    /// it starts with a literal; the rest copies the previous byte with distance-1
    /// matches.
    #[inline(always)]
    fn emit(&mut self, out: &mut Vec<u8>, v: u8, n: u64) {
        let code = match n {
            0 => return,
            // Below 4 a literal plus a 3-byte match is no shorter than literals.
            1..=3 => SHORT[n as usize - 1][usize::from(v)],
            4..=SHORT_RUN => concat(SHORT[0][usize::from(v)], MATCHES[n as usize - 4]),
            _ => {
                *self = self.emit_long(out, v, n);
                return;
            }
        };
        self.put(out, code);
        // Closed-form Adler-32 for n copies of v: a += n·v, b += n·a + v·n(n+1)/2.
        let v = u64::from(v);
        self.adler_b += n * self.adler_a + v * (n * (n + 1) / 2);
        self.adler_a += n * v;
    }

    /// Codes a run of one byte: the commonest run in a glyph row, as anti-aliased edge
    /// pixels rarely repeat, so it gets the cheapest Adler-32 step.
    #[inline(always)]
    fn literal(&mut self, out: &mut Vec<u8>, v: u8) {
        self.put(out, SHORT[0][usize::from(v)]);
        self.adler_a += u64::from(v);
        self.adler_b += self.adler_a;
    }

    /// See `ADLER_CHUNK`.
    fn reduce_adler(&mut self) {
        self.adler_a %= ADLER_MOD;
        self.adler_b %= ADLER_MOD;
    }

    /// Codes a row's pixels, or a piece of them, after what precedes them has been
    /// pushed; `Err(index)` at the first index outside a `len`-entry palette.
    #[inline(always)]
    fn pixels(&mut self, out: &mut Vec<u8>, row: &[u8], len: usize) -> Result<(), u8> {
        // The first run may extend the open run (the zeros of this row's filter byte and
        // blank rows before it, or the previous piece's last run), so it goes through
        // `push`.
        let Some(&v) = row.first() else {
            return Ok(());
        };
        if usize::from(v) >= len {
            return Err(v);
        }
        let mut i = 1 + same_prefix(row.get(1..).unwrap_or_default(), v);
        self.push(out, v, i as u64);
        if i == row.len() {
            return Ok(());
        }
        self.flush(out);
        self.run_len = 0;
        // Runs in the middle are coded at once; the last stays open, as the next row's
        // filter byte or blank rows may extend it.
        while let Some(&v) = row.get(i) {
            if usize::from(v) >= len {
                return Err(v);
            }
            match row.get(i + 1) {
                // Most runs in a glyph row are single anti-aliased edge pixels.
                Some(&next) if next != v => {
                    self.literal(out, v);
                    i += 1;
                }
                Some(_) => {
                    let n = 2 + same_prefix(row.get(i + 2..).unwrap_or_default(), v);
                    if i + n >= row.len() {
                        self.run_byte = v;
                        self.run_len = n as u64;
                        break;
                    }
                    self.emit(out, v, n as u64);
                    i += n;
                }
                None => {
                    self.run_byte = v;
                    self.run_len = 1;
                    break;
                }
            }
        }
        Ok(())
    }

    /// `emit` for runs too long for one write: blank rows, wide flat areas. By value,
    /// so the caller's copy never has its address taken and stays in registers.
    #[cold]
    #[inline(never)]
    fn emit_long(mut self, out: &mut Vec<u8>, v: u8, n: u64) -> Self {
        self.put(out, SHORT[0][usize::from(v)]);
        let m = n - 1;
        let mut full = m / 258;
        let rest = m % 258;
        // 32 matches of 258 take 416 bits, a whole number of 32-bit spills. So once 32
        // have flushed the bits from before, every further 32 spill the same 52 bytes,
        // and a long blank stretch is copied a block (8256 pixels) at a time.
        if full >= 3 * 32 {
            self.put_258s(out, 32);
            let start = out.len();
            self.put_258s(out, 32);
            full -= 64;
            let block: Option<[u8; 52]> = out.get(start..).and_then(|b| b.try_into().ok());
            if let Some(block) = block {
                let copies = full / 32;
                out.reserve(
                    usize::try_from(copies * 52)
                        .unwrap_or(usize::MAX)
                        .min(1 << 28),
                );
                for _ in 0..copies {
                    out.extend_from_slice(&block);
                }
                full -= copies * 32;
            }
        }
        self.put_258s(out, full);
        match rest {
            0 => {}
            // Matches are at least 3 long. One or two literals cost 8-18 bits, against
            // about 17 more for splitting the last 258 into two matches.
            1 | 2 => self.put(out, SHORT[rest as usize - 1][usize::from(v)]),
            _ => self.put(out, MATCHES[rest as usize - 3]),
        }
        self.adler_run(v, n);
        self
    }

    /// `count` matches of 258 at distance 1, two per write.
    fn put_258s(&mut self, out: &mut Vec<u8>, count: u64) {
        for _ in 0..count / 2 {
            self.put(out, MATCH_516);
        }
        if count % 2 == 1 {
            self.put(out, MATCH_258);
        }
    }

    /// Adds `n` copies of `v` to the Adler-32 sums for any `n`. Only n mod 65521
    /// matters (for the triangular number too, since 2 is invertible mod the odd
    /// modulus), which keeps every product in u64; the sums may come in unreduced
    /// (see `ADLER_CHUNK`).
    fn adler_run(&mut self, v: u8, n: u64) {
        let r = n % ADLER_MOD;
        let v = u64::from(v);
        let tri = r * (r + 1) / 2 % ADLER_MOD;
        self.adler_b = (self.adler_b + r * self.adler_a + v * tri) % ADLER_MOD;
        self.adler_a = (self.adler_a + r * v) % ADLER_MOD;
    }

    /// The Adler-32 checksum of everything pushed so far.
    fn adler(&self) -> u32 {
        ((self.adler_b % ADLER_MOD) << 16 | (self.adler_a % ADLER_MOD)) as u32
    }
}

/// A row being coded by [`IndexedPng::row_with`].
pub struct RowRuns<'a> {
    stream: Stream,
    out: &'a mut Vec<u8>,
    palette_len: usize,
    /// Pixels so far.
    total: u64,
    /// Pixels added to the Adler sums since they were last reduced.
    unreduced: u32,
    /// The first index outside the palette, which fails the row.
    bad: Option<u8>,
}

impl RowRuns<'_> {
    /// Appends `n` pixels of palette index `v`.
    #[inline(always)]
    pub fn run(&mut self, v: u8, n: u32) {
        if n == 0 {
            return;
        }
        if usize::from(v) >= self.palette_len {
            self.bad.get_or_insert(v);
            return;
        }
        self.stream.push(self.out, v, u64::from(n));
        self.total += u64::from(n);
        self.unreduced = self.unreduced.saturating_add(n);
        if self.unreduced as usize >= ADLER_CHUNK {
            self.stream.reduce_adler();
            self.unreduced = 0;
        }
    }
}

/// Writes an 8-bit indexed-colour PNG row by row.
///
/// The zlib stream is built as rows arrive, one run of equal bytes at a time; a run is
/// coded only when a different byte ends it, so runs span rows.
pub struct IndexedPng {
    width: u32,
    height: u32,
    /// The rows this encoder codes: all of them, or a band for [`IndexedPng::part`].
    band: std::ops::Range<u32>,
    rows: u32,
    /// PLTE contents, RGB triples back to back.
    palette: Vec<u8>,
    /// Room for the file's head (signature, IHDR, PLTE, the IDAT chunk's length and tag),
    /// then the zlib stream so far: a stream that fits one IDAT chunk is not copied.
    out: Vec<u8>,
    stream: Stream,
}

impl IndexedPng {
    /// `palette` has 1..=256 entries; index 0 is what `blank_rows` paints.
    #[cfg(test)]
    pub fn new(width: u32, height: u32, palette: &[[u8; 3]]) -> Result<Self, RlePngError> {
        Self::part(width, height, palette, 0..height)
    }

    /// An encoder for the rows `band` (not empty) of the image only, so that bands can be coded on
    /// different threads and put together with [`join`]. Each band is a deflate block
    /// of its own, and its runs start afresh, so no band refers to another's bytes.
    pub fn part(
        width: u32,
        height: u32,
        palette: &[[u8; 3]],
        band: std::ops::Range<u32>,
    ) -> Result<Self, RlePngError> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(RlePngError::BadSize { width, height });
        }
        if !(1..=256).contains(&palette.len()) {
            return Err(RlePngError::BadPalette(palette.len()));
        }
        // An empty band would be taken for the first or the last of the image too.
        if band.start >= band.end || band.end > height {
            return Err(RlePngError::BadBand {
                start: band.start,
                end: band.end,
                height,
            });
        }
        let first = band.start == 0;
        let last = band.end == height;
        // A cover's whole stream is 100-200 KB: room for that up front spares growing
        // (and copying) the buffer; pages are only touched as they are written.
        let mut out = Vec::with_capacity(1 << 18);
        if first {
            // zlib header: deflate with a 32 KiB window, no preset dictionary, check bits
            // making 0x7801 a multiple of 31.
            out.extend_from_slice(&[0x78, 0x01]);
        }
        let mut stream = Stream {
            acc: 0,
            nbits: 0,
            adler_a: 1,
            adler_b: 0,
            run_byte: 0,
            run_len: 0,
        };
        // One block for the band: BFINAL set on the last band, BTYPE = 01 (fixed Huffman
        // codes), which need no code tables, so every run can be coded as soon as it ends.
        stream.put(
            &mut out,
            Code {
                bits: 0b010 | u32::from(last),
                len: 3,
            },
        );
        Ok(IndexedPng {
            width,
            height,
            band,
            rows: 0,
            palette: palette.concat(),
            out,
            stream,
        })
    }

    /// Appends `n` rows that are entirely index 0: O(1) work per row or better, no per-pixel loop.
    pub fn blank_rows(&mut self, n: u32) -> Result<(), RlePngError> {
        let rows = self
            .rows
            .checked_add(n)
            .filter(|&r| r <= self.band.len() as u32)
            .ok_or(RlePngError::TooManyRows {
                height: self.band.len() as u32,
            })?;
        self.rows = rows;
        // Filter byte 0 and `width` zeros per row are all one run of zeros; both factors
        // are below 2^31, so the product fits. Coding waits for the first non-zero byte.
        self.stream
            .push(&mut self.out, 0, u64::from(n) * (u64::from(self.width) + 1));
        Ok(())
    }

    /// Appends one row given as runs of (palette index, length) whose lengths add up to
    /// the width: a drawing that knows its runs skips building and scanning the row.
    #[cfg(test)]
    pub fn row_runs(&mut self, runs: &[(u8, u32)]) -> Result<(), RlePngError> {
        self.row_with(|row| {
            for &(v, n) in runs {
                row.run(v, n);
            }
            true
        })
        .map(|_| ())
    }

    /// Appends one row whose runs `fill` gives to [`RowRuns::run`], as `row_runs` does,
    /// without collecting them first. If `fill` returns `false` the row is dropped as if
    /// never begun, and the result is `Ok(false)`.
    #[inline(always)]
    pub fn row_with(
        &mut self,
        fill: impl FnOnce(&mut RowRuns) -> bool,
    ) -> Result<bool, RlePngError> {
        self.room_for_a_row()?;
        let committed = self.out.len();
        // Checked while coding, in one pass; a rejected row is undone, as in `row`.
        let mut stream = self.stream;
        stream.push(&mut self.out, 0, 1);
        // The Adler sums are reduced at least every `ADLER_CHUNK` bytes, as `row` does
        // per piece.
        stream.reduce_adler();
        let mut row = RowRuns {
            stream,
            out: &mut self.out,
            palette_len: self.palette.len() / 3,
            total: 0,
            unreduced: 0,
            bad: None,
        };
        let keep = fill(&mut row);
        let RowRuns {
            stream, total, bad, ..
        } = row;
        let error = match bad {
            Some(index) => Some(RlePngError::IndexOutOfPalette {
                index,
                len: self.palette.len() / 3,
            }),
            None if keep && total != u64::from(self.width) => Some(RlePngError::RowLength {
                expected: self.width,
                got: usize::try_from(total).unwrap_or(usize::MAX),
            }),
            None => None,
        };
        if !keep || error.is_some() {
            self.out.truncate(committed);
            return error.map_or(Ok(false), Err);
        }
        self.stream = stream;
        self.rows += 1;
        Ok(true)
    }

    /// Appends one row of palette indices; `row.len()` must equal the width.
    pub fn row(&mut self, row: &[u8]) -> Result<(), RlePngError> {
        self.room_for_a_row()?;
        if row.len() as u64 != u64::from(self.width) {
            return Err(RlePngError::RowLength {
                expected: self.width,
                got: row.len(),
            });
        }
        let len = self.palette.len() / 3;
        let out = &mut self.out;
        let committed = out.len();
        // A local copy, so its fields stay in registers and a rejected row can be undone.
        let mut s = self.stream;
        // Filter type 0 (None): palette indices are not numbers, so prediction would
        // only break runs up.
        s.push(out, 0, 1);
        // Pieces join seamlessly: a run crossing into the next piece merges in `push`.
        for piece in row.chunks(ADLER_CHUNK) {
            s.reduce_adler();
            if let Err(index) = s.pixels(out, piece, len) {
                out.truncate(committed);
                return Err(RlePngError::IndexOutOfPalette { index, len });
            }
        }
        self.stream = s;
        self.rows += 1;
        Ok(())
    }

    /// An error once all the rows the header declared are in.
    fn room_for_a_row(&self) -> Result<(), RlePngError> {
        if self.rows >= self.band.len() as u32 {
            return Err(RlePngError::TooManyRows {
                height: self.band.len() as u32,
            });
        }
        Ok(())
    }

    /// Finishes the file; an error unless exactly `height` rows were given.
    #[cfg(test)]
    pub fn finish(self) -> Result<Vec<u8>, RlePngError> {
        join(vec![self.finish_part()?])
    }

    /// Finishes this encoder's band, for [`join`]; an error unless all its rows were given.
    pub fn finish_part(mut self) -> Result<Part, RlePngError> {
        let expected = self.band.len() as u32;
        if self.rows != expected {
            return Err(RlePngError::RowCount {
                expected,
                got: self.rows,
            });
        }
        let last = self.band.end == self.height;
        let (s, out) = (&mut self.stream, &mut self.out);
        s.flush(out);
        s.put(out, END_OF_BLOCK);
        if !last {
            // An empty stored block (BFINAL = 0, BTYPE = 00, LEN 0, NLEN 0xFFFF) ends the
            // band on a byte boundary, so the next band's bytes simply follow.
            s.put(out, Code { bits: 0, len: 3 });
            s.align(out);
            out.extend_from_slice(&[0, 0, 0xFF, 0xFF]);
        }
        s.align(out);
        Ok(Part {
            width: self.width,
            height: self.height,
            band: self.band,
            palette: self.palette,
            adler: s.adler(),
            raw_len: u64::from(expected) * (u64::from(self.width) + 1),
            out: self.out,
        })
    }
}

/// A coded band of an image, from [`IndexedPng::finish_part`].
pub struct Part {
    width: u32,
    height: u32,
    band: std::ops::Range<u32>,
    palette: Vec<u8>,
    /// Adler-32 of the band's own bytes (filter bytes and pixels).
    adler: u32,
    /// How many bytes the band holds uncompressed.
    raw_len: u64,
    /// The band's deflate block; for the first band, after the zlib header.
    out: Vec<u8>,
}

/// A PNG file as pieces that, written one after another, are the file: the coded bands
/// stay where their threads wrote them, and go into the EPUB without first being
/// copied into one buffer.
pub struct Pieces {
    /// Signature, IHDR, PLTE and the IDAT chunk's length and tag.
    head: Vec<u8>,
    /// Each band's bytes, in order.
    bands: Vec<Vec<u8>>,
    /// Adler-32, the IDAT chunk's CRC and IEND.
    tail: Vec<u8>,
}

impl Pieces {
    /// The file's bytes, piece by piece.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.head.as_slice())
            .chain(self.bands.iter().map(Vec::as_slice))
            .chain(std::iter::once(self.tail.as_slice()))
    }

    /// The whole file in one buffer.
    pub fn concat(&self) -> Vec<u8> {
        let mut png = Vec::with_capacity(self.slices().map(<[u8]>::len).sum());
        for piece in self.slices() {
            png.extend_from_slice(piece);
        }
        png
    }
}

/// Puts the coded bands of one image, given in order, together as a PNG file; an error
/// unless they cover the image's rows exactly once.
#[cfg(test)]
pub fn join(parts: Vec<Part>) -> Result<Vec<u8>, RlePngError> {
    Ok(assemble(parts)?.concat())
}

/// Puts the coded bands of one image, given in order, together as a PNG file, as
/// [`Pieces`]; an error unless they cover the image's rows exactly once.
pub fn assemble(parts: Vec<Part>) -> Result<Pieces, RlePngError> {
    let Some(first) = parts.first() else {
        return Err(RlePngError::RowCount {
            expected: 1,
            got: 0,
        });
    };
    let (width, height) = (first.width, first.height);
    if first.band.start != 0 {
        return Err(RlePngError::BadBand {
            start: first.band.start,
            end: first.band.end,
            height,
        });
    }
    let palette = first.palette.clone();
    // The rows the bands so far cover, and the Adler-32 of their bytes (1: of none).
    let mut rows = 0..0;
    let mut adler = 1;
    for part in &parts {
        if part.band.start != rows.end || (part.width, part.height) != (width, height) {
            return Err(RlePngError::BadBand {
                start: part.band.start,
                end: part.band.end,
                height,
            });
        }
        rows.end = part.band.end;
        adler = adler32_combine(adler, part.adler, part.raw_len);
    }
    if rows.end != height {
        return Err(RlePngError::RowCount {
            expected: height,
            got: rows.end,
        });
    }
    let bands: Vec<Vec<u8>> = parts.into_iter().map(|part| part.out).collect();
    let adler = adler.to_be_bytes();
    let zlib_len = bands.iter().map(Vec::len).sum::<usize>() + adler.len();

    let mut ihdr = [0; 13];
    ihdr[..4].copy_from_slice(&width.to_be_bytes());
    ihdr[4..8].copy_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 3 (indexed); compression, filter method and
    // interlace all 0, the only standard values (no interlace).
    ihdr[8] = 8;
    ihdr[9] = 3;
    let mut head = Vec::with_capacity(head_len(palette.len() / 3));
    head.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    chunk(&mut head, b"IHDR", &ihdr);
    chunk(&mut head, b"PLTE", &palette);
    if zlib_len > IDAT_MAX {
        // Split into several IDAT chunks, which means copying the stream.
        let mut zlib = Vec::with_capacity(zlib_len);
        for band in &bands {
            zlib.extend_from_slice(band);
        }
        zlib.extend_from_slice(&adler);
        head.reserve(12 * zlib.len().div_ceil(IDAT_MAX) + zlib.len() + 12);
        for data in zlib.chunks(IDAT_MAX) {
            chunk(&mut head, b"IDAT", data);
        }
        chunk(&mut head, b"IEND", &[]);
        return Ok(Pieces {
            head,
            bands: Vec::new(),
            tail: Vec::new(),
        });
    }
    // One IDAT chunk around the stream where it lies.
    head.extend_from_slice(&(zlib_len as u32).to_be_bytes());
    head.extend_from_slice(b"IDAT");
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"IDAT");
    for band in &bands {
        crc.update(band);
    }
    crc.update(&adler);
    let mut tail = Vec::with_capacity(4 + 4 + 12);
    tail.extend_from_slice(&adler);
    tail.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk(&mut tail, b"IEND", &[]);
    Ok(Pieces { head, bands, tail })
}

/// The Adler-32 of two byte strings back to back, from the checksum of each and the
/// second's length (zlib's `adler32_combine`).
fn adler32_combine(first: u32, second: u32, second_len: u64) -> u32 {
    let rem = second_len % ADLER_MOD;
    let (a1, b1) = (u64::from(first & 0xFFFF), u64::from(first >> 16));
    let (a2, b2) = (u64::from(second & 0xFFFF), u64::from(second >> 16));
    // a = a1 + a2 - 1; b = b1 + b2 + rem·(a1 - 1), each mod 65521.
    let a = (a1 + a2 + ADLER_MOD - 1) % ADLER_MOD;
    let b = (b1 + b2 + rem * a1 % ADLER_MOD + ADLER_MOD - rem) % ADLER_MOD;
    ((b << 16) | a) as u32
}

/// Bytes before the zlib stream: signature, IHDR chunk, PLTE chunk of `colours` entries,
/// and the first IDAT chunk's length and tag.
fn head_len(colours: usize) -> usize {
    8 + (12 + 13) + (12 + 3 * colours) + 8
}

/// How many leading bytes of `s` equal `v`, eight at a time: runs between glyph edges
/// are long, and this is the only per-pixel work a row costs.
#[inline(always)]
fn same_prefix(s: &[u8], v: u8) -> usize {
    let pattern = u64::from_ne_bytes([v; 8]);
    let mut chunks = s.chunks_exact(8);
    let mut n = 0;
    for c in chunks.by_ref() {
        let Ok(word) = <[u8; 8]>::try_from(c) else {
            break;
        };
        // Little-endian, so the lowest differing byte is the first in memory.
        let diff = u64::from_le_bytes(word) ^ pattern;
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + chunks.remainder().iter().take_while(|&&b| b == v).count()
}

/// Appends a PNG chunk. `data` is at most `IDAT_MAX` bytes, so its length fits a u32.
fn chunk(png: &mut Vec<u8>, tag: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(tag);
    png.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(tag);
    crc.update(data);
    png.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn palette(n: usize) -> Vec<[u8; 3]> {
        (0..n)
            .map(|i| [i as u8, (i * 7 + 3) as u8, 255 - i as u8])
            .collect()
    }

    /// An image as the encoder is fed it: runs of blank rows, or one row of pixels.
    enum Seg {
        Blank(u32),
        Row(Vec<u8>),
    }

    /// Groups all-zero rows into `Blank` segments.
    fn segments(rows: &[Vec<u8>]) -> Vec<Seg> {
        let mut segs = Vec::new();
        for row in rows {
            if row.iter().all(|&b| b == 0) {
                if let Some(Seg::Blank(n)) = segs.last_mut() {
                    *n += 1;
                    continue;
                }
                segs.push(Seg::Blank(1));
            } else {
                segs.push(Seg::Row(row.clone()));
            }
        }
        segs
    }

    fn encode_segs(width: u32, height: u32, pal: &[[u8; 3]], segs: &[Seg]) -> Vec<u8> {
        let mut enc = IndexedPng::new(width, height, pal).expect("new");
        for seg in segs {
            match seg {
                Seg::Blank(n) => enc.blank_rows(*n).expect("blank_rows"),
                Seg::Row(r) => enc.row(r).expect("row"),
            }
        }
        enc.finish().expect("finish")
    }

    fn encode_rows(width: u32, pal: &[[u8; 3]], rows: &[Vec<u8>]) -> Vec<u8> {
        let mut enc = IndexedPng::new(width, rows.len() as u32, pal).expect("new");
        for r in rows {
            enc.row(r).expect("row");
        }
        enc.finish().expect("finish")
    }

    /// Splits a PNG into chunks, checking lengths and CRCs, and returns the IDAT data
    /// joined, plus the chunk tags in order.
    fn idat(png: &[u8]) -> (Vec<u8>, Vec<[u8; 4]>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut rest = &png[8..];
        let mut data = Vec::new();
        let mut tags = Vec::new();
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let tag: [u8; 4] = rest[4..8].try_into().unwrap();
            let body = &rest[8..8 + len];
            let crc = u32::from_be_bytes(rest[8 + len..12 + len].try_into().unwrap());
            let mut h = crc32fast::Hasher::new();
            h.update(&tag);
            h.update(body);
            assert_eq!(h.finalize(), crc, "CRC of {:?}", std::str::from_utf8(&tag));
            if &tag == b"IDAT" {
                assert!(len <= IDAT_MAX);
                data.extend_from_slice(body);
            }
            tags.push(tag);
            rest = &rest[12 + len..];
        }
        (data, tags)
    }

    fn inflate(zlib: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(zlib).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Checks `png` against the image: structure, palette and pixels through the `png`
    /// crate, and the inflated stream (whose Adler-32 flate2 verifies) byte for byte.
    fn verify(png: &[u8], width: u32, pal: &[[u8; 3]], rows: &[Vec<u8>]) {
        let (zlib, tags) = idat(png);
        assert_eq!(&tags[..2], &[*b"IHDR", *b"PLTE"]);
        assert_eq!(tags.last(), Some(b"IEND"));
        assert!(tags[2..tags.len() - 1].iter().all(|t| t == b"IDAT"));
        assert_eq!(&zlib[..2], &[0x78, 0x01]);
        let mut expected = Vec::with_capacity(rows.len() * (width as usize + 1));
        for r in rows {
            expected.push(0);
            expected.extend_from_slice(r);
        }
        let raw = inflate(&zlib).expect("inflate (checks Adler-32)");
        assert!(raw == expected, "inflated stream differs");

        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .expect("read_info");
        let info = reader.info();
        assert_eq!((info.width, info.height), (width, rows.len() as u32));
        assert_eq!(info.color_type, png::ColorType::Indexed);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        assert!(!info.interlaced);
        assert_eq!(info.palette.as_deref(), Some(&pal.concat()[..]));
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let out = reader.next_frame(&mut buf).expect("next_frame");
        assert_eq!(out.line_size, width as usize);
        for (y, r) in rows.iter().enumerate() {
            let got = &buf[y * width as usize..][..width as usize];
            assert!(got == &r[..], "row {y} differs");
        }
    }

    /// Encodes through `row` only and through `blank_rows` for blank rows; the two must
    /// give the same bytes (both make one run of zeros), and a valid image.
    fn check(width: u32, pal: &[[u8; 3]], rows: &[Vec<u8>]) -> Vec<u8> {
        let plain = encode_rows(width, pal, rows);
        let blanked = encode_segs(width, rows.len() as u32, pal, &segments(rows));
        assert!(plain == blanked, "blank_rows changed the output");
        verify(&plain, width, pal, rows);
        plain
    }

    /// A row of random runs; `max_run` bounds their length.
    fn random_row(rng: &mut XorShift, width: usize, colours: u64, max_run: u64) -> Vec<u8> {
        let mut row = Vec::with_capacity(width);
        while row.len() < width {
            let v = if rng.below(3) == 0 {
                0
            } else {
                rng.below(colours) as u8
            };
            let n = 1 + rng.below(max_run) as usize;
            row.extend(std::iter::repeat_n(v, n.min(width - row.len())));
        }
        row
    }

    /// A random image up to `max_width` wide and `min_height` plus up to `spread` rows
    /// high, one row in `blank_in` blank, runs up to `max_runs` long: (width, palette, rows).
    fn random_image(
        rng: &mut XorShift,
        max_width: u64,
        (min_height, spread): (u64, u64),
        blank_in: u64,
        max_runs: u64,
    ) -> (u32, Vec<[u8; 3]>, Vec<Vec<u8>>) {
        let width = 1 + rng.below(max_width) as u32;
        let height = min_height + rng.below(spread);
        let colours = 1 + rng.below(256);
        let max_run = 1 + rng.below(max_runs);
        let rows = (0..height)
            .map(|_| match rng.below(blank_in) {
                0 => vec![0; width as usize],
                _ => random_row(rng, width as usize, colours, max_run),
            })
            .collect();
        (width, palette(colours as usize), rows)
    }

    #[test]
    fn a_dropped_row_leaves_no_trace() {
        let pal = palette(4);
        let rows = vec![vec![1u8, 1, 2, 0], vec![3, 3, 3, 3]];
        let mut png = IndexedPng::new(4, 2, &pal).expect("png");
        png.row(&rows[0]).expect("row");
        let kept = png
            .row_with(|row| {
                row.run(2, 3);
                false
            })
            .expect("dropped");
        assert!(!kept);
        let kept = png.row_with(|row| {
            row.run(3, 4);
            true
        });
        assert!(kept.expect("kept"));
        assert!(png.finish().expect("finish") == encode_rows(4, &pal, &rows));
    }

    #[test]
    fn random_small_images() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..300 {
            let (width, pal, rows) = random_image(&mut rng, 40, (1, 20), 4, 30);
            check(width, &pal, &rows);
        }
    }

    #[test]
    fn rows_given_as_runs_encode_as_the_same_rows() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let pal = palette(200);
        let width = 1601;
        let rows: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                if i % 7 == 3 {
                    vec![0; width]
                } else {
                    random_row(&mut rng, width, 200, 300)
                }
            })
            .collect();
        let by_rows = encode_rows(width as u32, &pal, &rows);
        let mut png = IndexedPng::new(width as u32, rows.len() as u32, &pal).expect("new");
        for row in &rows {
            let mut runs: Vec<(u8, u32)> = Vec::new();
            for &v in row {
                match runs.last_mut() {
                    // Split some runs in two, and add empty ones: both must not matter.
                    Some((last, n)) if *last == v && *n < 5 => *n += 1,
                    _ => runs.extend([(v, 0), (v, 1)]),
                }
            }
            png.row_runs(&runs).expect("row");
        }
        assert_eq!(png.finish().expect("finish"), by_rows);
        let mut png = IndexedPng::new(3, 1, &pal).expect("new");
        assert!(matches!(
            png.row_runs(&[(1, 2)]),
            Err(RlePngError::RowLength { .. })
        ));
        assert!(matches!(
            png.row_runs(&[(250, 3)]),
            Err(RlePngError::IndexOutOfPalette { index: 250, .. })
        ));
    }

    /// Codes `rows` in bands split at `cuts`, mixing blank rows, runs and pixel rows.
    fn encode_bands(width: u32, pal: &[[u8; 3]], rows: &[Vec<u8>], cuts: &[u32]) -> Vec<u8> {
        let height = rows.len() as u32;
        let mut edges = vec![0];
        edges.extend_from_slice(cuts);
        edges.push(height);
        let parts = edges
            .windows(2)
            .map(|w| {
                let mut enc = IndexedPng::part(width, height, pal, w[0]..w[1]).expect("part");
                for (i, r) in rows[w[0] as usize..w[1] as usize].iter().enumerate() {
                    if r.iter().all(|&v| v == 0) {
                        enc.blank_rows(1).expect("blank");
                    } else if i % 2 == 0 {
                        enc.row(r).expect("row");
                    } else {
                        let mut runs: Vec<(u8, u32)> = Vec::new();
                        for &v in r {
                            match runs.last_mut() {
                                Some((last, n)) if *last == v => *n += 1,
                                _ => runs.push((v, 1)),
                            }
                        }
                        enc.row_runs(&runs).expect("runs");
                    }
                }
                enc.finish_part().expect("finish_part")
            })
            .collect();
        join(parts).expect("join")
    }

    #[test]
    fn bands_coded_apart_join_into_one_image() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..200 {
            let (width, pal, rows) = random_image(&mut rng, 60, (2, 30), 3, 40);
            let height = rows.len();
            // Bands are not empty: cuts inside the image, each once.
            let mut cuts: Vec<u32> = (0..rng.below(4))
                .map(|_| 1 + rng.below(height as u64 - 1) as u32)
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            verify(&encode_bands(width, &pal, &rows, &cuts), width, &pal, &rows);
        }
        // Long runs make the Adler sums of each band large before they are combined.
        let pal = palette(3);
        let rows = vec![vec![2; 5000], vec![0; 5000], vec![1; 5000], vec![2; 5000]];
        let png = encode_bands(5000, &pal, &rows, &[1, 3]);
        verify(&png, 5000, &pal, &rows);
        // One band is the whole image, coded exactly as `finish` codes it.
        assert_eq!(
            encode_bands(5000, &pal, &rows, &[]),
            encode_rows(5000, &pal, &rows)
        );
    }

    #[test]
    fn bands_must_cover_the_image_in_order() {
        let pal = palette(2);
        let part = |band: std::ops::Range<u32>| {
            let mut enc = IndexedPng::part(4, 4, &pal, band.clone()).expect("part");
            enc.blank_rows(band.len() as u32).expect("blank");
            enc.finish_part().expect("finish_part")
        };
        assert!(join(vec![part(0..2), part(3..4)]).is_err(), "a gap");
        assert!(join(vec![part(2..4), part(0..2)]).is_err(), "out of order");
        assert!(join(vec![part(0..2)]).is_err(), "short");
        assert!(join(Vec::new()).is_err(), "nothing");
        assert!(
            IndexedPng::part(4, 4, &pal, 3..5).is_err(),
            "past the bottom"
        );
        assert!(IndexedPng::part(4, 4, &pal, 2..2).is_err(), "empty");
        let mut enc = IndexedPng::part(4, 4, &pal, 0..2).expect("part");
        assert!(enc.blank_rows(3).is_err(), "more rows than the band");
        assert!(join(vec![part(0..1), part(1..4)]).is_ok());
    }

    #[test]
    fn only_blank_rows() {
        for (w, h) in [
            (1, 1),
            (1, 2),
            (2, 1),
            (3, 1),
            (7, 3),
            (257, 1),
            (258, 2),
            (1600, 2560),
        ] {
            check(w, &palette(1), &vec![vec![0; w as usize]; h]);
        }
        // Split into uneven calls, including empty ones, the bytes are the same.
        let one = encode_segs(1600, 2560, &palette(2), &[Seg::Blank(2560)]);
        let mut enc = IndexedPng::new(1600, 2560, &palette(2)).unwrap();
        for n in [0, 1, 999, 0, 1000, 560] {
            enc.blank_rows(n).unwrap();
        }
        assert!(enc.finish().unwrap() == one);
        // 13 bits per 258 blank bytes: about 26 KB for a blank cover.
        assert!(one.len() < 27_000, "{}", one.len());
    }

    #[test]
    fn width_one() {
        let mut rng = XorShift(7);
        let pal = palette(200);
        let rows: Vec<Vec<u8>> = (0..700)
            .map(|i| {
                // Long vertical stretches of zeros merge with the filter bytes.
                if (i / 50) % 2 == 0 {
                    vec![0]
                } else {
                    vec![rng.below(3) as u8 * 90]
                }
            })
            .collect();
        check(1, &pal, &rows);
    }

    #[test]
    fn width_1601() {
        let mut rng = XorShift(1601);
        let pal = palette(64);
        let rows: Vec<Vec<u8>> = (0..40)
            .map(|i| match i % 3 {
                0 => vec![0; 1601],
                1 => random_row(&mut rng, 1601, 64, 400),
                _ => random_row(&mut rng, 1601, 64, 3),
            })
            .collect();
        check(1601, &pal, &rows);
    }

    #[test]
    fn runs_of_every_length() {
        let pal = palette(256);
        let width = 640;
        let mut rows = Vec::new();
        for len in 1..=600usize {
            // A non-zero run between different bytes, in low and high (9-bit) literals.
            let v = if len % 2 == 0 { 7 } else { 201 };
            let mut r = vec![3; width];
            r[10..10 + len].fill(v);
            rows.push(r);
            // A zero run at the row start merges with the filter byte (len + 1 long)...
            let mut r = vec![5; width];
            r[..len].fill(0);
            rows.push(r);
            // ...and one at the row end with the next row's filter byte.
            let mut r = vec![9; width];
            r[width - len..].fill(0);
            rows.push(r);
        }
        check(width as u32, &pal, &rows);
        // And whole streams that are one run of every length: w + 1 zeros per row.
        for w in 1..=600 {
            check(w, &pal, &[vec![0; w as usize]]);
        }
    }

    #[test]
    fn streams_longer_than_a_chunk_are_split() {
        // Noise codes at about a byte a pixel: 1.2 MB of it needs two IDAT chunks, and
        // the stream is then copied out rather than framed where it lies.
        let mut rng = XorShift(9_001);
        let pal = palette(256);
        let rows: Vec<Vec<u8>> = (0..300)
            .map(|_| (0..4000).map(|_| rng.below(256) as u8).collect())
            .collect();
        let png = check(4000, &pal, &rows);
        let (zlib, tags) = idat(&png);
        assert!(zlib.len() > IDAT_MAX);
        assert_eq!(tags.iter().filter(|t| *t == b"IDAT").count(), 2);
    }

    #[test]
    fn rows_wider_than_an_adler_piece() {
        // Rows are coded in pieces of ADLER_CHUNK pixels; runs crossing a piece boundary
        // and long runs inside rows must come out whole.
        let mut rng = XorShift(70_001);
        let w = 2 * ADLER_CHUNK + 3;
        let pal = palette(256);
        let mut crossing = vec![0u8; w];
        crossing[ADLER_CHUNK - 5..ADLER_CHUNK + 9].fill(5);
        crossing[2 * ADLER_CHUNK - 1] = 200;
        let rows = vec![
            random_row(&mut rng, w, 256, 30_000),
            vec![0; w],
            vec![7; w],
            crossing,
            random_row(&mut rng, w, 256, 4),
            vec![255; w],
            vec![0; w],
        ];
        check(w as u32, &pal, &rows);
    }

    #[test]
    fn alternating_blank_and_busy_rows() {
        let mut rng = XorShift(42);
        let pal = palette(100);
        let rows: Vec<Vec<u8>> = (0..200)
            .map(|i| {
                if i % 2 == 0 {
                    vec![0; 333]
                } else {
                    let mut r = random_row(&mut rng, 333, 100, 50);
                    // Rows ending in zero merge with the blank row after them.
                    if i % 4 == 1 {
                        r[300..].fill(0);
                    }
                    r
                }
            })
            .collect();
        check(333, &pal, &rows);
    }

    #[test]
    fn full_palette_high_indices() {
        let mut rng = XorShift(256);
        let pal: Vec<[u8; 3]> = (0..256).map(|i| [255 - i as u8, i as u8, 0x5a]).collect();
        let mut rows: Vec<Vec<u8>> = (0..60)
            .map(|_| {
                let mut r = random_row(&mut rng, 500, 112, 20);
                for b in &mut r {
                    *b += 144;
                }
                r
            })
            .collect();
        rows.push((0..=255).collect());
        rows.push((0..=255).rev().collect());
        check(256, &pal, &rows[60..]);
        rows.truncate(60);
        check(500, &pal, &rows);
    }

    /// Cover-like: a blank 1600×2560 page with three title lines of large glyphs and an
    /// author line, each glyph two stems whose anti-aliased edges move from row to row.
    fn cover_like() -> (Vec<[u8; 3]>, Vec<Seg>, Vec<Vec<u8>>) {
        let (w, h) = (1600usize, 2560usize);
        // Background, then 63 coverage steps of two inks, as the cover's palette is.
        let mut pal = vec![[250, 245, 230]];
        for ink in [[20u8, 20, 60], [120, 30, 30]] {
            for c in 1..=63u32 {
                let mix = |i: usize| {
                    ((u32::from(ink[i]) * c + u32::from(pal[0][i]) * (63 - c)) / 63) as u8
                };
                pal.push([mix(0), mix(1), mix(2)]);
            }
        }
        let mut rng = XorShift(2560);
        // (top, rows, glyphs, glyph width, stem width, ink offset)
        let lines = [
            (500, 150, 9, 150, 26, 0u8),
            (720, 150, 10, 140, 24, 0),
            (940, 150, 8, 160, 26, 0),
            (2100, 60, 22, 60, 8, 63),
        ];
        let mut rows = vec![vec![0u8; w]; h];
        for (top, height, glyphs, gw, stem, ink) in lines {
            let left = (w - glyphs * gw) / 2;
            for row in &mut rows[top..top + height] {
                for g in 0..glyphs {
                    for s in [gw / 8, gw / 2] {
                        let x = left + g * gw + s + rng.below(4) as usize;
                        let edge = |rng: &mut XorShift| ink + 1 + rng.below(62) as u8;
                        row[x] = edge(&mut rng);
                        row[x + 1] = edge(&mut rng);
                        row[x + 2..x + 2 + stem].fill(ink + 63);
                        row[x + 2 + stem] = edge(&mut rng);
                    }
                }
            }
        }
        let segs = segments(&rows);
        (pal, segs, rows)
    }

    #[test]
    fn cover_like_image() {
        let (pal, segs, rows) = cover_like();
        let png = encode_segs(1600, 2560, &pal, &segs);
        verify(&png, 1600, &pal, &rows);
        assert!(png == encode_rows(1600, &pal, &rows));
    }

    #[test]
    fn deterministic() {
        let (pal, segs, _) = cover_like();
        assert!(encode_segs(1600, 2560, &pal, &segs) == encode_segs(1600, 2560, &pal, &segs));
    }

    #[test]
    fn flate2_verifies_adler() {
        // Guards the other tests: they rely on flate2 rejecting a wrong Adler-32.
        let png = encode_rows(5, &palette(4), &[vec![1, 2, 2, 2, 2], vec![0; 5]]);
        let (mut zlib, _) = idat(&png);
        assert!(inflate(&zlib).is_ok());
        let last = zlib.len() - 1;
        zlib[last] ^= 1;
        assert!(inflate(&zlib).is_err());
    }

    #[test]
    fn adler_closed_form_matches_bytewise() {
        let mut enc = IndexedPng::new(1, 1, &palette(1)).unwrap().stream;
        let (mut a, mut b) = (1u64, 0u64);
        let mut rng = XorShift(65521);
        for n in [1, 2, 3, 4, 65520, 65521, 65522, 131_042, 131_043, 300_001] {
            let v = rng.below(256) as u8;
            enc.adler_run(v, n);
            for _ in 0..n {
                a = (a + u64::from(v)) % ADLER_MOD;
                b = (b + a) % ADLER_MOD;
            }
            assert_eq!((enc.adler_a, enc.adler_b), (a, b), "n = {n}");
        }
        // Beyond any real image, still no overflow.
        enc.adler_run(255, u64::MAX);
        assert!(enc.adler_a < ADLER_MOD && enc.adler_b < ADLER_MOD);
    }

    #[test]
    fn errors() {
        use RlePngError as E;
        let pal = palette(4);
        assert!(matches!(
            IndexedPng::new(0, 1, &pal),
            Err(E::BadSize { .. })
        ));
        assert!(matches!(
            IndexedPng::new(1, 0, &pal),
            Err(E::BadSize { .. })
        ));
        assert!(matches!(
            IndexedPng::new(1 << 31, 1, &pal),
            Err(E::BadSize { .. })
        ));
        assert!(matches!(IndexedPng::new(1, 1, &[]), Err(E::BadPalette(0))));
        assert!(matches!(
            IndexedPng::new(1, 1, &[[0; 3]; 257]),
            Err(E::BadPalette(257))
        ));

        let mut enc = IndexedPng::new(3, 2, &pal).unwrap();
        assert!(matches!(
            enc.row(&[0, 1]),
            Err(E::RowLength {
                expected: 3,
                got: 2
            })
        ));
        assert!(matches!(enc.row(&[0, 1, 2, 3]), Err(E::RowLength { .. })));
        assert!(matches!(
            enc.row(&[0, 4, 1]),
            Err(E::IndexOutOfPalette { index: 4, len: 4 })
        ));
        assert!(matches!(
            enc.blank_rows(3),
            Err(E::TooManyRows { height: 2 })
        ));
        assert!(matches!(
            enc.blank_rows(u32::MAX),
            Err(E::TooManyRows { .. })
        ));
        enc.row(&[1, 2, 3]).unwrap();
        let mut early = IndexedPng::new(3, 2, &pal).unwrap();
        early.row(&[1, 2, 3]).unwrap();
        assert!(matches!(
            early.finish(),
            Err(E::RowCount {
                expected: 2,
                got: 1
            })
        ));
        enc.blank_rows(1).unwrap();
        assert!(matches!(enc.row(&[0; 3]), Err(E::TooManyRows { .. })));
        assert!(matches!(enc.blank_rows(1), Err(E::TooManyRows { .. })));
        enc.blank_rows(0).unwrap();
        // The rejected calls above left nothing behind.
        let png = enc.finish().unwrap();
        verify(&png, 3, &pal, &[vec![1, 2, 3], vec![0; 3]]);

        let enc = IndexedPng::new(3, 2, &pal).unwrap();
        assert!(matches!(enc.finish(), Err(E::RowCount { got: 0, .. })));

        // A bad index late in a busy row, after bits were already spilled: undone.
        let mut enc = IndexedPng::new(200, 2, &pal).unwrap();
        let busy: Vec<u8> = (0..200).map(|i| (i * 7 % 4) as u8).collect();
        enc.row(&busy).unwrap();
        let mut bad = busy.clone();
        bad[190] = 9;
        let before = enc.out.len();
        assert!(matches!(
            enc.row(&bad),
            Err(E::IndexOutOfPalette { index: 9, len: 4 })
        ));
        assert_eq!(enc.out.len(), before);
        enc.row(&busy).unwrap();
        verify(&enc.finish().unwrap(), 200, &pal, &[busy.clone(), busy]);
    }

    /// Timing, not a check: `cargo test --release --lib rle_png -- --ignored
    /// --nocapture`. RLE_PNG_REPS sets the encode count (so a profiler run at two counts
    /// gives the cost of one encode), RLE_PNG_FILE an indexed PNG to encode instead of
    /// the synthetic cover, and RLE_PNG_ENCODER=png times the previous path (the png
    /// crate with the Sub filter and fdeflate) instead.
    #[test]
    #[ignore]
    fn cover_like_speed() {
        let (pal, rows) = match std::env::var_os("RLE_PNG_FILE") {
            Some(path) => {
                let bytes = std::fs::read(path).expect("read RLE_PNG_FILE");
                let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
                    .read_info()
                    .expect("read_info");
                let info = reader.info();
                let (w, pal) = (info.width as usize, info.palette.clone().expect("PLTE"));
                let pal: Vec<[u8; 3]> = pal.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
                let mut buf = vec![0; reader.output_buffer_size().unwrap()];
                reader.next_frame(&mut buf).expect("8-bit indexed image");
                (pal, buf.chunks(w).map(<[u8]>::to_vec).collect())
            }
            None => {
                let (pal, _, rows) = cover_like();
                (pal, rows)
            }
        };
        let (width, height) = (rows[0].len() as u32, rows.len() as u32);
        let segs = segments(&rows);
        let reps: u32 = std::env::var("RLE_PNG_REPS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(100);
        let runs: usize = rows
            .iter()
            .filter(|r| r.iter().any(|&b| b != 0))
            .map(|r| 1 + r.windows(2).filter(|p| p[0] != p[1]).count())
            .sum();
        let busy = segs.iter().filter(|s| matches!(s, Seg::Row(_))).count();
        let baseline = std::env::var("RLE_PNG_ENCODER").is_ok_and(|e| e == "png");
        let pixels = if baseline { rows.concat() } else { Vec::new() };
        let start = std::time::Instant::now();
        let mut size = 0;
        for _ in 0..reps {
            size = if baseline {
                let mut out = Vec::new();
                let mut enc = png::Encoder::new(&mut out, width, height);
                enc.set_color(png::ColorType::Indexed);
                enc.set_depth(png::BitDepth::Eight);
                enc.set_palette(pal.concat());
                enc.set_filter(png::Filter::Sub);
                enc.set_deflate_compression(png::DeflateCompression::FdeflateUltraFast);
                let mut w = enc.write_header().unwrap();
                w.write_image_data(&pixels).unwrap();
                w.finish().unwrap();
                std::hint::black_box(out).len()
            } else {
                std::hint::black_box(encode_segs(width, height, &pal, &segs)).len()
            };
        }
        let per = start.elapsed() / reps.max(1);
        let name = if baseline { "png+fdeflate" } else { "rle_png" };
        println!("{name}: {size} bytes, {per:?} per encode; {busy} busy rows, {runs} runs in them");
    }
}
