// Validation and normalisation of contact field values against the field schema, as a
// real CRM does on its API: a wrong type is refused (BAD_INPUT), an empty value clears.
import { FIELDS_BY_ID } from "./field-schema.js";
import { hostError } from "./host-error.js";

const ADDRESS_PARTS = ["street", "city", "postalCode", "region", "country", "type"];
const DATE = /^(\d{4}|-)-\d{2}-\d{2}$/;
const IMAGE = /^data:image\/(jpeg|png);base64,[A-Za-z0-9+/]+={0,2}$/;
/** The largest photo the reference CRM stores, as a data: URL (about 3.7 MiB of image). */
export const MAX_IMAGE_URL_LENGTH = 5 * 1024 * 1024;

function bad(field, expected) {
  return hostError("BAD_INPUT", `Field "${field}" must be ${expected}.`, { remedy: "Correct the value and save again." });
}

function cleanText(value) {
  return typeof value === "string" ? value.trim() : value;
}

/** Normalises one list entry of e-mails or phones: {value, type?, primary?}. */
function cleanValueEntry(field, entry) {
  if (!entry || typeof entry !== "object" || typeof entry.value !== "string") {
    throw bad(field, "a list of {value, type?, primary?} objects");
  }
  const value = entry.value.trim();
  if (!value) return null;
  const out = { value };
  if (entry.type !== undefined && entry.type !== null) {
    if (typeof entry.type !== "string") throw bad(field, "a list whose type is a string");
    if (entry.type.trim()) out.type = entry.type.trim();
  }
  if (entry.primary !== undefined && entry.primary !== null) {
    if (typeof entry.primary !== "boolean") throw bad(field, "a list whose primary is true or false");
    if (entry.primary) out.primary = true;
  }
  return out;
}

function cleanAddress(field, entry) {
  if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw bad(field, "a list of address objects");
  const out = {};
  for (const part of ADDRESS_PARTS) {
    const v = entry[part];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") throw bad(field, `a list of addresses whose ${part} is text`);
    if (v.trim()) out[part] = v.trim();
  }
  if (entry.primary === true) out.primary = true;
  else if (entry.primary !== undefined && entry.primary !== null && entry.primary !== false) throw bad(field, "a list of addresses whose primary is true or false");
  return Object.keys(out).some((k) => k !== "type" && k !== "primary") ? out : null;
}

/**
 * Returns the stored form of `value` for field `id`, or undefined when the value clears the
 * field (null, empty text, empty list). Throws BAD_INPUT for an unknown field or a wrong type.
 */
export function cleanFieldValue(id, value) {
  const spec = FIELDS_BY_ID.get(id);
  if (!spec) {
    throw hostError("BAD_INPUT", `Unknown contact field "${id}".`, { remedy: "Use a field id from crm.fieldSchema()." });
  }
  if (value === null || value === undefined) return undefined;
  switch (spec.type) {
    case "text": case "longtext": case "url": case "user": {
      if (typeof value !== "string") throw bad(id, "text");
      const text = spec.type === "longtext" ? value.replace(/\s+$/, "") : cleanText(value);
      return text === "" ? undefined : text;
    }
    case "date": {
      if (typeof value !== "string") throw bad(id, "a date (YYYY-MM-DD or --MM-DD)");
      if (value.trim() === "") return undefined;
      if (!DATE.test(value.trim())) throw bad(id, "a date (YYYY-MM-DD or --MM-DD)");
      return value.trim();
    }
    case "boolean":
      if (typeof value !== "boolean") throw bad(id, "true or false");
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad(id, "a number");
      return value;
    case "image": {
      if (typeof value !== "string") throw bad(id, "a data:image/jpeg or data:image/png base64 URL");
      const url = value.trim();
      if (url === "") return undefined;
      if (url.length > MAX_IMAGE_URL_LENGTH) throw bad(id, `an image of at most ${MAX_IMAGE_URL_LENGTH} characters as a data: URL`);
      if (!IMAGE.test(url)) throw bad(id, "a data:image/jpeg or data:image/png base64 URL");
      return url;
    }
    case "email-list": case "phone-list": {
      if (!Array.isArray(value)) throw bad(id, "a list of {value, type?, primary?} objects");
      const list = value.map((e) => cleanValueEntry(id, e)).filter(Boolean);
      return list.length ? list : undefined;
    }
    case "address-list": {
      if (!Array.isArray(value)) throw bad(id, "a list of address objects");
      const list = value.map((e) => cleanAddress(id, e)).filter(Boolean);
      return list.length ? list : undefined;
    }
    default:
      throw bad(id, "a supported value");
  }
}

/** Applies a fields patch to `fields` (a fresh object is returned): listed fields change. */
export function patchFields(fields, patch) {
  if (patch === undefined) return { ...fields };
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) {
    throw hostError("BAD_INPUT", "`fields` must be an object of field id to value.");
  }
  const next = { ...fields };
  for (const [id, raw] of Object.entries(patch)) {
    const value = cleanFieldValue(id, raw);
    if (value === undefined) delete next[id];
    else next[id] = value;
  }
  return next;
}
