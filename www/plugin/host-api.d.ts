// The host contract, hostApi "1": what a CRM offers to the contact-sync plugin, and what
// the plugin offers back. One file, the single source of truth; docs/host-api.md explains it.
//
// Three layers:
//   HostApi      what the CRM passes to the shim's activate() (the host's plugin API)
//   PluginHost   what the shim hands to the wasm core (HostApi adapted: fetch checked
//                against the manifest allowlist, optional parts filled, errors coded)
//   ContactSyncPlugin  what the plugin exposes to the host and its settings tab

export type HostApiVersion = "1";

// ---------- errors ----------
/** Every failure crossing the contract is an Error with a stable code. */
export interface CodedError extends Error {
  code: ErrorCode;
  /** A sentence a person can act on. */
  remedy?: string;
  /** Whether trying again later may help. */
  retryable?: boolean;
  /** For CONFLICT: the record's current version. */
  currentVersion?: number;
}
export type ErrorCode =
  | "AUTH_EXPIRED" | "AUTH_DENIED" | "NOT_CONNECTED" | "RATE_LIMITED" | "NETWORK"
  | "NOT_ALLOWED_HOST" | "BAD_RESPONSE" | "BAD_INPUT" | "INVALID_SETTINGS" | "CONFLICT"
  | "NOT_FOUND" | "GUARD_TRIPPED" | "ALREADY_RUNNING" | "CANCELLED" | "HOST_API_MISMATCH"
  | "STORAGE" | "INTERNAL";

// ---------- CRM data ----------
export interface ContactEmail { value: string; type?: string; primary?: boolean }
export interface ContactPhone { value: string; type?: string; primary?: boolean }
export interface ContactAddress {
  street?: string; city?: string; postalCode?: string; region?: string; country?: string;
  type?: string; primary?: boolean;
}
/** A CRM contact. `fields` keys are the field ids of the CRM's field schema. */
export interface CrmContact {
  id: string;
  /** Increases on every change; an update must name the version it was computed against. */
  version: number;
  /** ISO 8601, the CRM's own clock. */
  updatedAt: string;
  /** Present (true) only on tombstones returned by listChanges. */
  deleted?: boolean;
  fields: CrmFields;
  /** Ids of the lists the contact belongs to. */
  lists: string[];
  /** Tag names. */
  tags: string[];
}
export interface CrmFields {
  firstName?: string; lastName?: string; middleName?: string; prefix?: string; suffix?: string;
  company?: string; jobTitle?: string; department?: string;
  emails?: ContactEmail[]; phones?: ContactPhone[]; addresses?: ContactAddress[];
  notes?: string; birthday?: string; website?: string; doNotContact?: boolean; owner?: string;
  /** The contact's photo, a `data:image/jpeg;base64,…` or `data:image/png;base64,…` URL
   *  (field type "image"); null or absent when there is none. */
  photo?: string | null;
  /** Custom fields, ids as declared in the field schema. */
  [custom: string]: unknown;
}
export interface NewCrmContact { fields: CrmFields; lists?: string[]; tags?: string[] }
export interface CrmPage {
  contacts: CrmContact[];
  /** Pass back to continue; on the last page, the cursor for the next incremental listing. */
  nextCursor: string;
  hasMore: boolean;
}
export type CrmFieldType =
  | "text" | "longtext" | "email-list" | "phone-list" | "address-list" | "date" | "boolean"
  | "url" | "user" | "number"
  /** A `data:image/(jpeg|png);base64,…` URL; the Google spoke syncs it when "sync.photos" is on. */
  | "image";
export interface CrmFieldSchema {
  id: string; label: string; type: CrmFieldType; custom?: boolean; readOnly?: boolean;
}
export interface CrmList { id: string; name: string }
export interface CrmUser { id: string; name: string; email?: string }

