//! Web articles end to end, against a canned HTTP server on 127.0.0.1 started by each test:
//! charsets from the HTTP header, gzip, relative and remote images, redirect loops, size
//! limits, the private-address refusal, `--offline`, and the readability corpus offline.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use common::galley;

/// One canned response.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send `Content-Length` (else the body ends when the connection closes).
    length: bool,
}

impl Reply {
    fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            length: true,
        }
    }

    fn redirect(to: &str) -> Reply {
        Reply {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            body: Vec::new(),
            length: true,
        }
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Serves `routes` (path → reply) on a fresh port until the test process ends; returns
/// the base URL (`http://127.0.0.1:PORT`). Unknown paths get 404.
fn serve(routes: Vec<(&str, Reply)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let routes: Arc<HashMap<String, Reply>> = Arc::new(
        routes
            .into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect(),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let routes = Arc::clone(&routes);
            std::thread::spawn(move || answer(stream, &routes));
        }
    });
    base
}

fn answer(stream: TcpStream, routes: &HashMap<String, Reply>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let reply = routes.get(path).cloned().unwrap_or(Reply {
        status: 404,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"not found".to_vec(),
        length: true,
    });
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if reply.length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&reply.body);
    let _ = out.flush();
}

/// An article page long enough for extraction, with `extra` inside the article.
fn article(title: &str, extra: &str) -> String {
    let para = "<p>The committee met on Tuesday to weigh the proposal, and after a long \
                debate about costs, schedules and the needs of the neighbourhood, it voted \
                to go ahead with the first phase of the work before the winter.</p>";
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>{title}</title></head><body>\
         <article><h1>{title}</h1>{para}{extra}{para}{para}</article></body></html>"
    )
}

fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, seed])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// Runs `galley convert ARGS -o OUT -q` (SOURCE_DATE_EPOCH fixed) in `dir`.
fn run(dir: &Path, args: &[&str], out: Option<&Path>) -> Output {
    let mut cmd = galley();
    cmd.current_dir(dir)
        .arg("convert")
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1750000000");
    if let Some(o) = out {
        cmd.arg("-o").arg(o);
    }
    cmd.output().expect("run galley")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every entry of an EPUB: name → bytes.
fn entries(epub: &Path) -> Vec<(String, Vec<u8>)> {
    let f = fs::File::open(epub).expect("open epub");
    let mut z = zip::ZipArchive::new(f).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).expect("entry");
            let mut data = Vec::new();
            e.read_to_end(&mut data).expect("read entry");
            (e.name().to_string(), data)
        })
        .collect()
}

/// All XHTML of an EPUB, concatenated.
fn xhtml(epub: &Path) -> String {
    entries(epub)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".xhtml"))
        .map(|(_, d)| String::from_utf8_lossy(&d).into_owned())
        .collect()
}

fn images(epub: &Path) -> Vec<(String, Vec<u8>)> {
    entries(epub)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".png") || n.ends_with(".jpg") || n.ends_with(".gif"))
        // The generated cover is not one of the article's images.
        .filter(|(n, _)| !n.contains("cover"))
        .collect()
}

fn check_epub(epub: &Path) {
    if let Some(jar) = common::epubcheck_jar()
        && let Err(report) = common::epubcheck(&jar, epub)
    {
        panic!("{report}");
    }
}

