//! `source_ip`, `destination_ip`, `source_ip_xlated` and `ip_version` (Cilium's `ip.go`).
//!
//! A value with a `/` is a CIDR (`10.0.0.0/8`, `fe80::/10`; host bits may be set), anything else
//! an exact address, compared as text with the flow's address. An IPv4 address is never inside
//! an IPv6 prefix, IPv4-mapped or not, as with Go's `netip`.

use std::net::IpAddr;

use crate::api::flow::FlowFilter;

use super::fields::ContextFields;

use super::FilterError;
use super::matcher::Conjunction;

type GetIp = fn(&dyn ContextFields) -> &str;

pub(super) fn ip(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    let fields: [(&'static str, &[String], GetIp); 3] = [
        ("source_ip", &ff.source_ip, |f| {
            f.ip().map_or("", |ip| &ip.source)
        }),
        ("destination_ip", &ff.destination_ip, |f| {
            f.ip().map_or("", |ip| &ip.destination)
        }),
        ("source_ip_xlated", &ff.source_ip_xlated, |f| {
            f.ip().map_or("", |ip| &ip.source_xlated)
        }),
    ];
    for (field, values, get) in fields {
        if values.is_empty() {
            continue;
        }
        let set = IpSet::compile(field, values)?;
        fs.context(move |flow| flow.is_some_and(|f| set.contains(get(f))));
    }
    Ok(())
}

/// A flow without an IP section has version `IP_NOT_USED`.
pub(super) fn ip_version(ff: &FlowFilter, fs: &mut Conjunction) -> Result<(), FilterError> {
    if !ff.ip_version.is_empty() {
        let versions = ff.ip_version.clone();
        fs.context(move |flow| {
            flow.is_some_and(|f| versions.contains(&f.ip().map_or(0, |ip| ip.ip_version)))
        });
    }
    Ok(())
}

/// Exact addresses and CIDR prefixes, any of which may match.
struct IpSet {
    addresses: Vec<String>,
    prefixes: Vec<Prefix>,
}

impl IpSet {
    fn compile(field: &'static str, values: &[String]) -> Result<IpSet, FilterError> {
        let mut set = IpSet {
            addresses: Vec::new(),
            prefixes: Vec::new(),
        };
        for value in values {
            if value.contains('/') {
                let prefix = Prefix::parse(value).ok_or_else(|| {
                    FilterError::value(field, value, "invalid CIDR")
                        .hubble_says(format!("invalid IP prefix {value:?} in filter"))
                })?;
                set.prefixes.push(prefix);
            } else {
                if value.parse::<IpAddr>().is_err() {
                    return Err(FilterError::value(field, value, "invalid IP address")
                        .hubble_says(format!("invalid IP address {value:?} in filter")));
                }
                set.addresses.push(value.clone());
            }
        }
        Ok(set)
    }

    fn contains(&self, ip: &str) -> bool {
        if ip.is_empty() {
            return false;
        }
        if self.addresses.iter().any(|a| a == ip) {
            return true;
        }
        if self.prefixes.is_empty() {
            return false;
        }
        match ip.parse::<IpAddr>() {
            Ok(addr) => self.prefixes.iter().any(|p| p.contains(addr)),
            Err(_) => false,
        }
    }
}

/// An address prefix (`addr/bits`), like Go's `netip.Prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Prefix {
    addr: IpAddr,
    bits: u8,
}

impl Prefix {
    /// Parses `addr/bits` strictly: bits are decimal digits without a sign or a leading zero,
    /// and at most the address length.
    pub(super) fn parse(s: &str) -> Option<Prefix> {
        let (addr, bits) = s.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        let digits_ok = !bits.is_empty()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && (bits == "0" || !bits.starts_with('0'));
        if !digits_ok {
            return None;
        }
        let bits: u8 = bits.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Prefix { addr, bits })
    }

    pub(super) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// Whether every address of `other` is inside `self`.
    pub(super) fn covers(&self, other: &Prefix) -> bool {
        self.bits <= other.bits && self.contains(other.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::flow::Flow;
    use crate::filter::FlowMatcher;

    fn flow(src: &str, dst: &str) -> Flow {
        serde_json::from_value(serde_json::json!({
            "IP": {"source": src, "destination": dst, "ipVersion": "IPv4"}
        }))
        .unwrap()
    }

    fn matches(filter: serde_json::Value, flow: &Flow) -> bool {
        let ff: FlowFilter = serde_json::from_value(filter).unwrap();
        FlowMatcher::compile(&[ff], &[]).unwrap().matches_flow(flow)
    }

    #[test]
    fn exact_addresses_and_cidrs_both_match() {
        let f = flow("10.244.1.17", "1.1.1.1");
        assert!(matches(
            serde_json::json!({"source_ip": ["10.244.1.17"]}),
            &f
        ));
        assert!(matches(
            serde_json::json!({"source_ip": ["10.244.0.0/16"]}),
            &f
        ));
        assert!(matches(
            serde_json::json!({"source_ip": ["10.244.1.1/16"]}),
            &f
        ));
        assert!(!matches(
            serde_json::json!({"source_ip": ["10.245.0.0/16"]}),
            &f
        ));
        assert!(matches(
            serde_json::json!({"destination_ip": ["8.8.8.8", "1.1.1.1"]}),
            &f
        ));
        assert!(matches(serde_json::json!({"source_ip": ["0.0.0.0/0"]}), &f));
    }

    #[test]
    fn an_ipv4_address_is_not_inside_an_ipv4_mapped_ipv6_prefix() {
        let f = flow("10.244.1.17", "1.1.1.1");
        assert!(!matches(
            serde_json::json!({"source_ip": ["::ffff:10.244.0.0/112"]}),
            &f
        ));
        assert!(!matches(serde_json::json!({"source_ip": ["::/0"]}), &f));
    }

    #[test]
    fn a_flow_without_an_address_never_matches() {
        assert!(!matches(
            serde_json::json!({"source_ip": ["0.0.0.0/0"]}),
            &Flow::default()
        ));
        assert!(!matches(
            serde_json::json!({"source_ip_xlated": ["0.0.0.0/0"]}),
            &flow("1.1.1.1", "")
        ));
    }

    #[test]
    fn bad_addresses_and_prefixes_are_rejected() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/08",
            "10.0.0.0/+8",
            "nope/8",
            "::/129",
        ] {
            assert!(Prefix::parse(bad).is_none(), "{bad}");
        }
        for bad in ["10.0.0.256", "", "example.com"] {
            let ff = FlowFilter {
                destination_ip: vec![bad.into()],
                ..Default::default()
            };
            let err = FlowMatcher::compile(&[ff], &[]).unwrap_err();
            assert_eq!(err.field_name(), "destination_ip");
        }
    }

    #[test]
    fn ip_version_not_used_matches_flows_without_an_ip_section() {
        assert!(matches(
            serde_json::json!({"ip_version": ["IP_NOT_USED"]}),
            &Flow::default()
        ));
        assert!(matches(
            serde_json::json!({"ip_version": ["IPv4"]}),
            &flow("1.1.1.1", "2.2.2.2")
        ));
        assert!(!matches(
            serde_json::json!({"ip_version": ["IPv6"]}),
            &flow("1.1.1.1", "2.2.2.2")
        ));
    }
}
