//! Hex text, SHA-256 over parts, HMAC-SHA256, and random hex: each written once, since ids, keys and
//! markers all depend on them staying byte-for-byte the same across versions.

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    text
}

/// SHA-256 over each part followed by a NUL byte, so `["ab", "c"]` and `["a", "bc"]`
/// differ.
pub fn sha256_of_parts(parts: &[&str]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    hash.finalize().into()
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&key, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// `len` random bytes from the OS, as hex.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(random_hex(6).len(), 12);
        assert_ne!(random_hex(16), random_hex(16));
    }

    #[test]
    fn parts_are_separated_so_moving_a_boundary_changes_the_digest() {
        assert_ne!(sha256_of_parts(&["ab", "c"]), sha256_of_parts(&["a", "bc"]));
        // Pinned: event keys derived from it are stored, and must not change.
        assert_eq!(
            hex(&sha256_of_parts(&["webhook-1", "disk full"])[..16]),
            hex(&{
                let mut h = Sha256::new();
                h.update(b"webhook-1\0disk full\0");
                <[u8; 32]>::from(h.finalize())
            }[..16])
        );
    }
}
