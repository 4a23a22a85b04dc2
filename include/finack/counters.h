/* finack/counters.h — the stack's counters: traffic totals and one
 * counter for every reason a frame or packet is dropped.
 *
 * Read them with fa_stack_counter(stack, FA_CNT_...) or walk them all
 * with fa_counter_name(i) for i < FA_CNT_COUNT. Every drop in the stack
 * bumps exactly one *drop* counter (the kind "drop" below), so a tool
 * can tell why a frame went nowhere. */
#ifndef FINACK_COUNTERS_H
#define FINACK_COUNTERS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* X(name, kind, description): kind is "traffic", "event" or "drop". */
#define FA_COUNTERS(X)                                                         \
    X(RX_FRAMES, traffic, "frames received")                                   \
    X(RX_BYTES, traffic, "bytes received (Ethernet frames)")                   \
    X(TX_FRAMES, traffic, "frames sent")                                       \
    X(TX_BYTES, traffic, "bytes sent (Ethernet frames)")                       \
    X(TX_DEVICE_ERRORS, drop, "frames the device refused to send")             \
    X(TX_GSO_FRAMES, traffic, "super-frames the device cut into segments (TSO)") \
    X(RX_GSO_FRAMES, traffic, "super-frames received that stand for segments (GRO)") \
    X(RX_BAD_OFFLOAD, drop, "frame whose offload metadata does not fit it")   \
    X(TX_OFFLOAD_UNSENT, drop, "super-frame that could not wait for ARP or loop back") \
    X(ETH_TOO_SHORT, drop, "frame shorter than an Ethernet header")            \
    X(ETH_OVERSIZE, drop, "frame longer than MTU + Ethernet header")           \
    X(ETH_NOT_FOR_US, drop, "destination MAC neither ours nor broadcast")      \
    X(ETH_UNKNOWN_TYPE, drop, "EtherType not ARP or IPv4")                     \
    X(ARP_MALFORMED, drop, "ARP packet truncated or with bad lengths")         \
    X(ARP_UNSUPPORTED, drop, "ARP for other hardware/protocol or opcode")      \
    X(ARP_NOT_FOR_US, drop, "ARP whose target is another address")             \
    X(ARP_BAD_SENDER, drop, "ARP sender MAC bad or not the Ethernet source")  \
    X(ARP_REQUESTS_IN, event, "ARP requests for our address answered")         \
    X(ARP_REPLIES_IN, event, "ARP replies received for our address")           \
    X(ARP_REQUESTS_OUT, event, "ARP requests sent (incl. gratuitous)")         \
    X(ARP_CACHE_FULL, drop, "packet dropped: ARP cache full (none to take, or its pending one taken)") \
    X(ARP_QUEUE_FULL, drop, "packet dropped: ARP pending queue full")          \
    X(ARP_UNRESOLVED, drop, "packet dropped: next hop never answered ARP")     \
    X(IP_TOO_SHORT, drop, "IPv4 packet shorter than its header")               \
    X(IP_BAD_VERSION, drop, "IP version not 4")                                \
    X(IP_BAD_IHL, drop, "IPv4 header length < 20 or past the packet")         \
    X(IP_BAD_TOTAL_LEN, drop, "IPv4 total length beyond frame or < header")    \
    X(IP_BAD_CHECKSUM, drop, "IPv4 header checksum wrong")                     \
    X(IP_BAD_OPTIONS, drop, "IPv4 options malformed (a length or pointer wrong)") \
    X(IP_SOURCE_ROUTE, drop, "IPv4 source-routed (LSRR/SSRR): a host drops it, as Linux") \
    X(IP_BAD_SRC, drop, "IPv4 source broadcast, multicast or ours; TCP from 0.0.0.0") \
    X(IP_NOT_FOR_US, drop, "IPv4 destination not ours nor broadcast")          \
    X(IP_FRAGMENT, drop, "IPv4 fragment (reassembly not supported)")           \
    X(IP_UNKNOWN_PROTO, drop, "IPv4 protocol not handled")                     \
    X(IP_NO_ROUTE, drop, "packet to send has no route (no gateway)")           \
    X(IP_TOO_BIG, drop, "packet to send larger than the MTU")                  \
    X(IP_LOOPED, traffic, "packets sent to our own address (loopback)")        \
    X(IP_LOOP_FULL, drop, "packet to our own address: loopback queue full")    \
    X(ICMP_TOO_SHORT, drop, "ICMP message shorter than 8 bytes")               \
    X(ICMP_BAD_CHECKSUM, drop, "ICMP checksum wrong")                          \
    X(ICMP_BCAST_ECHO, drop, "echo request to a broadcast address ignored")    \
    X(ICMP_BCAST_ERROR, drop, "ICMP error to a broadcast address ignored (forged)") \
    X(ICMP_UNHANDLED, drop, "ICMP type finack does not act on")                \
    X(ICMP_ECHO_IN, event, "echo requests answered")                           \
    X(ICMP_ECHO_REPLY_IN, event, "echo replies received")                     \
    X(ICMP_UNREACH_IN, event, "destination unreachable received")              \
    X(ICMP_OTHER_ERROR_IN, event, "time exceeded or parameter problem received") \
    X(ICMP_UNREACH_OUT, event, "destination unreachable sent")                 \
    X(ICMP_RATE_LIMITED, event, "ICMP error not sent: rate limit")             \
    X(UDP_TOO_SHORT, drop, "UDP datagram truncated or bad length")             \
    X(UDP_BAD_CHECKSUM, drop, "UDP checksum wrong")                            \
    X(UDP_NO_PORT, drop, "UDP datagram to a port with no socket")              \
    X(UDP_QUEUE_FULL, drop, "UDP datagram: no room in the socket's queue")     \
    X(UDP_DATAGRAMS_IN, traffic, "UDP datagrams queued to sockets")            \
    X(UDP_DATAGRAMS_OUT, traffic, "UDP datagrams sent")                        \
    X(TCP_TOO_SHORT, drop, "TCP segment shorter than its header")              \
    X(TCP_BAD_OFFSET, drop, "TCP data offset < 5 or past the segment")         \
    X(TCP_BAD_OPTIONS, drop, "TCP option with a bad length")                   \
    X(TCP_BAD_CHECKSUM, drop, "TCP checksum wrong")                            \
    X(TCP_BAD_FLAGS, drop, "TCP SYN with FIN or RST, or no flags at all")      \
    X(TCP_TO_BROADCAST, drop, "TCP segment to a broadcast address")            \
    X(TCP_NO_LISTENER, drop, "TCP segment to a closed port (RST sent)")        \
    X(TCP_BACKLOG_FULL, drop, "SYN dropped: listener backlog full")            \
    X(TCP_HALF_OPEN_FULL, drop, "SYN dropped: the stack's half-open bound reached") \
    X(TCP_SYNCOOKIES_FAILED, drop, "ACK to a listener while cookies are in use: no valid cookie") \
    X(TCP_NO_MEMORY, drop, "SYN dropped: connection table full")              \
    X(TCP_UNACCEPTABLE, drop, "TCP segment outside the window (ACK sent)")     \
    X(TCP_BAD_ACK, drop, "TCP ACK of data never sent")                         \
    X(TCP_STRAY, drop, "TCP segment ignored in its state (RFC 9293)")          \
    X(TCP_OOO_FULL, drop, "out-of-order segment: no room to hold it")          \
    X(TCP_NO_BUFFER, drop, "TCP data dropped: no memory for the receive buffer") \
    X(TCP_SEGS_IN, traffic, "TCP segments received")                           \
    X(TCP_SEGS_OUT, traffic, "TCP segments sent")                              \
    X(TCP_RETRANSMITS, event, "TCP segments retransmitted")                    \
    X(TCP_LOSS_PROBES, event, "TCP tail loss probes sent (RFC 8985)")          \
    X(TCP_PAWS_DROPPED, drop, "TCP segment with an old timestamp (PAWS, ACK sent)") \
    X(TCP_RECOVERIES, event, "TCP fast recoveries entered (RACK or 3 dup ACKs)") \
    X(TCP_RTO_RECOVERIES, event, "TCP retransmission timeouts with data out")  \
    X(TCP_LOST_RETRANSMITS, event, "TCP retransmissions found lost (RFC 8985)") \
    X(TCP_DSACKS_IN, event, "TCP D-SACK blocks received (RFC 2883)")           \
    X(TCP_DSACK_UNSENT, event, "TCP D-SACK not reported: too many waiting at once") \
    X(TCP_UNDOS, event, "TCP window reductions undone: spurious retransmission") \
    X(TCP_SACK_BAD, drop, "TCP SACK block outside what was sent, ignored")     \
    X(TCP_HYSTART_CSS, event, "TCP slow starts turned conservative (RFC 9406)") \
    X(TCP_ICMP_IGNORED, drop, "ICMP error about no TCP segment in flight (RFC 5927)") \
    X(TCP_PMTU_LOWERED, event, "TCP MSS lowered by ICMP fragmentation needed")  \
    X(TCP_SB_MERGED, event, "TCP scoreboard entries merged: a resend's split needed room") \
    X(TCP_SB_MERGED_SACKED, event,                                             \
      "TCP scoreboard merges of a SACKed and an unSACKed entry: SACKed bytes may go again") \
    X(TCP_SACK_UNSPLIT, event,                                                 \
      "TCP SACK blocks over part of a segment not kept: scoreboard full, bytes may go again") \
    X(TCP_ICMP_ABORTS, event, "TCP connections ended by an ICMP hard error")    \
    X(TCP_RST_OUT, event, "TCP resets sent")                                   \
    X(TCP_TIMEWAIT_FULL, event, "TIME-WAIT entry ended early: table full (tcp_max_timewait)") \
    X(TCP_ORPHAN_WINDOW_SHUT, event,                                           \
      "orphan ended: its peer kept the window shut (tcp_orphan_retries)")      \
    X(TCP_SYNCOOKIES_SENT, event, "SYN-ACKs with a SYN cookie (no state kept)") \
    X(TCP_SYNCOOKIES_OK, event, "connections opened by a SYN cookie")         \
    X(TCP_SYNCOOKIES_EXPIRED, event, "ACKs to a listener with a cookie of ours past its life") \
    X(TCP_RST_IN, event, "TCP resets accepted")                                \
    X(TCP_CHALLENGE_ACKS, event, "RFC 5961 challenge ACKs sent")                \
    X(TCP_CHALLENGE_LIMITED, event, "challenge ACK not sent: stack-wide budget") \
    X(TCP_INVALID_LIMITED, event,                                              \
      "ACK for an invalid segment not sent: per-connection interval")          \
    X(TCP_TIMEOUTS, event, "connections aborted by a retry or idle limit")     \
    X(TCP_ABORT_ON_TIMEOUT, event,                                             \
      "of them, synchronized ones whose resends ran out (R2; Linux's TCPAbortOnTimeout)")

enum fa_counter_id {
#define FA_COUNTER_ENUM(name, kind, desc) FA_CNT_##name,
    FA_COUNTERS(FA_COUNTER_ENUM)
#undef FA_COUNTER_ENUM
        FA_CNT_COUNT
};

/* "RX_FRAMES", "IP_BAD_CHECKSUM", ...: the enum name without FA_CNT_;
 * NULL if out of range. */
const char *fa_counter_name(unsigned id);
/* One line saying what the counter counts; NULL if out of range. */
const char *fa_counter_description(unsigned id);
/* Nonzero if the counter counts dropped frames/packets. */
int fa_counter_is_drop(unsigned id);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
