/**
 * Builds the playground's front end (served by `klaviyo ui`): `npm run build` builds it with the library, into
 * dist/ui (scripts/build.mjs passes its staging folder as --outDir); `npm run build:ui` rebuilds dist/ui alone.
 */
import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "./",
  publicDir: false,
  plugins: [preact({ prefreshEnabled: true, devToolsEnabled: false })],
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: { host: "127.0.0.1" },
});
