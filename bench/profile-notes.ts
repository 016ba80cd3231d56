/**
 * What the profiles showed, per row (`npx tsx bench/profile.ts <workload>` reproduces them: the
 * built server under `node --cpu-prof` / `--heap-prof` running the row's workload, then a self-time
 * summary per thread and an inclusive one of the main thread). Written by hand from those runs (2026-11-30) and
 * printed next to each row of BENCHMARKS.md; re-profile when a row's figure moves.
 */
const UPLOAD_BOUND =
  'what bounds it: curl reads the file and sends it over loopback TCP in one process while the service receives it in 64 KiB reads and hashes it on one thread in another; sha1sum is one process reading the page cache. The note above gives, from the same run, a bare node:http server (no framework, no session) doing only that with the same `curl -T`: the ceiling of this design on this machine at that moment. The rest of the gap to it is per-upload work of ours (session lookup, the transaction, the durable commit with its WAL sync, the 201 body: ~1.5 ms per upload measured with a 1 MiB file) and the machine\'s noise between passes.';

const NOTES: Record<string, string[]> = {
  '1': [
    '`bench/profile.ts upload 1.2` (2026-11-30, after the changes below): on the main thread the data path is parserOnBody → Readable.push → our \'data\' listener → Hash.update, 52 % of the busy time (Hash.update itself 51 %), GC 9.5 %; nothing else above 1 % during the upload.',
    'Found and fixed today: (1) glibc malloc gave the freed 64 KiB socket read buffers back to the kernel after every collection, so each upload faulted them in again: 40–65k minor page faults per 256 MiB upload (a bare Fastify app with the same route: 17–22k), 0.34–0.42 s per upload against 0.24–0.28 s; with GLIBC_TUNABLES trim_threshold=64 MiB + top_pad=16 MiB (set by `npm start` and the Docker image from package.json config.glibcTunables) it is 0–9k faults and 0.23–0.25 s. Found by comparing per-upload CPU time (/proc/<pid>/stat: 0.40–0.51 s against 0.24–0.29 s), strace -c (1,345 brk calls against 246) and minflt. (2) The body is read in flowing mode (src/http/body.ts pumpChunks): the async iterator read the paused stream up to its high-water mark and stopped, and cost ~3 promises per chunk.',
    UPLOAD_BOUND,
  ],
  '2': ['Same path as row 1 (one bank, hashed on the event loop as chunks arrive), SHA-256 instead of SHA-1: OpenSSL\'s SHA-NI SHA-256 is as fast as its SHA-1 while sha256sum is about half as fast as sha1sum, hence the larger ratio; it moved with row 1\'s fixes.'],
  '3': [
    '`bench/profile.ts upload sha1,sha256,sha384,sha512`: main thread Hash.update (sha1, on the event loop) 22 %, GC 17 %, postMessage 16 %, copy into shared blocks 4 %; the two workers 93 % in Hash.update (sha256 + sha384 + sha512). postMessage was 27 % while every update posted its SharedArrayBuffer; blocks are now sent to a worker once and updates name them by number.',
    'what bounds it: the four hashes cost ~1 s of CPU per 256 MiB with OpenSSL (sha384/sha512 ~0.33 s each), plus receiving and curl, on 2 CPUs; the peer runs the four tools one after another on one CPU.',
  ],
  '4': ['`bench/profile.ts upload 1.2 multipart`: as row 1 plus busboy looking for the boundary (indexOfBuffer 4 %, StreamSearch 1 %); GC 13 %. The multipart file stream still goes through the async iterator (busboy\'s stream is read as the multipart plugin hands it over).'],
  '5': ['Not profiled separately: each streamed part goes through the same ParallelHasher as rows 1–3 (sha1 on the event loop, sha256 on a worker) behind busboy as in row 4; the 16 MiB kernel and 128 MiB initrd dominate.'],
  '6a': [
    '`bench/profile.ts commands 1.2` (2026-11-30, after the changes below; its inclusive summary of the main thread, busy ~85 %): the SQLite group commit 32 % (the UPDATE of the session row with its 2.1 KiB head JSON 20 %, BEGIN/COMMIT writing the WAL pages 11 %; the WAL sync itself runs off the event loop), the response write (writev) 14 %, the transaction body 15 % (TPM_Extend 6 %, the two engine snapshots 4 %), GC 6 %, session lookup + store version check 2–3 %, metrics 2 %; the rest is Fastify and Node spread thin.',
    'Fixed today (this row 5,633 → 13–21k cmd/s across runs): better-sqlite3 statements were prepared on every call (prepare 14 % + transaction wrappers 19 %); the WAL was synced inside COMMIT on the event loop (now fdatasync on the libuv pool, a write acknowledged only after it, src/sessions/sqlite-store.ts); a SELECT of the row version per transaction (now remembered per connection while PRAGMA data_version stays put); savepoints per write (now only when a write of the batch fails); last_used_at and its index entry rewritten on every commit (now by the touch step); 24 Buffer views + toHex per TPM 1.2 snapshot (10 %); an AbortController per transaction; the small-body fast path of readBody was never taken (Node marks a request complete only after the handler starts; now the Content-Length bytes being buffered is enough: +8 %). Tried and undone: keeping each session\'s last committed head as the next undo point saved a snapshot but made those objects outlive the request (GC 11 % → 5 % without it, ~10 % faster).',
    'what bounds it: per-request work in the service, not the TPM (the engine does > 100k TPM_Extend/s in process). A bare Fastify route answering 10 bytes costs ~14–16 µs of server time per request in this bench (figure above); ours ~45–60 µs, of which the durable commit (JSON of the head, the row UPDATE, the WAL page writes — every acknowledged command is on disk) is a third, and the response syscall, the TPM work and Fastify\'s request path most of the rest. With the in-memory store the row is no faster (it deep-copies the head). Reaching 1.5× one swtpm stream (~25–30k cmd/s) needs the commit to cost a few µs (an append-only journal of PCR deltas instead of rewriting the head row) or several server processes; neither was done.',
  ],
  '6b': [
    '`bench/profile.ts commands 2.0` (inclusive summary): the SQLite group commit ~30 % (UPDATE 18 %), TPM2_PCR_Extend with its password session 7.5 %, the head snapshot 7 %, writev 7 %, GC 5–6 %.',
    'Fixed today (3,714 → 11.5–17k cmd/s across runs): as row 6a, plus the TPM 2.0 snapshot: PCR values as one hex string per bank (96 strings were 13 %) and no values for banks with no PCR allocated (a default session\'s head 9.8 → 4.1 KiB: the row spanned three SQLite pages, now one or two).',
    'what bounds it: as row 6a; the TPM 2.0 head is twice the TPM 1.2 one and the command carries an authorization area.',
  ],
  '7': [
    '`bench/profile.ts create` (2026-11-30): GC 12 %, the session row INSERT and its group commit ~20 %, writev 7 %, checkpoints of the WAL 7 % (the store runs them itself with full syncs), building the TPM ~5 %.',
    'Fixed today (3,624 → ~7,000 sessions/s; 308 → ~275–285 MiB): statements prepared per call (as row 6a); `SELECT count(*)` for the session limit walked the table on every creation (now remembered while no other connection commits); the process RSS read from /proc per creation for the memory budget (8 %; now at most every 20 ms); per session, the TPM 1.2 engine held 24 Uint8Array views (2.9 → 0.6 KiB of heap: one 480-byte buffer, views on demand), the metrics wrapper of every engine was an object of 13 closures (~2 KiB; now a class), the TPM 2.0 hash suite was built per TPM (now shared).',
    'Memory (`bench/profile.ts sessions 10000 heap`): ~9 KiB of heap per session with its 10 events, ~3 KiB outside it (PCR buffers, log bytes); V8 keeps ~1.6× the live heap committed (--heap-growing-percent=30 in src/server.ts) plus a 32 MiB new space. A 4 MiB new space (--max-semi-space-size=4) saved ~30 MiB here but cost row 6b ~40 % of its rate, so it was not taken. Keeping the last committed head of every session (to skip a snapshot per transaction) cost ~90 MiB for 10k sessions, and time (row 6a): it is gone.',
  ],
  '8': ['Not re-profiled: the upload is streamed and hashed as it arrives (row 1\'s path); the growth is socket and stream buffers, not the blob. The baseline is higher than before today (glibc now keeps up to 64 MiB it freed, GLIBC_TUNABLES): the buffers of the warm-up uploads stay in the process and the 1 GiB upload reuses them.'],
  '9a': ['Not re-profiled (the seed driver path is unchanged). An A/B of bench/tis-fifo.ts found that a getter for the lazily allocated FIFO buffer halved this path (object literal with an accessor); the buffer is now a plain property set on first access.'],
  '9c': ['The careful driver path is unchanged; what moves the ratio is the peer: the same swtpm stream measured 40.7 MiB/s in the 2026-11-27 BENCHMARKS.md and 56–124 MiB/s on later runs, so this row moves with the machine\'s state; the in-process path pays for the byte-wide TIS 1.2 FIFO (1 write call per command byte) where swtpm takes each command in one socket write.'],
  '10a': ['Throughput rises with size (the fixed cost — curl start, connection, session turn, durable commit, 201 — is amortised); no drop.'],
  '10b': ['Creation no longer slows with the number of sessions alive: the O(sessions) sweep in create() and the count(*) per creation are gone (see row 7).'],
};

export function profileNotes(id: string): string[] {
  return (NOTES[id] ?? []).map((n) => `Profile: ${n}`);
}
