// Runs the manifest's schedule (`schedule: {command: "sync", intervalMinutes}`): the host,
// not the plugin, owns the clock. Used by the page host and the Node host alike.

/**
 * @param {{sync: Function}} plugin
 * @param {{schedule?: {command?: string, intervalMinutes?: number, minimumIntervalMinutes?: number}}} manifest
 * @param {{intervalMs?: number, log?: Function, onRun?: (result: {ok: boolean, reports?: object[], error?: Error}) => void, onNextRun?: (date: Date) => void}} [options]
 *   intervalMs overrides the manifest's interval (tests); it never goes below the manifest's minimum unless given explicitly.
 * @returns {{start(): void, stop(): void, runNow(): Promise<object>, nextRunAt: Date|null, running: boolean, intervalMs: number}}
 */
export function createScheduler(plugin, manifest, { intervalMs, log = () => {}, onRun = () => {}, onNextRun = () => {} } = {}) {
  const schedule = manifest?.schedule ?? {};
  const minutes = Math.max(Number(schedule.intervalMinutes) || 15, Number(schedule.minimumIntervalMinutes) || 1);
  const period = intervalMs ?? minutes * 60_000;
  let timer = null;
  let running = false;
  const state = {
    nextRunAt: null,
    get running() { return running; },
    intervalMs: period,
    start() {
      if (timer !== null) return;
      timer = setInterval(() => { state.runNow("schedule"); }, period);
      state.nextRunAt = new Date(Date.now() + period);
      onNextRun(state.nextRunAt);
    },
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      state.nextRunAt = null;
    },
    /** One run; a tick that finds the previous run still going is skipped, not queued. */
    async runNow(trigger = "schedule") {
      if (timer !== null) {
        state.nextRunAt = new Date(Date.now() + period);
        onNextRun(state.nextRunAt);
      }
      if (running) {
        log("info", "Scheduled run skipped: the previous run is still going.", {});
        return { ok: true, skipped: true };
      }
      running = true;
      try {
        const reports = await plugin.sync({ trigger });
        const result = { ok: true, reports };
        onRun(result);
        return result;
      } catch (error) {
        log("warn", "A scheduled run failed.", { code: error?.code, error: error?.message });
        const result = { ok: false, error };
        onRun(result);
        return result;
      } finally {
        running = false;
      }
    },
  };
  return state;
}
