//! Preparing images for the reader: refusing absurd sizes before decoding, downscaling
//! what is larger than any reading surface, and grayscale for e-ink.
//!
//! Images that need no change keep their original bytes. A changed JPEG stays JPEG;
//! everything else raster becomes PNG. Never upscales. Deterministic: the same input
//! gives the same bytes.

use std::io::Cursor;

use fast_image_resize::{FilterType as ResizeFilter, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageFormat};
use jpeg_encoder::{ColorType as JpegColor, Encoder};

use super::Asset;
use crate::limits::Limits;

/// Largest width or height accepted by default (see [`Limits::max_image_side`]).
pub const MAX_DIMENSION: u32 = 20_000;
/// Most pixels accepted by default (see [`Limits::max_image_pixels`]).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Longest side of images in EPUBs: wider than e-reader screens, small enough to page fast.
pub const EPUB_MAX_SIDE: u32 = 1600;
/// Longest side of a cover given for an EPUB: the 1600×2560 that Kindle asks for and that
/// galley draws its own covers at.
pub const EPUB_COVER_MAX_SIDE: u32 = 2560;
/// Longest side of images in PDFs: about 300 dpi across a wide text column.
pub const PDF_MAX_SIDE: u32 = 2400;
/// How far over the longest side an image may be and still keep its bytes, as a ratio
/// (3/2). A mild downscale costs a decode and a re-encode, softens the picture and
/// rarely saves bytes: a photo already compressed for the web came out larger re-encoded
/// at 91% of its width, and a diagram resampled into true colour three times larger.
const TOLERANCE: (u64, u64) = (3, 2);
/// [`TOLERANCE`] for palette PNGs (diagrams, charts): resampled, they become true colour
/// and grow, so [`adjust`] would keep the original anyway up to twice the side; knowing
/// that, it is not decoded at all.
const PALETTE_TOLERANCE: (u64, u64) = (2, 1);
/// Quality of re-encoded JPEGs.
const JPEG_QUALITY: u8 = 85;
/// Memory a decoder may allocate.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// Refuses zero, over-wide or over-large dimensions (read from the header, before
/// decoding, so a decompression bomb is refused before it allocates anything).
pub fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err(format!("has unusable dimensions ({width}×{height})"));
    }
    if width > limits.max_image_side || height > limits.max_image_side {
        return Err(format!(
            "is {width}×{height} pixels, over the image side limit of {} pixels",
            limits.max_image_side
        ));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_image_pixels {
        return Err(format!(
            "is {width}×{height} pixels, over the image pixel limit of {} (raise it with \
             --max-image-pixels)",
            limits.max_image_pixels
        ));
    }
    Ok(())
}

/// Whether [`adjust`] would decode the asset: it is over `max_side` or grayscale is
/// asked for. Everything else keeps its bytes for free.
pub fn needs_work(asset: &Asset, max_side: Option<u32>, grayscale: bool) -> bool {
    asset.media_type != "image/svg+xml" && (grayscale || target(asset, max_side).is_some())
}

/// The size to downscale `asset` to: `max_side` on its longest side, if that is over
/// [`TOLERANCE`] times `max_side` ([`PALETTE_TOLERANCE`] for a palette PNG).
fn target(asset: &Asset, max_side: Option<u32>) -> Option<(u32, u32)> {
    let long = u64::from(asset.width.max(asset.height));
    let (over, under) = if is_palette_png(asset) {
        PALETTE_TOLERANCE
    } else {
        TOLERANCE
    };
    max_side
        .filter(|&m| m > 0 && long * under > u64::from(m) * over)
        .map(|m| scaled(asset.width, asset.height, m))
}

/// Whether `asset` is a PNG of palette colours (colour type 3 in its header).
fn is_palette_png(asset: &Asset) -> bool {
    asset.media_type == "image/png"
        && asset.data.get(12..16) == Some(&b"IHDR"[..])
        && asset.data.get(25) == Some(&3)
}

/// The asset downscaled so its longest side is at most `max_side`, and/or in grayscale;
/// unchanged (same bytes) when neither applies. SVG is passed through.
///
/// Images at most [`TOLERANCE`] times over `max_side` keep their bytes; past that, a
/// downscaled copy that comes out larger than the original is still dropped for it while
/// the original is at most twice `max_side` (resampling turns a flat, few-colour diagram
/// into true colour), as the extra pixels then cost less than the extra bytes.
pub fn adjust(asset: Asset, max_side: Option<u32>, grayscale: bool) -> Result<Asset, String> {
    if !needs_work(&asset, max_side, grayscale) {
        return Ok(asset);
    }
    let target = target(&asset, max_side);
    let mut img = decode(&asset)?;
    if target.is_none() && is_gray(&img) {
        return Ok(asset);
    }
    if let Some((w, h)) = target {
        img = downscale(img, w, h)?;
    }
    if grayscale {
        img = if img.color().has_alpha() {
            DynamicImage::ImageLumaA8(img.to_luma_alpha8())
        } else {
            DynamicImage::ImageLuma8(img.to_luma8())
        };
    }
    let adjusted = if asset.media_type == "image/jpeg" {
        encode_jpeg(&img)
    } else {
        encode_png(&img)
    }?;
    Ok(if keep_original(&asset, &adjusted, max_side, grayscale) {
        asset
    } else {
        adjusted
    })
}

