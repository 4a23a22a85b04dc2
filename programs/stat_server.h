/* stat_server.h — a finack program's connection table on a Unix-domain
 * socket (L23): finack-stat connects, the program writes one line per
 * connection and closes. */
#ifndef FA_PROG_STAT_SERVER_H
#define FA_PROG_STAT_SERVER_H

#include <finack/finack.h>

/* A listening, non-blocking socket at path (a stale file is replaced);
 * returns the fd or -errno. */
int stat_server_open(const char *path);
/* Answers every waiting client. Each line:
 *   STATE LOCAL:PORT REMOTE:PORT SEND_Q RECV_Q AGE_S RETRANS [OWNER]
 * (AGE_S is "-" where the stack keeps no time, compact TIME-WAIT; OWNER,
 * the mark of fa_tcp_set_owner, is there when nonzero: finackd marks a
 * socket with the process id that opened it). */
void stat_server_serve(int fd, const struct fa_stack *stack, fa_time now);
void stat_server_close(int fd, const char *path);

#endif
