//! One-time codes for a test user's authenticator: RFC 6238 TOTP (HMAC-SHA-1, 30-second
//! steps, 6 digits, the parameters every authenticator app uses), keyed with the base32 secret
//! (RFC 4648 section 6) a provider shows when the authenticator is enrolled.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Secret;

/// RFC 6238 section 4: X, the time step.
const STEP_SECS: u64 = 30;
const DIGITS: u32 = 6;

/// A decoded TOTP key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct TotpKey(Vec<u8>);

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpKey([redacted])")
    }
}

/// Why a base32 secret is unusable; never quotes the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpKeyError {
    #[error("it is empty")]
    Empty,
    #[error("character {position} is not base32 (A-Z and 2-7; spaces and = are ignored)")]
    NotBase32 { position: usize },
}

impl TotpKey {
    /// Parses the base32 text an authenticator is enrolled with: any case, spaces, hyphens
    /// and `=` padding ignored (providers show it in groups of four).
    pub fn from_base32(secret: &Secret) -> Result<Self, TotpKeyError> {
        let mut bits: u64 = 0;
        let mut count = 0u32;
        let mut out = Vec::new();
        for (i, c) in secret.expose().chars().enumerate() {
            let v = match c.to_ascii_uppercase() {
                c @ 'A'..='Z' => c as u64 - 'A' as u64,
                c @ '2'..='7' => c as u64 - '2' as u64 + 26,
                ' ' | '-' | '=' | '\t' => continue,
                _ => return Err(TotpKeyError::NotBase32 { position: i + 1 }),
            };
            bits = (bits << 5) | v;
            count += 5;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
                bits &= (1 << count) - 1;
            }
        }
        if out.is_empty() {
            return Err(TotpKeyError::Empty);
        }
        Ok(Self(out))
    }

    /// The code for now.
    pub fn now(&self) -> Secret {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.at(secs)
    }

    /// RFC 6238 section 4.2: HOTP (RFC 4226 section 5.3) of the time-step counter.
    pub fn at(&self, unix_secs: u64) -> Secret {
        let counter = unix_secs / STEP_SECS;
        // HMAC-SHA-1 is what RFC 6238 and every authenticator app use; ring (already built for
        // rustls) provides it, so no other crate is needed.
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let tag = ring::hmac::sign(&key, &counter.to_be_bytes());
        let mac = tag.as_ref();
        // RFC 4226 section 5.4: dynamic truncation.
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            mac[offset] & 0x7f,
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ]);
        let code = binary % 10u32.pow(DIGITS);
        Secret::new(format!("{code:0width$}", width = DIGITS as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> TotpKey {
        TotpKey::from_base32(&Secret::new(text.to_owned())).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_vectors_to_six_digits() {
        // RFC 6238 appendix B: the key is ASCII "12345678901234567890"; the 8-digit codes
        // there end in these 6 digits.
        let k = key("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(k.0, b"12345678901234567890");
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(k.at(t).expose(), code, "T={t}");
        }
    }

    #[test]
    fn base32_as_providers_show_it() {
        assert_eq!(key("jbsw y3dp ehpk 3pxp").0, key("JBSWY3DPEHPK3PXP").0);
        assert_eq!(key("MZXW6===").0, b"foo");
        let err = |t: &str| TotpKey::from_base32(&Secret::new(t.to_owned())).unwrap_err();
        assert_eq!(err("JBSW1"), TotpKeyError::NotBase32 { position: 5 });
        assert_eq!(err(" = "), TotpKeyError::Empty);
        assert!(!format!("{:?}", key("JBSWY3DPEHPK3PXP")).contains("72"));
    }
}
