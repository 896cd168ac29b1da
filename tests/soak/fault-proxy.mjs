// A fault-injecting HTTP proxy on loopback, in front of the CardDAV server: while faults are
// on, a share of the requests get what flaky servers and networks really answer. Kinds:
//   503-retry-after  503 with Retry-After (seconds), the request not handled
//   503              503 without Retry-After, not handled
//   500              500, not handled
//   reset            the connection reset before the request reaches the server
//   slow             handled normally after a pause
//   truncated        handled (a write happens), then the answer cut in the middle of its body
// Everything else is relayed untouched (Host header included, so the server's redirects and
// hrefs name the proxy). Counts requests, faults by kind and the writes the server accepted.
import http from "node:http";

export const PROXY_FAULT_KINDS = ["503-retry-after", "503", "500", "reset", "slow", "truncated"];

/**
 * @param {{target: string, rng: {next(): number, pick(list: any[]): any, between(lo: number, hi: number): number},
 *   fraction?: number, slowMs?: [number, number]}} options target: the server's origin
 */
export async function startFaultProxy({ target, rng, fraction = 0.2, slowMs = [500, 2500] }) {
  const upstream = new URL(target);
  let faultsOn = false;
  const stats = { requests: 0, faults: Object.fromEntries(PROXY_FAULT_KINDS.map((k) => [k, 0])), acceptedWrites: 0, byMethod: {} };
  const sockets = new Set();
  const recent = [];
  const forcedNext = [];

  const relay = (req, body, res, { truncate = false } = {}) => {
    const forward = http.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers,
    }, (answer) => {
      const chunks = [];
      answer.on("data", (c) => chunks.push(c));
      answer.on("end", () => {
        const payload = Buffer.concat(chunks);
        if (["PUT", "DELETE"].includes(req.method) && answer.statusCode >= 200 && answer.statusCode < 300) stats.acceptedWrites += 1;
        const headers = { ...answer.headers };
        delete headers["transfer-encoding"];
        headers["content-length"] = String(payload.length);
        res.writeHead(answer.statusCode, headers);
        if (truncate && payload.length > 1) {
          // The head promises the whole body; half arrives, then the connection drops.
          res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => res.socket?.destroy());
        } else {
          res.end(payload);
        }
      });
    });
    forward.on("error", () => res.socket?.destroy());
    forward.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      stats.requests += 1;
      // The last requests, for a report that asks which they were (REPORT bodies named by their root element).
      const root = /<(?:\w+:)?([\w-]+)[\s>]/.exec(body.toString("utf8").replace(/<\?xml[^>]*>/, ""))?.[1];
      recent.push(`${req.method} ${req.url}${root ? ` (${root})` : ""}`);
      if (recent.length > 50) recent.shift();
      stats.byMethod[req.method] = (stats.byMethod[req.method] ?? 0) + 1;
      const forced = forcedNext.findIndex((f) => f.method === req.method);
      const kind = forced >= 0 ? forcedNext.splice(forced, 1)[0].kind : faultsOn && rng.next() < fraction ? rng.pick(PROXY_FAULT_KINDS) : null;
      if (kind) stats.faults[kind] += 1;
      switch (kind) {
        case "503-retry-after":
          res.writeHead(503, { "retry-after": String(rng.between(1, 3)), "content-type": "text/plain" });
          res.end("Service Unavailable");
          return;
        case "503":
          res.writeHead(503, { "content-type": "text/plain" });
          res.end("Service Unavailable");
          return;
        case "500":
          res.writeHead(500, { "content-type": "text/plain" });
          res.end("Internal Server Error");
          return;
        case "reset":
          req.socket.resetAndDestroy?.() ?? req.socket.destroy();
          return;
        case "slow":
          setTimeout(() => relay(req, body, res), rng.between(slowMs[0], slowMs[1]));
          return;
        case "truncated":
          relay(req, body, res, { truncate: true });
          return;
        default:
          relay(req, body, res);
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    /** Faults on or off (off: every request relayed untouched). */
    setFaults(on) { faultsOn = on; },
    /** The next request with this method gets this fault, faults on or off (to reduce a finding to a repro). */
    forceNext(method, kind) { forcedNext.push({ method, kind }); },
    /** Counters since the start: {requests, faults: {kind: n}, acceptedWrites, byMethod}. */
    snapshot: () => JSON.parse(JSON.stringify(stats)),
    /** The last `n` requests (at most 50), as "METHOD path (REPORT kind)". */
    recent: (n) => recent.slice(-n),
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
