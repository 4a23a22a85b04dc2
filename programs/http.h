/* http.h — the HTTP/1.1 message handling of finack-httpd, free of I/O so
 * it can be tested alone: parsing a request head (RFC 9112), mapping its
 * target to a safe path, and writing a response head. */
#ifndef FA_PROG_HTTP_H
#define FA_PROG_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum { HTTP_MAX_HEAD = 8192, HTTP_MAX_PATH = 1024 };

struct http_request {
    char method[16];
    char path[HTTP_MAX_PATH]; /* decoded, starts with '/', no "..", no query */
    int minor;                /* HTTP/1.minor */
    int keep_alive;           /* after this response */
    int head_only;            /* HEAD */
    uint64_t content_length;  /* body bytes that follow the head */
};

/* Parses the request head at the start of buf[0..len). Returns its length
 * (the body, or the next request, starts there), 0 if the head is not
 * complete yet, or -STATUS when the request must be refused:
 * -400 malformed or missing Host in HTTP/1.1, -431 head over
 * HTTP_MAX_HEAD, -501 Transfer-Encoding (not supported), -505 not
 * HTTP/1.x. keep_alive is set even on error where known (a refusal
 * closes the connection anyway). */
long http_parse_request(const char *buf, size_t len, struct http_request *req);

/* "Not Found" for 404, ... */
const char *http_reason(int status);
/* A media type from the path's extension (application/octet-stream). */
const char *http_content_type(const char *path);
/* Writes a response head; returns its length, or 0 if cap is too small.
 * allow (may be NULL) adds an Allow header (405). */
size_t http_response_head(char *out, size_t cap, int status, uint64_t length,
                          const char *type, int keep_alive, const char *allow,
                          time_t date);

#endif
