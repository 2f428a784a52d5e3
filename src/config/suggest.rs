//! "Did you mean …?": the nearest known name to a misspelt one, by edit
//! distance, for unknown keys and for values outside an enumeration.

/// Names longer than this get no suggestion (the distance costs length squared).
const SUGGEST_MAX_LEN: usize = 64;

/// The candidate nearest to `wanted` by edit distance, when near enough to be a typo.
pub fn closest<'a, T>(wanted: &str, candidates: impl Iterator<Item = (&'a str, T)>) -> Option<T> {
    if wanted.len() > SUGGEST_MAX_LEN {
        return None;
    }
    candidates
        .map(|(name, item)| (edit_distance(wanted, name), name, item))
        .filter(|(distance, name, _)| *distance <= 3.max(name.len() / 4))
        .min_by_key(|(distance, _, _)| *distance)
        .map(|(_, _, item)| item)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
