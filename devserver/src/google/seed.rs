//! Seed data: the demo OAuth client and account with plausible sample contacts, and a
//! generator of N realistic contacts for load tests and benchmarks.

use super::config::{EmulatorConfig, Seed};
use super::random::SeededRng;
use super::state::{OAuthClient, State};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub const DEMO_CLIENT_ID: &str = "demo-client.apps.googleusercontent.com";
pub const DEMO_CLIENT_SECRET: &str = "demo-secret";
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_NAME: &str = "Démo Utilisateur";

/// (given, family, email, phone, organization, title, city, label)
type Sample = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str);
const SAMPLES: &[Sample] = &[
    ("Camille", "Martin", "camille.martin@boulangerie-martin.fr", "+33 1 42 68 53 00", "Boulangerie Martin", "Gérante", "Paris", "Clients"),
    ("Julien", "Bernard", "j.bernard@bernard-btp.fr", "+33 4 78 42 19 87", "Bernard BTP", "Directeur commercial", "Lyon", "Clients"),
    ("Sophie", "Dubois", "sophie.dubois@cabinet-dubois.fr", "+33 5 56 44 21 09", "Cabinet Dubois Expertise", "Expert-comptable", "Bordeaux", "Partenaires"),
    ("Thomas", "Petit", "thomas.petit@petit-fils-menuiserie.fr", "+33 2 40 35 62 18", "Petit & Fils Menuiserie", "Artisan", "Nantes", "Fournisseurs"),
    ("Léa", "Durand", "lea.durand@durand-immobilier.fr", "+33 4 91 54 32 10", "Durand Immobilier", "Agente immobilière", "Marseille", "Clients"),
    ("Nicolas", "Leroy", "n.leroy@leroy-transports.fr", "+33 3 20 57 84 66", "Leroy Transports", "Responsable logistique", "Lille", "Fournisseurs"),
    ("Chloé", "Moreau", "chloe.moreau@atelier-moreau.fr", "+33 6 12 34 56 78", "Atelier Moreau", "Designer", "Toulouse", "Prospects"),
    ("Antoine", "Simon", "antoine.simon@simon-conseil.fr", "+33 1 53 20 45 78", "Simon Conseil", "Consultant", "Paris", "Partenaires"),
    ("Manon", "Laurent", "manon.laurent@laurent-fleurs.fr", "+33 3 88 22 14 90", "Laurent Fleurs", "Fleuriste", "Strasbourg", "Clients"),
    ("Hugo", "Lefebvre", "hugo.lefebvre@garage-lefebvre.fr", "+33 2 99 30 71 45", "Garage Lefebvre", "Mécanicien chef", "Rennes", "Clients"),
    ("Inès", "Michel", "ines.michel@pharmacie-michel.fr", "+33 4 67 58 90 12", "Pharmacie Michel", "Pharmacienne", "Montpellier", "Prospects"),
    ("Louis", "Garcia", "louis.garcia@garcia-vins.fr", "+33 5 57 81 23 45", "Garcia Vins & Spiritueux", "Caviste", "Bordeaux", "Fournisseurs"),
    ("Emma", "David", "emma.david@david-architecture.fr", "+33 4 76 43 87 21", "David Architecture", "Architecte", "Grenoble", "Partenaires"),
    ("Gabriel", "Bertrand", "g.bertrand@bertrand-elec.fr", "+33 3 80 67 45 32", "Bertrand Électricité", "Électricien", "Dijon", "Fournisseurs"),
    ("Zoé", "Roux", "zoe.roux@roux-traiteur.fr", "+33 4 93 87 65 43", "Roux Traiteur", "Cheffe traiteur", "Nice", "Clients"),
    ("Arthur", "Vincent", "arthur.vincent@vincent-avocats.fr", "+33 1 44 51 62 73", "Vincent Avocats", "Avocat associé", "Paris", "Partenaires"),
    ("Jade", "Fournier", "jade.fournier@fournier-opticiens.fr", "+33 2 35 71 84 29", "Fournier Opticiens", "Opticienne", "Rouen", "Prospects"),
    ("Lucas", "Girard", "lucas.girard@girard-informatique.fr", "+33 5 61 22 33 44", "Girard Informatique", "Technicien", "Toulouse", "Fournisseurs"),
    ("Alice", "Bonnet", "alice.bonnet@bonnet-coiffure.fr", "+33 4 72 10 98 76", "Bonnet Coiffure", "Coiffeuse", "Lyon", "Clients"),
    ("Raphaël", "Dupont", "raphael.dupont@dupont-assurances.fr", "+33 1 40 20 30 40", "Dupont Assurances", "Courtier", "Paris", "Partenaires"),
    ("Maria", "Schmidt", "maria.schmidt@schmidt-gmbh.de", "+49 30 1234 5678", "Schmidt GmbH", "Einkauf", "Berlin", "Fournisseurs"),
    ("James", "Wilson", "james.wilson@wilsonandco.co.uk", "+44 20 7946 0958", "Wilson & Co", "Sales Director", "London", "Prospects"),
    ("Elena", "Rossi", "elena.rossi@rossi-design.it", "+39 02 1234 5678", "Rossi Design", "Art Director", "Milano", "Partenaires"),
    ("Paul", "Lambert", "paul.lambert@gmail.com", "06 98 76 54 32", "", "", "Lille", ""),
    ("Sarah", "Cohen", "sarah.cohen@outlook.fr", "07 11 22 33 44", "", "", "Paris", ""),
];

