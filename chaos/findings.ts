/** Notes attached to a missed chaos criterion: what is known, and what it would take to settle it. */
export const CHAOS_FINDINGS: Record<string, string> = {
  C1:
    'Memory: no 5xx and no crash, but api-v2 RSS kept rising through the second half of the run (details.rssAfterPass, ~8 MiB per 1 250 malformed requests; ' +
    'api-v1 rose less). RSS cannot tell a leak from V8 growing its heap (nothing forces a GC in the service process), so this is not proven either way. ' +
    'What it would take: run api-v2 with --heapsnapshot-signal=SIGUSR2 (or --expose-gc behind a bench-only flag), snapshot after pass 4 and pass 8 and diff retained objects; ' +
    'the 1.1 MB bodies (huge-body kind, 413) and 431 header overflows are the first suspects since they allocate most.',
  C2:
    'Investigated on 2026-11-21 (device-tcp under --inspect and --heapsnapshot-signal): device-tcp retains nothing per hostile session. ' +
    'Heap snapshots before and after a second wave of 10 000 sessions: Connection 200 → 200, FrameDecoder 200 → 200, TokenBucket 1 → 1 (per-address buckets are swept), ' +
    'Timeout 71 → 71, live JS heap +0.1 MiB (compiled code); over the first wave, after a forced full GC: live heap +0.7 to +1.3 MiB, external +0.0 MiB, connections and sessions back to 200. ' +
    'The earlier misses (RSS 136 → 172 MiB 15 s after the attack) were garbage not yet collected: reproduced without a GC before the attack, RSS went 144 → 173 MiB, ' +
    "of which V8's committed heap 61 → 91 MiB holding 67 MiB of which 22.5 MiB was live; one full GC brought RSS to 107 MiB (V8 heap 25 MiB). " +
    'What stays after a full GC is malloc memory freed but kept by glibc (main + thread arenas +5 to +8 MiB, /proc/<pid>/smaps) while external memory is back to baseline. ' +
    'So C2 now judges retained memory (after a forced full GC, plus the per-wave snapshot diff) and RSS after a full GC; raw RSS is reported with its split. ' +
    'If this figure is missed, details.retained names the check that failed and perWave.largestChanges the constructors that grew; ' +
    'open the two snapshots in chaos/results/logs/heap/ in DevTools (Comparison view) or diff them with `npx tsx bench/lib/heapsnapshot.ts a b`.',
};
