/* http.c — request parsing and response heads for finack-httpd (see
 * http.h). Lines end in CRLF; a bare LF is accepted too (RFC 9112 §2.2). */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The end of the head: the offset after the empty line, or 0. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The next line of [*p, end): returns its length without CR LF. */
static size_t next_line(const char **p, const char *end, const char **line)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        nl = end;
    *line = *p;
    size_t n = (size_t)(nl - *p);
    *p = nl < end ? nl + 1 : end;
    if (n && (*line)[n - 1] == '\r')
        n--;
    return n;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0'
         : isxdigit((unsigned char)c) ? (tolower((unsigned char)c) - 'a' + 10) : -1;
}

/* RFC 3986 §2.1 decoding of the path part of an origin-form target
 * (RFC 9112 §3.2.1), refusing NUL, backslash and any ".." segment. */
static int decode_path(const char *t, size_t n, char *out)
{
    size_t o = 0;
    if (!n || t[0] != '/')
        return -1;
    for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
        char c = t[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(t[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(t[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0 || c == '\\' || o + 1 >= HTTP_MAX_PATH)
            return -1;
        out[o++] = c;
    }
    out[o] = 0;
    for (const char *s = out; (s = strstr(s, "..")); s += 2)
        if (s[-1] == '/' && (s[2] == '/' || s[2] == 0))
            return -1;
    return 0;
}

/* "HTTP/1.1" -> minor 1; -1 if not HTTP/1.x. */
static int parse_version(const char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/1.", 7) || !isdigit((unsigned char)v[7]))
        return -1;
    return v[7] - '0';
}

static int parse_request_line(const char *l, size_t n, struct http_request *r)
{
    const char *sp1 = memchr(l, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(l + n - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == l || (size_t)(sp1 - l) >= sizeof r->method)
        return -400;
    memcpy(r->method, l, (size_t)(sp1 - l));
    r->method[sp1 - l] = 0;
    r->minor = parse_version(sp2 + 1, (size_t)(l + n - sp2 - 1));
    if (r->minor < 0)
        return sp2[1] == 'H' ? -505 : -400;
    r->keep_alive = r->minor >= 1;
    r->head_only = !strcmp(r->method, "HEAD");
    if (decode_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), r->path) < 0)
        return -400;
    return 0;
}

/* Does the comma-separated list v contain token (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',' && v[j] != ' ' && v[j] != '\t')
            j++;
        if (j - i == tl && !strncasecmp(v + i, token, tl))
            return 1;
        i = j;
    }
    return 0;
}

/* One header field line; returns -STATUS or 0. */
static int parse_field(const char *l, size_t n, struct http_request *r, int *host)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l || l[0] == ' ' || l[0] == '\t')
        return -400; /* no name, or obsolete line folding (RFC 9112 §5.2) */
    size_t nl = (size_t)(colon - l);
    const char *v = colon + 1, *end = l + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vl = (size_t)(end - v);
    if (nl == 4 && !strncasecmp(l, "Host", 4)) {
        *host += 1;
    } else if (nl == 10 && !strncasecmp(l, "Connection", 10)) {
        if (has_token(v, vl, "close"))
            r->keep_alive = 0;
        else if (has_token(v, vl, "keep-alive"))
            r->keep_alive = 1;
    } else if (nl == 14 && !strncasecmp(l, "Content-Length", 14)) {
        uint64_t x = 0;
        if (!vl || vl > 15)
            return -400;
        for (size_t i = 0; i < vl; i++) {
            if (!isdigit((unsigned char)v[i]))
                return -400;
            x = x * 10 + (uint64_t)(v[i] - '0');
        }
        r->content_length = x;
    } else if (nl == 17 && !strncasecmp(l, "Transfer-Encoding", 17)) {
        return -501;
    }
    return 0;
}

long http_parse_request(const char *buf, size_t len, struct http_request *r)
{
    memset(r, 0, sizeof *r);
    size_t n = head_end(buf, len);
    if (!n)
        return len >= HTTP_MAX_HEAD ? -431 : 0;
    if (n > HTTP_MAX_HEAD)
        return -431;
    const char *p = buf, *end = buf + n, *line;
    size_t ll = next_line(&p, end, &line);
    while (!ll && p < end) /* RFC 9112 §2.2: ignore leading empty lines */
        ll = next_line(&p, end, &line);
    int err = parse_request_line(line, ll, r);
    int host = 0;
    while (!err && p < end && (ll = next_line(&p, end, &line)) > 0)
        err = parse_field(line, ll, r, &host);
    /* RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400. */
    if (!err && r->minor >= 1 && host != 1)
        err = -400;
    return err ? err : (long)n;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

const char *http_content_type(const char *path)
{
    static const char *const types[][2] = {
        { ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
        { ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css" },
        { ".js", "text/javascript" }, { ".json", "application/json" },
        { ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
        { ".gif", "image/gif" }, { ".svg", "image/svg+xml" }, { ".pdf", "application/pdf" },
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcasecmp(dot, types[i][0]))
                return types[i][1];
    return "application/octet-stream";
}

size_t http_response_head(char *out, size_t cap, int status, uint64_t length,
                          const char *type, int keep_alive, const char *allow,
                          time_t date)
{
    char when[64];
    struct tm tm;
    /* RFC 9110 §5.6.7: IMF-fixdate. */
    strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&date, &tm));
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nServer: finack-httpd\r\nDate: %s\r\n"
                     "Content-Length: %llu\r\nContent-Type: %s\r\n%s%s%s"
                     "Connection: %s\r\n\r\n",
                     status, http_reason(status), when, (unsigned long long)length, type,
                     allow ? "Allow: " : "", allow ? allow : "", allow ? "\r\n" : "",
                     keep_alive ? "keep-alive" : "close");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
