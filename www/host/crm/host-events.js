// Host events (HostApi.onEvent), shared by the page host and the in-memory host: edits a
// person makes in the CRM (origin "ui") become contact events; the plugin's own writes
// through the API (origin "api") do not echo back to it and trigger needless runs.

/**
 * @param {import("./contact-book.js").ContactBook} book
 * @returns {{emit: (event: object) => void, onEvent: (handler: (event: object) => void) => () => void, readonly subscriberCount: number}}
 */
export function createHostEvents(book) {
  const handlers = new Set();
  const emit = (event) => {
    for (const handler of [...handlers]) {
      try { handler(event); } catch { /* a handler's failure is its own */ }
    }
  };
  book.subscribe((event) => {
    if (event.origin === "ui" && event.contactId && event.type.startsWith("contact.")) emit({ type: event.type, contactId: event.contactId });
  });
  return {
    emit,
    onEvent(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    get subscriberCount() { return handlers.size; },
  };
}
