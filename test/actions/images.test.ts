import { describe, expect, it } from "vitest";
import {
  decodeImageDataUri,
  imageProblem,
  MAX_IMAGE_BYTES,
  sniffImageFormat,
} from "../../src/actions/images-bytes.js";
import { InputValidationError } from "../../src/core/errors.js";
import { actionsSetup } from "./helpers.js";

/** A real 1×1 PNG. */
const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const PNG = new Uint8Array(Buffer.from(PNG_BASE64, "base64"));
const GIF = new Uint8Array([...Buffer.from("GIF89a"), 1, 0, 1, 0, 0, 0, 0, 0x3b]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);

interface ImageDoc {
  data: {
    type: string;
    id: string;
    attributes: { name: string; hidden: boolean; format: string; size: number; image_url: string };
  };
}

/** Runs `promise`, expecting an InputValidationError whose message names every label given. */
async function refused(promise: Promise<unknown>, ...labels: string[]): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputValidationError);
  const message = (error as Error).message;
  for (const label of labels) expect(message).toContain(`${label}:`);
  return message;
}

describe("image bytes", () => {
  it("recognises JPEG, PNG and GIF by their magic numbers only", () => {
    expect(sniffImageFormat(PNG)).toBe("png");
    expect(sniffImageFormat(GIF)).toBe("gif");
    expect(sniffImageFormat(JPEG)).toBe("jpeg");
    expect(sniffImageFormat(new TextEncoder().encode("<svg/>"))).toBeUndefined();
    expect(imageProblem(new Uint8Array())).toMatch(/empty/);
    const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
    big.set(PNG);
    expect(imageProblem(big)).toMatch(/at most 5 MB/);
    expect(imageProblem(PNG)).toBeUndefined();
  });
  it("decodes base64 data:image URIs and refuses the others", () => {
    expect(decodeImageDataUri(`data:image/png;base64,${PNG_BASE64}`)).toEqual(PNG);
    expect(decodeImageDataUri("data:text/plain;base64,aGk=")).toMatch(/data:image/);
    expect(decodeImageDataUri("data:image/png,%89PNG")).toMatch(/not base64/);
    expect(decodeImageDataUri("data:image/png;base64,***")).toMatch(/not valid base64/);
  });
});

