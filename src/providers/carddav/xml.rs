//! WebDAV / CardDAV XML: request bodies written with quick-xml's writer, and answers
//! (207 Multi-Status) read into a small namespace-resolved tree with quick-xml's
//! namespace-aware reader, so prefixes chosen by the server never matter.

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

use super::error::{CardDavError, CardDavErrorCode};

/// The WebDAV namespace.
pub const DAV: &str = "DAV:";
/// The CardDAV namespace (RFC 6352).
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// The CalendarServer namespace, home of `getctag`.
pub const CALSERVER: &str = "http://calendarserver.org/ns/";

/// An element with its namespace resolved; text is the concatenation of its text nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI ("" when unbound).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Text content directly inside this element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// All children `{ns}name`.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// Text of the first `{ns}name` child, trimmed.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<String> {
        self.child(ns, name).map(|c| c.text.trim().to_string())
    }
}

/// How much of a document the parser accepts before answering `BAD_RESPONSE`. The tree is
/// built on the heap but dropped recursively, and quick-xml counts levels in a small
/// integer, so depth must be bounded; the element and byte counts bound the memory a
/// hostile answer can make us allocate (an element costs ~120 bytes however short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Document size in bytes.
    pub max_bytes: usize,
    /// Nesting of elements, the root included.
    pub max_depth: usize,
    /// Elements in the whole document.
    pub max_elements: usize,
}

/// Nesting limit: a WebDAV multistatus uses 6 levels (multistatus, response, propstat,
/// prop, resourcetype, addressbook); 64 leaves room for any server's extensions.
pub const MAX_DEPTH: usize = 64;

impl XmlLimits {
    /// The limits of every answer we read: 512 MiB is above the largest real answer (a
    /// 5,000-card multiget with inline photos, ~300 MB); a million elements above a
    /// sync-collection of 150,000 cards (6 or 7 elements each).
    pub const DEFAULT: XmlLimits = XmlLimits { max_bytes: 512 * 1024 * 1024, max_depth: MAX_DEPTH, max_elements: 1_000_000 };
}

/// The remedy of an answer over the limits: no CardDAV server sends one.
const OVER_LIMIT_REMEDY: &str = "Check that the server URL points to a CardDAV server; if it does, report this answer to its administrator.";

/// Parses a whole XML document into its root element, within [`XmlLimits::DEFAULT`].
pub fn parse(xml: &str) -> Result<Element, CardDavError> {
    parse_with_limits(xml, &XmlLimits::DEFAULT)
}

/// [`parse`] within other limits.
pub fn parse_with_limits(xml: &str, limits: &XmlLimits) -> Result<Element, CardDavError> {
    let over = |what: String| {
        CardDavError::new(CardDavErrorCode::BadResponse, format!("the server's XML answer {what}"), OVER_LIMIT_REMEDY)
    };
    if xml.len() > limits.max_bytes {
        return Err(over(format!("is larger than {} MiB", limits.max_bytes / (1024 * 1024))));
    }
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut elements = 0usize;
    let bad = |e: &dyn std::fmt::Display| CardDavError::bad_response(format!("malformed XML from the server: {e}"));
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| bad(&e))?;
        if matches!(event, Event::Start(_) | Event::Empty(_)) {
            elements += 1;
            if elements > limits.max_elements {
                return Err(over(format!("has more than {} elements", limits.max_elements)));
            }
            if matches!(event, Event::Start(_)) && stack.len() >= limits.max_depth {
                return Err(over(format!("is nested deeper than {} levels", limits.max_depth)));
            }
        }
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(start) => stack.push(element_of(ns, &start)),
            Event::Empty(start) => {
                let el = element_of(ns, &start);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(bad(&"unbalanced end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(text) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&text.xml10_content().map_err(|e| bad(&e))?);
                }
            }
            Event::CData(data) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&data.decode().map_err(|e| bad(&e))?);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(cur) = stack.last_mut() {
                    if let Some(ch) = reference.resolve_char_ref().map_err(|e| bad(&e))? {
                        cur.text.push(ch);
                    } else {
                        let name = reference.decode().map_err(|e| bad(&e))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => cur.text.push_str(s),
                            None => return Err(bad(&format!("unknown entity &{name};"))),
                        }
                    }
                }
            }
            Event::Eof => return Err(bad(&"the document ended before its root element closed")),
            _ => {}
        }
    }
}

