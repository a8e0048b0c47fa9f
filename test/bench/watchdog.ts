/**
 * Preloaded (`--import`) into every process the benchmark starts, the
 * gateway included: stops the process when the benchmark that started it is
 * gone (killed, crashed) and after a hard time limit, so nothing outlives a
 * run. SIGTERM first, so the gateway drains and writes its CPU profile.
 */
const startedBy = process.ppid;
const maxSeconds = Number(process.env.BENCH_CHILD_MAX_SECONDS ?? 900);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 35_000).unref();
}

setInterval(() => {
  if (process.ppid !== startedBy) stop();
}, 500).unref();
setTimeout(stop, maxSeconds * 1000).unref();
