//! An [`Explanation`] as plain lines of at most a given width: headings at the left edge, facts
//! indented under them, long values and sentences wrapped between words (a longer word is cut).

use unicode_width::UnicodeWidthChar;

use crate::api::flow::DropReason;
use crate::format;
use crate::observe::printer::names::policy_match_type;

use super::{Direction, Event, Explanation, IdentityKind, Peer, PolicyRef};

/// The monitor message type of the L7 proxy's access log records (`MessageTypeAccessLog`).
const MSG_ACCESS_LOG: i32 = 129;

/// The column where values start in `  key      value` lines.
const KEY: usize = 12;

/// The explanation as lines of at most `width` columns (wider only below 8 columns, where a
/// character may not fit beside the indent).
pub fn lines(e: &Explanation, width: usize) -> Vec<String> {
    let mut w = Writer {
        out: Vec::with_capacity(48),
        width: width.max(8),
    };
    if e.dropped {
        dropped(e, &mut w);
    } else {
        not_dropped(e, &mut w);
    }
    w.out
}

fn dropped(e: &Explanation, w: &mut Writer) {
    if e.reason == 0 {
        w.heading("Dropped, with no drop reason given");
    } else {
        w.heading(&format!("Dropped: {}", format::drop_reason_name(e.reason)));
        w.para(2, format::drop_reason_meaning(e.reason));
    }

    w.heading("Where");
    w.para(2, &enforcement(e));
    if let Some(event) = event_text(e) {
        w.para(2, &event);
    }
    if e.is_reply == Some(true) {
        w.para(
            2,
            &format!(
                "A reply: the connection was opened by the destination, {}.",
                e.destination.name
            ),
        );
    }

    traffic(e, w);
    peer(&e.source, "Source", w);
    peer(&e.destination, "Destination", w);

    w.heading("Policies");
    policies(e, w);

    w.heading("Likely causes");
    for c in &e.causes {
        w.bullet(c);
    }
    if !e.unknowns.is_empty() {
        w.heading("The flow cannot tell");
        for u in &e.unknowns {
            w.bullet(u);
        }
    }
}

fn not_dropped(e: &Explanation, w: &mut Writer) {
    w.heading(&format!("Not dropped: {}", format::verdict_name(e.verdict)));
    let mut pair = format!("{} → {}", e.source.name, e.destination.name);
    if let Some(t) = l4_text(e) {
        pair.push_str(&format!(" ({t})"));
    }
    w.para(2, &pair);
    if e.verdict == crate::api::flow::Verdict::Audit as i32 {
        w.para(
            2,
            "Policy audit mode let it through: the policies listed as denying it would have \
             dropped it.",
        );
    }
    w.heading("Policies");
    policies(e, w);
}

/// Which way it went, and the endpoint of the reporting node whose policy governs it: for a
/// packet of the connection's own way, the destination on ingress and the source on egress; for
/// a reply (Hubble gives a reply the direction of its connection), the other side.
fn enforcement(e: &Explanation) -> String {
    let node = if e.node.is_empty() {
        "The flow does not name the node that reported it.".to_string()
    } else {
        format!("Reported by node {}.", e.node)
    };
    // A reply carries its connection's direction: the endpoint here is the other side.
    let (peer, way) = match (e.direction, e.is_reply == Some(true)) {
        (Direction::Ingress, false) => (&e.destination, "Ingress: on its way into"),
        (Direction::Egress, false) => (&e.source, "Egress: on its way out of"),
        (Direction::Ingress, true) => (
            &e.source,
            "An ingress connection, and this packet is its reply: the connection's endpoint \
             here is",
        ),
        (Direction::Egress, true) => (
            &e.destination,
            "An egress connection, and this packet is its reply: the connection's endpoint \
             here is",
        ),
        (Direction::Unknown, _) => {
            return format!(
                "The flow does not give its direction, so not at which endpoint it was dropped \
                 (Cilium enforces ingress policy at the destination, egress policy at the \
                 source). {node}"
            );
        }
    };
    let policy = e.direction.word();
    let role = match peer.side {
        format::Side::Source => "source",
        format::Side::Destination => "destination",
    };
    if peer.is_reserved("host") {
        let node = if e.node.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.node)
        };
        return format!(
            "{way} this node's host{node}, the {role}: host firewall policies \
             (CiliumClusterwideNetworkPolicy with a nodeSelector) apply there."
        );
    }
    if !peer.pod && peer.endpoint_id == 0 {
        return format!(
            "{way} the {role} {}, which the flow does not show as a Cilium endpoint: it cannot \
             tell which program dropped it. {node}",
            peer.name
        );
    }
    let id = if peer.endpoint_id == 0 {
        String::new()
    } else {
        format!(" (endpoint {})", peer.endpoint_id)
    };
    let runs = if e.node.is_empty() {
        node
    } else {
        format!("Reported by node {}, where the {role} runs.", e.node)
    };
    format!(
        "{way} the {role} {}{id}, where the {role}'s {policy} policy applies. {runs}",
        peer.name
    )
}

