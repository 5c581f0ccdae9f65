import { deflateSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEmulator } from "../../src/emulator/index.js";
import { checkedFetch, expectNoContractProblems } from "../helpers/contract.js";
import { klaviyoHeaders, onlyError } from "./helpers.js";

const key = "pk_images_test_key";
const em = createEmulator({ apiKeys: [{ key }], rateLimits: "off" });
const base = em.baseUrl;
const api = checkedFetch(em.fetch);
/** For requests the document itself forbids (sent on purpose to see them refused): only responses are checked. */
const unchecked = checkedFetch(em.fetch, { requests: false });

interface ImageResource {
  type: string;
  id: string;
  attributes: {
    name: string;
    image_url: string;
    format: string;
    size: number;
    hidden: boolean;
    updated_at: string;
  };
  links: { self: string };
}
interface ImageList {
  data: ImageResource[];
  links: { self: string; next?: string; prev?: string };
}

// --- Real image bytes, built here ---------------------------------------------------------------------------

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid 1×1 RGBA PNG: signature, IHDR, one deflated scanline in IDAT, IEND. */
function png(): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const scanline = Uint8Array.from([0, 0x1d, 0x6f, 0x42, 0xff]);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk("IHDR", ihdr),
      pngChunk("IDAT", deflateSync(scanline)),
      pngChunk("IEND", new Uint8Array()),
    ]),
  );
}

/** The classic 1×1 transparent GIF89a (43 bytes). */
const GIF = Uint8Array.from([
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00,
  0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
  0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
]);

/** A JPEG's start of image, JFIF APP0 segment and end of image. */
const JPEG = Uint8Array.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
  0x00, 0x00, 0xff, 0xd9,
]);

const PNG = png();
const TEXT = new TextEncoder().encode("this is not an image at all");

function dataUri(type: string, bytes: Uint8Array): string {
  return `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
}

// --- Requests ------------------------------------------------------------------------------------------------

const jsonHeaders = { ...klaviyoHeaders(key), "Content-Type": "application/vnd.api+json" };

function send(method: string, path: string, body?: unknown, fetcher = api) {
  return fetcher(`${base}${path}`, {
    method,
    headers: body === undefined ? klaviyoHeaders(key) : jsonHeaders,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function fromUrl(attributes: Record<string, unknown>, fetcher = api) {
  return send("POST", "/api/images", { data: { type: "image", attributes } }, fetcher);
}

function upload(parts: Array<[string, string | Blob, string?]>, fetcher = api) {
  const form = new FormData();
  for (const [name, value, filename] of parts) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, value, filename);
  }
  // No Content-Type: fetch writes multipart/form-data with its boundary.
  return fetcher(`${base}/api/image-upload`, { method: "POST", headers: klaviyoHeaders(key), body: form });
}

async function created(res: Response): Promise<ImageResource> {
  expect(res.status).toBe(201);
  return ((await res.json()) as { data: ImageResource }).data;
}

async function getImage(id: string): Promise<ImageResource> {
  const res = await send("GET", `/api/images/${id}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: ImageResource }).data;
}

beforeEach(() => em.reset());
afterEach(() => {
  vi.useRealTimers();
  expectNoContractProblems();
});

