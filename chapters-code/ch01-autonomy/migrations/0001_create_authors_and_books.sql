-- The catalog owns these tables. No other service reads or writes them:
-- other services ask the catalog over HTTP instead.
CREATE TABLE authors (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE books (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    title          TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    author_id      INTEGER NOT NULL REFERENCES authors (id),
    published_year INTEGER,
    price_cents    INTEGER NOT NULL CHECK (price_cents > 0)
);

CREATE INDEX books_author_id ON books (author_id);