fn element_of(ns: String, start: &BytesStart<'_>) -> Element {
    let local = start.local_name();
    Element { ns, name: String::from_utf8_lossy(local.as_ref()).into_owned(), ..Element::default() }
}

/// One `<response>` of a multi-status answer, flattened: the properties found with a
/// 2xx propstat status, and the response-level status (used by sync-collection for removals).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DavResource {
    /// The href as sent by the server (percent-encoded path or absolute URL).
    pub href: String,
    /// Response-level `<status>` code, when present.
    pub status: Option<u16>,
    /// Properties that came back with a 2xx status.
    pub props: Vec<Element>,
}

impl DavResource {
    /// A found property `{ns}name`.
    pub fn prop(&self, ns: &str, name: &str) -> Option<&Element> {
        self.props.iter().find(|p| p.is(ns, name))
    }

    /// A found property's trimmed text.
    pub fn prop_text(&self, ns: &str, name: &str) -> Option<String> {
        self.prop(ns, name).map(|p| p.text.trim().to_string())
    }

    /// The `<href>` inside a found property (current-user-principal, addressbook-home-set).
    pub fn prop_href(&self, ns: &str, name: &str) -> Option<String> {
        self.prop(ns, name).and_then(|p| p.child_text(DAV, "href")).filter(|h| !h.is_empty())
    }

    /// Whether `resourcetype` contains `{ns}name`.
    pub fn has_type(&self, ns: &str, name: &str) -> bool {
        self.prop(DAV, "resourcetype").is_some_and(|t| t.child(ns, name).is_some())
    }

    /// The etag, with weak/strong marker and quotes kept as sent (it is echoed back verbatim).
    pub fn etag(&self) -> Option<String> {
        self.prop_text(DAV, "getetag").filter(|e| !e.is_empty())
    }
}

/// A parsed 207 Multi-Status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiStatus {
    /// The responses in order.
    pub resources: Vec<DavResource>,
    /// The top-level `<sync-token>` (sync-collection answers).
    pub sync_token: Option<String>,
}

/// Parses a 207 body.
pub fn parse_multistatus(xml: &str) -> Result<MultiStatus, CardDavError> {
    let root = parse(xml)?;
    if !root.is(DAV, "multistatus") {
        return Err(CardDavError::bad_response(format!(
            "expected a DAV multistatus, got <{}>",
            root.name
        )));
    }
    let mut out = MultiStatus { sync_token: root.child_text(DAV, "sync-token"), ..MultiStatus::default() };
    for response in root.children_named(DAV, "response") {
        let Some(href) = response.child_text(DAV, "href") else { continue };
        let status = response.child_text(DAV, "status").and_then(|s| status_code(&s));
        let mut props = Vec::new();
        for propstat in response.children_named(DAV, "propstat") {
            let ok = propstat
                .child_text(DAV, "status")
                .and_then(|s| status_code(&s))
                .is_some_and(|c| (200..300).contains(&c));
            if !ok {
                continue;
            }
            if let Some(prop) = propstat.child(DAV, "prop") {
                props.extend(prop.children.iter().cloned());
            }
        }
        out.resources.push(DavResource { href, status, props });
    }
    Ok(out)
}

/// The code in `HTTP/1.1 404 Not Found`.
fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A property name to ask for.
pub type PropName = (&'static str, &'static str);

/// Writes `<d:propfind><d:prop>…</d:prop></d:propfind>`.
pub fn propfind_body(props: &[PropName]) -> String {
    document("propfind", |w| prop_list(w, props))
}

/// Writes a `sync-collection` REPORT (RFC 6578) asking for `props`; `token` None or empty
/// means an initial sync.
pub fn sync_collection_body(token: Option<&str>, props: &[PropName]) -> String {
    document("sync-collection", |w| {
        text_el(w, "d:sync-token", token.unwrap_or(""));
        text_el(w, "d:sync-level", "1");
        prop_list(w, props);
    })
}

/// Writes an `addressbook-multiget` REPORT (RFC 6352 §8.7) for `hrefs`.
pub fn multiget_body(hrefs: &[String], props: &[PropName]) -> String {
    document("card:addressbook-multiget", |w| {
        prop_list(w, props);
        for href in hrefs {
            text_el(w, "d:href", href);
        }
    })
}

/// Writes an extended MKCOL creating an address book (used by tests and demos).
pub fn mkcol_addressbook_body(display_name: &str) -> String {
    document("d:mkcol", |w| {
        open(w, "d:set");
        open(w, "d:prop");
        open(w, "d:resourcetype");
        empty(w, "d:collection");
        empty(w, "card:addressbook");
        close(w, "d:resourcetype");
        text_el(w, "d:displayname", display_name);
        close(w, "d:prop");
        close(w, "d:set");
    })
}