/// Whether `original` beats its downscaled copy `adjusted`: not smaller in bytes, and the
/// original at most twice `max_side`. A grayscale copy is what was asked for, so it wins.
fn keep_original(
    original: &Asset,
    adjusted: &Asset,
    max_side: Option<u32>,
    grayscale: bool,
) -> bool {
    let near = max_side.is_some_and(|m| original.width.max(original.height) <= m.saturating_mul(2));
    !grayscale && near && adjusted.data.len() >= original.data.len()
}

/// `img` resampled to `w`×`h` with a Catmull-Rom filter, alpha premultiplied so that
/// transparent surroundings do not darken edges. Deeper images become 8 bits per channel
/// first: readers show no more, and fast_image_resize gives the same bytes on every
/// CPU for 8-bit pixels, which keeps output byte-identical across machines.
fn downscale(img: DynamicImage, w: u32, h: u32) -> Result<DynamicImage, String> {
    let img = match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let mut out = DynamicImage::new(w, h, img.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(ResizeFilter::CatmullRom));
    Resizer::new()
        .resize(&img, &mut out, &options)
        .map_err(|e| format!("cannot be downscaled ({e})"))?;
    Ok(out)
}

/// The asset re-encoded as PNG (for formats e-readers lack, such as WebP).
pub fn to_png(asset: &Asset) -> Result<Asset, String> {
    let img = decode(asset)?;
    encode_png(&img).map_err(|e| format!("cannot be converted to PNG ({e})"))
}

/// `width`×`height` scaled so the longest side is `max_side`, keeping the aspect ratio.
fn scaled(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    let scale = |v: u32| {
        let s = (u64::from(v) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(s).unwrap_or(max_side).clamp(1, max_side)
    };
    (scale(width), scale(height))
}

fn is_gray(img: &DynamicImage) -> bool {
    matches!(
        img,
        DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageLuma16(_)
            | DynamicImage::ImageLumaA16(_)
    )
}

fn decode(asset: &Asset) -> Result<DynamicImage, String> {
    let format = image::guess_format(&asset.data)
        .map_err(|_| "is not an image galley can read".to_string())?;
    let mut reader = image::ImageReader::with_format(Cursor::new(&asset.data), format);
    // The header's dimensions were checked against the limits; the decoder may not go
    // past them, so a header that lies cannot make it allocate more.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(asset.width.max(1));
    limits.max_image_height = Some(asset.height.max(1));
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| format!("is damaged ({e})"))
}

fn encode_png(img: &DynamicImage) -> Result<Asset, String> {
    let mut data = Vec::new();
    img.write_to(&mut Cursor::new(&mut data), ImageFormat::Png)
        .map_err(|e| format!("cannot be re-encoded as PNG ({e})"))?;
    Ok(Asset {
        data,
        media_type: "image/png",
        ext: "png",
        width: img.width(),
        height: img.height(),
    })
}