#[test]
fn header_charset_gzip_and_relative_image() {
    // windows-1252, declared only in the HTTP header.
    let text = article(
        "Caf\u{e9} plans approved",
        "<p>Le caf\u{e9} na\u{ef}f \u{2013} \u{201c}quoted\u{201d} \u{20ac}5</p>\
         <figure><img src=\"pic.png\" alt=\"A picture\"><figcaption>Pic</figcaption></figure>",
    );
    let (cp1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    let base = serve(vec![
        (
            "/news/story.html",
            Reply::ok("text/html; charset=windows-1252", cp1252.into_owned()),
        ),
        (
            "/news/gz.html",
            Reply::ok("text/html; charset=utf-8", gzip(text.as_bytes()))
                .header("Content-Encoding", "gzip"),
        ),
        ("/news/pic.png", Reply::ok("image/png", png(40, 30, 7))),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    for page in ["story.html", "gz.html"] {
        let url = format!("{base}/news/{page}");
        // Default name: the article title's slug, in the current folder.
        let o = run(dir.path(), &[&url, "--allow-private"], None);
        assert!(o.status.success(), "{page}: {}", stderr(&o));
        let epub = dir.path().join("café-plans-approved.epub");
        let x = xhtml(&epub);
        assert!(
            x.contains("Le café naïf – “quoted” €5"),
            "{page}: text decoded wrongly"
        );
        assert_eq!(
            images(&epub).len(),
            1,
            "{page}: the relative image is embedded"
        );
        // Source URL as a link, and the retrieval date from SOURCE_DATE_EPOCH (2025-06-15).
        assert!(
            x.contains(&format!("href=\"{url}\"")),
            "{page}: source link"
        );
        assert!(
            x.contains("Retrieved <time datetime=\"2025-06-15\">15 June 2025</time>"),
            "{page}: retrieval date"
        );
        check_epub(&epub);
        fs::remove_file(&epub).expect("remove");
    }
}

#[test]
fn images_are_downscaled_deduplicated_grayscaled_and_reproducible() {
    let big = png(4000, 2000, 1);
    let page = article(
        "Images",
        "<p><img src=\"/a.png\" alt=\"first\"></p><p><img src=\"/copy-of-a.png\" alt=\"same\"></p>\
         <p><img src=\"/missing.png\" alt=\"gone\"></p>",
    );
    let base = serve(vec![
        ("/page", Reply::ok("text/html", page)),
        ("/a.png", Reply::ok("image/png", big.clone())),
        ("/copy-of-a.png", Reply::ok("image/png", big)),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("{base}/page");
    let one = dir.path().join("one.epub");
    let two = dir.path().join("two.epub");
    for out in [&one, &two] {
        let o = run(dir.path(), &[&url, "--allow-private"], Some(out));
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("missing.png") && stderr(&o).contains("404"),
            "a failed image is a warning: {}",
            stderr(&o)
        );
    }
    assert_eq!(fs::read(&one).ok(), fs::read(&two).ok(), "reproducible");
    let imgs = images(&one);
    assert_eq!(imgs.len(), 1, "identical images are stored once");
    let img = image::load_from_memory(&imgs[0].1).expect("decode");
    assert_eq!((img.width(), img.height()), (1600, 800), "downscaled");
    assert!(xhtml(&one).contains("gone"), "alt text of the failed image");
    check_epub(&one);

    let gray = dir.path().join("gray.epub");
    let o = run(
        dir.path(),
        &[&url, "--allow-private", "--grayscale", "-q"],
        Some(&gray),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let imgs = images(&gray);
    let img = image::load_from_memory(&imgs[0].1).expect("decode");
    assert_eq!(img.color(), image::ColorType::L8, "grayscale");

    // PDF: grayscale too, and it typesets.
    let pdf = dir.path().join("gray.pdf");
    let o = run(
        dir.path(),
        &[&url, "--allow-private", "--grayscale", "-q"],
        Some(&pdf),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = fs::read(&pdf).expect("pdf");
    assert!(
        bytes.windows(11).any(|w| w == b"/DeviceGray"),
        "PDF image in gray"
    );
}

#[test]
fn redirect_loops_oversize_and_errors_are_refused() {
    let huge_declared = Reply {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/html".into()),
            ("Content-Length".into(), "40000000".into()),
        ],
        body: Vec::new(),
        length: false,
    };
    let huge_streamed = Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: vec![b'a'; 33 * 1024 * 1024],
        length: false,
    };
    let base = serve(vec![
        ("/loop1", Reply::redirect("/loop2")),
        ("/loop2", Reply::redirect("/loop1")),
        ("/huge", huge_declared),
        ("/stream", huge_streamed),
        ("/hop", Reply::redirect("/final")),
        (
            "/final",
            Reply::ok("text/html", article("After a redirect", "")),
        ),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.epub");
    let fails = |path: &str, needle: &str| {
        let o = run(
            dir.path(),
            &[&format!("{base}{path}"), "--allow-private"],
            Some(&out),
        );
        assert_eq!(o.status.code(), Some(1), "{path}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{path}: {}", stderr(&o));
        assert!(!out.exists());
    };
    fails("/loop1", "too many redirects (more than 5)");
    fails("/huge", "larger than the limit of 32 MiB");
    fails("/stream", "larger than the limit of 32 MiB");
    fails("/nothing", "HTTP 404");

    // A redirect is followed, and the final URL is the page's address.
    let o = run(
        dir.path(),
        &[&format!("{base}/hop"), "--allow-private"],
        Some(&out),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(xhtml(&out).contains(&format!("{base}/final")));
}

#[test]
fn loopback_needs_allow_private_and_offline_forbids_fetching() {
    let base = serve(vec![("/a", Reply::ok("text/html", article("Local", "")))]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.epub");
    let url = format!("{base}/a");

    let o = run(dir.path(), &[&url], Some(&out));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("refusing to connect to 127.0.0.1") && e.contains("--allow-private"),
        "{e}"
    );

    let o = run(dir.path(), &[&url, "--offline"], Some(&out));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--offline forbids network access"),
        "{}",
        stderr(&o)
    );

    let o = run(dir.path(), &["file:///etc/passwd"], Some(&out));
    assert_ne!(o.status.code(), Some(0));
    assert!(!out.exists());
}

#[test]
fn offline_local_page_with_remote_image_warns_and_shows_alt_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("saved.html");
    fs::write(
        &page,
        article(
            "Saved page",
            "<p><img src=\"https://images.example.com/photo.jpg\" alt=\"A harbour at dusk\"></p>",
        ),
    )
    .expect("write page");
    let out = dir.path().join("saved.epub");
    let o = run(
        dir.path(),
        &[page.to_str().expect("utf-8 path"), "--offline"],
        Some(&out),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.matches("warning").count(), 1, "{e}");
    assert!(e.contains("photo.jpg") && e.contains("--offline"), "{e}");
    assert!(xhtml(&out).contains("A harbour at dusk"));
    check_epub(&out);
}

#[test]
fn remote_page_may_not_embed_local_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("secret.png");
    fs::write(&secret, png(10, 10, 3)).expect("write");
    let page = article(
        "Sneaky",
        &format!(
            "<p><img src=\"file://{}\" alt=\"nope\"></p>",
            secret.display()
        ),
    );
    let base = serve(vec![("/p", Reply::ok("text/html", page))]);
    let out = dir.path().join("x.epub");
    let o = run(
        dir.path(),
        &[&format!("{base}/p"), "--allow-private"],
        Some(&out),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("local file"), "{}", stderr(&o));
    assert!(images(&out).is_empty());
}

/// Every readability test page, converted offline, passes EPUBCheck.
#[test]
fn readability_pages_convert_offline_to_valid_epubs() {
    let Some(root) = common::corpus("readability") else {
        return;
    };
    let mut pages: Vec<PathBuf> = fs::read_dir(&root)
        .expect("read corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("source.html"))
        .filter(|p| p.is_file())
        .collect();
    pages.sort();
    assert!(
        pages.len() >= 20,
        "expected the readability pages, found {}",
        pages.len()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outs = Vec::new();
    let mut refused = Vec::new();
    for page in &pages {
        let case = page
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = dir.path().join(format!("{case}.epub"));
        let o = run(
            dir.path(),
            &[page.to_str().expect("utf-8 path"), "--offline", "-q"],
            Some(&out),
        );
        match o.status.code() {
            Some(0) => outs.push(out),
            // Pages without an article (index pages, stubs) are refused cleanly.
            Some(1) if stderr(&o).contains("no article found") => refused.push(case),
            _ => panic!("{}: {}", page.display(), stderr(&o)),
        }
    }
    eprintln!(
        "readability: {} pages, {} converted, {} refused as not articles: {refused:?}",
        pages.len(),
        outs.len(),
        refused.len()
    );
    assert!(
        outs.len() * 10 >= pages.len() * 9,
        "too many refusals: {refused:?}"
    );
    if let Some(jar) = common::epubcheck_jar() {
        let fails = common::epubcheck_all(&jar, &outs);
        assert!(
            fails.is_empty(),
            "{} invalid:\n{}",
            fails.len(),
            fails.join("\n")
        );
    }
}
