# Chapter 5, "Everything at once": `cargo run -p bookshop`, from an empty
# data/, and two orders through the gateway (one confirmed, one sold out).
#
# The launcher runs the system as it is today, with chapter 6's
# notifications and RabbitMQ: the page shows the lines of the services
# chapter 5 knows and leaves the notifications service out of the banner.
# The launcher's queues are cleared first (RabbitMQ keeps them between
# runs), as chapter 6's session does.

forget_bookshop_queues


chapter5='registry|identity|catalog|inventory|payments|orders|gateway'
later='notifications|storefront'

start bookshop 'cargo run -p bookshop'
wait_for bookshop 'Press Ctrl-C to stop every service'
# A service is ready (so the launcher moves on) a moment before its
# registration has been answered: wait for every one of them.
for service in identity catalog inventory payments orders gateway; do
    wait_for bookshop "^\[ *$service\] .*registered service=$service " 30
done

# One read of the log, split in two: the services' lines (in any order,
# as they start and register), then the launcher's banner.
started="$SESSION_LOGS/started.txt"
log bookshop >"$started"
begin started
any_order
grep -E "^\[ *($chapter5)\] .*(listening addr=|registered service=|created the demo user|finds )" "$started" |
    grep -Ev 'request_id|processing request' || true
end_any_order
echo
grep -Ev '^\[' "$started" | grep -Ev "^  ($later) " | sed -n '/^Bookshop is running:/,/^Press Ctrl-C/p'
end started

begin orders
typed <<'EOF'
TOKEN=$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '{"username":"demo","password":"bookshop-demo"}' | jq -r .access_token)
EOF
typed <<'EOF'
curl -si localhost:8080/api/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"customer":"demo","lines":[{"book_id":3,"quantity":1}]}'
EOF
typed <<'EOF'
curl -s localhost:8080/api/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"customer":"demo","lines":[{"book_id":23,"quantity":1}]}' | jq -c '{id, status, cancel_reason}'
EOF
end orders

# "Ctrl-C stops everything."
stop bookshop INT
