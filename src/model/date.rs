//! Dates as people write them, normalised to ISO 8601 for metadata.

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A calendar date with an optional time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year, e.g. 2024.
    pub year: i32,
    /// Month 1–12, if known.
    pub month: Option<u8>,
    /// Day 1–31, if known.
    pub day: Option<u8>,
    /// Hours, minutes, seconds and UTC offset in minutes, if a time was given.
    pub time: Option<(u8, u8, u8, i16)>,
}

impl DateTime {
    /// Parses the usual spellings: `2024-03-05`, `2024-03-05T10:20:30Z`, `2024-03-05 10:20:30 +0100`,
    /// `2024/03/05`, `2024-03`, `2024`, `March 5, 2024`, `Tue, 5 Mar 2024`, `5 March 2024`.
    pub fn parse(input: &str) -> Option<DateTime> {
        let s = input.trim();
        parse_iso(s).or_else(|| parse_words(s))
    }

    /// ISO 8601 / W3CDTF form, as `dc:date` wants it.
    pub fn to_iso(&self) -> String {
        let mut out = format!("{:04}", self.year);
        if let Some(m) = self.month {
            out.push_str(&format!("-{m:02}"));
            if let Some(d) = self.day {
                out.push_str(&format!("-{d:02}"));
                if let Some((h, mi, s, off)) = self.time {
                    out.push_str(&format!("T{h:02}:{mi:02}:{s:02}"));
                    if off == 0 {
                        out.push('Z');
                    } else {
                        let sign = if off < 0 { '-' } else { '+' };
                        let off = off.unsigned_abs();
                        out.push_str(&format!("{sign}{:02}:{:02}", off / 60, off % 60));
                    }
                }
            }
        }
        out
    }

    /// Human form for title pages: `5 March 2024`, `March 2024`, `2024`.
    pub fn to_display(&self) -> String {
        let month = |m: u8| {
            let name = MONTHS[usize::from(m - 1)];
            let mut c = name.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        };
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{d} {} {}", month(m), self.year),
            (Some(m), None) => format!("{} {}", month(m), self.year),
            _ => self.year.to_string(),
        }
    }

    /// The UTC date and time of a Unix timestamp (e.g. `SOURCE_DATE_EPOCH`).
    pub fn from_unix(secs: i64) -> DateTime {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        DateTime {
            year: y,
            month: Some(m),
            day: Some(d),
            time: Some((
                (rem / 3600) as u8,
                (rem / 60 % 60) as u8,
                (rem % 60) as u8,
                0,
            )),
        }
    }
}

