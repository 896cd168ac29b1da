//! The Google spoke over the host: [`Provider`] for the People API. Sends one request at
//! a time (Google's advice for mutations of one user), paced to the quota, with the
//! access token in the `Authorization` header only; a 401 refreshes the token once, a
//! 429 waits for `Retry-After`, 5xx and dropped or garbled answers back off and retry.

use std::collections::BTreeMap;

use crate::engine::model::RemoteRecord;
use crate::engine::RemoteCapabilities;
use crate::error::ErrorCode;
use crate::host::{Host, HttpRequest, HttpResponse, LogLevel};
use crate::network::redirect;
use crate::providers::error::ProviderError;
use crate::providers::google::auth::GoogleAuth;
use crate::providers::google::pacing::{Pacer, Quota};
use crate::providers::google::person::{self, GroupDirectory, UNSUPPORTED_FIELDS};
use crate::providers::google::protocol::{self as p, ApiRequest, Failure, ItemOutcome, ListMode, Person, RequestKind};
use crate::providers::{
    Capabilities, ChangePage, ConcurrencyControl, CursorKind, ItemResult, ListError, NewRemote, PageNext, Provider,
    RemoteLabel,
};

/// Attempts of one request before its error is returned (429s and 5xx included).
const MAX_ATTEMPTS: u32 = 6;
/// First backoff after a 5xx or a network failure; doubles each time.
const BACKOFF_MS: f64 = 500.0;

/// Counts of what the client did, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent (retries included).
    pub requests: u32,
    /// Answers 429.
    pub rate_limited: u32,
    /// Retries after 5xx or network failures.
    pub retries: u32,
    /// Token refreshes after a 401.
    pub refreshes: u32,
}

/// A Google account as a spoke.
pub struct GoogleSpoke<'h, H: Host> {
    host: &'h H,
    auth: GoogleAuth,
    pacer: Pacer,
    groups: GroupDirectory,
    /// The latest copy of each person seen this run: the base of our updates (keeps
    /// memberships and fields we do not map).
    seen: BTreeMap<String, Person>,
    stats: ClientStats,
}

fn failed(code: &'static str, message: impl Into<String>, remedy: &str) -> ProviderError {
    ProviderError::new(code, message, remedy)
}

fn from_plugin(e: crate::error::PluginError) -> ProviderError {
    ProviderError {
        code: e.code.as_str(),
        message: e.message,
        remedy: e.remedy,
        retryable: e.retryable,
        retry_after_ms: e.retry_after_ms,
    }
}

impl<'h, H: Host> GoogleSpoke<'h, H> {
    /// A spoke talking to Google (or the endpoints in `auth`) through `host`.
    pub fn new(host: &'h H, auth: GoogleAuth, quota: Quota) -> Self {
        GoogleSpoke {
            host,
            auth,
            pacer: Pacer::new(quota),
            groups: GroupDirectory::default(),
            seen: BTreeMap::new(),
            stats: ClientStats::default(),
        }
    }

    /// What the client did so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// The latest copy of a person seen this run (listings, reads, writes).
    pub fn seen_person(&self, resource_name: &str) -> Option<&Person> {
        self.seen.get(resource_name)
    }

