//! Source bytes to text, before any reader sees them.
//!
//! Order of trust: a byte-order mark, then a declared charset (HTTP header or `<meta charset>`),
//! then UTF-8 validity, then chardetng's guess. Binary files are refused with a message that
//! says what they are, so a user who passed the wrong file finds out at once.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, ISO_2022_JP, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// Why bytes could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes start with the signature of a known binary format.
    #[error("binary file ({format}), not text")]
    Format {
        /// Human name of the format, e.g. "PNG image".
        format: &'static str,
    },
    /// A NUL byte (or a NUL code unit in UTF-16), which no text file contains.
    #[error("binary file (NUL byte at offset {offset}), not text")]
    Binary {
        /// Byte offset of the first NUL in the input.
        offset: usize,
    },
    /// Text in an encoding galley does not read (UTF-32).
    #[error("text in {encoding}, which is not supported; save it as UTF-8")]
    Unsupported {
        /// The encoding's name.
        encoding: &'static str,
    },
    /// Too many control characters for this to be text.
    #[error("binary file ({count} control characters in {total} characters), not text")]
    ControlCharacters {
        /// Control characters other than whitespace (tab, LF, VT, FF, CR).
        count: usize,
        /// Characters in the decoded text.
        total: usize,
    },
}

/// Text decoded from source bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, without a byte-order mark and with LF line endings.
    pub text: String,
    /// The encoding's name as encoding_rs spells it, e.g. `"UTF-8"`, `"windows-1252"`.
    pub encoding: &'static str,
}

/// Decodes source bytes: UTF-8 with or without BOM, UTF-16 LE/BE with BOM, else a legacy
/// encoding (Windows-125x, ISO-8859-x, KOI8-R, Shift_JIS, GB18030, Big5, …) guessed by chardetng.
/// Empty input gives empty text.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode_with_hint(bytes, None)
}

/// Like [`decode`], but a declared charset label (from an HTTP header or `<meta charset>`) is
/// used when encoding_rs knows it. A byte-order mark still wins over the label, as in browsers.
pub fn decode_with_hint(bytes: &[u8], declared: Option<&str>) -> Result<Decoded, DecodeError> {
    if let Some(format) = magic(bytes) {
        return Err(DecodeError::Format { format });
    }
    // Checked before UTF-16, whose little-endian BOM is a prefix of UTF-32's.
    if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        return Err(DecodeError::Unsupported { encoding: "UTF-32" });
    }
    let declared = declared
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        // The replacement encoding stands for labels that are unsafe to decode; a guess is better.
        .filter(|enc| *enc != encoding_rs::REPLACEMENT && *enc != encoding_rs::X_USER_DEFINED);

    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return finish(enc, &bytes[bom_len..], bom_len);
    }
    if let Some(enc) = bomless_utf16(bytes) {
        return finish(enc, bytes, 0);
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary { offset });
    }
    let utf8_ok = std::str::from_utf8(bytes).is_ok();
    let enc = match declared {
        // A `<meta charset=utf-16>` can only have been read because the bytes are ASCII-compatible,
        // and a page that says UTF-8 but is not is far more often Latin-1 than broken UTF-8.
        Some(enc) if enc == UTF_16LE || enc == UTF_16BE || (enc == UTF_8 && !utf8_ok) => None,
        other => other,
    };
    let enc = match enc {
        Some(enc) => enc,
        None if utf8_ok && !(bytes.is_ascii() && bytes.contains(&0x1B)) => UTF_8,
        None => guess(bytes, utf8_ok),
    };
    finish(enc, bytes, 0)
}

/// Decodes with `enc`, then normalises line endings and checks the result looks like text.
/// `base` is where `bytes` starts in the original input, for error offsets.
fn finish(enc: &'static Encoding, bytes: &[u8], base: usize) -> Result<Decoded, DecodeError> {
    let nul = if enc == UTF_16LE || enc == UTF_16BE {
        bytes
            .chunks_exact(2)
            .position(|unit| unit == [0, 0])
            .map(|i| 2 * i)
    } else {
        bytes.iter().position(|&b| b == 0)
    };
    if let Some(offset) = nul {
        return Err(DecodeError::Binary {
            offset: base + offset,
        });
    }
    // Valid UTF-8 is taken as it is. encoding_rs would check it again, and its first check
    // detects the CPU's vector units: six CPUID instructions, each a trip to the hypervisor
    // in a virtual machine (12 µs apiece on the 2-core VMs galley is measured on).
    let valid = (enc == UTF_8)
        .then(|| std::str::from_utf8(bytes).ok())
        .flatten();
    let text = match valid {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => enc.decode_without_bom_handling(bytes).0,
    };
    let text = normalize_newlines(&text);
    check_controls(&text)?;
    Ok(Decoded {
        text,
        encoding: enc.name(),
    })
}

