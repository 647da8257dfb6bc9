# The harness checking itself against plain nginx features (our module loaded, unused).

=== TEST 1: return with a body
--- config
location = /t { return 200 "hello\n"; }
--- request
GET /t
--- error_code: 200
--- response_headers
Content-Length: 6
!X-Nothing
--- response_body
hello

=== TEST 2: static file and header regex
--- files
>>> html/a.txt
line one
--- config
location / { root $TEST_NGINX_HTML_DIR; }
--- request
GET /a.txt
--- response_headers
Content-Type: ~^text/plain
--- response_body_like
^line one$

=== TEST 3: expected error line is allowed, 404 checked
--- config
location / { root $TEST_NGINX_HTML_DIR; }
--- request
GET /missing.txt
--- error_code: 404
--- error_log
open()
--- no_error_log
[warn]

=== TEST 4: nginx -t refusal is caught with file and line
--- config
location / { no_such_directive on; }
--- must_die
--- error_log
unknown directive "no_such_directive"
nginx.conf:

=== TEST 5: POST body and scripted check
--- config
location = /echo { return 200 "$request_method\n"; }
--- request
POST /echo
{"a": 1}
--- response_body
POST
--- check
r2 = s.get("/echo")
assert r2.status == 200 and r2.text == "GET\n", r2.text
