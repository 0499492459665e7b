//! The `catalog` binary as a real process: configured by flags, ready when
//! it says so, and stopped cleanly by SIGTERM.

use std::time::Duration;

use ch01_autonomy::catalog::http::BookList;
use testkit::{ServiceProcess, TempDb};

const CATALOG: &str = env!("CARGO_BIN_EXE_catalog");

#[tokio::test]
async fn the_binary_serves_books_and_stops_on_sigterm() {
    let db = TempDb::new();
    let mut catalog = ServiceProcess::builder(CATALOG)
        .args(["--listen", "127.0.0.1:0"])
        .env("CATALOG_DATABASE_URL", db.url())
        .spawn()
        .await
        .expect("the catalog starts");

    let page: BookList = reqwest::get(catalog.url("/v1/books?limit=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page.books.len(), 1);
    assert!(db.path().exists(), "the catalog created its own database");

    let status = catalog.terminate(Duration::from_secs(10)).await.unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(catalog.logs().iter().any(|line| line.contains("stopped")));
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let db = TempDb::new();
    let output = tokio::process::Command::new(CATALOG)
        .args(["--listen", &addr.to_string(), "--database-url", &db.url()])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&addr.to_string()), "{stderr}");
    assert!(stderr.contains("--listen"), "{stderr}");
}
