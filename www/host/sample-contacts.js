// Sample data the reference CRM is seeded with on first start: ordinary French and English
// business contacts (made-up people and example domains), a few lists and tags.
import { hostError } from "./crm/host-error.js";

export const SAMPLE_LISTS = ["Clients", "Prospects", "Partenaires", "Newsletter"];
export const SAMPLE_TAGS = ["vip", "salon-2026", "relance", "fournisseur", "presse"];

// [first, last, company, jobTitle, email, phone, city, postalCode, country, lists, tags, notes]
const ROWS = [
  ["Marie", "Dupont", "Boulangeries Dupont", "Gérante", "marie.dupont@boulangeries-dupont.fr", "+33 6 12 34 56 78", "Lyon", "69002", "France", ["Clients"], ["vip"], "Commande mensuelle de farine bio."],
  ["Jean", "Martin", "Martin & Fils", "Directeur commercial", "j.martin@martin-fils.fr", "06 23 45 67 89", "Paris", "75011", "France", ["Clients", "Newsletter"], [], ""],
  ["Sophie", "Bernard", "Cabinet Bernard", "Avocate associée", "sophie.bernard@cabinet-bernard.fr", "+33 1 42 68 53 00", "Paris", "75008", "France", ["Prospects"], ["relance"], "Rappeler après le 15."],
  ["Luc", "Petit", "Transports Petit", "Responsable logistique", "luc.petit@transports-petit.fr", "+33 4 78 92 11 40", "Villeurbanne", "69100", "France", ["Partenaires"], ["fournisseur"], ""],
  ["Camille", "Robert", "Agence Horizon", "Chargée de communication", "camille.robert@agence-horizon.fr", "07 81 22 33 44", "Nantes", "44000", "France", ["Newsletter"], ["presse"], ""],
  ["Nicolas", "Richard", "Richard Menuiserie", "Artisan", "contact@richard-menuiserie.fr", "+33 2 40 12 34 56", "Rennes", "35000", "France", ["Clients"], [], "Devis atelier envoyé."],
  ["Julie", "Durand", "Pharmacie Durand", "Pharmacienne", "julie.durand@pharmacie-durand.fr", "+33 6 98 76 54 32", "Bordeaux", "33000", "France", ["Clients"], ["vip"], ""],
  ["Thomas", "Lefebvre", "Lefebvre Conseil", "Consultant", "thomas@lefebvre-conseil.fr", "06 11 22 33 44", "Lille", "59000", "France", ["Prospects"], ["salon-2026"], "Rencontré au salon de Lille."],
  ["Chloé", "Moreau", "Studio Moreau", "Architecte", "chloe.moreau@studio-moreau.fr", "+33 6 45 67 89 01", "Marseille", "13006", "France", ["Prospects", "Newsletter"], [], ""],
  ["Antoine", "Simon", "Vignobles Simon", "Viticulteur", "antoine.simon@vignobles-simon.fr", "+33 5 56 44 33 22", "Saint-Émilion", "33330", "France", ["Clients"], ["salon-2026"], ""],
  ["Léa", "Laurent", "Crèche Les Lutins", "Directrice", "lea.laurent@leslutins.fr", "06 55 44 33 22", "Toulouse", "31000", "France", ["Prospects"], ["relance"], ""],
  ["Hugo", "Michel", "Garage Michel", "Chef d'atelier", "hugo.michel@garage-michel.fr", "+33 3 88 12 45 78", "Strasbourg", "67000", "France", ["Clients"], [], ""],
  ["Manon", "Garcia", "Éditions du Rhône", "Éditrice", "manon.garcia@editions-rhone.fr", "+33 4 72 00 11 22", "Lyon", "69007", "France", ["Partenaires"], ["presse"], ""],
  ["Louis", "David", "David Informatique", "Gérant", "louis@david-informatique.fr", "07 66 55 44 33", "Grenoble", "38000", "France", ["Partenaires"], ["fournisseur"], "Maintenance du parc."],
  ["Inès", "Bertrand", "Fleurs d'Inès", "Fleuriste", "bonjour@fleurs-ines.fr", "06 77 88 99 00", "Nice", "06000", "France", ["Newsletter"], [], ""],
  ["Gabriel", "Roux", "Roux Immobilier", "Agent immobilier", "g.roux@roux-immobilier.fr", "+33 6 10 20 30 40", "Montpellier", "34000", "France", ["Prospects"], [], ""],
  ["Emma", "Fournier", "Lycée Jules Ferry", "Professeure", "emma.fournier@exemple-education.fr", "", "Dijon", "21000", "France", ["Newsletter"], [], ""],
  ["Arthur", "Girard", "Girard Plomberie", "Plombier", "arthur.girard@girard-plomberie.fr", "06 12 12 12 12", "Angers", "49000", "France", ["Clients"], ["relance"], ""],
  ["Oliver", "Smith", "Smith & Partners Ltd", "Managing Director", "oliver.smith@smithpartners.co.uk", "+44 20 7946 0321", "London", "EC1A 1BB", "United Kingdom", ["Clients"], ["vip"], "Prefers e-mail."],
  ["Amelia", "Jones", "Northwind Traders", "Purchasing Manager", "amelia.jones@northwind.example.com", "+44 161 496 0755", "Manchester", "M1 1AE", "United Kingdom", ["Prospects"], ["salon-2026"], ""],
  ["Harry", "Williams", "Williams Engineering", "Chief Engineer", "h.williams@williams-eng.co.uk", "+44 117 496 0123", "Bristol", "BS1 4DJ", "United Kingdom", ["Partenaires"], ["fournisseur"], ""],
  ["Isla", "Brown", "Brown Design Studio", "Creative Director", "isla@browndesign.example.com", "+44 131 496 0987", "Edinburgh", "EH1 1YZ", "United Kingdom", ["Newsletter"], [], ""],
  ["Emily", "Taylor", "Taylor Consulting", "Senior Consultant", "emily.taylor@taylorconsulting.example.com", "+1 415 555 0134", "San Francisco", "94105", "United States", ["Prospects"], [], "Interested in the annual plan."],
  ["James", "Wilson", "Wilson Logistics Inc.", "Operations Manager", "james.wilson@wilsonlogistics.example.com", "+1 312 555 0178", "Chicago", "60601", "United States", ["Clients"], [], ""],
  ["Charlotte", "Davies", "Greenleaf Publishing", "Editor", "charlotte.davies@greenleaf.example.org", "+44 29 2018 0456", "Cardiff", "CF10 1EP", "United Kingdom", ["Partenaires"], ["presse"], ""],
  ["Jack", "Evans", "Evans Hardware", "Owner", "jack@evanshardware.example.com", "+1 617 555 0112", "Boston", "02108", "United States", ["Clients"], ["relance"], ""],
  ["Sophia", "Thomas", "Bright Futures Charity", "Fundraising Lead", "sophia.thomas@brightfutures.example.org", "", "Leeds", "LS1 4AP", "United Kingdom", ["Newsletter"], [], ""],
  ["Mathilde", "Lambert", "Lambert Traiteur", "Cheffe", "mathilde@lambert-traiteur.fr", "06 20 30 40 50", "Tours", "37000", "France", ["Clients"], ["salon-2026"], ""],
  ["Paul", "Fontaine", "Fontaine Assurances", "Courtier", "paul.fontaine@fontaine-assurances.fr", "+33 2 35 71 22 10", "Rouen", "76000", "France", ["Prospects"], [], ""],
  ["Alice", "Chevalier", "Atelier Chevalier", "Céramiste", "alice@atelier-chevalier.fr", "07 12 34 56 78", "Annecy", "74000", "France", ["Newsletter", "Clients"], ["vip"], "Exposition en mars."],
];

