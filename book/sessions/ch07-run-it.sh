# Chapter 7, "Run it": Bookshop with two catalogs and a per-request log,
# one order followed by its request id through every service, and what
# the services now tell an operator: the registry's list of scrape
# targets and a service's /metrics.

forget_bookshop_queues
login='{"username":"demo","password":"bookshop-demo"}'

begin start
start bookshop 'RUST_LOG=info,sqlx=warn,tower_http=warn cargo run -p bookshop -- --scale catalog=2'
end start
wait_for bookshop 'Press Ctrl-C to stop every service'
wait_for bookshop 'consuming queue=notifications.orders'
wait_for bookshop 'relay connected'
for service in identity inventory payments orders storefront gateway notifications; do
    wait_for bookshop "^\[ *$service\] .*registered service=$service " 30
done
# Both catalogs log as [catalog]: wait for two registrations.
until_true "[ \$(grep -c 'registered service=catalog ' '$SESSION_LOGS/bookshop.log') -ge 2 ]"
quietly 'log bookshop'

begin targets
any_order
show "curl -s localhost:8500/v1/prometheus/targets | jq -c '.[] | {service: .labels.service, targets}'"
end_any_order
end targets

begin order
show "TOKEN=\$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '$login' | jq -r .access_token)"
quietly 'log bookshop'
show "curl -s localhost:8080/api/orders -H \"authorization: Bearer \$TOKEN\" -H 'x-request-id: run-it-order-1' -H 'content-type: application/json' -d '{\"customer\":\"demo\",\"lines\":[{\"book_id\":1,\"quantity\":1}]}' | jq -c '{id, status}'"
end order
until_true "grep -q 'run-it-order-1' '$SESSION_LOGS/bookshop.log'"
sleep 1

begin served
figures
any_order
log bookshop --grep 'served.*run-it-order-1'
end_any_order
end_figures
end served

begin metrics
show "curl -s localhost:8003/metrics | grep -E '^(http_server_requests_total\{[^}]*route=\"/v1/orders\"|checkout_sagas_total|outbox_published_total)' | sort"
end metrics

begin metrics-types
show "curl -s localhost:8003/metrics | grep -E '^# TYPE' | sort"
end metrics-types

stop bookshop INT
