// The live event stream. EventSource reconnects by itself while the server is away. When the
// server refuses the stream (EventSource then gives up; e.g. reads protected by the token,
// which EventSource cannot send), the same stream is read with fetch and the bearer header.
// Every (re)open is reported so the caller can reload its snapshot: a restarted scheduler
// numbers its events anew.
import { ApiError, getToken } from "./api.js";

export const EVENT_TYPES = ["plan", "step", "node", "summary", "log", "health"];

/**
 * @param {string} url
 * @param {{ onOpen: () => void, onEvent: (type: string, data: any) => void,
 *           onState: (state: "connecting"|"live"|"reconnecting"|"unauthorized") => void,
 *           onRefused: (err: ApiError) => void }} handlers
 */
export function connectEvents(url, handlers) {
  let source;
  let abort;
  let retryMs = 1000;
  let timer;

  const deliver = (type, text) => {
    if (!EVENT_TYPES.includes(type)) return;
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      return; // a malformed event changes nothing
    }
    handlers.onEvent(type, data);
  };

  const later = (fn) => {
    clearTimeout(timer);
    timer = setTimeout(fn, retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  };

  const openEventSource = () => {
    handlers.onState("connecting");
    source = new EventSource(url);
    source.addEventListener("open", () => {
      retryMs = 1000;
      handlers.onState("live");
      handlers.onOpen();
    });
    for (const type of EVENT_TYPES) source.addEventListener(type, (e) => deliver(type, e.data));
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        handlers.onState("reconnecting"); // the browser retries by itself
        return;
      }
      source = undefined;
      void openFetch();
    });
  };

  const openFetch = async () => {
    abort = new AbortController();
    try {
      const token = getToken();
      const res = await fetch(url, {
        headers: {
          accept: "text/event-stream",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: abort.signal,
      });
      if (!res.ok) {
        let message = res.statusText;
        try {
          message = (await res.json()).error ?? message;
        } catch {
          // not JSON
        }
        throw new ApiError(res.status, message);
      }
      retryMs = 1000;
      handlers.onState("live");
      handlers.onOpen();
      await readStream(res.body, deliver);
      handlers.onState("reconnecting");
      later(openEventSource);
    } catch (err) {
      if (abort.signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) {
        // Waits for a token (reconnect()) rather than asking again and again.
        handlers.onState("unauthorized");
        handlers.onRefused(err);
        return;
      }
      handlers.onState("reconnecting");
      later(openEventSource);
    }
  };

  openEventSource();
  return {
    /** Starts over at once (e.g. with a new token). */
    reconnect() {
      clearTimeout(timer);
      abort?.abort();
      source?.close();
      retryMs = 1000;
      openEventSource();
    },
  };
}

/** Reads server-sent events from a fetch body until it ends. */
async function readStream(body, deliver) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // comment (keep-alive)
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) deliver(type, data.join("\n"));
    }
  }
}
