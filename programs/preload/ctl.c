/* ctl.c — libfinack-preload.so's attachment to finackd: one SOCK_SEQPACKET
 * connection per process (a forked child opens its own, so requests of
 * two processes never interleave), requests under a lock, answers that
 * may carry a descriptor. The socket sits at a high descriptor number,
 * close-on-exec, out of the program's way; if the program closes it
 * anyway (closefrom), the next request attaches again. */
#include "ctl.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct real_calls fa_real;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ctl_fd = -1;
static pid_t ctl_pid;
static unsigned long long ctl_instance;
static int udp_max = 65507;
/* This process's id, kept by the fork handler: getpid() on every receive
 * would double its system calls. */
static pid_t my_pid;
static ino_t ctl_ino; /* the control socket's inode: is ctl_fd still it? */
static int warned;

/* Read from the environment at load: programs clear it (nginx's workers
 * keep only TZ), and the answer must not change under them. */
static char control_path_buf[108];
static int passthrough;

static void read_environment(void)
{
    const char *p = getenv("FINACK_CONTROL");
    snprintf(control_path_buf, sizeof control_path_buf, "%s",
             p && *p ? p : FAD_DEFAULT_CONTROL);
    p = getenv("FINACK_PASSTHROUGH");
    passthrough = p && *p == '1';
}

static const char *control_path(void) { return control_path_buf; }

int fa_ctl_passthrough(void) { return passthrough; }

#define close(fd) fa_real.close(fd)
#define RESOLVE(name) fa_real.name = (__typeof__(fa_real.name))dlsym(RTLD_NEXT, #name)

static void at_fork_prepare(void) { pthread_mutex_lock(&lock); }
static void at_fork_parent(void) { pthread_mutex_unlock(&lock); }
static void at_fork_child(void)
{
    __atomic_store_n(&my_pid, getpid(), __ATOMIC_RELEASE);
    /* The inherited attachment is the parent's: leave it to the parent. */
    if (ctl_fd >= 0)
        close(ctl_fd);
    ctl_fd = -1;
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) void fa_real_resolve(void)
{
    if (fa_real.socket)
        return;
    read_environment();
    __atomic_store_n(&my_pid, getpid(), __ATOMIC_RELEASE);
    RESOLVE(socket);
    RESOLVE(connect);
    RESOLVE(bind);
    RESOLVE(listen);
    RESOLVE(accept4);
    RESOLVE(getsockname);
    RESOLVE(getpeername);
    RESOLVE(getsockopt);
    RESOLVE(setsockopt);
    RESOLVE(recvfrom);
    RESOLVE(recvmsg);
    RESOLVE(sendto);
    RESOLVE(sendmsg);
    RESOLVE(shutdown);
    RESOLVE(close);
    RESOLVE(dup2);
    RESOLVE(dup3);
    RESOLVE(dup);
    RESOLVE(fcntl);
    pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
    fa_dgram_scan();
}


static int exchange(int fd, const struct fad_req *q, int send_fd, struct fad_rep *r, int *rfd,
                    int cloexec);

static int attach_locked(void)
{
    if (ctl_fd >= 0 && ctl_pid == my_pid)
        return 0;
    if (ctl_fd >= 0)
        close(ctl_fd);
    ctl_fd = -1;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *path = control_path();
    memcpy(sa.sun_path, path, sizeof sa.sun_path); /* both 108 bytes, NUL-ended */
    int fd = fa_real.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (fa_real.connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        if (!warned++)
            fprintf(stderr, "libfinack-preload: cannot reach finackd at %s: %s (start "
                            "finackd, or point FINACK_CONTROL at it%s)\n", path, strerror(err),
                    fa_ctl_passthrough() ? "; using the kernel's sockets" : "");
        return -ENETDOWN;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 900);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    struct fad_req q = { .op = FAD_HELLO };
    struct fad_rep r;
    int err = exchange(fd, &q, -1, &r, NULL, 0);
    if (!err && r.ret != FAD_VERSION)
        err = -EPROTO;
    if (err) {
        close(fd);
        return err;
    }
    __atomic_store_n(&ctl_instance, (unsigned long long)r.val, __ATOMIC_RELEASE);
    __atomic_store_n(&ctl_pid, my_pid, __ATOMIC_RELEASE);
    if (r.a > 0)
        udp_max = r.a;
    struct stat sb;
    ctl_ino = fstat(fd, &sb) == 0 ? sb.st_ino : 0;
    __atomic_store_n(&ctl_fd, fd, __ATOMIC_RELEASE);
    return 0;
}