    /// The host this spoke talks through.
    pub fn host(&self) -> &'h H {
        self.host
    }

    /// Known user groups (labels).
    pub fn groups(&self) -> &GroupDirectory {
        &self.groups
    }

    /// Sends one API request with pacing, auth and retries; returns a 2xx response, or
    /// the classified failure of the last attempt.
    pub async fn send(&mut self, request: &ApiRequest) -> Result<HttpResponse, (Failure, ProviderError)> {
        let first_full_page =
            request.kind == RequestKind::ListFull && !request.path_and_query.contains("pageToken=");
        let group_write = request.kind == RequestKind::Groups && request.method != "GET";
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let wait = self.pacer.wait_ms(request.kind, first_full_page, group_write, self.host.now_ms());
            if wait > 0.0 {
                self.host.sleep(wait.ceil().min(f64::from(u32::MAX)) as u32).await;
            }
            let token = self
                .auth
                .access_token(self.host, false)
                .await
                .map_err(|e| (Failure::Fatal, from_plugin(e)))?;
            let mut http = HttpRequest {
                method: request.method.to_string(),
                url: request.url(&self.auth.endpoints.api),
                body: request.body.clone(),
                ..HttpRequest::default()
            };
            http.headers.insert("authorization".into(), format!("Bearer {token}"));
            if http.body.is_some() {
                http.headers.insert("content-type".into(), "application/json".into());
            }
            self.stats.requests += 1;
            let outcome = redirect::fetch(self.host, &http).await;
            // Charged as of the answer's arrival: Google counted the request at some
            // moment before it, so waiting a window from here can never overrun.
            if !matches!(&outcome, Ok(r) if r.status == 429) {
                self.pacer.record(request.kind, first_full_page, group_write, self.host.now_ms());
            }
            let response = match outcome {
                Ok(r) => r,
                Err(e) if e.code == ErrorCode::Network && attempt < MAX_ATTEMPTS => {
                    self.stats.retries += 1;
                    self.backoff(attempt).await;
                    continue;
                }
                Err(e) => return Err((Failure::Transient, from_plugin(e))),
            };
            if (200..300).contains(&response.status) {
                return Ok(response);
            }
            let retry_after = response.headers.get("retry-after").map(String::as_str);
            let (failure, error) = p::classify_failure(request.kind, response.status, retry_after, &response.body);
            match failure {
                Failure::Unauthenticated if !refreshed => {
                    refreshed = true;
                    self.stats.refreshes += 1;
                    // Force a refresh on the next attempt.
                    self.auth.access_token(self.host, true).await.map_err(|e| (Failure::Fatal, from_plugin(e)))?;
                    continue;
                }
                Failure::RateLimited(after) if attempt < MAX_ATTEMPTS => {
                    self.stats.rate_limited += 1;
                    let wait = after.map(|ms| ms as f64).unwrap_or(BACKOFF_MS * f64::from(1u32 << attempt.min(8)));
                    let now = self.host.now_ms();
                    self.pacer.saturate(now + wait);
                    self.log_wait("rate limited by Google", wait);
                    self.host.sleep(wait.ceil() as u32).await;
                }
                Failure::Transient if attempt < MAX_ATTEMPTS => {
                    self.stats.retries += 1;
                    self.backoff(attempt).await;
                }
                _ => return Err((failure, error)),
            }
        }
    }

    async fn backoff(&self, attempt: u32) {
        let wait = BACKOFF_MS * f64::from(1u32 << attempt.min(6));
        self.log_wait("retrying after a failed request", wait);
        self.host.sleep(wait as u32).await;
    }

    fn log_wait(&self, message: &str, wait_ms: f64) {
        let mut fields = serde_json::Map::new();
        fields.insert("waitMs".into(), serde_json::Value::from(wait_ms.round()));
        self.host.log(LogLevel::Info, message, &fields);
    }

    /// Lists the user contact groups (labels), filling the directory.
    pub async fn load_groups(&mut self) -> Result<(), ProviderError> {
        let mut page_token: Option<String> = None;
        let mut all = Vec::new();
        loop {
            let response = self.send(&p::list_groups(page_token.as_deref())).await.map_err(|(_, e)| e)?;
            let page = p::parse_groups(&response.body)?;
            all.extend(page.groups);
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => break,
            }
        }
        self.groups = GroupDirectory::new(&all);
        Ok(())
    }

    /// Creates a label (a user contact group) and remembers it.
    pub async fn create_group(&mut self, name: &str) -> Result<String, ProviderError> {
        let response = self.send(&p::create_group(name)).await.map_err(|(_, e)| e)?;
        let group = p::parse_group(&response.body)?;
        self.groups.insert(&group.resource_name, &group.name);
        Ok(group.resource_name)
    }

    fn remember(&mut self, person: &Person) -> RemoteRecord {
        let record = person::to_record(person, &self.groups);
        if let Some(name) = &person.resource_name {
            if person.is_deleted() {
                self.seen.remove(name);
            } else {
                self.seen.insert(name.clone(), person.clone());
            }
        }
        record
    }

    fn outcome(&mut self, outcome: ItemOutcome) -> ItemResult {
        match outcome {
            ItemOutcome::Done(person) => ItemResult::Done(self.remember(&person)),
            ItemOutcome::Failed(e) if e.code == "CONFLICT" => ItemResult::Conflict,
            ItemOutcome::Failed(e) if e.code == "NOT_FOUND" => ItemResult::Gone,
            ItemOutcome::Failed(e) => ItemResult::Failed(e),
        }
    }

    /// Fetches the current copies of people we have no base for (one batchGet per 200).
    async fn ensure_bases(&mut self, ids: &[String]) -> Result<(), ProviderError> {
        let missing: Vec<String> = ids.iter().filter(|id| !self.seen.contains_key(*id)).cloned().collect();
        for chunk in missing.chunks(p::MAX_BATCH_GET) {
            self.fetch(chunk).await?;
        }
        Ok(())
    }
}