describe("Upload Image", () => {
  it("imports from a URL (POST /api/images) and the image can be read back", async () => {
    const { run, emulator, sent } = actionsSetup();
    const out = await run<ImageDoc>("upload-image", {
      imageUrl: "https://www.example.com/img/hero.jpg",
      imageName: "Hero",
      imageHidden: true,
    });
    expect(out.data).toMatchObject({
      type: "image",
      attributes: { name: "Hero", hidden: true, format: "jpeg" },
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.method).toBe("POST");
    expect(new URL(sent[0]?.url ?? "").pathname).toBe("/api/images");
    expect(await sent[0]?.json()).toEqual({
      data: {
        type: "image",
        attributes: { import_from_url: "https://www.example.com/img/hero.jpg", name: "Hero", hidden: true },
      },
    });
    expect(emulator.state.images.get(out.data.id)?.attributes).toMatchObject({ name: "Hero", hidden: true });
    const back = await run<ImageDoc>("get-image", { imageId: out.data.id });
    expect(back.data.attributes.image_url).toBe("https://www.example.com/img/hero.jpg");
  });

  it("imports a base64 data URI, sending only what was given", async () => {
    const { run, emulator, sent } = actionsSetup();
    const out = await run<ImageDoc>("upload-image", { imageUrl: `data:image/png;base64,${PNG_BASE64}` });
    expect(out.data.attributes).toMatchObject({ format: "png", size: PNG.byteLength, hidden: false });
    const body = (await sent[0]?.json()) as { data: { attributes: Record<string, unknown> } };
    expect(Object.keys(body.data.attributes)).toEqual(["import_from_url"]);
    expect(emulator.state.images.size).toBe(1);
  });

  it("uploads bytes as real multipart/form-data (POST /api/image-upload) with a file name", async () => {
    const { run, emulator, sent } = actionsSetup();
    const out = await run<ImageDoc>("upload-image", {
      fileData: Buffer.from(PNG),
      imageName: "Logo",
      imageHidden: false,
    });
    expect(out.data.attributes).toMatchObject({ name: "Logo", format: "png", size: PNG.byteLength });
    const req = sent[0];
    expect(new URL(req?.url ?? "").pathname).toBe("/api/image-upload");
    expect(req?.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(req?.headers.get("revision")).toBe("2026-07-15");
    const form = await req?.formData();
    const file = form?.get("file");
    expect(file).toBeInstanceOf(Blob);
    expect((file as File).name).toBe("image.png");
    expect((file as File).type).toBe("image/png");
    expect(new Uint8Array(await (file as File).arrayBuffer())).toEqual(PNG);
    expect(form?.get("name")).toBe("Logo");
    expect(form?.get("hidden")).toBe("false");
    expect(emulator.state.images.get(out.data.id)?.attributes).toMatchObject({
      name: "Logo",
      size: PNG.length,
    });
  });

  it("names the image after File Name when Image Name is empty; base64 text is taken as bytes", async () => {
    const { run, sent } = actionsSetup();
    const out = await run<ImageDoc>("upload-image", { fileData: PNG_BASE64, fileName: "brand-mark" });
    expect(out.data.attributes.name).toBe("brand-mark");
    const form = await sent[0]?.formData();
    expect((form?.get("file") as File | undefined)?.name).toBe("brand-mark.png");
    expect(form?.has("name")).toBe(false);
    expect(form?.has("hidden")).toBe(false);
    const gif = await run<ImageDoc>("upload-image", { fileData: GIF, fileName: "anim.gif" });
    expect(gif.data.attributes).toMatchObject({ name: "anim", format: "gif" });
  });

  it("refuses, before sending, anything but exactly one of Image URL and File Data", async () => {
    const { run, sent } = actionsSetup();
    const neither = await refused(run("upload-image", { imageName: "x" }), "Image URL", "File Data");
    expect(neither).toMatch(/one of them is needed/);
    const both = await refused(
      run("upload-image", { imageUrl: "https://example.com/a.png", fileData: PNG }),
      "Image URL",
      "File Data",
    );
    expect(both).toMatch(/not both/);
    await refused(
      run("upload-image", { imageUrl: "https://example.com/a.png", fileName: "a.png" }),
      "File Name",
    );
    expect(sent).toHaveLength(0);
  });

  it("refuses, before sending, files that are not JPEG/PNG/GIF or are over 5 MB", async () => {
    const { run, sent } = actionsSetup();
    const svg = await refused(
      run("upload-image", { fileData: new TextEncoder().encode("<svg/>") }),
      "File Data",
    );
    expect(svg).toMatch(/not a JPEG, PNG or GIF/);
    const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
    big.set(PNG);
    expect(await refused(run("upload-image", { fileData: big }), "File Data")).toMatch(/at most 5 MB/);
    expect(await refused(run("upload-image", { fileData: 42 }), "File Data")).toMatch(/bytes/);
    await refused(run("upload-image", { fileData: PNG, fileName: "../etc/x.png" }), "File Name");
    expect(sent).toHaveLength(0);
  });

  it("refuses, before sending, URLs that are not http(s) and data URIs that are not images", async () => {
    const { run, sent } = actionsSetup();
    expect(await refused(run("upload-image", { imageUrl: "ftp://example.com/a.png" }), "Image URL")).toMatch(
      /http\(s\) URL/,
    );
    expect(await refused(run("upload-image", { imageUrl: "hero.png" }), "Image URL")).toMatch(/http\(s\)/);
    expect(
      await refused(run("upload-image", { imageUrl: "data:image/png;base64,aGVsbG8=" }), "Image URL"),
    ).toMatch(/not a JPEG, PNG or GIF/);
    await refused(run("upload-image", { imageUrl: "data:text/html;base64,aGk=" }), "Image URL");
    await refused(
      run("upload-image", { imageUrl: "https://example.com/a.png", imageName: "   " }),
      "Image Name",
    );
    expect(sent).toHaveLength(0);
  });
});

describe("Get Image", () => {
  it("returns the image document, with sparse fields when asked", async () => {
    const { run, sent } = actionsSetup();
    const up = await run<ImageDoc>("upload-image", { fileData: JPEG, imageName: "Photo" });
    const out = await run<ImageDoc>("get-image", { imageId: up.data.id, fields: "name,format" });
    expect(out.data).toEqual({
      type: "image",
      id: up.data.id,
      attributes: { name: "Photo", format: "jpeg" },
      links: expect.any(Object),
    });
    expect(new URL(sent[1]?.url ?? "").searchParams.get("fields[image]")).toBe("name,format");
  });
  it("refuses a bad ID or an unknown field before sending", async () => {
    const { run, sent } = actionsSetup();
    await refused(run("get-image", { imageId: "a/b" }), "Image ID");
    await refused(run("get-image", {}), "Image ID");
    expect(await refused(run("get-image", { imageId: "7", fields: "colour" }), "Fields")).toMatch(/colour/);
    expect(sent).toHaveLength(0);
  });
  it("fails with Klaviyo's 404 for an unknown image", async () => {
    const { run } = actionsSetup();
    await expect(run("get-image", { imageId: "999" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("List Images", () => {
  it("lists, filters, sorts and pages through the library", async () => {
    const { run, sent } = actionsSetup();
    for (const name of ["b-one", "a-two", "c-three"])
      await run("upload-image", { fileData: PNG, imageName: name, imageHidden: name === "c-three" });
    const all = await run<{ data: ImageDoc["data"][]; pages: number }>("list-images", { sort: "name" });
    expect(all.data.map((d) => d.attributes.name)).toEqual(["a-two", "b-one", "c-three"]);
    expect(new URL(sent[3]?.url ?? "").searchParams.get("page[size]")).toBe("100");

    const visible = await run<{ data: ImageDoc["data"][] }>("list-images", {
      filter: "equals(hidden,false)",
      sort: "-name",
      fields: ["name"],
    });
    expect(visible.data.map((d) => d.attributes)).toEqual([{ name: "b-one" }, { name: "a-two" }]);

    const first = await run<{ data: unknown[]; nextCursor?: string }>("list-images", {
      pageSize: 2,
      sort: "id",
    });
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toBeDefined();
    const rest = await run<{ data: unknown[]; nextCursor?: string }>("list-images", {
      pageSize: 2,
      sort: "id",
      cursor: first.nextCursor,
    });
    expect(rest.data).toHaveLength(1);
    expect(rest.nextCursor).toBeUndefined();
    const limited = await run<{ data: unknown[]; pages: number }>("list-images", { pageSize: 1, limit: 2 });
    expect(limited).toMatchObject({ pages: 2 });
    expect(limited.data).toHaveLength(2);
  });
  it("refuses a bad filter, sort or page size before sending", async () => {
    const { run, sent } = actionsSetup();
    expect(await refused(run("list-images", { filter: "equals(colour,'red')" }), "Filter")).toMatch(/colour/);
    await refused(run("list-images", { filter: "equals(name,'x'" }), "Filter");
    await refused(run("list-images", { sort: "colour" }), "Sort");
    await refused(run("list-images", { pageSize: 101 }), "Page Size");
    expect(sent).toHaveLength(0);
  });
});

describe("Update Image", () => {
  it("renames and hides an image, sending only what was given", async () => {
    const { run, emulator, sent } = actionsSetup();
    const up = await run<ImageDoc>("upload-image", { fileData: PNG, imageName: "Old" });
    const renamed = await run<ImageDoc>("update-image", { imageId: up.data.id, imageName: "New" });
    expect(renamed.data.attributes).toMatchObject({ name: "New", hidden: false });
    expect(await sent[1]?.json()).toEqual({
      data: { type: "image", id: up.data.id, attributes: { name: "New" } },
    });
    const hidden = await run<ImageDoc>("update-image", { imageId: up.data.id, imageHidden: true });
    expect(hidden.data.attributes).toMatchObject({ name: "New", hidden: true });
    expect(await sent[2]?.json()).toEqual({
      data: { type: "image", id: up.data.id, attributes: { hidden: true } },
    });
    expect(emulator.state.images.get(up.data.id)?.attributes).toMatchObject({ name: "New", hidden: true });
    const back = await run<ImageDoc>("get-image", { imageId: up.data.id });
    expect(back.data.attributes).toMatchObject({ name: "New", hidden: true });
  });
  it("refuses an update with nothing to change, a blank name or a bad flag, before sending", async () => {
    const { run, sent } = actionsSetup();
    await refused(run("update-image", { imageId: "7" }), "Image Name", "Image Hidden");
    await refused(run("update-image", { imageId: "7", imageName: "  " }), "Image Name");
    await refused(run("update-image", { imageId: "7", imageHidden: "perhaps" }), "Image Hidden");
    await refused(run("update-image", { imageName: "x" }), "Image ID");
    expect(sent).toHaveLength(0);
  });
});
