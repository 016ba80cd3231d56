/**
 * What the profiles showed, per row (`npx tsx bench/profile.ts <workload>` reproduces them: the
 * built server under `node --cpu-prof` / `--heap-prof` running the row's workload, then a self-time
 * summary per thread). Written by hand from those runs (2026-11-30, load average 4–9 on 2 CPUs) and
 * printed next to each row of BENCHMARKS.md; re-profile when a row's figure moves.
 */
const UPLOAD_BOUND =
  'what bounds it: per byte the service receives the upload (loopback TCP copy into 64 KiB Buffers, one per socket read) and hashes it on one thread, while curl reads the file and sends it in a second process; sha1sum is one process reading from the page cache. On an idle moment a bare node:http server that only drains and SHA-1-hashes a `curl -T` upload of 256 MiB took 0.27 s against sha1sum 0.39 s (1.4×); with the load of the other agents it took 0.57–0.94 s against 0.58–0.69 s, because our pipeline needs two processes scheduled where sha1sum needs one.';

const NOTES: Record<string, string[]> = {
  '1': [
    '`bench/profile.ts upload 1.2`: server main thread busy 59 % of the run (idle while curl starts and between runs); self time node:crypto Hash.update 35 %, garbage collector 15 % (the 64 KiB Buffer per socket read), native (program) 8 %, stream/async-iterator glue ≤ 3 %. Before the change: the single bank went to a worker — main thread postMessage 10 %, copy into the shared block (pack) 6 %, GC 19 %, worker idle most of the time; one bank is now hashed on the event loop as chunks arrive (src/hash/parallel.ts LOCAL_BANKS), no copy, no messages (a 64 KiB chunk hashes in ~40 µs, so other requests still interleave).',
    UPLOAD_BOUND,
  ],
  '2': ['`bench/profile.ts upload sha256`: main thread Hash.update 35 %, GC 13 %, native 9 %; same path as row 1 (SHA-256 with SHA-NI is as fast as SHA-1 in OpenSSL, while sha256sum is about half as fast as sha1sum, hence the larger ratio).'],
  '3': [
    '`bench/profile.ts upload sha1,sha256,sha384,sha512`: main thread Hash.update (sha1, on the event loop) 22 %, GC 17 %, postMessage 16 %, copy into shared blocks 4 %; the two workers 93 % in Hash.update (sha256 + sha384 + sha512). postMessage was 27 % while every update posted its SharedArrayBuffer; blocks are now sent to a worker once and updates name them by number.',
    'what bounds it: the four hashes cost ~1 s of CPU per 256 MiB with OpenSSL (sha384/sha512 ~0.33 s each), plus receiving and curl, on 2 CPUs shared with other agents; the peer runs the four tools one after another on one CPU.',
  ],
  '4': ['`bench/profile.ts upload 1.2 multipart`: as row 1 plus busboy looking for the boundary (indexOfBuffer 4 %, StreamSearch 1 %); GC 13 %.'],
  '5': ['Not profiled separately: each streamed part goes through the same ParallelHasher as rows 1–3 (sha1 on the event loop, sha256 on a worker) behind busboy as in row 4; the 16 MiB kernel and 128 MiB initrd dominate.'],
  '6a': [
    '`bench/profile.ts commands 1.2`: server main thread 92 % busy; writev 25 % (the response write: on loopback the kernel delivers the segment to the client inside that call), AbortController per transaction 4 %, the per-transaction checkpoint of the session (engine snapshot: snapshotState, toHex, hexSlice) ~6 %, TPM_Extend\'s SHA-1 ~3 %, reading the 34-byte body through a stream async iterator (createAsyncIterator, eos, limitedChunks) ~3 %, strict query re-parse ~2 %, GC 4 %; the rest is spread thin over Fastify and Node (routing, params/query schema validation, three async hooks per request — the two of src/http/edge.ts with a request timer each, and preValidation — and the session queue\'s promise chain), none above 1 %.',
    'durable store (measured after it landed, same machine): every transaction now commits to SQLite (WAL, synchronous=FULL) before its response, and a session creation inserts its row. Without group commit this row fell to 2,064 cmd/s; SQLite group commit (src/sessions/sqlite-store.ts: the writes of one event-loop turn share one transaction and one WAL sync) gives the figure in the row (the same row with the in-memory store, before the durable store landed, measured about 9,000 cmd/s for 6a and 6,400 sessions/s for 7). The profiles above predate the store; the WAL sync and the JSON of the session head per commit are now the largest items not paid by the bare route.',
    'what bounds it: per-request work, not the TPM (the in-process engine does > 100k TPM_Extend/s). Ours costs several times what a bare Fastify route costs per request (ratio in the row); the largest single items are the response syscall (also paid by the bare route) and the per-transaction checkpoint + AbortController in src/sessions/session.ts, which another helper is changing now, so it was left alone here. One swtpm stream is a C process answering over a Unix socket with no HTTP at all, and its rate varies several-fold between runs on this machine (see its range).',
  ],
  '6b': [
    '`bench/profile.ts commands 2.0`: writev 20 %, the PCR part of the per-transaction checkpoint (hex of every PCR of 4 banks: hexValues/hexSlice) 9 % (was 96 toHex calls on 96 separate arrays), AbortController 3 %, GC 5 %; otherwise as row 6a.',
    'what bounds it: as row 6a.',
    'durable store (measured after it landed, same machine): every transaction now commits to SQLite (WAL, synchronous=FULL) before its response, and a session creation inserts its row. Without group commit this row fell to 1,809 cmd/s; SQLite group commit (src/sessions/sqlite-store.ts: the writes of one event-loop turn share one transaction and one WAL sync) gives the figure in the row (the same row with the in-memory store, before the durable store landed, measured about 9,000 cmd/s for 6a and 6,400 sessions/s for 7). The profiles above predate the store; the WAL sync and the JSON of the session head per commit are now the largest items not paid by the bare route.',
  ],
  '7': [
    'durable store (measured after it landed, same machine): every transaction now commits to SQLite (WAL, synchronous=FULL) before its response, and a session creation inserts its row. Without group commit this row fell to 1,835 sessions/s; SQLite group commit (src/sessions/sqlite-store.ts: the writes of one event-loop turn share one transaction and one WAL sync) gives the figure in the row (the same row with the in-memory store, before the durable store landed, measured about 9,000 cmd/s for 6a and 6,400 sessions/s for 7). The profiles above predate the store; the WAL sync and the JSON of the session head per commit are now the largest items not paid by the bare route.',
    '`bench/profile.ts create`: writev 29 %, GC 8 %, response (sessionView + serialize) 3 %, building the TPM (TisDevice, PcrStore, initialPcrs, ObjectSlots, newState, Startup) ~7 %. Fixed: randomBytes per session id and per TPM 2.0 proof was 7 % (now one randomFillSync per 4 KiB block, src/bytes/random.ts) and create() swept every session each time (expired + sweep 5 %, growing with the store: 1,434/s at 10k vs 2,628/s at 1k; now only at capacity).',
    'Memory (`bench/profile.ts sessions 10000 heap`, `--trace-gc`): before, 967 MiB RSS for 10k sessions with events (86 KiB each): a TPM 2.0 kept 96 separate PCR arrays (4 banks × 24), every TIS a 4 KiB FIFO buffer and every TXT log 4 KiB up front, and both logs a second copy of every event. Now one buffer per TPM for its PCRs, the FIFO buffer on first use, a 512-byte TXT start, events read back from the log bytes: ~8 KiB live per session (83 MiB sampled live for 10k). V8 still kept 274 MiB committed for an 82 MiB live heap (it grows the heap up to ~4× what survives when GC is cheap), so src/server.ts sets --heap-growing-percent=30.',
  ],
  '8': ['Not re-profiled: the upload is streamed and hashed as it arrives (row 1\'s path); the growth is socket and stream buffers, not the blob.'],
  '9a': ['Not re-profiled (the seed driver path is unchanged). An A/B of bench/tis-fifo.ts found that a getter for the lazily allocated FIFO buffer halved this path (object literal with an accessor); the buffer is now a plain property set on first access, and the path is back to the branch base\'s speed.'],
  '9c': ['The careful driver path is unchanged: run standalone on 16 MiB, this branch and its base both reach 121–127 MiB/s once warm. What moves the ratio is the peer: the same swtpm stream measured 40.7 MiB/s in the 2026-11-27 BENCHMARKS.md and 56–124 MiB/s in today\'s runs, so this row flips with the machine\'s state; the in-process path pays for the byte-wide TIS 1.2 FIFO (1 write call per command byte) where swtpm takes each command in one socket write.'],
  '10a': ['Throughput rises with size (the fixed cost — curl start, connection, session turn, 201 — is amortised); no drop.'],
  '10b': ['The O(sessions) sweep in create() (see row 7) made creation slow down with the number of sessions alive; removed.'],
};

export function profileNotes(id: string): string[] {
  return (NOTES[id] ?? []).map((n) => `Profile: ${n}`);
}
