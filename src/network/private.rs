//! Which hosts are on a private network: a server there is refused outside development
//! mode unless the operator says it is theirs (a plugin that runs on the CRM's server must
//! not become a relay into that server's network, password included).
//!
//! Private means: loopback (127.0.0.0/8, `::1`), "this network" (0.0.0.0/8, `::`), RFC 1918
//! (10/8, 172.16/12, 192.168/16), shared address space (100.64/10), link-local (169.254/16,
//! fe80::/10, where cloud metadata services live), IETF protocol and benchmark blocks
//! (192.0.0/24, 198.18/15), multicast and reserved (224/4, 240/4), unique local fc00::/7,
//! site-local fec0::/10, multicast ff00::/8; IPv6 addresses that carry an IPv4 one
//! (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
//! `2002::/16`) are what they carry; and names that only resolve locally: `localhost` and
//! `*.localhost`, `*.local` (mDNS), `*.internal`, `*.home.arpa`, and a single label (`nas`).
//!
//! A DNS name that resolves to a private address cannot be recognised here: neither a
//! browser nor this core resolves names. A host's proxy can (and should) refuse those.
//!
//! ```
//! use contact_sync::network::{private::is_private, url::HttpUrl};
//! assert!(is_private(HttpUrl::parse("https://0x7f.1/").unwrap().host()));
//! assert!(!is_private(HttpUrl::parse("https://dav.example.com/").unwrap().host()));
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use super::url::Host;

/// Whether `host` is on a private network (see the module's list).
pub fn is_private(host: &Host) -> bool {
    match host {
        Host::Ipv4(ip) => private_v4(*ip),
        Host::Ipv6(ip) => private_v6(ip),
        Host::Domain(name) => local_name(name),
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    matches!(
        (a, b, c),
        (0, _, _) | (10, _, _) | (127, _, _) | (169, 254, _) | (192, 168, _) | (192, 0, 0) | (224..=255, _, _)
    ) || (a == 172 && (16..=31).contains(&b))
        || (a == 100 && (64..=127).contains(&b))
        || (a == 198 && (18..=19).contains(&b))
}

fn private_v6(ip: &Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // ::, ::1 and IPv4-compatible ::a.b.c.d
        [0, 0, 0, 0, 0, 0, hi, lo] => hi == 0 || private_v4(embedded(hi, lo)),
        // IPv4-mapped ::ffff:a.b.c.d
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => private_v4(embedded(hi, lo)),
        // NAT64 64:ff9b::a.b.c.d
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => private_v4(embedded(hi, lo)),
        // 6to4 2002:aabb:ccdd::
        [0x2002, hi, lo, ..] => private_v4(embedded(hi, lo)),
        [first, ..] => {
            (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local fec0::/10
                || (first & 0xff00) == 0xff00 // multicast
        }
    }
}

/// Names that resolve only on the local machine or network.
fn local_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if !name.contains('.') {
        return true;
    }
    ["localhost", "local", "internal", "home.arpa"]
        .iter()
        .any(|suffix| name == *suffix || name.strip_suffix(suffix).is_some_and(|head| head.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::url::HttpUrl;

    fn private(url: &str) -> bool {
        is_private(HttpUrl::parse(url).unwrap_or_else(|p| panic!("{url}: {p}")).host())
    }

    #[test]
    fn loopback_private_and_link_local_addresses_in_every_spelling() {
        for url in [
            "https://127.0.0.1/", "https://127.255.255.254/", "https://2130706433/", "https://0x7f.1/", "https://0177.0.0.1/",
            "https://127.1/", "https://0/", "https://10.0.0.1/", "https://172.16.0.1/", "https://172.31.255.255/",
            "https://192.168.0.1/", "https://169.254.169.254/", "https://0xa9fea9fe/", "https://100.64.0.1/",
            "https://100.127.255.255/", "https://192.0.0.8/", "https://198.18.0.1/", "https://224.0.0.1/", "https://255.255.255.255/",
            "https://[::1]/", "https://[::]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://[::ffff:a9fe:a9fe]/",
            "https://[::127.0.0.1]/", "https://[64:ff9b::10.0.0.1]/", "https://[2002:c0a8:101::1]/", "https://[fe80::1]/",
            "https://[febf:ffff::1]/", "https://[fc00::1]/", "https://[fd12:3456::1]/", "https://[fec0::1]/", "https://[ff02::1]/",
        ] {
            assert!(private(url), "{url}");
        }
    }

    #[test]
    fn local_only_names() {
        for url in ["https://localhost/", "https://LOCALHOST./", "https://dav.localhost/", "https://nas.local/", "https://db.internal/", "https://nas.home.arpa/", "https://nas/", "https://nas./"] {
            assert!(private(url), "{url}");
        }
    }

    #[test]
    fn public_addresses_and_names() {
        for url in [
            "https://dav.example.com/", "https://8.8.8.8/", "https://172.15.255.255/", "https://172.32.0.1/", "https://100.63.255.255/",
            "https://100.128.0.1/", "https://192.169.0.1/", "https://169.255.0.1/", "https://[2001:4860:4860::8888]/",
            "https://[::ffff:8.8.8.8]/", "https://[2002:808:808::1]/", "https://localhost.example.com/", "https://my.local.example.com/",
            "https://notlocalhost.com/", "https://internal.example.com/",
        ] {
            assert!(!private(url), "{url}");
        }
    }
}
