# Bad configuration is refused at nginx -t with the file and line.

=== TEST 1: p2p_tracker without a secret
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; }
--- must_die
--- error_log
"p2p_tracker" needs "p2p_tracker_secret" in
nginx.conf:

=== TEST 2: a short tracker secret
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret short; }
--- must_die
--- error_log
"p2p_tracker_secret" must be at least 16 bytes
nginx.conf:

=== TEST 3: a tracker zone too small
--- http_config
p2p_tracker_zone swarms 8k;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; }
--- must_die
--- error_log
zone "swarms" is too small
nginx.conf:

=== TEST 4: an invalid zone size
--- http_config
p2p_tracker_zone swarms lots;
--- config

--- must_die
--- error_log
invalid zone size "lots"
nginx.conf:

=== TEST 5: a zone declared twice
--- http_config
p2p_tracker_zone swarms 1m;
p2p_tracker_zone swarms 1m;
--- config

--- must_die
--- error_log
duplicate zone "swarms"
nginx.conf:

=== TEST 6: one zone name for tracker and analytics
--- http_config
p2p_tracker_zone shared 1m;
p2p_analytics_zone shared 1m;
--- config

--- must_die
--- error_log
already declared for a different use
nginx.conf:

=== TEST 7: a tracker location naming no zone
--- http_config

--- config
location /t/ { p2p_tracker nowhere; p2p_tracker_secret integration-secret-0123456789; }
--- must_die
--- error_log
zero size shared memory zone "nowhere"

=== TEST 8: peer ttl not longer than the announce interval
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_peer_ttl 30s; p2p_tracker_announce_interval 30s; }
--- must_die
--- error_log
"p2p_tracker_peer_ttl" must be longer than
nginx.conf:

=== TEST 9: ticket lifetime shorter than two intervals
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_ticket_lifetime 40s; }
--- must_die
--- error_log
"p2p_tracker_ticket_lifetime" must be at least twice
nginx.conf:

=== TEST 10: max numwant over 200
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_max_numwant 500; }
--- must_die
--- error_log
"p2p_tracker_max_numwant" must be 0..200
nginx.conf:

=== TEST 11: max peers per swarm of zero
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_max_peers_per_swarm 0; }
--- must_die
--- error_log
"p2p_tracker_max_peers_per_swarm" must be 1..100000
nginx.conf:

=== TEST 12: an unknown exclusion rule
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_exclude c1 planet=mars; }
--- must_die
--- error_log
invalid rule "planet=mars"
nginx.conf:

=== TEST 13: a lower-case excluded country
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_exclude c1 country=ru; }
--- must_die
--- error_log
invalid country in "country=ru"
nginx.conf:

=== TEST 14: an invalid excluded ASN
--- http_config
p2p_tracker_zone swarms 1m;
--- config
location /t/ { p2p_tracker swarms; p2p_tracker_secret integration-secret-0123456789; p2p_tracker_exclude c1 asn=12x; }
--- must_die
--- error_log
invalid ASN in "asn=12x"
nginx.conf:

=== TEST 15: an unknown distributor setting
--- http_config

--- config
location = /c { p2p_distributor on; p2p_distributor_set colour blue; }
--- must_die
--- error_log
unknown distributor setting "colour"
nginx.conf:

=== TEST 16: a distributor rollout over 100%
--- http_config

--- config
location = /c { p2p_distributor on; p2p_distributor_set rollout 150%; }
--- must_die
--- error_log
invalid value "150%" for "rollout"
nginx.conf:

=== TEST 17: a customer override with a bad version
--- http_config

--- config
location = /c { p2p_distributor on; p2p_distributor_customer c1 min_version=one; }
--- must_die
--- error_log
invalid value "one" for "min_version"
nginx.conf:

=== TEST 18: a customer override without '='
--- http_config

--- config
location = /c { p2p_distributor on; p2p_distributor_customer c1 rollout; }
--- must_die
--- error_log
"rollout" is not key=value
nginx.conf:

=== TEST 19: p2p_distributor with a bad flag
--- http_config

--- config
location = /c { p2p_distributor maybe; }
--- must_die
--- error_log
invalid value "maybe", expected on or off
nginx.conf:

=== TEST 20: two endpoints in one location
--- http_config
p2p_analytics_zone stats 1m;
--- config
location = /c { p2p_distributor on; p2p_analytics stats; }
--- must_die
--- error_log
one location serves one of
nginx.conf:

=== TEST 21: analytics body cap too small
--- http_config
p2p_analytics_zone stats 1m;
--- config
location /a/ { p2p_analytics stats; p2p_analytics_body_max 10; }
--- must_die
--- error_log
"p2p_analytics_body_max" must be 64..1m
nginx.conf:

=== TEST 22: every directive accepted together, with geo and map feeding ASN and country
--- http_config
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
geo $p2p_asn { default 0; 127.0.0.0/24 64500; }
map $http_x_country $p2p_country { default ""; "~^(?<cc>[A-Za-z]{2})$" $cc; }
p2p_tracker_secret integration-secret-0123456789;
p2p_tracker_asn $p2p_asn;
p2p_tracker_country $p2p_country;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_ticket_lifetime 2h;
    p2p_tracker_ticket_skew 10s;
    p2p_tracker_announce_interval 20s;
    p2p_tracker_peer_ttl 60s;
    p2p_tracker_min_evict_age 20s;
    p2p_tracker_max_peers_per_swarm 500;
    p2p_tracker_max_numwant 30;
    p2p_tracker_body_max 2k;
    p2p_tracker_exclude c1 country=RU,BY asn=AS666,667 same_country;
}
location /p2p/analytics/ { p2p_analytics stats; p2p_analytics_body_max 8k; }
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_kill_switch off;
    p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
    p2p_distributor_set signalling_url wss://edge.example/p2p/ws;
    p2p_distributor_set analytics_url https://edge.example/p2p/analytics/;
    p2p_distributor_set stun stun:stun.example:3478;
    p2p_distributor_set rollout 25%;
    p2p_distributor_set min_version 1.0.0;
    p2p_distributor_customer c1 rollout=100% max_peers=40 stun=stun:c1.example:3478;
}
--- request
GET /p2p/config?customer=c1&content=m&version=1.0.0
--- response_body_like
"stun_servers":\["stun:c1.example:3478"\]
"max_peers":40
^\{"p2p":true,"reason":"enabled"

=== TEST 9: zones also take nginx's name:size spelling
--- http_config
p2p_tracker_zone swarms:1m;
p2p_analytics_zone stats:256k;
--- config
location /p2p/tracker/ {
    p2p_tracker swarms;
    p2p_tracker_secret integration-secret-0123456789;
}
location /p2p/analytics/ { p2p_analytics stats; }
--- request
POST /p2p/tracker/init
{"swarm":"s1","customer":"c1"}
--- response_body_like
^\{"peer_id":"[A-Za-z0-9_-]{22}","protocol":1,
--- no_error_log
[error]
[warn]

=== TEST 10: a zone without a size
--- http_config
p2p_tracker_zone swarms;
--- config

--- must_die
--- error_log
invalid zone "swarms", expected name:size or name size
nginx.conf:

=== TEST 11: a zone name with a colon in the two-argument spelling
--- http_config
p2p_analytics_zone stats:x 1m;
--- config

--- must_die
--- error_log
invalid zone name "stats:x"
nginx.conf:
