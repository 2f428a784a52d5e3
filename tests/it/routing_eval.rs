//! The held-out routing set (`tests/data/routing_heldout.tsv`, written before
//! the heuristic was tuned and never tuned on) scores at least the accuracy
//! the README records: a regression guard on behaviour.

use std::path::Path;

use duet::chat::router::{RouterConfig, eval};
use duet::config::Mode;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The figure after "Held-out accuracy of the heuristic alone:" in the README.
fn recorded_heldout_accuracy() -> f64 {
    const MARK: &str = "Held-out accuracy of the heuristic alone: **";
    let readme = read("README.md");
    let at = readme
        .find(MARK)
        .expect("the README records the held-out accuracy")
        + MARK.len();
    let figure: String = readme[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    figure.parse().expect("a percentage")
}

fn score(relative: &str) -> eval::Score {
    let set = eval::parse(&read(relative)).expect("the set parses");
    eval::score(&set, &RouterConfig::new(Mode::Hybrid, 2026))
}

#[test]
fn held_out_accuracy_stays_at_or_above_the_figure_the_readme_records() {
    let score = score("tests/data/routing_heldout.tsv");
    let recorded = recorded_heldout_accuracy();
    assert!(
        score.accuracy() + 0.05 >= recorded,
        "held-out accuracy fell to {:.1}% (README records {recorded}%):\n{score}",
        score.accuracy()
    );
}

#[test]
fn the_sets_hold_at_least_300_messages_of_both_classes() {
    let held_out = score("tests/data/routing_heldout.tsv");
    let tuning = score("tests/data/routing_tuning.tsv");
    assert!(held_out.total + tuning.total >= 300);
    for set in [&held_out, &tuning] {
        let web = set.matrix[0][0] + set.matrix[0][1];
        let chat = set.matrix[1][0] + set.matrix[1][1];
        assert!(web >= 60 && chat >= 60, "{web} web, {chat} chat");
    }
}
