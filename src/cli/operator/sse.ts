// Follows the scheduler's event stream: parses server-sent events, and on a dropped stream
// reconnects with Last-Event-ID so nothing the server still holds is missed.
import type { OperatorEvent, OperatorEventType } from "../../framework/events.js";
import { CliError, type ApiClient } from "./client.js";

/** Parses complete SSE frames out of a text buffer; returns the events and the rest. */
export function parseFrames(buffer: string): { events: OperatorEvent[]; rest: string } {
  const events: OperatorEvent[] = [];
  const frames = buffer.split("\n\n");
  const rest = frames.pop() ?? "";
  for (const f of frames) {
    let id: number | undefined;
    let type: string | undefined;
    const data: string[] = [];
    for (const line of f.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "id") id = Number(value);
      else if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    if (id === undefined || !type || data.length === 0) continue;
    const parsed = JSON.parse(data.join("\n")) as { time?: number };
    events.push({
      id,
      type: type as OperatorEventType,
      time: typeof parsed.time === "number" ? parsed.time : Date.now(),
      data: parsed,
    });
  }
  return { events, rest };
}

export async function followEvents(
  client: ApiClient,
  history: number,
  onEvent: (e: OperatorEvent) => void,
): Promise<never> {
  let lastId: number | undefined;
  let failures = 0;
  for (;;) {
    try {
      const res = await client.raw(
        lastId === undefined ? `/v1/events?history=${history}` : "/v1/events",
        {
          headers: {
            accept: "text/event-stream",
            ...(lastId !== undefined ? { "last-event-id": String(lastId) } : {}),
          },
        },
      );
      failures = 0;
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        const r = parseFrames(buf);
        buf = r.rest;
        for (const e of r.events) {
          lastId = e.id;
          onEvent(e);
        }
      }
    } catch (err) {
      // The first connection failing is an error; a dropped stream is retried.
      if (lastId === undefined && err instanceof CliError) throw err;
      if (++failures > 30) throw err;
    }
    await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** failures)));
  }
}
