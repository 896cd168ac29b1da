//! A card's content lines as they were written (RFC 6350 §3.2): the raw text of each
//! logical line, its folds, vCard 2.1 quoted-printable soft breaks and base64
//! continuation lines included, so that an update keeps every line it does not change
//! byte for byte. And the folding of the lines we write.

/// The logical lines of `card`, each with its line end; concatenated they are `card`.
///
/// ```
/// use contact_sync::providers::carddav::content_lines::split;
/// let card = "BEGIN:VCARD\r\nNOTE:a long\r\n  note\r\nEND:VCARD\r\n";
/// assert_eq!(split(card), vec!["BEGIN:VCARD\r\n", "NOTE:a long\r\n  note\r\n", "END:VCARD\r\n"]);
/// ```
pub fn split(card: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let (mut start, mut at) = (0, 0);
    for physical in card.split_inclusive('\n') {
        let current = card.get(start..at).unwrap_or_default();
        if !current.is_empty() && !continues(current, physical) {
            lines.push(current);
            start = at;
        }
        at += physical.len();
    }
    if let Some(last) = card.get(start..).filter(|l| !l.is_empty()) {
        lines.push(last);
    }
    lines
}

/// Whether the physical line `next` belongs to the logical line `current`: a fold, or
/// (as calcard and vCard 2.1 producers have it) the line after a quoted-printable soft
/// break, or a line of base64 data after a base64 property.
fn continues(current: &str, next: &str) -> bool {
    if next.starts_with([' ', '\t']) {
        return true;
    }
    let params = head(current).to_ascii_uppercase();
    let mut params = params.split(';').skip(1);
    if params.clone().any(|p| p == "ENCODING=QUOTED-PRINTABLE" || p == "QUOTED-PRINTABLE") {
        return current.trim_end_matches(['\r', '\n']).ends_with('=');
    }
    if params.any(|p| matches!(p, "ENCODING=B" | "ENCODING=BASE64" | "BASE64")) {
        let data = next.trim_end_matches(['\r', '\n']);
        return !data.is_empty() && data.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    }
    false
}

/// The unfolded name and parameters of a content line (before its first colon outside
/// double quotes).
pub fn head(line: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for ch in unfold(line).chars() {
        match ch {
            '"' => quoted = !quoted,
            ':' if !quoted => break,
            _ => {}
        }
        out.push(ch);
    }
    out
}

/// The property name of a content line, upper-case, without its group (`item1.TEL` →
/// `TEL`); empty for a line without a colon, which is no property (calcard skips it).
pub fn name(line: &str) -> String {
    let head = head(line);
    if head.len() == unfold(line).len() {
        return String::new();
    }
    let name = head.split(';').next().unwrap_or_default();
    name.rsplit('.').next().unwrap_or_default().trim().to_ascii_uppercase()
}

/// `line` without its folds and its line end.
pub fn unfold(line: &str) -> String {
    line.trim_end_matches(['\r', '\n']).replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "")
}

/// An unfolded content line folded at 75 octets, never inside a character, ended by `eol`.
///
/// ```
/// use contact_sync::providers::carddav::content_lines::fold;
/// let line = format!("NOTE:{}", "é".repeat(40));
/// let folded = fold(&line, "\r\n");
/// assert!(folded.split("\r\n").all(|l| l.len() <= 75));
/// assert_eq!(folded.replace("\r\n ", ""), format!("{line}\r\n"));
/// ```
pub fn fold(line: &str, eol: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 24 + eol.len());
    let mut width = 0;
    for ch in line.chars() {
        if width + ch.len_utf8() > 75 {
            out.push_str(eol);
            out.push(' ');
            width = 1;
        }
        out.push(ch);
        width += ch.len_utf8();
    }
    out.push_str(eol);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_folds_soft_breaks_and_base64_continuations() {
        let card = "BEGIN:VCARD\nVERSION:2.1\nNOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9=\n=0D=0Acr=C3=A8me\n\
                    PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ\nSkZJRgABAQ\n\nTEL;CELL:+1 555\nitem1.X-ABLabel:a\r\n b\r\nEND:VCARD";
        let lines = split(card);
        assert_eq!(lines.concat(), card);
        assert_eq!(lines[2], "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9=\n=0D=0Acr=C3=A8me\n");
        assert_eq!(lines[3], "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ\nSkZJRgABAQ\n");
        assert_eq!(lines[4], "\n");
        assert_eq!(name(lines[6]), "X-ABLABEL");
        assert_eq!(unfold(lines[6]), "item1.X-ABLabel:ab");
        assert_eq!(lines[7], "END:VCARD");
    }

    #[test]
    fn a_colon_inside_a_quoted_parameter_does_not_end_the_head() {
        assert_eq!(head("URL;X-LABEL=\"a:b\":https://x"), "URL;X-LABEL=\"a:b\"");
        assert_eq!(name("URL;X-LABEL=\"a:b\":https://x"), "URL");
        assert_eq!(name("END\r\n"), "", "no colon, no property");
    }
}
