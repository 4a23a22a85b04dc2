/* fuzz_http.c — libFuzzer target: finack-httpd's request parser
 * (programs/http.c) on any bytes. What it accepts must hold what its
 * contract says: a head no longer than the input, a path that starts
 * with '/' and never climbs out of the root, a method it knows. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The server parses what it has read so far: any prefix. */
    struct http_request req;
    memset(&req, 0, sizeof req);
    long n = http_parse_request((const char *)data, size, &req);
    if (n <= 0)
        return 0;
    if ((size_t)n > size || req.path[0] != '/' || strstr(req.path, "/../") ||
        !memchr(req.path, 0, sizeof req.path) || !memchr(req.method, 0, sizeof req.method))
        abort();
    size_t pl = strlen(req.path);
    if (pl >= 3 && !strcmp(req.path + pl - 3, "/.."))
        abort();
    return 0;
}
