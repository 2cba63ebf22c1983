//! Checks GTIN validation against every GS1 check-digit vector quoted in
//! ../shared/testdata/README.md (section "GS1 barcodes"). The vectors are read
//! from the file in place, never copied into this repository.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use domain::gtin::{check_digit, Gtin, GtinError};

fn testdata_readme() -> Option<String> {
    let dir = std::env::var_os("KEEL_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        });
    std::fs::read_to_string(dir.join("README.md")).ok()
}

fn backticked(line: &str) -> Option<&str> {
    let start = line.find('`')? + 1;
    let len = line[start..].find('`')?;
    Some(&line[start..start + len])
}

fn number_after(line: &str, marker: &str) -> Option<u8> {
    let rest = &line[line.find(marker)? + marker.len()..];
    rest.trim_start()
        .chars()
        .next()?
        .to_digit(10)
        .map(|d| d as u8)
}

#[test]
fn gtin_validation_matches_every_gs1_vector_in_testdata() {
    let Some(readme) = testdata_readme() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/testdata/README.md is missing: CI must have the GS1 vectors"
        );
        eprintln!("SKIPPED: ../shared/testdata is absent, so the GS1 vectors were not checked");
        return;
    };
    let start = readme
        .find("## 5. GS1")
        .expect("the README has a GS1 section");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map(|i| i + 3)
        .unwrap_or(section.len())];

    let (mut check_digits, mut valid, mut invalid) = (0, 0, 0);
    let mut in_check_digit_list = false;
    for line in section.lines() {
        let line = line.trim();
        if line.starts_with("GS1 standard check digit") {
            in_check_digit_list = true;
            continue;
        }
        if !line.starts_with("- ") {
            in_check_digit_list = false;
        }
        if in_check_digit_list {
            let payload = backticked(line).expect("a check-digit vector");
            let expected = number_after(line, "→").expect("an expected digit");
            assert_eq!(
                check_digit(payload).unwrap(),
                expected,
                "check digit of {payload}"
            );
            check_digits += 1;
        } else if line.starts_with("- GTIN-") {
            let code = backticked(line).expect("a GTIN");
            let cd = number_after(line, "check digit")
                .or_else(|| number_after(line, "cd"))
                .expect("a stated check digit");
            let gtin = Gtin::parse(code).unwrap_or_else(|e| panic!("{code} should be valid: {e}"));
            assert_eq!(gtin.as_str().as_bytes().last().map(|b| b - b'0'), Some(cd));
            valid += 1;
        } else if line.contains("is invalid: \"Expected") {
            let code = backticked(line).expect("an invalid GTIN");
            let expected = number_after(line, "Expected").expect("the expected digit");
            match Gtin::parse(code) {
                Err(err @ GtinError::CheckDigit { .. }) => {
                    assert_eq!(
                        err,
                        GtinError::CheckDigit {
                            expected,
                            got: code.as_bytes()[code.len() - 1] - b'0'
                        }
                    );
                    assert!(err.to_string().contains(&format!("expected {expected}")));
                }
                other => panic!("{code} should fail its check digit, got {other:?}"),
            }
            invalid += 1;
        }
    }
    // The README quotes 6 check-digit payloads, 5 valid GTINs and 1 invalid one;
    // a parse that finds fewer would let this test pass without checking them.
    assert!(
        check_digits >= 6 && valid >= 5 && invalid >= 1,
        "found {check_digits} / {valid} / {invalid} vectors"
    );
    println!(
        "GS1 vectors checked: {check_digits} check digits, {valid} valid GTINs, {invalid} invalid"
    );
}
