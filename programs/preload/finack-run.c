/* finack-run — runs an unmodified program on finackd's stack: its IPv4
 * TCP sockets become finack's (libfinack-preload.so through LD_PRELOAD).
 *
 *   finack-run [--control PATH] [--passthrough] PROGRAM [ARGS...]
 *
 * It checks that finackd answers first, so a missing daemon is one clear
 * message, not a program failing in its own words. --passthrough lets
 * the program use the kernel's sockets when finackd is not there. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../daemon/proto.h"

#ifndef FA_BIN_TO_LIB
#define FA_BIN_TO_LIB "../lib"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-run [--control PATH] [--passthrough] PROGRAM [ARGS...]\n"
                 "Runs PROGRAM with its IPv4 TCP sockets on finackd.\n\n"
                 "  --control PATH  finackd's control socket (default $FINACK_CONTROL,\n"
                 "                  else " FAD_DEFAULT_CONTROL ")\n"
                 "  --passthrough   without finackd, use the kernel's sockets\n"
                 "  --help          this text\n");
}

/* libfinack-preload.so beside this program (build tree), or where the
 * install put it (FA_BIN_TO_LIB, from the build: lib, or Debian's
 * lib/x86_64-linux-gnu), or in ../lib or ../lib64. */
static int find_library(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return -1;
    self[n] = 0;
    const char *dir = dirname(self);
    const char *tries[] = { "%s/libfinack-preload.so", "%s/" FA_BIN_TO_LIB "/libfinack-preload.so",
                            "%s/../lib/libfinack-preload.so", "%s/../lib64/libfinack-preload.so" };
    for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
        snprintf(out, cap, tries[i], dir);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

static int reachable(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    int err = errno;
    if (fd >= 0)
        close(fd);
    errno = err;
    return ok;
}

int main(int argc, char **argv)
{
    int i = 1, passthrough = 0;
    const char *control = getenv("FINACK_CONTROL");
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--passthrough")) {
            passthrough = 1;
        } else if (!strcmp(argv[i], "--control") && i + 1 < argc) {
            control = argv[++i];
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (!control || !*control)
        control = FAD_DEFAULT_CONTROL;
    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) < 0) {
        fprintf(stderr, "finack-run: libfinack-preload.so is not beside finack-run nor in "
                        "../lib\n");
        return 1;
    }
    if (!reachable(control) && !passthrough) {
        fprintf(stderr, "finack-run: finackd is not running at %s (%s): start it with "
                        "finackd --tap NAME --addr A/P --control %s, or pass --passthrough\n",
                control, strerror(errno), control);
        return 1;
    }
    const char *old = getenv("LD_PRELOAD");
    char preload[2 * PATH_MAX];
    snprintf(preload, sizeof preload, "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv("FINACK_CONTROL", control, 1);
    if (passthrough)
        setenv("FINACK_PASSTHROUGH", "1", 1);
    execvp(argv[i], argv + i);
    fprintf(stderr, "finack-run: %s: %s\n", argv[i], strerror(errno));
    return 127;
}
