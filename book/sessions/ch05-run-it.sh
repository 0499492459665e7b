# Chapter 5, "Run it": chapter 2's catalog and chapter 5's inventory,
# payments and orders, each in a terminal of its own, from an empty data/.
# A confirmed order, a sold-out one, a declined one (payments restarted
# with --failure-rate 1.0), one placed while payments is down and finished
# by the sweeper once payments is back; then the contracts, the docs, the
# two versions of a charge and the tombstone. One session, in order.


# seen NAME 'extended regex' N: NAME's log has at least N matching lines.
seen() {
    [ "$(grep -Ec -- "$2" "$SESSION_LOGS/$1.log")" -ge "$3" ]
}

# without_request_fields: the request span's fields (method, uri and the
# request id, which the compact format appends to every line logged inside
# a request) left out, as the book says.
without_request_fields() {
    sed -E 's/ method=[A-Z]+ uri=[^ ]+ request_id=[^ ]+$//'
}

# Log lines of the services themselves, not cargo's (downloads, warnings).
service_lines=' (INFO|WARN|ERROR) '

start catalog 'cargo run -p ch02-communication --bin catalog-grpc'
wait_for catalog 'listening addr=127\.0\.0\.1:8002'
start inventory 'cargo run -p ch05-soa --bin inventory'
wait_for inventory 'listening addr=127\.0\.0\.1:8004'
start payments 'cargo run -p ch05-soa --bin payments'
wait_for payments 'listening addr=127\.0\.0\.1:8005'
start orders 'cargo run -p ch05-soa --bin ch05-orders'
wait_for orders 'listening addr=127\.0\.0\.1:8003'

# Terminal by terminal.
begin started
log catalog --grep "$service_lines"
log inventory --grep "$service_lines"
log payments --grep "$service_lines"
log orders --grep "$service_lines"
end started

# A confirmed order.
begin confirmed
show 'curl -s localhost:8004/v1/stock/1'
typed <<'EOF'
curl -si localhost:8003/v1/orders -H 'x-bookshop-user: ada' -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 1, "quantity": 2}, {"book_id": 4, "quantity": 1}]}'
EOF
end confirmed

begin confirmed-elsewhere
show 'curl -s localhost:8004/v1/stock/1'
show 'curl -s localhost:8004/v1/reservations/1'
show 'curl -s localhost:8005/v1/payments/1'
end confirmed-elsewhere

wait_for orders 'finished processing request' 10
begin confirmed-log
log orders --grep 'saga step order_id=1 |finished processing request' | without_request_fields
end confirmed-log

# Sold out.
begin sold-out
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'x-bookshop-user: ada' -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 2, "quantity": 1}, {"book_id": 23, "quantity": 1}]}' | jq
EOF
end sold-out

begin tombstones
show 'curl -s localhost:8004/v1/stock/2'
show 'curl -s localhost:8005/v1/payments/2'
show 'curl -s localhost:8004/v1/reservations/2'
end tombstones

# Declined: payments stopped with Ctrl-C, and a bank that declines all.
stop payments INT
start payments 'cargo run -p ch05-soa --bin payments -- --failure-rate 1.0'
wait_for payments 'listening addr=127\.0\.0\.1:8005'

begin declined
show 'curl -s localhost:8004/v1/stock/5'
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'x-bookshop-user: ada' -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 5, "quantity": 3}]}' | jq -c '{id, status, total_cents, cancel_reason}'
EOF
show 'curl -s localhost:8004/v1/stock/5'
show 'curl -s localhost:8004/v1/reservations/3'
show 'curl -s localhost:8005/v1/payments/3'
end declined

begin declined-log
log orders --grep 'saga step order_id=3 ' | without_request_fields
end declined-log

# Payments down altogether.
stop payments INT

begin payments-down
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'x-bookshop-user: ada' -H 'content-type: application/json' -d '{"customer": "ada", "lines": [{"book_id": 6, "quantity": 1}]}' | jq -c '{id, status, total_cents}'
EOF
show 'curl -s localhost:8004/v1/stock/6'
end payments-down

# The request's own attempt, then two of the sweeper's (no request span).
sweeper_retry=' WARN ch05_soa::orders::saga: saga step will be retried order_id=4 '
until_true "seen orders '$sweeper_retry' 2" 20
begin retrying
log orders --grep ' WARN .*order_id=4 ' | without_request_fields | head -n 4
end retrying

# "Start payments again", well within the 30-second deadline.
start payments 'cargo run -p ch05-soa --bin payments'
wait_for payments 'listening addr=127\.0\.0\.1:8005'
wait_for orders 'sweeper finished sagas' 20
begin recovered
log orders --grep 'saga step order_id=4 |sweeper finished sagas'
end recovered

begin order-4
typed <<'EOF'
curl -s localhost:8003/v1/orders/4 -H 'x-bookshop-user: ada' | jq -c '{id, status}'
EOF
end order-4

begin ada-orders
typed <<'EOF'
curl -s localhost:8003/v1/orders -H 'x-bookshop-user: ada' | jq -c '.orders[] | {id, status, cancel_reason}'
EOF
end ada-orders

# The contracts, and the versions.
begin payments-contract
typed <<'EOF'
curl -s localhost:8005/openapi.json | jq '{openapi, info, paths: (.paths | keys)}'
EOF
typed <<'EOF'
curl -s localhost:8005/openapi.json | jq -c '.paths["/v1/payments"].post | {deprecated, responses: (.responses|keys)}'
EOF
end payments-contract

begin docs
typed <<'EOF'
curl -s -o /dev/null -w '%{http_code} %{content_type} %{size_download}\n' localhost:8004/docs/
EOF
typed <<'EOF'
curl -s -o /dev/null -w '%{http_code} %{content_type} %{size_download} bytes\n' localhost:8004/docs/swagger-ui-bundle.js
EOF
end docs

begin v1
typed <<'EOF'
curl -si localhost:8005/v1/payments -H 'content-type: application/json' -d '{"order_id": "demo-1", "amount_cents": 3999}'
EOF
end v1

begin v2
typed <<'EOF'
curl -si localhost:8005/v2/payments -H 'content-type: application/json' -d '{"order_id": "demo-2", "amount": {"cents": 3999, "currency": "EUR"}}'
EOF
typed <<'EOF'
curl -s localhost:8005/v2/payments -H 'content-type: application/json' -d '{"order_id": "demo-3", "amount": {"cents": 3999, "currency": "USD"}}' | jq
EOF
end v2

begin tombstone
show 'curl -s -XPOST localhost:8005/v1/payments/late-1/refund'
typed <<'EOF'
curl -s localhost:8005/v1/payments -H 'content-type: application/json' -d '{"order_id": "late-1", "amount_cents": 3999}' | jq
EOF
typed <<'EOF'
curl -s localhost:8005/v1/payments -H 'content-type: application/json' -d '{"order_id": "demo-1", "amount_cents": 3999}'
EOF
end tombstone

# "Stop the four services with Ctrl-C."
stop orders INT
stop payments INT
stop inventory INT
stop catalog INT
