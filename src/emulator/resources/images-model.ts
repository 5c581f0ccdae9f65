/**
 * Images as Klaviyo keeps them: a name (unique in the account: a repeated one gets a suffix), the URL the image is
 * served from, its format and size, whether it is hidden from the asset library. The two upload endpoints decide
 * the format and size differently (see the routes); both end in `insertImage`. Images cannot be deleted via the API.
 */
import { randomInt, randomUUID } from "node:crypto";
import * as v from "valibot";
import { validate } from "../body.js";
import type { EmulatorState, ImageRow } from "../state.js";
import { isoNow } from "../store.js";
import { CONTENT_TYPES, type ImageFormat } from "./images-bytes.js";
import { checkWriteDocument } from "./templates-document.js";

export interface NewImage {
  /** The name asked for; blank or absent takes `defaultName`. */
  readonly name?: string | null;
  /** The file's name without extension, when there is a file name. */
  readonly defaultName?: string;
  readonly format: ImageFormat;
  readonly size: number;
  readonly hidden?: boolean | null;
  /** Where the image is served from; when absent, a CDN URL like Klaviyo's is made up. */
  readonly imageUrl?: string;
}

/**
 * A URL on Klaviyo's image CDN, shaped as Klaviyo's are. The emulator keeps no image bytes (its state is JSON), so
 * nothing is served there: clients only store and pass these URLs on.
 */
export function cdnUrl(accountId: string, format: ImageFormat): string {
  const extension = format === "jpeg" ? "jpg" : format;
  return `https://d3k81ch9hvuctc.cloudfront.net/company/${accountId}/images/${randomUUID()}.${extension}`;
}

// Klaviyo's image ids are integers (the document's example is `7`), sent as strings.
function newImageId(state: EmulatorState): string {
  let id = String(randomInt(100_000_000, 1_000_000_000));
  while (state.images.get(id)) id = String(randomInt(100_000_000, 1_000_000_000));
  return id;
}

/** `name`, or `name (1)`, `name (2)`, … : the first that no image in the account has yet. */
function uniqueName(state: EmulatorState, name: string): string {
  const taken = new Set<unknown>([...state.images.values()].map((row) => row.attributes.name));
  if (!taken.has(name)) return name;
  let n = 1;
  while (taken.has(`${name} (${n})`)) n++;
  return `${name} (${n})`;
}

/** Stores an uploaded image for `accountId`, with every attribute Get Image returns. */
export function insertImage(state: EmulatorState, accountId: string, image: NewImage, now: number): ImageRow {
  const id = newImageId(state);
  const asked = image.name?.trim()
    ? image.name
    : image.defaultName?.trim()
      ? image.defaultName
      : `image-${id}`;
  return state.images.insert({
    id,
    seq: state.images.seq(),
    contentType: CONTENT_TYPES[image.format],
    attributes: {
      name: uniqueName(state, asked),
      image_url: image.imageUrl ?? cdnUrl(accountId, image.format),
      format: image.format,
      size: image.size,
      hidden: image.hidden ?? false,
      updated_at: isoNow(now),
    },
  });
}

/** Upload Image From URL's body. */
export const uploadFromUrlBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("image"),
    attributes: v.strictObject({
      name: v.optional(v.nullable(v.string())),
      import_from_url: v.pipe(v.string(), v.minLength(1, "'import_from_url' may not be blank.")),
      hidden: v.optional(v.nullable(v.boolean())),
    }),
  }),
});

/** The attributes Upload Image From URL takes, for `checkWriteDocument`. */
export const UPLOAD_FROM_URL_ATTRIBUTES = ["name", "import_from_url", "hidden"];

const updateBody = v.strictObject({
  data: v.strictObject({
    type: v.literal("image"),
    id: v.string(),
    attributes: v.strictObject({
      name: v.optional(v.nullable(v.pipe(v.string(), v.minLength(1, "The image name may not be blank.")))),
      hidden: v.optional(v.nullable(v.boolean())),
    }),
  }),
});

const READ_ONLY: Readonly<Record<string, string>> = Object.fromEntries(
  ["image_url", "format", "size", "updated_at", "import_from_url"].map((name) => [
    name,
    `'${name}' cannot be updated; only 'name' and 'hidden' can.`,
  ]),
);

/**
 * Applies an Update Image body: only `name` and `hidden` change (`null` leaves them as they are, since an image
 * always has both); any other attribute is refused with a pointer at it.
 */
export function updateImage(row: ImageRow, body: unknown, now: number): ImageRow {
  checkWriteDocument(body, {
    type: "image",
    id: row.id,
    attributes: ["name", "hidden"],
    readOnly: READ_ONLY,
  });
  const { attributes } = validate(updateBody, body).data;
  const next = { ...row.attributes };
  if (attributes.name != null) next.name = attributes.name;
  if (attributes.hidden != null) next.hidden = attributes.hidden;
  next.updated_at = isoNow(now);
  row.attributes = next;
  return row;
}
