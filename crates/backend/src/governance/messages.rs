//! Notices and errors carried in a page's address after a form redirects
//! (post/redirect/get). A page shows them as Keel's own words, so a link
//! someone else wrote (`/command?error=Call+this+number`) must not be able to
//! put text there: Keel signs the messages it redirects with and the pages
//! drop any that aren't signed.
//!
//! Invariant: the signing key is one random secret in `site_secret`, shared
//! by every instance on the database, made on first use.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{db::Db, error::Result};

/// The address parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "m";

/// Whether a query parameter is a message a page shows as Keel's words.
pub fn is_message_param(name: &str) -> bool {
    name == "error" || name == "notice" || name.starts_with("error_")
}

/// The key, made on first use. Two instances racing to make it both keep
/// the one that was stored first.
pub async fn message_key(db: &Db) -> Result<Vec<u8>> {
    let mut tx = db.write_tx().await?;
    sqlx::query("insert into site_secret (name, secret) values ('messages', $1) on conflict (name) do nothing")
        .bind(super::random_secret())
        .execute(&mut *tx)
        .await?;
    let secret: String =
        sqlx::query_scalar("select secret from site_secret where name = 'messages'")
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(secret.into_bytes())
}

/// The signature of the messages in an address: over the path and every
/// message parameter (name and decoded value), in name order.
pub fn sign_messages(key: &[u8], path: &str, pairs: &[(String, String)]) -> String {
    let mut messages: Vec<&(String, String)> =
        pairs.iter().filter(|(k, _)| is_message_param(k)).collect();
    messages.sort();
    // The key is never empty (a random secret), which is all HMAC needs.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(path.as_bytes());
    for (k, v) in messages {
        mac.update(b"\n");
        mac.update(k.as_bytes());
        mac.update(b"=");
        mac.update(v.as_bytes());
    }
    hex::encode(&mac.finalize().into_bytes()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_signature_covers_the_path_and_every_message_and_nothing_else() {
        let key = b"0123456789abcdef";
        let base = sign_messages(key, "/command", &pairs(&[("notice", "Saved"), ("q", "x")]));
        // Other parameters (a filter, a typed value) don't matter.
        assert_eq!(
            base,
            sign_messages(key, "/command", &pairs(&[("q", "y"), ("notice", "Saved")]))
        );
        for other in [
            sign_messages(key, "/command/users", &pairs(&[("notice", "Saved")])),
            sign_messages(key, "/command", &pairs(&[("notice", "Saved!")])),
            sign_messages(
                key,
                "/command",
                &pairs(&[("notice", "Saved"), ("error_name", "x")]),
            ),
            sign_messages(
                b"another key 1234",
                "/command",
                &pairs(&[("notice", "Saved")]),
            ),
        ] {
            assert_ne!(base, other);
        }
        assert!(is_message_param("error_prices[0].price"));
        assert!(!is_message_param("value_name"));
    }
}
