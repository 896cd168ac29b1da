// The reference CRM's contact fields: the standard ones, the contact's photo (type "image",
// a JPEG or PNG data: URL), and one custom boolean, "deletedInRemote", that the plugin's
// "flag" deletion policy sets instead of deleting.
// Data, not code: the form, the validation and crm.fieldSchema() all read this table.

export const FIELDS = [
  { id: "prefix", type: "text", en: "Title", fr: "Civilité" },
  { id: "firstName", type: "text", en: "First name", fr: "Prénom" },
  { id: "middleName", type: "text", en: "Middle name", fr: "Deuxième prénom" },
  { id: "lastName", type: "text", en: "Last name", fr: "Nom" },
  { id: "suffix", type: "text", en: "Suffix", fr: "Suffixe" },
  { id: "company", type: "text", en: "Company", fr: "Société" },
  { id: "jobTitle", type: "text", en: "Job title", fr: "Fonction" },
  { id: "department", type: "text", en: "Department", fr: "Service" },
  { id: "emails", type: "email-list", en: "E-mails", fr: "E-mails" },
  { id: "phones", type: "phone-list", en: "Phones", fr: "Téléphones" },
  { id: "addresses", type: "address-list", en: "Addresses", fr: "Adresses" },
  { id: "birthday", type: "date", en: "Birthday", fr: "Anniversaire" },
  { id: "website", type: "url", en: "Website", fr: "Site web" },
  { id: "notes", type: "longtext", en: "Notes", fr: "Notes" },
  { id: "doNotContact", type: "boolean", en: "Do not contact", fr: "Ne pas contacter" },
  { id: "owner", type: "user", en: "Owner", fr: "Responsable" },
  { id: "photo", type: "image", en: "Photo", fr: "Photo" },
  { id: "deletedInRemote", type: "boolean", custom: true, en: "Deleted in address book", fr: "Supprimé dans le carnet" },
];

export const FIELDS_BY_ID = new Map(FIELDS.map((f) => [f.id, f]));

/** crm.fieldSchema() in the operator's language. */
export function fieldSchemaFor(locale) {
  const lang = String(locale || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
  return FIELDS.map((f) => {
    const entry = { id: f.id, label: f[lang], type: f.type };
    if (f.custom) entry.custom = true;
    return entry;
  });
}