static int exchange(int fd, const struct fad_req *q, int send_fd, struct fad_rep *r, int *rfd,
                    int cloexec)
{
    ssize_t n;
    union fad_fd_space out, c;
    struct iovec qv = { .iov_base = (void *)q, .iov_len = sizeof *q };
    struct msghdr qm = { .msg_iov = &qv, .msg_iovlen = 1 };
    fad_put_fd(&qm, &out, send_fd);
    do
        n = fa_real.sendmsg(fd, &qm, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof *q)
        return n < 0 ? -errno : -EPROTO;
    struct iovec iov = { .iov_base = r, .iov_len = sizeof *r };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
                        .msg_controllen = sizeof c.buf };
    /* The answer must be read whatever signals come, or the next one
     * would be taken for it (a finackd stopped with SIGSTOP holds the
     * caller, with its signals, until it runs again). */
    do
        n = fa_real.recvmsg(fd, &m, cloexec ? MSG_CMSG_CLOEXEC : 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof *r)
        return n < 0 ? -errno : -ECONNRESET; /* 0: finackd went away */
    int got = fad_get_fd(&m);
    if (got < 0 && (m.msg_flags & MSG_CTRUNC)) /* no room for it here */
        got = -EMFILE;
    if (rfd)
        *rfd = got;
    else if (got >= 0)
        close(got);
    return 0;
}

/* Is fd still the control socket (not a number the program closed
 * behind our back and reused)? */
static int still_ours(int fd)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode) && sb.st_ino == ctl_ino;
}

int fa_ctl_request(const struct fad_req *q, struct fad_rep *r, int send_fd, int *fd,
                   int cloexec)
{
    fa_real_resolve();
    /* Socket calls are async-signal-safe: a handler that makes one while
     * this thread holds the lock would wait for itself. So no handler
     * runs here, and no cancellation leaves the lock held. */
    sigset_t all, old;
    int cancel;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    pthread_mutex_lock(&lock);
    int err = attach_locked();
    if (!err) {
        err = exchange(ctl_fd, q, send_fd, r, fd, cloexec);
        /* EBADF: the descriptor sent along was closed meanwhile (another
         * thread), or the program closed ours (closefrom): once more, then. */
        if ((err == -EBADF || err == -ENOTSOCK) && still_ours(ctl_fd)) {
            pthread_mutex_unlock(&lock);
            pthread_setcancelstate(cancel, NULL);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            return err;
        }
        if (err == -EBADF || err == -ENOTSOCK) {
            ctl_fd = -1;
            err = attach_locked();
            if (!err)
                err = exchange(ctl_fd, q, send_fd, r, fd, cloexec);
        }
        if (err) { /* finackd is gone: a later call tries afresh */
            close(ctl_fd);
            ctl_fd = -1;
        }
    }
    pthread_mutex_unlock(&lock);
    pthread_setcancelstate(cancel, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

unsigned long long fa_ctl_instance(void)
{
    fa_real_resolve();
    /* Known once attached in this process: no lock needed to read it. */
    if (__atomic_load_n(&ctl_fd, __ATOMIC_ACQUIRE) >= 0 &&
        __atomic_load_n(&ctl_pid, __ATOMIC_ACQUIRE) == __atomic_load_n(&my_pid, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&ctl_instance, __ATOMIC_ACQUIRE);
    struct fad_req q = { .op = FAD_HELLO };
    struct fad_rep r;
    return fa_ctl_request(&q, &r, -1, NULL, 0) == 0 ? (unsigned long long)r.val : 0;
}

/* n hex digits at p, or -1 if one is not. */
static long long hex(const char *p, int n)
{
    unsigned long long v = 0;
    for (int i = 0; i < n; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    return (long long)v;
}

int fa_name_kind(const void *addr, socklen_t len, uint32_t *id, int *v6)
{
    /* "\0finack/" 16 hex digits "/" 8 hex digits, then "u" and/or "6":
     * read on every receive, so by hand, not by sscanf. */
    const struct sockaddr_un *sa = addr;
    size_t head = offsetof(struct sockaddr_un, sun_path) + 1;
    size_t pre = sizeof FAD_NAME_PREFIX - 1;
    if (len < head + pre + 25 || len > head + pre + 27 || sa->sun_family != AF_UNIX ||
        sa->sun_path[0] != 0 || memcmp(sa->sun_path + 1, FAD_NAME_PREFIX, pre))
        return FA_NOT;
    const char *p = sa->sun_path + 1 + pre;
    const char *end = sa->sun_path + (len - offsetof(struct sockaddr_un, sun_path));
    unsigned long long inst = 0;
    long long hi = hex(p, 8), lo = hex(p + 8, 8), sid = hex(p + 17, 8);
    if (hi < 0 || lo < 0 || sid < 0 || p[16] != '/')
        return FA_NOT;
    inst = (unsigned long long)hi << 32 | (unsigned long long)lo;
    int udp = 0, six = 0;
    for (const char *k = p + 25; k < end; k++) {
        if (*k == 'u')
            udp = 1;
        else if (*k == '6')
            six = 1;
        else
            return FA_NOT;
    }
    *id = (uint32_t)sid;
    if (v6)
        *v6 = six;
    if (inst != fa_ctl_instance())
        return FA_STALE;
    return udp ? FA_UDP : FA_TCP;
}

int fa_sock_kind(int fd, uint32_t *id, int *v6)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    fa_real_resolve();
    if (fa_real.getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
        return FA_NOT;
    return fa_name_kind(&sa, len, id, v6);
}

int fa_ctl_udp_max(void)
{
    return udp_max;
}

int fa_ask(int fd, struct fad_req *q, struct fad_rep *r)
{
    int err = fa_ctl_request(q, r, fd, NULL, 0);
    return err ? err : r->ret;
}