/** The sample contacts as NewCrmContact values, given the ids of the created lists by name. */
export function sampleContacts(listIdsByName) {
  return ROWS.map(([firstName, lastName, company, jobTitle, email, phone, city, postalCode, country, lists, tags, notes], i) => {
    const fields = { firstName, lastName, company, jobTitle, emails: [{ value: email, type: "work", primary: true }] };
    if (phone) fields.phones = [{ value: phone, type: phone.replace(/\s/g, "").match(/^(\+33|0)[67]/) ? "mobile" : "work", primary: true }];
    fields.addresses = [{ city, postalCode, country, type: "work" }];
    if (notes) fields.notes = notes;
    fields.owner = ["u1", "u2", "u3"][i % 3];
    return { fields, lists: lists.map((name) => listIdsByName.get(name)).filter(Boolean), tags };
  });
}

/** Seeds an empty contact book (does nothing when it already holds contacts or lists). */
export async function seedContactBook(book) {
  if ((await book.all()).length > 0 || (await book.lists()).length > 0) return false;
  const ids = new Map();
  for (const name of SAMPLE_LISTS) {
    const list = await book.createList(name, "seed");
    ids.set(name, list.id);
  }
  for (const tag of SAMPLE_TAGS) await book.createTag(tag, "seed");
  for (const contact of sampleContacts(ids)) await book.create(contact, "seed");
  if ((await book.all()).length !== ROWS.length) throw hostError("STORAGE", "Seeding the sample contacts did not complete.");
  return true;
}
