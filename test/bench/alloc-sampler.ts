/**
 * Preloaded (`--import`) into the gateway by `npm run bench -- --alloc`.
 * SIGUSR2 starts V8's sampling heap profiler with the objects that young and
 * full collections freed kept in the samples (without them it shows only
 * what is still alive, and a request's cost to the GC is its garbage); the
 * next SIGUSR2 stops it and writes the profile to
 * `$BENCH_ALLOC_DIR/<pid>-<n>.heapprofile` (renamed into place, so a file
 * that exists is whole). Opening an inspector session in the process costs
 * nothing until sampling starts.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_ALLOC_DIR;
// Bytes between samples: V8's default (32 KB) leaves a request's ~70 KB with two samples.
const interval = Number(process.env.BENCH_ALLOC_INTERVAL ?? 1024);

if (dir) {
  const session = new Session();
  session.connect();
  let sampling = false;
  let written = 0;
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true;
      session.post('HeapProfiler.startSampling', {
        samplingInterval: interval,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      return;
    }
    sampling = false;
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (err) {
        process.stderr.write(`alloc sampler: ${err.message}\n`);
        return;
      }
      const file = join(dir, `${process.pid}-${++written}.heapprofile`);
      writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
