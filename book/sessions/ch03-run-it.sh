# Chapter 3, "Run it": the registry, two catalogs and orders, each in a
# terminal of its own, with a 3-second TTL; a catalog killed under a
# blocking query and a stream of orders; writes without the token and a
# lease left to expire; a catalog stopped gracefully. One session, in
# order, from an empty data/ (the registry keeps nothing between runs).


# show_keeping 'command' FILE: `show`, keeping the output in FILE as well
# (the lease id a reader copies from it).
show_keeping() {
    show "$1"
    cp "$SESSION_LOGS/.show-output" "$2"
}

# show_figures 'command': `show`, its output compared as figures (what
# depends on timing: how many orders fell into the window).
show_figures() {
    printf '$ %s\n' "$1"
    figures
    { eval "$1"; } 2>&1
    end_figures
}

per_request='request_id|processing request'

begin start
start registry 'REGISTRY_TOKEN=dev cargo run -p ch03-registry --bin registry'
wait_for registry 'server: listening addr=127.0.0.1:8500'
start catalog 'REGISTRY_TOKEN=dev REGISTRATION_TTL_SECS=3 cargo run -p ch03-registry --bin ch03-catalog'
wait_for catalog 'registration: registered service=catalog'
wait_for catalog 'server: listening'
start catalog2 'REGISTRY_TOKEN=dev REGISTRATION_TTL_SECS=3 cargo run -p ch03-registry --bin ch03-catalog -- --listen 127.0.0.1:8012 --database-url sqlite://data/catalog.sqlite'
wait_for catalog2 'registration: registered service=catalog'
wait_for catalog2 'server: listening'
start orders 'REGISTRY_TOKEN=dev REGISTRATION_TTL_SECS=3 cargo run -p ch03-registry --bin ch03-orders'
end start
wait_for orders 'registration: registered service=orders'
wait_for orders 'server: listening'

begin orders-log
any_order
log orders --without "$per_request"
end_any_order
end orders-log

begin catalog-list
show 'curl -s localhost:8500/v1/services/catalog | jq'
end catalog-list

begin orders
show "curl -s localhost:8003/v1/orders -H 'content-type: application/json' -d '{\"customer\": \"ada\", \"lines\": [{\"book_id\": 1, \"quantity\": 2}, {\"book_id\": 3, \"quantity\": 1}]}' | jq -c '{id, total_cents, titles: [.lines[].title]}'"
show "curl -s localhost:8003/v1/orders -H 'content-type: application/json' -d '{\"customer\": \"grace\", \"lines\": [{\"book_id\": 4, \"quantity\": 1}]}' | jq -c '{id, total_cents, titles: [.lines[].title]}'"
end orders

# Kill a catalog: a blocking query in one terminal, the kill and a stream
# of orders in another.
begin blocking-start
start blocking "time (curl -s 'localhost:8500/v1/services/catalog?index=2&wait=20' | jq -c '{index, ids: [.instances[].instance_id]}')"
end blocking-start
# The query is waiting in the registry once curl holds its connection.
until_true "ss -Htnp state established '( dport = :8500 )' | grep -q '\"curl\"'"

begin kill
show 'kill -9 $(lsof -ti tcp:8002 -sTCP:LISTEN)'
show_figures "for i in \$(seq 12); do curl -s -o /dev/null -w '%{http_code} ' localhost:8003/v1/orders -H 'content-type: application/json' -d '{\"customer\": \"grace\", \"lines\": [{\"book_id\": 2, \"quantity\": 1}]}'; sleep 0.4; done; echo"
end kill
wait_for blocking '^sys' 30

# The answer exactly; how long it took, as figures.
begin blocking-answer
grep -Ev '^(real|user|sys)[[:space:]]|^$' "$SESSION_LOGS/blocking.log"
figures
grep -E '^(real|user|sys)[[:space:]]' "$SESSION_LOGS/blocking.log"
end_figures
end blocking-answer

begin expired
log registry --grep 'lease expired'
end expired

# Writes need the token.
begin token
show "R='{\"service\": \"demo\", \"instance_id\": \"demo-1\", \"address\": \"http://127.0.0.1:9999\", \"ttl_secs\": 5}'"
show "curl -s -w ' %{http_code}\n' localhost:8500/v1/registrations -H 'content-type: application/json' -d \"\$R\""
show "curl -s -w ' %{http_code}\n' localhost:8500/v1/registrations -H 'authorization: Bearer guess' -H 'content-type: application/json' -d \"\$R\""
show_keeping "curl -si localhost:8500/v1/registrations -H 'authorization: Bearer dev' -H 'content-type: application/json' -d \"\$R\"" "$SESSION_LOGS/registered.txt"
end token
lease=$(sed -n 's/.*"lease_id":"\([0-9a-f]*\)".*/\1/p' "$SESSION_LOGS/registered.txt")

begin lease
show "L=$lease"
show "curl -s -X PUT localhost:8500/v1/leases/\$L -H 'authorization: Bearer dev'; echo"
show 'sleep 6'
# Five seconds after the heartbeat, plus at most one sweep: sleep 6 is
# enough, and this makes sure of it on a slow machine.
until_true "curl -s localhost:8500/v1/services/demo | jq -e '.instances == []'"
show 'curl -s localhost:8500/v1/services/demo | jq -c'
show "curl -s -w ' %{http_code}\n' -X PUT localhost:8500/v1/leases/\$L -H 'authorization: Bearer dev'"
end lease

# Stop a catalog gracefully: Ctrl-C in its terminal.
log catalog2 >/dev/null
stop catalog2 INT
begin graceful-stop
log catalog2 --without "$per_request"
end graceful-stop

begin after-stop
show "curl -s localhost:8500/v1/services/catalog | jq -c '{index, instances}'"
show "curl -s localhost:8003/v1/orders -H 'content-type: application/json' -d '{\"customer\": \"ada\", \"lines\": [{\"book_id\": 1, \"quantity\": 1}]}' | jq -c '{status, detail}'"
end after-stop

stop orders INT
stop registry INT
stop catalog INT
stop blocking INT
