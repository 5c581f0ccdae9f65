#!/usr/bin/env node
// The `klaviyo` command. The CLI is compiled to dist/ by `npm run build` (run by `prepare` on install).
import { main } from "../dist/cli/main.js";

// Piped into `head` and the like: stop quietly when the reader goes away.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