describe("Upload Image From File (multipart)", () => {
  it("stores a PNG: name from the file name, format and size from the bytes, and reads it back", async () => {
    const image = await created(
      await upload([["file", new Blob([PNG], { type: "image/png" }), "harbor-logo.png"]]),
    );
    expect(image.id).toMatch(/^\d+$/);
    expect(image.links.self).toBe(`${base}/api/images/${image.id}/`);
    expect(image.attributes).toEqual({
      name: "harbor-logo",
      image_url: expect.stringMatching(
        new RegExp(`^https://.+/company/${em.account.id}/images/[0-9a-f-]{36}\\.png$`),
      ),
      format: "png",
      size: PNG.byteLength,
      hidden: false,
      updated_at: expect.stringMatching(/\+00:00$/),
    });
    expect(await getImage(image.id)).toEqual(image);
    expect(em.state.images.get(image.id)?.contentType).toBe("image/png");
  });

  it("takes the name and hidden parts, and decides the format by magic number, not the declared type", async () => {
    const gif = await created(
      await upload([
        ["file", new Blob([GIF], { type: "image/png" }), "spacer.png"],
        ["name", "Spacer pixel"],
        ["hidden", "true"],
      ]),
    );
    expect(gif.attributes).toMatchObject({ name: "Spacer pixel", format: "gif", size: 43, hidden: true });
    const jpeg = await created(await upload([["file", new Blob([JPEG]), "photo.jpeg"]]));
    expect(jpeg.attributes).toMatchObject({
      name: "photo",
      format: "jpeg",
      size: JPEG.byteLength,
      hidden: false,
    });
  });

  it("adds a suffix to a name already taken", async () => {
    const first = await created(await upload([["file", new Blob([PNG]), "logo.png"]]));
    const second = await created(await upload([["file", new Blob([PNG]), "logo.png"]]));
    expect([first.attributes.name, second.attributes.name]).toEqual(["logo", "logo (1)"]);
  });

  it("refuses a file that is not a jpeg, png or gif, pointing at the file part", async () => {
    const res = await upload([["file", new Blob([TEXT], { type: "image/png" }), "fake.png"]]);
    expect(res.status).toBe(400);
    const error = await onlyError(res);
    expect(error.source.pointer).toBe("/data/attributes/file");
    expect(error.detail).toContain("jpeg, png, gif");
    expect(em.state.images.size).toBe(0);
  });

  it("requires the file part", async () => {
    const res = await upload([["name", "No file"]]);
    expect(res.status).toBe(400);
    expect((await onlyError(res)).source.pointer).toBe("/data/attributes/file");
  });

  it("refuses an image over 5 MB with 413", async () => {
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(PNG.subarray(0, 8));
    const res = await upload([["file", new Blob([big]), "huge.png"]]);
    expect(res.status).toBe(413);
    expect(em.state.images.size).toBe(0);
    // Exactly 5 MB is still taken.
    const limit = new Uint8Array(5 * 1024 * 1024);
    limit.set(PNG.subarray(0, 8));
    expect((await created(await upload([["file", new Blob([limit]), "edge.png"]]))).attributes.size).toBe(
      limit.length,
    );
  });

  it("answers 415 to a body that is not multipart, and 400 to a bad hidden part", async () => {
    const json = await send("POST", "/api/image-upload", { file: "x" }, unchecked);
    expect(json.status).toBe(415);
    expect((await onlyError(json)).code).toBe("unsupported_media_type");
    const hidden = await upload([
      ["file", new Blob([PNG]), "a.png"],
      ["hidden", "maybe"],
    ]);
    expect(hidden.status).toBe(400);
    expect((await onlyError(hidden)).source.pointer).toBe("/data/attributes/hidden");
  });
});

