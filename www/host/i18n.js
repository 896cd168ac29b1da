// The reference CRM's own words, in English and French. The language follows the
// browser (navigator.language) until the operator picks one with the switch.
const STRINGS = {
  en: {
    appTitle: "Reference CRM",
    navContacts: "Contacts", navLists: "Lists & tags", navPlugins: "Plugins", navLog: "Log",
    language: "Language",
    search: "Search contacts", searchPlaceholder: "Name, company, e-mail, phone…",
    allLists: "All lists", allTags: "All tags",
    newContact: "New contact", noContacts: "No contact matches.", contactCount: "{n} contacts",
    selectContact: "Select a contact or create a new one.",
    editContact: "Edit contact", createContact: "New contact",
    save: "Save", cancel: "Cancel", delete: "Delete", reload: "Reload", add: "Add", remove: "Remove",
    confirmDelete: "Delete {name}? This cannot be undone.",
    saved: "{name} saved.", deleted: "{name} deleted.", created: "{name} created.",
    conflict: "Someone else changed this contact meanwhile (now version {version}). Your changes were not saved.",
    conflictRemedy: "Reload the contact to see the current values, then apply your change again.",
    goneContact: "This contact was deleted meanwhile.",
    emailsLabel: "E-mails", phonesLabel: "Phones", addressLabel: "Address",
    street: "Street", city: "City", postalCode: "Postal code", region: "Region", country: "Country",
    type: "Type", value: "Value", primary: "Primary",
    listsLabel: "Lists", tagsLabel: "Tags", tagsHint: "separated by commas", addEmail: "Add an e-mail", addPhone: "Add a phone",
    noPhoto: "No photo", choosePhoto: "Choose a photo (JPEG or PNG)", removePhoto: "Remove the photo",
    photoType: "Choose a JPEG or PNG image.", photoTooLarge: "The image is too large: choose one of at most {size} MiB.",
    version: "Version {version} · updated {date}",
    lists: "Lists", tags: "Tags", newList: "New list name", newTag: "New tag",
    createList: "Create list", createTag: "Create tag", rename: "Rename", members: "{n} contacts",
    confirmDeleteList: "Delete the list {name}? Its contacts are kept.",
    confirmDeleteTag: "Delete the tag {name}? It is removed from its contacts.",
    plugins: "Installed plugins", pluginLoading: "Installing the plugin…",
    pluginFailed: "The plugin could not be installed: {message}",
    pluginVersion: "Version {version}", coreVersion: "core {version}",
    networkAccess: "Network access", devHosts: "Development: loopback addresses allowed",
    schedule: "Schedule", scheduleEvery: "Sync every {n} minutes", nextRun: "next run at {time}",
    runNow: "Run now", running: "Running…",
    lastRun: "Last run at {time}: {outcome}", lastRunFailed: "The last run, at {time}, failed: {message}",
    settingsTab: "Settings", tabMissing: "The plugin's settings tab is not available yet ({module} could not be loaded).",
    tabFailed: "The plugin's settings tab failed to open: {message}",
    logTitle: "Host log", logEmpty: "Nothing logged yet.", clearLog: "Clear",
    dismiss: "Dismiss", devMode: "Development mode",
    popupBlocked: "The sign-in window was blocked by the browser.", popupRemedy: "Allow pop-ups for this site and try again.",
    popupClosed: "The sign-in window was closed before consent was given.",
  },
  fr: {
    appTitle: "CRM de référence",
    navContacts: "Contacts", navLists: "Listes et tags", navPlugins: "Extensions", navLog: "Journal",
    language: "Langue",
    search: "Rechercher des contacts", searchPlaceholder: "Nom, société, e-mail, téléphone…",
    allLists: "Toutes les listes", allTags: "Tous les tags",
    newContact: "Nouveau contact", noContacts: "Aucun contact ne correspond.", contactCount: "{n} contacts",
    selectContact: "Choisissez un contact ou créez-en un.",
    editContact: "Modifier le contact", createContact: "Nouveau contact",
    save: "Enregistrer", cancel: "Annuler", delete: "Supprimer", reload: "Recharger", add: "Ajouter", remove: "Retirer",
    confirmDelete: "Supprimer {name} ? Cette action est définitive.",
    saved: "{name} enregistré.", deleted: "{name} supprimé.", created: "{name} créé.",
    conflict: "Quelqu’un d’autre a modifié ce contact entre-temps (version {version}). Vos modifications n’ont pas été enregistrées.",
    conflictRemedy: "Rechargez le contact pour voir les valeurs actuelles, puis refaites votre modification.",
    goneContact: "Ce contact a été supprimé entre-temps.",
    emailsLabel: "E-mails", phonesLabel: "Téléphones", addressLabel: "Adresse",
    street: "Rue", city: "Ville", postalCode: "Code postal", region: "Région", country: "Pays",
    type: "Type", value: "Valeur", primary: "Principal",
    listsLabel: "Listes", tagsLabel: "Tags", tagsHint: "séparés par des virgules", addEmail: "Ajouter un e-mail", addPhone: "Ajouter un téléphone",
    noPhoto: "Pas de photo", choosePhoto: "Choisir une photo (JPEG ou PNG)", removePhoto: "Retirer la photo",
    photoType: "Choisissez une image JPEG ou PNG.", photoTooLarge: "L’image est trop grande : choisissez-en une de {size} Mio au plus.",
    version: "Version {version} · modifié le {date}",
    lists: "Listes", tags: "Tags", newList: "Nom de la nouvelle liste", newTag: "Nouveau tag",
    createList: "Créer la liste", createTag: "Créer le tag", rename: "Renommer", members: "{n} contacts",
    confirmDeleteList: "Supprimer la liste {name} ? Ses contacts sont conservés.",
    confirmDeleteTag: "Supprimer le tag {name} ? Il est retiré de ses contacts.",
    plugins: "Extensions installées", pluginLoading: "Installation de l’extension…",
    pluginFailed: "L’extension n’a pas pu être installée : {message}",
    pluginVersion: "Version {version}", coreVersion: "cœur {version}",
    networkAccess: "Accès réseau", devHosts: "Développement : adresses locales autorisées",
    schedule: "Planification", scheduleEvery: "Synchronisation toutes les {n} minutes", nextRun: "prochaine exécution à {time}",
    runNow: "Lancer maintenant", running: "En cours…",
    lastRun: "Dernière exécution à {time} : {outcome}", lastRunFailed: "La dernière exécution, à {time}, a échoué : {message}",
    settingsTab: "Réglages", tabMissing: "L’onglet de réglages de l’extension n’est pas encore disponible ({module} introuvable).",
    tabFailed: "L’onglet de réglages de l’extension n’a pas pu s’ouvrir : {message}",
    logTitle: "Journal de l’hôte", logEmpty: "Rien n’a encore été journalisé.", clearLog: "Effacer",
    dismiss: "Fermer", devMode: "Mode développement",
    popupBlocked: "La fenêtre de connexion a été bloquée par le navigateur.", popupRemedy: "Autorisez les fenêtres surgissantes pour ce site et réessayez.",
    popupClosed: "La fenêtre de connexion a été fermée avant le consentement.",
  },
};

const STORAGE_KEY = "reference-crm.language";

function initialLanguage() {
  let chosen = null;
  try { chosen = localStorage.getItem(STORAGE_KEY); } catch { /* private mode */ }
  if (chosen === "en" || chosen === "fr") return chosen;
  return String(navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

let language = initialLanguage();
const listeners = new Set();

export function currentLanguage() { return language; }

/** A full locale for the plugin: the browser's when it matches the chosen language. */
export function currentLocale() {
  const browser = String(navigator.language || "");
  if (browser.toLowerCase().startsWith(language)) return browser;
  return language === "fr" ? "fr-FR" : "en-GB";
}

export function setLanguage(next) {
  if (next !== "en" && next !== "fr") return;
  language = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* private mode */ }
  document.documentElement.lang = next;
  for (const listener of [...listeners]) listener(next);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Translates `key`, filling {placeholders} from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[language][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] !== undefined ? String(vars[name]) : `{${name}}`));
}

export function formatTime(date) {
  return new Intl.DateTimeFormat(currentLocale(), { hour: "2-digit", minute: "2-digit" }).format(date);
}

export function formatDateTime(date) {
  return new Intl.DateTimeFormat(currentLocale(), { dateStyle: "short", timeStyle: "short" }).format(date);
}
