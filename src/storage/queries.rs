//! Every SQL text the Worker sends to D1, by name, in one list: what
//! `tests/integration/plans.test.mjs` runs `EXPLAIN QUERY PLAN` on (from the checked-in
//! copy `tests/integration/d1-queries.json`). The tests below keep the two in step and
//! check that every `prepare` (and every `run`) in `src/` is given one of these consts,
//! so a new D1 query cannot escape the plan check. The room log's SQL (Durable Object
//! SQLite, not D1) is not here.

use super::catalog::{dms, names, rooms};
use super::{history, message, quotas, room_writes};

/// `(name, sql)` of every D1 query; the name is the const's path under `storage`.
pub const D1_QUERIES: &[(&str, &str)] = &[
    ("history::AUDIT", history::AUDIT),
    ("history::SEARCH", history::SEARCH),
    ("history::SEARCH_ROOM", history::SEARCH_ROOM),
    ("message::D1_PAGE_NEWEST", message::D1_PAGE_NEWEST),
    ("message::D1_PAGE_BEFORE", message::D1_PAGE_BEFORE),
    ("message::D1_PAGE_AFTER", message::D1_PAGE_AFTER),
    ("message::D1_REPLIES", message::D1_REPLIES),
    ("message::UPSERT_FROM_JSON", message::UPSERT_FROM_JSON),
    ("room_writes::ROOM_SUMMARY", room_writes::ROOM_SUMMARY),
    ("room_writes::AUDIT", room_writes::AUDIT),
    ("room_writes::READ", room_writes::READ),
    ("room_writes::SET_ONLINE", room_writes::SET_ONLINE),
    ("quotas::FORGET_OLD", quotas::FORGET_OLD),
    ("quotas::COUNT_USE", quotas::COUNT_USE),
    ("quotas::GIVE_BACK", quotas::GIVE_BACK),
    ("catalog::rooms::ROOM", rooms::ROOM),
    ("catalog::rooms::CREATE", rooms::CREATE),
    ("catalog::rooms::MADE_BEFORE", rooms::MADE_BEFORE),
    ("catalog::rooms::RETITLE", rooms::RETITLE),
    ("catalog::rooms::ROOMS_PART", rooms::ROOMS_PART),
    ("catalog::dms::IS_PARTY", dms::IS_PARTY),
    ("catalog::dms::OPEN", dms::OPEN),
    ("catalog::dms::LIST", dms::LIST),
    ("catalog::dms::LEAVE", dms::LEAVE),
    ("catalog::names::LOOKUP", names::LOOKUP),
    ("catalog::names::LOOKUP_TOKEN", names::LOOKUP_TOKEN),
    ("catalog::names::TOUCH", names::TOUCH),
    ("catalog::names::UNSKELETONED", names::UNSKELETONED),
    ("catalog::names::SET_SKELETONS", names::SET_SKELETONS),
    ("catalog::names::LOOK_ALIKE", names::LOOK_ALIKE),
    ("catalog::names::CLAIM", names::CLAIM),
    ("catalog::names::FORGET_KEY", names::FORGET_KEY),
    ("catalog::names::FORGET_PENDING", names::FORGET_PENDING),
    ("catalog::names::RELEASE", names::RELEASE),
];

/// The list as `tests/integration/d1-queries.json` holds it: `[{"name", "sql"}]`, with
/// each SQL text's runs of white space made one space.
pub fn as_json() -> String {
    let list: Vec<serde_json::Value> = D1_QUERIES
        .iter()
        .map(|(name, sql)| {
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            serde_json::json!({ "name": name, "sql": sql })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    const JSON: &str = "tests/integration/d1-queries.json";

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// `EDGECHAT_WRITE_QUERIES=1 cargo test -p edgechat d1_queries` rewrites the copy.
    #[test]
    fn the_json_copy_is_the_list() {
        let path = root().join(JSON);
        if std::env::var_os("EDGECHAT_WRITE_QUERIES").is_some() {
            std::fs::write(&path, as_json()).unwrap();
        }
        let copy = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            copy == as_json(),
            "{JSON} is not the list of D1 queries: run EDGECHAT_WRITE_QUERIES=1 cargo test \
             -p edgechat the_json_copy_is_the_list"
        );
        let mut names: Vec<&str> = D1_QUERIES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), D1_QUERIES.len(), "a name is listed twice");
    }

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The identifier that follows `at` in `text` (after white space), if it is one.
    fn ident_after(text: &str, at: usize) -> Option<&str> {
        let rest = text[at..].trim_start();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    }

    /// Every `.prepare(X` and `run(db, X` in `src/` names a listed const (the only other
    /// argument allowed is `query`, inside `storage::run` itself).
    #[test]
    fn every_d1_statement_is_a_listed_const() {
        let listed: Vec<&str> = D1_QUERIES
            .iter()
            .map(|(n, _)| n.rsplit("::").next().unwrap_or(n))
            .collect();
        let mut files = Vec::new();
        sources(&root().join("src"), &mut files);
        let mut seen = 0;
        for file in files
            .into_iter()
            .filter(|f| !f.ends_with("src/storage/queries.rs"))
        {
            let text = std::fs::read_to_string(&file).unwrap();
            let shown = file.display();
            let mut places: Vec<usize> = text
                .match_indices(".prepare(")
                .map(|(i, m)| i + m.len())
                .collect();
            for (i, m) in text.match_indices("run(") {
                let before = text[..i].chars().last();
                let rest = text[i + m.len()..].trim_start();
                if before.is_some_and(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '.')
                    && rest.starts_with("db,")
                {
                    places.push(text.len() - rest.len() + "db,".len());
                }
            }
            for at in places {
                let arg = ident_after(&text, at).unwrap_or("(not a name)");
                let name = arg.rsplit("::").next().unwrap_or(arg);
                let allowed = listed.contains(&name)
                    || (name == "query" && file.ends_with("src/storage/mod.rs"));
                assert!(
                    allowed,
                    "{shown}: a D1 statement is given {arg}: make its SQL a const listed \
                     in storage::queries::D1_QUERIES"
                );
                seen += 1;
            }
        }
        assert!(seen >= D1_QUERIES.len(), "only {seen} statements found");
    }
}
