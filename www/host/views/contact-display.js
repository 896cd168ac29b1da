// How a contact is named and searched in the CRM's lists.

export function displayName(contact) {
  const f = contact.fields ?? {};
  const name = [f.firstName, f.lastName].filter(Boolean).join(" ");
  return name || f.company || f.emails?.[0]?.value || f.phones?.[0]?.value || "—";
}

function fold(text) {
  return String(text ?? "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/** Whether the contact matches every word of the query (names, company, e-mails, phones, city). */
export function matchesQuery(contact, query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const f = contact.fields ?? {};
  const haystack = fold([
    f.firstName, f.lastName, f.company, f.jobTitle,
    ...(f.emails ?? []).map((e) => e.value),
    ...(f.addresses ?? []).map((a) => a.city),
    ...contact.tags,
  ].join(" "));
  const digits = (f.phones ?? []).map((p) => p.value.replace(/\D/g, "")).join(" ");
  return words.every((w) => haystack.includes(w) || (/^\+?\d+$/.test(w) && digits.includes(w.replace(/\D/g, ""))));
}

export function sortContacts(contacts) {
  return [...contacts].sort((a, b) => {
    const ka = `${a.fields.lastName ?? ""} ${a.fields.firstName ?? ""}`.trim() || displayName(a);
    const kb = `${b.fields.lastName ?? ""} ${b.fields.firstName ?? ""}`.trim() || displayName(b);
    return ka.localeCompare(kb);
  });
}