// ---------- the host's API (given to the shim) ----------
export interface HostApi {
  hostApi: HostApiVersion;
  hostVersion: string;
  storage: {
    /** Values are JSON-serialisable; a missing key reads as null. */
    get(keys: string[]): Promise<Record<string, unknown | null>>;
    /** Atomic: every put and delete happens, or none does. */
    write(ops: { put?: Record<string, unknown>; delete?: string[] }): Promise<void>;
    /** Writes `value` (null deletes) only if the current value deep-equals `expected`
     *  (null = absent). Resolves whether it wrote. */
    compareAndSet(key: string, expected: unknown | null, value: unknown | null): Promise<boolean>;
    list(prefix: string): Promise<string[]>;
  };
  secrets: {
    get(name: string): Promise<string | null>;
    set(name: string, value: string): Promise<void>;
    delete(name: string): Promise<void>;
  };
  crm: {
    /** cursor null: a full listing of live contacts. Otherwise changes since the cursor,
     *  deletions as tombstones ({id, version, deleted: true}). */
    listChanges(cursor: string | null, limit: number): Promise<CrmPage>;
    get(ids: string[]): Promise<CrmContact[]>;
    create(contact: NewCrmContact): Promise<CrmContact>;
    /** Rejects with code CONFLICT (and currentVersion) when expectedVersion is stale. */
    update(id: string, expectedVersion: number, patch: { fields?: CrmFields; lists?: string[]; tags?: string[] }): Promise<CrmContact>;
    /** Rejects with CONFLICT when expectedVersion is stale, NOT_FOUND when gone. */
    delete(id: string, expectedVersion: number): Promise<void>;
    lists(): Promise<CrmList[]>;
    createList(name: string): Promise<CrmList>;
    tags(): Promise<string[]>;
    fieldSchema(): Promise<CrmFieldSchema[]>;
    users(): Promise<CrmUser[]>;
    currentUser(): Promise<CrmUser>;
  };
  /** The operator's locale, e.g. "fr-FR". */
  locale(): string;
  /** Optional proxy for hosts that forbid direct fetch. It receives only requests the shim
   *  checked against the allowlist, with `url` the checked, normalised href (http: or https:,
   *  no user name or password, no fragment): send exactly that URL. It must not follow
   *  redirects (answer the 3xx with its Location header: the plugin follows same-origin ones
   *  itself and refuses the others), must enforce the same allowlist (never an open relay),
   *  and must not log bodies or the Authorization header. */
  http?: { fetch(request: HttpRequest): Promise<HttpResponse> };
  /** Optional broker: the host holds the OAuth client and returns tokens. */
  oauth?: {
    authorize(provider: string, scopes: string[]): Promise<{ accessToken: string; refreshToken?: string; expiresAt: number; account?: string }>;
    refresh(provider: string, refreshToken: string): Promise<{ accessToken: string; expiresAt: number }>;
  };
  ui: {
    notify(level: "info" | "warning" | "error", message: string): void;
    /** Opens the URL for consent; resolves with the final redirect URL (with code/state or error).
     *  The shim calls it only with a URL the allowlist admits (the manifest's origins, the
     *  development hosts in development mode), as the checked href. */
    openAuthWindow(url: string, redirectUri: string): Promise<string>;
  };
  log(level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>): void;
  /** The host calls `handler` with events; returns an unsubscribe function. */
  onEvent(handler: (event: HostEvent) => void): () => void;
}
export type HostEvent =
  | { type: "contact.created" | "contact.updated" | "contact.deleted"; contactId: string }
  | { type: "crm.opened" };

export interface HttpRequest {
  method: string; url: string; headers?: Record<string, string>; body?: string;
  /** How `HttpResponse.body` comes back: the text (default), or base64 (standard alphabet,
   *  padded) of the raw bytes, for images. A host proxy (`http.fetch`) must honour it. */
  responseEncoding?: "text" | "base64";
}
export interface HttpResponse { status: number; headers: Record<string, string>; body: string }

// ---------- what the shim hands to the core ----------
/** HostApi adapted by the shim. fetch enforces the manifest allowlist (code NOT_ALLOWED_HOST)
 *  and uses host.http.fetch when present, the global fetch otherwise. Network failures
 *  reject with code NETWORK. */
