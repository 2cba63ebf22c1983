//! Addresses of filtered lists, for links and paging.

/// `path` with the given query values that are not blank, encoded, in the
/// order given: the address of a filtered list, for links and paging.
pub fn href<'a>(path: &str, pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let q: Vec<String> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// Percent-encodes a query value (the subset of RFC 3986 that is safe unescaped).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
