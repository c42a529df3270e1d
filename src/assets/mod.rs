//! Images a document refers to, loaded once and shared by every writer.
//!
//! Missing, broken, oversized or (offline) remote images are not errors: they are reported
//! as warnings and writers show the alt text instead. Images are fetched ([`remote`]),
//! checked and prepared for the reader ([`process`]: downscaling, grayscale) and stored once
//! per distinct content.

pub mod process;
mod remote;

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fetch::Fetcher;
use crate::limits::{Limits, human_bytes};
use crate::model::Document;
use crate::parallel::map_in_order;

pub mod confine;

pub use process::{MAX_DIMENSION, MAX_PIXELS};

/// A loaded image, ready to embed.
#[derive(Debug, Clone)]
pub struct Asset {
    /// File content in `media_type`'s format.
    pub data: Vec<u8>,
    /// `image/png`, `image/jpeg`, `image/gif` or `image/svg+xml`.
    pub media_type: &'static str,
    /// File extension matching `media_type`.
    pub ext: &'static str,
    /// Pixel width (0 for SVG).
    pub width: u32,
    /// Pixel height (0 for SVG).
    pub height: u32,
}

/// How a document's images are found and prepared.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageOptions<'a> {
    /// Client for `http(s)` images; `None` is offline: remote images show their alt text.
    pub fetcher: Option<&'a Fetcher>,
    /// Refuse local paths and `file:` URLs (for pages fetched from the web, whose image
    /// references must not read files on this machine).
    pub no_local_files: bool,
    /// Longest side, in pixels, beyond which images are downscaled; `None` keeps sizes.
    pub max_side: Option<u32>,
    /// Convert every raster image to grayscale (for e-ink readers).
    pub grayscale: bool,
    /// Image count, size and dimension limits.
    pub limits: Limits,
    /// Folders besides the article's own that local images may be read from
    /// (`--allow-path`).
    pub allowed_dirs: &'a [PathBuf],
}

/// An image reference (`src`, alt text) and what has come of it so far.
type Pending<'d, T> = (&'d str, &'d str, Result<T, String>);

/// The images of one document, keyed by `src` as written; identical files are stored once.
#[derive(Debug, Default)]
pub struct Assets {
    by_src: HashMap<String, usize>,
    by_hash: HashMap<[u8; 32], usize>,
    items: Vec<Asset>,
}

impl Assets {
    /// Loads every image of `doc` as it is (no fetching, no resizing), resolving relative
    /// paths against `base`. `origin` names the document in warnings.
    pub fn load(
        doc: &Document,
        base: Option<&Path>,
        origin: &str,
        warnings: &mut Vec<String>,
    ) -> Assets {
        Assets::load_with(doc, base, origin, &ImageOptions::default(), warnings)
    }

