// The phone service the wasm plugin imports (src/wasm/phone.rs): libphonenumber-js, the
// maintained JavaScript port of Google's libphonenumber, with its mobile metadata. Source
// of www/plugin/vendor/phone.js, which scripts/vendor-phone.mjs bundles from it (the shim
// is loaded without a bundler, so the committed file must be self-contained).
// Never throws: a number it cannot read is `undefined` / `false`, and the engine keeps
// its stable `~digits` form.
import parsePhoneNumber, { isSupportedCountry } from "libphonenumber-js/mobile";

function parse(text, region) {
  try {
    const options = typeof region === "string" && isSupportedCountry(region) ? { defaultCountry: region } : {};
    return parsePhoneNumber(String(text), options);
  } catch {
    return undefined;
  }
}

/** E.164 of `text`, read with `region` (ISO 3166 alpha-2) as the default; undefined if unreadable. */
export function phoneE164(text, region) {
  const number = parse(text, region);
  return typeof number?.number === "string" ? number.number : undefined;
}

/** True for a valid mobile number (the mobile metadata only knows mobile number types). */
export function phoneIsValidMobile(text, region) {
  try {
    return parse(text, region)?.isValid() === true;
  } catch {
    return false;
  }
}
