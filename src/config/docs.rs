//! The operator documentation generated from the key specs: the README's key
//! table and `config.ini.example`. `tests/config_docs.rs` checks both files
//! against these (and rewrites them when `DUET_UPDATE_DOCS=1`).

use std::fmt::Write;

use super::schema::SECTION_SPECS;
use super::spec::{KeySpec, ReloadClass};

/// The README lines that enclose the generated table.
pub const TABLE_START: &str =
    "<!-- config-table: generated from the key specs in src/config/ (tests/config_docs.rs) -->";
pub const TABLE_END: &str = "<!-- end config-table -->";

const EXAMPLE_HEADER: &str = "\
# duet configuration. Copy to config.ini and edit; every key is optional
# except a Discord token (for `duet run`) and at least one provider key.
# Every key can also be set by an environment variable of the same name,
# which wins over this file (secrets usually come from the environment).
# Lines starting with # or ; are comments. Values are taken literally.
# Each key is shown with its default, what it accepts and when a change
# takes effect (a reload: SIGHUP or saving the file).
";

fn reload_phrase(class: ReloadClass) -> &'static str {
    match class {
        ReloadClass::Live => "applies on reload",
        ReloadClass::RebuildProviders => "a reload rebuilds the provider clients",
        ReloadClass::Restart => "needs a restart",
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn default_cell(spec: &KeySpec) -> String {
    if spec.default.is_empty() {
        "—".to_string()
    } else {
        format!("`{}`", spec.default)
    }
}

/// The Markdown between [`TABLE_START`] and [`TABLE_END`], markers included.
pub fn readme_table() -> String {
    let mut out = format!("{TABLE_START}\n");
    for section in SECTION_SPECS {
        let _ = writeln!(out, "**[{}]** {}\n", section.name, section.doc);
        out.push_str("| Key | Default | Accepts | Reload | Meaning |\n|---|---|---|---|---|\n");
        for spec in section.keys {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                spec.key,
                cell(&default_cell(spec)),
                cell(&spec.kind.describe()),
                spec.reload.as_str(),
                cell(spec.doc)
            );
        }
        out.push('\n');
    }
    out.push_str(TABLE_END);
    out
}

/// The whole of `config.ini.example`.
pub fn example_ini() -> String {
    let mut out = EXAMPLE_HEADER.to_string();
    for section in SECTION_SPECS {
        let _ = write!(out, "\n[{}]\n# {}\n", section.name, section.doc);
        for spec in section.keys {
            let _ = writeln!(out, "\n# {}", spec.doc);
            let _ = writeln!(
                out,
                "# Accepts: {}; {}.",
                spec.kind.describe(),
                reload_phrase(spec.reload)
            );
            let _ = writeln!(out, "{} = {}", spec.key, spec.default);
        }
    }
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `readme` with its generated table replaced by the current one; `None`
/// when the markers are missing.
pub fn with_current_table(readme: &str) -> Option<String> {
    let start = readme.find("<!-- config-table")?;
    let end = readme[start..].find(TABLE_END)? + start + TABLE_END.len();
    Some(format!(
        "{}{}{}",
        &readme[..start],
        readme_table(),
        &readme[end..]
    ))
}
