//! GS1 element strings as a scanner delivers them: GS1-128 (`]C1…`), GS1
//! DataMatrix (`]d2…`) and QR (`]Q3…`) scan data with FNC1 as the group
//! separator (ASCII 29, or `|` from wedges that can't type it), and the
//! human-readable form `(01)…(10)…`. Only what a warehouse acts on is kept:
//! the GTIN, lot, expiry, serial and SSCC.

use crate::gtin::{check_digit, Gtin};

/// What one GS1 scan says about the unit in hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gs1 {
    /// AI 01 (or 02, the contained trade item), as 14 digits.
    pub gtin: Option<String>,
    /// AI 10.
    pub lot: Option<String>,
    /// AI 17 as an ISO date; day 00 means the month's last day.
    pub expires_on: Option<String>,
    /// AI 21.
    pub serial: Option<String>,
    /// AI 00.
    pub sscc: Option<String>,
}

const SYMBOLOGY_IDS: [&str; 4] = ["]C1", "]d2", "]Q3", "]e0"];

/// `None` when the input does not look like a GS1 element string (a plain SKU,
/// GTIN or bin label); otherwise the parsed data or why it can't be read.
pub fn parse(input: &str) -> Option<Result<Gs1, String>> {
    let s = input.trim();
    if let Some(rest) = SYMBOLOGY_IDS.iter().find_map(|id| s.strip_prefix(id)) {
        return Some(parse_raw(rest));
    }
    if s.starts_with('(') {
        return Some(parse_hri(s));
    }
    // Bare scan data without a symbology identifier: accept it only when it
    // opens with a GTIN whose check digit holds, so SKUs made of digits are
    // not mistaken for element strings.
    // `get` rather than indexing: the text is a scanner's, and a slice that
    // ends inside a multi-byte character (`01€€€€€`) would panic.
    let digits = s.starts_with("01")
        && s.get(2..16)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        && check_digit(&s[2..15]).ok() == Some(s.as_bytes()[15] - b'0');
    digits.then(|| parse_raw(s))
}

enum Len {
    Fixed(usize),
    Upto(usize),
}

