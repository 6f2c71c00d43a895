// The live event stream. EventSource reconnects by itself while the server is away; when the
// browser gives up (a non-stream answer, e.g. while a proxy reports the scheduler down) we
// open a new one after a growing pause. Every (re)open is reported so the caller can reload
// its snapshot: a restarted scheduler numbers its events anew.
export const EVENT_TYPES = ["plan", "step", "node", "summary", "log"];

/**
 * @param {string} url
 * @param {{ onOpen: () => void, onEvent: (type: string, data: any) => void,
 *           onState: (state: "connecting"|"live"|"reconnecting") => void }} handlers
 */
export function connectEvents(url, handlers) {
  let source;
  let retryMs = 1000;
  let timer;

  const open = () => {
    handlers.onState("connecting");
    source = new EventSource(url);
    source.addEventListener("open", () => {
      retryMs = 1000;
      handlers.onState("live");
      handlers.onOpen();
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (e) => {
        let data;
        try {
          data = JSON.parse(e.data);
        } catch {
          return; // a malformed event changes nothing
        }
        handlers.onEvent(type, data);
      });
    }
    source.addEventListener("error", () => {
      handlers.onState("reconnecting");
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries itself
      clearTimeout(timer);
      timer = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 30_000);
    });
  };
  open();
  return {
    close() {
      clearTimeout(timer);
      source?.close();
    },
  };
}
