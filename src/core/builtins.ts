/**
 * Node's built-in modules the library uses, each loaded when first used rather than when the library is imported:
 * `node:crypto` alone costs milliseconds of start-up that a program which never hashes anything should not pay.
 */
export const builtins = {
  get crypto() {
    return process.getBuiltinModule("node:crypto");
  },
  get events() {
    return process.getBuiltinModule("node:events");
  },
  get fs() {
    return process.getBuiltinModule("node:fs");
  },
  get os() {
    return process.getBuiltinModule("node:os");
  },
  get path() {
    return process.getBuiltinModule("node:path");
  },
  get stringDecoder() {
    return process.getBuiltinModule("node:string_decoder");
  },
};
