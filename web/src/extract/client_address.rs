//! [`client_address`]: who is asking, for brute-force throttling per address. The socket
//! peer, unless the peer is a proxy listed in `TESSERA_TRUSTED_PROXIES`: then the
//! `X-Forwarded-For` hops are walked from the right, skipping trusted proxies, and the first
//! untrusted address is the client. Headers from anyone else are never believed.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The client address of `req`, or `None` when the peer is unknown (test requests).
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok());
    Some(address_behind(peer, forwarded, trusted))
}

/// The client behind `peer`, given the `X-Forwarded-For` header values in order.
fn address_behind<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            // A hop a trusted proxy would not write: stop at the last address believed.
            return client;
        };
        client = address;
        if !is_trusted(&address) {
            return address;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let client = address_behind(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &[]);
        assert_eq!(client, ip("203.0.113.9"));
        let client = address_behind(
            ip("203.0.113.9"),
            ["198.51.100.1"].into_iter(),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_last_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        let client = address_behind(
            ip("127.0.0.1"),
            ["1.2.3.4, 198.51.100.7", "10.1.2.3"].into_iter(),
            &trusted,
        );
        assert_eq!(client, ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_without_a_header_or_with_garbage_is_itself_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            address_behind(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            address_behind(ip("10.0.0.2"), ["not-an-ip"].into_iter(), &trusted),
            ip("10.0.0.2")
        );
    }
}
