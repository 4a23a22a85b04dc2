/* test_http.c — finack-httpd's request parsing and response heads
 * (programs/http.c): RFC 9112 framing, keep-alive rules, the refusals
 * (400, 431, 501, 505) and the path rules that keep requests inside the
 * served directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static long parse(const char *text, struct http_request *r)
{
    return http_parse_request(text, strlen(text), r);
}

static void get_with_keep_alive(void **state)
{
    (void)state;
    struct http_request r;
    const char *req = "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: h\r\n\r\nGET /next";
    assert_int_equal(parse(req, &r), (long)(strstr(req, "GET /next") - req));
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/a/b.txt");
    assert_int_equal(r.minor, 1);
    assert_true(r.keep_alive);
    assert_false(r.head_only);
}

static void incomplete_then_complete(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n", &r), 0);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n\r", &r), 0);
    /* RFC 9112 §2.2: a bare LF ends a line too. */
    assert_int_equal(parse("GET / HTTP/1.1\nHost: h\n\n", &r), 24);
}

static void connection_rules(void **state)
{
    (void)state;
    struct http_request r;
    assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", &r) > 0);
    assert_false(r.keep_alive);
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
    assert_false(r.keep_alive); /* 1.0 closes by default, Host optional */
    assert_true(parse("HEAD / HTTP/1.0\r\nConnection: te, keep-alive\r\n\r\n", &r) > 0);
    assert_true(r.keep_alive);
    assert_true(r.head_only);
}

static void refusals(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), -400); /* no Host */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n", &r), -505);
    assert_int_equal(parse("GET /\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
                     -501);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", &r), -400);
    static char big[HTTP_MAX_HEAD + 10];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(http_parse_request(big, sizeof big - 1, &r), -431);
}

static void body_length_is_reported(void **state)
{
    (void)state;
    struct http_request r;
    assert_true(parse("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n", &r) > 0);
    assert_int_equal(r.content_length, 12);
}

static void paths_stay_inside(void **state)
{
    (void)state;
    struct http_request r;
    const char *bad[] = {
        "GET /../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a/.. HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a\\b HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(bad[i], &r) != -400)
            fail_msg("accepted: %s", bad[i]);
    assert_true(parse("GET /a..b/%41.txt HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
    assert_string_equal(r.path, "/a..b/A.txt");
}

static void response_head(void **state)
{
    (void)state;
    char out[512];
    size_t n = http_response_head(out, sizeof out, 404, 14, "text/plain", 1, NULL, 0);
    assert_true(n > 0);
    assert_non_null(strstr(out, "HTTP/1.1 404 Not Found\r\n"));
    assert_non_null(strstr(out, "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
    assert_non_null(strstr(out, "Content-Length: 14\r\n"));
    assert_non_null(strstr(out, "Connection: keep-alive\r\n\r\n"));
    n = http_response_head(out, sizeof out, 405, 0, "text/plain", 0, "GET, HEAD", 0);
    assert_non_null(strstr(out, "Allow: GET, HEAD\r\n"));
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_int_equal(http_response_head(out, 20, 200, 0, "x", 1, NULL, 0), 0);
    assert_string_equal(http_content_type("/x/Y.HTML"), "text/html; charset=utf-8");
    assert_string_equal(http_content_type("/x.d/file"), "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_with_keep_alive),    cmocka_unit_test(incomplete_then_complete),
        cmocka_unit_test(connection_rules),       cmocka_unit_test(refusals),
        cmocka_unit_test(body_length_is_reported), cmocka_unit_test(paths_stay_inside),
        cmocka_unit_test(response_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
