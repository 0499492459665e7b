# Chapter 3, "Everything at once" (and the list of services in Step 8):
# `cargo run -p bookshop`, the whole system as the launcher runs it today,
# every service registering itself; then the registry asked what it knows.
# From an empty data/ and a broker without Bookshop's queues (the launcher
# declares them; RabbitMQ keeps them between runs).

forget_bookshop_queues
per_request='processing request|request_id'
services='identity catalog inventory payments orders storefront gateway notifications'

begin start
start bookshop 'cargo run -p bookshop'
end start
wait_for bookshop 'Press Ctrl-C to stop every service'
# A service is ready (so the launcher moves on) a moment before its
# registration has been answered: wait for every one of them.
for service in $services; do
    wait_for bookshop "registration: registered service=$service " 30
done
until_true "curl -s localhost:8500/v1/services | jq -e '.services | length == 8'"

log bookshop --without "$per_request" >"$SESSION_LOGS/bookshop-started.txt"
begin started
any_order
grep '^\[' "$SESSION_LOGS/bookshop-started.txt" |
    grep -E 'registration: registered|server: listening|through the registry'
end_any_order
grep -v '^\[' "$SESSION_LOGS/bookshop-started.txt"
end started

begin services
show 'curl -s localhost:8500/v1/services'
end services

stop bookshop INT
