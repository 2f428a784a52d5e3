//! What kind of character this is, as far as choosing a cut point cares:
//! sentence punctuation, scripts written without spaces, and characters that
//! glue onto the previous one (accents, emoji modifiers and joiners).

pub(super) fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？')
}

/// Closing quotes and brackets that may follow a sentence's full stop.
pub(super) fn closes_sentence(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '"' | '\'' | '”' | '’' | '»' | '*' | '_' | '」' | '』'
    )
}

/// Full stops that need no following space (CJK).
pub(super) fn is_full_stop(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

/// Chinese and Japanese characters: written without spaces between words,
/// so any boundary between two of them is as good as a word boundary.
/// (Korean puts spaces between words, so Hangul is not listed.)
pub(super) fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Combining marks, variation selectors, skin-tone modifiers, the zero-width
/// joiner and tag characters: they belong to the character before them.
pub(super) fn extends_grapheme(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200D | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
}

/// Two regional indicators make one flag.
pub(super) fn is_regional_indicator(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}
