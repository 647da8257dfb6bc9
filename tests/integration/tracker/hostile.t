# Hostile and malformed input to the tracker, analytics and distributor endpoints:
# every case is a 4xx JSON error with one info line, never a 5xx and never an [error].

=== TEST 1: init with a body over p2p_tracker_body_max (Content-Length)
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"body_too_large","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 413 body_too_large:
--- no_error_log
[error]
[warn]

=== TEST 2: init with malformed JSON
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1",
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 3: init with trailing garbage
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1"} []
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 4: init nested deeper than 4
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"a":{"b":{"c":{"d":{"e":1}}}},"swarm":"s1","customer":"c1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 5: init with a thousand brackets
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 6: init with duplicate members
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","swarm":"s2","customer":"c1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 7: init with NUL escaped in a string
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1\u0000","customer":"c1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 8: init with an empty body
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 9: init with an array at top level
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
[1,2,3]
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 10: init without swarm
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"customer":"c1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 11: init with swarm of the wrong type
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":["s1"],"customer":"c1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 12: init with a bad swarm id
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"../etc","customer":"c1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 13: init with negative upload
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1","upload_kbps":-5}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 14: init with fractional upload
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1","upload_kbps":2.5}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 15: init with unknown network
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1","network":"5g"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 16: init with a huge integer
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1","upload_kbps":123456789012345678901234567890}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_json","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_json:
--- no_error_log
[error]
[warn]

=== TEST 17: init accepts unknown members
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1","future":{"x":[1,2]}}
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"peer_id":"[A-Za-z0-9_-]{22}","protocol":1,"ticket":"v1\.
--- no_error_log
[error]
[warn]

=== TEST 18: peers without ticket
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"numwant":5}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 19: peers with a ticket of the wrong type
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":12}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 20: peers with a malformed ticket
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.nope"}
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_ticket","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 401 bad_ticket:
--- no_error_log
[error]
[warn]

=== TEST 21: peers with a ticket signed by another secret
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerA.s1.4102444800.tJaE9iCgWeslwY9ZiQmzN-CqkzfbDu3hUhs9s9XTAtY"}
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_ticket","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 401 bad_ticket:
--- no_error_log
[error]
[warn]

=== TEST 22: peers with a forged peer id in the ticket
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerB.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY"}
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_ticket","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 401 bad_ticket:
--- no_error_log
[error]
[warn]

=== TEST 23: peers with an expired ticket
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerA.s1.1000000000.fQSGxH1HnTSdkW3o7OLvDJq5kayg6qRpMSOpKMEnYeE"}
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"ticket_expired","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 401 ticket_expired:
--- no_error_log
[error]
[warn]

=== TEST 24: peers claiming another peer id
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerA.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY","peer_id":"peerB"}
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"peer_mismatch","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 403 peer_mismatch:
--- no_error_log
[error]
[warn]

=== TEST 25: peers claiming another swarm
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerA.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY","swarm":"s2"}
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"swarm_mismatch","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 403 swarm_mismatch:
--- no_error_log
[error]
[warn]

=== TEST 26: peers with numwant out of range
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerA.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY","numwant":100000}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 27: peers with a valid ticket re-registers and answers
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/peers
{"ticket":"v1.peerA.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY","peer_id":"peerA","swarm":"s1"}
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"swarm":"s1","interval":30,"peers":\[\]\}$
--- no_error_log
[error]
[warn]

=== TEST 28: track without swarm
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/track
{"ticket":"v1.peerA.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 29: track claiming another peer id
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/track
{"ticket":"v1.peerA.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY","swarm":"s2","peer_id":"peerB"}
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"peer_mismatch","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 403 peer_mismatch:
--- no_error_log
[error]
[warn]

=== TEST 30: track with a forged ticket
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/track
{"ticket":"v1.peerB.s1.4102444800.VIU2W9GfNW0KgVMEtR4atHRhaqXoOlFAc29LIjNWjHY","swarm":"s2"}
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_ticket","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 401 bad_ticket:
--- no_error_log
[error]
[warn]

=== TEST 31: unknown tracker action
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/tracker/announce
{}
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"unknown_action","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 404 unknown_action:
--- no_error_log
[error]
[warn]

=== TEST 32: GET on a tracker action is 405
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
GET /p2p/tracker/init
--- error_code: 405
--- response_headers
Content-Type: application/json
Allow: POST
--- response_body_like
^\{"error":\{"code":"method_not_allowed","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 405 method_not_allowed:
--- no_error_log
[error]
[warn]

=== TEST 33: PUT on a tracker action is 405
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
PUT /p2p/tracker/init
{}
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"method_not_allowed","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p tracker: 405 method_not_allowed:
--- no_error_log
[error]
[warn]

=== TEST 34: usage with a negative counter
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/usage
{"customer":"c1","content":"m1","http_bytes":-1,"p2p_bytes":0}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 35: usage with a string counter
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/usage
{"customer":"c1","content":"m1","http_bytes":"9","p2p_bytes":0}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 36: usage with an absurd counter
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/usage
{"customer":"c1","content":"m1","http_bytes":1000000000000000,"p2p_bytes":0}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 37: stats with absurd rebuffer time
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/stats
{"customer":"c1","content":"m1","rebuffer_count":1,"rebuffer_ms":999999999999,"peers":1}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 38: control without counters
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/control
{"customer":"c1","content":"m1"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 39: analytics body over the cap
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/usage
{"customer":"c1","content":"m1","pad":"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"}
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"body_too_large","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 413 body_too_large:
--- no_error_log
[error]
[warn]

=== TEST 40: unknown analytics action
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/analytics/views
{}
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"unknown_action","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p analytics: 404 unknown_action:
--- no_error_log
[error]
[warn]

=== TEST 41: distributor without version
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
GET /p2p/config?customer=c1&content=m1
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p distributor: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 42: distributor with a bad customer id
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
GET /p2p/config?customer=a%20b&content=m1&version=1.2.0
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p distributor: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 43: distributor with duplicate args
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
GET /p2p/config?customer=c1&customer=c2&content=m1&version=1.2.0
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"error":\{"code":"bad_request","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p distributor: 400 bad_request:
--- no_error_log
[error]
[warn]

=== TEST 44: POST to the distributor is 405
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
POST /p2p/config?customer=c1&content=m1&version=1.2.0
{}
--- error_code: 405
--- response_headers
Content-Type: application/json
Allow: GET, HEAD
--- response_body_like
^\{"error":\{"code":"method_not_allowed","message":"(?:[^"\\]|\\.)+"(,"retry_after":\d+)?\}\}$
--- error_log
p2p distributor: 405 method_not_allowed:
--- no_error_log
[error]
[warn]

=== TEST 45: distributor gates old libraries
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
GET /p2p/config?customer=c1&content=m1&version=1.1.9&session=v1
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"p2p":false,"reason":"version_too_old","tracker_url":"https://edge.example/p2p/tracker/"
--- no_error_log
[error]
[warn]

=== TEST 46: distributor answers a current library
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
    p2p_tracker_body_max 1k;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 1k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set min_version 1.2.0;
}
--- request
GET /p2p/config?customer=c1&content=m1&version=1.2.0&session=v1
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: private, max-age=300
--- response_body_like
^\{"p2p":true,"reason":"enabled"
--- no_error_log
[error]
[warn]
