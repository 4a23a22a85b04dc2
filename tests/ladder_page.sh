#!/bin/bash
# ladder_page.sh FINACK_SIM FINACK_LADDER OUTDIR — finack-ladder's pages
# rendered in headless Chromium (Debian's) and checked through the DOM,
# against tshark's decode of the same captures:
#   - every page loads with no message in the console;
#   - for each lifecycle scenario's pcap, the ladder has one arrow per
#     segment tshark counts, in the same order, with the same flags and
#     relative seq, ack and length;
#   - finack-sim --html shows every state of lost-last-ack on its side,
#     in order, the states its --json trace gives, and marks the lost ACK;
#   - states inferred from a capture of a loss-free scenario equal the
#     states the stacks traced (a differential test of the inference);
#   - a 200 MB transfer's capture (headers only, with retransmissions)
#     gives a page that draws every retransmission and stays small; its
#     load time in Chromium is printed, not asserted.
# Screenshots of the lifecycle scenarios go to OUTDIR/shots (out of the
# repository) for a person to look at. Needs no root and no network.
set -euo pipefail
SIM=$1 LADDER=$2 OUT=$3
mkdir -p "$OUT/shots"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { echo "ladder_page: chromium is not installed (scripts/deps.sh)"; exit 1; }
command -v tshark >/dev/null || { echo "ladder_page: tshark is not installed"; exit 1; }

# Headless Chromium: the DOM after load, and the console (logged to
# stderr). Its own sandbox needs user namespaces the test may not have.
chrome() { # chrome PAGE DOM_OUT LOG_OUT [extra flags]
    local page=$1 dom=$2 log=$3; shift 3
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$TMP/profile" --enable-logging=stderr --v=0 "$@" \
        --dump-dom "file://$page" > "$dom" 2> "$log"
}

check_console() { # a console message of the page is a failure
    if grep -E 'CONSOLE|Uncaught' "$1"; then
        echo "FAIL: $2: the console was not quiet"; exit 1
    fi
}

fail=0
for sc in open-close lost-syn lost-synack lost-last-ack simultaneous-open \
          simultaneous-close half-close abort zero-window old-duplicate-syn; do
    "$SIM" run "$sc" --pcap "$TMP/$sc.pcap" --html "$TMP/$sc.sim.html" > /dev/null
    "$SIM" run "$sc" --json > "$TMP/$sc.json"
    "$LADDER" "$TMP/$sc.pcap" -o "$TMP/$sc.pcap.html" 2> "$TMP/$sc.ladder.err"
    "$LADDER" "$TMP/$sc.json" -o "$TMP/$sc.json.html" 2>> "$TMP/$sc.ladder.err"
    for kind in pcap sim json; do
        chrome "$TMP/$sc.$kind.html" "$TMP/$sc.$kind.dom" "$TMP/$sc.$kind.log"
        check_console "$TMP/$sc.$kind.log" "$sc ($kind)"
    done
    tshark -r "$TMP/$sc.pcap" -T fields -e tcp.stream -e tcp.flags -e tcp.seq -e tcp.ack \
        -e tcp.len -Y tcp > "$TMP/$sc.tshark" 2> /dev/null
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$TMP/profile" --hide-scrollbars --window-size=1100,1300 \
        --screenshot="$OUT/shots/$sc.png" "file://$TMP/$sc.sim.html" > /dev/null 2>&1 || true
    python3 - "$TMP" "$sc" <<'EOF' || fail=1
import sys, json
from html.parser import HTMLParser
tmp, sc = sys.argv[1], sys.argv[2]

class Dom(HTMLParser):
    """Sections (connections), their arrows and states, in DOM order."""
    def __init__(self):
        super().__init__()
        self.conns = []
        self.in_label = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get('class', '').split()
        if tag == 'section' and 'conn' in cls:
            self.conns.append({'segs': [], 'states': [], 'total': int(a['data-segments'])})
        elif tag == 'g' and 'seg' in cls:
            a['label'] = ''
            self.conns[-1]['segs'].append(a)
        elif tag == 'text' and 'state' in cls:
            self.conns[-1]['states'].append(a)
        self.in_label = tag == 'text' and 'lbl' in cls
    def handle_endtag(self, tag):
        self.in_label = False
    def handle_data(self, data):
        if self.in_label:  # the arrow's label, as a person reads it
            self.conns[-1]['segs'][-1]['label'] += data

def dom(kind):
    d = Dom()
    d.feed(open(f'{tmp}/{sc}.{kind}.dom').read())
    return d.conns

def fail(msg):
    print(f'FAIL: {sc}: {msg}')
    sys.exit(1)

# 1. The pcap's page against tshark, connection by connection.
rows = [l.split('\t') for l in open(f'{tmp}/{sc}.tshark').read().splitlines()]
streams = {}
for r in rows:
    streams.setdefault(int(r[0]), []).append(r)
conns = dom('pcap')
if len(conns) != len(streams):
    fail(f'{len(conns)} connections drawn, tshark has {len(streams)} streams')
