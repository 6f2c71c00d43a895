// A test reporter beside the spec reporter: collects what the chaos and abuse tests
// (test/chaos/) say they tried — lines `chaos: <area>: <what was tried>, held` on their
// standard output — and which of their tests failed, and ends the run with one line that
// sums it up. Files outside test/chaos/ are not its business.
import { sep } from "node:path";

const CHAOS_DIR = `${sep}test${sep}chaos${sep}`;
const LINE = /^chaos: ([^:]+): (.*)$/;

export default async function* chaosSummary(source) {
  const tried = new Map();
  const failed = [];
  let files = 0;
  const seenFiles = new Set();
  for await (const event of source) {
    const file = event.data?.file ?? "";
    if (!file.includes(CHAOS_DIR)) continue;
    if (!seenFiles.has(file)) {
      seenFiles.add(file);
      files += 1;
    }
    if (event.type === "test:stdout" || event.type === "test:stderr") {
      for (const raw of String(event.data.message).split("\n")) {
        const m = LINE.exec(raw.trim());
        if (m) tried.set(m[1], m[2].replace(/^tried\s+/, "").replace(/,\s*held$/, ""));
      }
    } else if (event.type === "test:fail" && event.data.details?.type !== "suite") {
      failed.push(`${file.slice(file.indexOf(CHAOS_DIR) + 1)}: ${event.data.name}`);
    }
  }
  if (files === 0) return;
  const parts = [...tried].map(([area, what]) => `${area} (${what})`);
  const verdict = failed.length ? `FAILED: ${failed.join("; ")}` : "everything held";
  yield `\nchaos summary: ${files} files; tried ${parts.join(", ") || "nothing reported"}; ${verdict}\n`;
}