describe("Upload Image From URL", () => {
  it("decodes a data URI: format and size from the bytes, a CDN URL, a generated name", async () => {
    const image = await created(await fromUrl({ import_from_url: dataUri("image/png", PNG) }));
    expect(image.attributes).toMatchObject({ format: "png", size: PNG.byteLength, hidden: false });
    expect(image.attributes.image_url).toMatch(/^https:\/\/.+\.png$/);
    expect(image.attributes.name).toMatch(/\S/);
    expect(await getImage(image.id)).toEqual(image);

    const named = await created(
      await fromUrl({ import_from_url: dataUri("image/jpeg", GIF), name: "Badge", hidden: true }),
    );
    expect(named.attributes).toMatchObject({
      name: "Badge",
      format: "gif",
      size: GIF.byteLength,
      hidden: true,
    });
  });

  it("refuses a data URI that is not an image, not base64, or over 5 MB", async () => {
    for (const uri of [
      dataUri("image/png", TEXT),
      "data:image/png,%89PNG",
      dataUri("text/plain", PNG),
      dataUri(
        "image/png",
        (() => {
          const big = new Uint8Array(5 * 1024 * 1024 + 1);
          big.set(PNG.subarray(0, 8));
          return big;
        })(),
      ),
    ]) {
      const res = await fromUrl({ import_from_url: uri });
      expect(res.status).toBe(400);
      expect((await onlyError(res)).source.pointer).toBe("/data/attributes/import_from_url");
    }
    expect(em.state.images.size).toBe(0);
  });

  it("accepts an http(s) URL by its extension and serves it from that URL", async () => {
    const url = "https://cdn.harborandpine.example/assets/spring-hero.JPG?v=3";
    const image = await created(await fromUrl({ import_from_url: url }));
    expect(image.attributes).toMatchObject({
      name: "spring-hero",
      format: "jpeg",
      image_url: url,
      hidden: false,
    });
    const unsupported = await fromUrl({
      import_from_url: "https://cdn.harborandpine.example/assets/hero.bmp",
    });
    expect(unsupported.status).toBe(400);
    const error = await onlyError(unsupported);
    expect(error.source.pointer).toBe("/data/attributes/import_from_url");
    expect(error.detail).toContain("not supported");
    const ftp = await fromUrl({ import_from_url: "ftp://example.com/a.png" });
    expect(ftp.status).toBe(400);
    // A malformed escape is not a server error; the URL is kept exactly as given.
    const odd = "https://Example.com/x/%E0%A4%A/badge%20one.gif";
    expect((await created(await fromUrl({ import_from_url: odd }))).attributes).toMatchObject({
      format: "gif",
      image_url: odd,
    });
  });

  it("requires import_from_url and refuses unknown attributes with pointers", async () => {
    const missing = await fromUrl({ name: "x" }, unchecked);
    expect(missing.status).toBe(400);
    expect((await onlyError(missing)).source.pointer).toBe("/data/attributes/import_from_url");
    const extra = await fromUrl({ import_from_url: dataUri("image/png", PNG), format: "png" }, unchecked);
    expect(extra.status).toBe(400);
    expect((await onlyError(extra)).source.pointer).toBe("/data/attributes/format");
  });
});

describe("Update Image", () => {
  it("changes only name and hidden", async () => {
    const image = await created(await upload([["file", new Blob([PNG]), "logo.png"]]));
    const res = await send("PATCH", `/api/images/${image.id}`, {
      data: { type: "image", id: image.id, attributes: { name: "Logo (dark)", hidden: true } },
    });
    expect(res.status).toBe(200);
    const after = await getImage(image.id);
    expect(after.attributes).toMatchObject({
      name: "Logo (dark)",
      hidden: true,
      format: "png",
      size: PNG.byteLength,
      image_url: image.attributes.image_url,
    });
    const onlyHidden = await send("PATCH", `/api/images/${image.id}`, {
      data: { type: "image", id: image.id, attributes: { hidden: false } },
    });
    expect(((await onlyHidden.json()) as { data: ImageResource }).data.attributes).toMatchObject({
      name: "Logo (dark)",
      hidden: false,
    });
  });

  it("refuses other attributes, a mismatched id, a wrong type and an unknown image", async () => {
    const image = await created(await upload([["file", new Blob([PNG]), "logo.png"]]));
    const format = await send(
      "PATCH",
      `/api/images/${image.id}`,
      { data: { type: "image", id: image.id, attributes: { format: "gif", name: "x" } } },
      unchecked,
    );
    expect(format.status).toBe(400);
    expect((await onlyError(format)).source.pointer).toBe("/data/attributes/format");
    const otherId = await send("PATCH", `/api/images/${image.id}`, {
      data: { type: "image", id: "1", attributes: { name: "x" } },
    });
    expect((await onlyError(otherId)).source.pointer).toBe("/data/id");
    const wrongType = await send(
      "PATCH",
      `/api/images/${image.id}`,
      { data: { type: "template", id: image.id, attributes: { name: "x" } } },
      unchecked,
    );
    expect(wrongType.status).toBe(409);
    expect((await getImage(image.id)).attributes).toEqual(image.attributes);
    const missing = await send("GET", "/api/images/999");
    expect(missing.status).toBe(404);
    expect((await onlyError(missing)).detail).toContain("999");
  });

  it("cannot delete an image: the API has no such operation", async () => {
    const image = await created(await upload([["file", new Blob([PNG]), "logo.png"]]));
    const res = await em.fetch(`${base}/api/images/${image.id}`, {
      method: "DELETE",
      headers: klaviyoHeaders(key),
    });
    expect(res.status).toBe(404);
    expect(em.state.images.get(image.id)).toBeDefined();
  });
});

