use ex02_tolerant_reader::{CatalogBook, parse_book};

#[test]
fn reads_todays_catalog() {
    let book =
        parse_book(r#"{"id": 1, "title": "T", "author": "A", "price_cents": 3999}"#).unwrap();
    assert_eq!(
        book,
        CatalogBook {
            id: 1,
            title: "T".to_owned(),
            price_cents: 3999
        }
    );
}

#[test]
fn reads_tomorrows_catalog_with_new_fields() {
    let body = r#"{"id": 2, "title": "T", "author": "A", "price_cents": 10,
                   "isbn": "978-0000000000", "formats": ["ebook"], "rating": {"stars": 4.5}}"#;
    assert_eq!(parse_book(body).unwrap().price_cents, 10);
}

#[test]
fn a_missing_price_is_an_error_that_names_it() {
    let err = parse_book(r#"{"id": 3, "title": "T"}"#).unwrap_err();
    assert!(err.contains("price_cents"), "{err}");
}
