//! Storefront webhooks: Shopify `orders/create` and WooCommerce
//! `order.created`. A delivery is authenticated by the HMAC of its raw body
//! under the channel's secret, compared in constant time, before anything is
//! parsed; a failure writes nothing.

use base64::{engine::general_purpose::STANDARD, Engine};
use domain::channel_payloads::{shopify_order, woocommerce_order};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    orders::capture::{Captured, Delivery},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Shopify,
    WooCommerce,
}

impl Platform {
    fn kind(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::WooCommerce => "woocommerce",
        }
    }

    fn signature_header(self) -> &'static str {
        match self {
            Platform::Shopify => "X-Shopify-Hmac-Sha256",
            Platform::WooCommerce => "X-WC-Webhook-Signature",
        }
    }

    /// Headers a genuine delivery always has; the first is the signature.
    fn required_headers(self) -> &'static [&'static str] {
        match self {
            Platform::Shopify => &[
                "X-Shopify-Hmac-Sha256",
                "X-Shopify-Topic",
                "X-Shopify-Shop-Domain",
                "X-Shopify-API-Version",
                "X-Shopify-Webhook-Id",
            ],
            Platform::WooCommerce => &[
                "X-WC-Webhook-Signature",
                "X-WC-Webhook-Topic",
                "X-WC-Webhook-Delivery-ID",
            ],
        }
    }

    fn topic_header(self) -> &'static str {
        match self {
            Platform::Shopify => "X-Shopify-Topic",
            Platform::WooCommerce => "X-WC-Webhook-Topic",
        }
    }

    fn delivery_header(self) -> &'static str {
        match self {
            Platform::Shopify => "X-Shopify-Webhook-Id",
            Platform::WooCommerce => "X-WC-Webhook-Delivery-ID",
        }
    }

    fn order_topic(self) -> &'static str {
        match self {
            Platform::Shopify => "orders/create",
            Platform::WooCommerce => "order.created",
        }
    }
}

/// HMAC-SHA256 keyed with `secret`.
#[allow(clippy::expect_used)] // HMAC takes a key of any length: new_from_slice never fails.
fn hmac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length")
}

/// `base64(HMAC-SHA256(secret, body))`, the scheme both platforms use.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac(secret);
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a base64 signature in constant time (`verify_slice` compares every
/// byte whatever the first difference).
pub fn verify(secret: &[u8], body: &[u8], signature_b64: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let mut mac = hmac(secret);
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// What a webhook delivery did.
#[derive(Debug)]
pub enum Received {
    Order(Box<Captured>),
    /// A genuine delivery of a topic Keel doesn't act on; acknowledged so the
    /// platform doesn't retry it.
    Ignored {
        topic: String,
    },
}

/// Authenticates and captures one delivery. `header` reads a request header
/// case-insensitively.
#[tracing::instrument(skip_all)]
pub async fn receive(
    db: &Db,
    platform: Platform,
    channel: &str,
    header: &(dyn Fn(&str) -> Option<String> + Sync),
    body: &[u8],
) -> Result<Received> {
    let code = channel.trim().to_uppercase();
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "select channel_id, kind, webhook_secret from channel where code = $1 and active = 1",
    )
    .bind(&code)
    .fetch_optional(&db.pool)
    .await?;
    let Some((channel_id, kind, secret)) = row else {
        return Err(Error::BadSignature(UNVERIFIED.into()));
    };
    let result = deliver(db, platform, &code, &kind, secret, header, body).await;
    if let Err(e @ (Error::BadSignature(_) | Error::Invalid(_))) = &result {
        // The sender is not who it claims until the signature verifies.
        let ctx = Ctx::system(&format!("webhook to channel {code}, unverified"));
        let attempt = crate::incidents::Attempt {
            kind: domain::analytics::WEBHOOK_REJECTED,
            subject_id: &channel_id,
            subject_ref: &code,
            channel: Some(&code),
            detail: format!("{} {}", platform.kind(), rejection(e)),
        };
        crate::incidents::record(db, &ctx, &attempt).await;
    }
    match result {
        // Why it failed is the incident's (for the admin), not the sender's:
        // an unknown channel, one without a secret, the wrong platform, a
        // missing header and a bad signature all answer alike, so the answer
        // doesn't tell which channel codes exist or what they are.
        Err(Error::BadSignature(_)) => Err(Error::BadSignature(UNVERIFIED.into())),
        other => other,
    }
}

/// The one answer to a delivery that isn't verified, whatever the reason.
pub const UNVERIFIED: &str =
    "the delivery can't be verified: check the channel code, its webhook secret and the signature";

/// Why a delivery was rejected, in a line.
fn rejection(e: &Error) -> String {
    match e {
        Error::Invalid(fields) => domain::FieldError::one_line(fields),
        other => other.to_string(),
    }
}

async fn deliver(
    db: &Db,
    platform: Platform,
    code: &str,
    kind: &str,
    secret: Option<String>,
    header: &(dyn Fn(&str) -> Option<String> + Sync),
    body: &[u8],
) -> Result<Received> {
    if kind != platform.kind() {
        return Err(Error::BadSignature(format!(
            "channel {code} is a {kind} channel, not {}",
            platform.kind()
        )));
    }
    let Some(secret) = secret else {
        return Err(Error::BadSignature(format!(
            "channel {code} has no webhook secret; set one before connecting the store"
        )));
    };
    let missing: Vec<&str> = platform
        .required_headers()
        .iter()
        .copied()
        .filter(|h| header(h).is_none_or(|v| v.trim().is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::BadSignature(format!(
            "missing header{}: {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    let signature = header(platform.signature_header()).unwrap_or_default();
    if !verify(secret.as_bytes(), body, &signature) {
        return Err(Error::BadSignature(format!(
            "{} does not match the body under channel {code}'s secret",
            platform.signature_header()
        )));
    }
    let topic = header(platform.topic_header()).unwrap_or_default();
    if topic.trim() != platform.order_topic() {
        return Ok(Received::Ignored { topic });
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid("body", format!("the body is not JSON: {e}")))?;
    let input = match platform {
        Platform::Shopify => shopify_order(code, &value),
        Platform::WooCommerce => woocommerce_order(code, &value),
    }
    .map_err(|e| Error::invalid("body", e.to_string()))?;
    let ctx = Ctx::system(&format!("channel {code}"));
    let delivery = Delivery {
        id: header(platform.delivery_header()).unwrap_or_default(),
        topic,
    };
    crate::orders::capture::capture(db, &ctx, input, None, Some(&delivery))
        .await
        .map(|c| Received::Order(Box::new(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_and_body() {
        let sig = sign(b"s3cret-key", b"{\"id\":1}");
        assert!(verify(b"s3cret-key", b"{\"id\":1}", &sig));
        assert!(!verify(b"other-key", b"{\"id\":1}", &sig));
        assert!(!verify(b"s3cret-key", b"{\"id\":2}", &sig));
        assert!(!verify(b"s3cret-key", b"{\"id\":1}", "fake"));
        assert!(!verify(b"s3cret-key", b"{\"id\":1}", ""));
    }
}
