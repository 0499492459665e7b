# Chapter 4, "Run it": the launcher, now with identity and the gateway; a
# login, the catalog through the gateway and its cache, an order with and
# without a token, and the gateway's own pages. One session, in order,
# from an empty data/.
#
# The launcher runs the system as it is today, with the services of
# chapters 5 and 6 and their broker: the page shows the lines of the five
# services chapter 4 knows, so those later chapters' queues are cleared
# first, as chapter 6's session does.

forget_bookshop_queues
login='{"username":"demo","password":"bookshop-demo"}'
order='{"customer":"demo","lines":[{"book_id":1,"quantity":2}]}'
chapter4='registry|identity|catalog|orders|gateway'
later='inventory|payments|notifications|storefront'

start bookshop 'cargo run -p bookshop'
wait_for bookshop 'Press Ctrl-C to stop every service'
for service in identity catalog orders gateway; do
    wait_for bookshop "^\[ *$service\] .*registered service=$service "
done
# One read of the log, split in two: the services' lines (in any order,
# as they start and register), then the launcher's banner.
started="$SESSION_LOGS/started.txt"
log bookshop >"$started"
begin started
any_order
grep -E "^\[ *($chapter4)\] .*(listening addr=|registered service=|created the demo user|finds )" "$started" |
    grep -Ev 'request_id|processing request' || true
end_any_order
echo
grep -Ev '^\[' "$started" | grep -Ev "^  ($later) " | sed -n '/^Bookshop is running:/,/^Press Ctrl-C/p'
end started

begin token
show "curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '$login'"
end token

# The page shows this command on its own (it prints nothing).
show "TOKEN=\$(curl -s localhost:8080/api/identity/token -H 'content-type: application/json' -d '$login' | jq -r .access_token)"

begin books
show "curl -s 'localhost:8080/api/catalog/books?limit=2'"
end books

# The page waits for that answer's cache entry to expire (30 s); nothing
# shows the expiry without storing the answer again, so this one waits.
quietly 'sleep 31'

begin cache
show "curl -si 'localhost:8080/api/catalog/books?limit=2' | grep -i x-cache"
show "curl -si 'localhost:8080/api/catalog/books?limit=2' | grep -i x-cache"
end cache

begin order
show "curl -si localhost:8080/api/orders -H \"authorization: Bearer \$TOKEN\" -H 'content-type: application/json' -d '$order'"
end order

begin no-token
show "curl -si localhost:8080/api/orders -H 'content-type: application/json' -d '$order'"
end no-token

# The breakers are a map with no order of its own: jq sorts it.
begin gateway-pages
show 'curl -s localhost:8080/gateway/routes'
show 'curl -s localhost:8080/gateway/breakers | jq -cS .'
end gateway-pages

stop bookshop INT