/// The AI at the start of `s` and how long its data is.
fn ai_at(s: &str) -> Result<(&str, Len), String> {
    let two = s.get(..2).ok_or("the element string ends inside an AI")?;
    let (ai_len, len) = match two {
        "00" => (2, Len::Fixed(18)),
        "01" | "02" | "03" => (2, Len::Fixed(14)),
        "11" | "12" | "13" | "15" | "16" | "17" => (2, Len::Fixed(6)),
        "20" => (2, Len::Fixed(2)),
        "10" | "21" | "22" => (2, Len::Upto(20)),
        "30" | "37" => (2, Len::Upto(8)),
        "31" | "32" | "33" | "34" | "35" | "36" => (4, Len::Fixed(6)),
        "41" => (3, Len::Fixed(13)),
        "24" | "25" | "40" => (3, Len::Upto(30)),
        "39" => (4, Len::Upto(18)),
        "90" | "91" | "92" | "93" | "94" | "95" | "96" | "97" | "98" | "99" => (2, Len::Upto(90)),
        other => return Err(format!("unknown application identifier ({other})")),
    };
    let ai = s
        .get(..ai_len)
        .ok_or("the element string ends inside an AI")?;
    if !ai.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{ai}` is not an application identifier"));
    }
    Ok((ai, len))
}

fn is_separator(c: char) -> bool {
    c == '\u{1d}' || c == '|'
}

fn parse_raw(s: &str) -> Result<Gs1, String> {
    let mut out = Gs1::default();
    let mut rest = s.trim_start_matches(is_separator);
    while !rest.is_empty() {
        let (ai, len) = ai_at(rest)?;
        let body = &rest[ai.len()..];
        let (data, next) = match len {
            Len::Fixed(n) => {
                let data = body
                    .get(..n)
                    .ok_or_else(|| format!("({ai}) needs {n} characters"))?;
                (data, &body[n..])
            }
            Len::Upto(n) => {
                let end = body.find(is_separator).unwrap_or(body.len());
                if end > n {
                    return Err(format!("({ai}) takes at most {n} characters"));
                }
                (&body[..end], &body[end..])
            }
        };
        apply(&mut out, ai, data)?;
        rest = next.trim_start_matches(is_separator);
    }
    Ok(out)
}

fn parse_hri(s: &str) -> Result<Gs1, String> {
    let mut out = Gs1::default();
    let mut rest = s;
    while !rest.is_empty() {
        let body = rest
            .strip_prefix('(')
            .ok_or("write each AI in parentheses: (01)…(10)…")?;
        let close = body.find(')').ok_or("an AI's parenthesis is not closed")?;
        let ai = &body[..close];
        let after = &body[close + 1..];
        let end = after.find('(').unwrap_or(after.len());
        let data = &after[..end];
        let (known, len) = ai_at(&format!("{ai}{data}")).map(|(a, l)| (a.to_string(), l))?;
        if known != ai {
            return Err(format!("({ai}) is not an application identifier"));
        }
        match len {
            Len::Fixed(n) if data.len() != n => {
                return Err(format!("({ai}) needs {n} characters"));
            }
            Len::Upto(n) if data.len() > n => {
                return Err(format!("({ai}) takes at most {n} characters"));
            }
            _ => {}
        }
        apply(&mut out, ai, data)?;
        rest = &after[end..];
    }
    Ok(out)
}

fn apply(out: &mut Gs1, ai: &str, data: &str) -> Result<(), String> {
    match ai {
        "00" => {
            let digits_ok = data.bytes().all(|b| b.is_ascii_digit())
                && check_digit(&data[..17]).ok() == Some(data.as_bytes()[17] - b'0');
            if !digits_ok {
                return Err(format!("(00) {data} is not a valid SSCC"));
            }
            out.sscc = Some(data.to_string());
        }
        "01" | "02" => {
            let gtin = Gtin::parse(data).map_err(|e| format!("({ai}) {data}: {e}"))?;
            out.gtin = Some(gtin.to_gtin14());
        }
        "10" => out.lot = Some(data.to_string()),
        "17" => out.expires_on = Some(date(ai, data)?),
        "21" => out.serial = Some(data.to_string()),
        _ => {}
    }
    Ok(())
}

/// YYMMDD as an ISO date. Years are taken as 20YY (GS1's window only matters
/// for dates far from today), and day 00 is the month's last day.
fn date(ai: &str, data: &str) -> Result<String, String> {
    let bad = || format!("({ai}) {data} is not a date (YYMMDD)");
    if data.len() != 6 || !data.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| data[r].parse::<u32>().map_err(|_| bad());
    let (y, m, d) = (2000 + n(0..2)? as i32, n(2..4)?, n(4..6)?);
    let date = if d == 0 {
        let first_next = if m == 12 {
            chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        first_next.and_then(|f| f.pred_opt())
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
    };
    date.map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values asserted by jodal/biip's and GS1's own test suites, quoted in
    // ../shared/testdata/README.md (section 5).
    #[test]
    fn text_cut_inside_a_character_is_not_gs1_and_never_panics() {
        // #19: `s[2..16]` ended inside the fifth €, and the tablet's offline
        // queue resent the scan forever.
        assert_eq!(parse("01€€€€€"), None);
        assert_eq!(parse("01234567890123€"), None);
        assert!(matches!(parse("(00)€€€€€€"), Some(Err(_))));
        assert!(matches!(parse("]C100€€€€€€€€€€€€€€€€€€"), Some(Err(_))));
        assert!(matches!(parse("(0€)1"), Some(Err(_))));
    }

    #[test]
    fn reads_the_element_strings_the_gs1_suites_assert() {
        let g = parse("]C10107032069804988100329\u{1d}15210526")
            .unwrap()
            .unwrap();
        assert_eq!(g.gtin.as_deref(), Some("07032069804988"));
        assert_eq!(g.lot.as_deref(), Some("0329"));
        let g = parse("010703206980498815210526100329").unwrap().unwrap();
        assert_eq!(g.gtin.as_deref(), Some("07032069804988"));
        assert_eq!(g.lot.as_deref(), Some("0329"));
        let g = parse("]C1010590123412345715210526").unwrap().unwrap();
        assert_eq!(g.gtin.as_deref(), Some("05901234123457"));
        let g = parse("]C100373400306809981733").unwrap().unwrap();
        assert_eq!(g.sscc.as_deref(), Some("373400306809981733"));
        assert!(parse("]C100376130321109103421").unwrap().is_err());
        let g = parse("0100614141123452310500123417211200211234567")
            .unwrap()
            .unwrap();
        assert_eq!(g.gtin.as_deref(), Some("00614141123452"));
        assert_eq!(g.expires_on.as_deref(), Some("2021-12-31"));
        assert_eq!(g.serial.as_deref(), Some("1234567"));
    }

    #[test]
    fn day_zero_is_the_last_day_of_the_month() {
        assert_eq!(date("17", "211200").unwrap(), "2021-12-31");
        assert_eq!(date("15", "200200").unwrap(), "2020-02-29");
        assert_eq!(date("17", "210526").unwrap(), "2021-05-26");
        assert!(date("17", "211332").is_err());
    }

    #[test]
    fn the_readable_form_and_a_typed_separator_parse_the_same() {
        let a = parse("(01)07032069804988(10)0329(17)270131")
            .unwrap()
            .unwrap();
        let b = parse("]C10107032069804988100329|17270131")
            .unwrap()
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.expires_on.as_deref(), Some("2027-01-31"));
    }

    #[test]
    fn plain_codes_are_not_taken_for_element_strings() {
        assert!(parse("SKU-123").is_none());
        assert!(parse("A-01-03").is_none());
        assert!(parse("5901234123457").is_none());
        // Sixteen digits opening with 01 but with a wrong GTIN check digit.
        assert!(parse("0107032069804980").is_none());
    }

    #[test]
    fn broken_element_strings_say_what_is_wrong() {
        assert_eq!(
            parse("]C10107032069804988").unwrap(),
            Ok(Gs1 {
                gtin: Some("07032069804988".into()),
                ..Gs1::default()
            })
        );
        assert!(parse("]C1010703206980498")
            .unwrap()
            .unwrap_err()
            .contains("needs 14"));
        assert!(parse("]C10107032069804987")
            .unwrap()
            .unwrap_err()
            .contains("check digit"));
        assert!(parse("]C18899")
            .unwrap()
            .unwrap_err()
            .contains("unknown application identifier"));
        assert!(parse("(01)0703206980498")
            .unwrap()
            .unwrap_err()
            .contains("needs 14"));
    }
}
