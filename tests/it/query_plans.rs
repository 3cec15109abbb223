//! The statements of the customer pages use an index on both stores: `EXPLAIN QUERY PLAN`
//! (SQLite) and `EXPLAIN` with sequential scans priced out (PostgreSQL) must not show a full scan
//! of a table that grows with use.

use kasse::db::Db;

/// Hot statements of the page paths, with literals where the code binds values.
const STATEMENTS: [(&str, &str); 4] = [
    ("the signer's last view", "SELECT MAX(at) FROM contract_events WHERE signer_id = 'sgn_x' AND kind = 'VIEWED'"),
    ("a checkout page", "SELECT id FROM checkout_sessions WHERE token = 'abc'"),
    ("a signing page", "SELECT id FROM contract_signers WHERE token = 'abc'"),
    ("a contract's events", "SELECT id FROM contract_events WHERE contract_id = 'ctr_x' ORDER BY id"),
];

/// The plan of `sql`, one line per step.
async fn plan(db: &Db, sql: &str) -> Vec<String> {
    match db {
        Db::Sqlite(pool) => {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(pool).await.unwrap();
            rows.into_iter().map(|r| r.3).collect()
        }
        Db::Postgres(pool) => {
            // On a small test table a sequential scan is cheapest; priced out, one shows only
            // where no index can serve the statement.
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await.unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {sql}")).fetch_all(&mut *tx).await.unwrap();
            rows.into_iter().map(|r| r.0).collect()
        }
    }
}

/// Whether a plan line reads a whole table (an index search is fine). SQLite's "automatic"
/// index is built by reading the whole table for the one statement, so it counts as a scan.
fn full_scan(line: &str) -> bool {
    let sqlite_scan = line.starts_with("SCAN ") && !line.contains("USING INDEX") && !line.contains("COVERING INDEX");
    let sqlite_search = line.starts_with("SEARCH ") && (!line.contains(" USING ") || line.contains("AUTOMATIC"));
    sqlite_scan || sqlite_search || line.contains("Seq Scan")
}

on_both_stores! {
    async fn the_page_statements_search_an_index_instead_of_scanning_a_table(app) {
        for (what, sql) in STATEMENTS {
            let lines = plan(&app.db, sql).await;
            assert!(!lines.is_empty(), "{what}: no plan");
            assert!(!lines.iter().any(|l| full_scan(l.trim())), "{what} scans a table:\n{}", lines.join("\n"));
        }
    }
}

#[test]
fn a_scan_is_told_from_a_search() {
    assert!(full_scan("SCAN contract_events"));
    assert!(full_scan("  ->  Seq Scan on contract_events  (cost=10000000000.00..1.1 rows=1 width=32)"));
    assert!(!full_scan(
        "SEARCH contract_events USING COVERING INDEX contract_events_signer_kind (signer_id=? AND kind=?)"
    ));
    assert!(full_scan("SEARCH contract_events USING AUTOMATIC COVERING INDEX (signer_id=? AND kind=?)"));
    assert!(full_scan("SEARCH contract_events"));
    assert!(!full_scan("Index Only Scan using contract_events_signer_kind on contract_events"));
}
