// What the host and the settings tab hold: the ContactSyncPlugin methods of host-api.d.ts,
// delegating to the wasm object. It guarantees the contract's promise that every failure is
// an Error with a code (wasm-bindgen's own failures, e.g. a call after free, are not), and
// that nothing reaches a freed wasm object after deactivate.
import { codedError, toCodedError } from "./coded-error.js";

const SYNC_METHODS = ["version", "defaultSettings", "cancel"];
const ASYNC_METHODS = [
  "getSettings", "saveSettings", "fieldCatalogue", "status", "spokeStatus", "connect", "connectCardDav", "testConnection", "disconnect",
  "forgetLinks", "sync", "preview", "history", "undoLastRun", "handleEvent", "admittedOrigins", "resolveMatch",
];

/**
 * @param {object} core the wasm-bindgen ContactSyncPlugin instance
 * @returns {{facade: object, retire(): void}} retire() makes later calls fail with a coded Error
 */
export function createPluginFacade(core) {
  let retired = false;
  const gone = () => codedError("CANCELLED", "The plugin was deactivated.", { remedy: "Reload the CRM page to start it again." });
  const facade = {};
  for (const name of SYNC_METHODS) {
    facade[name] = (...args) => {
      if (retired) throw gone();
      if (typeof core[name] !== "function") throw codedError("INTERNAL", `The plugin core lacks ${name}().`);
      try {
        return core[name](...args);
      } catch (error) {
        throw toCodedError(error);
      }
    };
  }
  for (const name of ASYNC_METHODS) {
    facade[name] = async (...args) => {
      if (retired) throw gone();
      if (typeof core[name] !== "function") throw codedError("INTERNAL", `The plugin core lacks ${name}().`);
      try {
        return await core[name](...args);
      } catch (error) {
        throw toCodedError(error);
      }
    };
  }
  return { facade: Object.freeze(facade), retire() { retired = true; } };
}