export interface PluginHost {
  /** The host activated the plugin in development mode (`allowDevHosts`): development
   *  hosts are reachable and servers on a private network need no operator's choice. */
  devMode: boolean;
  storage: HostApi["storage"];
  secrets: HostApi["secrets"];
  crm: HostApi["crm"];
  locale(): string;
  fetch(request: HttpRequest): Promise<HttpResponse>;
  oauth?: HostApi["oauth"];
  ui: HostApi["ui"];
  log: HostApi["log"];
  /** Milliseconds since the epoch (the core never reads a clock itself). */
  now(): number;
  /** Resolves after `ms` milliseconds (backoff, pacing, debouncing). */
  sleep(ms: number): Promise<void>;
  /** Cryptographically random bytes (OAuth state and PKCE verifier). */
  randomBytes(length: number): Uint8Array;
}

// ---------- settings (validated against plugin.json contributes.settings) ----------
export type Direction = "both" | "toRemote" | "toCrm" | "none";
export type Priority = "newest" | "crm" | "remote";
export interface FieldMappingRow {
  /** CRM field id (from crm.fieldSchema()). */
  crmField: string;
  /** Canonical address-book field, e.g. "name.given", "emails", "organization.name". */
  remoteField: string;
  direction: Direction;
  priority: Priority;
  /** A non-empty value fills an empty one even against the priority. */
  fillEmpty: boolean;
}
export interface LabelMappingRow { crm: { kind: "list" | "tag"; id: string }; remoteLabel: string }
export interface SpokeSettings {
  id: string;
  kind: "google" | "carddav";
  /** Shown to the operator. */
  name: string;
  /** The CRM (hub) may create contacts in this address book. */
  allowCreate: boolean;
  /** Google: the company's own OAuth client id (its secret lives in host secrets). Empty when the host brokers OAuth. */
  clientId?: string;
  /** Development only: endpoints of a local emulator (must be in devAllowedHosts). */
  endpoints?: { auth: string; token: string; api: string; revoke?: string };
  /** CardDAV server URL (https://, http:// only on a development host; no user name or
   *  password in it, no backslash, control character or space), user name and the chosen
   *  address book. */
  serverUrl?: string; username?: string; addressBook?: string;
  /** CardDAV: "this is a server on my private network". A server on a private network
   *  (loopback, RFC 1918, link-local, unique local, `localhost`, `*.local`, a single label…)
   *  is contacted outside development mode only when this is true. */
  allowPrivateNetwork?: boolean;
}
export interface Settings {
  "sync.enabled": boolean;
  "sync.import": boolean;
  "sync.export": boolean;
  "sync.onOpen": boolean;
  "sync.onChange": boolean;
  /** Google spokes also sync contact photos (an "image" CRM field ↔ the Google photo);
   *  off by default, each photo write costs Google quota. The plugin accepts stored
   *  settings without it (saved before it existed) and reads them as false. */
  "sync.photos": boolean;
  "filter.mode": "all" | "lists" | "tags";
  "filter.lists": string[];
  "filter.tags": string[];
  "filter.validMobileOnly": boolean;
  /** What happens to a linked remote copy when its CRM contact leaves the export filter. */
  "filter.onLeave": "keep" | "unlink" | "delete";
  "deletion.policy": "propagate" | "flag" | "ignore";
  /** CRM field set to true when policy is "flag". */
  "deletion.flagField": string;
  /** Share (0..1) of linked contacts a run may delete before the guard stops it. */
  "guard.maxDeleteShare": number;
  "phone.defaultRegion": string;
  "mapping.fields": FieldMappingRow[];
  "mapping.labels": LabelMappingRow[];
  spokes: SpokeSettings[];
}