impl<H: Host> Provider for GoogleSpoke<'_, H> {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            cursor: CursorKind::SyncToken,
            page_size: p::PAGE_SIZE as usize,
            max_create: p::MAX_BATCH_CREATE,
            max_update: p::MAX_BATCH_UPDATE,
            max_delete: p::MAX_BATCH_DELETE,
            max_fetch: p::MAX_BATCH_GET,
            write_concurrency: 1,
            concurrency: ConcurrencyControl::Etag,
            fields: RemoteCapabilities {
                unsupported: UNSUPPORTED_FIELDS.iter().map(|s| s.to_string()).collect(),
                max_emails: None,
                max_phones: None,
                max_addresses: None,
                carries_crm_id: true,
            },
            dead_cursor: "HTTP 400 (EXPIRED_SYNC_TOKEN, or any 400 on a sync-token request)",
        }
    }

    async fn list_page(&mut self, cursor: Option<&str>, page: Option<&str>) -> Result<ChangePage, ListError> {
        let mode = match cursor {
            Some(token) if !token.is_empty() => ListMode::Incremental(token.to_string()),
            _ => ListMode::Full,
        };
        let response = match self.send(&p::list_connections(&mode, page)).await {
            Ok(r) => r,
            Err((Failure::SyncTokenUnusable, _)) => return Err(ListError::CursorDead),
            Err((_, e)) => return Err(ListError::Failed(e)),
        };
        let parsed = p::parse_connections(&response.body).map_err(ListError::Failed)?;
        let records = parsed.people.iter().map(|person| self.remember(person)).collect();
        let next = match (parsed.next_page_token, parsed.next_sync_token) {
            (Some(page), _) => PageNext::More(page),
            (None, Some(sync)) => PageNext::Done(sync),
            (None, None) => {
                return Err(ListError::Failed(failed(
                    "BAD_RESPONSE",
                    "Google ended a listing without a sync token",
                    "Try again later.",
                )))
            }
        };
        Ok(ChangePage { records, next })
    }

    async fn fetch(&mut self, ids: &[String]) -> Result<Vec<(String, ItemResult)>, ProviderError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(p::MAX_BATCH_GET) {
            let response = self.send(&p::batch_get(chunk)).await.map_err(|(_, e)| e)?;
            for (name, outcome) in p::parse_batch_get(&response.body)? {
                let result = self.outcome(outcome);
                out.push((name, result));
            }
        }
        Ok(out)
    }

    async fn create(&mut self, items: &[NewRemote]) -> Result<Vec<ItemResult>, ProviderError> {
        let people: Vec<Person> = items
            .iter()
            .map(|item| person::to_person(&item.contact, Some(&item.crm_id), None, &self.groups))
            .collect();
        let response = self.send(&p::batch_create(&people)).await.map_err(|(_, e)| e)?;
        let outcomes = p::parse_batch_create(&response.body, people.len())?;
        Ok(outcomes.into_iter().map(|o| self.outcome(o)).collect())
    }

    async fn update(&mut self, items: &[RemoteRecord]) -> Result<Vec<ItemResult>, ProviderError> {
        let ids: Vec<String> = items.iter().map(|r| r.id.clone()).collect();
        self.ensure_bases(&ids).await?;
        let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
        let mut people = Vec::new();
        let mut positions = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match self.seen.get(&item.id) {
                // The plan was computed against an older copy: merge again first.
                Some(base) if base.etag.as_deref().unwrap_or("") != item.etag => results[i] = Some(ItemResult::Conflict),
                Some(base) => {
                    let mut person = person::to_person(&item.contact, item.crm_id.as_deref(), Some(base), &self.groups);
                    person.resource_name = Some(item.id.clone());
                    person.etag = Some(item.etag.clone());
                    people.push(person);
                    positions.push(i);
                }
                None => results[i] = Some(ItemResult::Gone),
            }
        }
        // Google refuses the whole batch when one etag is stale: refetch, set the stale
        // ones aside as conflicts (merged again by the caller), resend the others once.
        let mut resent = false;
        while !people.is_empty() {
            let names: Vec<String> = people.iter().filter_map(|p| p.resource_name.clone()).collect();
            let response = match self.send(&p::batch_update(&people)).await {
                Ok(r) => r,
                Err((Failure::StaleEtag, _)) => {
                    if !resent {
                        self.fetch(&names).await?;
                    }
                    let mut keep_people = Vec::new();
                    let mut keep_positions = Vec::new();
                    for (person, i) in people.into_iter().zip(positions) {
                        let current = person.resource_name.as_ref().and_then(|n| self.seen.get(n)).and_then(|b| b.etag.clone());
                        if resent || current != person.etag {
                            if let Some(slot) = results.get_mut(i) {
                                *slot = Some(ItemResult::Conflict);
                            }
                        } else {
                            keep_people.push(person);
                            keep_positions.push(i);
                        }
                    }
                    people = keep_people;
                    positions = keep_positions;
                    resent = true;
                    continue;
                }
                Err((_, e)) => return Err(e),
            };
            let mut outcomes = p::parse_batch_update(&response.body, &names)?;
            for (name, i) in names.iter().zip(positions.iter().copied()) {
                if let Some(outcome) = outcomes.remove(name) {
                    let result = self.outcome(outcome);
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(result);
                    }
                }
            }
            break;
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| ItemResult::Failed(ProviderError::bad_response("batchUpdateContacts", "no result"))))
            .collect())
    }

    async fn delete(&mut self, ids: &[String]) -> Result<Vec<ItemResult>, ProviderError> {
        match self.send(&p::batch_delete(ids)).await {
            Ok(_) => {
                for id in ids {
                    self.seen.remove(id);
                }
                Ok(ids.iter().map(|_| ItemResult::Gone).collect())
            }
            // One missing contact fails the whole batch: delete one by one to find out
            // which are already gone (404 = already deleted).
            Err((Failure::NotFound, _)) => {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let result = match self.send(&p::delete_contact(id)).await {
                        Ok(_) | Err((Failure::NotFound, _)) => ItemResult::Gone,
                        Err((_, e)) => ItemResult::Failed(e),
                    };
                    self.seen.remove(id);
                    out.push(result);
                }
                Ok(out)
            }
            Err((_, e)) => Err(e),
        }
    }

    async fn prepare_labels(&mut self, names: &[String], create: bool) -> Result<Vec<RemoteLabel>, ProviderError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.load_groups().await?;
        let mut out: Vec<RemoteLabel> = Vec::with_capacity(names.len());
        for name in names {
            let name = name.trim();
            if name.is_empty() || out.iter().any(|l| l.name == name) {
                continue;
            }
            if let Some(id) = self.groups.resource_of(name) {
                out.push(RemoteLabel { name: name.to_string(), id: id.to_string(), missing: false });
                continue;
            }
            let id = if create {
                match self.create_group(name).await {
                    Ok(id) => id,
                    // Maybe created meanwhile (names are unique, 409): use that one.
                    Err(e) => {
                        self.load_groups().await?;
                        self.groups.resource_of(name).map(str::to_string).ok_or(e)?
                    }
                }
            } else {
                String::new()
            };
            out.push(RemoteLabel { name: name.to_string(), id, missing: true });
        }
        Ok(out)
    }
}