for k, c in enumerate(conns):
    want = streams[k]
    if len(c['segs']) != len(want):
        fail(f'connection {k}: {len(c["segs"])} arrows, tshark counts {len(want)} segments')
    for i, (s, w) in enumerate(zip(c['segs'], want)):
        got = (int(s['data-flagbits']), int(s['data-seq']), int(s['data-ack']), int(s['data-len']))
        exp = (int(w[1], 16) & 0x3f, int(w[2]), int(w[3]), int(w[4]))
        if got != exp:
            fail(f'connection {k} segment {i}: flags/seq/ack/len {got}, tshark {exp}')
        # The label a person reads says the same as tshark.
        words = s['label'].split()
        want_words = [f'seq={exp[1]}'] + ([f'ack={exp[2]}'] if exp[0] & 0x10 else []) + \
                     ([f'len={exp[3]}'] if exp[3] else [])
        if any(w not in words for w in want_words):
            fail(f'connection {k} segment {i}: label "{s["label"]}", tshark says {want_words}')

# 2. The simulation's page and the JSON page against the --json trace.
events = [json.loads(l) for l in open(f'{tmp}/{sc}.json')]
segs = [e for e in events if e['event'] == 'segment']
states = {'A': [], 'B': []}
for e in events:
    if e['event'] == 'state':
        states[e['host']].append(e['state'])
for kind in ('sim', 'json'):
    conns = dom(kind)
    drawn = [s for c in conns for s in c['segs']]
    if len(drawn) != len(segs):
        fail(f'{kind} page: {len(drawn)} arrows, the trace has {len(segs)} segments')
    for i, (s, e) in enumerate(zip(drawn, segs)):
        if s['data-flags'] != e['flags'] or s['data-from'] != e['from'] or \
           int(s['data-lost']) != int(e['lost']):
            fail(f'{kind} page: segment {i} is {s["data-from"]} {s["data-flags"]} '
                 f'lost={s["data-lost"]}, the trace says {e["from"]} {e["flags"]} {e["lost"]}')
    for side in 'AB':
        got = [x['data-state'] for c in conns for x in c['states'] if x['data-side'] == side]
        if got != states[side]:
            fail(f'{kind} page: side {side} shows {got}, the trace {states[side]}')
        if any('inferred' in x['class'] for c in conns for x in c['states']):
            fail(f'{kind} page: traced states are marked inferred')

