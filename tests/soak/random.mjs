// A small seeded generator (mulberry32), so that a soak seed replays the same choices.

/** @param {number} seed an unsigned 32-bit integer */
export function seededRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng = {
    /** A number in [0, 1). */
    next,
    /** True with probability p. */
    chance: (p) => next() < p,
    /** An integer in [0, n). */
    below: (n) => Math.floor(next() * n),
    /** An integer in [lo, hi]. */
    between: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    /** One element of a non-empty list. */
    pick: (list) => list[Math.floor(next() * list.length)],
    /** A new generator derived from this one (independent streams per purpose). */
    fork: () => seededRandom(Math.floor(next() * 4294967296)),
  };
  return rng;
}