// ---------- runs, previews, history ----------
export type Trigger = "schedule" | "manual" | "startup" | "event" | "undo";
export interface SyncRequest {
  trigger: Trigger;
  /** All spokes when absent. */
  spokeId?: string;
  /** Limit the run to these CRM contacts (host change events). */
  contactIds?: string[];
  /** Time budget in ms; what is left continues next run. */
  budgetMs?: number;
}
export interface SideCounts { created: number; updated: number; deleted: number }
export interface RunCounts {
  crm: SideCounts; remote: SideCounts;
  linkedByEmail: number; linkedByPhone: number; linkedById: number;
  conflicts: number; ambiguous: number; unchanged: number; skippedByFilter: number;
  /** Contacts (either side) waiting for the operator's decision: see `RunReport.pendingMatches`. */
  waiting: number;
  /** Operator decisions (`resolveMatch`) this run applied. */
  decided: number;
}
export interface ConflictRecord {
  crmId?: string; remoteId?: string; contactName: string; field: string;
  crmValue: unknown; remoteValue: unknown; kept: "crm" | "remote"; rule: Priority;
}
export interface AmbiguityRecord { key: string; crmIds: string[]; remoteIds: string[]; reason: string }
/** A contact of a pending match, as the operator recognises it (values as typed; `name`
 *  empty when the run did not read it). */
export interface MatchCandidate { side: "crm" | "remote"; id: string; name: string; emails?: string[]; phones?: string[] }
/** Contacts held until the operator decides: neither linked, created on the other side nor
 *  deleted, on every run. `ambiguous`: several candidates share a key; `possible`: one
 *  contact on each side shares a phone and the names do not agree. `key`: what they share
 *  now (empty when an edit removed it: they stay held). */
export interface PendingMatch { kind: "ambiguous" | "possible"; key: string; crm: MatchCandidate[]; remote: MatchCandidate[] }
/** What the operator decides about held contacts (`resolveMatch`). */
export type MatchDecision =
  /** Link these two: pick a candidate, or confirm a possible match. */
  | { action: "link"; crmId: string; remoteId: string }
  /** Two different people: each is created on the other side. */
  | { action: "refuse"; crmId: string; remoteId: string }
  /** This contact is none of its candidates: create it on the other side. */
  | { action: "createNew"; side: "crm" | "remote"; id: string }
  /** Never sync it with this address book (shown in `RunReport.ignored`) ... */
  | { action: "ignore"; side: "crm" | "remote"; id: string }
  /** ... until un-ignored: it is then matched like any unlinked contact. */
  | { action: "unignore"; side: "crm" | "remote"; id: string };
export interface ChangeSample { contactName: string; side: "crm" | "remote"; action: "create" | "update" | "delete" | "link"; fields?: string[] }
export interface RunReport {
  runId: string; spokeId: string; trigger: Trigger; dryRun: boolean;
  startedAt: string; finishedAt: string;
  outcome: "ok" | "partial" | "failed" | "guard" | "cancelled" | "alreadyRunning";
  counts: RunCounts;
  conflicts: ConflictRecord[];
  ambiguities: AmbiguityRecord[];
  /** Matches waiting for the operator's decision (reports of earlier versions lack it). */
  pendingMatches: PendingMatch[];
  /** Contacts the operator chose never to sync with this address book. */
  ignored: MatchCandidate[];
  samples: ChangeSample[];
  /** Remote values a side cannot hold, e.g. "2 phone numbers cannot be stored". */
  notices: string[];
  errors: { code: ErrorCode; message: string; remedy: string; retryAt?: string }[];
  /** True for the latest completed run of its spoke while undo is possible. */
  undoable: boolean;
  /** Work left for the next run (time budget reached). */
  more: boolean;
}
export interface Progress { spokeId: string; phase: "pull" | "match" | "write" | "done"; done: number; total: number }
export interface SpokeStatus {
  id: string; kind: string; name: string;
  state: "connected" | "disconnected" | "error";
  account?: string; lastRun?: RunReport; lastSuccessAt?: string; nextRunAt?: string;
  problem?: { code: ErrorCode; message: string; remedy: string };
  linked: number;
}
/** An address book found by CardDAV discovery; `url` is what `addressBook` in the spoke's settings holds once chosen. */
export interface CardDavAddressBook { url: string; displayName: string; description?: string }
/** `connectCardDav`'s answer: the account's address books. */
export interface CardDavConnection { addressBooks: CardDavAddressBook[] }
/** An origin the plugin may contact (`admittedOrigins()`). */
export interface AdmittedOrigin {
  /** As `URL.origin` spells it, e.g. "https://dav.example.com". */
  origin: string;
  /** plugin.json's allowedHosts, its devAllowedHosts (development mode only), or a saved spoke's server. */
  source: "manifest" | "development" | "server";
  /** For source "server": the spoke. */
  spokeId?: string;
  /** Any port of this host (development hosts: emulators bind free ports). */
  anyPort: boolean;
  /** The host is on a private network. */
  privateNetwork: boolean;
}
/** A saved server the plugin will not contact: why (naming its origin) and what to do. */
export interface RefusedServer {
  spokeId: string; origin: string | null; privateNetwork: boolean;
  code: "NOT_ALLOWED_HOST"; message: string; remedy: string;
}
/** `admittedOrigins()`'s answer: what the shim lets through, computed by the core. */
export interface NetworkAccess { devMode: boolean; origins: AdmittedOrigin[]; refused: RefusedServer[] }
export interface PluginStatus { running: boolean; spokes: SpokeStatus[]; settingsProblem?: { code: ErrorCode; message: string } }
export interface FieldCatalogue {
  crm: CrmFieldSchema[];
  remote: { id: string; label: string; type: CrmFieldType }[];
  defaults: FieldMappingRow[];
}

