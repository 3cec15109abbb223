//! Who the client is behind trusted proxies: the address limits and audit trails use.
//!
//! A proxy appends the address it got the request from to `Forwarded` (RFC 7239, `for=`) or
//! `X-Forwarded-For`. Only hops we trust may speak: reading from the right, each trusted hop
//! hands over to the address it names, and the first address that is not a trusted proxy is
//! the client. A client cannot pose as someone else by sending the header itself, since the
//! entries it writes sit left of the first untrusted hop and are never read.

use std::net::IpAddr;

use ipnet::IpNet;

/// The client's address for a request from `peer` (the socket's other end) carrying the
/// `Forwarded` and `X-Forwarded-For` header values (each header's lines joined by commas).
/// `Forwarded` is read when present, else `X-Forwarded-For`.
pub fn client_ip(peer: IpAddr, forwarded: Option<&str>, x_forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = match (forwarded, x_forwarded_for) {
        (Some(f), _) => forwarded_for(f),
        (None, Some(x)) => x.split(',').map(|h| parse_hop(h.trim())).collect(),
        (None, None) => return peer,
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        if !is_trusted(&client) {
            break;
        }
        // An entry that is not an address ("unknown", obfuscated): the trusted proxy that
        // wrote it is the last hop we know.
        match hop {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// The `for=` values of a `Forwarded` header, in order; one per element, `None` where absent
/// or not an address.
fn forwarded_for(header: &str) -> Vec<Option<IpAddr>> {
    header
        .split(',')
        .map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| parse_hop(value.trim().trim_matches('"')))
            })?
        })
        .collect()
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    hop.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse().ok()))
}

/// `KASSE_TRUSTED_PROXIES`: CIDRs (or single addresses) separated by commas or spaces. The
/// error names the entry that is not one.
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<IpNet>().or_else(|_| s.parse::<IpAddr>().map(IpNet::from)).map_err(|_| s.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> Vec<IpNet> {
        parse_trusted("10.0.0.0/8, 127.0.0.1 ::1").unwrap()
    }

    #[test]
    fn without_a_trusted_peer_the_headers_are_ignored() {
        let got = client_ip(ip("203.0.113.9"), None, Some("198.51.100.1"), &proxies());
        assert_eq!(got, ip("203.0.113.9"));
        assert_eq!(client_ip(ip("10.1.2.3"), None, Some("198.51.100.1"), &[]), ip("10.1.2.3"));
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        // The client wrote a fake first entry; the proxies appended the real one and themselves.
        let xff = "1.2.3.4, 198.51.100.7, 10.0.0.5";
        assert_eq!(client_ip(ip("10.0.0.1"), None, Some(xff), &proxies()), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("127.0.0.1"), None, None, &proxies()), ip("127.0.0.1"));
    }

    #[test]
    fn forwarded_wins_and_reads_quoted_ports_and_ipv6() {
        let f = r#"for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711""#;
        assert_eq!(client_ip(ip("10.0.0.1"), Some(f), Some("9.9.9.9"), &proxies()), ip("2001:db8:cafe::17"));
        assert_eq!(client_ip(ip("10.0.0.1"), Some("for=192.0.2.60:8080"), None, &proxies()), ip("192.0.2.60"));
    }

    #[test]
    fn an_unknown_hop_stops_at_the_proxy_that_wrote_it() {
        assert_eq!(client_ip(ip("10.0.0.1"), Some("for=unknown"), None, &proxies()), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), None, Some("garbage"), &proxies()), ip("10.0.0.1"));
    }

    #[test]
    fn a_bad_proxy_entry_is_named() {
        assert_eq!(parse_trusted("10.0.0.0/8,not-a-net"), Err("not-a-net".to_string()));
        assert_eq!(parse_trusted("").unwrap(), Vec::<IpNet>::new());
    }
}
