// Starts worker-check.js as a module worker and shows its report (read by the page test).
const out = document.getElementById("worker-result");
const worker = new Worker(new URL("./worker-check.js", import.meta.url), { type: "module" });
const timeout = setTimeout(() => {
  out.dataset.state = "failed";
  out.textContent = JSON.stringify({ ok: false, error: "The worker did not answer within 30 s." });
  worker.terminate();
}, 30000);
worker.addEventListener("message", (event) => {
  clearTimeout(timeout);
  out.textContent = JSON.stringify(event.data, null, 2);
  out.dataset.state = event.data?.ok ? "done" : "failed";
  worker.terminate();
});
worker.addEventListener("error", (event) => {
  clearTimeout(timeout);
  out.dataset.state = "failed";
  out.textContent = JSON.stringify({ ok: false, error: event.message || "The worker failed to start." });
});
