/* finack/finack.h — everything libfinack exports. */
#ifndef FINACK_FINACK_H
#define FINACK_FINACK_H

#include <finack/counters.h>
#include <finack/fault.h>
#include <finack/gso.h>
#include <finack/host.h>
#include <finack/loop.h>
#include <finack/memlink.h>
#include <finack/pcap.h>
#include <finack/prng.h>
#include <finack/sim.h>
#include <finack/stack.h>
#include <finack/tap.h>
#include <finack/tcp.h>
#include <finack/types.h>
#include <finack/udp.h>

#endif
