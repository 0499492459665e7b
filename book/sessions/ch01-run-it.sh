# Chapter 1, "Run it": one catalog on 8002 from an empty data/, the API
# and its problems through curl, a second instance on 8103 with JSON logs
# that shares data/catalog.sqlite, and the first stopped with SIGTERM.
# Then (section "What can go wrong") the first restarted on the same file,
# and a page of 1000 asked for.

start catalog 'cargo run -p ch01-autonomy --bin catalog'
wait_for catalog 'listening addr=127\.0\.0\.1:8002'
begin listening
log catalog --grep 'ch01_autonomy'
end listening

begin first-page
show 'curl -s "localhost:8002/v1/books?limit=2" | jq'
end first-page

begin filters
show "curl -s \"localhost:8002/v1/books?author=newman\" | jq -c '{total, titles: [.books[].title]}'"
show "curl -s \"localhost:8002/v1/books?q=rust&limit=2\" | jq -c '{total, limit, titles: [.books[].title]}'"
end filters

begin one-book
show 'curl -s localhost:8002/v1/books/3 | jq'
end one-book

begin create
show "curl -si localhost:8002/v1/books -H 'content-type: application/json' -d '{\"title\": \"Rust in Action\", \"author\": \"Tim McNamara\", \"published_year\": 2021, \"price_cents\": 4999}'"
end create
wait_for catalog 'book created'
begin created-log
log catalog --grep 'book created'
end created-log

begin own-request-id
show "curl -si -H 'x-request-id: trace-me-42' localhost:8002/v1/books/1 | grep -i x-request-id"
end own-request-id

begin negative-price
show "curl -s localhost:8002/v1/books -H 'content-type: application/json' -d '{\"title\": \"Cheap\", \"author\": \"A. Writer\", \"price_cents\": -100}' | jq"
end negative-price

begin broken-json
show "curl -s localhost:8002/v1/books -H 'content-type: application/json' -d '{\"title\": \"Oops\", ' | jq"
end broken-json

begin wrong-media-type
show "curl -si localhost:8002/v1/books -H 'content-type: text/plain' -d 'Rust in Action by Tim McNamara'"
end wrong-media-type

begin not-found
show 'curl -s localhost:8002/v1/books/999 | jq'
end not-found

begin health
show 'curl -s localhost:8002/health/ready | jq -c'
show 'curl -s localhost:8002/health/live | jq -c'
end health

# A second instance, the same database.
start second 'LOG_FORMAT=json cargo run -p ch01-autonomy --bin catalog -- --listen 127.0.0.1:8103 --database-url sqlite://data/catalog.sqlite'
wait_for second '"message":"listening"'
begin second-listening
log second --grep 'ch01_autonomy'
end second-listening

begin shared
show 'curl -s localhost:8103/v1/books/25 | jq -c'
show "curl -s localhost:8103/v1/books -H 'content-type: application/json' -d '{\"title\": \"Hands-on Rust\", \"author\": \"Herbert Wolverson\", \"published_year\": 2021, \"price_cents\": 4499}' | jq -c"
show 'curl -s localhost:8002/v1/books/26 | jq -c'
show "curl -s localhost:8103/v1/books | jq -c '{total}'"
show "curl -s localhost:8002/v1/books | jq -c '{total}'"
end shared

# Ctrl-C for the second, `kill` (SIGTERM) for the first.
stop second INT
stop catalog TERM
begin sigterm
log catalog --grep 'ch01_autonomy::server'
end sigterm

# "What can go wrong": the first instance again, on the same file.
start_quietly catalog 'cargo run -p ch01-autonomy --bin catalog'
wait_for catalog 'listening addr=127\.0\.0\.1:8002'
begin page-cap
show "curl -s \"localhost:8002/v1/books?limit=1000\" | jq -c '{total, limit, returned: (.books | length)}'"
end page-cap
stop catalog INT
