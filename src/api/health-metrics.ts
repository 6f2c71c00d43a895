// Health as Prometheus series, for deploy/prometheus/alerts.yml: one series per active
// condition (type, severity, object; the status is platform_health), per-pool used ratio and rebuild
// progress, and what the scheduler's own alerts need (state store failing, the oldest
// failing step of each plan). Read when scraped; labels never carry secrets.
import { Gauge, type Registry } from "prom-client";
import type { HealthReport } from "../framework/health/types.js";

const P = "scaleio_framework_";

export interface HealthMetricsSource {
  report(): HealthReport;
  /** Per pool (by its object name): used ratio (0..1) and rebuild progress (0..1, 1 idle). */
  pools(): { pool: string; usedRatio: number; rebuildProgress: number }[];
  /** True while writes to the state store fail. */
  storeFailing(): boolean;
  /** Steps in ERROR, with how long each has been failing (seconds). */
  failingSteps(): { plan: string; step: string; seconds: number }[];
}

export function registerHealthMetrics(
  registry: Registry,
  src: () => HealthMetricsSource | undefined,
): void {
  const registers = [registry];
  new Gauge({
    name: `${P}condition`,
    help: "1 for every active health condition",
    labelNames: ["type", "severity", "object"],
    registers,
    collect() {
      this.reset();
      for (const c of src()?.report().conditions ?? [])
        this.set({ type: c.type, severity: c.severity, object: c.object }, 1);
    },
  });
  new Gauge({
    name: `${P}pool_used_ratio`,
    help: "Used share of each pool's non-spare capacity (the MDM's capacity-alert measure)",
    labelNames: ["pool"],
    registers,
    collect() {
      this.reset();
      for (const p of src()?.pools() ?? []) this.set({ pool: p.pool }, p.usedRatio);
    },
  });
  new Gauge({
    name: `${P}pool_rebuild_progress_ratio`,
    help: "Progress of each pool's rebuild (1 when nothing is to be rebuilt)",
    labelNames: ["pool"],
    registers,
    collect() {
      this.reset();
      for (const p of src()?.pools() ?? []) this.set({ pool: p.pool }, p.rebuildProgress);
    },
  });
  new Gauge({
    name: `${P}state_store_failing`,
    help: "1 while writes to the state store fail",
    registers,
    collect() {
      this.set(src()?.storeFailing() ? 1 : 0);
    },
  });
  new Gauge({
    name: `${P}step_failing_seconds`,
    help: "How long the longest-failing step of each plan has been failing (0: none)",
    labelNames: ["plan"],
    registers,
    collect() {
      this.reset();
      const worst = new Map<string, number>();
      for (const s of src()?.failingSteps() ?? [])
        worst.set(s.plan, Math.max(worst.get(s.plan) ?? 0, s.seconds));
      for (const [plan, seconds] of worst) this.set({ plan }, seconds);
    },
  });
}
