import { InputValidationError } from "../core/errors.js";
import { FIELDSETS, OPERATION_PARAMETERS } from "../klaviyo/operations.js";
import { refined } from "../klaviyo/schema.js";
import type { ResourceDocument } from "./accounts.js";
import { defineAction } from "./define.js";
import { decodeImageDataUri, IMAGE_TYPES, imageProblem, sniffImageFormat } from "./images-bytes.js";
import { input, textMatching } from "./inputs.js";
import { listOutput, pagingInputs } from "./list.js";

const IMAGE_FIELDS = FIELDSETS.image ?? [];
const IMAGE_SORTS = OPERATION_PARAMETERS.get_images?.sort ?? [];

const imageFields = () =>
  input.fields(
    {
      key: "fields",
      label: "Fields",
      comments: `The image attributes to return (Klaviyo's sparse fieldset fields[image]), as a list or comma-separated text, chosen from: ${IMAGE_FIELDS.join(", ")}. Leave empty for all of them.`,
      example: "name,image_url,format",
    },
    IMAGE_FIELDS,
  );

const imageId = () =>
  input.id({
    key: "imageId",
    label: "Image ID",
    comments:
      "The image's ID as Klaviyo assigned it: a number sent as text, such as 7 (List Images and Upload Image return it).",
    example: "7",
  });

/** A name: text that holds something besides spaces, at most 255 characters once trimmed; trimmed. */
const nonBlank = textMatching(/\S(?:[\s\S]{0,253}\S)?/u, (issue) =>
  typeof issue.input === "string" && issue.input.trim() === ""
    ? "must not be blank"
    : "must be at most 255 characters",
);

const imageHidden = (comments: string) =>
  input.boolean({ key: "imageHidden", label: "Image Hidden", comments, example: "true" });

const fieldsQuery = (fields: string[] | undefined) => ({
  "fields[image]": fields?.length ? fields : undefined,
});

