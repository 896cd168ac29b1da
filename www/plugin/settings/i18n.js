// Messages and formats in the operator's language. Every visible string comes from the
// catalogues in ../i18n/ (en, fr); numbers and dates go through Intl with the host's
// locale, so a French operator reads 14:45 and 23/11/2026.

/** Languages with a catalogue; anything else falls back to English. */
export const LANGUAGES = ["en", "fr"];

/** The catalogue language for a BCP 47 locale ("fr-FR" → "fr"). */
export function languageOf(locale) {
  const lang = String(locale || "en").toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.includes(lang) ? lang : "en";
}

/** Fetches a catalogue next to this module (same origin, so the CSP's connect-src allows it). */
export async function loadCatalogue(lang) {
  const url = new URL(`../i18n/${lang}.json`, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
  return response.json();
}

/**
 * Builds the translator and formatters for a locale.
 * @example const i = createI18n("fr-FR", fr); i.t("run.next", { time: i.time(at) })
 */
export function createI18n(locale, catalogue) {
  const safeLocale = supportedLocale(locale);
  const plural = new Intl.PluralRules(safeLocale);
  const numberFormat = new Intl.NumberFormat(safeLocale);
  const percentFormat = new Intl.NumberFormat(safeLocale, { style: "percent", maximumFractionDigits: 1 });
  const timeFormat = new Intl.DateTimeFormat(safeLocale, { hour: "2-digit", minute: "2-digit" });
  const dateFormat = new Intl.DateTimeFormat(safeLocale, { day: "2-digit", month: "2-digit", year: "numeric" });

  /** The message for `key` with `{name}` placeholders filled; plural forms by `count`. */
  function t(key, params = {}) {
    let message = catalogue[key];
    if (message === undefined) {
      // A missing key is a bug the i18n test catches; show the key rather than nothing.
      return key;
    }
    if (typeof message === "object" && message !== null) {
      const form = plural.select(Number(params.count ?? 0));
      message = message[form] ?? message.other ?? key;
    }
    return String(message).replace(/\{(\w+)\}/g, (whole, name) => {
      if (!(name in params)) return whole;
      const value = params[name];
      return typeof value === "number" ? numberFormat.format(value) : String(value);
    });
  }

  const toDate = (value) => {
    const d = value instanceof Date ? value : new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  };

  return {
    locale: safeLocale,
    lang: languageOf(safeLocale),
    t,
    has: (key) => key in catalogue,
    number: (n) => numberFormat.format(Number(n) || 0),
    percent: (share) => percentFormat.format(Number(share) || 0),
    time: (value) => { const d = toDate(value); return d ? timeFormat.format(d) : "—"; },
    date: (value) => { const d = toDate(value); return d ? dateFormat.format(d) : "—"; },
    dateTime: (value) => {
      const d = toDate(value);
      return d ? t("format.dateTime", { date: dateFormat.format(d), time: timeFormat.format(d) }) : "—";
    },
    /** A duration in seconds or minutes, from two ISO instants or from milliseconds. */
    duration(ms) {
      const value = Math.max(0, Number(ms) || 0);
      if (value < 1000) return t("format.ms", { count: Math.round(value) });
      if (value < 60000) return t("format.seconds", { count: Math.round(value / 100) / 10 });
      return t("format.minutes", { count: Math.round(value / 6000) / 10 });
    },
  };
}

function supportedLocale(locale) {
  try {
    return Intl.getCanonicalLocales(locale || "en")[0] || "en";
  } catch {
    return "en";
  }
}
