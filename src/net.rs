//! IP networks (CIDRs): trusted proxies, and the prefix of a client address a token is bound to.

use std::net::IpAddr;

/// An IP network: an address and how many leading bits of it count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128`, or a bare address (a single host).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (
                addr.parse::<IpAddr>().ok()?,
                Some(prefix.parse::<u8>().ok()?),
            ),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// Whether `ip` lies inside this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr.to_canonical(), ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask_bits(&net.octets(), self.prefix) == mask_bits(&ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask_bits(&net.octets(), self.prefix) == mask_bits(&ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// The first `prefix` bits of `bytes`, the rest zeroed.
pub(crate) fn mask_bits<const N: usize>(bytes: &[u8; N], prefix: u8) -> [u8; N] {
    let mut out = [0u8; N];
    let mut bits = usize::from(prefix);
    for (o, b) in out.iter_mut().zip(bytes) {
        let take = bits.min(8);
        if take == 0 {
            break;
        }
        *o = b & (0xffu8 << (8 - take));
        bits -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_match_by_prefix() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("10.1.0.1".parse().unwrap()));
        assert_eq!(Cidr::parse("127.0.0.1").unwrap().prefix, 32);
        assert!(Cidr::parse("not an ip/8").is_none());
    }
}