/** An http(s) URL, or a base64 `data:image/...` URI whose image is checked (format and size) here. */
const imageUrlSchema = refined(
  textMatching(
    /[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#]+\S*|[Dd][Aa][Tt][Aa]:[^,]*,[\s\S]*/,
    "must be an http(s) URL of the image or a base64 data URI (data:image/png;base64,...)",
  ),
  (value, ctx) => {
    if (/^data:/i.test(value)) {
      const bytes = decodeImageDataUri(value);
      const problem = typeof bytes === "string" ? bytes : imageProblem(bytes);
      if (problem)
        ctx.addIssue({
          message: typeof bytes === "string" ? problem : `holds an image that ${problem}`,
        });
      return;
    }
    if (!URL.canParse(value))
      ctx.addIssue({
        message: "must be an http(s) URL of the image or a base64 data URI (data:image/png;base64,...)",
      });
  },
);

/** Bytes (or base64 text) that must be a JPEG, PNG or GIF of at most 5 MB. */
const imageFileInput = () => {
  const base = input.binary({
    key: "fileData",
    label: "File Data",
    comments:
      "The image file's bytes, such as the output of an earlier step that read or downloaded a file: a Buffer or Uint8Array, or base64 text (CLI: @path reads a file). JPEG, PNG or GIF only, recognised by the bytes themselves, at most 5 MB. Sent as a multipart/form-data upload. Give this or Image URL, not both.",
    example: "@logo.png",
  });
  return {
    ...base,
    schema: refined(base.schema, (bytes, ctx) => {
      const problem = imageProblem(bytes);
      if (problem) ctx.addIssue({ message: problem });
    }),
    checks: "the bytes must be a JPEG, PNG or GIF image of at most 5 MB",
  };
};

/** A file name without directories or control characters, at most 255 characters; trimmed. */
const fileNameSchema = textMatching(/[^/\\\p{Cc}\s](?:[^/\\\p{Cc}]{0,253}[^/\\\p{Cc}\s])?/u, (issue) =>
  typeof issue.input === "string" && issue.input.trim() === ""
    ? "must not be blank"
    : "must be a file name alone, without slashes or control characters, at most 255 characters",
);

/** `GET /api/images/{id}` (10/s, 150/m). */
export const getImage = defineAction({
  key: "get-image",
  label: "Get Image",
  description:
    "Fetches one image of the account's image library by its ID: its name, the URL it is served from (image_url), its format (jpeg, png or gif), its size in bytes, whether it is hidden from the library, and when it last changed. An unknown ID fails with 404. Limited to 10 requests per second, 150 per minute.",
  operation: "get_image",
  inputs: { imageId: imageId(), fields: imageFields() },
  async perform({ send }, { imageId, fields }) {
    const res = await send({
      path: { id: imageId },
      query: fieldsQuery(fields),
    });
    return res.body;
  },
});

/** `GET /api/images` (10/s, 150/m; at most 100 per page). */
export const listImages = defineAction({
  key: "list-images",
  label: "List Images",
  description:
    "Lists the images in the account's image library (hidden ones included unless filtered out), one page at a time: at most 100 images per page, 20 by Klaviyo's default (this action asks for 100 unless Page Size says otherwise). Give Limit to gather several pages. Filter by id, name, format, size, hidden or updated_at, and sort by name, size, format, id or updated_at. Limited to 10 requests per second, 150 per minute.",
  operation: "get_images",
  inputs: {
    fields: imageFields(),
    filter: input.filter(
      {
        key: "filter",
        label: "Filter",
        comments:
          "Only return images that match this Klaviyo filter. Allowed: id (equals, any), name (equals, any, contains, starts-with, ends-with), format (equals, any), size in bytes (greater-than, greater-or-equal, less-than, less-or-equal), hidden (equals) and updated_at (greater-than, greater-or-equal, less-than, less-or-equal, ISO 8601). Combine conditions with and(...).",
        example: "and(equals(hidden,false),equals(format,'png'))",
      },
      "get_images",
    ),
    sort: input.enum(
      {
        key: "sort",
        label: "Sort",
        comments: `The order of the images: one of ${IMAGE_SORTS.join(", ")}. A leading minus sorts descending. Klaviyo's own order when empty.`,
        example: "-updated_at",
      },
      IMAGE_SORTS,
    ),
    ...pagingInputs(100),
  },
  async perform(ctx, { fields, filter, sort, pageSize, cursor, limit }) {
    return listOutput(
      ctx,
      {
        query: { ...fieldsQuery(fields), filter, sort },
      },
      { pageSize, cursor, limit },
    );
  },
});

/** `PATCH /api/images/{id}` (10/s, 150/m). */
export const updateImage = defineAction({
  key: "update-image",
  label: "Update Image",
  description:
    "Renames an image of the library and/or hides or shows it; these are the only two things Klaviyo lets you change (the picture itself, its URL, format and size stay as uploaded). Only what you give is changed. Klaviyo answers with the updated image. Limited to 10 requests per second, 150 per minute.",
  operation: "update_image",
  inputs: {
    imageId: imageId(),
    imageName: {
      ...input.text({
        key: "imageName",
        label: "Image Name",
        comments:
          "The image's new name in the library, up to 255 characters (must not be blank). Leave empty to keep its current name.",
        example: "Summer hero banner",
      }),
      schema: nonBlank,
    },
    imageHidden: imageHidden(
      "true hides the image from the image library in Klaviyo's editors (it stays usable where it is already placed and keeps its URL); false shows it again. Leave empty to keep it as it is.",
    ),
  },
  async perform({ send }, { imageId, imageName, imageHidden }) {
    if (imageName === undefined && imageHidden === undefined) {
      throw new InputValidationError(
        [
          { label: "Image Name", key: "imageName", message: "give a new name, Image Hidden, or both" },
          { label: "Image Hidden", key: "imageHidden", message: "give true or false, Image Name, or both" },
        ],
        "Update Image",
      );
    }
    const res = await send({
      path: { id: imageId },
      body: {
        data: {
          type: "image",
          id: imageId,
          attributes: {
            ...(imageName !== undefined ? { name: imageName } : {}),
            ...(imageHidden !== undefined ? { hidden: imageHidden } : {}),
          },
        },
      },
    });
    return res.body;
  },
});

/**
 * `POST /api/images` (JSON, `import_from_url`) or `POST /api/image-upload` (multipart, part `file`); both
 * 3/s, 100/m, 100/day.
 */
export const uploadImage = defineAction({
  key: "upload-image",
  label: "Upload Image",
  description:
    "Adds an image to the account's image library, either imported by Klaviyo from a public http(s) URL (or from a base64 data:image/... URI) or uploaded from the file's bytes as a multipart form. JPEG, PNG and GIF of at most 5 MB are accepted; the format and size of bytes and data URIs are checked here before sending (Klaviyo checks images behind a URL itself). Klaviyo answers with the new image (201), including the URL it serves it from. Uploads are limited to 3 per second, 100 per minute and about 100 per day.",
  operation: "upload_image_from_url",
  inputs: {
    imageUrl: {
      ...input.text({
        key: "imageUrl",
        label: "Image URL",
        comments:
          "Where Klaviyo should fetch the image: a public http(s) URL (Klaviyo downloads it, so it must be reachable from the internet), or the image itself as a base64 data URI such as data:image/png;base64,iVBORw0… (checked here: JPEG, PNG or GIF, at most 5 MB). Give this or File Data, not both.",
        example: "https://www.example.com/images/hero.jpg",
      }),
      schema: imageUrlSchema,
      checks: "a URL must parse; a data: URI's image must be a JPEG, PNG or GIF of at most 5 MB",
    },
    imageName: {
      ...input.text({
        key: "imageName",
        label: "Image Name",
        comments:
          "The name the image gets in the library, up to 255 characters. Without it Klaviyo uses the file's name (from the URL, or File Name for an upload). Names are unique in an account: when the name is taken, Klaviyo appends a suffix rather than failing.",
        example: "Summer hero banner",
      }),
      schema: nonBlank,
    },
    fileData: imageFileInput(),
    fileName: {
      ...input.text({
        key: "fileName",
        label: "File Name",
        comments:
          "With File Data only: the file name sent with the upload, such as hero.png, which Klaviyo uses as the image's name when Image Name is empty. Defaults to image.<extension of the format>; the extension is added when the name has none.",
        example: "hero.png",
      }),
      schema: fileNameSchema,
    },
    imageHidden: imageHidden(
      "true keeps the uploaded image out of the image library shown in Klaviyo's editors (it still gets a URL and can be used); false or empty shows it, Klaviyo's default.",
    ),
  },
  async perform({ client, signal, send }, { imageUrl, imageName, fileData, fileName, imageHidden }) {
    if ((imageUrl === undefined) === (fileData === undefined)) {
      const message =
        imageUrl === undefined
          ? "give Image URL or File Data: one of them is needed"
          : "give Image URL or File Data, not both";
      throw new InputValidationError(
        [
          { label: "Image URL", key: "imageUrl", message },
          { label: "File Data", key: "fileData", message },
        ],
        "Upload Image",
      );
    }
    if (fileData === undefined) {
      if (fileName !== undefined) {
        throw new InputValidationError(
          [{ label: "File Name", key: "fileName", message: "applies to File Data only, not to Image URL" }],
          "Upload Image",
        );
      }
      const res = await send({
        body: {
          data: {
            type: "image",
            attributes: {
              import_from_url: imageUrl,
              ...(imageName !== undefined ? { name: imageName } : {}),
              ...(imageHidden !== undefined ? { hidden: imageHidden } : {}),
            },
          },
        },
      });
      return res.body;
    }
    const format = sniffImageFormat(fileData) ?? "png";
    const { mediaType, extension } = IMAGE_TYPES[format];
    const name = fileName ?? "image";
    const form = new FormData();
    // The file part needs a file name: Klaviyo (Django) reads a part without one as a text field.
    form.append(
      "file",
      new Blob([new Uint8Array(fileData)], { type: mediaType }),
      /\.[A-Za-z0-9]+$/.test(name) ? name : `${name}.${extension}`,
    );
    if (imageName !== undefined) form.append("name", imageName);
    if (imageHidden !== undefined) form.append("hidden", String(imageHidden));
    const res = await client.request<ResourceDocument>({
      method: "POST",
      path: "/api/image-upload",
      form,
      operation: "upload_image_from_file",
      signal,
    });
    return res.body;
  },
});

/** The images actions, by label. */
