/* ctl.h — libfinack-preload.so's path to finackd (ctl.c) and the
 * interposers' shared helpers. */
#ifndef FA_PRELOAD_CTL_H
#define FA_PRELOAD_CTL_H

#include <sys/socket.h>

#include "../daemon/proto.h"

/* libc's own socket calls, found at load (dlsym RTLD_NEXT). */
struct real_calls {
    int (*socket)(int, int, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*shutdown)(int, int);
    int (*close)(int);
};
extern struct real_calls fa_real;
void fa_real_resolve(void);

/* One request (with descriptor send_fd, unless -1) and its answer; *fd
 * (when fd is not NULL) gets the
 * descriptor the answer carries, close-on-exec if cloexec (-1 if none,
 * -EMFILE if there was no room for it). Returns 0,
 * or -errno when finackd cannot be reached (the answer's own result is
 * in rep->ret). Thread-safe; a forked child attaches anew. */
int fa_ctl_request(const struct fad_req *req, struct fad_rep *rep, int send_fd, int *fd,
                   int cloexec);
/* The running finackd's instance (attaching if needed); 0 if unreachable. */
unsigned long long fa_ctl_instance(void);
/* FINACK_PASSTHROUGH=1: without finackd, sockets are the kernel's. */
int fa_ctl_passthrough(void);

#endif
