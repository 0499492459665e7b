# Chapter 6, "Run it": the whole system with RabbitMQ, a second subscriber
# that is away for a while, two orders and their events; then the same
# system without a broker, and the backlog delivered when it returns.
# One session, in order, from an empty data/ and a broker that has not
# seen Bookshop yet.

forget_bookshop_queues notifications.audit notifications.audit.dead-letter
login='{"username":"demo","password":"bookshop-demo"}'
per_request='processing request|started|finished|request_id'

begin start
start bookshop 'cargo run -p bookshop'
end start
wait_for bookshop 'Press Ctrl-C to stop every service'
wait_for bookshop 'consuming queue=notifications.orders'
wait_for bookshop 'consuming queue=inventory.orders'
wait_for bookshop 'relay connected'
# Services register in the background: wait for every one, so the log and
# the registry's list are complete.
for service in identity catalog inventory payments orders storefront gateway notifications; do
    wait_for bookshop "^\[ *$service\] .*registered service=$service "
done
log bookshop >"$SESSION_LOGS/started.txt"
begin started
any_order
grep '^\[' "$SESSION_LOGS/started.txt" | grep -Ev "$per_request"
end_any_order
grep -v '^\[' "$SESSION_LOGS/started.txt"
end started

begin registry
show 'curl -s localhost:8500/v1/services'
# RabbitMQ lists queues in no fixed order.
any_order
show "rabbitmqctl -q list_queues name messages consumers | grep -E '^(name|notifications|inventory)'"
end_any_order
end registry

begin audit-start
start audit 'NOTIFICATIONS_QUEUE=notifications.audit cargo run -p ch06-messaging --bin notifications -- --listen 127.0.0.1:8007 --database-url sqlite://data/audit.sqlite'
wait_for audit 'consuming queue=notifications.audit'
log audit
end audit-start
stop audit INT
begin audit-stop
log audit
end audit-stop

begin audit-queue
show 'rabbitmqctl -q list_queues name messages consumers | grep notifications | sort'
end audit-queue

begin orders
show "TOKEN=\$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '$login' | jq -r .access_token)"
show "curl -si localhost:8080/api/orders -H \"authorization: Bearer \$TOKEN\" -H 'content-type: application/json' -d '{\"customer\":\"demo\",\"lines\":[{\"book_id\":1,\"quantity\":1}]}'"
show "curl -s localhost:8080/api/orders -H \"authorization: Bearer \$TOKEN\" -H 'content-type: application/json' -d '{\"customer\":\"demo\",\"lines\":[{\"book_id\":23,\"quantity\":1}]}' | jq -c '{id, status, cancel_reason}'"
end orders
# The events travel through the outbox, the relay and the broker.
until_true "curl -s 'localhost:8080/api/notifications?order_id=2' -H \"authorization: Bearer \$TOKEN\" | jq -e '.notifications | length == 2'"

begin notifications
show "curl -s 'localhost:8080/api/notifications?order_id=1' -H \"authorization: Bearer \$TOKEN\" | jq"
show "curl -s 'localhost:8080/api/notifications?order_id=2' -H \"authorization: Bearer \$TOKEN\" | jq -c '.notifications[] | {kind, message}'"
end notifications

begin grace
show "curl -s localhost:8080/api/identity/users -H 'content-type: application/json' -d '{\"username\":\"grace\",\"password\":\"a-long-password-1\"}'"
show "GRACE=\$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '{\"username\":\"grace\",\"password\":\"a-long-password-1\"}' | jq -r .access_token)"
show "curl -s 'localhost:8080/api/notifications?order_id=1' -H \"authorization: Bearer \$GRACE\""
show "curl -si localhost:8080/api/orders/1 -H \"authorization: Bearer \$GRACE\""
show "curl -s localhost:8080/api/orders -H \"authorization: Bearer \$GRACE\" -H 'content-type: application/json' -d '{\"customer\":\"demo\",\"lines\":[{\"book_id\":1,\"quantity\":1}]}' | jq -c"
show "curl -s localhost:8080/api/orders -H \"authorization: Bearer \$GRACE\""
end grace

begin audit-kept
show 'rabbitmqctl -q list_queues name messages consumers | grep notifications | sort'
end audit-kept

begin outbox
show 'sqlite3 data/orders.sqlite "SELECT id, routing_key, sent_at IS NOT NULL FROM outbox"'
show 'sqlite3 -header -column data/orders.sqlite "SELECT id, event_id, routing_key, created_at, sent_at, attempts FROM outbox"'
end outbox

begin envelope
show 'sqlite3 data/orders.sqlite "SELECT envelope FROM outbox WHERE id = 4" | jq'
end envelope

