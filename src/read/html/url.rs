//! URL resolution and `srcset` choice, kept dependency-free: pages only need RFC 3986
//! reference resolution, not the full WHATWG parser.

/// Whether `s` starts with a URL scheme (`https:`, `data:`, `mailto:`, …).
pub(crate) fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Whether `s` is an absolute `http(s)` URL.
pub(crate) fn is_web_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `reference` resolved against `base`; `None` when it is relative and there is no usable base.
pub(crate) fn resolve(base: Option<&str>, reference: &str) -> Option<String> {
    let reference = reference.trim();
    if reference.is_empty() {
        return None;
    }
    if has_scheme(reference) {
        return Some(reference.to_string());
    }
    let base = base.filter(|b| has_scheme(b))?;
    let scheme_end = base.find(':')?;
    let scheme = &base[..scheme_end];
    if let Some(rest) = reference.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    // Split the base into origin ("https://host:port"), path, and query.
    let after_scheme = &base[scheme_end + 1..];
    let (origin, path_and_more) = match after_scheme.strip_prefix("//") {
        Some(rest) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (&base[..scheme_end + 3 + end], &rest[end..])
        }
        None => (&base[..=scheme_end], after_scheme),
    };
    let without_fragment = path_and_more.split('#').next().unwrap_or("");
    let base_path = without_fragment
        .split('?')
        .next()
        .unwrap_or(without_fragment);
    if reference.starts_with('#') {
        return Some(format!("{origin}{without_fragment}{reference}"));
    }
    if reference.starts_with('?') {
        return Some(format!("{origin}{base_path}{reference}"));
    }
    let (ref_path, ref_tail) = match reference.find(['?', '#']) {
        Some(i) => (&reference[..i], &reference[i..]),
        None => (reference, ""),
    };
    let merged = if ref_path.starts_with('/') {
        ref_path.to_string()
    } else {
        let dir = match base_path.rfind('/') {
            Some(i) => &base_path[..=i],
            None => "/",
        };
        format!("{dir}{ref_path}")
    };
    Some(format!(
        "{origin}{}{ref_tail}",
        remove_dot_segments(&merged)
    ))
}

fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

/// One `srcset` candidate: URL and its width (`w`) or density (`x`, scaled by 1000).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Candidate {
    pub url: String,
    pub width: Option<u32>,
    pub density_milli: Option<u32>,
}

/// Parses a `srcset` attribute the way the HTML standard does, so URLs with commas
/// (`w_300,h_200` CDN transforms) survive.
pub(super) fn parse_srcset(srcset: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() || out.len() >= 64 {
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let mut url = &rest[..end];
        rest = &rest[end..];
        let mut descriptors = "";
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            let stop = rest.find(',').unwrap_or(rest.len());
            descriptors = &rest[..stop];
            rest = &rest[stop..];
        }
        if url.is_empty() {
            continue;
        }
        let mut cand = Candidate {
            url: url.to_string(),
            width: None,
            density_milli: None,
        };
        for d in descriptors.split_whitespace() {
            if let Some(w) = d.strip_suffix(['w', 'W']) {
                cand.width = w.parse().ok();
            } else if let Some(x) = d.strip_suffix(['x', 'X']) {
                cand.density_milli = x
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .map(|v| (v.min(100.0) * 1000.0) as u32);
            }
        }
        out.push(cand);
    }
    out
}

/// Widest candidate a reading device can use; larger ones only cost memory and time.
const MAX_SENSIBLE_WIDTH: u32 = 2048;
const MAX_SENSIBLE_DENSITY_MILLI: u32 = 3000;

/// The largest sensible candidate: the widest up to [`MAX_SENSIBLE_WIDTH`] (else the
/// narrowest above it), by density the same way, else the first.
pub(super) fn best_candidate(cands: &[Candidate]) -> Option<&Candidate> {
    fn pick(
        cands: &[Candidate],
        key: impl Fn(&Candidate) -> Option<u32>,
        cap: u32,
    ) -> Option<&Candidate> {
        let sized = cands.iter().filter_map(|c| key(c).map(|k| (k, c)));
        let under = sized
            .clone()
            .filter(|(k, _)| *k <= cap)
            .max_by_key(|(k, _)| *k);
        under
            .or_else(|| sized.min_by_key(|(k, _)| *k))
            .map(|(_, c)| c)
    }
    pick(cands, |c| c.width, MAX_SENSIBLE_WIDTH)
        .or_else(|| pick(cands, |c| c.density_milli, MAX_SENSIBLE_DENSITY_MILLI))
        .or_else(|| cands.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_references() {
        let b = Some("https://ex.com/a/b/page.html?q=1#top");
        assert_eq!(
            resolve(b, "img.png").as_deref(),
            Some("https://ex.com/a/b/img.png")
        );
        assert_eq!(
            resolve(b, "../c.png").as_deref(),
            Some("https://ex.com/a/c.png")
        );
        assert_eq!(
            resolve(b, "/x?y#z").as_deref(),
            Some("https://ex.com/x?y#z")
        );
        assert_eq!(
            resolve(b, "//cdn.net/i.jpg").as_deref(),
            Some("https://cdn.net/i.jpg")
        );
        assert_eq!(
            resolve(b, "#sec").as_deref(),
            Some("https://ex.com/a/b/page.html?q=1#sec")
        );
        assert_eq!(
            resolve(Some("https://ex.com"), "p").as_deref(),
            Some("https://ex.com/p")
        );
        assert_eq!(resolve(None, "p.png"), None);
        assert_eq!(
            resolve(None, "data:image/png;base64,AA").as_deref(),
            Some("data:image/png;base64,AA")
        );
    }

    #[test]
    fn srcset_picks_largest_sensible() {
        let c = parse_srcset("a.jpg 320w, https://c.net/w_640,h_480/b.jpg 640w, c.jpg 4000w");
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].url, "https://c.net/w_640,h_480/b.jpg");
        assert_eq!(
            best_candidate(&c).map(|c| c.url.as_str()),
            Some("https://c.net/w_640,h_480/b.jpg")
        );
        let d = parse_srcset("a.jpg, b.jpg 2x");
        assert_eq!(best_candidate(&d).map(|c| c.url.as_str()), Some("b.jpg"));
        assert!(parse_srcset(" , ,").is_empty());
    }
}