    /// Loads every image of `doc` with `opts`: remote images fetched (in parallel, results
    /// kept in document order), then checked, downscaled and converted as asked.
    pub fn load_with<'d>(
        doc: &'d Document,
        base: Option<&Path>,
        origin: &str,
        opts: &ImageOptions,
        warnings: &mut Vec<String>,
    ) -> Assets {
        let mut images: Vec<(&str, &str)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for img in doc.images() {
            if seen.insert(img.src.as_str()) {
                images.push((img.src.as_str(), img.alt.as_str()));
            }
        }
        // Past the image count limit, nothing is fetched or read: the rest show alt text.
        if images.len() > opts.limits.max_images {
            warnings.push(format!(
                "{origin}: {} images, over the image count limit of {} (raise it with \
                 --max-images); the rest show their alt text",
                images.len(),
                opts.limits.max_images
            ));
            images.truncate(opts.limits.max_images);
        }
        let roots = confine::Roots::new(base, opts.allowed_dirs);
        let remote_urls: Vec<String> = images
            .iter()
            .filter_map(|(src, _)| remote_url(src))
            .collect();
        let mut fetched: HashMap<String, Result<Vec<u8>, String>> = match opts.fetcher {
            Some(f) => remote_urls
                .iter()
                .cloned()
                .zip(remote::fetch_all(f, &remote_urls))
                .collect(),
            None => HashMap::new(),
        };
        let limits = &opts.limits;
        let identified: Vec<Pending<Asset>> = images
            .into_iter()
            .map(|(src, alt)| {
                let bytes = match remote_url(src) {
                    Some(url) if opts.fetcher.is_some() => fetched
                        .remove(&url)
                        .unwrap_or_else(|| Err("could not be fetched".into())),
                    Some(_) => Err("is remote and network access is off (--offline)".into()),
                    None if opts.no_local_files && !src.trim().starts_with("data:") => {
                        Err("is a local file, which a page from the web may not use".into())
                    }
                    None => read_source(src, base, &roots, limits),
                };
                (src, alt, bytes.and_then(|b| identify(b, limits)))
            })
            .collect();
        let (max_side, grayscale) = (opts.max_side, opts.grayscale);
        let adjust = |(src, alt, asset): Pending<'d, Asset>| {
            let asset = asset.and_then(|a| process::adjust(a, max_side, grayscale));
            (src, alt, asset)
        };
        // Decoding, downscaling and re-encoding a large photo takes tens of milliseconds,
        // so two or more such images are prepared on all cores (in document order still);
        // for fewer, starting the thread pool would cost more than it saves.
        let heavy = identified
            .iter()
            .filter(|(_, _, a)| {
                a.as_ref()
                    .is_ok_and(|a| process::needs_work(a, max_side, grayscale))
            })
            .count();
        let prepared = map_in_order(identified, heavy > 1, adjust);
        let mut assets = Assets::default();
        for (src, alt, asset) in prepared {
            match asset {
                Ok(asset) => {
                    assets.insert(src, asset);
                }
                Err(why) => {
                    let alt = if alt.is_empty() { "no alt text" } else { alt };
                    warnings.push(format!(
                        "{origin}: image '{}' {why}; showing its alt text ({alt})",
                        short(src)
                    ));
                }
            }
        }
        assets
    }

    /// Adds an asset under `src`; returns its index. Identical content is stored once.
    pub fn insert(&mut self, src: &str, asset: Asset) -> usize {
        let hash: [u8; 32] = Sha256::digest(&asset.data).into();
        let index = match self.by_hash.get(&hash) {
            Some(&i) => i,
            None => {
                self.items.push(asset);
                let i = self.items.len() - 1;
                self.by_hash.insert(hash, i);
                i
            }
        };
        self.by_src.insert(src.to_string(), index);
        index
    }

    /// The asset loaded for `src`, with its index (stable, for file names).
    pub fn get(&self, src: &str) -> Option<(usize, &Asset)> {
        let i = *self.by_src.get(src)?;
        Some((i, &self.items[i]))
    }

    /// All distinct assets, by index.
    pub fn items(&self) -> &[Asset] {
        &self.items
    }
}

/// The URL to fetch for a remote `src` (`http(s)://…`, or `//host/…` as https), else `None`.
fn remote_url(src: &str) -> Option<String> {
    let src = src.trim();
    if crate::fetch::is_web_url(src) {
        Some(src.to_string())
    } else {
        src.strip_prefix("//")
            .filter(|rest| !rest.is_empty())
            .map(|rest| format!("https://{rest}"))
    }
}

fn short(src: &str) -> String {
    if src.len() > 80 {
        let cut = (0..=77)
            .rev()
            .find(|&i| src.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &src[..cut])
    } else {
        src.to_string()
    }
}

/// Loads one image the user named (e.g. `--cover`): a path (relative to `base`), `file:`
/// URL or `data:` URI, as it is. The user named it, so it is not confined to any folder.
pub fn load_image(src: &str, base: Option<&Path>) -> Result<Asset, String> {
    let limits = Limits::default();
    read_source(src, base, &confine::Roots::anywhere(), &limits).and_then(|b| identify(b, &limits))
}

/// The bytes of a local or `data:` image; remote ones are refused, and local ones must
/// lie within `roots`.
fn read_source(
    src: &str,
    base: Option<&Path>,
    roots: &confine::Roots,
    limits: &Limits,
) -> Result<Vec<u8>, String> {
    let src = src.trim();
    if src.is_empty() {
        return Err("has no source".into());
    }
    if let Some(data) = src.strip_prefix("data:") {
        let bytes = decode_data_uri(data)?;
        if bytes.len() as u64 > limits.max_image_bytes {
            return Err(too_large(bytes.len() as u64, limits));
        }
        Ok(bytes)
    } else if remote_url(src).is_some() {
        Err("is remote and needs network access".into())
    } else {
        let candidates = local_candidates(src, base).ok_or("has an unsupported URL scheme")?;
        let mut outside = None;
        for path in candidates {
            match roots.check(&path) {
                Ok(Some(real)) => return read_limited(&real, limits),
                Ok(None) => continue,
                Err(real) => outside = outside.or(Some(real)),
            }
        }
        Err(match outside {
            Some(real) => format!(
                "is outside the article's folder ({}); galley reads images only from the \
                 article's folder and its site, unless --allow-path DIR permits another",
                real.display()
            ),
            None => "was not found".to_string(),
        })
    }
}

fn too_large(len: u64, limits: &Limits) -> String {
    format!(
        "is {}, over the image size limit of {} (raise it with --max-image-size)",
        human_bytes(len),
        human_bytes(limits.max_image_bytes)
    )
}

