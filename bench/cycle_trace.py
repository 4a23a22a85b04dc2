#!/usr/bin/env python3
"""cycle_trace.py TRACE SERVER_PID — reads an ftrace text dump
(raw_syscalls:sys_enter/sys_exit and sched:sched_switch, trace_clock mono)
taken while `ksock crr` ran connection cycles one at a time against a
server (bench/tap_cycle_trace.sh), and prints where a cycle's time goes:

  - cycles traced and their mean length (from one connect(2) of the
    client to the next);
  - the server's system calls a cycle, by call and result (a read that
    took a frame or found nothing, a poll(2) that said ready or timed
    out), with their time;
  - the server's time between system calls (its own work, plus the way
    in and out of the kernel), by the pair of calls around it;
  - how often the server slept (was switched out) a cycle;
  - one cycle's timeline, the client (C) and the server (S) side by side.

Only the server's main thread (SERVER_PID: lwIP's driver has a second
thread, which sleeps) and the client (any ksock) are read; times are
microseconds."""
import collections
import re
import sys

LINE = re.compile(r'^\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): (.*)$')
NAMES = {0: 'read', 1: 'write', 3: 'close', 7: 'poll', 19: 'readv', 20: 'writev', 41: 'socket',
         42: 'connect', 44: 'sendto', 45: 'recvfrom', 54: 'setsockopt', 202: 'futex', 232: 'epoll_wait',
         426: 'io_uring_enter'}
CONNECT, SOCKET = 42, 41
RESULT_KINDS = (0, 7, 19)  # calls whose result says what they found


def events(path, server):
    for line in open(path, errors='replace'):
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, _cpu, ts, ev, rest = m.groups()
        who = 'C' if comm == 'ksock' else 'S' if pid == server else None
        if who:
            yield who, pid, float(ts) * 1e6, ev, rest


def nr_of(rest):
    return int(rest.split()[1])


def name(nr, ret=None):
    n = NAMES.get(nr, f'NR {nr}')
    if ret is None or nr not in RESULT_KINDS:
        return n
    if nr == 7:
        return f'{n}={"ready" if ret != "0" else "timeout"}'
    return f'{n}={"EAGAIN" if ret == "-11" else "frame"}'


def analyse(path, server):
    connects, sockets = [], []
    calls = collections.Counter()
    call_us = collections.Counter()
    gaps = collections.defaultdict(float)
    gap_n = collections.Counter()
    switches = 0
    entered = {}
    last_exit = None
    for who, pid, t, ev, rest in events(path, server):
        if who == 'C' and ev == 'sys_enter' and nr_of(rest) == CONNECT:
            connects.append(t)
        if who == 'C' and ev == 'sys_enter' and nr_of(rest) == SOCKET:
            sockets.append(t)
        if who != 'S' or not connects:
            continue
        if ev == 'sys_enter':
            nr = nr_of(rest)
            entered[pid] = (nr, t)
            if last_exit:
                key = (last_exit[0], name(nr))
                gaps[key] += t - last_exit[1]
                gap_n[key] += 1
        elif ev == 'sys_exit' and pid in entered:
            nr, t0 = entered.pop(pid)
            kind = name(nr, rest.split('=')[1].strip())
            calls[kind] += 1
            call_us[kind] += t - t0
            last_exit = (kind, t)
        elif ev == 'sched_switch' and f'prev_pid={pid} ' in rest:
            switches += 1
    return connects, sockets, calls, call_us, gaps, gap_n, switches


def timeline(path, server, start, end):
    """One cycle: the client's calls and the server's, as they happened."""
    entered = {}
    for who, pid, t, ev, rest in events(path, server):
        if t < start or t > end:
            continue
        pad = ' ' * 34 if who == 'S' else ''
        if ev == 'sys_enter':
            entered[(who, pid)] = (nr_of(rest), t)
        elif ev == 'sys_exit' and (who, pid) in entered:
            nr, t0 = entered.pop((who, pid))
            ret = rest.split('=')[1].strip()
            print(f'  {pad}{who} {t0 - start:5.0f}-{t - start:4.0f} {NAMES.get(nr, nr)} = {ret}')
        elif ev == 'sched_switch' and f'prev_pid={pid} ' in rest:
            print(f'  {pad}{who} {t - start:5.0f}      sleeps')


def main():
    path = sys.argv[1]
    if len(sys.argv) != 3:
        sys.exit('usage: cycle_trace.py TRACE SERVER_PID')
    server = sys.argv[2]
    connects, sockets, calls, call_us, gaps, gap_n, switches = analyse(path, server)
    if len(connects) < 3:
        sys.exit('cycle_trace: fewer than 3 cycles in the trace')
    n = len(connects) - 1
    span = connects[-1] - connects[0]
    print(f'{n} cycles traced, {span / n:.1f} us each (tracing slows them); '
          f'the server slept {switches / n:.2f} times a cycle')
    print('server system calls a cycle:')
    total_n = total_us = 0
    for kind, c in sorted(calls.items(), key=lambda kv: -call_us[kv[0]]):
        total_n += c
        total_us += call_us[kind]
        print(f'  {kind:<22} {c / n:5.2f}  {call_us[kind] / n:6.2f} us  ({call_us[kind] / c:5.2f} each)')
    print(f'  {"all":<22} {total_n / n:5.2f}  {total_us / n:6.2f} us')
    print('server time between calls a cycle (its work, and the way in and out of the kernel):')
    gap_total = 0
    for key, us in sorted(gaps.items(), key=lambda kv: -kv[1]):
        gap_total += us
        if us / n >= 0.2:
            print(f'  {key[0]:>16} -> {key[1]:<16} {gap_n[key] / n:5.2f}  {us / n:6.2f} us')
    print(f'  {"all":>16}    {"":<16} {sum(gap_n.values()) / n:5.2f}  {gap_total / n:6.2f} us')
    mid = len(sockets) // 2
    print('one cycle, from a socket(2) of the client to its next (us):')
    timeline(path, server, sockets[mid], sockets[mid + 1])


if __name__ == '__main__':
    main()
