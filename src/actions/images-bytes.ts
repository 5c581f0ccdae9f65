/**
 * What Klaviyo accepts as an image, checked on the connector's side before anything is sent: JPEG, PNG or GIF
 * (decided by the bytes' magic number, not by a name or a declared type) of at most 5 MB, and the base64
 * `data:image/...` URIs Upload Image From URL takes in place of a URL.
 */

/** The formats Klaviyo takes, as its `format` attribute names them. */
export const IMAGE_FORMATS = ["jpeg", "png", "gif"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Klaviyo's ceiling for one image, decoded: 5 MB. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** The media type and usual file extension of each format. */
export const IMAGE_TYPES: Readonly<Record<ImageFormat, { mediaType: string; extension: string }>> = {
  jpeg: { mediaType: "image/jpeg", extension: "jpg" },
  png: { mediaType: "image/png", extension: "png" },
  gif: { mediaType: "image/gif", extension: "gif" },
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
const GIF87A = [0x47, 0x49, 0x46, 0x38, 0x37, 0x61] as const;
const GIF89A = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61] as const;
const JPEG_SOI = [0xff, 0xd8, 0xff] as const;

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** The format the bytes' magic number names (PNG signature, `GIF87a`/`GIF89a`, JPEG SOI marker), if any. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, GIF87A) || startsWith(bytes, GIF89A)) return "gif";
  if (startsWith(bytes, JPEG_SOI)) return "jpeg";
  return undefined;
}

function megabytes(size: number): string {
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why Klaviyo would refuse these bytes as an image (not JPEG/PNG/GIF, empty, over 5 MB), or `undefined`. */
export function imageProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength === 0) return "is empty: an image file is needed";
  if (bytes.byteLength > MAX_IMAGE_BYTES)
    return `is ${bytes.byteLength} bytes (${megabytes(bytes.byteLength)}); Klaviyo takes images of at most 5 MB (${MAX_IMAGE_BYTES} bytes)`;
  if (!sniffImageFormat(bytes))
    return "is not a JPEG, PNG or GIF image (its first bytes are not one of those formats' signatures)";
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a base64 `data:image/...;base64,...` URI. Returns the reason instead when it is not one Klaviyo takes:
 * Klaviyo documents only the base64 form, with an image media type.
 */
export function decodeImageDataUri(uri: string): Uint8Array | string {
  const comma = uri.indexOf(",");
  if (comma < 0) return "is a data URI without a comma before its data";
  const header = uri
    .slice(5, comma)
    .split(";")
    .map((part) => part.trim().toLowerCase());
  const mediaType = header[0] ?? "";
  if (!mediaType.startsWith("image/"))
    return `is a data URI of type "${mediaType || "text/plain"}"; it must be data:image/...;base64,...`;
  if (!header.slice(1).includes("base64"))
    return "is a data URI that is not base64-encoded; write it as data:image/...;base64,...";
  const data = uri.slice(comma + 1).replace(/\s+/g, "");
  if (data.length % 4 === 1 || !BASE64.test(data)) return "is a data URI whose data is not valid base64";
  return new Uint8Array(Buffer.from(data, "base64"));
}