fn encode_jpeg(img: &DynamicImage) -> Result<Asset, String> {
    let too_large = || {
        format!(
            "is too large to re-encode as JPEG ({}×{})",
            img.width(),
            img.height()
        )
    };
    let width = u16::try_from(img.width()).map_err(|_| too_large())?;
    let height = u16::try_from(img.height()).map_err(|_| too_large())?;
    let mut data = Vec::new();
    let encoder = Encoder::new(&mut data, JPEG_QUALITY);
    let result = if is_gray(img) {
        encoder.encode(&img.to_luma8(), width, height, JpegColor::Luma)
    } else {
        encoder.encode(&img.to_rgb8(), width, height, JpegColor::Rgb)
    };
    result.map_err(|e| format!("cannot be re-encoded as JPEG ({e})"))?;
    Ok(Asset {
        data,
        media_type: "image/jpeg",
        ext: "jpg",
        width: img.width(),
        height: img.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Asset {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 200])
        }));
        encode_png(&img).expect("encode test image")
    }

    fn jpeg(w: u32, h: u32) -> Asset {
        let img =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([10, 200, 30])));
        encode_jpeg(&img).expect("encode test image")
    }

    #[test]
    fn scales_longest_side_keeping_ratio() {
        assert_eq!(scaled(3200, 1600, 1600), (1600, 800));
        assert_eq!(scaled(1000, 4000, 1600), (400, 1600));
        assert_eq!(scaled(10000, 1, 1600), (1600, 1));
    }

    #[test]
    fn small_images_are_untouched_and_never_upscaled() {
        let a = png(100, 50);
        let b = adjust(a.clone(), Some(1600), false).expect("adjust");
        assert_eq!(a.data, b.data);
        assert_eq!((b.width, b.height), (100, 50));
    }

    #[test]
    fn large_images_are_downscaled_in_their_format() {
        let b = adjust(png(4000, 2000), Some(1600), false).expect("adjust");
        assert_eq!((b.media_type, b.width, b.height), ("image/png", 1600, 800));
        let decoded = image::load_from_memory(&b.data).expect("decode");
        assert_eq!((decoded.width(), decoded.height()), (1600, 800));
        let j = adjust(jpeg(1000, 3000), Some(1600), false).expect("adjust");
        assert_eq!((j.media_type, j.width, j.height), ("image/jpeg", 533, 1600));
        assert!(image::load_from_memory(&j.data).is_ok());
    }

    #[test]
    fn images_a_little_over_keep_their_bytes() {
        let a = png(2400, 1000);
        assert!(!needs_work(&a, Some(1600), false));
        assert_eq!(
            adjust(a.clone(), Some(1600), false).expect("adjust").data,
            a.data
        );
        assert!(needs_work(&png(2401, 1000), Some(1600), false));
        assert!(needs_work(&a, Some(1600), true), "grayscale still applies");
    }

    #[test]
    fn palette_pngs_keep_their_bytes_up_to_twice_the_side() {
        let palette = |w: u32| {
            let rows = vec![0u8; (w * 10) as usize];
            let mut data = Vec::new();
            let mut enc = png::Encoder::new(&mut data, w, 10);
            enc.set_color(png::ColorType::Indexed);
            enc.set_palette(vec![0, 0, 0, 255, 255, 255]);
            let mut writer = enc.write_header().expect("header");
            writer.write_image_data(&rows).expect("data");
            writer.finish().expect("end");
            Asset {
                data,
                media_type: "image/png",
                ext: "png",
                width: w,
                height: 10,
            }
        };
        assert!(is_palette_png(&palette(3200)));
        assert!(!is_palette_png(&png(3200, 10)));
        assert!(!needs_work(&palette(3200), Some(1600), false));
        assert!(needs_work(&palette(3201), Some(1600), false));
        assert!(needs_work(&png(3200, 10), Some(1600), false), "true colour");
    }

    #[test]
    fn a_downscaled_copy_larger_than_the_original_is_dropped() {
        let sized = |w: u32, bytes: usize| Asset {
            data: vec![0; bytes],
            media_type: "image/png",
            ext: "png",
            width: w,
            height: 100,
        };
        // (original's side, its bytes, the copy's bytes, grayscale asked for, keep it)
        for (side, original, copy, gray, keep) in [
            // Resampling made a few-colour diagram three times larger: keep the original.
            (2754, 68_000, 229_000, false, true),
            (2754, 229_000, 68_000, false, false),
            // Past twice the side, the smaller picture wins even at more bytes.
            (3201, 68_000, 229_000, false, false),
            // Grayscale was asked for.
            (2754, 68_000, 229_000, true, false),
        ] {
            let kept = keep_original(&sized(side, original), &sized(1600, copy), Some(1600), gray);
            assert_eq!(
                kept, keep,
                "{side} px, {original} → {copy} bytes, gray {gray}"
            );
        }
    }

    #[test]
    fn downscaling_keeps_transparent_edges_clean() {
        // A red square on transparent black: premultiplied resampling keeps the edge red
        // instead of darkening it towards the black of the transparent pixels.
        let img = image::RgbaImage::from_fn(400, 400, |x, y| {
            if (100..300).contains(&x) && (100..300).contains(&y) {
                image::Rgba([255, 0, 0, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        });
        let out = downscale(DynamicImage::ImageRgba8(img), 130, 130).expect("downscale");
        let rgba = out.to_rgba8();
        for p in rgba.pixels().filter(|p| p[3] > 16) {
            assert!(p[0] > 240 && p[1] < 10, "edge pixel {p:?}");
        }
    }

    #[test]
    fn deep_images_are_downscaled_to_eight_bits() {
        let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(300, 200, |x, _| {
            image::Rgb([(x * 200) as u16, 1000, 65535])
        });
        let out = downscale(DynamicImage::ImageRgb16(img), 150, 100).expect("downscale");
        assert_eq!(out.color(), image::ColorType::Rgb8);
        assert_eq!((out.width(), out.height()), (150, 100));
    }

    #[test]
    fn grayscale_converts_and_keeps_format() {
        let g = adjust(jpeg(40, 30), None, true).expect("adjust");
        assert_eq!(g.media_type, "image/jpeg");
        let img = image::load_from_memory(&g.data).expect("decode");
        assert_eq!(img.color(), image::ColorType::L8);
        let p = adjust(png(40, 30), None, true).expect("adjust");
        let img = image::load_from_memory(&p.data).expect("decode");
        assert_eq!(img.color(), image::ColorType::L8);
        // Already gray and small: the bytes stay.
        assert_eq!(adjust(p.clone(), None, true).expect("adjust").data, p.data);
    }

    #[test]
    fn absurd_dimensions_are_refused() {
        let l = Limits::default();
        assert!(check_dimensions(20_001, 10, &l).is_err());
        assert!(check_dimensions(15_000, 15_000, &l).is_err());
        assert!(check_dimensions(0, 10, &l).is_err());
        assert!(check_dimensions(10_000, 10_000, &l).is_ok());
    }
}
