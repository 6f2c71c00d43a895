// Deploy benchmark (issue 5): scheduler start to deploy complete in the development
// environment, and the scheduler's memory. Node steps here run real (emulated) installs:
// every scli/rpm call is a child process, so this measures the framework plus the
// emulator's per-call cost, not the framework's overhead alone.
// Usage: npm run bench:deploy [-- --agents 5]
import { startDemo } from "../sim/demo/demo.js";

const i = process.argv.indexOf("--agents");
const agents = i > 0 ? Number(process.argv[i + 1]) : 5;
const started = Date.now();
const rssBefore = process.memoryUsage().rss;
const demo = await startDemo({
  agents,
  storageAgents: Math.min(agents, 3),
  out: () => {},
  deadlineMs: 600_000,
});
let peakHeap = 0;
const sampler = setInterval(
  () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)),
  50,
);
try {
  const plan = await demo.healthy;
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `deploy of 3 MDM + ${agents - 3} data nodes: ${seconds.toFixed(1)} s (${plan.progress.total} steps)`,
  );
  console.log(
    `process heap peak ${(peakHeap / 2 ** 20).toFixed(0)} MB, rss ${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)} MB above start (scheduler and emulator share this process)`,
  );
} finally {
  clearInterval(sampler);
  await demo.stop();
}
process.exit(0);