/// chardetng's guess for bytes that are not (or not usefully) UTF-8.
fn guess(bytes: &[u8], utf8_ok: bool) -> &'static Encoding {
    // Pure ASCII with escapes is the one case where ISO-2022-JP beats "it is valid UTF-8".
    let iso_2022 = if utf8_ok {
        Iso2022JpDetection::Allow
    } else {
        Iso2022JpDetection::Deny
    };
    let mut detector = EncodingDetector::new(iso_2022);
    detector.feed(bytes, true);
    let enc = detector.guess(None, Utf8Detection::Deny);
    if utf8_ok && enc != ISO_2022_JP {
        return UTF_8;
    }
    // With a handful of non-ASCII bytes the text is mostly ASCII, so Latin script, and a stray
    // 0xA3 is far more likely "£" than the "Ł" chardetng may pick; scripts with their own letters
    // produce many more non-ASCII bytes than this.
    let non_ascii = bytes.iter().filter(|b| !b.is_ascii()).count();
    if non_ascii <= 3 && enc.is_single_byte() {
        return WINDOWS_1252;
    }
    enc
}

/// UTF-16 without a BOM: ASCII-range text leaves every other byte zero. Only believed when
/// the pattern is overwhelming, since binary data has NULs too.
fn bomless_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let pairs = sample.len() / 2;
    let (mut zero_even, mut zero_odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        zero_even += usize::from(pair[0] == 0 && pair[1] != 0);
        zero_odd += usize::from(pair[1] == 0 && pair[0] != 0);
    }
    // Nine in ten code units in the Latin range with a zero high byte, and none the other way.
    if zero_odd * 10 >= pairs * 9 && zero_even == 0 {
        Some(UTF_16LE)
    } else if zero_even * 10 >= pairs * 9 && zero_odd == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Signatures of binary formats people are likely to pass by mistake.
fn magic(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"PK\x05\x06", "ZIP archive"),
        (b"\x7fELF", "ELF executable"),
        (b"\x1f\x8b", "gzip archive"),
        (b"\xFD7zXZ\x00", "xz archive"),
        (b"7z\xBC\xAF\x27\x1C", "7-Zip archive"),
        (b"\x28\xB5\x2F\xFD", "Zstandard archive"),
        (b"wOFF", "WOFF font"),
        (b"wOF2", "WOFF2 font"),
        (b"\x00\x01\x00\x00\x00", "TrueType font"),
    ];
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some("WebP image");
    }
    SIGNATURES
        .iter()
        .find(|(sig, _)| bytes.starts_with(sig))
        .map(|&(_, name)| name)
}

