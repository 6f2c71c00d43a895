// Stand-alone entry of the executor (run from source with tsx, or bundled): the same as
// `scaleio-framework executor` without the rest of the command line.
import { runExecutor } from "./main.js";

process.exit(await runExecutor());