/// The file a local image reference names, resolved against `base` (with the
/// static-site `/img/…` convention); `None` for URLs.
pub fn resolve_local(src: &str, base: Option<&Path>) -> Option<PathBuf> {
    local_path(src, base)
}

/// The files a local reference may mean, most likely first: the path itself (relative to
/// `base`), then for a site-absolute `/img/x.png` the same path under the site's root.
fn local_candidates(src: &str, base: Option<&Path>) -> Option<Vec<PathBuf>> {
    let raw = src.strip_prefix("file://").unwrap_or(src);
    if raw.contains("://") || raw.starts_with("mailto:") {
        return None;
    }
    let raw = raw.split(['?', '#']).next().unwrap_or(raw);
    let decoded = percent_decode(raw);
    let path = Path::new(&decoded);
    let mut out = Vec::new();
    match base {
        Some(b) if path.is_relative() => out.push(b.join(path)),
        Some(b) => {
            out.push(path.to_path_buf());
            out.extend(site_absolute(b, &decoded));
        }
        None => out.push(path.to_path_buf()),
    }
    Some(out)
}

fn local_path(src: &str, base: Option<&Path>) -> Option<PathBuf> {
    // The first candidate that exists, else the plain reading of the path (for the error).
    let candidates = local_candidates(src, base)?;
    candidates
        .iter()
        .find(|p| p.exists())
        .or(candidates.first())
        .cloned()
}

/// Static-site posts write images as `/img/x.png`, meaning the site's root, which is some
/// folder above the post, often with the files under `public/` or `static/`.
fn site_absolute(base: &Path, abs: &str) -> Option<PathBuf> {
    let rel = abs.trim_start_matches('/');
    if rel.is_empty() {
        return None;
    }
    let base = base.canonicalize().ok()?;
    base.ancestors().take(8).find_map(|dir| {
        ["", "public", "static"]
            .iter()
            .map(|sub| dir.join(sub).join(rel))
            .find(|p| p.is_file())
    })
}

fn read_limited(path: &Path, limits: &Limits) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|_| "was not found".to_string())?;
    if !meta.is_file() {
        return Err("is not a file".into());
    }
    if meta.len() > limits.max_image_bytes {
        return Err(too_large(meta.len(), limits));
    }
    std::fs::read(path).map_err(|e| format!("cannot be read ({e})"))
}

/// Decodes `%XX` escapes; invalid escapes stay as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn decode_data_uri(data: &str) -> Result<Vec<u8>, String> {
    let (header, payload) = data.split_once(',').ok_or("is a malformed data: URI")?;
    if header.ends_with(";base64") {
        base64_decode(payload).ok_or_else(|| "has invalid base64 data".to_string())
    } else {
        Ok(percent_decode(payload).into_bytes())
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Checks what the bytes are and their declared dimensions (before any decoding), and
/// converts formats e-readers lack (WebP) to PNG.
fn identify(bytes: Vec<u8>, limits: &Limits) -> Result<Asset, String> {
    if looks_like_svg(&bytes) {
        return Ok(Asset {
            data: bytes,
            media_type: "image/svg+xml",
            ext: "svg",
            width: 0,
            height: 0,
        });
    }
    let format =
        image::guess_format(&bytes).map_err(|_| "is not an image galley can read".to_string())?;
    let (media_type, ext) = match format {
        image::ImageFormat::Png => ("image/png", "png"),
        image::ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        image::ImageFormat::Gif => ("image/gif", "gif"),
        image::ImageFormat::WebP => ("image/webp", "webp"),
        other => return Err(format!("is in an unsupported format ({other:?})")),
    };
    let reader = image::ImageReader::with_format(Cursor::new(&bytes), format);
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| format!("is damaged ({e})"))?;
    process::check_dimensions(width, height, limits)?;
    let asset = Asset {
        data: bytes,
        media_type,
        ext,
        width,
        height,
    };
    if format == image::ImageFormat::WebP {
        return process::to_png(&asset);
    }
    Ok(asset)
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    (t.starts_with("<?xml")
        || t.starts_with("<svg")
        || t.starts_with("<!--")
        || t.starts_with("<!DOCTYPE svg"))
        && text.contains("<svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_base64() {
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
    }

    #[test]
    fn missing_and_bogus_images_are_reported() {
        assert!(
            load_image("nope/missing.png", None)
                .unwrap_err()
                .contains("not found")
        );
        assert!(load_image("data:image/png;base64,aGVsbG8=", None).is_err());
        assert!(
            load_image("https://example.com/a.png", None)
                .unwrap_err()
                .contains("remote")
        );
    }
}
