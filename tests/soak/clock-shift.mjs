// Preloaded into each sync child (`node --import`): the process's clock runs
// SOAK_CLOCK_OFFSET_MS ahead of the machine's. After a run is killed the soak moves this
// offset (and the Google emulator's clock) past the run lease's expiry, as if the next
// scheduled run came minutes later, instead of waiting for the lease in real time.
const offset = Number(process.env.SOAK_CLOCK_OFFSET_MS ?? 0);
if (Number.isFinite(offset) && offset !== 0) {
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
}
