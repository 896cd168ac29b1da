// Just enough vCard (3.0/4.0) for the soak to read a card as the server holds it and edit
// it the way a careful CardDAV client does: unfold, change the few properties the edit is
// about, keep every other line verbatim (X-CRM-ID, unknown properties, parameters).

/** Splits a text value on an unescaped separator (`;` for components). */
function splitUnescaped(value, separator) {
  const parts = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\" && i + 1 < value.length) {
      current += ch + value[i + 1];
      i += 1;
    } else if (ch === separator) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** vCard text escapes: `\n`, `\,`, `\;`, `\\`. */
export function unescapeText(value) {
  return value.replace(/\\([nN,;\\])/g, (_, c) => (c === "n" || c === "N" ? "\n" : c));
}

export function escapeText(value) {
  return String(value).replace(/\\/g, "\\\\").replace(/([,;])/g, "\\$1").replace(/\r?\n/g, "\\n");
}

/** The content lines of a card, unfolded: [{group, name (upper case), params, value}]. */
export function parseCard(text) {
  const unfolded = text.replace(/\r?\n[ \t]/g, "");
  const lines = [];
  for (const raw of unfolded.split(/\r?\n/)) {
    if (!raw.trim()) continue;
    // The value starts at the first ':' outside a quoted parameter value.
    let quoted = false;
    let colon = -1;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] === '"') quoted = !quoted;
      else if (raw[i] === ":" && !quoted) { colon = i; break; }
    }
    if (colon < 0) continue;
    const [nameWithGroup, ...params] = raw.slice(0, colon).split(";");
    const dot = nameWithGroup.indexOf(".");
    lines.push({
      group: dot >= 0 ? nameWithGroup.slice(0, dot) : "",
      name: (dot >= 0 ? nameWithGroup.slice(dot + 1) : nameWithGroup).toUpperCase(),
      params,
      value: raw.slice(colon + 1),
      raw,
    });
  }
  return lines;
}

/** What the soak reads from a card: names, organization, e-mails, phones, note, UID. */
export function readCard(text) {
  const lines = parseCard(text);
  const first = (name) => lines.find((l) => l.name === name);
  const components = (line) => (line ? splitUnescaped(line.value, ";").map(unescapeText) : []);
  const [family = "", given = ""] = components(first("N"));
  const [company = "", department = ""] = components(first("ORG"));
  const note = first("NOTE");
  const title = first("TITLE");
  return {
    uid: first("UID")?.value ?? "",
    firstName: given,
    lastName: family,
    company,
    department,
    jobTitle: title ? unescapeText(title.value) : "",
    emails: lines.filter((l) => l.name === "EMAIL").map((l) => unescapeText(l.value)),
    phones: lines.filter((l) => l.name === "TEL").map((l) => unescapeText(l.value).replace(/^tel:/i, "")),
    notes: note ? unescapeText(note.value) : "",
  };
}

/**
 * The card with some properties replaced, as a client editing those fields writes it.
 * `changes`: {firstName?, lastName?, company?, department?, jobTitle?, emails?: string[], phones?: string[]}
 * (lists replace every EMAIL / TEL line; a kept value keeps its original line).
 */
export function editCard(text, changes) {
  const lines = parseCard(text);
  const current = readCard(text);
  const out = [];
  const next = { ...current, ...changes };
  const fn = `${next.firstName} ${next.lastName}`.trim();
  let wroteOrg = false;
  let wroteTitle = false;
  let wroteLists = false;
  const listLines = () => {
    const keep = (name, values) => values.map((v) => {
      const old = lines.find((l) => l.name === name && unescapeText(l.value).replace(/^tel:/i, "") === v);
      return old ? old.raw : `${name};TYPE=${name === "EMAIL" ? "INTERNET" : "CELL"}:${escapeText(v)}`;
    });
    return [...keep("EMAIL", next.emails), ...keep("TEL", next.phones)];
  };
  for (const line of lines) {
    if (line.name === "END") {
      if (!wroteOrg && (next.company || next.department) && ("company" in changes || "department" in changes)) out.push(`ORG:${escapeText(next.company)};${escapeText(next.department)}`);
      if (!wroteTitle && next.jobTitle && "jobTitle" in changes) out.push(`TITLE:${escapeText(next.jobTitle)}`);
      if (!wroteLists && ("emails" in changes || "phones" in changes)) out.push(...listLines());
      out.push(line.raw);
      continue;
    }
    if (line.name === "N" && ("firstName" in changes || "lastName" in changes)) {
      const parts = splitUnescaped(line.value, ";");
      parts[0] = escapeText(next.lastName);
      parts[1] = escapeText(next.firstName ?? "");
      out.push(`N:${parts.join(";")}`);
    } else if (line.name === "FN" && ("firstName" in changes || "lastName" in changes)) {
      out.push(`FN:${escapeText(fn)}`);
    } else if (line.name === "ORG" && ("company" in changes || "department" in changes)) {
      wroteOrg = true;
      const parts = splitUnescaped(line.value, ";");
      parts[0] = escapeText(next.company);
      parts[1] = escapeText(next.department);
      out.push(`ORG:${parts.join(";").replace(/;+$/, "")}`);
    } else if (line.name === "TITLE" && "jobTitle" in changes) {
      wroteTitle = true;
      if (next.jobTitle) out.push(`TITLE:${escapeText(next.jobTitle)}`);
    } else if ((line.name === "EMAIL" || line.name === "TEL") && ("emails" in changes || "phones" in changes)) {
      // All list lines are written once, where the first of them stood.
      if (!wroteLists) out.push(...listLines());
      wroteLists = true;
    } else {
      out.push(line.raw);
    }
  }
  return `${out.join("\r\n")}\r\n`;
}

/** A new vCard 3.0 as a CardDAV client creates it. */
export function newCard({ uid, firstName, lastName, company, department, jobTitle, emails = [], phones = [], notes }) {
  const lines = ["BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${escapeText(`${firstName} ${lastName}`.trim())}`, `N:${escapeText(lastName)};${escapeText(firstName)};;;`];
  if (company || department) lines.push(`ORG:${escapeText(company ?? "")}${department ? `;${escapeText(department)}` : ""}`);
  if (jobTitle) lines.push(`TITLE:${escapeText(jobTitle)}`);
  for (const e of emails) lines.push(`EMAIL;TYPE=INTERNET:${escapeText(e)}`);
  for (const p of phones) lines.push(`TEL;TYPE=CELL:${escapeText(p)}`);
  if (notes) lines.push(`NOTE:${escapeText(notes)}`);
  lines.push("END:VCARD");
  return `${lines.join("\r\n")}\r\n`;
}