describe("Get Images", () => {
  async function list(query: string): Promise<ImageList> {
    const res = await send("GET", `/api/images?${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ImageList;
  }

  it("filters by format, name, id, hidden and updated_at, and sorts", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
    const logo = await created(await upload([["file", new Blob([PNG]), "harbor-logo.png"]]));
    vi.setSystemTime(new Date("2026-03-02T10:00:00Z"));
    const pixel = await created(
      await upload([
        ["file", new Blob([GIF]), "pixel.gif"],
        ["hidden", "true"],
      ]),
    );
    vi.setSystemTime(new Date("2026-03-03T10:00:00Z"));
    const photo = await created(
      await fromUrl({ import_from_url: dataUri("image/jpeg", JPEG), name: "harbor photo" }),
    );
    const ids = (body: ImageList) => body.data.map((i) => i.id);
    const f = (filter: string) => `filter=${encodeURIComponent(filter)}`;

    expect(ids(await list(f("equals(format,'png')")))).toEqual([logo.id]);
    expect(ids(await list(f("contains(name,'harbor')")))).toEqual([logo.id, photo.id]);
    expect(ids(await list(f(`any(id,['${pixel.id}','${photo.id}'])`)))).toEqual([pixel.id, photo.id]);
    expect(ids(await list(f("equals(hidden,false)")))).toEqual([logo.id, photo.id]);
    expect(ids(await list(f("greater-than(updated_at,2026-03-01T12:00:00Z)")))).toEqual([pixel.id, photo.id]);
    expect(ids(await list(f("and(equals(hidden,false),less-than(size,30))")))).toEqual([photo.id]);
    expect(ids(await list("sort=-size"))).toEqual([logo.id, pixel.id, photo.id]);
    // Plain string order: "harbor photo" (a space) sorts before "harbor-logo".
    expect(ids(await list("sort=name"))).toEqual([photo.id, logo.id, pixel.id]);

    // An update moves updated_at forward.
    vi.setSystemTime(new Date("2026-03-04T10:00:00Z"));
    await send("PATCH", `/api/images/${logo.id}`, {
      data: { type: "image", id: logo.id, attributes: { name: "logo" } },
    });
    expect(ids(await list(f("greater-or-equal(updated_at,2026-03-04T00:00:00Z)")))).toEqual([logo.id]);

    const bad = await send("GET", `/api/images?${f("equals(image_url,'x')")}`);
    expect(bad.status).toBe(400);
    expect((await onlyError(bad)).source.parameter).toBe("filter");
  });

  it("pages 20 by default and 100 at most, following links.next", async () => {
    const names: string[] = [];
    for (let i = 0; i < 23; i++) {
      const image = await created(
        await fromUrl({ import_from_url: dataUri("image/gif", GIF), name: `img-${i}` }),
      );
      names.push(image.attributes.name);
    }
    const first = await list("");
    expect(first.data).toHaveLength(20);
    expect(first.links.next).toBeDefined();

    const seen: string[] = [];
    let next: string | undefined = `${base}/api/images?page[size]=5&fields[image]=name`;
    while (next) {
      const res = await api(next, { headers: klaviyoHeaders(key) });
      const page = (await res.json()) as ImageList;
      expect(page.data.length).toBeLessThanOrEqual(5);
      for (const item of page.data) expect(Object.keys(item.attributes)).toEqual(["name"]);
      seen.push(...page.data.map((i) => i.attributes.name));
      next = page.links.next;
    }
    expect(seen).toEqual(names);

    const tooBig = await send("GET", "/api/images?page[size]=101", undefined, unchecked);
    expect(tooBig.status).toBe(400);
    expect((await onlyError(tooBig)).source.parameter).toBe("page[size]");
  });
});
