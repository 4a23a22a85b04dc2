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
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*dup)(int);
    int (*fcntl)(int, int, ...);
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
/* The largest UDP payload finackd sends (it does not fragment). */
int fa_ctl_udp_max(void);
/* FINACK_PASSTHROUGH=1: without finackd, sockets are the kernel's. */
int fa_ctl_passthrough(void);

/* What a descriptor is, asked of the kernel (getpeername shows
 * finackd's name for its end, proto.h): FA_TCP or FA_UDP with its id
 * (and *v6 when not NULL), FA_STALE for a socket of a finackd that has
 * gone, FA_NOT for anything else. fa_name_kind reads the same from an
 * address a receive returned. */
enum { FA_STALE = -1, FA_NOT = 0, FA_TCP = 1, FA_UDP = 2 };
int fa_sock_kind(int fd, uint32_t *id, int *v6);
int fa_name_kind(const void *sa, socklen_t len, uint32_t *id, int *v6);
/* A request about the socket fd holds (the descriptor goes along: it is
 * the proof that this process may use it); its result, or -errno. */
int fa_ask(int fd, struct fad_req *q, struct fad_rep *r);

/* dgram.c: fd is (udp 1) or is no longer (0) a UDP socket this process
 * made: its receives take the header off exactly. */
void fa_dgram_mark(int fd, int udp);
int fa_dgram_marked(int fd);
/* A copy of from (dup and the like): its mark and peer go along. */
void fa_dgram_copy(int from, int to);
/* The peer a marked UDP socket was connected to (addr 0: none), for the
 * source of its bare datagrams; and the marks of inherited descriptors
 * (at load: exec keeps descriptors, not the library's memory). */
void fa_dgram_peer(int fd, uint32_t addr, uint16_t port);
void fa_dgram_scan(void);

/* preload.c: the IPv4 address a sockaddr names (AF_INET, or AF_INET6 ::
 * or v4-mapped), and back, as the socket's family shows it. */
int fa_to_v4(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port,
             int connecting);
void fa_from_v4(uint32_t addr, uint16_t port, int v6, struct sockaddr *sa, socklen_t *len);

#endif