# 3. lost-last-ack: the textbook's sequence, on the right side, in order.
if sc == 'lost-last-ack':
    want = {'A': ['SYN-SENT', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT'],
            'B': ['SYN-RECEIVED', 'ESTABLISHED', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSED']}
    conns = dom('sim')
    for side in 'AB':
        got = [x['data-state'] for x in conns[0]['states'] if x['data-side'] == side]
        if got != want[side]:
            fail(f'side {side}: {got}, not {want[side]}')
    lost = [s for s in conns[0]['segs'] if s['data-lost'] == '1']
    if len(lost) != 1 or lost[0]['data-flags'] != 'ACK' or lost[0]['data-from'] != 'A':
        fail(f'the lost segment should be A\'s last ACK: {lost}')

# 3b. A 4-tuple used twice: each state on its own incarnation (found by
# the review: they went to the newest).
if sc == 'old-duplicate-syn':
    for kind in ('sim', 'json'):
        conns = dom(kind)
        got = [{side: [x['data-state'] for x in c['states'] if x['data-side'] == side]
                for side in 'AB'} for c in conns]
        want = [{'A': [], 'B': ['SYN-RECEIVED', 'CLOSED']},
                {'A': ['SYN-SENT', 'ESTABLISHED'], 'B': ['SYN-RECEIVED', 'ESTABLISHED']}]
        if got != want:
            fail(f'{kind} page: states per connection {got}, not {want}')

# 4. Inference from the capture equals the trace where nothing was lost.
if sc in ('open-close', 'half-close', 'simultaneous-close', 'simultaneous-open'):
    conns = dom('pcap')
    for side in 'AB':
        got = [x['data-state'] for x in conns[0]['states'] if x['data-side'] == side]
        if got != states[side]:
            fail(f'inferred for {side}: {got}, traced {states[side]}')
print(f'ok: {sc}: pcap, simulation and JSON pages agree with tshark and the trace')
EOF
done
[ $fail = 0 ] || exit 1

# More closes (scenario files from the review of the inference: passive
# close, abort in CLOSE-WAIT, simultaneous and asymmetric closes, a lost
# FIN, a lost last ACK, a closed port...): inferred states equal traced.
for f in "$(dirname "$0")"/ladder/*.txt; do
    n=$(basename "$f" .txt)
    "$SIM" run "$f" --pcap "$TMP/$n.pcap" --json > "$TMP/$n.json"
    "$LADDER" "$TMP/$n.pcap" -o "$TMP/$n.html" 2> /dev/null
    python3 - "$TMP" "$n" <<'EOF' || fail=1
import json, re, sys
tmp, n = sys.argv[1], sys.argv[2]
traced = {'A': [], 'B': []}
for line in open(f'{tmp}/{n}.json'):
    e = json.loads(line)
    if e['event'] == 'state':
        traced[e['host']].append(e['state'])
inferred = {'A': [], 'B': []}
for side, name in re.findall(r'data-side="(.)" data-state="([^"]*)"', open(f'{tmp}/{n}.html').read()):
    inferred[side].append(name)
if inferred != traced:
    print(f'FAIL: {n}: inferred {inferred}, traced {traced}')
    sys.exit(1)
print(f'ok: {n}: inferred states equal the trace')
EOF
done
[ $fail = 0 ] || exit 1

# A 200 MB transfer, headers only (snaplen 96), 0.5 % of segments resent.
python3 - "$TMP/big.pcap" <<'EOF'
import struct, sys, random
random.seed(7)
f = open(sys.argv[1], 'wb')
f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 96, 1))
A, B = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(t, src, dst, sp, dp, seq, ack, flags, win, dlen, opts=b''):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, (5 + len(opts) // 4) << 4, flags, win, 0, 0) + opts
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + dlen, 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    eth = b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00'
    pkt = eth + ip + tcp
    wire = len(pkt) + dlen
    pkt = (pkt + b'\0' * dlen)[:96]
    sec, us = int(t), int((t - int(t)) * 1e6)
    f.write(struct.pack('<IIII', sec, us, len(pkt), wire) + pkt)
isa, isb, mss, total = 1000, 5000, 1448, 200 << 20
t = 1.0
frame(t, A, B, 40000, 80, isa, 0, 0x02, 64240, 0, b'\x02\x04\x05\xb4\x01\x03\x03\x07'); t += 1e-4
frame(t, B, A, 80, 40000, isb, isa + 1, 0x12, 65160, 0, b'\x02\x04\x05\xb4\x01\x03\x03\x07'); t += 1e-4
frame(t, A, B, 40000, 80, isa + 1, isb + 1, 0x10, 502, 0); t += 1e-4
seq, acked, resent, n = 0, 0, 0, 0
while seq < total:
    dlen = min(mss, total - seq)
    frame(t, A, B, 40000, 80, isa + 1 + seq, isb + 1, 0x10, 502, dlen)
    if random.random() < 0.005:  # lost: resent right away
        t += 2e-6
        frame(t, A, B, 40000, 80, isa + 1 + seq, isb + 1, 0x10, 502, dlen)
        resent += 1
    seq += dlen; n += 1; t += 1.2e-5
    if n % 2 == 0 or seq >= total:
        frame(t, B, A, 80, 40000, isb + 1, isa + 1 + seq, 0x10, 4000, 0); t += 2e-6
frame(t, A, B, 40000, 80, isa + 1 + seq, isb + 1, 0x11, 502, 0); t += 1e-4
frame(t, B, A, 80, 40000, isb + 1, isa + 2 + seq, 0x11, 4000, 0); t += 1e-4
frame(t, A, B, 40000, 80, isa + 2 + seq, isb + 2, 0x10, 502, 0)
open(sys.argv[1] + '.resent', 'w').write(str(resent))
EOF
start=$(date +%s.%N)
"$LADDER" "$TMP/big.pcap" -o "$TMP/big.html" 2> "$TMP/big.err"
made=$(date +%s.%N)
chrome "$TMP/big.html" "$TMP/big.dom" "$TMP/big.log"
loaded=$(date +%s.%N)
check_console "$TMP/big.log" "200 MB transfer"
python3 - "$TMP" <<'EOF'
import sys, re
tmp = sys.argv[1]
dom = open(f'{tmp}/big.dom').read()
resent = int(open(f'{tmp}/big.pcap.resent').read())
arrows = re.findall(r'<g class="seg[^"]*"[^>]*data-retrans="(\d)"', dom)
drawn_resent = arrows.count('1')
total = int(re.search(r'data-segments="(\d+)"', dom).group(1))
bars = len(re.findall(r'class="rexmit"', dom))
print(f'200 MB transfer: {total} segments, {len(arrows)} arrows drawn, '
      f'{drawn_resent} of {resent} retransmissions on the ladder, {bars} on the graph')
if drawn_resent != resent or bars != resent:
    print('FAIL: a retransmission is missing from the page'); sys.exit(1)
if 'segments not drawn' not in dom:
    print('FAIL: no summary row'); sys.exit(1)
EOF
size=$(stat -c %s "$TMP/big.html")
echo "200 MB transfer: pcap $(stat -c %s "$TMP/big.pcap") bytes; page $size bytes," \
     "made in $(awk "BEGIN{printf \"%.2f\", $made - $start}") s, loaded by Chromium in $(awk "BEGIN{printf \"%.2f\", $loaded - $made}") s"
[ "$size" -lt $((8 << 20)) ] || { echo "FAIL: the page is $size bytes"; exit 1; }
echo "ok: ladder pages; screenshots in $OUT/shots"