/// CRLF and lone CR become LF, so readers only ever split on `\n`.
fn normalize_newlines(text: &str) -> String {
    // By slices between carriage returns, not by char: a saved web page is hundreds of
    // kilobytes, and this ran over every one of them.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// Text has tabs, newlines and the odd form feed or escape; binary has control bytes everywhere.
/// The whitespace controls (tab, LF, VT, FF, CR) never count.
fn check_controls(text: &str) -> Result<(), DecodeError> {
    let mut count = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        count += usize::from(c.is_control() && !c.is_whitespace());
    }
    // Over 2 % is far beyond any real text (terminal escapes in a README are well under that).
    if count > 2 && count * 50 > total {
        return Err(DecodeError::ControlCharacters { count, total });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn newlines_and_controls_are_judged_by_char() {
        let samples = [
            "plain\r\nwindows\rold mac\n\r\nmixed\r",
            "tab\tnel\u{85}c1\u{80}\u{9F}del\u{7F}esc\u{1B}nul-free é ü “”",
            "\u{1C}\u{1D}\u{1E}\u{1F}\u{0B}\u{0C}",
            "\r\r\n\n",
        ];
        for text in samples {
            let by_char = text
                .chars()
                .filter(|c| c.is_control() && !c.is_whitespace())
                .count();
            let total = text.chars().count();
            let expected = by_char > 2 && by_char * 50 > total;
            assert_eq!(check_controls(text).is_err(), expected, "{text:?}");
            let by_chars: String = {
                let mut out = String::new();
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '\r' {
                        if chars.peek() == Some(&'\n') {
                            chars.next();
                        }
                        out.push('\n');
                    } else {
                        out.push(c);
                    }
                }
                out
            };
            assert_eq!(normalize_newlines(text), by_chars, "{text:?}");
        }
        // The count itself, through the error.
        match check_controls("\u{1B}\u{80}\u{7F}ab") {
            Err(DecodeError::ControlCharacters { count, total }) => {
                assert_eq!((count, total), (3, 5))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let d = decode("Café — “quoted”".as_bytes()).expect("utf-8");
        assert_eq!(d.text, "Café — “quoted”");
        assert_eq!(d.encoding, "UTF-8");
        let d = decode(b"\xEF\xBB\xBFhello").expect("utf-8 bom");
        assert_eq!(d.text, "hello");
        assert_eq!(d.encoding, "UTF-8");
    }

    #[test]
    fn empty_is_not_an_error() {
        let d = decode(b"").expect("empty");
        assert_eq!(d.text, "");
        let d = decode(b"\xEF\xBB\xBF").expect("bom only");
        assert_eq!(d.text, "");
    }

    #[test]
    fn line_endings_become_lf() {
        let d = decode(b"a\r\nb\rc\n\r\nd").expect("text");
        assert_eq!(d.text, "a\nb\nc\n\nd");
    }

    #[test]
    fn utf16_with_bom() {
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in "Grüße\r\nЖ".encode_utf16() {
            le.extend(u.to_le_bytes());
            be.extend(u.to_be_bytes());
        }
        let d = decode(&le).expect("le");
        assert_eq!((d.text.as_str(), d.encoding), ("Grüße\nЖ", "UTF-16LE"));
        let d = decode(&be).expect("be");
        assert_eq!((d.text.as_str(), d.encoding), ("Grüße\nЖ", "UTF-16BE"));
    }

    #[test]
    fn utf16_without_bom_when_unmistakable() {
        let le: Vec<u8> = "Plain old text, no BOM here."
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let d = decode(&le).expect("le");
        assert_eq!(d.text, "Plain old text, no BOM here.");
        assert_eq!(d.encoding, "UTF-16LE");
    }

    #[test]
    fn latin1_and_legacy() {
        let d = decode(b"Caf\xE9 cr\xE8me br\xFBl\xE9e, na\xEFve fa\xE7ade").expect("latin1");
        assert_eq!(d.text, "Café crème brûlée, naïve façade");
        assert_eq!(d.encoding, "windows-1252");
        // Valid UTF-8 wins even where a legacy reading is possible.
        let d = decode("façade".as_bytes()).expect("utf8");
        assert_eq!(d.encoding, "UTF-8");
    }

    #[test]
    fn declared_charset_wins_when_known() {
        let d = decode_with_hint("Ð¶".as_bytes(), Some("windows-1252")).expect("hint");
        assert_eq!(d.encoding, "windows-1252");
        let d = decode_with_hint(b"\xC6\xD6", Some(" KOI8-R ")).expect("koi8");
        assert_eq!(d.text, "фж");
        let d = decode_with_hint(b"caf\xE9", Some("no-such-charset")).expect("unknown");
        assert_eq!(d.text, "café");
        // A page claiming UTF-8 that is not gets sniffed instead of filled with U+FFFD.
        let d = decode_with_hint(b"caf\xE9", Some("utf-8")).expect("lying");
        assert_eq!(d.text, "café");
        // BOM beats the label.
        let d = decode_with_hint(b"\xEF\xBB\xBFcaf\xC3\xA9", Some("latin1")).expect("bom");
        assert_eq!(d.text, "café");
    }

    #[test]
    fn binary_is_refused() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(
            decode(png).map_err(|e| e.to_string()),
            Err("binary file (PNG image), not text".to_string())
        );
        assert!(matches!(
            decode(b"%PDF-1.7\n%\xE2\xE3"),
            Err(DecodeError::Format {
                format: "PDF document"
            })
        ));
        assert!(matches!(
            decode(b"\x1f\x8b\x08\0"),
            Err(DecodeError::Format { .. })
        ));
        assert!(matches!(
            decode(b"PK\x03\x04x"),
            Err(DecodeError::Format { .. })
        ));
        assert!(matches!(
            decode(b"\x7fELF\x02"),
            Err(DecodeError::Format { .. })
        ));
        assert!(matches!(
            decode(b"GIF89a.."),
            Err(DecodeError::Format { .. })
        ));
        assert!(matches!(
            decode(b"\xFF\xD8\xFF\xE0"),
            Err(DecodeError::Format { .. })
        ));
        assert_eq!(decode(b"abc\0def"), Err(DecodeError::Binary { offset: 3 }));
        assert_eq!(
            decode(b"\xEF\xBB\xBFab\0"),
            Err(DecodeError::Binary { offset: 5 })
        );
        assert_eq!(
            decode(b"\xFF\xFE\0\0a\0\0\0"),
            Err(DecodeError::Unsupported { encoding: "UTF-32" })
        );
        let noise: Vec<u8> = (0u32..2000).map(|i| (i * 37 % 31 + 1) as u8).collect();
        assert!(matches!(
            decode(&noise),
            Err(DecodeError::ControlCharacters { .. })
        ));
        // A few escapes and form feeds in real text are fine.
        let d = decode(b"page one\x0Cpage two \x1b[1mbold\x1b[0m and more text here, plenty of it");
        assert!(d.is_ok());
    }

    fn corpus(dir: &str) -> Option<std::path::PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/nontext/encodings")
            .join(dir);
        let alt = Path::new("/work/shared/corpus/nontext/encodings").join(dir);
        [root, alt].into_iter().find(|p| p.exists())
    }

    fn decode_file(path: &Path) -> Decoded {
        let bytes = std::fs::read(path).expect("read corpus file");
        decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Each chardet test folder, the encoding we must detect, and a string the text must contain.
    #[test]
    fn real_legacy_files() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("iso-8859-1/_ude_1.txt", &["windows-1252"], "ã"),
            ("windows-1252/_ude_1.txt", &["windows-1252"], "ö"),
            (
                "windows-1252/_mozilla_bug421271_text.html",
                &["windows-1252"],
                "£825",
            ),
            ("iso-8859-1/_ude_2.txt", &["windows-1252"], "ç"),
            ("windows-1252/github_bug_9.txt", &["windows-1252"], "“"),
            // KOI8-U is a superset that reads Russian identically.
            (
                "KOI8-R/aif.ru.health.xml",
                &["KOI8-R", "KOI8-U"],
                "Здоровье",
            ),
            (
                "windows-1251-russian/aif.ru.health.xml",
                &["windows-1251"],
                "Здоровье",
            ),
            (
                "SHIFT_JIS/_ude_2.txt",
                &["Shift_JIS"],
                "コンソール アプリケーション",
            ),
            (
                "EUC-JP/_mozilla_bug426271_text-euc-jp.html",
                &["EUC-JP"],
                "日本語エンコードテスト",
            ),
            (
                "GB2312/_mozilla_bug171813_text.html",
                &["GBK", "gb18030"],
                "搜狐在线",
            ),
            ("Big5/_ude_1.txt", &["Big5"], "維基大典"),
            (
                "iso-8859-7-greek/_ude_greek.txt",
                &["ISO-8859-7", "windows-1253"],
                "ελληνική",
            ),
            (
                "windows-1250-czech/_ude_1.txt",
                &["windows-1250", "ISO-8859-2"],
                "ř",
            ),
            (
                "iso-8859-2-polish/_ude_1.txt",
                &["ISO-8859-2", "windows-1250"],
                "ą",
            ),
            (
                "windows-1255-hebrew/_ude_he2.txt",
                &["windows-1255", "ISO-8859-8"],
                "העברית",
            ),
            (
                "windows-1256-arabic/_chromium_windows-1256_with_no_encoding_specified.html",
                &["windows-1256"],
                "أعلنت",
            ),
            (
                "SHIFT_JIS/_chromium_Shift-JIS_with_no_encoding_specified.html",
                &["Shift_JIS"],
                "衆院議院運営委員会",
            ),
            ("utf-8-sig/_ude_4.txt", &["UTF-8"], "コンソール"),
            ("UTF-16/bom-utf-16-le.srt", &["UTF-16LE"], "-->"),
            ("UTF-16/bom-utf-16-be.srt", &["UTF-16BE"], "-->"),
        ];
        let Some(root) = corpus("chardet-tests") else {
            eprintln!("corpus absent, skipping");
            return;
        };
        for (file, encodings, needle) in cases {
            let path = root.join(file);
            if !path.exists() {
                continue;
            }
            let d = decode_file(&path);
            assert!(
                encodings.contains(&d.encoding),
                "{file}: got {} want {encodings:?}",
                d.encoding
            );
            assert!(d.text.contains(needle), "{file}: no {needle:?}");
            assert!(
                !d.text.contains('\r') && !d.text.starts_with('\u{FEFF}'),
                "{file}"
            );
            assert!(
                !d.text.contains('\u{FFFD}'),
                "{file}: replacement characters"
            );
        }
    }

    #[test]
    fn gutenberg_latin1_book() {
        let Some(dir) = corpus("gutenberg-24675-latin1") else {
            eprintln!("corpus absent, skipping");
            return;
        };
        let d = decode_file(&dir.join("24675-8.txt"));
        assert_eq!(d.encoding, "windows-1252");
        assert!(!d.text.contains("Ã©") && !d.text.contains('\u{FFFD}'));
        assert!(!d.text.contains('\r'));
    }
}
