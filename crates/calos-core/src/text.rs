//! Checks on short free text fields shared by requests and documents.

/// Whether `value` has 1 to `max` characters, none of them a control
/// character. One pass, and for ASCII (what clients mostly send) no
/// decoding: a byte is a character and `is_ascii_control` is
/// `char::is_control`. Verify checks four to six fields with it on every
/// request.
pub fn short_printable(value: &str, max: usize) -> bool {
    if value.is_ascii() {
        return !value.is_empty()
            && value.len() <= max
            && !value.bytes().any(|b| b.is_ascii_control());
    }
    let mut count = 0;
    for c in value.chars() {
        count += 1;
        if count > max || c.is_control() {
            return false;
        }
    }
    count > 0
}

#[cfg(test)]
mod tests {
    use super::short_printable;

    #[test]
    fn fields_are_counted_in_characters_and_control_characters_refused() {
        assert!(short_printable("abc", 3));
        assert!(!short_printable("abcd", 3));
        assert!(!short_printable("", 3));
        assert!(!short_printable("a\tb", 3));
        assert!(!short_printable("a\u{7f}", 3));
        // Three characters, six bytes: within a limit of three.
        assert!(short_printable("äöü", 3));
        assert!(!short_printable("äöüß", 3));
        // C1 controls are control characters too.
        assert!(!short_printable("a\u{85}", 3));
    }
}
