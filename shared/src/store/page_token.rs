//! next_token text: the two keys where a page ended, as opaque hex. Event pages and alert
//! pages use the same form; each checks its own keys' shapes on the way back.

use crate::digest::hex;
use crate::error::{Error, Result};

/// A token for a page that ended at `first` / `second` (neither holds a newline).
pub(crate) fn encode(first: &str, second: &str) -> String {
    hex(format!("{first}\n{second}").as_bytes())
}

/// The two keys of a token this service gave out; anything else is a 400.
pub(crate) fn decode(token: &str) -> Result<(String, String)> {
    if !token.len().is_multiple_of(2) || token.len() > 512 || !token.is_ascii() {
        return Err(invalid());
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (first, second) = text.split_once('\n').ok_or_else(invalid)?;
    Ok((first.to_string(), second.to_string()))
}

/// The refusal of a token that is not one of ours (or no longer parses).
pub(crate) fn invalid() -> Error {
    Error::invalid("next_token is not one this service gave out; start again without it.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_what_is_not_one() {
        let token = encode("2026-12-07T00:00:00.000Z", "alert-0123456789ab");
        assert_eq!(decode(&token).unwrap(), ("2026-12-07T00:00:00.000Z".into(), "alert-0123456789ab".into()));
        for bad in ["abc", "zz", &"00".repeat(300), &hex(b"no newline")] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
