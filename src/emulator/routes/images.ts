/**
 * Images: Upload Image From URL (JSON, URL or data URI), Upload Image From File (multipart), Get, List (page size
 * 20 by default, 100 at most) and Update Image (`name` and `hidden` only). Klaviyo's API cannot delete images.
 */
import { readJson } from "../body.js";
import { collection } from "../collection.js";
import { type JsonApiResource, resource, single } from "../documents.js";
import type { EmulatorContext, RouteRuntime, RouteTable } from "../env.js";
import { notFound } from "../errors.js";
import { type QueryContext, readQuery } from "../query.js";
import { insertImage, updateImage } from "../resources/images-model.js";
import { imageFromFileRequest, imageFromUrlRequest } from "../resources/images-upload.js";
import type { EmulatorState, ImageRow } from "../state.js";

function render(row: ImageRow, query: QueryContext): JsonApiResource {
  return resource(query, "image", "images", row.id, row.attributes);
}

function findImage(c: EmulatorContext, state: EmulatorState): ImageRow {
  const id = c.get("params").id ?? "";
  const row = state.images.get(id);
  if (!row) throw notFound(`No image found with id '${id}'.`);
  return row;
}

/** The image handlers, over `state`. */
export function imageRoutes(state: EmulatorState, runtime: RouteRuntime): RouteTable {
  return {
    async upload_image_from_url(c) {
      const query = readQuery(c);
      const image = await imageFromUrlRequest(c);
      const row = insertImage(state, c.get("principal").accountId, image, runtime.now());
      return single(c.req.url, render(row, query), undefined, 201);
    },

    async upload_image_from_file(c) {
      const query = readQuery(c);
      const image = await imageFromFileRequest(c);
      const row = insertImage(state, c.get("principal").accountId, image, runtime.now());
      return single(c.req.url, render(row, query), undefined, 201);
    },

    get_image(c) {
      const query = readQuery(c);
      return single(c.req.url, render(findImage(c, state), query));
    },

    get_images(c) {
      return collection(c, {
        rows: state.images.values(),
        field: (row, name) => (name === "id" ? row.id : row.attributes[name]),
        render: (row, query) => render(row, query),
      });
    },

    async update_image(c) {
      const query = readQuery(c);
      const row = findImage(c, state);
      updateImage(row, await readJson(c), runtime.now());
      return single(c.req.url, render(row, query));
    },
  };
}
