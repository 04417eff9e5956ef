//! The client a token is bound to: its IP address (cut to a prefix) and its User-Agent.
//!
//! The IP is the peer address of the connection. Only when that peer is a trusted proxy are
//! forwarding headers read, from the right: the first hop that is not itself a trusted proxy is
//! the client. A client can put anything into those headers, so a header is never believed
//! beyond the last proxy we trust.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::http::header::{self, HeaderMap};

use crate::{
    settings::{Cidr, ValidSettings, mask_bits},
    token::ClientBinding,
};

/// The binding for a request, per the `client_id`, `trusted_proxies` and prefix settings.
pub(crate) fn binding(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    settings: &ValidSettings,
) -> ClientBinding {
    if !settings.client_id {
        return ClientBinding::unbound();
    }
    let ip = client_ip(peer, headers, &settings.trusted_proxies)
        .map(|ip| mask(ip, settings.ipv4_prefix, settings.ipv6_prefix));
    let user_agent = headers
        .get(header::USER_AGENT)
        .map_or(&[][..], |ua| ua.as_bytes());
    ClientBinding::new(ip, user_agent)
}

/// The client's address: the peer, or the first untrusted hop behind trusted proxies.
pub(crate) fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[Cidr],
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            // An obfuscated or unparsable hop ends what we can know: the last trusted
            // proxy is the best answer, and it is one the client cannot choose.
            None => break,
            Some(ip) => {
                client = *ip;
                if !is_trusted(*ip) {
                    break;
                }
            }
        }
    }
    Some(client)
}

/// Hop addresses in order, left (client side) to right: `Forwarded` when present, else
/// `X-Forwarded-For`. Every header line counts, in the order received.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<_> = headers.get_all(header::FORWARDED).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("").split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value))
            })
            .collect();
    }
    headers
        .get_all(header::X_FORWARDED_FOR)
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(parse_node)
        .collect()
}

/// Parses a hop: `192.0.2.1`, `192.0.2.1:80`, `"[2001:db8::1]:80"`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| IpAddr::V6(ip).to_canonical());
    }
    let (host, _port) = text.rsplit_once(':')?;
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Keeps the leading bits of the address that the token is bound to.
pub(crate) fn mask(ip: IpAddr, v4_prefix: u8, v6_prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(mask_bits(&v4.octets(), v4_prefix).into()),
        IpAddr::V6(v6) => IpAddr::V6(mask_bits(&v6.octets(), v6_prefix).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> Vec<Cidr> {
        vec![Cidr::parse("10.0.0.0/8").unwrap()]
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), &h, &proxies()),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), &h, &[]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn trusted_proxy_forwards_the_first_untrusted_hop_from_the_right() {
        // The client forged "1.1.1.1"; the real client is 198.51.100.2, then two of our proxies.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.2, 10.0.0.5")]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &proxies()),
            Some(ip("198.51.100.2"))
        );
    }

    #[test]
    fn forwarded_header_wins_over_x_forwarded_for() {
        let h = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::7]:443\";proto=https, for=10.0.0.3",
            ),
            ("x-forwarded-for", "198.51.100.2"),
        ]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &proxies()),
            Some(ip("2001:db8::7"))
        );
    }

    #[test]
    fn obfuscated_hop_stops_at_the_last_trusted_proxy() {
        let h = headers(&[("forwarded", "for=_hidden, for=10.0.0.3")]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &proxies()),
            Some(ip("10.0.0.3"))
        );
    }

    #[test]
    fn garbage_headers_fall_back_to_the_proxy() {
        let h = headers(&[("x-forwarded-for", "not an ip, ,,")]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &proxies()),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn ports_and_mapped_addresses_parse() {
        assert_eq!(parse_node("192.0.2.1:8080"), Some(ip("192.0.2.1")));
        assert_eq!(parse_node("\"[2001:db8::1]:80\""), Some(ip("2001:db8::1")));
        assert_eq!(parse_node("::ffff:192.0.2.1"), Some(ip("192.0.2.1")));
        assert_eq!(parse_node("unknown"), None);
    }

    #[test]
    fn masks_to_the_prefix() {
        assert_eq!(mask(ip("192.0.2.77"), 24, 64), ip("192.0.2.0"));
        assert_eq!(mask(ip("192.0.2.77"), 32, 64), ip("192.0.2.77"));
        assert_eq!(
            mask(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 32, 64),
            ip("2001:db8:1:2::")
        );
        assert_eq!(mask(ip("2001:db8:1:2::1"), 32, 0), ip("::"));
    }
}