/// The monitor event the flow came from, and for a policy verdict how its rule matched.
fn event_text(e: &Explanation) -> Option<String> {
    Some(match e.event {
        Event::Drop => "From the datapath's drop notification.".to_string(),
        Event::PolicyVerdict { match_type } => {
            let default_deny = e.dropped && e.reason == DropReason::PolicyDenied as i32;
            let how = match (match_type, default_deny) {
                (0, true) => "no rule matched, so default deny",
                (0, false) => "no rule's match recorded",
                (1, _) => "a rule on the peer alone, any port",
                (2, _) => "a rule on the peer and the port",
                (3, _) => "a rule on the port, for any peer",
                (4, _) => "a rule for every peer and port",
                (5, _) => "a rule on the peer and the protocol, any port",
                (6, _) => "a rule on the protocol, for any peer",
                _ => "a match type this hubtop does not know",
            };
            format!(
                "From a policy-verdict event, match type {}: {how}.",
                policy_match_type(match_type)
            )
        }
        Event::Other(MSG_ACCESS_LOG) => "From the L7 proxy's access log.".to_string(),
        Event::Other(t) => format!("From Cilium monitor event type {t}."),
        Event::Unknown => return None,
    })
}

/// `TCP 25902 → 5432`, `UDP → 53`, `ICMPv4`; `None` without L4.
fn l4_text(e: &Explanation) -> Option<String> {
    if e.traffic.protocol.is_empty() {
        return None;
    }
    let mut s = e.traffic.protocol.to_string();
    match (e.source.port, e.destination.port) {
        (Some(sp), Some(dp)) => s.push_str(&format!(" {sp} → {dp}")),
        (None, Some(dp)) => s.push_str(&format!(" → {dp}")),
        (Some(sp), None) => s.push_str(&format!(" {sp} →")),
        (None, None) => {}
    }
    Some(s)
}

fn traffic(e: &Explanation, w: &mut Writer) {
    w.heading("Traffic");
    let summary = e.traffic.summary.as_str();
    let ports = e.source.port.is_some() || e.destination.port.is_some();
    // `ICMPv4 EchoRequest` says more than `ICMPv4` and all of it: one line then.
    let summary_first =
        !ports && !e.traffic.protocol.is_empty() && summary.starts_with(e.traffic.protocol);
    let mut first = if summary_first {
        summary.to_string()
    } else {
        l4_text(e).unwrap_or_else(|| "No L4 header in the flow".to_string())
    };
    if let Some(l7) = e.traffic.l7 {
        first.push_str(&format!(", {l7}"));
    }
    if !e.destination.service.is_empty() {
        first.push_str(&format!(", to service {}", e.destination.service));
    }
    w.para(2, &first);
    if !summary_first && !summary.is_empty() && summary != e.traffic.protocol {
        w.para(2, summary);
    }
}

fn peer(p: &Peer, title: &str, w: &mut Writer) {
    w.heading(&format!("{title}: {}", p.name));
    if !p.workload.is_empty() {
        w.key("workload", &p.workload);
    }
    let identity = match p.identity_kind {
        IdentityKind::Absent => "not in the flow".to_string(),
        kind => format!("{} ({})", p.identity, kind.words()),
    };
    w.key("identity", &identity);
    for r in &p.reserved {
        w.key("reserved", &format!("{r}: {}", reserved_words(r)));
    }
    if !p.cluster.is_empty() {
        w.key("cluster", &p.cluster);
    }
    if !p.ip.is_empty() {
        w.key("IP", &p.ip);
    }
    if !p.dns_names.is_empty() {
        w.key("DNS names", &p.dns_names.join(", "));
    }
    if !p.service.is_empty() {
        w.key("service", &p.service);
    }
    if p.labels.is_empty() {
        w.key("labels", "none in the flow");
    }
    for (i, l) in p.labels.iter().enumerate() {
        w.key(if i == 0 { "labels" } else { "" }, l);
    }
    if p.labels_more > 0 {
        w.key(
            "",
            &format!("… and {} more", format::thousands(p.labels_more as u64)),
        );
    }
}

