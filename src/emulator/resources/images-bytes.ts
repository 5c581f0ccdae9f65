/**
 * What an uploaded image is, decided from its bytes (a client's declared type can be wrong), and the `data:` URIs
 * Upload Image From URL accepts in place of a URL.
 */

/** The formats Klaviyo takes, as its `format` attribute names them. */
export const IMAGE_FORMATS = ["jpeg", "png", "gif"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Klaviyo's ceiling for one image, decoded. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** The media type of each format, for the row's `contentType`. */
export const CONTENT_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** The format the bytes' magic number says (PNG signature, `GIF87a`/`GIF89a`, JPEG SOI marker), if any. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  const head = String.fromCharCode(...bytes.subarray(0, 6));
  if (head === "GIF87a" || head === "GIF89a") return "gif";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  return undefined;
}

/** The format a URL's file extension names (`.jpg` and `.jpeg` are both jpeg), if it is one Klaviyo takes. */
export function formatFromExtension(path: string): ImageFormat | undefined {
  const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  if (extension === "jpg" || extension === "jpeg") return "jpeg";
  if (extension === "png" || extension === "gif") return extension;
  return undefined;
}

export interface DataUri {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a base64 `data:` URI. Returns a reason instead when it is not one: Klaviyo documents only the base64
 * form (`data:image/...;base64,...`), so a percent-encoded data URI is refused.
 */
export function parseDataUri(uri: string): DataUri | string {
  const comma = uri.indexOf(",");
  if (comma < 0) return "The data URI has no comma before its data.";
  const header = uri
    .slice(5, comma)
    .split(";")
    .map((part) => part.trim());
  const mediaType = (header[0] ?? "").toLowerCase();
  if (!header.slice(1).some((part) => part.toLowerCase() === "base64")) {
    return "Only base64-encoded data URIs (data:image/...;base64,...) are supported.";
  }
  if (!mediaType.startsWith("image/"))
    return `The data URI's media type '${mediaType}' is not an image type.`;
  const data = uri.slice(comma + 1).replace(/\s+/g, "");
  if (data.length % 4 === 1 || !BASE64.test(data)) return "The data URI's data is not valid base64.";
  return { mediaType, bytes: new Uint8Array(Buffer.from(data, "base64")) };
}

/** A file name without its directory and extension (`/a/b/hero.final.png` → `hero.final`). */
export function baseName(path: string): string {
  const file = path.split(/[/\\]/).pop() ?? "";
  const dot = file.lastIndexOf(".");
  return dot > 0 ? file.slice(0, dot) : file;
}