fn document(root: &str, inner: impl FnOnce(&mut Writer<Vec<u8>>)) -> String {
    let root = if root.contains(':') { root.to_string() } else { format!("d:{root}") };
    let mut w = Writer::new(Vec::new());
    let mut start = BytesStart::new(root.as_str());
    start.push_attribute(("xmlns:d", DAV));
    start.push_attribute(("xmlns:card", CARDDAV));
    start.push_attribute(("xmlns:cs", CALSERVER));
    // Writing into a Vec cannot fail.
    let _ = w.write_event(Event::Decl(quick_xml::events::BytesDecl::new("1.0", Some("utf-8"), None)));
    let _ = w.write_event(Event::Start(start));
    inner(&mut w);
    close(&mut w, &root);
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

fn prop_list(w: &mut Writer<Vec<u8>>, props: &[PropName]) {
    open(w, "d:prop");
    for (ns, name) in props {
        let prefix = match *ns {
            CARDDAV => "card",
            CALSERVER => "cs",
            _ => "d",
        };
        empty(w, &format!("{prefix}:{name}"));
    }
    close(w, "d:prop");
}

fn open(w: &mut Writer<Vec<u8>>, name: &str) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
}

fn close(w: &mut Writer<Vec<u8>>, name: &str) {
    let _ = w.write_event(Event::End(quick_xml::events::BytesEnd::new(name)));
}

fn empty(w: &mut Writer<Vec<u8>>, name: &str) {
    let _ = w.write_event(Event::Empty(BytesStart::new(name)));
}

fn text_el(w: &mut Writer<Vec<u8>>, name: &str, text: &str) {
    open(w, name);
    let _ = w.write_event(Event::Text(BytesText::new(text)));
    close(w, name);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistatus_is_read_whatever_the_prefixes() {
        let xml = r#"<?xml version="1.0"?>
<x:multistatus xmlns:x="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
 <x:response><x:href>/u/book/a.vcf</x:href>
  <x:propstat><x:prop><x:getetag>"e1"</x:getetag><C:address-data>BEGIN:VCARD&#13;
FN:A &amp; B&#13;
END:VCARD</C:address-data></x:prop><x:status>HTTP/1.1 200 OK</x:status></x:propstat>
  <x:propstat><x:prop><x:displayname/></x:prop><x:status>HTTP/1.1 404 Not Found</x:status></x:propstat>
 </x:response>
 <x:response><x:href>/u/book/gone.vcf</x:href><x:status>HTTP/1.1 404 Not Found</x:status></x:response>
 <x:sync-token>http://radicale.org/ns/sync/42</x:sync-token>
</x:multistatus>"#;
        let ms = parse_multistatus(xml).unwrap();
        assert_eq!(ms.sync_token.as_deref(), Some("http://radicale.org/ns/sync/42"));
        assert_eq!(ms.resources.len(), 2);
        assert_eq!(ms.resources[0].etag().as_deref(), Some("\"e1\""));
        assert_eq!(
            ms.resources[0].prop_text(CARDDAV, "address-data").as_deref(),
            Some("BEGIN:VCARD\r\nFN:A & B\r\nEND:VCARD")
        );
        assert!(ms.resources[0].prop(DAV, "displayname").is_none());
        assert_eq!(ms.resources[1].status, Some(404));
    }

    #[test]
    fn request_bodies_escape_hrefs_and_tokens() {
        let body = multiget_body(&["/a/b&c.vcf".to_string()], &[(DAV, "getetag")]);
        assert!(body.contains("<d:href>/a/b&amp;c.vcf</d:href>"), "{body}");
        let parsed = parse(&body).unwrap();
        assert!(parsed.is(CARDDAV, "addressbook-multiget"));
        let sync = sync_collection_body(Some("t<1>"), &[(DAV, "getetag")]);
        assert_eq!(parse(&sync).unwrap().child_text(DAV, "sync-token").as_deref(), Some("t<1>"));
    }

    #[test]
    fn non_xml_is_a_bad_response_not_a_panic() {
        assert!(parse_multistatus("<html><body>hi</body></html>").is_err());
        assert!(parse_multistatus("not xml at all <<<").is_err());
        assert!(parse_multistatus("").is_err());
    }
}