begin audit-back
start audit 'NOTIFICATIONS_QUEUE=notifications.audit cargo run -p ch06-messaging --bin notifications -- --listen 127.0.0.1:8007 --database-url sqlite://data/audit.sqlite'
wait_for audit 'consuming queue=notifications.audit'
log audit
end audit-back
until_true "curl -s 'localhost:8007/v1/notifications?order_id=2' -H 'x-bookshop-user: demo' | jq -e '.notifications | length == 2'"

begin audit-caught-up
show "curl -s 'localhost:8007/v1/notifications?order_id=2' -H 'x-bookshop-user: demo' | jq -c '.notifications[] | {kind, created_at}'"
show 'rabbitmqctl -q list_queues name messages consumers | grep notifications | sort'
end audit-caught-up

stop audit INT
stop bookshop INT
# Not "$per_request": its "finished" would drop "stopped: every in-flight
# request has finished".
begin stopped
log bookshop --grep 'stopping every service|^\[notifications\]' --without 'request_id'
end stopped

# Without a broker: a port where nothing listens, and an empty data/ again.
quietly 'rm -r data'
begin no-broker-start
start bookshop 'AMQP_ADDR=amqp://guest:guest@127.0.0.1:5999/%2f cargo run -p bookshop'
end no-broker-start
wait_for bookshop 'Press Ctrl-C to stop every service'
# Read without `log`, which would mark every line so far as shown: the
# warnings below are the first ones of this run, whenever the banner came.
begin no-broker-says
grep -E '^bookshop: RabbitMQ' "$SESSION_LOGS/bookshop.log"
end no-broker-says
# Two warnings of each: the waits are random (jittered), so count them.
wait_for_count bookshop 'notifications.*consumer disconnected' 2
wait_for_count bookshop 'inventory.*consumer disconnected' 2
wait_for_count bookshop 'relay is not publishing' 2
begin backing-off
any_order
log bookshop --grep 'WARN' | awk 'match($0, /^\[[^]]*\]/) { key = substr($0, RSTART, RLENGTH); if (seen[key]++ < 2) print }'
end_any_order
end backing-off

begin no-broker-orders
show "TOKEN=\$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '$login' | jq -r .access_token)"
show "curl -s localhost:8080/api/orders -H \"authorization: Bearer \$TOKEN\" -H 'content-type: application/json' -d '{\"customer\":\"demo\",\"lines\":[{\"book_id\":1,\"quantity\":1}]}' | jq -c '{id, status}'"
show "curl -s localhost:8080/api/orders -H \"authorization: Bearer \$TOKEN\" -H 'content-type: application/json' -d '{\"customer\":\"demo\",\"lines\":[{\"book_id\":4,\"quantity\":2}]}' | jq -c '{id, status}'"
end no-broker-orders

begin waiting
show 'sqlite3 data/orders.sqlite "SELECT id, routing_key, sent_at IS NOT NULL FROM outbox"'
end waiting
wait_for bookshop 'relay is not publishing.*waiting=4' 30
begin relay-counts
log bookshop --grep 'relay is not publishing.*waiting=4' | head -n 1
end relay-counts

begin not-ready
show 'curl -si localhost:8006/health/ready'
show "curl -s 'localhost:8080/api/notifications?order_id=1' -H \"authorization: Bearer \$TOKEN\""
end not-ready

stop bookshop INT
begin broker-back-start
start bookshop 'cargo run -p bookshop'
end broker-back-start
wait_for bookshop 'Press Ctrl-C to stop every service'
wait_for bookshop 'relay connected'
wait_for bookshop 'consuming queue=notifications.orders'
until_true "sqlite3 data/orders.sqlite 'SELECT count(*) FROM outbox WHERE sent_at IS NULL' | grep -qx 0"
# The relay connects in the background, maybe after notifications starts.
begin broker-back
any_order
log bookshop --grep '^\[ *(orders|notifications)\].*(listening|relay connected|consuming)'
end_any_order
end broker-back

# identity made a new signing key when it restarted: the old token is refused.
begin delivered
show "TOKEN=\$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '$login' | jq -r .access_token)"
until_true "curl -s 'localhost:8080/api/notifications?order_id=2' -H \"authorization: Bearer \$TOKEN\" | jq -e '.notifications | length == 2'"
show 'sqlite3 data/orders.sqlite "SELECT id, routing_key, sent_at IS NOT NULL FROM outbox"'
show "curl -s 'localhost:8080/api/notifications?order_id=2' -H \"authorization: Bearer \$TOKEN\" | jq -c '.notifications[] | {event_id, kind, message}'"
show 'rabbitmqctl -q list_queues name messages consumers | grep notifications | sort'
end delivered

begin cleanup
show 'rabbitmqctl delete_queue notifications.audit'
show 'rabbitmqctl delete_queue notifications.audit.dead-letter'
end cleanup
stop bookshop INT
