// Compressed answers for clients that ask (Accept-Encoding: br or gzip): plan and node views
// of a large cluster are megabytes of repetitive JSON. Small answers (under 1 KiB) go as they
// are. Request bodies are not decompressed: they are small, and a compressed body could grow
// past the body limit's intent. The event stream is written straight to the socket (hijacked)
// and stays uncompressed: its bounded per-client buffer counts the socket's own backlog,
// which a compressor in between would hide, and its change events are small already.
import type { FastifyInstance } from "fastify";
import { fastifyCompress, type FastifyCompressOptions } from "@fastify/compress";
import { constants } from "node:zlib";

const OPTIONS: FastifyCompressOptions = {
  encodings: ["br", "gzip"],
  threshold: 1024,
  globalDecompression: false,
  // Quality 4: most of the gain at a fraction of the CPU of the default 11.
  brotliOptions: { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } },
};

/**
 * Hooks compression onto every route added after this call. The plugin is applied on the
 * spot rather than through register(): the server is built synchronously, and a registered
 * plugin loads only at ready(), after the routes it should have hooked.
 */
export function registerCompression(app: FastifyInstance): void {
  fastifyCompress(app, OPTIONS, (err) => {
    if (err) throw err;
  });
}
