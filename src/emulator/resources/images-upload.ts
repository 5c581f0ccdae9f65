/**
 * The two ways in: a JSON body naming a URL or carrying a `data:` URI (Upload Image From URL), and a real
 * `multipart/form-data` body with a `file` part (Upload Image From File). Both end as a `NewImage` whose format
 * comes from the bytes' magic number when the emulator has the bytes, and from the URL's extension when it cannot
 * download them (it has no network).
 */
import { readBytes, readJson, validate } from "../body.js";
import type { EmulatorContext } from "../env.js";
import { EmulatorProblem, invalidBody } from "../errors.js";
import {
  baseName,
  formatFromExtension,
  IMAGE_FORMATS,
  MAX_IMAGE_BYTES,
  parseDataUri,
  sniffImageFormat,
} from "./images-bytes.js";
import { type NewImage, UPLOAD_FROM_URL_ATTRIBUTES, uploadFromUrlBody } from "./images-model.js";
import { checkWriteDocument } from "./templates-document.js";

const SUPPORTED = `Supported image formats: ${IMAGE_FORMATS.join(", ")}.`;
/** Room for a 5 MB image in base64 (4/3 larger) plus the JSON around it; past the image limit is a 400. */
export const URL_BODY_LIMIT = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64 * 1024;
/** Room for a 5 MB file plus the multipart envelope (boundaries, part headers, the small parts). */
export const MULTIPART_LIMIT = MAX_IMAGE_BYTES + 64 * 1024;

const URL_POINTER = "/data/attributes/import_from_url";
const FILE_POINTER = "/data/attributes/file";

function invalid(pointer: string, detail: string): EmulatorProblem {
  return new EmulatorProblem(invalidBody(pointer, detail));
}

function tooLarge(size: number): EmulatorProblem {
  return new EmulatorProblem({
    status: 413,
    code: "request_too_large",
    title: "Request entity too large.",
    detail: `The image is ${size} bytes; the maximum image size is ${MAX_IMAGE_BYTES} bytes (5 MB).`,
    source: { pointer: FILE_POINTER },
  });
}

// A malformed escape (`%E0%A4%A`) stays as written rather than failing the request.
function decodedPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

/** Reads and checks an Upload Image From URL body. */
export async function imageFromUrlRequest(c: EmulatorContext): Promise<NewImage> {
  const body = await readJson(c, URL_BODY_LIMIT);
  checkWriteDocument(body, { type: "image", attributes: UPLOAD_FROM_URL_ATTRIBUTES });
  const { attributes } = validate(uploadFromUrlBody, body).data;
  const source = attributes.import_from_url.trim();
  const common = { name: attributes.name, hidden: attributes.hidden };

  if (/^data:/i.test(source)) {
    const parsed = parseDataUri(source);
    if (typeof parsed === "string") throw invalid(URL_POINTER, parsed);
    const size = parsed.bytes.byteLength;
    if (size > MAX_IMAGE_BYTES) {
      throw invalid(URL_POINTER, `The image is ${size} bytes; the maximum image size is 5 MB.`);
    }
    const format = sniffImageFormat(parsed.bytes);
    if (!format) throw invalid(URL_POINTER, `The data is not a supported image. ${SUPPORTED}`);
    return { ...common, format, size };
  }

  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw invalid(
      URL_POINTER,
      "'import_from_url' must be an http(s) URL or a base64 data URI (data:image/...).",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(URL_POINTER, `Unsupported URL scheme '${url.protocol}'; use an http(s) URL or a data URI.`);
  }
  const path = decodedPath(url);
  const format = formatFromExtension(path);
  if (!format) throw invalid(URL_POINTER, `The image format is not supported. ${SUPPORTED}`);
  // The emulator cannot download the image, so its size is unknown: 0. The URL given is where it is served.
  return { ...common, defaultName: baseName(path), format, size: 0, imageUrl: source };
}

function mediaType(c: EmulatorContext): string {
  return (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function readHidden(value: ReturnType<FormData["get"]>): boolean | undefined {
  if (value === null) return undefined;
  const text = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  if (text === "true") return true;
  if (text === "false") return false;
  throw invalid("/data/attributes/hidden", "'hidden' must be true or false.");
}

/** Reads and checks an Upload Image From File body: multipart only (415 otherwise), 5 MB at most (413). */
export async function imageFromFileRequest(c: EmulatorContext): Promise<NewImage> {
  const type = mediaType(c);
  if (type !== "multipart/form-data") {
    throw new EmulatorProblem({
      status: 415,
      code: "unsupported_media_type",
      title: "Unsupported media type.",
      detail: `Unsupported media type "${type}" in request. Use multipart/form-data.`,
    });
  }
  const bytes = await readBytes(c, MULTIPART_LIMIT);
  let form: FormData;
  try {
    form = await new Response(bytes, {
      headers: { "content-type": c.req.header("content-type") ?? "" },
    }).formData();
  } catch {
    throw new EmulatorProblem({
      status: 400,
      code: "parse_error",
      title: "Malformed request.",
      detail: "Multipart form parse error - the body is not valid multipart/form-data for its boundary.",
    });
  }
  const file = form.get("file");
  if (file === null) throw invalid(FILE_POINTER, "The 'file' part is required.");
  if (typeof file === "string")
    throw invalid(FILE_POINTER, "The 'file' part must be a file, not a text field.");
  if (file.size > MAX_IMAGE_BYTES) throw tooLarge(file.size);
  const content = new Uint8Array(await file.arrayBuffer());
  const format = sniffImageFormat(content);
  if (!format) throw invalid(FILE_POINTER, `The file is not a supported image. ${SUPPORTED}`);
  const name = form.get("name");
  if (name !== null && typeof name !== "string")
    throw invalid("/data/attributes/name", "'name' must be text.");
  return {
    name,
    defaultName: baseName(file.name),
    format,
    size: content.byteLength,
    hidden: readHidden(form.get("hidden")),
  };
}