/// Output timestamp (Unix seconds) for reproducible files: `SOURCE_DATE_EPOCH` when set, else
/// midnight UTC of the article's date, else 2000-01-01 — never "now", so the same input always
/// gives the same bytes.
pub fn stamp(source_date_epoch: Option<i64>, article_date: Option<&str>) -> i64 {
    source_date_epoch.unwrap_or_else(|| {
        article_date
            .and_then(DateTime::parse)
            .map(|d| days_from_civil(d.year, d.month.unwrap_or(1), d.day.unwrap_or(1)) * 86_400)
            .unwrap_or(946_684_800)
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of `civil_from_days`).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Normalises a date string to ISO 8601, or `None` when it cannot be understood.
pub fn normalize(input: &str) -> Option<String> {
    DateTime::parse(input).map(|d| d.to_iso())
}

/// Display form of an ISO (or otherwise parseable) date; the input itself when unparseable.
pub fn display(input: &str) -> String {
    DateTime::parse(input)
        .map(|d| d.to_display())
        .unwrap_or_else(|| input.trim().to_string())
}

// Howard Hinnant's days-from-civil inverse; exact for the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn valid(year: i32, month: Option<u8>, day: Option<u8>) -> bool {
    (1000..=9999).contains(&year)
        && month.is_none_or(|m| (1..=12).contains(&m))
        && match (month, day) {
            (Some(m), Some(d)) => d >= 1 && d <= days_in_month(year, m),
            (None, Some(_)) => false,
            _ => true,
        }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_iso(s: &str) -> Option<DateTime> {
    let (date, rest) = match s.find(['T', ' ', 't']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    if parts.first().is_none_or(|y| y.len() != 4) || parts.len() > 3 {
        return None;
    }
    let year = num(parts[0])? as i32;
    let part = |i: usize| -> Result<Option<u8>, ()> {
        match parts.get(i) {
            Some(p) if p.len() <= 2 => num(p).map(|v| Some(v as u8)).ok_or(()),
            Some(_) => Err(()),
            None => Ok(None),
        }
    };
    let month = part(1).ok()?;
    let day = part(2).ok()?;
    if !valid(year, month, day) {
        return None;
    }
    let time = match rest {
        Some(r) if !r.is_empty() && day.is_some() => Some(parse_time(r)?),
        Some(r) if !r.is_empty() => return None,
        _ => None,
    };
    Some(DateTime {
        year,
        month,
        day,
        time,
    })
}

fn parse_time(s: &str) -> Option<(u8, u8, u8, i16)> {
    let split = s.find(['Z', 'z', '+', '-', ' ']).unwrap_or(s.len());
    let (clock, zone) = s.split_at(split);
    let mut it = clock.split(':');
    let h = num(it.next()?)? as u8;
    let mi = num(it.next()?)? as u8;
    let sec = match it.next() {
        Some(sec) => num(sec.split('.').next()?)? as u8,
        None => 0,
    };
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let zone = zone.trim();
    let off = match zone {
        "" | "Z" | "z" | "UTC" | "GMT" => 0,
        z => {
            let sign: i16 = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() != 4 {
                return None;
            }
            let hh = num(&digits[..2])? as i16;
            let mm = num(&digits[2..])? as i16;
            sign * (hh * 60 + mm)
        }
    };
    Some((h, mi, sec.min(59), off))
}

fn parse_words(s: &str) -> Option<DateTime> {
    let words: Vec<String> = s
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut month = None;
    let mut day = None;
    let mut year = None;
    for w in &words {
        if let Some(m) = MONTHS
            .iter()
            .position(|name| w.len() >= 3 && name.starts_with(w.as_str()))
        {
            month.get_or_insert(m as u8 + 1);
        } else {
            let digits = w.trim_end_matches(|c: char| c.is_alphabetic());
            if let Some(n) = num(digits) {
                if digits.len() == 4 {
                    year.get_or_insert(n as i32);
                } else if digits.len() <= 2 && day.is_none() {
                    day = Some(n as u8);
                }
            }
        }
        if year.is_some() && month.is_some() && day.is_some() {
            break;
        }
    }
    let year = year?;
    month?;
    if !valid(year, month, day) {
        return None;
    }
    Some(DateTime {
        year,
        month,
        day,
        time: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_common_forms() {
        assert_eq!(normalize("2024-03-05").as_deref(), Some("2024-03-05"));
        assert_eq!(
            normalize("2024-03-05T10:20:30Z").as_deref(),
            Some("2024-03-05T10:20:30Z")
        );
        assert_eq!(
            normalize("2015-05-15 10:00:00 -0700").as_deref(),
            Some("2015-05-15T10:00:00-07:00")
        );
        assert_eq!(
            normalize("2024-03-05T10:20:30.123+01:00").as_deref(),
            Some("2024-03-05T10:20:30+01:00")
        );
        assert_eq!(normalize("March 5, 2024").as_deref(), Some("2024-03-05"));
        assert_eq!(normalize("Tue, 5 Mar 2024").as_deref(), Some("2024-03-05"));
        assert_eq!(normalize("2024/3/5").as_deref(), Some("2024-03-05"));
        assert_eq!(normalize("2024").as_deref(), Some("2024"));
        assert_eq!(normalize("yesterday"), None);
        assert_eq!(normalize("2024-02-30"), None);
        assert_eq!(normalize("2024-13-01"), None);
    }

    #[test]
    fn displays_and_converts_epoch() {
        assert_eq!(display("2024-03-05"), "5 March 2024");
        assert_eq!(display("2024-03"), "March 2024");
        assert_eq!(DateTime::from_unix(0).to_iso(), "1970-01-01T00:00:00Z");
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(stamp(Some(5), Some("2024-01-01")), 5);
        assert_eq!(stamp(None, Some("1970-01-02")), 86_400);
        assert_eq!(stamp(None, Some("not a date")), 946_684_800);
        assert_eq!(
            DateTime::from_unix(1_700_000_000).to_iso(),
            "2023-11-14T22:13:20Z"
        );
    }
}
