//! HTTP(S) fetching for web articles and their images.
//!
//! One [`Fetcher`] per run: timeouts, a redirect limit, response size caps, and a refusal to
//! contact private, loopback or link-local addresses (checked on every redirect hop and again
//! when connecting) unless [`FetchOptions::allow_private`] is set.

mod guard;

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::http::Uri;
use ureq::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};

use crate::read::html::url as web_url;

pub use guard::is_public;

/// `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!(
    "galley/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/galley)"
);

/// Largest page fetched by default (32 MiB).
pub const MAX_PAGE_BYTES: u64 = 32 * 1024 * 1024;
/// Largest image fetched by default (16 MiB).
pub const MAX_IMAGE_BYTES: u64 = 16 * 1024 * 1024;
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: u32 = 5;

/// How the fetcher behaves.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Permit loopback, private and link-local addresses (`--allow-private`).
    pub allow_private: bool,
    /// Time allowed to resolve a host and open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole fetch, redirects and body included.
    pub timeout: Duration,
    /// Redirects followed before the fetch fails.
    pub max_redirects: u32,
    /// Largest page body accepted, after decompression.
    pub max_page_bytes: u64,
    /// Largest image body accepted, after decompression.
    pub max_image_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            allow_private: false,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: MAX_REDIRECTS,
            max_page_bytes: MAX_PAGE_BYTES,
            max_image_bytes: MAX_IMAGE_BYTES,
        }
    }
}

/// Why a fetch failed. Every variant names the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Network access is off (`--offline`).
    #[error("{url}: is a web address, but --offline forbids network access")]
    Offline {
        /// The URL.
        url: String,
    },
    /// Only `http` and `https` URLs are fetched.
    #[error("{url}: only http:// and https:// addresses can be fetched")]
    Scheme {
        /// The URL.
        url: String,
    },
    /// The URL could not be parsed.
    #[error("{url}: not a usable web address ({reason})")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host name did not resolve.
    #[error("{url}: cannot resolve host '{host}' ({reason})")]
    Resolve {
        /// The URL.
        url: String,
        /// The host.
        host: String,
        /// The resolver's message.
        reason: String,
    },
    /// The host is (or resolves to) a private, loopback or link-local address.
    #[error(
        "{url}: refusing to connect to {ip}, a private, loopback or link-local address \
         (use --allow-private to permit)"
    )]
    Private {
        /// The URL.
        url: String,
        /// The offending address.
        ip: std::net::IpAddr,
    },
    /// The redirect chain is longer than the limit (or loops).
    #[error("{url}: too many redirects (more than {max}); the chain may loop")]
    TooManyRedirects {
        /// The URL first requested.
        url: String,
        /// The limit.
        max: u32,
    },
    /// A redirect without a usable `Location`.
    #[error("{url}: redirect ({status}) without a usable Location header")]
    BadRedirect {
        /// The URL that redirected.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The server answered with an error status.
    #[error("{url}: the server answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The body is larger than the limit.
    #[error("{url}: response is larger than the limit of {limit}")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit, human-readable (`32 MiB`).
        limit: String,
    },
    /// The fetch took longer than allowed.
    #[error("{url}: timed out after {secs} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The time allowed, in seconds.
        secs: u64,
    },
    /// Connecting, TLS or the HTTP exchange failed.
    #[error("{url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// The client's error.
        source: ureq::Error,
    },
    /// Reading the body failed.
    #[error("{url}: cannot read the response ({source})")]
    Body {
        /// The URL.
        url: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl FetchError {
    /// The URL the error is about.
    pub fn url(&self) -> &str {
        match self {
            FetchError::Offline { url }
            | FetchError::Scheme { url }
            | FetchError::BadUrl { url, .. }
            | FetchError::Resolve { url, .. }
            | FetchError::Private { url, .. }
            | FetchError::TooManyRedirects { url, .. }
            | FetchError::BadRedirect { url, .. }
            | FetchError::Status { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::Timeout { url, .. }
            | FetchError::Http { url, .. }
            | FetchError::Body { url, .. } => url,
        }
    }

    /// The message without the leading URL, for callers that name the URL themselves.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        match full.strip_prefix(&format!("{}: ", self.url())) {
            Some(rest) => rest.to_string(),
            None => full,
        }
    }
}

/// A fetched response body.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The final URL, after redirects.
    pub url: String,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, decompressed.
    pub body: Vec<u8>,
}

impl Fetched {
    /// The `charset` parameter of the `Content-Type` header, if any.
    pub fn charset(&self) -> Option<String> {
        charset_param(self.content_type.as_deref()?)
    }

    /// The media type of the `Content-Type` header, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        let ct = self.content_type.as_deref()?;
        let m = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        (!m.is_empty()).then_some(m)
    }
}

/// The `charset` parameter of a `Content-Type` value.
pub fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_string())
            .filter(|v| !v.is_empty())
    })
}

/// An HTTP client with galley's limits; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Fetcher {
    agent: Agent,
    opts: FetchOptions,
}

