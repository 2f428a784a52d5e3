//! Pure functions that turn answers into Discord messages.
//!
//! TEMPORARY (discord branch): a minimal `split_for_discord` so the Discord
//! frontend compiles and can be tested; the real, code-fence-aware splitter
//! from the render branch replaces this file on merge.

/// The most characters (Unicode code points) one Discord message may hold.
pub const DISCORD_MESSAGE_LIMIT: usize = 2000;

/// Splits `text` into pieces of at most `limit` characters, preferring to cut
/// after a newline. Empty or whitespace-only text gives no pieces.
pub fn split_for_discord(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim_end();
    while !rest.is_empty() {
        let cut = cut_point(rest, limit);
        let (piece, tail) = rest.split_at(cut);
        if !piece.trim().is_empty() {
            pieces.push(piece.trim_end().to_string());
        }
        rest = tail.trim_start_matches('\n');
    }
    pieces
}

/// Byte index where the first piece of `text` ends.
fn cut_point(text: &str, limit: usize) -> usize {
    let Some((hard, _)) = text.char_indices().nth(limit) else {
        return text.len();
    };
    match text[..hard].rfind('\n') {
        Some(newline) if newline > 0 => newline + 1,
        _ => hard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_stays_whole_and_long_text_fits_the_limit() {
        assert_eq!(split_for_discord("hello", 2000), vec!["hello"]);
        assert!(split_for_discord("  \n", 2000).is_empty());
        let text = "é".repeat(4500);
        let pieces = split_for_discord(&text, 2000);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 2000));
        assert_eq!(pieces.concat(), text);
    }
}