/// A Person body (API shape) for a sample contact.
#[allow(clippy::too_many_arguments)]
pub fn sample_person(given: &str, family: &str, email: &str, phone: &str, org: &str, title: &str, city: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("names".into(), json!([{"givenName": given, "familyName": family}]));
    if !email.is_empty() {
        p.insert("emailAddresses".into(), json!([{"value": email, "type": if org.is_empty() { "home" } else { "work" }}]));
    }
    if !phone.is_empty() {
        p.insert("phoneNumbers".into(), json!([{"value": phone, "type": if phone.starts_with("+33 6") || phone.starts_with("06") || phone.starts_with("07") { "mobile" } else { "work" }}]));
    }
    if !org.is_empty() {
        p.insert("organizations".into(), json!([{"name": org, "title": title}]));
    }
    if !city.is_empty() {
        p.insert("addresses".into(), json!([{"city": city, "country": if email.ends_with(".de") { "Germany" } else if email.ends_with(".uk") { "United Kingdom" } else if email.ends_with(".it") { "Italy" } else { "France" }, "type": "work"}]));
    }
    p
}

const GIVEN: &[&str] = &["Camille", "Julien", "Sophie", "Thomas", "Léa", "Nicolas", "Chloé", "Antoine", "Manon", "Hugo", "Inès", "Louis", "Emma", "Gabriel", "Zoé", "Arthur", "Jade", "Lucas", "Alice", "Raphaël", "Anna", "Maxime", "Clara", "Théo", "Sarah", "Paul", "Juliette", "Nathan", "Louise", "Victor"];
const FAMILY: &[&str] = &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand"];
const CITIES: &[&str] = &["Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux", "Lille", "Rennes", "Reims"];
const SECTORS: &[&str] = &["Conseil", "Immobilier", "Transports", "Boulangerie", "Menuiserie", "Informatique", "Assurances", "Architecture", "Traiteur", "Pharmacie"];

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'ï' | 'î' => 'i',
            'ô' => 'o',
            'ç' => 'c',
            'û' | 'ù' => 'u',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

/// The i-th generated contact: deterministic for a given index, unique e-mail and phone.
pub fn generated_person(i: usize, rng: &mut SeededRng) -> Map<String, Value> {
    let given = GIVEN[rng.below(GIVEN.len())];
    let family = FAMILY[rng.below(FAMILY.len())];
    let sector = SECTORS[rng.below(SECTORS.len())];
    let city = CITIES[rng.below(CITIES.len())];
    let org = format!("{family} {sector}");
    let email = format!("{}.{}.{i}@{}-{}.example.fr", ascii(given), ascii(family), ascii(family), ascii(sector));
    let phone = format!("+33 6 {:02} {:02} {:02} {:02}", (i / 1_000_000) % 100, (i / 10_000) % 100, (i / 100) % 100, i % 100);
    sample_person(given, family, &email, &phone, &org, "", city)
}

/// Adds `n` generated contacts to an account; returns their resource names.
pub fn generate_contacts(st: &mut State, email: &str, n: usize, now: i64) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let start = st.account(email).map(|a| a.contacts.len()).unwrap_or(0);
    for i in 0..n {
        let person = generated_person(start + i, &mut st.rng);
        let id = st.new_contact_id();
        // Seeded contacts exist "before" any client syncs: no propagation delay.
        if let Some(acct) = st.account_mut(email) {
            acct.insert_contact(id, person, BTreeSet::from(["myContacts".to_string()]), "*", now, 0);
            out.push(format!("people/c{id}"));
        }
    }
    out
}

/// The demo OAuth client: any loopback redirect URI.
pub fn demo_client() -> OAuthClient {
    OAuthClient {
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: DEMO_CLIENT_SECRET.into(),
        name: "Contact Sync (demo)".into(),
        redirect_uris: vec!["http://127.0.0.1:*/".into(), "http://localhost:*/".into()],
        testing: false,
        test_users: Vec::new(),
    }
}

/// Applies the configured seed to a fresh state.
pub fn apply(st: &mut State, config: &EmulatorConfig, now: i64) {
    if config.seed != Seed::Demo {
        return;
    }
    st.clients.insert(DEMO_CLIENT_ID.into(), demo_client());
    st.add_account(DEMO_EMAIL, DEMO_NAME, now);
    let mut labels: Vec<(&str, String)> = Vec::new();
    for name in ["Clients", "Fournisseurs", "Partenaires", "Prospects"] {
        let gid = st.new_group_id();
        labels.push((name, gid.clone()));
        if let Some(acct) = st.account_mut(DEMO_EMAIL) {
            acct.groups.insert(
                gid.clone(),
                super::state::Group { id: gid.clone(), name: name.into(), system: false, etag: String::new(), update_ms: now, seq: 0, visible_ms: now, deleted: false, client_data: Vec::new() },
            );
            acct.touch_group(&gid, now, 0);
        }
    }
    for (i, (g, f, e, p, o, t, c, label)) in SAMPLES.iter().enumerate() {
        let person = sample_person(g, f, e, p, o, t, c);
        let id = st.new_contact_id();
        let mut groups = BTreeSet::from(["myContacts".to_string()]);
        if let Some((_, gid)) = labels.iter().find(|(n, _)| n == label) {
            groups.insert(gid.clone());
        }
        if i % 7 == 0 {
            groups.insert("starred".into());
        }
        if let Some(acct) = st.account_mut(DEMO_EMAIL) {
            acct.insert_contact(id, person, groups, "*", now, 0);
        }
    }
    if config.generated_contacts > 0 {
        generate_contacts(st, DEMO_EMAIL, config.generated_contacts, now);
    }
}
