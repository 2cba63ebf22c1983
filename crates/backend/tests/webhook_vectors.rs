//! Every Shopify and WooCommerce webhook signature vector quoted in
//! ../shared/testdata/README.md verifies with Keel's check, and a changed
//! secret or body does not. The README is read in place.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use backend::webhooks::{sign, verify};

fn readme() -> Option<String> {
    let dir = std::env::var_os("KEEL_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        });
    let path = dir.join("README.md");
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(_) => {
            // CI has the shared testdata beside the clone: missing there is a
            // failure, not a skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "../shared/testdata is missing: CI must have the shared test data"
            );
            eprintln!(
                "SKIPPED: {} is absent; this test needs the shared testdata folder",
                path.display()
            );
            None
        }
    }
}

/// The text between the first pair of backticks after `marker` on its line.
fn ticked_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let line = text
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("README has no line with {marker:?}"));
    let rest = &line[line.find(marker).unwrap() + marker.len()..];
    let start = rest.find('`').expect("opening backtick") + 1;
    let len = rest[start..].find('`').expect("closing backtick");
    &rest[start..start + len]
}

#[test]
fn shopify_vector_verifies() {
    let Some(text) = readme() else { return };
    let section = &text[text.find("### Webhook HMAC").expect("Shopify HMAC section")..];
    let secret = ticked_after(section, "- secret ");
    let body = ticked_after(section, "- body ");
    let expected = ticked_after(section, "- expected header ");
    assert_eq!((secret, body), ("test_secret_key", "{\"foo\": \"bar\"}"));
    assert_eq!(sign(secret.as_bytes(), body.as_bytes()), expected);
    assert!(verify(secret.as_bytes(), body.as_bytes(), expected));
    assert!(!verify(b"wrong_secret_key", body.as_bytes(), expected));
    assert!(!verify(secret.as_bytes(), b"{\"foo\": \"baz\"}", expected));
    assert!(!verify(secret.as_bytes(), body.as_bytes(), "fake"));
}

#[test]
fn woocommerce_vector_verifies_with_the_empty_secret_of_a_new_webhook() {
    let Some(text) = readme() else { return };
    let line = text
        .lines()
        .find(|l| l.contains("generate_signature('secret') == '"))
        .expect("WooCommerce vector line");
    let start = line.find("== '").unwrap() + 4;
    let expected = &line[start..start + line[start..].find('\'').unwrap()];
    // The README's gotcha: 'secret' is the payload, the key is empty.
    assert!(verify(b"", b"secret", expected));
    assert_eq!(sign(b"", b"secret"), expected);
    assert!(!verify(b"secret", b"secret", expected));
    assert!(!verify(b"", b"secret ", expected));
}
