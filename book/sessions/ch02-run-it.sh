# Chapter 2, "Run it": catalog-grpc and orders in two terminals, from an
# empty data/. Orders priced over HTTP, one idempotency key sent twice and
# then reused for another body, an unknown book, a bad quantity; then the
# catalog stopped (refused at once) and hung (a socket that never answers:
# the 2 s budget); then orders again, over gRPC. One session, in order.


# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The hung catalog runs in this shell, as the reader's `&` does; it goes
# with everything else if the session stops early.
hung_catalog=''
trap '[ -n "$hung_catalog" ] && kill "$hung_catalog" 2>/dev/null; stop_everything' EXIT

# Log lines of the services themselves, not cargo's (downloads, warnings).
service_lines=' (INFO|WARN|ERROR) '

start catalog 'cargo run -p ch02-communication --bin catalog-grpc'
wait_for catalog 'listening addr=127.0.0.1:8002'
begin catalog-started
log catalog --grep "$service_lines"
end catalog-started

start orders 'cargo run -p ch02-communication --bin orders'
wait_for orders 'listening addr=127.0.0.1:8003'
begin orders-started
log orders --grep "$service_lines"
end orders-started

begin first-order
typed <<'EOF'
curl -i localhost:8003/v1/orders -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 1, "quantity": 2}, {"book_id": 3, "quantity": 1}]}'
EOF
end first-order
wait_for catalog 'uri=/v1/books/1 ' 10
wait_for catalog 'uri=/v1/books/3 ' 10
begin lookups
any_order
log catalog --grep 'finished processing request'
end_any_order
end lookups

begin read-back
typed <<'EOF'
curl -s localhost:8003/v1/orders/1 | jq -c '{id, status, total_cents, lines: [.lines[] | {title, unit_price_cents, quantity}]}'
EOF
end read-back

begin same-key
typed <<'EOF'
curl -i localhost:8003/v1/orders -H 'content-type: application/json' -H 'Idempotency-Key: ada-2026-11-28-001' -d '{"customer": "ada", "lines": [{"book_id": 5, "quantity": 1}]}'
EOF
typed <<'EOF'
curl -i localhost:8003/v1/orders -H 'content-type: application/json' -H 'Idempotency-Key: ada-2026-11-28-001' -d '{"customer": "ada", "lines": [{"book_id": 5, "quantity": 1}]}'
EOF
end same-key
# The book says the replay asked the catalog nothing: one lookup of book 5.
if [ "$(grep -c 'uri=/v1/books/5 ' "$SESSION_LOGS/catalog.log")" -ne 1 ]; then
    echo "session: the replay looked book 5 up in the catalog again" >&2
    exit 1
fi

begin key-reused
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'content-type: application/json' -H 'Idempotency-Key: ada-2026-11-28-001' -d '{"customer": "ada", "lines": [{"book_id": 5, "quantity": 3}]}' | jq
EOF
end key-reused

begin ada-orders
typed <<'EOF'
curl -s 'localhost:8003/v1/orders?customer=ada' | jq -c '[.orders[] | {id, total_cents}]'
EOF
end ada-orders

begin unknown-book
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 1, "quantity": 1}, {"book_id": 9999, "quantity": 1}]}' | jq
EOF
end unknown-book

begin bad-quantity
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 1, "quantity": 0}]}' | jq -c '.errors'
EOF
end bad-quantity

# "Stop the catalog with Ctrl-C."
stop catalog INT
begin catalog-down
typed <<'EOF'
curl -si localhost:8003/v1/orders -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 1, "quantity": 1}]}'
EOF
end catalog-down

begin still-works
typed <<'EOF'
curl -s -o /dev/null -w '%{http_code} %header{idempotent-replayed}\n' localhost:8003/v1/orders -H 'content-type: application/json' -H 'Idempotency-Key: ada-2026-11-28-001' -d '{"customer": "ada", "lines": [{"book_id": 5, "quantity": 1}]}'
EOF
show 'curl -s localhost:8003/health/ready'
end still-works

begin hung
typed <<'EOF'
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',8002)); s.listen(); time.sleep(600)" &
EOF
hung_catalog=$!
# A reader types the next command after Python has started; wait as long.
until_true 'port_open 8002'
typed <<'EOF'
curl -s -o /dev/null -w '%{http_code} after %{time_total} s, Retry-After: %header{retry-after}\n' localhost:8003/v1/orders -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 1, "quantity": 1}, {"book_id": 2, "quantity": 1}, {"book_id": 3, "quantity": 1}]}'
EOF
end hung
# "Stop it with kill %1."
quietly "kill $hung_catalog"
quietly "wait $hung_catalog"
hung_catalog=''
until_true '! port_open 8002'

# "Start the catalog again, and restart orders with one more flag."
start catalog 'cargo run -p ch02-communication --bin catalog-grpc'
wait_for catalog 'listening addr=127.0.0.1:8002'
stop orders INT
start orders 'cargo run -p ch02-communication --bin orders -- --catalog-protocol grpc'
wait_for orders 'listening addr=127.0.0.1:8003'
begin orders-grpc
log orders --grep 'asks the catalog for prices'
end orders-grpc

begin grpc-order
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'content-type: application/json' -d '{"customer": "grace", "lines": [{"book_id": 4, "quantity": 1}, {"book_id": 6, "quantity": 2}]}' | jq -c '{id, total_cents, titles: [.lines[].title]}'
EOF
end grpc-order
# The book says: two books, one call to GetPrices.
wait_for catalog 'Catalog/GetPrices' 10
if [ "$(grep -c 'finished processing request' "$SESSION_LOGS/catalog.log")" -ne 1 ]; then
    echo "session: over gRPC, the catalog should have answered exactly one request" >&2
    exit 1
fi

# "Stop both services with Ctrl-C."
stop orders INT
stop catalog INT