// ---------- the plugin (exported from wasm) ----------
export interface ContactSyncPlugin {
  version(): string;
  defaultSettings(): Settings;
  /** Rejects INVALID_SETTINGS (with the reasons) when the stored settings do not validate. */
  getSettings(): Promise<Settings>;
  /** Validates against the manifest schema and the CRM field schema; saves; resolves the saved value. */
  saveSettings(settings: Settings): Promise<Settings>;
  fieldCatalogue(): Promise<FieldCatalogue>;
  status(): Promise<PluginStatus>;
  /** One spoke's status (CardDAV: connected when a password is stored and an address book chosen; account `username @ host`). Rejects BAD_INPUT for an unknown id. */
  spokeStatus(spokeId: string): Promise<SpokeStatus>;
  /** Google: builds the consent URL (PKCE + state), opens it through host.ui, finishes the code exchange. */
  connect(spokeId: string): Promise<SpokeStatus>;
  /**
   * CardDAV: the spoke must be saved with `serverUrl` and `username`. Runs discovery
   * (`/.well-known/carddav` → current-user-principal → addressbook-home-set → books) and
   * only on success stores the password in the secret `carddav.{spokeId}.password`. An
   * empty `password` re-lists with the stored one. Rejects AUTH_DENIED, BAD_RESPONSE (no
   * CardDAV there), NOT_FOUND, NETWORK, NOT_ALLOWED_HOST (a redirect to another origin, a
   * server on a private network the operator has not allowed, http:// outside development),
   * NOT_CONNECTED (empty password and none stored), BAD_INPUT.
   */
  connectCardDav(spokeId: string, password: string): Promise<CardDavConnection>;
  testConnection(spokeId: string): Promise<SpokeStatus>;
  /** Forgets the credentials (Google tokens revoked; CardDAV password); settings and links stay. */
  disconnect(spokeId: string): Promise<void>;
  /** Forgets the links of a spoke: the next run matches again by CRM id, e-mail, phone. */
  forgetLinks(spokeId: string): Promise<void>;
  sync(request: SyncRequest, onProgress?: (p: Progress) => void): Promise<RunReport[]>;
  preview(spokeId: string): Promise<RunReport>;
  cancel(): void;
  history(spokeId: string, limit: number): Promise<RunReport[]>;
  undoLastRun(spokeId: string): Promise<RunReport>;
  handleEvent(event: HostEvent): Promise<void>;
  /** The origins the plugin may contact now and the saved servers it refuses (the shim
   *  admits requests by it; the tab shows it). */
  admittedOrigins(): Promise<NetworkAccess>;
  /** Queues the operator's decision about a pending match of a spoke; the spoke's next
   *  run applies it (a preview shows its effect). Rejects BAD_INPUT for an unknown spoke
   *  or a malformed decision; a decision about contacts no longer held does nothing and
   *  the run's notices say so. */
  resolveMatch(spokeId: string, decision: MatchDecision): Promise<void>;
}