fn policies(e: &Explanation, w: &mut Writer) {
    if e.policies.is_empty() {
        w.para(2, "None named in the flow.");
    }
    for p in &e.policies {
        w.para(2, &policy_text(p, e.dropped));
    }
    if e.policies_more > 0 {
        w.para(
            2,
            &format!("… and {} more", format::thousands(e.policies_more as u64)),
        );
    }
}

/// `denied on ingress: deny-db (CiliumNetworkPolicy in namespace shop, revision 3)`.
fn policy_text(p: &PolicyRef, dropped: bool) -> String {
    let what = match (p.denied, dropped) {
        (true, true) => "denied",
        (true, false) => "would have denied (audit)",
        (false, _) => "allowed",
    };
    let name = if p.name.is_empty() {
        "(no name)"
    } else {
        &p.name
    };
    let kind = if p.kind.is_empty() {
        "kind not given"
    } else {
        &p.kind
    };
    let scope = if p.namespace.is_empty() {
        ", cluster-wide or namespace not given".to_string()
    } else {
        format!(" in namespace {}", p.namespace)
    };
    let revision = if p.revision == 0 {
        String::new()
    } else {
        format!(", revision {}", p.revision)
    };
    format!(
        "{what} on {}: {name} ({kind}{scope}{revision})",
        p.direction.word()
    )
}

/// What a reserved identity stands for.
fn reserved_words(name: &str) -> &'static str {
    match name {
        "host" => "this node itself (its host network: kubelet, hostNetwork pods)",
        "remote-node" => "another node of the cluster",
        "world" | "world-ipv4" | "world-ipv6" => "outside the cluster",
        "kube-apiserver" => "the Kubernetes API server",
        "health" => "Cilium's health-check endpoint",
        "init" => "an endpoint whose labels Cilium has not resolved yet",
        "unmanaged" => "a pod Cilium does not manage",
        "ingress" => "Cilium's ingress proxy (Ingress and Gateway API)",
        "unknown" => "no identity known",
        _ => "a reserved identity",
    }
}

/// Lines being written, at most `width` columns each.
struct Writer {
    out: Vec<String>,
    width: usize,
}

impl Writer {
    fn heading(&mut self, text: &str) {
        self.wrap(text, 0, 2);
    }

    fn para(&mut self, indent: usize, text: &str) {
        self.wrap(text, indent, indent + 2);
    }

    fn bullet(&mut self, text: &str) {
        let mut s = String::with_capacity(text.len() + 2);
        s.push_str("- ");
        s.push_str(text);
        self.wrap(&s, 2, 4);
    }

    /// `  key        value`, the value wrapped under itself.
    fn key(&mut self, key: &str, value: &str) {
        let mut s = String::with_capacity(KEY + value.len());
        s.push_str(key);
        while s.len() < KEY - 3 {
            s.push(' ');
        }
        s.push(' ');
        s.push_str(value);
        self.wrap(&s, 2, KEY);
    }

    /// `text` broken between words into lines of at most `width` columns: the first indented by
    /// `first`, the rest by `rest`; a word longer than a line is cut.
    fn wrap(&mut self, text: &str, first: usize, rest: usize) {
        // Indents give way on a narrow width so that at least half a line is text.
        let first = first.min(self.width / 2);
        let rest = rest.min(self.width / 2);
        let mut line = " ".repeat(first);
        let mut used = first;
        let mut has_word = false;
        // A line of alignment spaces only (the empty words of a padded key) is not broken
        // before a word no line could hold: that would leave a blank line before its cut.
        let mut has_text = false;
        for word in text.split(' ') {
            let w: usize = word.chars().map(|c| c.width().unwrap_or(0)).sum();
            if has_word && used + 1 + w > self.width && (has_text || w + rest <= self.width) {
                self.push(std::mem::replace(&mut line, " ".repeat(rest)));
                used = rest;
                has_word = false;
                has_text = false;
            }
            if has_word {
                line.push(' ');
                used += 1;
            }
            if used + w <= self.width {
                line.push_str(word);
                used += w;
                has_word = true;
                has_text |= !word.is_empty();
                continue;
            }
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if cw > 0 && used + cw > self.width && has_text {
                    self.push(std::mem::replace(&mut line, " ".repeat(rest)));
                    used = rest;
                }
                line.push(c);
                used += cw;
                has_word = true;
                has_text = true;
            }
        }
        self.push(line);
    }

    /// One finished line, without the spaces a break left at its end.
    fn push(&mut self, mut line: String) {
        let trimmed = line.trim_end_matches(' ').len();
        line.truncate(trimmed);
        self.out.push(line);
    }
}
