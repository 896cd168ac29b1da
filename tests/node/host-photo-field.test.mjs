// The reference CRM's photo field: declared as type "image" in the field schema, stored as a
// JPEG or PNG data: URL, cleared by null or "", anything else refused with BAD_INPUT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNodeHost } from "../../www/node-host/node-host.mjs";
import { cleanFieldValue, MAX_IMAGE_URL_LENGTH } from "../../www/host/crm/field-values.js";

const JPEG = `data:image/jpeg;base64,${Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]).toString("base64")}`;
const PNG = `data:image/png;base64,${Buffer.from("\x89PNG\r\n\x1a\n0000", "latin1").toString("base64")}`;

test("the field schema declares the photo as an image, in both languages", async () => {
  for (const [locale, label] of [["en-GB", "Photo"], ["fr-FR", "Photo"]]) {
    const { hostApi } = await createNodeHost({ locale });
    const field = (await hostApi.crm.fieldSchema()).find((f) => f.id === "photo");
    assert.deepEqual(field, { id: "photo", label, type: "image" });
  }
});

test("a photo is stored, replaced and cleared through the CRM API", async () => {
  const { hostApi } = await createNodeHost();
  const c = await hostApi.crm.create({ fields: { firstName: "Ada", photo: JPEG } });
  assert.equal(c.fields.photo, JPEG);
  const replaced = await hostApi.crm.update(c.id, c.version, { fields: { photo: PNG } });
  assert.equal(replaced.fields.photo, PNG);
  assert.equal(replaced.version, c.version + 1);
  const cleared = await hostApi.crm.update(c.id, replaced.version, { fields: { photo: null } });
  assert.equal(cleared.fields.photo, undefined);
  await assert.rejects(hostApi.crm.update(c.id, c.version, { fields: { photo: JPEG } }), { code: "CONFLICT" });
});

test("anything but a JPEG or PNG data: URL of bounded size is refused", () => {
  assert.equal(cleanFieldValue("photo", ""), undefined);
  assert.equal(cleanFieldValue("photo", ` ${JPEG} `), JPEG);
  for (const bad of [
    "https://example.com/a.jpg",
    "data:image/gif;base64,R0lGODlh",
    "data:image/png,notbase64",
    "data:image/png;base64,@@@@",
    42,
    `data:image/png;base64,${"A".repeat(MAX_IMAGE_URL_LENGTH)}`,
  ]) {
    assert.throws(() => cleanFieldValue("photo", bad), { code: "BAD_INPUT" }, String(bad).slice(0, 40));
  }
});
