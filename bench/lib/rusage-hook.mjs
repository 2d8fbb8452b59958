// Preloaded into the controller (`node --import`): when the process exits, writes its own
// resource usage (peak RSS, user and system CPU) to $BENCH_RUSAGE_FILE. The controller speaks
// to the hosts through ssh2 in-process, so this is the whole controller's cost.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKb: usage.maxRSS, userCpuUs: usage.userCPUTime, systemCpuUs: usage.systemCPUTime }));
  });
}
