/* families.h — finack-sim's "apps" and "attack" sweep families
 * (families.c). */
#ifndef FA_PROG_FAMILIES_H
#define FA_PROG_FAMILIES_H

#include <stddef.h>
#include <stdint.h>

/* 1 if family is "apps" or "attack". */
int family_known(const char *family);
/* Runs one seed; prints what the seed drew if verbose. Returns 0, -1
 * with why filled in, or -ENOENT for an unknown family. */
int family_run(const char *family, uint64_t seed, int verbose, char *why, size_t why_len);

#endif
