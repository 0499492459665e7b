-- The identity service owns its users. Passwords are stored only as
-- Argon2id hashes in PHC string form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