/// Whether `s` looks like an `http://` or `https://` URL (any case).
pub fn is_web_url(s: &str) -> bool {
    let lower = s.trim().get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

impl Fetcher {
    /// A fetcher with these options.
    pub fn new(opts: FetchOptions) -> Fetcher {
        let config = Agent::config_builder()
            .user_agent(USER_AGENT)
            // Redirects are followed here, hop by hop, so each target is checked first.
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_global(Some(opts.timeout))
            // Environment proxies would bypass the address checks; galley connects directly.
            .proxy(None)
            .build();
        let resolver = guard::GuardedResolver {
            allow_private: opts.allow_private,
        };
        let agent = Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            resolver,
        );
        Fetcher { agent, opts }
    }

    /// The options in force.
    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// Fetches a page (limit [`FetchOptions::max_page_bytes`]).
    pub fn page(&self, url: &str) -> Result<Fetched, FetchError> {
        self.get(url, self.opts.max_page_bytes)
    }

    /// Fetches an image (limit [`FetchOptions::max_image_bytes`]).
    pub fn image(&self, url: &str) -> Result<Fetched, FetchError> {
        self.get(url, self.opts.max_image_bytes)
    }

    /// GETs `url`, following redirects, and reads at most `max_bytes` of body.
    pub fn get(&self, url: &str, max_bytes: u64) -> Result<Fetched, FetchError> {
        let start = Instant::now();
        let first = url.trim().to_string();
        let mut current = first.clone();
        let mut hops = 0;
        loop {
            let uri = self.check(&current)?;
            let remaining = self.opts.timeout.saturating_sub(start.elapsed());
            if remaining.is_zero() {
                return Err(self.timeout(&current));
            }
            let response = self
                .agent
                .get(uri)
                .config()
                .timeout_global(Some(remaining))
                .build()
                .call()
                .map_err(|e| self.client_error(&current, e))?;
            let status = response.status().as_u16();
            if response.status().is_redirection() && status != 304 {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| web_url::resolve(Some(&current), loc));
                let Some(next) = location else {
                    return Err(FetchError::BadRedirect {
                        url: current,
                        status,
                    });
                };
                if hops >= self.opts.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        url: first,
                        max: self.opts.max_redirects,
                    });
                }
                hops += 1;
                current = next;
                continue;
            }
            if !response.status().is_success() {
                return Err(FetchError::Status {
                    url: current,
                    status,
                });
            }
            let too_large = || FetchError::TooLarge {
                url: current.clone(),
                limit: human_size(max_bytes),
            };
            let declared_len = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared_len.is_some_and(|n| n > max_bytes) {
                return Err(too_large());
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut body = Vec::new();
            let mut reader = response.into_body().into_reader().take(max_bytes + 1);
            reader
                .read_to_end(&mut body)
                .map_err(|e| self.body_error(&current, e))?;
            if body.len() as u64 > max_bytes {
                return Err(too_large());
            }
            return Ok(Fetched {
                url: current,
                content_type,
                body,
            });
        }
    }

    /// Checks the scheme and the host's addresses; returns the parsed URI.
    fn check(&self, url: &str) -> Result<Uri, FetchError> {
        if !is_web_url(url) {
            return Err(FetchError::Scheme {
                url: url.to_string(),
            });
        }
        let encoded = encode_url(url);
        let uri: Uri = encoded.parse().map_err(|e| FetchError::BadUrl {
            url: url.to_string(),
            reason: format!("{e}"),
        })?;
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| FetchError::BadUrl {
                url: url.to_string(),
                reason: "no host".into(),
            })?
            .to_string();
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        guard::check_host(
            &host,
            port,
            self.opts.allow_private,
            self.opts.connect_timeout,
        )
        .map_err(|r| match r {
            guard::Refusal::Private(ip) => FetchError::Private {
                url: url.to_string(),
                ip,
            },
            guard::Refusal::Unresolved(reason) => FetchError::Resolve {
                url: url.to_string(),
                host,
                reason,
            },
        })?;
        Ok(uri)
    }

    fn timeout(&self, url: &str) -> FetchError {
        FetchError::Timeout {
            url: url.to_string(),
            secs: self.opts.timeout.as_secs(),
        }
    }

    fn client_error(&self, url: &str, e: ureq::Error) -> FetchError {
        match e {
            ureq::Error::Timeout(_) => self.timeout(url),
            other => FetchError::Http {
                url: url.to_string(),
                source: other,
            },
        }
    }

    fn body_error(&self, url: &str, e: std::io::Error) -> FetchError {
        // ureq reports its own errors (timeouts included) wrapped in io::Error.
        let timed_out = e.kind() == std::io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
        if timed_out {
            self.timeout(url)
        } else {
            FetchError::Body {
                url: url.to_string(),
                source: e,
            }
        }
    }
}

/// Percent-encodes what a URL may not contain literally (spaces, non-ASCII, some
/// punctuation) and drops the fragment, which is never sent.
fn encode_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `32 MiB`, `512 KiB`, `100 bytes`.
fn human_size(n: u64) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_charset_parameter() {
        assert_eq!(
            charset_param("text/html; charset=\"Windows-1252\"").as_deref(),
            Some("Windows-1252")
        );
        assert_eq!(charset_param("text/html"), None);
    }

    #[test]
    fn encodes_unsafe_characters() {
        assert_eq!(
            encode_url("https://ex.com/a b/é.png#frag"),
            "https://ex.com/a%20b/%C3%A9.png"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(32 * 1024 * 1024), "32 MiB");
        assert_eq!(human_size(2048), "2 KiB");
        assert_eq!(human_size(100), "100 bytes");
    }

    #[test]
    fn refuses_other_schemes_and_loopback() {
        let f = Fetcher::new(FetchOptions::default());
        assert!(matches!(
            f.page("file:///etc/passwd"),
            Err(FetchError::Scheme { .. })
        ));
        let err = f.page("http://127.0.0.1:9/x").unwrap_err();
        assert!(matches!(err, FetchError::Private { .. }), "{err}");
        assert!(err.to_string().contains("--allow-private"));
    }
}
